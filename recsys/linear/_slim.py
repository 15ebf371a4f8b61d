"""SLIM: sparse linear item-item model (Ning & Karypis 2011)."""

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRecommender

# Items per parallel task. Warm starts chain within a block only, so a fixed
# block size (not one derived from n_jobs) keeps W the same whatever n_jobs.
_ITEMS_PER_BLOCK = 256


def _fit_item_block(X, items, alpha, l1_ratio, positive, max_iter, tol, k):
    """Fit the elastic nets of a block of items; return the (rows, cols, values) of their weights."""
    X = X.copy()  # each block zeroes its own target columns
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive, fit_intercept=False,
                       copy_X=False, precompute=False, max_iter=max_iter, tol=tol,
                       warm_start=True, selection="cyclic")
    rows, columns, values = [], [], []
    for item in items:
        entries = slice(X.indptr[item], X.indptr[item + 1])
        target = X[:, item].toarray().ravel()
        if not target.any():
            continue
        stored = X.data[entries].copy()
        X.data[entries] = 0.0
        if hasattr(model, "coef_"):
            # The zeroed column is skipped by coordinate descent, so a warm
            # start would otherwise keep the previous item's weight for it.
            model.coef_[item] = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, target)
        X.data[entries] = stored
        weights = model.coef_.copy()
        weights[item] = 0.0
        kept = np.flatnonzero(weights)
        if k is not None and len(kept) > k:
            kept = kept[np.argpartition(-weights[kept], k - 1)[:k]]
        rows.append(kept)
        columns.append(np.full(len(kept), item))
        values.append(weights[kept])
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return np.concatenate(rows), np.concatenate(columns), np.concatenate(values)


class SLIM(BaseRecommender):
    """Sparse LInear Method: one elastic-net regression per item (Ning & Karypis 2011).

    Column j of the item-item matrix W solves
    ``min_w 1/2 ||x_j - X w||^2 + l2/2 ||w||^2 + l1 ||w||_1`` subject to
    ``w_j = 0`` (and ``w >= 0`` when ``positive``), with X the users x items
    training matrix whose column j is zeroed while fitting j. A user's scores
    are ``x_u @ W``.

    The regressions use scikit-learn's :class:`~sklearn.linear_model.ElasticNet`
    on the sparse X, warm-started from the previous item, whose objective is
    divided by the number of users n: ``alpha = (l1 + l2) / n`` and
    ``l1_ratio = l1 / (l1 + l2)`` give exactly the objective above, so l1 and
    l2 do not need retuning when the number of users changes.

    Parameters
    ----------
    l1 : float >= 0, default=1.0
        L1 penalty (sparsity of W).
    l2 : float >= 0, default=10.0
        L2 penalty. ``l1 + l2`` must be positive.
    positive : bool, default=True
        Constrain the weights to be non-negative, as in the paper.
    k : int or None, default=None
        Keep only the k largest weights of each item (None keeps all).
    max_iter : int, default=100
        Coordinate-descent sweeps per item.
    tol : float, default=1e-4
        Coordinate-descent tolerance.
    n_jobs : int or None, default=None
        Parallel jobs over blocks of items (joblib; None is 1, -1 all cores).
        The result does not depend on it.

    Attributes
    ----------
    coef_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
        W, with an empty diagonal; an item nobody interacted with has an
        empty row and column.
    n_items_ : int

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.linear import SLIM
    >>> X = sp.csr_matrix([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = SLIM(l1=0.01, l2=0.1).fit(X)
    >>> model.recommend(sp.csr_matrix([[1, 0, 0, 0]]), n=1)[0]
    array([[1]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "positive": ["boolean"],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, l1=1.0, l2=10.0, positive=True, k=None, max_iter=100, tol=1e-4,
                 n_jobs=None):
        self.l1 = l1
        self.l2 = l2
        self.positive = positive
        self.k = k
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        self._validate_params()
        if self.l1 + self.l2 <= 0:
            raise ValueError(
                "l1 + l2 must be positive: without any penalty every item is "
                "reconstructed exactly by its co-occurring items. Set l1 or l2 > 0."
            )
        return super().fit(X, y)

    fit.__doc__ = BaseRecommender.fit.__doc__

    def _fit(self, X):
        X = sp.csc_matrix(X, dtype=np.float64)
        n_users, n_items = X.shape
        alpha = (self.l1 + self.l2) / n_users
        l1_ratio = self.l1 / (self.l1 + self.l2)
        blocks = [np.arange(start, min(start + _ITEMS_PER_BLOCK, n_items))
                  for start in range(0, n_items, _ITEMS_PER_BLOCK)]
        parts = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_item_block)(X, block, alpha, l1_ratio, self.positive,
                                     self.max_iter, self.tol, self.k)
            for block in blocks
        )
        rows = np.concatenate([part[0] for part in parts])
        columns = np.concatenate([part[1] for part in parts])
        values = np.concatenate([part[2] for part in parts])
        self.coef_ = sp.csr_matrix((values, (rows, columns)), shape=(n_items, n_items))

    def _score(self, X):
        return (X @ self.coef_).toarray()
