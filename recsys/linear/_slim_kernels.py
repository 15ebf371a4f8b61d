"""Numba coordinate descent for SLIM's per-item elastic nets in Gram form.

Column j of W solves ``min_w 1/2 ||x_j - X w||^2 + l1 ||w||_1 + l2/2 ||w||^2``
with ``w_j = 0``, which only needs ``G = X^T X``: ``X^T x_j = G[:, j]``,
``||x_j||^2 = G[j, j]`` and ``X^T X w = G w``. The coordinate updates and the
duality gap are scikit-learn's (``sparse_enet_coordinate_descent``,
``gap_enet_gram``), and so is the certificate that ends a fit: a duality gap
of at most ``tol * ||x_j||^2``. Both solvers therefore reach the same optimum
to within ``tol``; the route there differs (see ``solve_item``).
"""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def _duality_gap(y_norm2, q, weights, gram_weights, l1, l2, positive, skipped):
    """Duality gap of ``min_w 1/2 ||y - X w||^2 + l1 |w|_1 + l2/2 |w|^2`` from Gram quantities.

    ``q = X^T y`` and ``gram_weights = X^T X w``. Coordinate ``skipped`` (the
    target item, whose column is zeroed in X, so its ``X^T R`` is 0) is left out
    of the dual norm; pass -1 to keep every coordinate.
    """
    q_dot_w = 0.0
    w_gram_w = 0.0
    w_l1_norm = 0.0
    w_l2_norm2 = 0.0
    dual_norm = 0.0
    gradient_norm2 = 0.0
    for other in range(len(q)):
        w = weights[other]
        q_dot_w += w * q[other]
        w_gram_w += w * gram_weights[other]
        w_l1_norm += abs(w)
        w_l2_norm2 += w * w
        if other == skipped:
            continue
        correlation = q[other] - gram_weights[other]  # X^T R at this coordinate
        if l1 == 0.0:
            gradient_norm2 += correlation * correlation
            continue
        correlation -= l2 * w
        dual_norm = max(dual_norm, correlation if positive else abs(correlation))
    residual_norm2 = y_norm2 + w_gram_w - 2.0 * q_dot_w
    residual_dot_y = y_norm2 - q_dot_w
    if l1 == 0.0:  # ridge: scikit-learn's formulation B
        return residual_norm2 + 0.5 * l2 * w_l2_norm2 - residual_dot_y + gradient_norm2 / (2 * l2)
    primal = 0.5 * (residual_norm2 + l2 * w_l2_norm2) + l1 * w_l1_norm
    scale = l1 / dual_norm if dual_norm > l1 else 1.0
    dual = -0.5 * scale**2 * (residual_norm2 + l2 * w_l2_norm2) + scale * residual_dot_y
    return primal - dual


@njit(nogil=True, cache=True)
def _coordinate_update(tmp, norm2, l1, l2, positive):
    """Minimiser over one coordinate, ``tmp`` being ``x_i^T (residual + w_i x_i)``."""
    if positive and tmp < 0.0:
        return 0.0
    return np.sign(tmp) * max(abs(tmp) - l1, 0.0) / (norm2 + l2)


@njit(nogil=True, cache=True)
def _newton_on_support(support_gram, support_q, support_weights, l1, l2):
    """Exact minimiser on a fixed support and signs, written in place if it keeps them.

    On a support A with signs s the objective is a ridge problem,
    ``(G_AA + l2 I) w_A = G[A, j] - l1 s_A``; a solution with the same signs is
    the optimum once the coordinates off A satisfy their optimality condition,
    which the next full sweep and its duality gap check.
    """
    system = support_gram.copy()
    for row in range(len(support_q)):
        system[row, row] += l2
    solution = np.linalg.solve(system, support_q - l1 * np.sign(support_weights))
    if (np.sign(solution) == np.sign(support_weights)).all():
        support_weights[:] = solution


