"""SLIM: sparse linear item-item model (Ning & Karypis 2011)."""

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet
from sklearn.utils._param_validation import Interval, StrOptions

from recsys.base import BaseRecommender
from recsys.linear._ease import available_memory_bytes
from recsys.linear._slim_kernels import solve_item

# Items per parallel task. Warm starts chain within a block only, so a fixed
# block size (not one derived from n_jobs) keeps W the same whatever n_jobs.
_ITEMS_PER_BLOCK = 256


def _largest_weights(weights, k):
    """(rows, values) of the non-zero weights of a column, only its k largest if k is set."""
    kept = np.flatnonzero(weights)
    if k is not None and len(kept) > k:
        kept = kept[np.argpartition(-weights[kept], k - 1)[:k]]
    return kept, weights[kept]


def _stack_columns(items, columns):
    """(rows, cols, values) of a block from its fitted columns ``{item: (rows, values)}``."""
    fitted = [item for item in items if item in columns]
    if not fitted:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    rows = np.concatenate([columns[item][0] for item in fitted])
    cols = np.concatenate([np.full(len(columns[item][0]), item) for item in fitted])
    values = np.concatenate([columns[item][1] for item in fitted])
    return rows, cols, values


def _fit_item_block_gram(gram, items, l1, l2, positive, max_iter, tol, k):
    """Fit a block of items by coordinate descent on the Gram matrix (see ``_slim_kernels``)."""
    weights = np.zeros(gram.shape[0])
    columns = {}
    for item in items:
        if gram[item, item] == 0.0:
            continue
        # Warm start from the previous item, whose own weight may be non-zero here.
        weights[item] = 0.0
        solve_item(gram, item, weights, l1, l2, positive, max_iter, tol)
        columns[item] = _largest_weights(weights, k)
    return _stack_columns(items, columns)


def _fit_item_block_elasticnet(X, items, alpha, l1_ratio, positive, max_iter, tol, k):
    """Fit the elastic nets of a block of items; return the (rows, cols, values) of their weights."""
    X = X.copy()  # each block zeroes its own target columns
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive, fit_intercept=False,
                       copy_X=False, precompute=False, max_iter=max_iter, tol=tol,
                       warm_start=True, selection="cyclic")
    columns = {}
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
        columns[item] = _largest_weights(weights, k)
    return _stack_columns(items, columns)


class SLIM(BaseRecommender):
    """Sparse LInear Method: one elastic-net regression per item (Ning & Karypis 2011).

    Column j of the item-item matrix W solves
    ``min_w 1/2 ||x_j - X w||^2 + l2/2 ||w||^2 + l1 ||w||_1`` subject to
    ``w_j = 0`` (and ``w >= 0`` when ``positive``), with X the users x items
    training matrix whose column j is zeroed while fitting j. A user's scores
    are ``x_u @ W``.

    Both solvers run cyclic coordinate descent warm-started from the previous
    item and stop on scikit-learn's certificate, a duality gap of at most
    ``tol * ||x_j||^2``, so they agree to within ``tol`` (up to ``max_iter``).
    ``"elasticnet"`` fits scikit-learn's
    :class:`~sklearn.linear_model.ElasticNet` on the sparse X, whose objective
    is divided by the number of users n: ``alpha = (l1 + l2) / n`` and
    ``l1_ratio = l1 / (l1 + l2)`` give exactly the objective above, so l1 and
    l2 do not need retuning when the number of users changes. ``"gram"`` works
    on the dense ``G = X^T X`` (``X^T x_j`` is ``G[:, j]``, so no step touches
    the users) with a numba kernel that alternates full sweeps with solving on
    the current support (see ``recsys/linear/_slim_kernels.py``).

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
    solver : {"elasticnet", "gram"}, default="elasticnet"
        ``"gram"`` needs ``8 * n**2`` bytes for G (n the items with at least
        one interaction) and pays off when X has
        many interactions per item (on ML-1M, 3706 items: 2.5x faster than
        ``"elasticnet"`` with 4027 users, 1.8x slower with 1000);
        ``"elasticnet"`` needs memory proportional to X only.
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
    >>> SLIM(l1=0.01, l2=0.1, solver="gram").fit(X).recommend(sp.csr_matrix([[1, 0, 0, 0]]), n=1)[0]
    array([[1]])
    """

    _fitted_shapes: ClassVar[dict] = {"coef_": ("n_items_", "n_items_")}
    _parameter_constraints: ClassVar[dict] = {
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "positive": ["boolean"],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"gram", "elasticnet"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, l1=1.0, l2=10.0, positive=True, k=None, max_iter=100, tol=1e-4,
                 solver="elasticnet", n_jobs=None):
        self.l1 = l1
        self.l2 = l2
        self.positive = positive
        self.k = k
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.n_jobs = n_jobs

    def _fit(self, X):
        if self.l1 + self.l2 <= 0:
            raise ValueError(
                "l1 + l2 must be positive: without any penalty every item is "
                "reconstructed exactly by its co-occurring items. Set l1 or l2 > 0."
            )
        X = sp.csc_matrix(X, dtype=np.float64)
        n_users, n_items = X.shape
        # An item nobody interacted with has a zero column: its weights, in and
        # out, are zero. Fitting the items in use only keeps the cost in
        # proportion to them, not to the catalogue.
        used_items = np.flatnonzero(np.diff(X.indptr))
        X = X[:, used_items]
        blocks = [np.arange(start, min(start + _ITEMS_PER_BLOCK, len(used_items)))
                  for start in range(0, len(used_items), _ITEMS_PER_BLOCK)]
        if self.solver == "gram":
            gram = self._gram_matrix(X)
            # The numba kernel releases the GIL, so threads share G without copies.
            parts = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(_fit_item_block_gram)(gram, block, float(self.l1), float(self.l2),
                                              self.positive, self.max_iter, self.tol, self.k)
                for block in blocks
            )
        else:
            alpha = (self.l1 + self.l2) / n_users
            l1_ratio = self.l1 / (self.l1 + self.l2)
            parts = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_item_block_elasticnet)(X, block, alpha, l1_ratio, self.positive,
                                                    self.max_iter, self.tol, self.k)
                for block in blocks
            )
        rows = used_items[np.concatenate([np.empty(0, np.int64)] + [part[0] for part in parts])]
        columns = used_items[np.concatenate([np.empty(0, np.int64)] + [part[1] for part in parts])]
        values = np.concatenate([np.empty(0)] + [part[2] for part in parts])
        self.coef_ = sp.csr_matrix((values, (rows, columns)), shape=(n_items, n_items))

    @staticmethod
    def _gram_matrix(X):
        n_items = X.shape[1]
        needed = n_items**2 * np.dtype(np.float64).itemsize
        available = available_memory_bytes()
        if available is not None and needed > available:
            raise MemoryError(
                f"SLIM(solver='gram') needs about {needed / 2**30:.1f} GiB for the dense "
                f"{n_items} x {n_items} float64 Gram matrix (items in use) but only "
                f"{available / 2**30:.1f} GiB is available. Use solver='elasticnet' "
                "(slower, memory proportional to X) or drop rare items."
            )
        return np.ascontiguousarray((X.T @ X).toarray())

    def _score(self, X):
        return (X @ self.coef_).toarray()

    def _explain(self, history, item):
        """Contribution of each history item j to the score of item: x_uj * W[j, item]."""
        return history.data * self.coef_[history.indices][:, [item]].toarray().ravel()
