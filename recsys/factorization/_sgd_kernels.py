"""Numba kernels of the explicit-feedback rating predictors.

Every kernel updates its parameter arrays in place and visits the training
samples in an order its caller draws from the model's ``random_state``, so a
fit is deterministic for a given seed. The SGD kernels have their plain
numpy reference right after them (``<kernel>_reference``, the textbook and
Surprise's per-rating equations, for tests on tiny data), which the tests
compare them against to rounding error for the same visiting order.
"""

import numpy as np
from numba import njit, prange


# fastmath lets LLVM reassociate the dot product into SIMD partial sums; the order of
# the sum changes the result by rounding only, and stays the same run to run. The
# update is written as decay * old + step * other with scalars of the factors' dtype:
# a float64 scalar in a float32 loop would force a conversion per element and keep
# LLVM from vectorising it.
@njit(cache=True, fastmath=True)
def biased_mf_sgd(users, items, ratings, start, stop, global_mean, user_bias, item_bias,
                  user_factors, item_factors, lr, reg_user, reg_item, biased):
    """SGD steps of biased matrix factorisation (Surprise's SVD updates) on samples ``[start, stop)``.

    The samples are visited in array order. ``reg_user`` regularises the
    user bias and factors, ``reg_item`` the item's. With zero factor columns
    this is exactly the SGD of the Koren baselines. The factors may be
    float32 or float64 (the dot product and factor updates run in their
    dtype); biases and errors are float64. Returns the sum of squared
    training errors seen.
    """
    n_factors = user_factors.shape[1]
    real = user_factors.dtype.type
    user_decay, item_decay = real(1.0 - lr * reg_user), real(1.0 - lr * reg_item)
    squared_error = 0.0
    for sample in range(start, stop):
        u, i = users[sample], items[sample]
        user_row, item_row = user_factors[u], item_factors[i]
        dot = real(0.0)
        for f in range(n_factors):
            dot += item_row[f] * user_row[f]
        error = ratings[sample] - (global_mean + user_bias[u] + item_bias[i] + dot)
        squared_error += error * error
        if biased:
            user_bias[u] += lr * (error - reg_user * user_bias[u])
            item_bias[i] += lr * (error - reg_item * item_bias[i])
        step = real(lr * error)
        for f in range(n_factors):
            user_value = user_row[f]
            item_value = item_row[f]
            user_row[f] = user_decay * user_value + step * item_value
            item_row[f] = item_decay * item_value + step * user_value
    return squared_error


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


@njit(cache=True, parallel=True)
def biased_mf_stratified_epoch(users, items, ratings, block_indptr, stratum_offsets, global_mean,
                               user_bias, item_bias, user_factors, item_factors, lr, reg_user,
                               reg_item, biased):
    """One epoch of stratified SGD (DSGD, Gemulla et al. 2011) for biased MF.

    The samples are grouped into an n x n grid of blocks, block ``b * n + c``
    holding the ratings of user block b on item block c, at
    ``[block_indptr[b * n + c], block_indptr[b * n + c + 1])``. Stratum s
    pairs user block b with item block ``(b + stratum_offsets[s]) % n``: its
    n blocks share no user and no item, so they run on parallel threads with
    exactly the result of running them one after the other. Each block is
    trained by :func:`biased_mf_sgd` in its array order; the strata run in
    turn, so every rating is visited once per epoch and the result does not
    depend on the number of threads. Returns the sum of squared training
    errors of each block (summed by the caller: a sum in a parallel kernel
    would depend on the number of threads).
    """
    n_blocks = stratum_offsets.shape[0]
    squared_errors = np.zeros(n_blocks * n_blocks)
    for stratum in range(n_blocks):
        for user_block in prange(n_blocks):
            block = user_block * n_blocks + (user_block + stratum_offsets[stratum]) % n_blocks
            squared_errors[block] = biased_mf_sgd(
                users, items, ratings, block_indptr[block], block_indptr[block + 1], global_mean,
                user_bias, item_bias, user_factors, item_factors, lr, reg_user, reg_item, biased,
            )
    return squared_errors


