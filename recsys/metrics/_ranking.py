"""Shared machinery of the ranking metrics: validation, relevance lookup, averaging.

:func:`evaluate_ranking_metric` is the one driver: a metric module supplies
only its per-user value from the relevance at the ranked positions. Every
ranking metric reduces to the (n_users, k) matrix of relevance grades
at the ranked positions plus, per user, the relevance grades of all relevant
items. The grades are found by a numba kernel that, for every user, reads
each ranked item's grade from the user's relevant items scattered by item
id, and checks the ranked ids in the same pass.
:func:`_relevance_at_ranks_reference` computes the same matrix with one
sparse element-wise product; tests compare the two.

The per-user kernels run on numba's threads (``numba.set_num_threads``).
Each user's result is computed by one thread alone and written to that
user's own slot, and nothing is summed across users inside a kernel, so
the results do not depend on the number of threads.
"""

import numba
import numpy as np
import scipy.sparse as sp
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from recsys.utils import as_int64_indices, check_positive_int, top_k

# How many users ahead the lookup kernel asks for the ranked lists: enough
# rows in flight to hide the memory latency at k=10 on 100-wide rankings.
_PREFETCH_USERS = 16


def check_ranking_inputs(y_true, y_pred, k):
    """Validate and return (y_true as canonical CSR float64, the first k columns of y_pred).

    A CSR matrix already in canonical format (sorted, no duplicates) is used
    without copying its indices; the caller's matrix is never modified. The
    item ids of y_pred are checked by :func:`relevance_at_ranks`, during the
    lookup, rather than by separate passes here.
    """
    check_positive_int(k, "k")
    y_true = _as_relevance_matrix(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim != 2:
        raise ValueError(
            f"y_pred must be a 2-d array of ranked item indices (users x ranks); got shape {y_pred.shape}."
        )
    if y_pred.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true has {y_true.shape[0]} users (rows) but y_pred has {y_pred.shape[0]}."
        )
    if y_pred.shape[1] < k:
        raise ValueError(
            f"y_pred has {y_pred.shape[1]} ranked items per user but k={k}; recommend at least k "
            "items (pad short lists with -1)."
        )
    if not np.issubdtype(y_pred.dtype, np.integer):
        raise TypeError(f"y_pred must hold integer item indices; got dtype {y_pred.dtype}.")
    y_pred = y_pred[:, :k]
    # Two signed dtypes keep the number of compiled kernel variants small;
    # unsigned ids could not hold the -1 padding anyway. Only the first k
    # columns are converted: the others are never read.
    if y_pred.dtype not in (np.int32, np.int64):
        y_pred = as_int64_indices(y_pred)
    return y_true, y_pred


def _as_relevance_matrix(y_true):
    """y_true as a CSR float64 matrix with sorted indices and no duplicate or zero entries."""
    if sp.issparse(y_true) and y_true.format == "csr" and y_true.has_canonical_format:
        # Shares indices and indptr with the caller's matrix.
        y_true = sp.csr_matrix(y_true, dtype=np.float64)
    else:
        # A copy, so that summing duplicates never reorders the caller's arrays.
        y_true = sp.csr_matrix(y_true, dtype=np.float64, copy=sp.issparse(y_true))
        y_true.sum_duplicates()
    if not y_true.nnz:
        return y_true
    # min and max propagate NaN, so two reductions check finiteness and sign.
    lowest, highest = y_true.data.min(), y_true.data.max()
    if not (np.isfinite(lowest) and np.isfinite(highest)):
        raise ValueError("y_true contains NaN or infinite relevance values.")
    if lowest < 0:
        raise ValueError("y_true contains negative relevance; relevance grades must be >= 0.")
    if lowest == 0:
        # Explicit zeros would count as relevant items; drop them from a private copy.
        y_true = y_true.copy()
        y_true.eliminate_zeros()
    return y_true


