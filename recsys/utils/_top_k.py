"""Top-k rankings as recsys returns them: (ids, scores), -1 / -inf where nothing is left."""

import numpy as np
import scipy.sparse as sp

from recsys.utils._validation import check_positive_int


def top_k(scores, k, exclude=None, *, overwrite_scores=False):
    """Return (ids, scores) of the k best entries of each row of a dense score matrix.

    Ties are broken by the lower column index; excluded and NaN entries are
    never returned; missing places hold id -1 and score -inf.

    Parameters
    ----------
    scores : array-like of shape (n_rows, n_items)
    k : int
    exclude : sparse matrix or boolean array of the shape of scores, default=None
        Entries never returned.
    overwrite_scores : bool, default=False
        Whether ``scores`` may be modified in place (excluded entries set to
        -inf, NaN to -inf): saves a copy for callers who own the array, such
        as a block of scores they have just computed. By default ``scores`` is
        copied before the first write, and only then.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[0.5, np.nan, 2.0]])
    >>> top_k(scores, 2)
    (array([[2, 0]]), array([[2. , 0.5]]))
    >>> bool(np.isnan(scores[0, 1]))  # left as it was
    True
    """
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-d (users x items); got shape {scores.shape}.")
    check_positive_int(k, "k")
    owned = overwrite_scores and scores.flags.writeable
    if not np.issubdtype(scores.dtype, np.floating):
        scores, owned = scores.astype(np.float64), True
    # Only exclusions and non-finite scores need writes: finite scores without
    # exclusions are ranked as they are, without a copy.
    needs_writes = exclude is not None or not np.isfinite(scores).all()
    if needs_writes and not owned:
        scores = scores.copy()
    n_rows, n_items = scores.shape
    if exclude is not None:
        if sp.issparse(exclude):
            exclude = sp.coo_matrix(exclude)
            scores[exclude.row, exclude.col] = -np.inf
        else:
            scores[np.asarray(exclude, dtype=bool)] = -np.inf
    if needs_writes:
        np.nan_to_num(scores, copy=False, nan=-np.inf, posinf=np.finfo(scores.dtype).max,
                      neginf=-np.inf)
    width = min(k, n_items)
    ids, top_scores = _sorted_top(scores, width)
    missing = ~np.isfinite(top_scores) & (top_scores < 0)
    ids[missing] = -1
    if width < k:
        ids = np.hstack([ids, np.full((n_rows, k - width), -1, dtype=np.int64)])
        top_scores = np.hstack([top_scores, np.full((n_rows, k - width), -np.inf)])
    return ids, top_scores


def pad_ranking(ids, scores, n):
    """implicit's topk (ids, scores) as recsys returns them: -1 / -inf where nothing is left.

    implicit marks filtered places with the lowest float32 and cannot return
    more columns than there are items.
    """
    # An empty batch has no width to infer: (0, 0), padded to (0, n) below.
    width = -1 if len(ids) else 0
    ids = np.asarray(ids, dtype=np.int64).reshape(len(ids), width)
    scores = np.asarray(scores, dtype=np.float64).reshape(len(ids), width)
    missing = scores <= -np.finfo(np.float32).max
    ids[missing], scores[missing] = -1, -np.inf
    width = ids.shape[1]
    if width < n:
        ids = np.hstack([ids, np.full((len(ids), n - width), -1, dtype=np.int64)])
        scores = np.hstack([scores, np.full((len(scores), n - width), -np.inf)])
    return ids, scores


def _sorted_top(scores, width):
    """The width best (ids, scores) of each row, ties broken by the lower column index."""
    n_items = scores.shape[1]
    all_items = np.broadcast_to(np.arange(n_items), scores.shape)
    if width == n_items:
        return _sort_candidates(scores, all_items)
    candidates = np.argpartition(-scores, width - 1, axis=1)[:, :width]
    # argpartition does not honour the tie-break at the cut: a row with more
    # items scoring the k-th best score than places left is redone over all
    # its items. A cut at -inf needs no redo: those places become padding.
    threshold = np.take_along_axis(scores, candidates, axis=1).min(axis=1)
    tied = (threshold > -np.inf) & ((scores >= threshold[:, None]).sum(axis=1) > width)
    ids, top_scores = _sort_candidates(scores, candidates)
    if tied.any():
        tied_ids, tied_scores = _sort_candidates(scores[tied], all_items[: tied.sum()])
        ids[tied], top_scores[tied] = tied_ids[:, :width], tied_scores[:, :width]
    return ids, top_scores


def _sort_candidates(scores, candidates):
    """Sort each row's candidate items by decreasing score, then increasing index."""
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    order = np.lexsort((candidates, -candidate_scores), axis=1)
    ids = np.take_along_axis(candidates, order, axis=1).astype(np.int64)
    return ids, np.take_along_axis(candidate_scores, order, axis=1)