@njit(cache=True)
def svdpp_epoch(indptr, items, ratings, user_order, global_mean, user_bias, item_bias,
                user_factors, item_factors, implicit_factors, lr, reg):
    """One SGD epoch of SVD++, batched per user.

    ``indptr``/``items``/``ratings`` are the CSR rows of the rating matrix:
    user u rated ``items[indptr[u]:indptr[u + 1]]``, which is also its
    implicit set N(u). Users are visited in ``user_order``, each user's
    ratings one after the other, as Surprise's SVDpp visits them.

    The per-rating update of every y_j, j in N(u), is
    ``y_j <- (1 - lr*reg) y_j + lr * e_ui q_i / sqrt|N(u)|``; within one
    user's block only the implicit sum ``z = sum_j y_j / sqrt|N(u)|`` reads
    the y_j, and it follows ``z <- (1 - lr*reg) z + lr * e_ui q_i``. So z is
    computed once per user and updated in O(k) per rating, the decayed sum of
    ``e_ui q_i`` is accumulated, and each y_j is written once per user in
    closed form. This is the standard "batched per user" SVD++: O(|R| k) per
    epoch instead of Surprise's O(sum_u |N(u)|^2 k), with the same result up
    to rounding.
    """
    n_factors = user_factors.shape[1]
    implicit_sum = np.empty(n_factors)
    gradient_sum = np.empty(n_factors)
    decay = 1.0 - lr * reg
    squared_error = 0.0
    for position in range(user_order.shape[0]):
        u = user_order[position]
        start, stop = indptr[u], indptr[u + 1]
        n_rated = stop - start
        if n_rated == 0:
            continue
        norm = 1.0 / np.sqrt(n_rated)
        implicit_sum[:] = 0.0
        for k in range(start, stop):
            j = items[k]
            for f in range(n_factors):
                implicit_sum[f] += implicit_factors[j, f]
        for f in range(n_factors):
            implicit_sum[f] *= norm
        gradient_sum[:] = 0.0
        for k in range(start, stop):
            i = items[k]
            dot = 0.0
            for f in range(n_factors):
                dot += item_factors[i, f] * (user_factors[u, f] + implicit_sum[f])
            error = ratings[k] - (global_mean + user_bias[u] + item_bias[i] + dot)
            squared_error += error * error
            user_bias[u] += lr * (error - reg * user_bias[u])
            item_bias[i] += lr * (error - reg * item_bias[i])
            for f in range(n_factors):
                user_value = user_factors[u, f]
                item_value = item_factors[i, f]
                user_factors[u, f] += lr * (error * item_value - reg * user_value)
                item_factors[i, f] += lr * (error * (user_value + implicit_sum[f]) - reg * item_value)
                implicit_sum[f] = decay * implicit_sum[f] + lr * error * item_value
                gradient_sum[f] = decay * gradient_sum[f] + error * item_value
        total_decay = decay ** n_rated
        step = lr * norm
        for k in range(start, stop):
            j = items[k]
            for f in range(n_factors):
                implicit_factors[j, f] = total_decay * implicit_factors[j, f] + step * gradient_sum[f]
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


@njit(cache=True)
def nmf_epoch(users, items, ratings, order, global_mean, user_bias, item_bias, user_factors,
              item_factors, reg_user, reg_item, lr_bias, reg_bias, biased, user_counts, item_counts):
    """One epoch of regularised NMF by multiplicative updates (Luo et al. 2014).

    Follows Surprise's NMF: the biases (when ``biased``) take SGD steps while
    the numerators and denominators of the multiplicative factor updates are
    accumulated over all ratings, then every factor is rescaled once.
    """
    n_factors = user_factors.shape[1]
    user_numerator = np.zeros(user_factors.shape)
    user_denominator = np.zeros(user_factors.shape)
    item_numerator = np.zeros(item_factors.shape)
    item_denominator = np.zeros(item_factors.shape)
    for position in range(order.shape[0]):
        sample = order[position]
        u, i, rating = users[sample], items[sample], ratings[sample]
        dot = 0.0
        for f in range(n_factors):
            dot += item_factors[i, f] * user_factors[u, f]
        estimate = global_mean + user_bias[u] + item_bias[i] + dot
        if biased:
            error = rating - estimate
            user_bias[u] += lr_bias * (error - reg_bias * user_bias[u])
            item_bias[i] += lr_bias * (error - reg_bias * item_bias[i])
        for f in range(n_factors):
            user_numerator[u, f] += item_factors[i, f] * rating
            user_denominator[u, f] += item_factors[i, f] * estimate
            item_numerator[i, f] += user_factors[u, f] * rating
            item_denominator[i, f] += user_factors[u, f] * estimate
    _multiplicative_update(user_factors, user_numerator, user_denominator, user_counts, reg_user)
    _multiplicative_update(item_factors, item_numerator, item_denominator, item_counts, reg_item)


@njit(cache=True)
def _multiplicative_update(factors, numerator, denominator, counts, reg):
    for row in range(factors.shape[0]):
        for f in range(factors.shape[1]):
            # A zero factor stays zero, and would make 0/0 below.
            if factors[row, f] != 0.0:
                scaled = denominator[row, f] + counts[row] * reg * factors[row, f]
                factors[row, f] *= numerator[row, f] / scaled


@njit(cache=True)
def als_half_step(indptr, indices, residuals, fixed_factors, fixed_bias, solved_factors,
                  solved_bias, reg):
    """Solve every row's bias and factors given the other side (ALS-WR).

    Row r of the CSR (``indptr``, ``indices``, ``residuals``) holds the
    ratings minus the global mean of one user (or item); the solved side's
    bias and factors minimise
    ``sum_j (res_rj - b_j - b_r - <x_r, y_j>)^2 + reg * n_r * (b_r^2 + |x_r|^2)``,
    the weighted-lambda regularisation of Zhou et al. (2008), by one small
    (k+1) x (k+1) linear solve per row.
    """
    n_factors = fixed_factors.shape[1]
    size = n_factors + 1
    gram = np.empty((size, size))
    target = np.empty(size)
    design = np.empty(size)
    for row in range(solved_factors.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        n_rated = stop - start
        if n_rated == 0:
            solved_bias[row] = 0.0
            solved_factors[row, :] = 0.0
            continue
        gram[:, :] = 0.0
        target[:] = 0.0
        for k in range(start, stop):
            j = indices[k]
            design[0] = 1.0
            design[1:] = fixed_factors[j]
            value = residuals[k] - fixed_bias[j]
            for a in range(size):
                target[a] += design[a] * value
                for b in range(a, size):
                    gram[a, b] += design[a] * design[b]
        for a in range(size):
            gram[a, a] += reg * n_rated
            for b in range(a):
                gram[a, b] = gram[b, a]
        solution = np.linalg.solve(gram, target)
        solved_bias[row] = solution[0]
        solved_factors[row, :] = solution[1:]
