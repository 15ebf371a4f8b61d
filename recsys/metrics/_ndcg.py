"""Normalised discounted cumulative gain at k (trec_eval's ndcg_cut_k)."""

import numpy as np
from numba import njit

from recsys.metrics._ranking import evaluate_ranking_metric
from recsys.utils import limit_blas_threads

_GAINS = ("linear", "exponential")

# 2**grade overflows float64 past grade 1023; a user whose grades reach above
# this has every gain scaled by 2**-(max grade - _MAX_EXPONENT), which leaves
# the ratio DCG / ideal DCG unchanged. Users below it are computed as they were.
_MAX_EXPONENT = 1000


def ndcg_at_k(y_true, y_pred, k=10, *, gain="linear", average=True):
    """Normalised discounted cumulative gain of the top k.

    DCG@k = sum over ranks i = 1..k of gain(rel_i) / log2(i + 1), divided by
    the DCG@k of the ideal ordering of the user's relevant items. With
    ``gain="linear"`` the gain is the relevance grade itself, as in
    trec_eval's ``ndcg_cut_k``; with ``"exponential"`` it is 2**rel - 1
    (Burges et al. 2005). Binary relevance gives the same value either way.

    Parameters
    ----------
    y_true : sparse matrix or ndarray of shape (n_users, n_items)
        Relevance grades; 0 means not relevant.
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    k : int, default=10
    gain : {"linear", "exponential"}, default="linear"
    average : bool, default=True
        Return the mean over users with at least one relevant item; else the
        per-user values, NaN for users without relevant items.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import ndcg_at_k
    >>> y_true = np.array([[1, 0, 1, 0]])
    >>> round(ndcg_at_k(y_true, np.array([[2, 1, 0]]), k=3), 4)
    0.9197
    """
    if gain not in _GAINS:
        raise ValueError(f"gain must be one of {_GAINS}; got {gain!r}.")
    return evaluate_ranking_metric(_ndcg, y_true, y_pred, k, average, gain=gain)


def _ndcg(relevance, y_true, gain="linear"):
    k = relevance.shape[1]
    if gain == "linear":
        ranked_gains, relevant_gains = relevance, y_true.data
    else:
        ranked_gains, relevant_gains = _exponential_gains(relevance, y_true)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    # One BLAS thread: the product is too small to split, and waiting for a
    # second thread on a busy machine made it ten times slower.
    with limit_blas_threads():
        dcg = ranked_gains @ discounts
    ideal = _ideal_dcg(y_true.indptr, relevant_gains, k, discounts)
    return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


def _exponential_gains(relevance, y_true):
    """2**grade - 1 at the ranked positions and of the relevant items, scaled per user when large.

    A user whose top grade m exceeds _MAX_EXPONENT gets 2**(grade - s) - 2**-s,
    s = m - _MAX_EXPONENT: its gains divided by 2**s, finite, and zero for grade 0.
    """
    counts = np.diff(y_true.indptr)
    top = np.zeros(len(counts))
    rows = counts > 0
    if y_true.nnz:
        top[rows] = np.maximum.reduceat(y_true.data, y_true.indptr[:-1][rows])
    if top.max(initial=0.0) <= _MAX_EXPONENT:
        return np.exp2(relevance) - 1.0, np.exp2(y_true.data) - 1.0
    shift = np.maximum(top - _MAX_EXPONENT, 0.0)
    entry_shift = np.repeat(shift, counts)
    return (np.exp2(relevance - shift[:, None]) - np.exp2(-shift)[:, None],
            np.exp2(y_true.data - entry_shift) - np.exp2(-entry_shift))


def _ideal_dcg(indptr, gains, k, discounts):
    """DCG of each user's relevant items sorted by decreasing gain, for all users at once."""
    counts = np.diff(indptr)
    if len(gains) and np.all(gains == gains[0]):
        # One gain for all: the ideal list is any min(k, n_relevant) relevant items.
        ideal_at_length = np.concatenate([[0.0], np.cumsum(gains[0] * discounts)])
        return ideal_at_length[np.minimum(counts, k)]
    return _ideal_dcg_of_gains(indptr, gains, discounts)


@njit(cache=True, nogil=True)
def _ideal_dcg_of_gains(indptr, gains, discounts):
    """Sum of each user's largest gains times the discounts, largest first."""
    n_users, k = len(indptr) - 1, len(discounts)
    ordered = np.empty(np.diff(indptr).max() if n_users else 0)
    ideal = np.zeros(n_users)
    for user in range(n_users):
        row_length = indptr[user + 1] - indptr[user]
        row = ordered[:row_length]
        row[:] = gains[indptr[user]:indptr[user + 1]]
        row.sort()
        total = 0.0
        for place in range(min(k, row_length)):
            total += row[row_length - 1 - place] * discounts[place]
        ideal[user] = total
    return ideal


def _ideal_dcg_reference(indptr, gains, k, discounts):
    """Numpy reference of :func:`_ideal_dcg`: one lexsort of all the relevant items' gains."""
    counts = np.diff(indptr)
    n_users = len(counts)
    rows = np.repeat(np.arange(n_users), counts)
    order = np.lexsort((-gains, rows))
    position = np.arange(len(gains)) - np.repeat(indptr[:-1], counts)
    within = position < k
    ideal = np.zeros(n_users)
    np.add.at(ideal, rows[within], gains[order][within] * discounts[position[within]])
    return ideal
