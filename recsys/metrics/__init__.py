"""Ranking, beyond-accuracy and rating metrics.

Ranking metrics share one signature, ``metric(y_true, y_pred, k=10, *, average=True)``:
``y_true`` is a users x items relevance matrix (sparse or dense, 0 = not
relevant) and ``y_pred`` a users x (>= k) matrix of ranked item indices, as
``recommend`` returns them, with -1 padding short lists. Users without any
relevant item are left out of the mean (their per-user value is NaN).
They follow trec_eval (``P_k``, ``recall_k``, ``ndcg_cut_k``, ``map_cut_k``,
``recip_rank``). ``auc_score`` takes a users x items score matrix instead.

Beyond-accuracy metrics take the ranked lists plus what they compare them
with: the catalogue size (``catalog_coverage``, ``gini_index``), the
training interactions (``novelty``) or item features
(``intra_list_diversity``). ``rmse`` and ``mae`` score rating predictions.
"""

from recsys.metrics._auc import auc_score
from recsys.metrics._coverage import catalog_coverage
from recsys.metrics._diversity import intra_list_diversity
from recsys.metrics._f1 import f1_at_k
from recsys.metrics._gini import gini_index
from recsys.metrics._hit_rate import hit_rate_at_k
from recsys.metrics._map import map_at_k
from recsys.metrics._mrr import mrr_at_k
from recsys.metrics._ndcg import ndcg_at_k
from recsys.metrics._novelty import novelty
from recsys.metrics._precision import precision_at_k
from recsys.metrics._ranking import ranking_from_scores
from recsys.metrics._rating import mae, rmse
from recsys.metrics._recall import recall_at_k
from recsys.metrics._report import ranking_report
from recsys.metrics._scorer import make_ranking_scorer, split_rows

__all__ = [
    "auc_score",
    "catalog_coverage",
    "f1_at_k",
    "gini_index",
    "hit_rate_at_k",
    "intra_list_diversity",
    "mae",
    "make_ranking_scorer",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "ranking_from_scores",
    "ranking_report",
    "recall_at_k",
    "rmse",
    "split_rows",
]