def relevance_at_ranks(y_true, y_pred):
    """Relevance grade of each ranked item: a float64 array shaped like y_pred.

    y_true and y_pred are as returned by :func:`check_ranking_inputs`; -1 in
    y_pred pads short lists. Raises when y_pred holds an id outside the
    catalogue or ranks an item twice for a user.
    """
    # One part of the users per thread. The count is read here: calling
    # numba.get_num_threads inside the kernel would keep numba from caching it.
    n_parts = min(numba.get_num_threads(), y_pred.shape[0])
    relevance, out_of_range, repeated = _lookup_relevance(
        y_true.indptr, y_true.indices, y_true.data, y_pred, y_true.shape[1], n_parts
    )
    # Each part of the users reports its own first bad user; the first
    # overall is the smallest, whichever part found it. An id out of range
    # anywhere wins over a repeat, as in the reference.
    if (out_of_range >= 0).any():
        _raise_out_of_range(y_true.shape[1], int(out_of_range[out_of_range >= 0].min()))
    if (repeated >= 0).any():
        _raise_repeated(int(repeated[repeated >= 0].min()))
    return relevance


@njit(parallel=True, cache=True, nogil=True)
def _lookup_relevance(indptr, indices, grades, ranked, n_items, n_parts):
    """(relevance, first user with an id out of range, first user with a repeat) of each part.

    The users are split into n_parts contiguous parts, one per thread; a
    part's entries are -1 where it found no such user. The relevance does
    not depend on n_parts, only the work of each thread does. A part stops
    at its first id out of range (its later relevance rows are left unset:
    the caller raises), and goes on past a repeat, so that an id out of
    range anywhere wins.
    """
    n_users = ranked.shape[0]
    # Every place is written by the lookup, so the rows need no zeroing
    # pass, and each thread touches (and maps) its own users' pages.
    relevance = np.empty(ranked.shape)
    out_of_range = np.full(n_parts, -1, dtype=np.int64)
    repeated = np.full(n_parts, -1, dtype=np.int64)
    for part in prange(n_parts):
        part_start = part * n_users // n_parts
        part_end = (part + 1) * n_users // n_parts
        out_of_range[part], repeated[part] = _lookup_users(
            indptr, indices, grades, ranked, n_items, part_start, part_end, relevance
        )
    return relevance, out_of_range, repeated


@njit(cache=True, nogil=True)
def _lookup_users(indptr, indices, grades, ranked, n_items, user_start, user_end, relevance):
    """Fill the relevance rows of users [user_start, user_end); return (first out of range, first repeat).

    Each user's relevant grades are scattered into a catalogue-sized array
    and cleared again after the user, so that every ranked item costs one
    read and no search. An id out of range stops the pass at once; a
    repeated id is remembered and the pass goes on. Either is -1 if none.
    """
    k = ranked.shape[1]
    grade_of = np.zeros(n_items)
    # last_ranked_by[item] is the last user who ranked the item: a repeat
    # within one list is found without sorting the list.
    last_ranked_by = np.full(n_items, -1, dtype=np.int64)
    first_repeat = -1
    # The ranked lists are usually the first k columns of a wider array, so
    # each user's list is a few cache lines apart from the next one's, and
    # reading them as they come waits on memory for every user. Asking for
    # them some users in advance made the pass three times faster on
    # 100-wide rankings at k=10 (and 1.4 times faster than the earlier
    # copy of blocks of lists into a buffer).
    for user in range(user_start, min(user_start + _PREFETCH_USERS, user_end)):
        _prefetch_row(ranked, user)
    for user in range(user_start, user_end):
        if user + _PREFETCH_USERS < user_end:
            _prefetch_row(ranked, user + _PREFETCH_USERS)
        row_start, row_end = indptr[user], indptr[user + 1]
        for entry in range(row_start, row_end):
            grade_of[indices[entry]] = grades[entry]
        for place in range(k):
            item = ranked[user, place]
            if item < 0 or item >= n_items:
                if item == -1:
                    relevance[user, place] = 0.0
                    continue
                return user, first_repeat
            if last_ranked_by[item] == user and first_repeat < 0:
                first_repeat = user
            last_ranked_by[item] = user
            relevance[user, place] = grade_of[item]
        for entry in range(row_start, row_end):
            grade_of[indices[entry]] = 0.0
    return -1, first_repeat


