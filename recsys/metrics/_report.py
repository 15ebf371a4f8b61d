"""Several ranking metrics at several cut-offs in one table."""

import numpy as np
import pandas as pd

from recsys.metrics._f1 import _f1
from recsys.metrics._hit_rate import _hit
from recsys.metrics._map import _average_precision
from recsys.metrics._mrr import _reciprocal_rank
from recsys.metrics._ndcg import _ndcg
from recsys.metrics._precision import _precision
from recsys.metrics._ranking import check_ranking_inputs, n_relevant, relevance_at_ranks
from recsys.metrics._recall import _recall
from recsys.utils import check_positive_int

# Per-user metrics of the relevance at the top k ranks (k = its width).
PER_USER_METRICS = {
    "precision": _precision,
    "recall": _recall,
    "ndcg": _ndcg,
    "map": _average_precision,
    "mrr": _reciprocal_rank,
    "hit_rate": _hit,
    "f1": _f1,
}


def ranking_report(y_true, y_pred, metrics=("precision", "recall", "f1", "ndcg", "map", "mrr"), ks=(5, 10, 20)):
    """Mean ranking metrics at several cut-offs, from one relevance lookup.

    The relevance of the ranked items is looked up once for the largest k;
    each metric at each k then reads its first k columns. Metrics use their
    default options (trec_eval semantics) and, like the metric functions,
    average over the users with at least one relevant item.

    Parameters
    ----------
    y_true : sparse matrix or ndarray of shape (n_users, n_items)
        Relevance grades; 0 means not relevant.
    y_pred : ndarray of shape (n_users, >= max(ks))
        Ranked item indices, best first; -1 pads short lists.
    metrics : sequence of str, default=("precision", "recall", "f1", "ndcg", "map", "mrr")
        Any of "precision", "recall", "f1", "ndcg", "map", "mrr", "hit_rate".
    ks : sequence of int, default=(5, 10, 20)

    Returns
    -------
    pandas.DataFrame
        One row per metric, one column per k (labelled by k).

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import ranking_report
    >>> y_true = np.array([[1, 0, 1, 0]])
    >>> report = ranking_report(y_true, np.array([[0, 1, 2]]), metrics=("precision", "recall"), ks=(1, 3))
    >>> report.round(3).to_dict(orient="index")
    {'precision': {1: 1.0, 3: 0.667}, 'recall': {1: 0.5, 3: 1.0}}
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [name for name in metrics if name not in PER_USER_METRICS]
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty sequence of {sorted(PER_USER_METRICS)}; got {metrics!r}.")
    ks = [ks] if isinstance(ks, (int, np.integer)) else list(ks)
    if not ks:
        raise ValueError("ks must hold at least one cut-off.")
    for k in ks:
        check_positive_int(k, "every k")
    y_true, y_pred = check_ranking_inputs(y_true, y_pred, max(ks))
    relevance = relevance_at_ranks(y_true, y_pred)
    has_relevant = n_relevant(y_true) > 0
    table = {
        k: [float(np.mean(PER_USER_METRICS[name](relevance[:, :k], y_true)[has_relevant]))
            if has_relevant.any() else float("nan") for name in metrics]
        for k in ks
    }
    frame = pd.DataFrame(table, index=pd.Index(metrics, name="metric"))
    frame.columns.name = "k"
    return frame
