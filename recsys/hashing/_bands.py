"""Choosing the bands and rows of a banded MinHash LSH index."""

import numpy as np


def candidate_probability(similarity, n_bands, rows_per_band):
    """The S-curve: probability that two sets of Jaccard similarity s become candidates.

    ``P(s) = 1 - (1 - s**r)**b``: they share all r rows of at least one of b bands.
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    return 1.0 - (1.0 - similarity ** rows_per_band) ** n_bands


def optimal_bands_rows(threshold, n_perm, weights=(0.5, 0.5)):
    """The (bands, rows) with ``bands * rows <= n_perm`` minimising the weighted error areas.

    The error is ``w_fp * integral_0^t P(s) ds + w_fn * integral_t^1 (1 - P(s)) ds``,
    the criterion of datasketch's ``MinHashLSH``. P is a polynomial of degree
    ``b * r <= n_perm``, so Gauss-Legendre quadrature with ``n_perm // 2 + 1``
    nodes integrates it exactly, for all (b, r) at once.

    Parameters
    ----------
    threshold : float in (0, 1)
    n_perm : int
    weights : (float, float), default=(0.5, 0.5)
        Weights of the false-positive and false-negative areas.

    Returns
    -------
    bands, rows : int

    Examples
    --------
    >>> from recsys.hashing import optimal_bands_rows
    >>> optimal_bands_rows(0.5, 128)
    (25, 5)
    """
    nodes, node_weights = np.polynomial.legendre.leggauss(n_perm // 2 + 1)
    pairs = np.array([(b, r) for b in range(1, n_perm + 1) for r in range(1, n_perm // b + 1)])
    bands, rows = pairs[:, :1].astype(np.float64), pairs[:, 1:].astype(np.float64)

    def area(low, high, integrand):
        points = (high - low) / 2 * nodes + (high + low) / 2
        return (high - low) / 2 * (integrand(points) * node_weights).sum(axis=1)

    false_positive = area(0.0, threshold, lambda s: candidate_probability(s, bands, rows))
    false_negative = area(threshold, 1.0, lambda s: 1.0 - candidate_probability(s, bands, rows))
    error = weights[0] * false_positive + weights[1] * false_negative
    best = int(np.argmin(error))
    return int(pairs[best, 0]), int(pairs[best, 1])