@njit(cache=True, nogil=True)
def _prefetch_row(matrix, row):
    """Ask the memory system for row ``row`` of a 2-d array, one request per cache line."""
    width = matrix.shape[1]
    for column in range(0, width, max(1, 64 // matrix.itemsize)):
        _prefetch(matrix, row, column)
    # The row may start mid-line and so end on one line more.
    _prefetch(matrix, row, width - 1)


@intrinsic
def _prefetch(typingctx, matrix, row, column):
    """Hint that ``matrix[row, column]`` will be read soon (LLVM's prefetch; numba has no such call).

    A hint only: it has no effect on what the program computes, so the
    kernels give the same results with or without it.
    """

    def codegen(context, builder, signature, args):
        matrix_type = signature.args[0]
        array = context.make_array(matrix_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(
            context, builder, matrix_type, array, [args[1], args[2]], wraparound=False
        )
        byte_pointer, int32 = cgutils.voidptr_t, ir.IntType(32)
        prefetch = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_pointer], ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32])
        )
        # Read (0), keep in all cache levels (3), data cache (1).
        builder.call(prefetch, [builder.bitcast(address, byte_pointer), int32(0), int32(3), int32(1)])
        return context.get_dummy_value()

    return types.void(matrix, row, column), codegen


def _relevance_at_ranks_reference(y_true, y_pred):
    """Numpy and scipy reference of :func:`relevance_at_ranks`, with the same checks and errors.

    The ranked lists become a CSR matrix holding rank + 1 at (user, item);
    its element-wise product with the pattern of y_true keeps exactly the
    ranked relevant items, with their ranks, for all users at once.
    """
    n_users, k = y_pred.shape
    n_items = y_true.shape[1]
    out_of_range = (y_pred >= n_items) | (y_pred < -1)
    if out_of_range.any():
        _raise_out_of_range(n_items, int(np.flatnonzero(out_of_range.any(axis=1))[0]))
    # Item indices in the dtype scipy would pick, so that it does not copy
    # them again; int32 also halves the cost of the duplicate check.
    index_dtype = np.int32 if max(n_items, y_pred.size) < 2**31 else np.int64
    items = y_pred.astype(index_dtype)
    _check_distinct(items)
    valid = items >= 0
    # int32 ranks and pattern: half the memory traffic of float64 in the product.
    rank_plus_one = np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), items.shape)
    if valid.all():
        indptr = np.arange(0, n_users * k + 1, k, dtype=index_dtype)
        ranks = sp.csr_matrix((rank_plus_one.ravel(), items.ravel(), indptr), shape=y_true.shape)
    else:
        indptr = np.zeros(n_users + 1, dtype=index_dtype)
        np.cumsum(valid.sum(axis=1), out=indptr[1:])
        ranks = sp.csr_matrix((rank_plus_one[valid], items[valid], indptr), shape=y_true.shape)
    # The rows of `ranks` are left unsorted: sorting them costs more than the
    # product itself, and scipy multiplies non-canonical CSR matrices exactly.
    relevant = sp.csr_matrix(
        (np.ones(y_true.nnz, dtype=np.int32), y_true.indices, y_true.indptr), shape=y_true.shape
    )
    found = sp.csr_matrix(ranks.multiply(relevant))
    found_rows = np.repeat(np.arange(n_users), np.diff(found.indptr))
    found_positions = found.data.astype(np.int64) - 1
    relevance = np.zeros(y_pred.shape, dtype=np.float64)
    if np.all(y_true.data == 1.0):
        relevance[found_rows, found_positions] = 1.0
    else:
        ranked = sp.csr_matrix((np.ones(ranks.nnz), ranks.indices, ranks.indptr), shape=y_true.shape)
        # Same operand patterns as `found`, so scipy emits the grades in the same order.
        relevance[found_rows, found_positions] = sp.csr_matrix(ranked.multiply(y_true)).data
    return relevance


