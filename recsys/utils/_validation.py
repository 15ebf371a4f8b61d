"""Validation of the inputs recommenders and rating predictors take.

Every error says what was wrong and how to fix it, so a user never has to read
recsys' source to understand a rejected input.
"""

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp


def check_interaction_matrix(X, *, n_items=None, dtype=np.float32, allow_empty=False, name="X",
                             estimator=None):
    """Return X as a canonical users x items CSR matrix, never modifying X.

    Parameters
    ----------
    X : sparse matrix, ndarray or :class:`~recsys.datasets.Interactions`
        Interactions, one row per user and one column per item. An object
        with a ``to_csr`` method (``Interactions``) is converted with
        ``to_csr(values="auto")``.
    n_items : int, default=None
        Expected number of columns (the number of items seen in ``fit``).
    dtype : numpy dtype, default=np.float32
        dtype of the returned matrix.
    allow_empty : bool, default=False
        Whether a matrix without any non-zero interaction is acceptable.
    name : str, default="X"
        Name of the argument, used in error messages.
    estimator : estimator, default=None
        The fitted model ``n_items`` comes from, named in the error for a
        matrix of another width (scikit-learn's wording names the estimator).

    Returns
    -------
    X : scipy.sparse.csr_matrix
        With sorted indices, no explicit zeros and no duplicates. A CSR input
        already in that form shares its index arrays (and, when its dtype is
        ``dtype``, its values) with the result; any other input is copied
        before it is canonicalised, so the caller's arrays are never
        rewritten, even when several threads read them at once. The result
        must be treated as read-only.
    """
    if hasattr(X, "to_csr") and not sp.issparse(X):
        X = X.to_csr(values="auto")
    if isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{name} is a DataFrame; recommenders take a users x items sparse matrix. "
            "Build one with recsys.datasets.Interactions.from_pandas(df, ...).to_csr()."
        )
    if sp.issparse(X):
        _refuse_complex(X.dtype, name)
        X = sp.csr_matrix(X, dtype=dtype)
    else:
        array = np.asarray(X)
        _refuse_complex(array.dtype, name)
        if array.dtype == object:
            raise TypeError(f"{name} must be numeric; got an array of Python objects.")
        if array.ndim != 2:
            raise ValueError(
                f"{name} must be 2-dimensional (users x items); got shape {array.shape}. "
                "Reshape your data: X.reshape(1, -1) for a single user."
            )
        X = sp.csr_matrix(array.astype(dtype, copy=False))
    # The first sentences of these errors are scikit-learn's (its estimator
    # checks match on them); the rest says how to fix the input.
    if n_items is not None and X.shape[1] != n_items:
        fitted = "the model" if estimator is None else type(estimator).__name__
        raise ValueError(
            f"{name} has {X.shape[1]} features, but {fitted} is expecting {n_items} features as "
            f"input: the columns of {name} must be the {n_items} items of the training matrix, "
            "in the same order."
        )
    if X.shape[1] == 0 and not allow_empty:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required: "
            f"{name} has no item columns; fit needs a users x items matrix with at least one item."
        )
    if X.nnz and not np.isfinite(X.data).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; drop or impute them before fitting "
            "(e.g. X.data = np.nan_to_num(X.data))."
        )
    if X.nnz and X.data.min() < 0:
        raise ValueError(
            f"Negative values in data passed to {name}: negative interaction weights "
            f"(min {X.data.min():g}); "
            "recommenders take non-negative counts or confidences. Shift or clip them first."
        )
    if not X.has_canonical_format or not X.data.all():
        # csr_matrix(X) shares the caller's arrays where it can: canonicalising
        # in place would reorder and rewrite them under the caller (and under
        # another thread reading them), so work on a copy.
        X = X.copy()
        X.sum_duplicates()
        X.eliminate_zeros()
    # Checked after canonicalisation: a matrix of explicit zeros stores
    # entries but holds no interaction.
    if not allow_empty and X.nnz == 0:
        raise ValueError(
            f"{name} holds no interaction ({X.shape[0]} rows, none with a non-zero entry); "
            "fit needs at least one."
        )
    return X


