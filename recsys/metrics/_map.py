"""Mean average precision at k (trec_eval's map_cut_k)."""

import numpy as np
from numba import njit, prange

from recsys.metrics._ranking import (
    evaluate_ranking_metric,
    n_relevant,
)

_DENOMINATORS = ("relevant", "min_k")


def map_at_k(y_true, y_pred, k=10, *, denominator="relevant", average=True):
    """Average precision of the top k, averaged over users.

    AP@k = sum over ranks i = 1..k holding a relevant item of precision@i,
    divided by the number of relevant items (trec_eval's ``map_cut_k``, which
    does not cap it at k), or by ``min(k, n_relevant)`` with
    ``denominator="min_k"`` so that a perfect top k scores 1.

    Parameters
    ----------
    y_true : sparse matrix or ndarray of shape (n_users, n_items)
        Relevance grades; 0 means not relevant.
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    k : int, default=10
    denominator : {"relevant", "min_k"}, default="relevant"
    average : bool, default=True
        Return the mean over users with at least one relevant item; else the
        per-user values, NaN for users without relevant items.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import map_at_k
    >>> y_true = np.array([[1, 0, 1, 0]])
    >>> map_at_k(y_true, np.array([[0, 1, 2]]), k=3)  # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    if denominator not in _DENOMINATORS:
        raise ValueError(f"denominator must be one of {_DENOMINATORS}; got {denominator!r}.")
    return evaluate_ranking_metric(_average_precision, y_true, y_pred, k, average, denominator=denominator)


def _average_precision(relevance, y_true, denominator="relevant"):
    relevant = n_relevant(y_true)
    if denominator == "min_k":
        relevant = np.minimum(relevant, relevance.shape[1])
    total, several = _single_hit_precision(relevance)
    # A row with at most one hit sums to that hit's term in any order; rows
    # with several are summed by numpy, whose pairwise order a loop would not
    # reproduce to the last bit.
    total[several] = _precision_at_hits(relevance[several]).sum(axis=1)
    return np.divide(total, relevant, out=np.zeros(len(total)), where=relevant > 0)


def _precision_at_hits(relevance):
    """precision@i at each rank i that holds a relevant item, 0 at the others."""
    hits = relevance > 0
    return np.cumsum(hits, axis=1) / np.arange(1, relevance.shape[1] + 1) * hits


@njit(parallel=True, cache=True, nogil=True)
def _single_hit_precision(relevance):
    """(precision at each user's first hit, 0 without any; whether the user has several hits).

    Users run in parallel, each written to its own slot, so the result does
    not depend on the number of threads.
    """
    n_users, k = relevance.shape
    precision = np.empty(n_users)
    several = np.empty(n_users, dtype=np.bool_)
    for user in prange(n_users):
        n_hits, first = 0, 0.0
        for place in range(k):
            if relevance[user, place] > 0:
                n_hits += 1
                if n_hits == 1:
                    first = 1 / (place + 1)
        precision[user], several[user] = first, n_hits > 1
    return precision, several
