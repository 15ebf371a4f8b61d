"""Validation of the inputs recommenders and rating predictors take.

Every error says what was wrong and how to fix it, so a user never has to read
recsys' source to understand a rejected input.
"""

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp


def check_interaction_matrix(X, *, n_items=None, dtype=np.float32, allow_empty=False, name="X"):
    """Return X as a canonical users x items CSR matrix.

    Parameters
    ----------
    X : sparse matrix, ndarray or :class:`~recsys.datasets.Interactions`
        Interactions, one row per user and one column per item. An
        ``Interactions`` object is converted with ``to_csr(values="auto")``.
    n_items : int, default=None
        Expected number of columns (the number of items seen in ``fit``).
    dtype : numpy dtype, default=np.float32
        dtype of the returned matrix.
    allow_empty : bool, default=False
        Whether a matrix without any stored interaction is acceptable.
    name : str, default="X"
        Name of the argument, used in error messages.

    Returns
    -------
    X : scipy.sparse.csr_matrix
        A copy (or a view when no conversion was needed) with sorted indices,
        no explicit zeros and no duplicates.
    """
    from recsys.datasets import Interactions

    if isinstance(X, Interactions):
        X = X.to_csr(values="auto")
    if isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{name} is a DataFrame; recommenders take a users x items sparse matrix. "
            "Build one with recsys.datasets.Interactions.from_pandas(df, ...).to_csr()."
        )
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=dtype)
    else:
        array = np.asarray(X)
        if array.dtype == object:
            raise TypeError(f"{name} must be numeric; got an array of Python objects.")
        if array.ndim != 2:
            raise ValueError(
                f"{name} must be 2-dimensional (users x items); got shape {array.shape}. "
                "Use X.reshape(1, -1) for a single user."
            )
        X = sp.csr_matrix(array.astype(dtype, copy=False))
    if n_items is not None and X.shape[1] != n_items:
        raise ValueError(
            f"{name} has {X.shape[1]} columns but the model was fitted on {n_items} items; "
            "the columns of X must be the items of the training matrix, in the same order."
        )
    if X.nnz and not np.isfinite(X.data).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; drop or impute them before fitting "
            "(e.g. X.data = np.nan_to_num(X.data))."
        )
    if X.nnz and X.data.min() < 0:
        raise ValueError(
            f"{name} contains negative interaction weights (min {X.data.min():g}); "
            "recommenders take non-negative counts or confidences. Shift or clip them first."
        )
    if not allow_empty and X.nnz == 0:
        raise ValueError(
            f"{name} holds no interaction ({X.shape[0]} rows, none with a stored entry); "
            "fit needs at least one."
        )
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    return X


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
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)
