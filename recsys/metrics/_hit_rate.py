"""Hit rate at k: whether the top k holds any relevant item."""

import numpy as np

from recsys.metrics._ranking import (
    evaluate_ranking_metric,
    hit_statistics,
)


def hit_rate_at_k(y_true, y_pred, k=10, *, average=True):
    """1 for a user whose top k holds at least one relevant item, else 0.

    With one held-out item per user (leave-one-out) this is the usual HR@k.

    Parameters
    ----------
    y_true : sparse matrix or ndarray of shape (n_users, n_items)
        Relevance grades; 0 means not relevant.
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    k : int, default=10
    average : bool, default=True
        Return the mean over users with at least one relevant item; else the
        per-user values, NaN for users without relevant items.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import hit_rate_at_k
    >>> y_true = np.array([[0, 1, 0], [1, 0, 0]])
    >>> hit_rate_at_k(y_true, np.array([[1, 2], [2, 1]]), k=2)
    0.5
    """
    return evaluate_ranking_metric(_hit, y_true, y_pred, k, average)


def _hit(relevance, y_true):
    n_hits, _ = hit_statistics(relevance)
    return (n_hits > 0).astype(np.float64)
