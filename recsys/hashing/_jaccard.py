"""Jaccard similarity estimated from MinHash signatures, and computed exactly from sets."""

import numpy as np
import scipy.sparse as sp


def _check_signatures(A, B):
    A, B = np.asarray(A), np.asarray(B)
    for name, array in (("A", A), ("B", B)):
        if array.ndim != 2 or array.dtype.kind != "u":
            raise ValueError(
                f"{name} must be a 2-d array of unsigned-integer MinHash signatures, as "
                f"MinHasher.transform returns; got shape {array.shape} and dtype {array.dtype}."
            )
    if A.shape[1] != B.shape[1] or A.dtype != B.dtype:
        raise ValueError(
            f"signatures of different lengths or dtypes ({A.shape[1]} {A.dtype} vs "
            f"{B.shape[1]} {B.dtype}) come from different MinHashers; hash both with the "
            "same n_perm, seed and scheme."
        )
    return A, B


def _empty_rows(signatures):
    # An empty set keeps the initial value everywhere: the maximum of the
    # dtype, or 2**32 - 1 for datasketch's legacy uint64 signatures.
    maximum = signatures.max(axis=1) if signatures.shape[1] else np.zeros(len(signatures))
    return (signatures.min(axis=1) == maximum) & np.isin(
        maximum, [np.iinfo(signatures.dtype).max, 2**32 - 1])


def jaccard_from_signatures(A, B):
    """Estimated Jaccard similarity of the sets of paired rows of A and B.

    The estimate is the share of positions where the two signatures agree;
    its standard error is at most ``0.5 / sqrt(n_perm)``. A pair with an
    empty set has similarity 0 (datasketch would report 1.0 for two empty
    MinHashes, which would make every empty set a duplicate of every other).

    Parameters
    ----------
    A, B : ndarray of shape (n_sets, n_perm)
        Signatures from the same :class:`MinHasher`.

    Returns
    -------
    similarity : ndarray of shape (n_sets,)

    Examples
    --------
    >>> from recsys.hashing import MinHasher, jaccard_from_signatures
    >>> signatures = MinHasher(n_perm=256).fit_transform([["a", "b"], ["a", "b"], []])
    >>> jaccard_from_signatures(signatures[:2], signatures[[1, 2]]).tolist()
    [1.0, 0.0]
    """
    A, B = _check_signatures(A, B)
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            f"A and B must have as many rows (paired sets); got {A.shape[0]} and {B.shape[0]}. "
            "Use pairwise_jaccard_from_signatures for all pairs."
        )
    similarity = np.count_nonzero(A == B, axis=1) / max(A.shape[1], 1)
    similarity[_empty_rows(A) | _empty_rows(B)] = 0.0
    return similarity


def pairwise_jaccard_from_signatures(A, B=None, block_size=256):
    """Estimated Jaccard similarity of every row of A with every row of B.

    Parameters
    ----------
    A : ndarray of shape (n_a, n_perm)
    B : ndarray of shape (n_b, n_perm), default=None
        Defaults to A.
    block_size : int, default=256
        Rows of A compared at once (bounds memory to block_size * n_b * n_perm bytes).

    Returns
    -------
    similarity : ndarray of shape (n_a, n_b)

    Examples
    --------
    >>> from recsys.hashing import MinHasher, pairwise_jaccard_from_signatures
    >>> signatures = MinHasher().fit_transform([["a", "b"], ["a", "b"]])
    >>> pairwise_jaccard_from_signatures(signatures).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    A, B = _check_signatures(A, A if B is None else B)
    similarity = np.empty((A.shape[0], B.shape[0]))
    for start in range(0, A.shape[0], block_size):
        block = A[start:start + block_size, None, :] == B[None, :, :]
        similarity[start:start + block_size] = block.mean(axis=2)
    similarity[_empty_rows(A)] = 0.0
    similarity[:, _empty_rows(B)] = 0.0
    return similarity


def _binary_csr(X):
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.data[:] = 1.0
    return X


def jaccard_pairs(X, Y, rows_x, rows_y):
    """Exact Jaccard similarity of the sets ``X[rows_x[i]]`` and ``Y[rows_y[i]]``.

    X and Y are binary matrices with the same columns; empty sets have
    similarity 0 with every set.
    """
    X, Y = _binary_csr(X), _binary_csr(Y)
    rows_x, rows_y = np.asarray(rows_x, dtype=np.int64), np.asarray(rows_y, dtype=np.int64)
    intersection = np.asarray(X[rows_x].multiply(Y[rows_y]).sum(axis=1)).ravel()
    sizes_x, sizes_y = np.diff(X.indptr)[rows_x], np.diff(Y.indptr)[rows_y]
    union = sizes_x + sizes_y - intersection
    return np.divide(intersection, union, out=np.zeros(len(union)), where=union > 0)


def pairwise_jaccard(X, Y=None):
    """Exact Jaccard similarity of every row (set) of X with every row of Y.

    Parameters
    ----------
    X : sparse or dense binary matrix of shape (n_x, n_elements)
    Y : sparse or dense binary matrix of shape (n_y, n_elements), default=None
        Defaults to X.

    Returns
    -------
    similarity : ndarray of shape (n_x, n_y)

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.hashing import pairwise_jaccard
    >>> pairwise_jaccard(np.array([[1, 1, 0], [0, 1, 1]])).round(2).tolist()
    [[1.0, 0.33], [0.33, 1.0]]
    """
    X = _binary_csr(X)
    Y = X if Y is None else _binary_csr(Y)
    intersection = (X @ Y.T).toarray()
    union = np.diff(X.indptr)[:, None] + np.diff(Y.indptr)[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros(union.shape), where=union > 0)
