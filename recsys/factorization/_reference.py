"""Plain numpy reference implementations of the SGD kernels.

They follow the textbook (and Surprise's) per-rating equations literally and
are only meant for tests on tiny data: the numba kernels in ``_sgd_kernels``
must reproduce them to rounding error for the same visiting order.
"""

import numpy as np


def biased_mf_epoch_reference(users, items, ratings, order, global_mean, user_bias, item_bias,
                              user_factors, item_factors, lr, reg_user, reg_item, biased):
    """One SGD epoch of biased MF, in place; returns the sum of squared errors."""
    squared_error = 0.0
    for sample in order:
        u, i = users[sample], items[sample]
        error = ratings[sample] - (global_mean + user_bias[u] + item_bias[i]
                                   + item_factors[i] @ user_factors[u])
        squared_error += error**2
        if biased:
            user_bias[u] += lr * (error - reg_user * user_bias[u])
            item_bias[i] += lr * (error - reg_item * item_bias[i])
        old_user = user_factors[u].copy()
        user_factors[u] += lr * (error * item_factors[i] - reg_user * old_user)
        item_factors[i] += lr * (error * old_user - reg_item * item_factors[i])
    return squared_error


def svdpp_epoch_reference(indptr, items, ratings, user_order, global_mean, user_bias, item_bias,
                          user_factors, item_factors, implicit_factors, lr, reg):
    """One SGD epoch of SVD++ with the implicit sum recomputed for every rating."""
    squared_error = 0.0
    for u in user_order:
        rated = items[indptr[u]:indptr[u + 1]]
        if rated.size == 0:
            continue
        norm = 1.0 / np.sqrt(rated.size)
        for k in range(indptr[u], indptr[u + 1]):
            i = items[k]
            implicit_sum = implicit_factors[rated].sum(axis=0) * norm
            error = ratings[k] - (global_mean + user_bias[u] + item_bias[i]
                                  + item_factors[i] @ (user_factors[u] + implicit_sum))
            squared_error += error**2
            user_bias[u] += lr * (error - reg * user_bias[u])
            item_bias[i] += lr * (error - reg * item_bias[i])
            old_user, old_item = user_factors[u].copy(), item_factors[i].copy()
            user_factors[u] += lr * (error * old_item - reg * old_user)
            item_factors[i] += lr * (error * (old_user + implicit_sum) - reg * old_item)
            implicit_factors[rated] += lr * (error * old_item * norm - reg * implicit_factors[rated])
    return squared_error


def _splitmix64_below(state, n):
    """Python twin of ``_sgd_fold_in._draw_below``: (next state, uniform integer in [0, n))."""
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

