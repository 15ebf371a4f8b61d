"""Novelty: the self-information of the recommended items."""

import numpy as np

from recsys.metrics._exposure import check_ranked_lists
from recsys.utils import check_interaction_matrix


def novelty(y_pred, X_train, k=10, *, average=True):
    """Mean self-information -log2(p_i) of the items in each top k.

    p_i is the share of the users of ``X_train`` who interacted with item i
    (Zhou et al. 2010; Vargas & Castells 2011): recommending popular items
    gives low novelty. An item nobody interacted with is given the
    self-information of an item one user interacted with, log2(n_users), so
    the value stays finite. Padding (-1) is skipped; a user with an empty
    list gets NaN and is left out of the mean.

    Parameters
    ----------
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    X_train : sparse matrix or Interactions of shape (n_train_users, n_items)
        The interactions item popularity is measured on.
    k : int, default=10
    average : bool, default=True
        Return the mean over users with a non-empty list; else per-user values.

    Returns
    -------
    float or ndarray of shape (n_users,)
        In bits, in [0, log2(n_train_users)].

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from recsys.metrics import novelty
    >>> X_train = sp.csr_matrix([[1, 1], [1, 0], [1, 0], [1, 0]])
    >>> novelty(np.array([[1, 0]]), X_train, k=2)  # (log2(4) + log2(1)) / 2
    1.0
    """
    X_train = check_interaction_matrix(X_train, name="X_train")
    y_pred = check_ranked_lists(y_pred, X_train.shape[1], k)
    n_users = X_train.shape[0]
    users_per_item = np.maximum(np.bincount(X_train.indices, minlength=X_train.shape[1]), 1)
    information = np.log2(n_users / users_per_item)
    valid = y_pred >= 0
    total = np.where(valid, information[np.maximum(y_pred, 0)], 0.0).sum(axis=1)
    n_ranked = valid.sum(axis=1)
    per_user = np.divide(total, n_ranked, out=np.zeros(len(total)), where=n_ranked > 0)
    per_user = np.where(n_ranked > 0, per_user, np.nan)
    if not average:
        return per_user
    return float(np.nanmean(per_user)) if (n_ranked > 0).any() else float("nan")
