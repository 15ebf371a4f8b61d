"""How often each item appears in the top k of a set of recommendation lists."""

import numpy as np

from recsys.utils import as_int64_indices, check_positive_int


def check_ranked_lists(y_pred, n_items, k):
    """Validate ranked lists against a catalogue; return the int64 top k (-1 padding)."""
    n_items = check_positive_int(n_items, "n_items")
    k = check_positive_int(k, "k")
    y_pred = np.asarray(y_pred)
    if y_pred.ndim != 2 or not np.issubdtype(y_pred.dtype, np.integer):
        raise ValueError(
            f"y_pred must be a 2-d integer array of ranked item indices; got shape {y_pred.shape} "
            f"and dtype {y_pred.dtype}."
        )
    if y_pred.shape[1] < k:
        raise ValueError(
            f"y_pred has {y_pred.shape[1]} ranked items per user but k={k}; pass a smaller k."
        )
    y_pred = as_int64_indices(y_pred[:, :k])
    if y_pred.size and (y_pred.min() < -1 or y_pred.max() >= n_items):
        raise ValueError(f"y_pred holds item indices outside [0, {n_items}) other than the -1 padding.")
    return y_pred


def item_exposure(y_pred, n_items, k):
    """Number of top-k lists each of the n_items items appears in."""
    y_pred = check_ranked_lists(y_pred, n_items, k)
    return np.bincount(y_pred[y_pred >= 0], minlength=n_items)
