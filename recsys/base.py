"""The base classes of top-N recommenders and rating predictors."""

import warnings
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_is_fitted

from recsys.utils import (
    PersistenceMixin,
    check_interaction_matrix,
    check_item_indices,
    check_pairs,
    check_positive_int,
    check_ratings,
    top_k,
)
from recsys.utils._validation import (
    DUPLICATE_POLICIES,
    check_duplicates_policy,
    merge_duplicate_pairs,
)

# Rows scored at once by the default recommend: bounds the dense score block
# to about _SCORE_BLOCK_CELLS floats whatever the number of users.
_SCORE_BLOCK_CELLS = 2**24


class BaseRecommender(PersistenceMixin, BaseEstimator, ABC):
    """Base class for top-N recommenders on a users x items matrix.

    Subclasses implement ``_fit(X)`` (X a canonical float32 CSR matrix; set
    fitted attributes ending in ``_``) and ``_score(X)`` (a dense
    (n_rows, n_items) array of scores for the users whose interactions are the
    rows of X). They may override :meth:`recommend` when they can do better
    than scoring every item, e.g. approximate retrieval.

    ``recommend`` always folds in the rows it is given: a row need not be a
    user seen in ``fit``, so scikit-learn's row splitters evaluate strong
    generalisation and new users are served without refitting.

    ``save(path)`` / ``load(path)`` come from
    :class:`~recsys.utils.PersistenceMixin`; a subclass declares the shapes
    of its fitted arrays (``_fitted_shapes``, ...) for ``load`` to check them.
    """

    def fit(self, X, y=None):
        """Fit the recommender.

        Parameters
        ----------
        X : sparse matrix of shape (n_users, n_items) or Interactions
            Non-negative interaction counts or weights.
        y : None
            Ignored; present for scikit-learn API consistency.

        Returns
        -------
        self : object
        """
        if getattr(self, "_parameter_constraints", None):
            self._validate_params()
        X = check_interaction_matrix(X)
        self.n_items_ = X.shape[1]
        self.n_features_in_ = X.shape[1]  # scikit-learn's name for the same width
        self._fit(X)
        return self

    @abstractmethod
    def _fit(self, X):
        """Fit on a validated CSR matrix."""

    @abstractmethod
    def _score(self, X):
        """Return dense scores of shape (X.shape[0], n_items_) for the rows of X."""

    def _validate_for_recommend(self, X):
        check_is_fitted(self)
        return check_interaction_matrix(X, n_items=self.n_items_, allow_empty=True)

    def _allowed_items(self, n, items):
        """Check recommend's n and items; return a bool mask of the allowed items, or None for all."""
        check_positive_int(n, "n")
        if items is None:
            return None
        allowed = np.zeros(self.n_items_, dtype=bool)
        allowed[check_item_indices(items, self.n_items_)] = True
        return allowed

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        """Recommend the n best items for each user whose interactions are a row of X.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items) or Interactions
            Interactions of the users to recommend to (fold-in).
        n : int, default=10
            Number of items per user.
        exclude_seen : bool, default=True
            Never recommend an item stored in the user's row of X.
        items : array-like of int, default=None
            Restrict recommendations to these item indices.

        Returns
        -------
        ids : ndarray of shape (n_rows, n), int64
            Item indices, best first; -1 where fewer than n items could be
            recommended.
        scores : ndarray of shape (n_rows, n)
            Their scores; -inf where the id is -1.
        """
        X = self._validate_for_recommend(X)
        allowed = self._allowed_items(n, items)
        block = max(1, _SCORE_BLOCK_CELLS // max(self.n_items_, 1))
        ids = np.empty((X.shape[0], n), dtype=np.int64)
        scores = np.empty((X.shape[0], n), dtype=np.float64)
        for start in range(0, X.shape[0], block):
            rows = X[start:start + block]
            block_scores = np.asarray(self._score(rows), dtype=np.float64)
            if allowed is not None:
                block_scores[:, ~allowed] = -np.inf
            block_ids, block_top = top_k(block_scores, n, exclude=rows if exclude_seen else None)
            ids[start:start + block], scores[start:start + block] = block_ids, block_top
        return ids, scores

    def score(self, X, y=None):
        """NDCG@10 on held-out interactions of the rows of X (see ``make_ranking_scorer``)."""
        from recsys.metrics import make_ranking_scorer

        return make_ranking_scorer("ndcg", k=10)(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.requires_fit = True
        tags.target_tags.required = False
        return tags


def _check_array_like_sklearn(X):
    """scikit-learn's own checks of an array X of pairs: sparse, complex, no rows or columns.

    Their errors then read as every scikit-learn estimator's; ``check_pairs``
    checks the (user, item) layout after. A DataFrame is passed through
    untouched: converting its id columns to one array would copy them.
    """
    if isinstance(X, pd.DataFrame):
        return X
    return check_array(X, dtype=None, accept_sparse=False, ensure_all_finite=False,
                       ensure_min_samples=1, ensure_min_features=1, input_name="X")


class UnknownPairsWarning(UserWarning):
    """Raised by rating predictors when pairs have a user or item unseen in fit."""


class DegenerateFitError(ValueError):
    """Raised when a fit diverges (non-finite or exploding parameters) or collapses.

    The message says what went wrong and how to fix it, typically rescaling
    the ratings or lowering the learning rate.
    """


class BaseRatingPredictor(PersistenceMixin, RegressorMixin, BaseEstimator, ABC):
    """Base class for rating predictors on (user, item) pairs.

    ``fit(X, y)`` takes X an array or DataFrame of (user, item) pairs of any
    hashable ids and y their ratings, like any scikit-learn regressor, so
    ``cross_val_score``, ``GridSearchCV`` and ``StackingRegressor`` work
    unchanged. Subclasses implement ``_fit(users, items, ratings)`` and
    ``_predict(users, items)`` on contiguous indices; in ``_predict`` an index
    of -1 marks a user or item unseen in fit, for which the model returns its
    documented fallback (typically the global mean plus the known bias).

    ``predict`` clips to the rating range seen in fit and emits one
    :class:`UnknownPairsWarning` giving the number of pairs with an unknown
    user or item; it never returns NaN. A fit whose parameters end up NaN or
    inf raises :class:`DegenerateFitError` instead of returning a model whose
    predictions would have to be patched.

    Attributes set by ``fit``: ``user_ids_``, ``item_ids_`` (the vocabularies),
    ``n_users_``, ``n_items_``, ``global_mean_``, ``rating_min_``, ``rating_max_``.
    ``save(path)`` / ``load(path)`` come from :class:`~recsys.utils.PersistenceMixin`.
    """

    # What load checks (recsys.utils.PersistenceMixin): the vocabularies, and
    # the biases and factors of the models that have them, under these names.
    _fitted_shapes: ClassVar[dict] = {
        "user_ids_": ("n_users_",), "item_ids_": ("n_items_",),
        "user_bias_": ("n_users_",), "item_bias_": ("n_items_",),
        "user_factors_": ("n_users_", "n_components"), "item_factors_": ("n_items_", "n_components"),
    }
    _fitted_unique = ("user_ids_", "item_ids_")
    _fitted_optional = ("user_bias_", "item_bias_", "user_factors_", "item_factors_")

    def fit(self, X, y, *, duplicates="error"):
        """Fit the model on (user, item) pairs X and their ratings y.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 2)
            (user id, item id) pairs.
        y : array-like of shape (n_samples,)
            Ratings.
        duplicates : {"error", "mean", "sum", "first", "last"}, default="error"
            What to do with a (user, item) pair given more than once: raise,
            or fit on the mean (or sum) of its ratings, or on its first or
            last rating in row order. The policies are those of
            :meth:`recsys.datasets.Interactions.from_pandas`. A fit keyword
            rather than a constructor parameter, so that it is no
            hyper-parameter: ``GridSearchCV(...).fit(X, y, duplicates="mean")``
            passes it on to every fit.

        Returns
        -------
        self : object
        """
        if getattr(self, "_parameter_constraints", None):
            self._validate_params()
        check_duplicates_policy(duplicates)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        users, items = check_pairs(_check_array_like_sklearn(X))
        self.n_features_in_ = 2  # the (user, item) columns
        ratings = check_ratings(y, len(users))
        user_codes, self.user_ids_ = pd.factorize(users, sort=True)
        item_codes, self.item_ids_ = pd.factorize(items, sort=True)
        kept, merged, _, _ = merge_duplicate_pairs(
            user_codes, item_codes, duplicates, values={"rating": ratings},
            describe_pair=lambda row: (users[[row]].tolist()[0], items[[row]].tolist()[0]), name="X",
            how_to_merge=(f"pass fit(X, y, duplicates=...) with one of {DUPLICATE_POLICIES[1:]} "
                          "to say how to merge their ratings (e.g. 'mean')."),
        )
        user_codes, item_codes, ratings = user_codes[kept], item_codes[kept], merged["rating"]
        self.n_users_, self.n_items_ = len(self.user_ids_), len(self.item_ids_)
        self.global_mean_ = float(ratings.mean())
        self.rating_min_, self.rating_max_ = float(ratings.min()), float(ratings.max())
        self._fit(user_codes.astype(np.int32), item_codes.astype(np.int32), ratings)
        self._check_fitted_finite()
        return self

    def _check_fitted_finite(self):
        """Raise DegenerateFitError when a fitted float array holds NaN or inf (a diverged fit)."""
        for name, value in vars(self).items():
            if (name.endswith("_") and isinstance(value, np.ndarray)
                    and np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all()):
                raise DegenerateFitError(
                    f"{type(self).__name__} diverged: its fitted {name} holds NaN or inf. Ratings "
                    f"from {self.rating_min_:g} to {self.rating_max_:g} may be too large for its "
                    "updates: divide them by a constant before fitting (and multiply the "
                    "predictions back), or lower the learning rate where it has one."
                )

    def encode_pairs(self, X):
        """Map (user, item) id pairs to model indices; -1 for ids unseen in fit."""
        check_is_fitted(self)
        users, items = check_pairs(X)
        return (pd.Index(self.user_ids_).get_indexer(users).astype(np.int32),
                pd.Index(self.item_ids_).get_indexer(items).astype(np.int32))

    def predict(self, X):
        """Predict the ratings of (user, item) pairs.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 2)

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions clipped to ``[rating_min_, rating_max_]``.
        """
        users, items = self.encode_pairs(X)
        n_unknown = int(((users < 0) | (items < 0)).sum())
        if n_unknown:
            warnings.warn(
                f"{n_unknown} of {len(users)} pairs have a user or item unseen in fit; "
                f"they get the fallback prediction of {type(self).__name__}.",
                UnknownPairsWarning, stacklevel=2,
            )
        predictions = np.asarray(self._predict(users, items), dtype=np.float64)
        n_invalid = int((~np.isfinite(predictions)).sum())
        if n_invalid:
            # Never replaced by a default: that would hide a broken model.
            raise DegenerateFitError(
                f"{type(self).__name__} predicted NaN or inf for {n_invalid} of {len(predictions)} "
                "pairs: its fitted parameters are not finite. Refit it (a fit that diverges "
                "raises DegenerateFitError saying how to fix it)."
            )
        return np.clip(predictions, self.rating_min_, self.rating_max_)

    @abstractmethod
    def _fit(self, users, items, ratings):
        """Fit on int32 user and item indices and float64 ratings."""

    @abstractmethod
    def _predict(self, users, items):
        """Predict for int32 indices, -1 marking ids unseen in fit."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
