"""Intra-list diversity: how different the items of each list are."""

import numpy as np
import scipy.sparse as sp

from recsys.metrics._exposure import check_ranked_lists


def intra_list_diversity(y_pred, item_features, k=10, *, average=True):
    """Mean pairwise cosine distance between the items of each top k.

    ILD = 1 - mean over item pairs (i, j), i != j, of cos(f_i, f_j)
    (Ziegler et al. 2005), with f the rows of ``item_features`` (e.g. genre
    indicators or embeddings). It is computed without forming the pairs: for
    unit vectors, the sum of pairwise similarities is
    (||sum f||^2 - n) / 2. An item with an all-zero feature row is
    dissimilar (similarity 0) to every item. Padding (-1) is skipped; users
    with fewer than two items get NaN and are left out of the mean.

    Parameters
    ----------
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    item_features : ndarray or sparse matrix of shape (n_items, n_features)
    k : int, default=10
    average : bool, default=True
        Return the mean over users with at least two items; else per-user values.

    Returns
    -------
    float or ndarray of shape (n_users,)
        In [0, 2]; in [0, 1] for non-negative features.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import intra_list_diversity
    >>> genres = np.array([[1, 0], [1, 0], [0, 1]])
    >>> round(intra_list_diversity(np.array([[0, 1, 2]]), genres, k=3), 4)  # pairs: 0, 1, 1
    0.6667
    """
    features = sp.csr_matrix(item_features, dtype=np.float64)
    if not np.isfinite(features.data).all():
        raise ValueError("item_features contains NaN or infinite values; impute them first.")
    y_pred = check_ranked_lists(y_pred, features.shape[0], k)
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    unit = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ features
    valid = y_pred >= 0
    n_ranked = valid.sum(axis=1)
    lists = sp.csr_matrix(
        (np.ones(n_ranked.sum()), (np.repeat(np.arange(len(y_pred)), n_ranked), y_pred[valid])),
        shape=(len(y_pred), features.shape[0]),
    )
    summed = lists @ unit
    squared_norm_of_sum = np.asarray(summed.multiply(summed).sum(axis=1)).ravel()
    self_similarity = lists @ (norms > 0).astype(np.float64)
    pairs = n_ranked * (n_ranked - 1.0)
    has_pairs = n_ranked >= 2
    mean_similarity = np.divide(
        squared_norm_of_sum - self_similarity, pairs, out=np.zeros(len(pairs)), where=has_pairs
    )
    per_user = np.where(has_pairs, 1.0 - mean_similarity, np.nan)
    if not average:
        return per_user
    return float(np.nanmean(per_user)) if has_pairs.any() else float("nan")
