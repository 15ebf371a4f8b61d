"""Similarities between the rows of a ratings matrix, over co-rated columns only.

Each measure follows Surprise's ``similarities`` module (same formulas, same
``min_support`` and zero conventions), but every pairwise sum over the
co-rated columns is one sparse matrix product instead of a triple loop:
with R the ratings and B their 0/1 pattern, the number of co-rated columns
is ``B B^T``, the sum of products ``R R^T`` and the sum of the squares of
row a's ratings over the columns it shares with row b is ``(R o R) B^T``.
"""

import numpy as np
import scipy.sparse as sp

SIMILARITIES = ("cosine", "msd", "pearson", "pearson_baseline")


def _ratings_matrix(rows, cols, values, shape):
    return sp.csr_matrix((np.asarray(values, dtype=np.float64), (rows, cols)), shape=shape)


def _co_rated_sums(ratings, pattern):
    """Return (support, products, squares, sums) summed over co-rated columns.

    ``squares[a, b]`` and ``sums[a, b]`` are summed over row a's ratings only;
    their transposes give row b's.
    """
    support = (pattern @ pattern.T).toarray()
    products = (ratings @ ratings.T).toarray()
    squares = (ratings.multiply(ratings) @ pattern.T).toarray()
    sums = (ratings @ pattern.T).toarray()
    return support, products, squares, sums


def _finish(similarity, support, min_support):
    similarity[support < min_support] = 0.0
    # Surprise's convention: every row is its own perfect neighbour.
    np.fill_diagonal(similarity, 1.0)
    return similarity


def cosine_similarity(ratings, pattern, min_support=1):
    """Cosine of the ratings two rows share: ``sum r_a r_b / sqrt(sum r_a^2 sum r_b^2)``."""
    support, products, squares, _ = _co_rated_sums(ratings, pattern)
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = products / np.sqrt(squares * squares.T)
    similarity[~np.isfinite(similarity)] = 0.0
    return _finish(similarity, support, min_support)


def msd_similarity(ratings, pattern, min_support=1):
    """``1 / (mean squared difference over co-rated columns + 1)``."""
    support, products, squares, _ = _co_rated_sums(ratings, pattern)
    squared_difference = squares + squares.T - 2.0 * products
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = 1.0 / (squared_difference / support + 1.0)
    similarity[support == 0] = 0.0
    return _finish(similarity, support, min_support)


def pearson_similarity(ratings, pattern, min_support=1):
    """Pearson correlation over co-rated columns, centred on the co-rated means."""
    support, products, squares, sums = _co_rated_sums(ratings, pattern)
    numerator = support * products - sums * sums.T
    spread = support * squares - sums ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = numerator / np.sqrt(spread * spread.T)
    similarity[~np.isfinite(similarity)] = 0.0
    return _finish(similarity, support, min_support)


def pearson_baseline_similarity(residuals, pattern, min_support=1, shrinkage=100.0):
    """Pearson correlation of baseline residuals, shrunk towards 0 on small support.

    ``residuals`` holds ``r - (mu + b_row + b_col)`` on the pattern of the
    ratings. The correlation is multiplied by ``(n - 1) / (n - 1 + shrinkage)``
    with n the number of co-rated columns; at least 2 are needed.
    """
    support, products, squares, _ = _co_rated_sums(residuals, pattern)
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = products / np.sqrt(squares * squares.T)
        similarity *= (support - 1.0) / (support - 1.0 + shrinkage)
    similarity[~np.isfinite(similarity)] = 0.0
    return _finish(similarity, support, max(2, min_support))


def rating_similarity(rows, cols, ratings, shape, sim="msd", *, min_support=1, shrinkage=100.0,
                      baselines=None):
    """Dense similarity matrix between the rows of a ratings matrix.

    Parameters
    ----------
    rows, cols : ndarray of int
        Row and column index of each rating (users and items for a user-based
        similarity, items and users for an item-based one).
    ratings : ndarray of float
    shape : (n_rows, n_cols)
    sim : {"cosine", "msd", "pearson", "pearson_baseline"}, default="msd"
    min_support : int, default=1
        Rows with fewer co-rated columns get similarity 0.
    shrinkage : float, default=100.0
        Shrinkage of ``pearson_baseline``.
    baselines : (global_mean, row_biases, col_biases), default=None
        Needed by ``pearson_baseline`` only.

    Returns
    -------
    ndarray of shape (n_rows, n_rows)
        Symmetric, with ones on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.neighbors._rating_similarity import rating_similarity
    >>> sim = rating_similarity([0, 0, 1, 1], [0, 1, 0, 1], [5, 3, 4, 2], (2, 2), "msd")
    >>> sim.round(3)
    array([[1. , 0.5],
           [0.5, 1. ]])
    """
    if sim not in SIMILARITIES:
        raise ValueError(f"sim must be one of {SIMILARITIES}; got {sim!r}.")
    rows, cols = np.asarray(rows), np.asarray(cols)
    pattern = _ratings_matrix(rows, cols, np.ones(len(rows)), shape)
    if sim == "pearson_baseline":
        if baselines is None:
            raise ValueError("pearson_baseline needs baselines=(global_mean, row_biases, col_biases).")
        global_mean, row_biases, col_biases = baselines
        residuals = np.asarray(ratings, dtype=np.float64) - (global_mean + row_biases[rows] + col_biases[cols])
        residual_matrix = _ratings_matrix(rows, cols, residuals, shape)
        return pearson_baseline_similarity(residual_matrix, pattern, min_support, shrinkage)
    measure = {"cosine": cosine_similarity, "msd": msd_similarity, "pearson": pearson_similarity}[sim]
    return measure(_ratings_matrix(rows, cols, ratings, shape), pattern, min_support)
