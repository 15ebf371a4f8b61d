"""Mean reciprocal rank within the top k (trec_eval's recip_rank, cut at k)."""

import numpy as np
from numba import njit, prange

from recsys.metrics._ranking import evaluate_ranking_metric


def mrr_at_k(y_true, y_pred, k=10, *, average=True):
    """Reciprocal rank of the first relevant item in the top k, 0 if none.

    trec_eval's ``recip_rank`` looks at the whole list; with k at least the
    list length the two agree.

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
    >>> from recsys.metrics import mrr_at_k
    >>> y_true = np.array([[0, 0, 1, 1]])
    >>> mrr_at_k(y_true, np.array([[1, 3, 2]]), k=3)
    0.5
    """
    return evaluate_ranking_metric(_reciprocal_rank, y_true, y_pred, k, average)


def _reciprocal_rank(relevance, y_true):
    return _first_hit_reciprocal(relevance)


@njit(parallel=True, cache=True, nogil=True)
def _first_hit_reciprocal(relevance):
    """1 / rank of each user's first relevant ranked item, 0 without any.

    One pass that stops at the first hit, instead of counting all hits and
    dividing in numpy afterwards. Users run in parallel, each written to
    its own slot, so the result does not depend on the number of threads.
    """
    n_users, k = relevance.shape
    reciprocal = np.zeros(n_users)
    for user in prange(n_users):
        for place in range(k):
            if relevance[user, place] > 0:
                reciprocal[user] = 1 / (place + 1)
                break
    return reciprocal
