"""Raw score of a forest of binary decision trees: a numba kernel and its numpy reference.

The trees are flat arrays over all their nodes (tree ``t`` holds the nodes
``tree_indptr[t]:tree_indptr[t + 1]``, its root first): at an inner node a
row goes left when its value of ``feature[node]`` is ``<= threshold[node]``,
or when that value is NaN and ``missing_left[node]``; ``left``/``right`` are
indices into the flat arrays. A row's raw score is ``baseline`` plus the
``value`` of the leaf it reaches in each tree, added tree by tree in order,
which is how scikit-learn's ``HistGradientBoostingClassifier`` sums its
trees, so the scores are the same floats.
"""

import numpy as np
from numba import njit, prange


def forest_raw_scores(X, feature, threshold, missing_left, left, right, value, is_leaf, tree_indptr, baseline):
    """Raw score of each row of X (kernel: rows in parallel, one walk per tree).

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    feature, threshold, missing_left, left, right, value, is_leaf : ndarray of shape (n_nodes,)
    tree_indptr : ndarray of shape (n_trees + 1,)
    baseline : float

    Returns
    -------
    ndarray of shape (n_rows,), float64
    """
    return _forest_raw_scores(np.ascontiguousarray(X, dtype=np.float64), feature.astype(np.int64, copy=False),
                              threshold.astype(np.float64, copy=False), missing_left.astype(np.bool_, copy=False),
                              left.astype(np.int64, copy=False), right.astype(np.int64, copy=False),
                              value.astype(np.float64, copy=False), is_leaf.astype(np.bool_, copy=False),
                              tree_indptr.astype(np.int64, copy=False), float(baseline))


def forest_raw_scores_reference(X, feature, threshold, missing_left, left, right, value, is_leaf, tree_indptr,
                                baseline):
    """The same scores with numpy: every row walks a tree one level per step."""
    X = np.asarray(X, dtype=np.float64)
    total = np.full(X.shape[0], float(baseline))
    rows = np.arange(X.shape[0])
    for root in tree_indptr[:-1]:
        node = np.full(X.shape[0], root, dtype=np.int64)
        walking = ~is_leaf[node]
        while walking.any():
            at = node[walking]
            x = X[rows[walking], feature[at]]
            with np.errstate(invalid="ignore"):
                go_left = np.where(np.isnan(x), missing_left[at], x <= threshold[at])
            node[walking] = np.where(go_left, left[at], right[at])
            walking = ~is_leaf[node]
        total += value[node]
    return total


@njit(parallel=True, cache=True, nogil=True)
def _forest_raw_scores(X, feature, threshold, missing_left, left, right, value, is_leaf, tree_indptr, baseline):
    n_trees = tree_indptr.shape[0] - 1
    scores = np.empty(X.shape[0])
    for row in prange(X.shape[0]):
        total = baseline
        for tree in range(n_trees):
            node = tree_indptr[tree]
            while not is_leaf[node]:
                x = X[row, feature[node]]
                if np.isnan(x):
                    go_left = missing_left[node]
                else:
                    go_left = x <= threshold[node]
                node = left[node] if go_left else right[node]
            total += value[node]
        scores[row] = total
    return scores
