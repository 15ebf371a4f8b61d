"""Bayesian personalised ranking (Rendle et al. 2009)."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval

from recsys.factorization._implicit_common import (
    FactorRecommender,
    ImplicitFactorRecommender,
    implicit_num_threads,
    implicit_random_state,
)
from recsys.factorization._sgd_fold_in import bpr_fold_in
from recsys.utils._renamed_params import DEPRECATED


class BPR(ImplicitFactorRecommender):
    """Bayesian personalised ranking, fitted by ``implicit``'s CPU SGD.

    Learns factors by stochastic gradient ascent on the pairwise ranking
    objective of Rendle et al. (2009), via
    ``implicit.cpu.bpr.BayesianPersonalizedRanking``. As in implicit, the last
    column of ``item_factors_`` is an item bias and the last column of
    ``user_factors_`` is fixed at 1, so scores are
    ``user_factors_ @ item_factors_.T``.

    implicit's SGD draws samples from one random stream per thread, so a seed
    gives repeatable factors only on one thread: when ``random_state`` is
    given the fit runs single-threaded, otherwise on all cores.

    BPR has no closed-form user update, so ``recommend`` folds in each row u
    of X by BPR's own SGD on u's vector alone, the item factors fixed:
    ``iterations`` passes over the row's positives (X > 0), each paired with
    a drawn item the row does not have, with the fit's learning rate and
    regularisation, from a zero vector. Each row draws from its own random
    stream seeded by ``random_state`` (0 when it is not an int), so its
    factors do not depend on the rest of the batch.

    Parameters
    ----------
    n_factors : int, default=100
        Number of latent factors (the item bias comes on top).
    learning_rate : float, default=0.01
    regularization : float, default=0.01
        L2 penalty of the SGD updates.
    n_epochs : int, default=100
        Number of epochs.
    random_state : int, RandomState instance or None, default=None
        Seed passed to implicit; makes the fit single-threaded (see above).
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
    user_factors_ : ndarray of shape (n_users, n_factors + 1), float32
    item_factors_ : ndarray of shape (n_items, n_factors + 1), float32
    retrieval_index_ : FaissNearestNeighbors or None
        The fitted index over ``item_factors_`` when ``retrieval`` is set.
    n_items_ : int

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.factorization import BPR
    >>> X = make_interactions(200, 60, density=0.1, random_state=0).to_csr()
    >>> model = BPR(n_factors=8, n_epochs=20, random_state=0).fit(X)
    >>> model.item_factors_.shape
    (60, 9)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        **FactorRecommender._retrieval_constraint,
        **ImplicitFactorRecommender._renamed_constraint,
    }

    def __init__(self, n_factors=100, learning_rate=0.01, regularization=0.01, n_epochs=100,
                 random_state=None, retrieval=None, *,
                 factors=DEPRECATED, iterations=DEPRECATED):
        self.n_factors = n_factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.n_epochs = n_epochs
        self.random_state = random_state
        self.retrieval = retrieval
        self.factors = factors
        self.iterations = iterations

    def _make_implicit_model(self):
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=self._param("n_factors"), learning_rate=self.learning_rate,
            regularization=self.regularization, iterations=self._param("n_epochs"),
            num_threads=implicit_num_threads(self.random_state),
            random_state=implicit_random_state(self.random_state),
        )

    def _fold_in(self, X):
        positives = (X > 0).astype(np.int8).tocsr()
        positives.sort_indices()
        user_factors = np.empty((X.shape[0], self.item_factors_.shape[1]))
        seed = self.random_state if isinstance(self.random_state, Integral) else 0
        bpr_fold_in(positives.indptr, positives.indices, self.item_factors_, user_factors,
                    self.learning_rate, self.regularization, self._param("n_epochs"), seed)
        return user_factors.astype(np.float32)
