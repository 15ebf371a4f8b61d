"""Splitting each user's interactions into a fold-in and a held-out part."""

import numpy as np
import scipy.sparse as sp

from recsys.utils._validation import check_interaction_matrix


def split_rows(X, fraction=0.8, random_state=None):
    """Split the stored entries of each row of X into fold-in and held-out parts.

    Each row with at least two interactions keeps ``round(fraction * n)``
    (at least one, at most n - 1) of its entries, chosen at random, in the
    fold-in matrix; the rest go to the held-out matrix. Rows with fewer than
    two interactions keep their single entry in the fold-in part.

    Parameters
    ----------
    X : sparse matrix of shape (n_users, n_items) or Interactions
    fraction : float, default=0.8
        Share of each row's entries kept in the fold-in part.
    random_state : int, numpy Generator or None, default=None
        Seed of the random choice of entries.

    Returns
    -------
    fold_in, held_out : scipy.sparse.csr_matrix
        Matrices of the shape of X.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.utils import split_rows
    >>> fold_in, held_out = split_rows(sp.csr_matrix([[1, 1, 1, 1, 1]]), 0.8, random_state=0)
    >>> fold_in.nnz, held_out.nnz
    (4, 1)
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1; got {fraction!r}.")
    X = check_interaction_matrix(X, allow_empty=True)
    rng = np.random.default_rng(random_state)
    counts = np.diff(X.indptr)
    rows = np.repeat(np.arange(X.shape[0]), counts)
    # A random key per entry, sorted within rows, gives each row a random order.
    order = np.lexsort((rng.random(X.nnz), rows))
    rank_in_row = np.empty(X.nnz, dtype=np.int64)
    rank_in_row[order] = np.arange(X.nnz) - np.repeat(X.indptr[:-1], counts)
    n_keep = np.clip(np.rint(fraction * counts), 1, np.maximum(counts - 1, 1)).astype(np.int64)
    keep = rank_in_row < n_keep[rows]
    keep |= counts[rows] < 2
    coo = X.tocoo()
    make = lambda mask: sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=X.shape)
    return make(keep), make(~keep)
