"""Top-N retrieval through a faiss index, for catalogues too large to score every item.

A model with vectors for its users and items (a factor model, item
embeddings) scores an item by an inner product. Instead of scoring the whole
catalogue, :func:`retrieve_top_n` asks a :class:`FaissNearestNeighbors` index
for the best candidates, drops the ones the caller excludes (seen items,
items outside a restriction), and ranks the rest by their exact score.
"""

import math

import numpy as np
from sklearn.base import clone

from recsys.retrieval._faiss import FaissNearestNeighbors

# Bounds the (rows x candidates x dimensions) block of gathered item vectors
# scored at once.
_GATHER_BLOCK_CELLS = 2**24


def make_retrieval_index(retrieval, metric, random_state=None):
    """The unfitted index a ``retrieval=`` parameter asks for.

    Parameters
    ----------
    retrieval : str or FaissNearestNeighbors
        An index spec of :class:`FaissNearestNeighbors` (``"flat"``, ``"hnsw"``,
        ``"ivf"``, ``"ivfpq"`` or a faiss factory string), or an instance,
        which is cloned.
    metric : {"ip", "cosine"}
        The similarity the caller ranks by; an instance must use it.
    random_state : int or None
        Seed of the index training, for a string spec.

    Returns
    -------
    FaissNearestNeighbors
    """
    if isinstance(retrieval, FaissNearestNeighbors):
        if retrieval.metric != metric:
            raise ValueError(
                f"retrieval ranks by {metric!r} here, but the FaissNearestNeighbors given has "
                f"metric={retrieval.metric!r}; pass FaissNearestNeighbors(metric={metric!r}, ...)."
            )
        return clone(retrieval)
    if isinstance(retrieval, str):
        return FaissNearestNeighbors(index=retrieval, metric=metric, random_state=random_state)
    raise ValueError(
        "retrieval must be None, an index spec string such as 'flat', 'hnsw' or 'ivf', or a "
        f"FaissNearestNeighbors instance; got {type(retrieval).__name__}."
    )


def retrieve_top_n(index, item_vectors, query_vectors, n, exclude=None, allowed=None):
    """The n items of highest inner product with each query, found through an index.

    The index is asked for ``n + m`` neighbours, m the most items excluded
    from any row of the batch, so that once a row's own excluded items are
    dropped n remain (exactly so for a flat index). With an ``allowed``
    restriction the width grows by the inverse of the allowed fraction; rows
    still short of n are searched again twice as wide, up to the whole
    catalogue. When that width would reach the number of allowed items, the
    allowed items are scored exactly instead, which is then cheaper.
    Candidates are ranked by their exact inner product with the query, so
    the scores returned are the model's own whatever the index.

    Parameters
    ----------
    index : FaissNearestNeighbors or None
        Fitted on ``item_vectors`` (or on vectors ranking like them); None
        scores every (allowed) item exactly.
    item_vectors : ndarray of shape (n_items, n_features)
    query_vectors : ndarray of shape (n_queries, n_features)
    n : int
    exclude : csr_matrix of shape (n_queries, n_items), default=None
        Items never returned for each query (its stored entries).
    allowed : ndarray of bool of shape (n_items,), default=None
        Only these items may be returned.

    Returns
    -------
    ids : ndarray of shape (n_queries, n), int64
        Best first; -1 where fewer than n items were found.
    scores : ndarray of shape (n_queries, n), float64
        Inner products; -inf where the id is -1.
    """
    n_queries, n_items = len(query_vectors), len(item_vectors)
    ids = np.full((n_queries, n), -1, dtype=np.int64)
    scores = np.full((n_queries, n), -np.inf)
    if n_queries == 0:
        return ids, scores
    n_excluded = np.diff(exclude.indptr) if exclude is not None else np.zeros(n_queries, dtype=np.int64)
    width = n + int(n_excluded.max())
    n_allowed = n_items if allowed is None else int(allowed.sum())
    if n_allowed == 0:
        return ids, scores
    width = min(n_items, math.ceil(width * n_items / n_allowed))
    if index is None or (allowed is not None and width >= n_allowed):
        candidates = np.broadcast_to(np.flatnonzero(allowed) if allowed is not None else np.arange(n_items),
                                     (n_queries, n_allowed))
        ids[:], scores[:] = _rank_candidates(item_vectors, query_vectors, candidates, n, exclude, allowed)
        return ids, scores
    pending = np.arange(n_queries)
    while pending.size:
        candidates = index.kneighbors(query_vectors[pending], n_neighbors=width, return_distance=False)
        rows_exclude = exclude[pending] if exclude is not None else None
        found_ids, found_scores = _rank_candidates(item_vectors, query_vectors[pending], candidates, n,
                                                   rows_exclude, allowed)
        ids[pending], scores[pending] = found_ids, found_scores
        # A row may have more to give only if the index filled every place.
        short = (found_ids[:, -1] < 0) & (candidates[:, -1] >= 0)
        if width >= n_items:
            break
        pending = pending[short]
        width = min(n_items, 2 * width)
    return ids, scores


def _rank_candidates(item_vectors, query_vectors, candidates, n, exclude, allowed):
    """Drop excluded and disallowed candidates; the n best of the rest by exact inner product."""
    n_rows, width = candidates.shape
    ids = np.full((n_rows, n), -1, dtype=np.int64)
    scores = np.full((n_rows, n), -np.inf)
    block = max(1, _GATHER_BLOCK_CELLS // max(width * item_vectors.shape[1], 1))
    for start in range(0, n_rows, block):
        rows = slice(start, start + block)
        block_candidates = np.asarray(candidates[rows], dtype=np.int64)
        keep = block_candidates >= 0
        safe = np.where(keep, block_candidates, 0)
        if allowed is not None:
            keep &= allowed[safe]
        if exclude is not None:
            keep &= ~_is_stored(exclude[rows], safe)
        block_scores = np.einsum("rd,rkd->rk", np.asarray(query_vectors[rows], dtype=np.float64),
                                 np.asarray(item_vectors[safe], dtype=np.float64))
        block_scores[~keep] = -np.inf
        order = np.argsort(-block_scores, axis=1, kind="stable")[:, :n]
        top_scores = np.take_along_axis(block_scores, order, axis=1)
        top_ids = np.where(np.isfinite(top_scores), np.take_along_axis(safe, order, axis=1), -1)
        ids[rows, :order.shape[1]], scores[rows, :order.shape[1]] = top_ids, top_scores
    return ids, scores


def _is_stored(matrix, columns):
    """Whether (row r, columns[r, j]) is a stored entry of the CSR matrix, for every r, j."""
    n_columns = matrix.shape[1]
    row_of_entry = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    stored_keys = np.sort(row_of_entry * n_columns + matrix.indices)
    keys = np.arange(len(columns), dtype=np.int64)[:, None] * n_columns + columns
    position = np.searchsorted(stored_keys, keys).clip(max=max(len(stored_keys) - 1, 0))
    return stored_keys[position] == keys if len(stored_keys) else np.zeros(keys.shape, dtype=bool)
