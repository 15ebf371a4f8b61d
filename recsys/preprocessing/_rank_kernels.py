"""Rank of a pair's score in its user's score row: a numba kernel and its numpy reference.

Both return, for every pair p, the number of entries of row ``row_of_pair[p]``
of the score block that are strictly greater than ``pair_scores[p]``; the
rank of the pair is that count plus one (ties share the best rank). The
kernel binary-searches each pair in its row sorted once per block, so a
block of b users with p pairs costs ``b n log n + p log n`` instead of the
reference's ``p n`` comparisons.
"""

import numpy as np
from numba import njit, prange


def count_greater(scores, row_of_pair, pair_scores):
    """Entries of each pair's row strictly greater than its score (kernel).

    Parameters
    ----------
    scores : ndarray of shape (n_rows, n_items)
        Score rows; -inf or NaN marks items that never compete (excluded).
    row_of_pair : ndarray of shape (n_pairs,), int64
    pair_scores : ndarray of shape (n_pairs,)
        Finite scores; NaN gives a count of 0 (the caller masks them).

    Returns
    -------
    ndarray of shape (n_pairs,), int64
    """
    scores = np.asarray(scores, dtype=np.float64)
    # NaN entries never beat a pair (as in the reference): sort them as -inf.
    sorted_rows = np.sort(np.where(np.isnan(scores), -np.inf, scores), axis=1)
    return _count_greater_sorted(sorted_rows, np.asarray(row_of_pair, dtype=np.int64),
                                 np.asarray(pair_scores, dtype=np.float64))


def count_greater_reference(scores, row_of_pair, pair_scores):
    """The same counts by comparing every pair with its whole row."""
    scores = np.asarray(scores, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (scores[row_of_pair] > np.asarray(pair_scores, dtype=np.float64)[:, None]).sum(axis=1)


@njit(parallel=True, cache=True, nogil=True)
def _count_greater_sorted(sorted_rows, row_of_pair, pair_scores):
    n_items = sorted_rows.shape[1]
    counts = np.zeros(row_of_pair.shape[0], dtype=np.int64)
    for pair in prange(row_of_pair.shape[0]):
        value = pair_scores[pair]
        if np.isnan(value):
            continue
        row = sorted_rows[row_of_pair[pair]]
        # First position whose entry is > value (searchsorted side="right").
        low, high = 0, n_items
        while low < high:
            middle = (low + high) // 2
            if row[middle] <= value:
                low = middle + 1
            else:
                high = middle
        counts[pair] = n_items - low
    return counts

