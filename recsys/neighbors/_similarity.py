"""Blocked sparse top-k similarity, shared by the neighbourhood and graph recommenders.

Vectors are the rows of sparse matrices (items x users for item-item
similarity, users x items for user-user). The full n x n similarity matrix is
never built: ``query[block] @ reference.T`` is computed for a block of query
rows at a time, turned into similarities, and only the k largest of each row
are kept (``np.argpartition``). Vectors without any entry have no similarity
and are left out of the blocks, so the work follows the vectors in use, not the
catalogue. Peak memory is therefore about ``block_rows x n_reference_in_use``
dense cells plus the ``n_query x k`` result.

Block size logic: a block holds at most ``_BLOCK_CELLS`` = 2**24 cells, i.e.
``block_rows = 2**24 // n_reference_in_use``. Each cell costs 8 bytes dense plus at
most about 12 bytes in the sparse product it comes from, and the similarity and
top-k work arrays about as much again: one block peaks near 640 MiB whatever the
catalogue (measured at 27,000 items with ``tracemalloc``,
benchmarks/distributed_knn_scaling.py): for MovieLens-25M's 59,047 items that is
284 items per block, and the kept similarity (59,047 x k=100 entries) adds
about 70 MB, far below 24 GiB. The operands over all the vectors (the query,
the transposed reference, the norms: :class:`SimilarityOperands`) come on top.
"""

import numpy as np
import scipy.sparse as sp

SIMILARITIES = ("cosine", "asymmetric", "jaccard", "tfidf", "bm25")

_BLOCK_CELLS = 2**24

# Okapi BM25 term-frequency saturation and length normalisation, the usual
# defaults of Robertson et al., as in Dacrema et al. 2019's code.
_BM25_K1 = 1.2
_BM25_B = 0.75


def default_block_rows(n_reference):
    """Number of query rows per block so a block holds about 2**24 cells."""
    return max(1, _BLOCK_CELLS // max(int(n_reference), 1))


class VectorWeighting:
    """Reweighting of the vectors applied before a similarity is computed.

    ``fit`` learns the feature statistics (inverse document frequency, mean
    vector length) from the reference vectors; ``transform`` applies them, so
    fold-in query vectors are weighted like the training ones.

    - "cosine", "asymmetric": the values unchanged.
    - "jaccard": values binarised (set semantics).
    - "tfidf": value x idf(feature), idf = log(n_vectors / document frequency).
    - "bm25": Okapi BM25 term weight (k1=1.2, b=0.75) x idf(feature).
    """

    def __init__(self, similarity):
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}; got {similarity!r}.")
        self.similarity = similarity

    def fit(self, vectors):
        vectors = sp.csr_matrix(vectors, dtype=np.float64)
        document_frequency = np.bincount(vectors.indices, minlength=vectors.shape[1])
        # Features no vector holds get idf 0: they cannot contribute anyway.
        self.idf_ = np.log(vectors.shape[0] / np.maximum(document_frequency, 1))
        self.idf_[document_frequency == 0] = 0.0
        lengths = np.asarray(vectors.sum(axis=1)).ravel()
        self.average_length_ = float(lengths.mean()) if lengths.size and lengths.mean() > 0 else 1.0
        return self

    def transform(self, vectors):
        weighted = sp.csr_matrix(vectors, dtype=np.float64, copy=True)
        if self.similarity == "jaccard":
            weighted.data[:] = 1.0
        elif self.similarity == "tfidf":
            weighted.data *= self.idf_[weighted.indices]
        elif self.similarity == "bm25":
            lengths = np.asarray(weighted.sum(axis=1)).ravel()
            length_norm = (1.0 - _BM25_B) + _BM25_B * lengths / self.average_length_
            row_of_entry = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
            weighted.data = (weighted.data * (_BM25_K1 + 1.0)
                             / (_BM25_K1 * length_norm[row_of_entry] + weighted.data)
                             * self.idf_[weighted.indices])
        weighted.eliminate_zeros()
        return weighted

    def fit_transform(self, vectors):
        return self.fit(vectors).transform(vectors)


