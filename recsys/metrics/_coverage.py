"""Catalogue coverage of a set of recommendation lists."""

import numpy as np

from recsys.metrics._exposure import item_exposure


def catalog_coverage(y_pred, n_items, k=10):
    """Share of the catalogue recommended to at least one user in a top k.

    Parameters
    ----------
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    n_items : int
        Size of the catalogue (items are indices 0..n_items-1).
    k : int, default=10

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import catalog_coverage
    >>> catalog_coverage(np.array([[0, 1], [1, -1]]), n_items=4, k=2)
    0.5
    """
    return float(np.count_nonzero(item_exposure(y_pred, n_items, k)) / n_items)
