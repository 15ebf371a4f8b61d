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
