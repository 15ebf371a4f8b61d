"""FeatureWeightedStacking: blend rating predictors with weights that depend on meta-features."""

import warnings
from numbers import Integral
from typing import ClassVar

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import RegressorMixin, clone, is_regressor
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import check_cv
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch, _safe_indexing
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

from recsys.base import DegenerateFitError, UnknownPairsWarning, merge_rating_duplicates
from recsys.ensemble._ranker_state import SAVED_BLENDERS, live_model, saved_model
from recsys.utils import PersistenceMixin, check_pairs, check_ratings
from recsys.utils._validation import check_duplicates_policy

# Ridge penalties searched by the default blender (leave-one-out, so the search is nearly free).
# A tuple, not an array: save stores the default blender's parameters as JSON.
_DEFAULT_ALPHAS = tuple(np.logspace(-2, 4, 13).tolist())


def _fit_fold(members, meta_features, X, y, train, test):
    """Fit clones of the members (and of the meta-feature transformer) on train; score test."""
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    with warnings.catch_warnings():
        # Held-out folds hold users and items unseen in the training folds; each
        # member then gives its documented fallback, which is what the blender must learn.
        warnings.simplefilter("ignore", UnknownPairsWarning)
        predictions = np.column_stack(
            [clone(member).fit(X_train, y[train]).predict(X_test) for member in members])
        features = None
        if meta_features is not None:
            features = np.asarray(_fit_meta_features(meta_features, X_train, y[train]).transform(X_test),
                                  dtype=np.float64)
    return test, predictions, features


def _fit_meta_features(meta_features, X, y):
    """A clone of the meta-feature transformer fitted on the pairs X and their ratings y.

    ``PairFeatures`` (alone or as a pipeline step) reads ratings from a column
    of its fit DataFrame and ignores ``y``: a transformer with a ``rating_col``
    parameter therefore gets the ratings as that column of a copy of X, or its
    rating statistics would be missing.
    """
    transformer = clone(meta_features)
    rating_cols = {value for key, value in transformer.get_params(deep=True).items()
                   if (key == "rating_col" or key.endswith("__rating_col")) and isinstance(value, str)}
    if len(rating_cols) == 1 and isinstance(X, pd.DataFrame):
        (rating_col,) = rating_cols
        if rating_col in X.columns:
            raise ValueError(
                f"X already has a column {rating_col!r}, the meta-features' rating_col; the blend puts "
                "the ratings y there. Pass only the (user, item) columns."
            )
        X = X.assign(**{rating_col: np.asarray(y)})
    return transformer.fit(X, y)


