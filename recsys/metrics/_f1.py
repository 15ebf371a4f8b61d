"""F1 at k: the harmonic mean of precision at k and recall at k, per user."""

import numpy as np

from recsys.metrics._precision import _precision
from recsys.metrics._ranking import evaluate_ranking_metric
from recsys.metrics._recall import _recall


def f1_at_k(y_true, y_pred, k=10, *, average=True):
    """Harmonic mean of precision@k and recall@k, computed per user, then averaged.

    Precision and recall are those of :func:`precision_at_k` (denominator k,
    as trec_eval's ``P_k``) and :func:`recall_at_k` (denominator the number
    of relevant items, trec_eval's ``recall_k``). A user with no hit in the
    top k scores 0. The mean of the per-user F1 is not the F1 of the mean
    precision and recall.

    For pointwise predictions (a pair classifier's probabilities) use
    scikit-learn's ``precision_recall_fscore_support``, ``roc_auc_score`` and
    ``average_precision_score`` instead.

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
    >>> from recsys.metrics import f1_at_k
    >>> y_true = np.array([[1, 0, 1, 0], [0, 1, 0, 0]])
    >>> f1_at_k(y_true, np.array([[2, 1], [0, 3]]), k=2, average=False)
    array([0.5, 0. ])
    """
    return evaluate_ranking_metric(_f1, y_true, y_pred, k, average)


def _f1(relevance, y_true):
    precision = _precision(relevance, y_true)
    recall = _recall(relevance, y_true)
    total = precision + recall
    return np.divide(2.0 * precision * recall, total, out=np.zeros(len(total)), where=total > 0)
