"""Per-set minimum of permuted token hashes: the inner loop of MinHash.

``set_minimum(indptr, indices, token_values, empty)`` returns, for each set
``i`` (the tokens ``indices[indptr[i]:indptr[i + 1]]``), the column-wise
minimum of ``token_values`` over its tokens, and ``empty`` for a set without
tokens. The numba kernel is what runs; ``set_minimum_reference`` is the plain
numpy version a test compares it against.
"""

import numba
import numpy as np

# Rows of the (nnz, n_perm) gather materialised at once by the numpy reference.
_REFERENCE_BLOCK_TOKENS = 1 << 16


@numba.njit(cache=True, nogil=True)
def _set_minimum_kernel(indptr, indices, token_values, out):
    # min() on 2-d indices, rather than a branch on row views, lets LLVM vectorise.
    n_perm = token_values.shape[1]
    for row in range(indptr.shape[0] - 1):
        for position in range(indptr[row], indptr[row + 1]):
            token = indices[position]
            for k in range(n_perm):
                out[row, k] = min(out[row, k], token_values[token, k])


def set_minimum(indptr, indices, token_values, empty):
    """Column-wise minimum of ``token_values`` rows over each CSR set (numba)."""
    out = np.full((len(indptr) - 1, token_values.shape[1]), empty, dtype=token_values.dtype)
    _set_minimum_kernel(np.ascontiguousarray(indptr, dtype=np.int64),
                        np.ascontiguousarray(indices, dtype=np.int64),
                        np.ascontiguousarray(token_values), out)
    return out


def set_minimum_reference(indptr, indices, token_values, empty):
    """The same as :func:`set_minimum` with ``np.minimum.reduceat`` over row blocks."""
    indptr = np.asarray(indptr, dtype=np.int64)
    out = np.full((len(indptr) - 1, token_values.shape[1]), empty, dtype=token_values.dtype)
    lengths = np.diff(indptr)
    start = 0
    while start < len(lengths):
        # Grow the block of rows until it holds about _REFERENCE_BLOCK_TOKENS tokens.
        stop = int(np.searchsorted(indptr, indptr[start] + _REFERENCE_BLOCK_TOKENS, side="right"))
        stop = min(max(stop - 1, start + 1), len(lengths))
        rows = np.arange(start, stop)
        filled = rows[lengths[rows] > 0]
        if filled.size:
            gathered = token_values[indices[indptr[filled[0]]:indptr[filled[-1] + 1]]]
            offsets = indptr[filled] - indptr[filled[0]]
            out[filled] = np.minimum.reduceat(gathered, offsets, axis=0)
        start = stop
    return out
