"""Ranking, beyond-accuracy and rating metrics.

Ranking metrics share one signature, ``metric(y_true, y_pred, k=10, *, average=True)``:
``y_true`` is a users x items relevance matrix (sparse or dense, 0 = not
relevant) and ``y_pred`` a users x (>= k) matrix of ranked item indices, as
``recommend`` returns them, with -1 padding short lists. Users without any
relevant item are left out of the mean (their per-user value is NaN).
"""

from recsys.metrics._ndcg import ndcg_at_k
from recsys.metrics._ranking import ranking_from_scores
from recsys.metrics._scorer import make_ranking_scorer, split_rows

__all__ = ["ndcg_at_k", "make_ranking_scorer", "ranking_from_scores", "split_rows"]
