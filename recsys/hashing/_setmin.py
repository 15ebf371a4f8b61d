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


# Bytes of token values a pass of the kernel reads: small enough to stay in cache.
_BLOCK_BYTES = 4 << 20


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _set_minimum_kernel(indptr, indices, token_values, out, block_tokens):
    # Tokens are taken in passes over blocks of block_tokens consecutive
    # token ids, so each pass gathers from a cache-sized slice of
    # token_values instead of the whole table. A row's cursor stops at its
    # first token beyond the block; with sorted rows each token is visited
    # in its own block's pass, and unsorted rows stay correct (a token is
    # then taken in a later pass).
    n_rows, n_perm = indptr.shape[0] - 1, token_values.shape[1]
    cursor = indptr[:-1].copy()
    for stop in range(block_tokens, token_values.shape[0] + block_tokens, block_tokens):
        for row in range(n_rows):
            position, end = cursor[row], indptr[row + 1]
            while position < end and indices[position] < stop:
                token = indices[position]
                # min() on 2-d indices, rather than a branch on row views, lets LLVM vectorise.
                for k in range(n_perm):
                    out[row, k] = min(out[row, k], token_values[token, k])
                position += 1
            cursor[row] = position


def set_minimum(indptr, indices, token_values, empty):
    """Column-wise minimum of ``token_values`` rows over each CSR set (numba).

    Fastest when the tokens of each set are sorted.
    """
    out = np.full((len(indptr) - 1, token_values.shape[1]), empty, dtype=token_values.dtype)
    block_tokens = max(1, _BLOCK_BYTES // max(token_values[:1].nbytes, 1))
    _set_minimum_kernel(np.ascontiguousarray(indptr, dtype=np.int64),
                        np.ascontiguousarray(indices, dtype=np.int64),
                        np.ascontiguousarray(token_values), out, block_tokens)
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
