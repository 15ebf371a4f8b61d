"""Logistic matrix factorisation (Johnson 2014)."""

from numbers import Integral, Real
from typing import ClassVar

from sklearn.utils._param_validation import Interval

from recsys.factorization._implicit_common import (
    FactorRecommender,
    ImplicitFactorRecommender,
    implicit_num_threads,
    implicit_random_state,
    ridge_fold_in,
)
from recsys.utils._renamed_params import DEPRECATED


class LMF(ImplicitFactorRecommender):
    """Logistic matrix factorisation, fitted by ``implicit``'s CPU solver.

    Models the probability that user u interacts with item i as a logistic
    function of ``x_u . y_i + b_u + b_i`` (Johnson 2014), via
    ``implicit.cpu.lmf.LogisticMatrixFactorization``, sampling ``neg_prop``
    negatives per positive. As in implicit, ``user_factors_`` holds
    ``[x_u, 1, b_u]`` and ``item_factors_`` holds ``[y_i, b_i, 1]``, so scores
    are ``user_factors_ @ item_factors_.T``.

    The samples come from one random stream per thread, so when
    ``random_state`` is given the fit runs single-threaded to give the same
    factors on every machine; otherwise on all cores.

    ``recommend`` folds in each row u of X by a ridge regression of its
    binarised row on the item factors (the column of item biases held at 1
    and subtracted from the target, the user bias solved with the factors),
    with a penalty on the scale of the item factors (see ``ridge_fold_in``).
    A linear fold-in of a logistic model is rough: on MovieLens 100K (weak
    generalisation) it ranks at NDCG@10 0.125 against 0.191 for the fitted
    user factors.

    Parameters
    ----------
    n_factors : int, default=30
        Number of latent factors (the two bias columns come on top).
    learning_rate : float, default=1.0
    regularization : float, default=0.6
        L2 penalty of the fit.
    n_epochs : int, default=30
    neg_prop : int, default=30
        Negative samples drawn per positive interaction.
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
    user_factors_ : ndarray of shape (n_users, n_factors + 2), float32
    item_factors_ : ndarray of shape (n_items, n_factors + 2), float32
    retrieval_index_ : FaissNearestNeighbors or None
        The fitted index over ``item_factors_`` when ``retrieval`` is set.
    n_items_ : int

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.factorization import LMF
    >>> X = make_interactions(200, 60, density=0.1, random_state=0).to_csr()
    >>> model = LMF(n_factors=8, n_epochs=10, random_state=0).fit(X)
    >>> model.user_factors_.shape
    (200, 10)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "neg_prop": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        **FactorRecommender._retrieval_constraint,
        **ImplicitFactorRecommender._renamed_constraint,
    }

    def __init__(self, n_factors=30, learning_rate=1.0, regularization=0.6, n_epochs=30,
                 neg_prop=30, random_state=None, retrieval=None, *,
                 factors=DEPRECATED, iterations=DEPRECATED):
        self.n_factors = n_factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.n_epochs = n_epochs
        self.neg_prop = neg_prop
        self.random_state = random_state
        self.retrieval = retrieval
        self.factors = factors
        self.iterations = iterations

    def _make_implicit_model(self):
        from implicit.cpu.lmf import LogisticMatrixFactorization

        return LogisticMatrixFactorization(
            factors=self._param("n_factors"), learning_rate=self.learning_rate,
            regularization=self.regularization, iterations=self._param("n_epochs"),
            neg_prop=self.neg_prop, num_threads=implicit_num_threads(self.random_state),
            random_state=implicit_random_state(self.random_state),
        )

    def _fold_in(self, X):
        item_bias_column = self.item_factors_.shape[1] - 2
        return ridge_fold_in(X, self.item_factors_, (item_bias_column,))
