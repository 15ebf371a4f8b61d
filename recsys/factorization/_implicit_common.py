"""What the factor models share: implicit's seeds and threads, fold-in solves,
similar items, exact and approximate top-N."""

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from recsys.base import BaseRecommender
from recsys.retrieval import FaissNearestNeighbors, make_retrieval_index, retrieve_top_n
from recsys.utils import (
    check_similar_items,
    cosine_similar_items,
    limit_blas_threads,
    pad_ranking,
)
from recsys.utils._renamed_params import RenamedParamsMixin, renamed_param_constraint


def implicit_num_threads(random_state):
    """Threads for an implicit SGD model: 1 when a seed asks for repeatable results.

    implicit's BPR and LMF draw their samples from one random stream per
    thread, so their factors depend on the number of threads; with a single
    thread a seed gives the same factors on every machine. 0 (all cores)
    otherwise.
    """
    return 0 if random_state is None else 1


def implicit_random_state(random_state):
    """The seed to give implicit: an int drawn from a RandomState instance.

    implicit 0.7 cannot take a ``RandomState`` itself (its check_random_state
    calls a method RandomState lacks), so draw a seed from it the way
    scikit-learn estimators consume one.
    """
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    return random_state


def ridge_fold_in(X, item_factors, fixed_user_columns=(), penalty=None):
    """User factors that best reproduce the binarised rows of X from fixed item factors.

    Solves, for every row u of X at once, the ridge regression

        min_w  sum_i (p_ui - q_i . w - o_i)^2 + penalty * |w|^2

    where p_ui = 1 if X[u, i] > 0 else 0, q_i are the item factor columns the
    user factors are free in, and o_i the item's dot product with the user
    columns held fixed at 1 (the bias columns of BPR and LMF).

    Parameters
    ----------
    X : csr_matrix of shape (n_rows, n_items)
    item_factors : ndarray of shape (n_items, n_columns)
    fixed_user_columns : sequence of int
        Columns where every user factor equals 1.
    penalty : float, default=None
        Ridge penalty. None uses the mean eigenvalue of ``Q^T Q`` (its trace
        over its size, Q the free item factor columns): a penalty on the scale
        of the factors, whatever that scale is. SGD-trained factors (BPR, LMF)
        come at scales their own regularisation says little about, and on
        MovieLens 100K a penalty of 1-3 mean eigenvalues ranks best.

    Returns
    -------
    user_factors : ndarray of shape (n_rows, n_columns), float32
    """
    item_factors = np.asarray(item_factors, dtype=np.float64)
    n_columns = item_factors.shape[1]
    fixed = np.zeros(n_columns, dtype=bool)
    fixed[list(fixed_user_columns)] = True
    free_factors = item_factors[:, ~fixed]
    offsets = item_factors[:, fixed].sum(axis=1)
    gram = free_factors.T @ free_factors
    mean_eigenvalue = np.trace(gram) / max(gram.shape[0], 1)
    if penalty is None:
        penalty = mean_eigenvalue
    # The floor keeps the system solvable for a penalty of 0.
    gram[np.diag_indices_from(gram)] += max(penalty, 1e-6 * mean_eigenvalue, 1e-12)
    preferences = X.astype(bool).astype(np.float64)
    targets = preferences @ free_factors
    targets -= (offsets @ free_factors)[None, :]
    user_factors = np.ones((X.shape[0], n_columns), dtype=np.float32)
    user_factors[:, ~fixed] = np.linalg.solve(gram, targets.T).T
    return user_factors


class ItemSimilarityMixin:
    """``similar_items`` by cosine similarity of the rows of ``item_factors_``."""

    def similar_items(self, items, n=10):
        """Return the n items most similar to each of the given items.

        Similarity is the cosine of the item factors (an item without any
        signal, of zero norm, is similar to nothing: cosine 0). The query item
        itself is never returned.

        Parameters
        ----------
        items : int or array-like of int
            Item indices (columns of the training matrix).
        n : int, default=10

        Returns
        -------
        ids : ndarray of shape (n_queries, n), int64
            Most similar first; -1 where fewer than n other items exist.
        scores : ndarray of shape (n_queries, n)
            Cosine similarities; -inf where the id is -1.
        """
        check_is_fitted(self)
        items, n = check_similar_items(items, n, self.item_factors_.shape[0])
        return cosine_similar_items(self.item_factors_, items, n)


