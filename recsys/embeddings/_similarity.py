"""Similarity between two sets of embeddings."""

import numpy as np

_METRICS = ("cosine", "dot")


def similarity(A, B=None, metric="cosine"):
    """Pairwise similarity between the rows of A and the rows of B.

    Parameters
    ----------
    A : array-like of shape (n_a, n_components)
    B : array-like of shape (n_b, n_components), default=None
        A itself when None.
    metric : {"cosine", "dot"}, default="cosine"
        Cosine gives 0 for a zero vector.

    Returns
    -------
    ndarray of shape (n_a, n_b)

    Examples
    --------
    >>> from recsys.embeddings import similarity
    >>> similarity([[1.0, 0.0], [3.0, 4.0]], metric="cosine").round(2).tolist()
    [[1.0, 0.6], [0.6, 1.0]]
    >>> similarity([[1.0, 2.0]], [[3.0, 4.0]], metric="dot").tolist()
    [[11.0]]
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}; got {metric!r}.")
    A = _check_embeddings(A, "A")
    B = A if B is None else _check_embeddings(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A and B must have the same number of columns; got {A.shape[1]} and {B.shape[1]}.")
    if metric == "cosine":
        A, B = normalize_rows(A), normalize_rows(B)
    return A @ B.T


def normalize_rows(vectors):
    """Scale each row to unit L2 norm, leaving zero rows at zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _check_embeddings(vectors, name):
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2:
        raise ValueError(f"{name} must be 2-d (n_vectors, n_components); got shape {vectors.shape}.")
    if not np.isfinite(vectors).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return vectors