def _refuse_complex(dtype, name):
    # numpy would cast complex to float with only a ComplexWarning, silently
    # dropping the imaginary part.
    if np.dtype(dtype).kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} has dtype {np.dtype(dtype)}; interactions are "
            f"real, non-negative weights. Pass np.abs({name}) or {name}.real if that is what it holds."
        )


def check_item_indices(items, n_items, name="items"):
    """Return ``items`` as an int64 vector of item indices in ``[0, n_items)``.

    Integers of any width are accepted, and floats only when they are whole
    numbers: 1.7 is not read as item 1, and a uint64 too large for int64 is
    reported, not wrapped round to a negative index.
    """
    array = np.asarray(items)
    if array.dtype == bool:
        raise TypeError(
            f"{name} must hold item indices, not a boolean mask; pass np.flatnonzero(mask)."
        )
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold integer item indices; got values of dtype {array.dtype} "
            f"(e.g. {array.ravel()[:3].tolist()}). Map original item ids to indices first, "
            "e.g. with Interactions.item_index(ids)."
        )
    array = array.ravel()
    if array.dtype.kind == "f":
        whole = np.isfinite(array) & (array == np.round(array))
        if not whole.all():
            raise ValueError(
                f"{name} must hold whole item indices; got {array[~whole][:3].tolist()}."
            )
    # Compared before any cast, so that no value wraps round into the range.
    outside = (array < 0) | (array >= n_items)
    if outside.any():
        raise ValueError(
            f"{name} must be item indices in [0, {n_items}); got {array[outside][:3].tolist()}."
        )
    return array.astype(np.int64)


def as_int64_indices(array, name="y_pred"):
    """Return an integer array of indices as int64, refusing what int64 cannot hold.

    A plain ``astype(np.int64)`` wraps uint64 values of 2**63 and more round
    to negative numbers: 2**64 - 1 would become -1, the padding of ranked
    lists, and the id would silently vanish instead of being reported.
    """
    array = np.asarray(array)
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(
            f"{name} holds the index {int(array.max())}, beyond any catalogue; item indices "
            "are in [0, n_items), with -1 padding short lists."
        )
    return array.astype(np.int64, copy=False)


def check_pairs(X, name="X"):
    """Return the (user, item) id columns of X as two 1-d arrays.

    X is an array or DataFrame with two columns (user ids, item ids), of any
    hashable type, as rating predictors take it.
    """
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 2:
            raise ValueError(
                f"{name} must have exactly two columns (user, item); got {list(X.columns)}."
            )
        users, items = X.iloc[:, 0].to_numpy(), X.iloc[:, 1].to_numpy()
    else:
        array = np.asarray(X)
        if array.ndim != 2 or array.shape[1] != 2:
            raise ValueError(
                f"{name} must be an array of (user, item) pairs of shape (n_samples, 2); "
                f"got shape {array.shape}."
            )
        users, items = array[:, 0], array[:, 1]
    if len(users) == 0:
        raise ValueError(f"{name} is empty: at least one (user, item) pair is needed.")
    missing = pd.isna(users) | pd.isna(items)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"{name} has {int(missing.sum())} pair(s) with a missing user or item id "
            f"(first at row {row}); drop them before fitting or predicting."
        )
    return users, items


#: How repeated (user, item) pairs are merged, by every entry point that takes events.
DUPLICATE_POLICIES = ("error", "sum", "mean", "first", "last")


def check_duplicates_policy(duplicates, name="duplicates"):
    """Raise a clear error unless ``duplicates`` is one of :data:`DUPLICATE_POLICIES`."""
    if not isinstance(duplicates, str) or duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"{name} must be one of {DUPLICATE_POLICIES}; got {duplicates!r}.")
    return duplicates


