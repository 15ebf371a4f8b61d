"""Recall at k (trec_eval's recall_k, or the truncated recall of VAE-CF and EASE)."""

import numpy as np

from recsys.metrics._ranking import (
    evaluate_ranking_metric,
    hit_statistics,
    n_relevant,
)

_DENOMINATORS = ("relevant", "min_k")


def recall_at_k(y_true, y_pred, k=10, *, denominator="relevant", average=True):
    """Share of a user's relevant items found in the top k.

    Parameters
    ----------
    y_true : sparse matrix or ndarray of shape (n_users, n_items)
        Relevance grades; 0 means not relevant.
    y_pred : ndarray of shape (n_users, >= k)
        Ranked item indices, best first; -1 pads short lists.
    k : int, default=10
    denominator : {"relevant", "min_k"}, default="relevant"
        Divide the number of hits by the number of relevant items (trec_eval's
        ``recall_k``), or by ``min(k, n_relevant)`` so that a perfect top k
        scores 1 even for users with more than k relevant items (Liang et al.
        2018, VAE-CF; Steck 2019, EASE).
    average : bool, default=True
        Return the mean over users with at least one relevant item; else the
        per-user values, NaN for users without relevant items.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.metrics import recall_at_k
    >>> y_true = np.array([[1, 1, 1, 0]])
    >>> recall_at_k(y_true, np.array([[0, 3]]), k=2)
    0.3333333333333333
    >>> recall_at_k(y_true, np.array([[0, 3]]), k=2, denominator="min_k")
    0.5
    """
    if denominator not in _DENOMINATORS:
        raise ValueError(f"denominator must be one of {_DENOMINATORS}; got {denominator!r}.")
    return evaluate_ranking_metric(_recall, y_true, y_pred, k, average, denominator=denominator)


def _recall(relevance, y_true, denominator="relevant"):
    relevant = n_relevant(y_true)
    if denominator == "min_k":
        relevant = np.minimum(relevant, relevance.shape[1])
    n_hits, _ = hit_statistics(relevance)
    return np.divide(n_hits, relevant, out=np.zeros(len(n_hits)), where=relevant > 0)