class FactorRecommender(RenamedParamsMixin, ItemSimilarityMixin, BaseRecommender):
    """A recommender scoring ``fold_in(X) @ item_factors_.T``.

    Subclasses set ``user_factors_`` and ``item_factors_`` (float32) in
    ``_fit``, implement ``_fold_in(X)`` for a validated CSR matrix, and take a
    ``retrieval`` parameter (constraint in ``_retrieval_constraint``).

    Without retrieval, ``recommend`` ranks with implicit's ``topk``
    (multi-threaded, blocked over items, float32) rather than materialising
    dense float64 score blocks: at MovieLens-20M scale that is what makes
    top-N for every user affordable. With ``retrieval`` set, fit ends by
    indexing ``item_factors_`` in a :class:`~recsys.retrieval.FaissNearestNeighbors`
    of inner-product metric (``retrieval_index_``), and ``recommend`` asks
    that index for the candidates of each folded-in user (see
    :func:`recsys.retrieval.retrieve_top_n`): n plus the most
    seen items of any row of the batch, so that excluding seen items still
    leaves n, more when ``items=`` restricts them. The user factors of BPR and
    LMF carry a constant 1 against the item bias columns, so the inner
    product the index searches is the model's exact score. Candidates are
    ranked by their exact score, so with ``retrieval="flat"`` the
    recommendations are those of exact scoring (up to float rounding among
    ties). ``similar_items`` stays exact. ``save`` does not store the index;
    ``load`` rebuilds it from ``item_factors_``.
    """

    _retrieval_constraint: ClassVar[dict] = {"retrieval": [None, str, FaissNearestNeighbors]}
    _derived_attributes = ("retrieval_index_",)
    # Checked by load; BPR and LMF carry bias columns, so the width is no parameter.
    _fitted_shapes: ClassVar[dict] = {"user_factors_": ("n_users", "n_components"),
                                      "item_factors_": ("n_items_", "n_components")}

    def fit(self, X, y=None):
        self._warn_renamed_params()
        super().fit(X, y)
        self._rebuild_derived()
        return self

    fit.__doc__ = BaseRecommender.fit.__doc__

    def _rebuild_derived(self):
        self.retrieval_index_ = None
        if self.retrieval is not None:
            index = make_retrieval_index(self.retrieval, metric="ip",
                                         random_state=implicit_random_state(self.random_state))
            self.retrieval_index_ = index.fit(self.item_factors_)

    def fold_in(self, X):
        """Return the user factors of the users whose interactions are the rows of X.

        How each model folds in is in its class docstring.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items)

        Returns
        -------
        user_factors : ndarray of shape (n_rows, n_columns of item_factors_), float32
        """
        return self._fold_in(self._validate_for_recommend(X))

    def _fold_in(self, X):
        raise NotImplementedError

    def _score(self, X):
        return self._fold_in(X) @ self.item_factors_.T

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        X = self._validate_for_recommend(X)
        allowed = self._allowed_items(n, items)
        user_factors = np.ascontiguousarray(self._fold_in(X), dtype=np.float32)
        seen = X if exclude_seen else None
        if getattr(self, "retrieval_index_", None) is not None:
            return retrieve_top_n(self.retrieval_index_, self.item_factors_, user_factors, n,
                                  exclude=seen, allowed=allowed)
        return self._exact_top_n(user_factors, n, seen, allowed)

    recommend.__doc__ = BaseRecommender.recommend.__doc__

    def _exact_top_n(self, user_factors, n, seen, allowed):
        from implicit.cpu.topk import topk

        excluded = None if allowed is None else np.flatnonzero(~allowed).astype(np.int32)
        with limit_blas_threads():
            ids, scores = topk(np.ascontiguousarray(self.item_factors_, dtype=np.float32),
                               user_factors, min(n, self.n_items_),
                               filter_query_items=seen, filter_items=excluded)
        return pad_ranking(ids, scores, n)


class ImplicitFactorRecommender(FactorRecommender):
    """A recommender fitted by one of the ``implicit`` library's CPU models.

    Subclasses implement ``_make_implicit_model()`` returning the unfitted
    implicit model, and ``_fold_in``. They take ``n_factors`` and ``n_epochs``,
    and implicit's names ``factors`` and ``iterations`` until the next release
    (see :mod:`recsys.utils._renamed_params`).
    """

    _renamed_params: ClassVar[dict] = {"factors": "n_factors", "iterations": "n_epochs"}
    _renamed_constraint: ClassVar[dict] = {
        "factors": renamed_param_constraint([Interval(Integral, 1, None, closed="left")]),
        "iterations": renamed_param_constraint([Interval(Integral, 1, None, closed="left")]),
    }

    def _fit(self, X):
        with limit_blas_threads():
            # implicit checks the BLAS configuration when constructed.
            model = self._make_implicit_model()
            model.fit(X, show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)

    def _make_implicit_model(self):
        raise NotImplementedError
