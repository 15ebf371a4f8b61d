"""Errors of predicted ratings."""

import numpy as np

from recsys.utils import check_ratings


def _check_rating_pair(y_true, y_pred):
    y_true = check_ratings(y_true, np.asarray(y_true).reshape(-1).shape[0], name="y_true")
    if len(y_true) == 0:
        raise ValueError("y_true is empty: at least one rating is needed.")
    return y_true, check_ratings(y_pred, len(y_true), name="y_pred")


def rmse(y_true, y_pred):
    """Root mean squared error of predicted ratings.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted ratings.

    Returns
    -------
    float

    Examples
    --------
    >>> from recsys.metrics import rmse
    >>> rmse([4, 3, 5], [4, 5, 5])
    1.1547005383792515
    """
    y_true, y_pred = _check_rating_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred):
    """Mean absolute error of predicted ratings.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted ratings.

    Returns
    -------
    float

    Examples
    --------
    >>> from recsys.metrics import mae
    >>> mae([4, 3, 5], [4, 5, 5])
    0.6666666666666666
    """
    y_true, y_pred = _check_rating_pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))
