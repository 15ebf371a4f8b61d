"""Mean reciprocal rank within the top k (trec_eval's recip_rank, cut at k)."""

import numpy as np

from recsys.metrics._ranking import (
    average_over_users,
    check_ranking_inputs,
    hit_statistics,
    n_relevant,
    relevance_at_ranks,
)


def mrr_at_k(y_true, y_pred, k=10, *, average=True):
    """Reciprocal rank of the first relevant item in the top k, 0 if none.

    trec_eval's ``recip_rank`` looks at the whole list; with k at least the
    list length the two agree.

    Parameters
    ----------
    y_true : sparse matrix or ndarray of shape (n_users, n_items)
        Relevance grades; 0 means not relevant.
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    k : int, default=10
    average : bool, default=True
        Return the mean over users with at least one relevant item; else the
        per-user values, NaN for users without relevant items.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import mrr_at_k
    >>> y_true = np.array([[0, 0, 1, 1]])
    >>> mrr_at_k(y_true, np.array([[1, 3, 2]]), k=3)
    0.5
    """
    y_true, y_pred = check_ranking_inputs(y_true, y_pred, k)
    per_user = _reciprocal_rank(relevance_at_ranks(y_true, y_pred), y_true)
    return average_over_users(per_user, n_relevant(y_true) > 0, average)


def _reciprocal_rank(relevance, y_true):
    _, first_hit = hit_statistics(relevance)
    return np.divide(1.0, first_hit + 1.0, out=np.zeros(len(first_hit)), where=first_hit >= 0)