class FeatureWeightedStacking(PersistenceMixin, RegressorMixin, _BaseComposition):
    """Feature-weighted linear stacking of rating predictors (Sill et al. 2009).

    The blend that won the Netflix Prize: the weight of each member varies
    with meta-features of the pair (user and item support, rating spread, ...)
    instead of being one number per member. The prediction is

        r(u, i) = b + sum_m (w_m + sum_j v_mj f_j(u, i)) (p_m(u, i) - mu) + sum_j c_j f_j(u, i)

    with p_m the members' predictions, mu the global mean and f_j the
    standardised meta-features; a ridge regression (``RidgeCV``, penalty
    chosen by leave-one-out) fits b, w, v and c on out-of-fold predictions,
    so the blender never sees a member's fit to the very ratings it scores.
    With ``feature_weighting=False`` the blender sees the member predictions
    and the meta-features side by side, which suits a non-linear blender such
    as ``HistGradientBoostingRegressor``.

    ``fit`` follows ``sklearn.ensemble.StackingRegressor``: out-of-fold
    predictions over ``cv``, then every member refitted on all of X. The
    meta-feature transformer is also fitted per fold, so features that use
    ratings (a user's mean rating) do not leak the held-out ratings.

    Parameters
    ----------
    estimators : list of (str, rating predictor)
        The members: regressors on (user, item) pairs. Their parameters are
        exposed as ``<name>__<param>``.
    meta_features : transformer or None, default=None
        Fitted on (pairs, ratings) and applied to pairs; returns an array of
        shape (n_pairs, n_features), e.g. ``recsys.preprocessing.PairFeatures``
        (``time=False``) with support counts and rating statistics. A
        transformer with a ``rating_col`` parameter (``PairFeatures``, or a
        pipeline holding it) is fitted on a DataFrame X with the ratings added
        as that column, since that is where it reads them. None uses no meta-feature: the blend weights are
        then constant, a plain linear stack.
    final_estimator : regressor or None, default=None
        The blender; None is ``RidgeCV(alphas=np.logspace(-2, 4, 13))``.
    feature_weighting : bool, default=True
        Give the blender the products of each (centred) member prediction
        with each meta-feature (FWLS). False gives it only the predictions
        and the meta-features.
    cv : int, cross-validation generator or iterable, default=5
        How the out-of-fold predictions are made; an int is a shuffled
        ``KFold`` seeded by ``random_state``. A single holdout split
        (``ShuffleSplit(n_splits=1, test_size=0.2)``: the Netflix Prize's
        probe-set blending, one fit per member instead of ``cv``) trains the
        blender on its test pairs only. A pair may be in at most one test fold.
    random_state : int or None, default=0
        Seed of the shuffled ``KFold`` when ``cv`` is an int.
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib).

    Attributes
    ----------
    estimators_ : list of rating predictors
        The members, refitted on all of X.
    named_estimators_ : Bunch
    meta_features_ : transformer or None
        Fitted on all of X.
    final_estimator_ : regressor
        After ``load``, the object that predicts as it did (see
        ``final_estimator_state_``).
    final_estimator_state_ : estimator or None
        What ``save`` stores of the blender
        (:mod:`recsys.ensemble._ranker_state`); None when it has no
        pickle-free form, and ``save`` then raises.
    feature_mean_, feature_scale_ : ndarray of shape (n_meta_features,)
        How the meta-features are standardised (``StandardScaler``'s fit);
        set only with ``meta_features``.
    feature_names_in_blender_ : ndarray of str
        Names of the blender's input columns.
    user_ids_, item_ids_ : ndarray
        Users and items seen in fit.
    n_users_, n_items_ : int
        Their numbers.
    global_mean_, rating_min_, rating_max_ : float

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.ensemble import FeatureWeightedStacking
    >>> from recsys.factorization import BaselineOnly, BiasedMF
    >>> data = make_ratings(100, 50, density=0.2, random_state=0).to_pandas()
    >>> X, y = data[["user", "item"]], data["rating"]
    >>> blend = FeatureWeightedStacking(
    ...     [("baseline", BaselineOnly()), ("mf", BiasedMF(n_factors=10, random_state=0))], cv=3)
    >>> blend.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    # save/load (PersistenceMixin): the blender from its saved form, the members by name.
    _derived_attributes = ("final_estimator_", "named_estimators_")
    _fitted_shapes: ClassVar[dict] = {
        "user_ids_": ("n_users_",), "item_ids_": ("n_items_",),
        "feature_mean_": ("n_meta_features",), "feature_scale_": ("n_meta_features",),
    }
    _fitted_unique = ("user_ids_", "item_ids_")
    _fitted_optional = ("feature_mean_", "feature_scale_")
    # NaN: a meta-feature missing on every blended pair.
    _fitted_nonfinite = ("feature_mean_", "feature_scale_")

    _parameter_constraints: ClassVar[dict] = {
        "estimators": [list],
        "meta_features": [HasMethods(["fit", "transform"]), None],
        "final_estimator": [HasMethods(["fit", "predict"]), None],
        "feature_weighting": ["boolean"],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimators, *, meta_features=None, final_estimator=None, feature_weighting=True,
                 cv=5, random_state=0, n_jobs=None):
        self.estimators = estimators
        self.meta_features = meta_features
        self.final_estimator = final_estimator
        self.feature_weighting = feature_weighting
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self, deep=True):
        """Parameters of the blend and, with deep=True, of its members as ``name__param``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters of the blend or of its members (``name__param``)."""
        self._set_params("estimators", **params)
        return self

    def _members(self):
        if not isinstance(self.estimators, (list, tuple)) or not self.estimators:
            raise ValueError("estimators must be a non-empty list of (name, rating predictor) pairs.")
        try:
            names, members = zip(*self.estimators)
        except (TypeError, ValueError):
            raise ValueError(
                f"estimators must be a list of (name, rating predictor) pairs; got {self.estimators!r}."
            ) from None
        self._validate_names(names)
        self._check_estimators_are_instances(members)
        for name, member in zip(names, members):
            if not is_regressor(member):
                raise TypeError(
                    f"member {name!r} is a {type(member).__name__}, not a regressor on (user, item) "
                    "pairs; top-N recommenders are combined with WeightedHybrid or RankFusion."
                )
        return list(names), list(members)

    def _folds(self, X):
        if isinstance(self.cv, Integral):
            from sklearn.model_selection import KFold

            return list(KFold(self.cv, shuffle=True, random_state=self.random_state).split(X))
        return list(check_cv(self.cv).split(X))

    def fit(self, X, y, *, duplicates="error"):
        """Fit the members out of fold, the blender on their predictions, then the members on all of X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 2)
            (user id, item id) pairs.
        y : array-like of shape (n_samples,)
            Ratings.
        duplicates : {"error", "mean", "sum", "first", "last"}, default="error"
            What to do with a pair given more than once, as in
            :meth:`recsys.base.BaseRatingPredictor.fit`; repeats are merged
            once, before any member sees the pairs.

        Returns
        -------
        self : object
        """
        self._validate_params()
        check_duplicates_policy(duplicates)
        names, members = self._members()
        users, items = check_pairs(X)
        ratings = check_ratings(y, len(users))
        kept, merged = merge_rating_duplicates(users, items, pd.factorize(users)[0], pd.factorize(items)[0],
                                               ratings, duplicates)
        if len(kept) < len(users):
            X, users, items, ratings = _safe_indexing(X, kept), users[kept], items[kept], merged
        self.user_ids_ = np.asarray(pd.unique(users))
        self.item_ids_ = np.asarray(pd.unique(items))
        self.n_users_, self.n_items_ = len(self.user_ids_), len(self.item_ids_)
        self.global_mean_ = float(ratings.mean())
        self.rating_min_, self.rating_max_ = float(ratings.min()), float(ratings.max())

        folds = self._folds(X)
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_fold)(members, self.meta_features, X, ratings, train, test)
            for train, test in folds
        )
        predictions = np.full((len(ratings), len(members)), np.nan)
        features = None
        in_test = np.zeros(len(ratings), dtype=np.int64)
        for test, _, _ in results:
            np.add.at(in_test, test, 1)
        if (in_test > 1).any():
            raise ValueError(
                "cv puts some pairs in more than one test fold; use a partition (KFold) or a "
                "single holdout split (ShuffleSplit(n_splits=1)) so each pair has one out-of-fold prediction."
            )
        for test, fold_predictions, fold_features in results:
            predictions[test] = fold_predictions
            if fold_features is not None:
                if features is None:
                    features = np.full((len(ratings), fold_features.shape[1]), np.nan)
                features[test] = fold_features
        blended_rows = np.isfinite(predictions).all(axis=1)
        if not blended_rows.any():
            raise ValueError("cv gave no test fold; the blender needs out-of-fold predictions to learn from.")

        self.estimators_ = [clone(member).fit(X, ratings) for member in members]
        self.meta_features_ = (_fit_meta_features(self.meta_features, X, ratings)
                               if self.meta_features is not None else None)
        for name in ("feature_mean_", "feature_scale_"):
            vars(self).pop(name, None)  # a refit without meta-features must not keep an earlier fit's
        if features is not None:
            scaler = StandardScaler().fit(features[blended_rows])
            self.feature_mean_, self.feature_scale_ = scaler.mean_, scaler.scale_
        self.feature_names_in_blender_ = self._blender_feature_names(names, features)
        blender = self.final_estimator if self.final_estimator is not None else RidgeCV(alphas=_DEFAULT_ALPHAS)
        blender_input = self._blender_input(predictions[blended_rows],
                                            features[blended_rows] if features is not None else None)
        self.final_estimator_ = clone(blender).fit(blender_input, ratings[blended_rows])
        self.final_estimator_state_ = saved_model(self.final_estimator_)
        self._rebuild_derived()
        return self

    def _rebuild_derived(self):
        """The members by name, and after load the blender from its saved form."""
        if "estimators_" not in vars(self):
            return  # an unfitted template saved as a parameter
        names, _ = self._members()
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_, strict=True)))
        if "final_estimator_" not in vars(self):
            if self.final_estimator_state_ is None:
                raise ValueError("cannot load this FeatureWeightedStacking: the file holds no blender "
                                 "(final_estimator_state_ is null). The file is damaged; save the model again.")
            self.final_estimator_ = live_model(self.final_estimator_state_)

    def save(self, path):
        """As :meth:`recsys.utils.PersistenceMixin.save`; a ValueError when the blender has no pickle-free form.

        The blenders that save: final_estimator=None (``RidgeCV``) or another
        scikit-learn linear regressor, a ``HistGradientBoostingRegressor``
        (identity-link losses), LightGBM and XGBoost regressors.
        """
        check_is_fitted(self)
        if self.final_estimator_state_ is None:
            raise ValueError(
                f"cannot save this FeatureWeightedStacking: its blender {type(self.final_estimator_).__name__} "
                f"keeps its fitted model in private state that has no pickle-free format. Blenders that save: "
                f"{SAVED_BLENDERS}. Refit with one of them, or refit this model where it is used."
            )
        return super().save(path)

    def _standardised(self, features):
        """The meta-features as the blender saw them: standardised, NaN and inf as 0 (the mean)."""
        # StandardScaler.transform's arithmetic, so the floats are the same.
        scaled = (features - self.feature_mean_) / self.feature_scale_
        return np.nan_to_num(scaled, nan=0.0, posinf=0.0, neginf=0.0)

    def _meta_feature_names(self, n_features):
        names = None
        if self.meta_features is not None and hasattr(self.meta_features, "get_feature_names_out"):
            try:
                names = [str(name) for name in self.meta_features_.get_feature_names_out()]
            except (AttributeError, ValueError, TypeError):
                names = None
        return names if names is not None and len(names) == n_features else [f"f{j}" for j in range(n_features)]

    def _blender_feature_names(self, member_names, features):
        columns = list(member_names)
        if features is not None:
            feature_names = self._meta_feature_names(features.shape[1])
            columns += feature_names
            if self.feature_weighting:
                columns += [f"{member}*{feature}" for member in member_names for feature in feature_names]
        return np.asarray(columns, dtype=object)

    def _blender_input(self, predictions, features):
        """[p - mu, f, (p - mu) x f] for FWLS, [p, f] otherwise; f standardised, NaN as its mean."""
        if features is None:
            return predictions - self.global_mean_ if self.feature_weighting else predictions
        scaled = self._standardised(features)
        if not self.feature_weighting:
            return np.hstack([predictions, scaled])
        centred = predictions - self.global_mean_
        products = (centred[:, :, None] * scaled[:, None, :]).reshape(len(centred), -1)
        return np.hstack([centred, scaled, products])

    def _transform_members(self, X):
        with warnings.catch_warnings():
            # One warning for the whole blend is given by predict, not one per member.
            warnings.simplefilter("ignore", UnknownPairsWarning)
            predictions = np.column_stack([member.predict(X) for member in self.estimators_])
            features = (np.asarray(self.meta_features_.transform(X), dtype=np.float64)
                        if self.meta_features_ is not None else None)
        return predictions, features

    def predict(self, X):
        """Predict the ratings of (user, item) pairs, clipped to the range seen in fit.

        Pairs with a user or item unseen in fit get each member's fallback,
        blended as usual, and one :class:`~recsys.base.UnknownPairsWarning`
        gives their number.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 2)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        users, items = check_pairs(X)
        unknown = ((pd.Index(self.user_ids_).get_indexer(users) < 0)
                   | (pd.Index(self.item_ids_).get_indexer(items) < 0))
        if unknown.any():
            warnings.warn(
                f"{int(unknown.sum())} of {len(users)} pairs have a user or item unseen in fit; "
                "they get the blend of the members' fallback predictions.",
                UnknownPairsWarning, stacklevel=2,
            )
        predictions, features = self._transform_members(X)
        blended = np.asarray(self.final_estimator_.predict(self._blender_input(predictions, features)),
                             dtype=np.float64)
        if not np.isfinite(blended).all():
            # Never patched with a default: that would hide a broken blender.
            raise DegenerateFitError(
                f"the blender {type(self.final_estimator_).__name__} predicted NaN or inf for "
                f"{int((~np.isfinite(blended)).sum())} of {len(blended)} pairs; refit it."
            )
        return np.clip(blended, self.rating_min_, self.rating_max_)

    def blend_weights(self, X):
        """The weight each member gets on each pair, ``w_m + sum_j v_mj f_j(u, i)``.

        Only for a linear blender (one with ``coef_``) and ``feature_weighting=True``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 2)

        Returns
        -------
        DataFrame of shape (n_samples, n_members)
            One column per member, by name.
        """
        check_is_fitted(self)
        coef = getattr(self.final_estimator_, "coef_", None)
        if coef is None or not self.feature_weighting:
            raise ValueError(
                "blend_weights needs a linear blender (with coef_, e.g. the default RidgeCV) and "
                f"feature_weighting=True; this blend has {type(self.final_estimator_).__name__} and "
                f"feature_weighting={self.feature_weighting}."
            )
        coef = np.ravel(coef)
        n_members = len(self.estimators_)
        weights = np.tile(coef[:n_members], (len(check_pairs(X)[0]), 1))
        if self.meta_features_ is not None:
            _, features = self._transform_members(X)
            scaled = self._standardised(features)
            n_features = scaled.shape[1]
            v = coef[n_members + n_features:].reshape(n_members, n_features)
            weights = weights + scaled @ v.T
        return pd.DataFrame(weights, columns=list(self.named_estimators_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