def _check_distinct(y_pred):
    """Raise when a ranked list holds the same item twice (padding aside)."""
    if y_pred.shape[1] < 2:
        return
    ordered = np.sort(y_pred, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeated.any():
        _raise_repeated(int(np.flatnonzero(repeated.any(axis=1))[0]))


def _raise_out_of_range(n_items, user):
    raise ValueError(
        f"y_pred holds item indices outside [0, {n_items}) other than the -1 padding "
        f"(first for user {user}); rank only items of y_true's columns."
    )


def _raise_repeated(user):
    raise ValueError(
        f"y_pred ranks the same item more than once for user {user}; "
        "each ranked list must hold distinct item indices."
    )


@njit(parallel=True, cache=True, nogil=True)
def hit_statistics(relevance):
    """(number of relevant ranked items, place of the first one or -1) for each user."""
    n_users, k = relevance.shape
    n_hits = np.empty(n_users, dtype=np.int64)
    first_hit = np.empty(n_users, dtype=np.int64)
    for user in prange(n_users):
        hits, first = 0, -1
        for place in range(k):
            if relevance[user, place] > 0:
                if hits == 0:
                    first = place
                hits += 1
        n_hits[user], first_hit[user] = hits, first
    return n_hits, first_hit


def _hit_statistics_reference(relevance):
    """Numpy reference of :func:`hit_statistics`."""
    hits = relevance > 0
    n_hits = hits.sum(axis=1)
    return n_hits, np.where(n_hits > 0, hits.argmax(axis=1), -1)


def n_relevant(y_true):
    """Number of relevant items of each user (rows of a canonical CSR matrix)."""
    return np.diff(y_true.indptr)


def average_over_users(per_user, has_relevant, average):
    """Mean over the users with at least one relevant item, or the per-user array.

    Users without relevant items get NaN in the per-user array and are left out
    of the mean; the mean of no user is NaN.
    """
    if not average:
        return np.where(has_relevant, per_user, np.nan)
    if not has_relevant.any():
        return float("nan")
    if has_relevant.all():
        # The same mean without copying the users out first.
        return float(np.mean(per_user))
    return float(np.mean(per_user[has_relevant]))


def evaluate_ranking_metric(per_user, y_true, y_pred, k, average, **options):
    """The one driver of the ranking metrics: validate, look the relevance up, average.

    Parameters
    ----------
    per_user : callable
        ``per_user(relevance, y_true, **options)`` returns the metric of each
        user from the (n_users, k) relevance grades at the ranked positions and
        the validated CSR relevance matrix.
    y_true, y_pred, k, average
        As the ranking metrics take them (see :mod:`recsys.metrics`).
    **options
        Passed on to ``per_user`` (e.g. ``denominator``, ``gain``).

    Returns
    -------
    float or ndarray of shape (n_users,)
    """
    y_true, y_pred = check_ranking_inputs(y_true, y_pred, k)
    values = per_user(relevance_at_ranks(y_true, y_pred), y_true, **options)
    return average_over_users(values, n_relevant(y_true) > 0, average)


def ranking_from_scores(scores, k, exclude=None):
    """Turn a users x items score matrix into a (n_users, k) ranking.

    Parameters
    ----------
    scores : ndarray of shape (n_users, n_items)
        Higher is better. NaN scores are never ranked.
    k : int
        Length of each ranked list; lists with fewer than k rankable items
        are padded with -1.
    exclude : sparse matrix or bool ndarray of shape (n_users, n_items), default=None
        Entries that must not be ranked (e.g. items already seen).

    Returns
    -------
    ranking : ndarray of shape (n_users, k), int64
        Item indices, best first. Ties are broken by the lower item index,
        so the result is deterministic.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import ranking_from_scores
    >>> ranking_from_scores(np.array([[0.1, 0.9, 0.9, 0.3]]), k=3)
    array([[1, 2, 3]])
    """
    # A copy: top_k writes -inf over the excluded and NaN scores in place.
    ids, _ = top_k(np.array(scores, dtype=np.float64), k, exclude=exclude,
                   overwrite_scores=True)
    return ids