def merge_duplicate_pairs(users, items, duplicates="error", *, values=None, times=None,
                          describe_pair=None, name="X", how_to_merge=None):
    """Keep each (user, item) pair once, merging repeated pairs by one shared policy.

    :meth:`recsys.datasets.Interactions.from_pandas` and the ``fit`` of every
    rating predictor call this function, so that both accept the same policy
    names and treat repeated pairs the same way.

    Parameters
    ----------
    users, items : ndarray of int of shape (n_events,)
        Non-negative user and item codes of the events, in event order
        (time order when ``times`` is given).
    duplicates : {"error", "sum", "mean", "first", "last"}, default="error"
        Raise on a repeated pair; sum or average its ``values`` (keeping the
        time of its last event); or keep its first or last event.
    values : dict of str to ndarray of shape (n_events,), default=None
        Numeric columns to merge (ratings, weights).
    times : ndarray of shape (n_events,), default=None
        Timestamps, in non-decreasing order.
    describe_pair : callable, default=None
        ``describe_pair(event) -> (user_id, item_id)``: the original ids of an
        event, for the error message.
    name : str, default="X"
        Name of the input, used in error messages.
    how_to_merge : str, default=None
        End of the error message saying how to pass a policy.

    Returns
    -------
    events : ndarray of int64 of shape (n_pairs,)
        One event per distinct pair, in event order: the kept event for
        "first" and "last", the first event of the pair otherwise. Index
        ``users`` and ``items`` with it. Without repeated pairs, every event
        in its place, so that nothing downstream sees another order.
    values : dict of str to ndarray of shape (n_pairs,)
        The merged ``values``.
    times : ndarray of shape (n_pairs,) or None
        The time of each pair's kept (for "sum" and "mean": last) event.
    counts : ndarray of int64 of shape (n_pairs,) or None
        Number of events merged into each pair by "sum" or "mean"; None when
        no pair repeats or the policy keeps one event.

    Raises
    ------
    ValueError
        When a pair repeats and ``duplicates="error"``.
    """
    check_duplicates_policy(duplicates)
    values = {} if values is None else values
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    n_item_codes = int(items.max()) + 1 if items.size else 1
    key = users * n_item_codes + items
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts_group = np.ones(len(key), dtype=bool)
    starts_group[1:] = sorted_key[1:] != sorted_key[:-1]
    if starts_group.all():
        return np.arange(len(key)), dict(values), times, None
    if duplicates == "error":
        repeat = int(order[~starts_group].min())
        example = ""
        if describe_pair is not None:
            user, item = describe_pair(repeat)
            example = f", e.g. user {user!r} and item {item!r}"
        how_to_merge = how_to_merge or (
            f"pass duplicates= one of {DUPLICATE_POLICIES[1:]} to say how to merge them."
        )
        raise ValueError(
            f"{name} holds repeated (user, item) pairs ({int((~starts_group).sum())} event(s) "
            f"repeat an earlier pair){example}; {how_to_merge}"
        )
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], len(key))
    counts = (ends - starts).astype(np.int64)
    if duplicates in ("first", "last"):
        kept = np.sort(order[starts] if duplicates == "first" else order[ends - 1])
        merged = {column: np.asarray(v)[kept] for column, v in values.items()}
        return kept, merged, None if times is None else np.asarray(times)[kept], None
    # The pairs in the order of their first events (stable sort: order[starts]
    # is each pair's first event).
    event_order = np.argsort(order[starts], kind="stable")
    merged = {}
    for column, column_values in values.items():
        total = np.add.reduceat(np.asarray(column_values, dtype=np.float64)[order], starts)
        merged[column] = (total / counts if duplicates == "mean" else total)[event_order]
    # Events are in time order, so a pair's last event is its latest.
    latest = None if times is None else np.asarray(times)[order[ends - 1]][event_order]
    return order[starts][event_order], merged, latest, counts[event_order]


def check_ratings(y, n_samples, name="y"):
    """Return y as a finite float64 vector of length n_samples."""
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of ratings; got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError(f"{name} has {y.shape[0]} ratings for {n_samples} (user, item) pairs.")
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be numeric ratings: {error}") from None
    if not np.isfinite(y).all():
        raise ValueError(
            f"{name} contains {int((~np.isfinite(y)).sum())} NaN or infinite rating(s); "
            "drop those pairs before fitting."
        )
    return y


def check_positive_int(value, name, minimum=1):
    """Raise a clear error unless value is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {wanted}; got {value!r}.")
    return int(value)