def top_k_product(left, right, k, *, transform_block=None, exclude_diagonal=False, block_rows=None,
                  rows=None):
    """Keep the k largest positive entries of each row of ``left @ right``.

    Only the rows of ``left`` and the columns of ``right`` that store an entry
    can hold a non-zero product, so the product is computed on those alone:
    time and work arrays scale with the rows and columns in use, not with the
    shape (three interactions in a catalogue of two million items are three
    items' work, not two million).

    Parameters
    ----------
    left : sparse matrix of shape (n_rows, d)
    right : sparse matrix of shape (d, n_columns)
    k : int
        Entries kept per row (at most). Among equal values at the cut, the
        lower column index is kept.
    transform_block : callable, default=None
        ``transform_block(block, rows, columns)`` turns the dense product
        block ``(left @ right)[rows][:, columns]`` (``rows`` and ``columns``
        increasing index arrays) into the values to rank, in place or not. It
        must map a zero product to a value of at most zero: rows and columns
        without entries are never passed to it.
    exclude_diagonal : bool, default=False
        Never keep entry (i, i): an item is not its own neighbour.
    block_rows : int, default=None
        Rows of ``left`` in use per block; None bounds a block to 2**24 cells.
    rows : array-like of int, default=None
        Compute only these rows of the product; the other rows of the result
        are empty. Each row's entries do not depend on which other rows are
        computed, so a product split by ``rows`` over several calls (or
        processes) and stacked is the product computed at once.

    Returns
    -------
    csr_matrix of shape (n_rows, n_columns), float64
        Only positive values are stored; columns are sorted within each row.
    """
    left = sp.csr_matrix(left, dtype=np.float64)
    right = sp.csr_matrix(right, dtype=np.float64)
    n_rows, n_columns = left.shape[0], right.shape[1]
    used_rows = np.flatnonzero(np.diff(left.indptr))
    if rows is not None:
        used_rows = np.intersect1d(used_rows, rows)
    # A mask, not np.unique (a sort of every entry, 6x slower) nor np.bincount (an int64 copy of
    # the indices, 8 bytes per entry of right, on every call).
    in_use = np.zeros(n_columns, dtype=bool)
    in_use[right.indices] = True
    used_columns = np.flatnonzero(in_use)
    left = left[used_rows]
    if len(used_columns) < n_columns:  # else the copy of right would be right itself
        right = right[:, used_columns]
    width = min(int(k), len(used_columns))
    if block_rows is None:
        block_rows = default_block_rows(len(used_columns))
    row_parts, column_parts, value_parts = [], [], []
    for start in range(0, len(used_rows) if width > 0 else 0, block_rows):
        rows = used_rows[start:start + block_rows]
        block = (left[start:start + block_rows] @ right).toarray()
        if transform_block is not None:
            block = transform_block(block, rows, used_columns)
        if exclude_diagonal:
            _zero_diagonal(block, rows, used_columns)
        top = _top_columns(block, width)
        values = np.take_along_axis(block, top, axis=1)
        keep = values > 0
        row_parts.append(np.broadcast_to(rows[:, None], top.shape)[keep])
        column_parts.append(used_columns[top[keep]])
        value_parts.append(values[keep])
    if not row_parts:
        return sp.csr_matrix((n_rows, n_columns), dtype=np.float64)
    result = sp.csr_matrix(
        (np.concatenate(value_parts), (np.concatenate(row_parts), np.concatenate(column_parts))),
        shape=(n_rows, n_columns),
    )
    result.sort_indices()
    return result


def _zero_diagonal(block, rows, columns):
    """Zero the cells of ``block`` (rows x columns, original indices) where row == column."""
    position = np.minimum(np.searchsorted(columns, rows), len(columns) - 1)
    on_diagonal = columns[position] == rows
    block[np.flatnonzero(on_diagonal), position[on_diagonal]] = 0.0


def _top_columns(block, width):
    """Column positions of the ``width`` largest values of each row; ties at the cut keep the lower index."""
    if width >= block.shape[1]:
        return np.broadcast_to(np.arange(block.shape[1]), block.shape)
    top = np.argpartition(-block, width - 1, axis=1)[:, :width]
    # argpartition picks arbitrarily among values tied at the cut;
    # re-select those rows by a stable sort so the lower index wins.
    threshold = np.take_along_axis(block, top, axis=1).min(axis=1)
    tied = (threshold > 0) & ((block >= threshold[:, None]).sum(axis=1) > width)
    if tied.any():
        top[tied] = np.argsort(-block[tied], axis=1, kind="stable")[:, :width]
    return top


