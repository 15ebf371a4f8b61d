"""Gini index of how recommendations are spread over the catalogue."""

import numpy as np

from recsys.metrics._exposure import item_exposure


def gini_index(y_pred, n_items, k=10):
    """Gini coefficient of the item exposure in the top-k lists.

    Each catalogue item's exposure is the number of lists whose top k hold
    it; items never recommended count with exposure 0. The index is 0 when
    every item is recommended equally often and approaches 1 when the same
    few items are recommended to everyone (Fleder & Hosanagar 2009). With
    exposures x sorted increasingly, G = sum_i (2i - n - 1) x_i / (n sum x).

    Parameters
    ----------
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    n_items : int
        Size of the catalogue.
    k : int, default=10

    Returns
    -------
    float
        In [0, 1 - 1/n_items]; NaN when no item is recommended at all.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import gini_index
    >>> gini_index(np.array([[0, 1], [1, 0]]), n_items=2, k=2)
    0.0
    >>> gini_index(np.array([[0], [0]]), n_items=2, k=1)
    0.5
    """
    exposure = np.sort(item_exposure(y_pred, n_items, k)).astype(np.float64)
    total = exposure.sum()
    if total == 0:
        return float("nan")
    n = len(exposure)
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    return float(weights @ exposure / (n * total))
