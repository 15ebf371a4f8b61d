"""Per-user area under the ROC curve of a score matrix."""

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from recsys.metrics._ranking import average_over_users


def auc_score(y_true, y_score, *, exclude=None, average=True):
    """Per-user ROC AUC: how often a relevant item outscores a non-relevant one.

    For each user, over the candidate items (all items whose score is not NaN
    and that ``exclude`` does not mark), the AUC is the share of
    (relevant, non-relevant) pairs in which the relevant item has the higher
    score, a tie counting one half (the Mann-Whitney U statistic divided by
    n_relevant * n_non_relevant). It is the per-row
    ``sklearn.metrics.roc_auc_score`` and the AUC of Rendle et al. (2009,
    BPR) when ``exclude`` holds the training items. A full ranking can be
    scored by passing ``-rank`` as the score. Users without a relevant or
    without a non-relevant candidate get NaN and are left out of the mean.

    Parameters
    ----------
    y_true : sparse matrix or ndarray of shape (n_users, n_items)
        Relevance; any value > 0 is relevant.
    y_score : ndarray of shape (n_users, n_items)
        Scores, higher is better; NaN marks an item that is not a candidate.
    exclude : sparse matrix or bool ndarray of shape (n_users, n_items), default=None
        Items that are not candidates either, e.g. the training interactions.
    average : bool, default=True
        Return the mean over users with a defined AUC; else the per-user values.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import auc_score
    >>> y_true = np.array([[1, 0, 1, 0]])
    >>> auc_score(y_true, np.array([[0.9, 0.8, 0.1, 0.2]]))  # 2 of 4 pairs right
    0.5
    """
    y_score = np.array(y_score, dtype=np.float64)
    if y_score.ndim != 2:
        raise ValueError(f"y_score must be a 2-d (users x items) score matrix; got shape {y_score.shape}.")
    relevant = sp.csr_matrix(y_true).toarray() > 0 if sp.issparse(y_true) else np.asarray(y_true) > 0
    if relevant.shape != y_score.shape:
        raise ValueError(
            f"y_true has shape {relevant.shape} but y_score has shape {y_score.shape}; "
            "both must be users x items."
        )
    if np.isposinf(y_score).any() or np.isneginf(y_score).any():
        y_score = np.clip(y_score, -np.finfo(np.float64).max, np.finfo(np.float64).max)
    if exclude is not None:
        mask = sp.csr_matrix(exclude).toarray() != 0 if sp.issparse(exclude) else np.asarray(exclude, bool)
        y_score[mask] = np.nan
    candidate = ~np.isnan(y_score)
    ranks = rankdata(y_score, axis=1, nan_policy="omit")
    relevant &= candidate
    n_positive = relevant.sum(axis=1)
    n_negative = candidate.sum(axis=1) - n_positive
    rank_sum = np.where(relevant, ranks, 0.0).sum(axis=1)
    pairs = n_positive * n_negative
    defined = pairs > 0
    u_statistic = rank_sum - n_positive * (n_positive + 1) / 2.0
    per_user = np.divide(u_statistic, pairs, out=np.zeros(len(pairs)), where=defined)
    return average_over_users(per_user, defined, average)
