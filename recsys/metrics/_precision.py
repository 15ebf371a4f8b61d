"""Precision at k (trec_eval's P_k)."""

from recsys.metrics._ranking import (
    evaluate_ranking_metric,
    hit_statistics,
)


def precision_at_k(y_true, y_pred, k=10, *, average=True):
    """Share of the top k places that hold a relevant item.

    The denominator is always k, also when a list is padded with -1, as in
    trec_eval's ``P_k``: a recommender that returns fewer items is not
    rewarded for it. Any relevance grade > 0 counts as relevant.

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
    >>> from recsys.metrics import precision_at_k
    >>> y_true = np.array([[1, 0, 1, 0]])
    >>> precision_at_k(y_true, np.array([[2, 1, -1, -1]]), k=4)
    0.25
    """
    return evaluate_ranking_metric(_precision, y_true, y_pred, k, average)


def _precision(relevance, y_true):
    n_hits, _ = hit_statistics(relevance)
    return n_hits / relevance.shape[1]