@njit(nogil=True, cache=True)
def _refine_on_support(gram, item, weights, gram_weights, gap_tol, l1, l2, positive,
                       max_sweeps):
    """Solve the problem restricted to the current support, then rebuild ``gram_weights``.

    Sweeps over the support A work on a contiguous copy of ``G_AA``, so they
    cost ``|A|^2`` instead of ``n_items * |A|``: with a few hundred non-zero
    weights among thousands of items that is most of a full sweep saved. They
    stop at the restricted problem's gap certificate; if ``max_sweeps`` do not
    get there, the exact solve on the support (``_newton_on_support``) does.
    """
    support = np.flatnonzero(weights)
    size = len(support)
    if size == 0:
        return
    support_gram = np.empty((size, size))
    support_q = np.empty(size)
    for row in range(size):
        support_q[row] = gram[item, support[row]]
        for col in range(size):
            support_gram[row, col] = gram[support[row], support[col]]
    support_weights = weights[support]
    support_gram_weights = gram_weights[support]
    y_norm2 = gram[item, item]
    converged = False
    for _ in range(max_sweeps):
        for position in range(size):
            old = support_weights[position]
            norm2 = support_gram[position, position]
            tmp = support_q[position] - support_gram_weights[position] + old * norm2
            new = _coordinate_update(tmp, norm2, l1, l2, positive)
            if new != old:
                support_gram_weights += (new - old) * support_gram[position]
                support_weights[position] = new
        if _duality_gap(y_norm2, support_q, support_weights, support_gram_weights,
                        l1, l2, positive, -1) <= gap_tol:
            converged = True
            break
    if not converged:
        nonzero = np.flatnonzero(support_weights)
        sub_weights = support_weights[nonzero]
        _newton_on_support(support_gram[nonzero][:, nonzero], support_q[nonzero],
                           sub_weights, l1, l2)
        support_weights[nonzero] = sub_weights
    weights[support] = support_weights
    gram_weights[:] = 0.0
    for other in support:
        if weights[other] != 0.0:
            gram_weights += weights[other] * gram[other]


# Sweeps on the support before the exact solve takes over: enough for the
# well-conditioned items, few enough that the ill-conditioned ones (popular,
# strongly correlated items) do not crawl.
_SUPPORT_SWEEPS = 20


@njit(nogil=True, cache=True)
def solve_item(gram, item, weights, l1, l2, positive, max_iter, tol):
    """Fit one item's column of W in place, warm-started from ``weights``.

    ``weights[item]`` must be 0. Each iteration is one cyclic coordinate-descent
    sweep (scikit-learn's update; over all items the first time, over the items
    off the support afterwards, since the support was solved for in between:
    glmnet's active-set strategy), then the duality gap; the fit
    ends when the gap is at most ``tol * ||x_j||^2``, scikit-learn's
    certificate (scikit-learn computes it only once the largest change of a
    sweep is at most ``tol`` times the largest weight, because for it the gap
    costs a pass over X; here it costs ``n_items``), or after ``max_iter``
    sweeps. Between sweeps the problem restricted to the current support is
    solved (``_refine_on_support``): a sweep finds the support quickly but
    crawls on strongly correlated popular items, and every weight it changes
    costs ``n_items``.
    Returns ``(gap, n_sweeps)``.
    """
    n_items = gram.shape[0]
    # G w, kept up to date one changed coordinate at a time (rows of the
    # symmetric G are contiguous, so a change costs one row read).
    gram_weights = np.zeros(n_items)
    for other in range(n_items):
        if weights[other] != 0.0:
            gram_weights += weights[other] * gram[other]
    y_norm2 = gram[item, item]
    q = gram[item]
    gap_tol = tol * y_norm2
    gap = np.inf
    n_sweeps = 0
    for sweep in range(max_iter):
        n_sweeps = sweep + 1
        for other in range(n_items):
            norm2 = gram[other, other]
            if other == item or norm2 == 0.0:
                continue
            old = weights[other]
            if sweep > 0 and old != 0.0:
                continue  # the support was just solved for by _refine_on_support
            tmp = q[other] - gram_weights[other] + old * norm2
            new = _coordinate_update(tmp, norm2, l1, l2, positive)
            if new != old:
                gram_weights += (new - old) * gram[other]
                weights[other] = new
        gap = _duality_gap(y_norm2, q, weights, gram_weights, l1, l2, positive, item)
        if gap <= gap_tol:
            break
        if sweep < max_iter - 1:
            _refine_on_support(gram, item, weights, gram_weights, gap_tol, l1, l2, positive,
                               _SUPPORT_SWEEPS)
    return gap, n_sweeps
