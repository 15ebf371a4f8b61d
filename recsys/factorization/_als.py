"""Implicit-feedback alternating least squares (Hu, Koren and Volinsky 2008)."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.linalg
from sklearn.utils._param_validation import Interval

from recsys.factorization._implicit_common import (
    FactorRecommender,
    ImplicitFactorRecommender,
    implicit_random_state,
)
from recsys.utils import limit_blas_threads
from recsys.utils._renamed_params import DEPRECATED


def confidence_fold_in(item_factors, confidence, regularization):
    """User factors of the rows of ``confidence`` by the exact weighted least-squares solve.

    For every row u, solves ``(Y^T C_u Y + regularization * I) x_u = Y^T C_u p_u``
    with Y the item factors, C_u the diagonal of confidences (the stored
    entries of row u, 1 elsewhere) and p_u 1 on the stored entries, 0
    elsewhere: implicit's ``recalculate_user`` equations, solved for all rows
    at once by implicit's Cholesky solver. Shared by :class:`ALS` and
    ``recsys.distributed.SparkALS``, whose confidence conventions differ.

    Parameters
    ----------
    item_factors : ndarray of shape (n_items, n_factors), float32
    confidence : csr_matrix of shape (n_rows, n_items)
        Positive confidences on the interacted items.
    regularization : float

    Returns
    -------
    user_factors : ndarray of shape (n_rows, n_factors), float32
    """
    from implicit.cpu._als import _least_squares

    user_factors = np.zeros((confidence.shape[0], item_factors.shape[1]), dtype=np.float32)
    with limit_blas_threads():
        _least_squares(item_factors.T @ item_factors, confidence.indptr, confidence.indices,
                       confidence.data.astype(np.float32, copy=False), user_factors,
                       item_factors, float(regularization), num_threads=0)
    return user_factors


class ALS(ImplicitFactorRecommender):
    """Alternating least squares for implicit feedback, fitted by ``implicit``.

    Factorises the users x items matrix X with the weighted least squares of
    Hu, Koren and Volinsky (2008), as implemented by
    ``implicit.cpu.als.AlternatingLeastSquares``: the preference p_ui is 1
    where X[u, i] > 0 and 0 elsewhere, with confidence c_ui = ``alpha * X[u, i]``
    on the stored entries and 1 on the others (implicit's convention, so that
    with ``alpha=1`` a count of 1 weighs like a missing entry; use counts or
    ``alpha > 1`` to give positives more weight). Fitting runs implicit with
    one BLAS thread, so the factors are exactly those of
    ``AlternatingLeastSquares`` called with the same parameters, seed and data.

    ``recommend`` folds in each row u of X by the exact least-squares solve
    ``(Y^T C_u Y + regularization * I) x_u = Y^T C_u p_u`` against the item
    factors Y (implicit's ``recalculate_user`` equations, solved for all rows
    at once by implicit's Cholesky solver).

    Parameters
    ----------
    n_factors : int, default=100
        Number of latent factors.
    regularization : float, default=0.01
        L2 penalty on the factors.
    alpha : float, default=1.0
        Confidence scale: confidence = alpha * X on the stored entries.
    n_epochs : int, default=15
        Number of alternating sweeps.
    use_cg : bool, default=True
        Solve the fit's least-squares steps approximately by conjugate gradient
        (3 steps, warm-started; much faster) rather than exactly by Cholesky.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial factors, passed to implicit.
    retrieval : None, str or FaissNearestNeighbors, default=None
        None ranks by exact scores of every item. An index spec (``"flat"``,
        ``"hnsw"``, ``"ivf"``, ``"ivfpq"`` or a faiss factory string) or a
        :class:`~recsys.neighbors.FaissNearestNeighbors` of metric ``"ip"``
        (cloned) makes fit index the item factors and ``recommend`` search that
        index (maximum inner product search; see ``FactorRecommender``).

    factors : "deprecated"
        Old name of ``n_factors`` (implicit's): accepted until the next release,
        with a FutureWarning.
    iterations : "deprecated"
        Old name of ``n_epochs``: accepted until the next release, with a
        FutureWarning.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors), float32
    item_factors_ : ndarray of shape (n_items, n_factors), float32
    retrieval_index_ : FaissNearestNeighbors or None
        The fitted index over ``item_factors_`` when ``retrieval`` is set.
    n_items_ : int

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.factorization import ALS
    >>> X = make_interactions(200, 60, density=0.1, random_state=0).to_csr()
    >>> model = ALS(n_factors=8, n_epochs=5, random_state=0).fit(X)
    >>> ids, scores = model.recommend(X[:3], n=5)
    >>> ids.shape
    (3, 5)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "use_cg": ["boolean"],
        "random_state": ["random_state"],
        **FactorRecommender._retrieval_constraint,
        **ImplicitFactorRecommender._renamed_constraint,
    }

    def __init__(self, n_factors=100, regularization=0.01, alpha=1.0, n_epochs=15,
                 use_cg=True, random_state=None, retrieval=None, *,
                 factors=DEPRECATED, iterations=DEPRECATED):
        self.n_factors = n_factors
        self.regularization = regularization
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.use_cg = use_cg
        self.random_state = random_state
        self.retrieval = retrieval
        self.factors = factors
        self.iterations = iterations

    def _make_implicit_model(self):
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=self._param("n_factors"), regularization=self.regularization, alpha=self.alpha,
            iterations=self._param("n_epochs"), use_cg=self.use_cg,
            random_state=implicit_random_state(self.random_state),
        )

    def _fold_in(self, X):
        confidence = X if self.alpha == 1.0 else X * np.float32(self.alpha)
        return confidence_fold_in(self.item_factors_, confidence, self.regularization)

    def _explain(self, history, item):
        """Contribution of each history item j to the score of item, as implicit's ``explain``.

        The folded-in user factor is ``x_u = W_u sum_j c_uj y_j`` with
        ``W_u = (Y^T C_u Y + regularization I)^-1``, so the score
        ``y_item . x_u`` splits into ``c_uj (y_item^T W_u y_j)`` per history
        item j (Hu, Koren and Volinsky 2008, section 5), computed here from
        the Cholesky factor of ``W_u^-1`` in float64.
        """
        item_factors = self.item_factors_.astype(np.float64)
        confidence = history.data.astype(np.float64) * self.alpha
        history_factors = item_factors[history.indices]
        gram = item_factors.T @ item_factors + (history_factors.T * (confidence - 1.0)) @ history_factors
        gram[np.diag_indices_from(gram)] += self.regularization
        weighted_item = scipy.linalg.cho_solve(scipy.linalg.cho_factor(gram), item_factors[item])
        return confidence * (history_factors @ weighted_item)
