"""Fold-in of unseen users by a model's own stochastic updates, item factors fixed.

BPR has no closed-form user update: a user unseen in fit gets its factors by
running BPR's own SGD (implicit's update of a user) on the user's vector
alone, against the fitted item factors. Every row draws from its own splitmix64 stream, seeded by the
model, so a row's factors do not depend on the other rows of the batch nor
on the number of threads.
:func:`bpr_fold_in_reference`, after the kernel, is the plain Python version
that the tests compare it against.
"""

import numpy as np
from numba import njit, prange

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _draw_below(state, n):
    """Advance a splitmix64 stream; return (next state, a uniform integer in [0, n))."""
    state = state + _GOLDEN_GAMMA
    bits = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    bits = (bits ^ (bits >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    bits = bits ^ (bits >> np.uint64(31))
    return state, np.int64((bits >> np.uint64(11)) * n / 9007199254740992.0)


@njit(cache=True, inline="always")
def _contains(sorted_values, start, stop, value):
    """Binary search of ``value`` in ``sorted_values[start:stop]``."""
    low, high = start, stop
    while low < high:
        middle = (low + high) // 2
        if sorted_values[middle] < value:
            low = middle + 1
        else:
            high = middle
    return low < stop and sorted_values[low] == value


@njit(cache=True, parallel=True, fastmath=True)
def bpr_fold_in(indptr, indices, item_factors, user_factors, learning_rate, regularization,
                epochs, seed):
    """BPR user vectors for the CSR rows (``indptr``, sorted ``indices``), in place.

    The last column of ``item_factors`` is the item bias and the last column
    of ``user_factors`` stays 1. For each row, ``epochs`` times its number of
    positives SGD steps: draw a positive i of the row and an item j that is
    not (redrawn until it is not), then
    ``u <- u + lr * (sigmoid(-(s_i - s_j)) * (q_i - q_j) - reg * u)``,
    implicit's BPR update of a user. Rows start from zero; rows with no
    positive, or with every item positive, keep it.
    """
    n_items, n_columns = item_factors.shape
    n_free = n_columns - 1
    for row in prange(indptr.shape[0] - 1):
        start, stop = indptr[row], indptr[row + 1]
        n_positive = stop - start
        user = user_factors[row]
        user[:n_free] = 0.0
        user[n_free] = 1.0
        if n_positive == 0 or n_positive >= n_items:
            continue
        state = np.uint64(seed)
        for _ in range(epochs * n_positive):
            state, draw = _draw_below(state, n_positive)
            positive = indices[start + draw]
            state, negative = _draw_below(state, n_items)
            while _contains(indices, start, stop, negative):
                state, negative = _draw_below(state, n_items)
            difference = item_factors[positive, n_free] - item_factors[negative, n_free]
            for f in range(n_free):
                difference += user[f] * (item_factors[positive, f] - item_factors[negative, f])
            weight = 1.0 / (1.0 + np.exp(difference))
            for f in range(n_free):
                gradient = weight * (item_factors[positive, f] - item_factors[negative, f])
                user[f] += learning_rate * (gradient - regularization * user[f])


def _splitmix64_below(state, n):
    """Python twin of :func:`_draw_below`: (next state, uniform integer in [0, n))."""
    mask = (1 << 64) - 1
    state = (state + 0x9E3779B97F4A7C15) & mask
    bits = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
    bits = ((bits ^ (bits >> 27)) * 0x94D049BB133111EB) & mask
    bits ^= bits >> 31
    return state, int((bits >> 11) * n / 2.0**53)


def bpr_fold_in_reference(indptr, indices, item_factors, learning_rate, regularization, epochs, seed):
    """BPR fold-in of every CSR row, one textbook SGD step at a time; returns the user factors."""
    n_items, n_columns = item_factors.shape
    user_factors = np.zeros((len(indptr) - 1, n_columns))
    user_factors[:, -1] = 1.0
    for row in range(len(indptr) - 1):
        positives = indices[indptr[row]:indptr[row + 1]]
        if len(positives) == 0 or len(positives) >= n_items:
            continue
        user, state = user_factors[row, :-1], int(seed)
        for _ in range(epochs * len(positives)):
            state, draw = _splitmix64_below(state, len(positives))
            state, negative = _splitmix64_below(state, n_items)
            while negative in positives:
                state, negative = _splitmix64_below(state, n_items)
            delta = item_factors[positives[draw]] - item_factors[negative]
            weight = 1.0 / (1.0 + np.exp(delta[:-1] @ user + delta[-1]))
            user += learning_rate * (weight * delta[:-1] - regularization * user)
    return user_factors
