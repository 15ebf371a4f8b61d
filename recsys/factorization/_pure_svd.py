"""PureSVD (Cremonesi, Koren and Turrin 2010)."""

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import randomized_svd

from recsys.factorization._implicit_common import (
    FactorRecommender,
)


class PureSVD(FactorRecommender):
    """Top-N recommendation by the truncated SVD of the interaction matrix.

    Computes ``X ~ U S V^T`` with ``n_factors`` components by scikit-learn's
    ``randomized_svd`` and scores the users whose interactions are the rows
    of X by ``X @ V @ V^T`` (Cremonesi et al. 2010): the projection of a row
    on the item space, so the fold-in of a new user is exact.

    Parameters
    ----------
    n_factors : int, default=50
        Number of singular components; at most min(n_users, n_items).
    random_state : int, RandomState instance or None, default=None
        Seed of the randomized SVD.
    retrieval : None, str or FaissNearestNeighbors, default=None
        None ranks by exact scores of every item. An index spec (``"flat"``,
        ``"hnsw"``, ``"ivf"``, ``"ivfpq"`` or a faiss factory string) or a
        :class:`~recsys.neighbors.FaissNearestNeighbors` of metric ``"ip"``
        (cloned) makes fit index the item factors and ``recommend`` search that
        index (maximum inner product search; see ``FactorRecommender``).

    Attributes
    ----------
    item_factors_ : ndarray of shape (n_items, n_factors), float32
        V, the right singular vectors.
    user_factors_ : ndarray of shape (n_users, n_factors), float32
        X V, the training users' coordinates (U S up to the SVD's precision).
    singular_values_ : ndarray of shape (n_factors,)
    retrieval_index_ : FaissNearestNeighbors or None
        The fitted index over ``item_factors_`` when ``retrieval`` is set.
    n_items_ : int

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.factorization import PureSVD
    >>> X = make_interactions(200, 60, density=0.1, random_state=0).to_csr()
    >>> model = PureSVD(n_factors=10, random_state=0).fit(X)
    >>> ids, scores = model.recommend(X[:2], n=3)
    >>> ids.shape
    (2, 3)
    """

    _fitted_shapes: ClassVar[dict] = {"singular_values_": ("n_components",)}
    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        **FactorRecommender._retrieval_constraint,
    }

    def __init__(self, n_factors=50, random_state=None, retrieval=None):
        self.n_factors = n_factors
        self.random_state = random_state
        self.retrieval = retrieval

    def _fit(self, X):
        if self.n_factors > min(X.shape):
            raise ValueError(
                f"n_factors={self.n_factors} exceeds min(n_users, n_items) = {min(X.shape)} "
                "of the training matrix; choose n_factors <= that."
            )
        _, singular_values, items_t = randomized_svd(
            X, self.n_factors, random_state=self.random_state
        )
        self.item_factors_ = np.ascontiguousarray(items_t.T, dtype=np.float32)
        # X V rather than the randomized U S, which approximates it: training
        # users then score exactly as their fold-in does.
        self.user_factors_ = np.asarray(X @ self.item_factors_, dtype=np.float32)
        self.singular_values_ = singular_values.astype(np.float32)

    def _fold_in(self, X):
        return np.asarray(X @ self.item_factors_, dtype=np.float32)