def _safe_divide(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0 (vectors without entries)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def top_k_similarity(query, reference, k, *, similarity="cosine", shrink=0.0, alpha=0.5,
                     normalize=True, exclude_self=False, block_rows=None, rows=None):
    """The k most similar reference vectors of each query vector, as a sparse matrix.

    Both matrices hold one vector per row, already weighted by
    :class:`VectorWeighting`. With a = the query vector and b = a reference
    vector:

    - "cosine", "tfidf", "bm25": a.b / (|a| |b| + shrink)
    - "asymmetric": a.b / (|a|^(2 alpha) |b|^(2 (1 - alpha)) + shrink)
      (alpha=0.5 is the cosine)
    - "jaccard": |a & b| / (|a| + |b| - |a & b| + shrink) on binarised vectors

    With ``normalize=False`` the cosine-type similarities are the raw dot
    product a.b (``shrink`` and ``alpha`` unused); Jaccard is always normalised.

    Parameters
    ----------
    query : sparse matrix of shape (n_query, d)
    reference : sparse matrix of shape (n_reference, d)
    k : int
        Neighbours kept per query vector (clamped to what exists).
    similarity : {"cosine", "asymmetric", "jaccard", "tfidf", "bm25"}
    shrink : float, default=0.0
    alpha : float, default=0.5
    normalize : bool, default=True
    exclude_self : bool, default=False
        Query row i is reference row i (item-item similarity): drop it.
    block_rows : int, default=None
        Query rows per block (see the module docstring); the result does not
        depend on it.
    rows : array-like of int, default=None
        Compute only these query vectors' rows (the others are left empty),
        e.g. one block of items per process: see :func:`top_k_product`.

    Returns
    -------
    csr_matrix of shape (n_query, n_reference)
        Row q holds the (at most k) positive similarities of query q.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.neighbors._similarity import top_k_similarity
    >>> items = sp.csr_matrix([[1, 1, 0], [1, 1, 1], [0, 0, 1]])
    >>> top_k_similarity(items, items, k=1, exclude_self=True).toarray().round(2)
    array([[0.  , 0.82, 0.  ],
           [0.82, 0.  , 0.  ],
           [0.  , 0.58, 0.  ]])
    """
    operands = SimilarityOperands(query, reference, similarity=similarity, shrink=shrink, alpha=alpha,
                                  normalize=normalize)
    return operands.top_k(k, exclude_self=exclude_self, block_rows=block_rows, rows=rows)


class SimilarityOperands:
    """What :func:`top_k_similarity` computes over all the vectors before its blocks.

    The query vectors, the reference vectors transposed (the right operand
    of the product, as CSR) and each vector's norm or set size. Built once,
    it serves any number of ``top_k(rows=...)`` calls, each computing only
    its block of query rows; it holds no closures, so it pickles:
    ``recsys.distributed.ItemKNN`` builds it once per fit on a cluster and
    every task reuses it. The parameters are those of top_k_similarity.
    """

    def __init__(self, query, reference, *, similarity="cosine", shrink=0.0, alpha=0.5, normalize=True):
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}; got {similarity!r}.")
        self.query = sp.csr_matrix(query, dtype=np.float64)
        reference = sp.csr_matrix(reference, dtype=np.float64)
        self.shrink = shrink
        self.kind = "jaccard" if similarity == "jaccard" else "scaled" if normalize else "dot"
        if self.kind == "jaccard":
            self.query_size = np.diff(self.query.indptr).astype(np.float64)
            self.reference_size = np.diff(reference.indptr).astype(np.float64)
        elif self.kind == "scaled":
            query_norm = np.sqrt(np.asarray(self.query.multiply(self.query).sum(axis=1)).ravel())
            reference_norm = np.sqrt(np.asarray(reference.multiply(reference).sum(axis=1)).ravel())
            query_exponent = 2.0 * alpha if similarity == "asymmetric" else 1.0
            reference_exponent = 2.0 * (1.0 - alpha) if similarity == "asymmetric" else 1.0
            self.query_scale = query_norm ** query_exponent
            self.reference_scale = reference_norm ** reference_exponent
        self.right = sp.csr_matrix(reference.T)

    def _transform_block(self, block, rows, columns):
        if self.kind == "jaccard":
            union = self.query_size[rows][:, None] + self.reference_size[columns][None, :] - block + self.shrink
            return _safe_divide(block, union)
        denominator = self.query_scale[rows][:, None] * self.reference_scale[columns][None, :]
        # A vector without entries has no similarity, whatever the shrink.
        denominator[denominator > 0] += self.shrink
        return _safe_divide(block, denominator)

    def top_k(self, k, *, exclude_self=False, block_rows=None, rows=None):
        """The top_k_similarity of the given query rows (all by default), the other rows empty."""
        return top_k_product(self.query, self.right, k,
                             transform_block=None if self.kind == "dot" else self._transform_block,
                             exclude_diagonal=exclude_self, block_rows=block_rows, rows=rows)


def top_n_of_rows(matrix, rows, n):
    """(ids, scores) of the n largest stored entries of the given rows of a CSR matrix.

    Short rows are padded with id -1 and score -inf.
    """
    ids = np.full((len(rows), n), -1, dtype=np.int64)
    scores = np.full((len(rows), n), -np.inf)
    for position, row in enumerate(rows):
        entries = slice(matrix.indptr[row], matrix.indptr[row + 1])
        columns, values = matrix.indices[entries], matrix.data[entries]
        # Best first, ties by the lower id, like recommend.
        order = np.lexsort((columns, -values))[:n]
        ids[position, :len(order)] = columns[order]
        scores[position, :len(order)] = values[order]
    return ids, scores


def knn_parameter_constraints():
    """The ``_parameter_constraints`` that ItemKNN and UserKNN share."""
    from numbers import Integral, Real

    from sklearn.utils._param_validation import Interval, StrOptions

    return {
        "k": [Interval(Integral, 1, None, closed="left")],
        "similarity": [StrOptions(set(SIMILARITIES))],
        "shrink": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "normalize": ["boolean"],
    }
