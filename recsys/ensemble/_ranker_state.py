"""Fitted rankers and blenders of the ensembles in a form that saves without pickle.

``save`` stores estimators through their parameters and public fitted
attributes (:mod:`recsys.utils._persistence`). Most rankers (of
``TwoStageRecommender``) and blenders (of ``FeatureWeightedStacking``) keep
their model elsewhere: scikit-learn's gradient boosting in private tree
objects, LightGBM and XGBoost in native boosters. :func:`saved_model` gives,
for a fitted model, an estimator that holds the same model in arrays, JSON
values or the library's own model format, and :func:`live_model` gives back
the object that predicts as it did, after ``load``:

- ``HistGradientBoostingClassifier`` (the default ranker; binary, no
  categorical features) and ``HistGradientBoostingRegressor`` (losses with
  the identity link): their trees as flat arrays
  (:class:`HistGradientBoostingTrees`, :class:`HistGradientBoostingRegressorTrees`),
  scored by a numba kernel to the same floats;
- LightGBM models (``ranker="lambdarank"``, ``LGBMRanker``,
  ``LGBMClassifier``, ``LGBMRegressor``): LightGBM's text model, predicted
  with a ``lightgbm.Booster``;
- XGBoost models (``ranker="xgboost"``, ``XGBRanker``, ``XGBClassifier``,
  ``XGBRegressor``): XGBoost's UBJSON model, loaded into the same wrapper class;
- scikit-learn's binary linear classifiers (``LogisticRegression``,
  ``SGDClassifier``, ``LinearSVC``, ...) and single-output linear
  regressors (``RidgeCV``, the default blender, ``Ridge``,
  ``LinearRegression``, ...): their weights, loaded into the same class.

Any other model gives None, and ``save`` then refuses with a message naming
these choices.
"""

import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np
from scipy.special import expit
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    clone,
    is_classifier,
    is_regressor,
)

from recsys.ensemble._tree_kernels import forest_raw_scores

#: How TwoStageRecommender.save's refusal names the rankers that are saved.
SAVED_RANKERS = (
    "ranker=None or a HistGradientBoostingClassifier without categorical features, 'lambdarank' or any "
    "LightGBM model, 'xgboost' or any XGBoost model, or a scikit-learn linear classifier (LogisticRegression, "
    "SGDClassifier, LinearSVC, ...)"
)
#: How FeatureWeightedStacking.save's refusal names the blenders that are saved.
SAVED_BLENDERS = (
    "final_estimator=None (RidgeCV) or another scikit-learn linear regressor (Ridge, LinearRegression, ...), "
    "a HistGradientBoostingRegressor with loss squared_error, absolute_error or quantile, or a LightGBM or "
    "XGBoost regressor"
)


def _module_root(estimator):
    return type(estimator).__module__.split(".")[0]


def saved_model(model):
    """An estimator that saves a fitted ranker's (or blender's) model, or None when there is no such form."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    forests = {HistGradientBoostingClassifier: HistGradientBoostingTrees,
               HistGradientBoostingRegressor: HistGradientBoostingRegressorTrees}
    for kind, form in forests.items():
        if isinstance(model, kind):
            try:
                return form().fit(model)
            except ValueError:
                return None
    if _module_root(model) == "lightgbm":
        return LightGBMText().fit(model)
    if _module_root(model) == "xgboost":
        return XGBoostModel(wrapper=type(model).__name__).fit(model)
    for form in (LinearClassifierWeights, LinearRegressorWeights):
        if _module_root(model) == "sklearn" and form.holds(model):
            return form().fit(model)
    return None


def ranker_library(ranker):
    """The library of a fitted or loaded ranker ("lightgbm", "xgboost", "sklearn", ...)."""
    return getattr(ranker, "library", None) or _module_root(ranker)


def live_model(saved):
    """The object that predicts, from what :func:`saved_model` gave (after load)."""
    return saved.ranker()


class _RankerForm(BaseEstimator):
    """What is saved of a ranker; ``model_``, the ranker itself, is kept after fit and rebuilt after load."""

    _derived_attributes = ("model_",)

    def ranker(self):
        return self.model_

    def _rebuild_derived(self):
        if "model_" not in vars(self):
            self.model_ = self._rebuilt()


class _SavedModel(_RankerForm):
    """A ranker's model stored as bytes of its library's own format (``model_bytes_``)."""

    _fitted_shapes: ClassVar[dict] = {"model_bytes_": ("n_model_bytes_",)}

    def _store(self, data, model):
        self.model_bytes_ = np.frombuffer(bytes(data), dtype=np.uint8).copy()
        self.n_model_bytes_ = int(self.model_bytes_.size)
        self.model_ = model
        return self

    def _rebuilt(self):
        try:
            return self._parse(self.model_bytes_.tobytes())
        except ImportError:
            raise
        except Exception as error:  # noqa: BLE001 - the library's own error class, whatever it is
            raise ValueError(
                f"cannot load the ranker's {type(self).__name__} model: {type(error).__name__}: {error}. "
                "The file is damaged; save the fitted model again."
            ) from None


class LightGBMText(_SavedModel):
    """A fitted LightGBM model as LightGBM's text format; after load, it predicts with a ``lightgbm.Booster``.

    LightGBM's scikit-learn classes cannot take a loaded booster, so this
    object is the ranker after load: ``predict`` is the booster's (raw
    ranking scores, or the positive class's probability for a
    ``LGBMClassifier``, as its ``predict_proba[:, 1]``; ``pred_contrib=True``
    gives the contributions).
    """

    #: the library whose model this is, for TwoStageRecommender.feature_contributions
    library = "lightgbm"

    def ranker(self):
        return self

    def predict(self, X, **options):
        """The booster's prediction for X; ``options`` as ``lightgbm.Booster.predict``."""
        return self.model_.predict(X, **options)

    def fit(self, model):
        """Store a fitted LightGBM scikit-learn model (its booster's text)."""
        return self._store(model.booster_.model_to_string().encode(), model)

    def _parse(self, data):
        from recsys.ensemble._two_stage import _import_ltr

        return _import_ltr("lightgbm").Booster(model_str=data.decode())


class XGBoostModel(_SavedModel):
    """A fitted XGBoost scikit-learn model as XGBoost's UBJSON format, loaded into ``wrapper``."""

    def __init__(self, wrapper="XGBRanker"):
        self.wrapper = wrapper

    def fit(self, model):
        """Store a fitted XGBoost scikit-learn model."""
        # save_model (not the booster's save_raw) keeps the wrapper's own attributes.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.ubj"
            model.save_model(path)
            return self._store(path.read_bytes(), model)

    def _parse(self, data):
        from recsys.ensemble._two_stage import _import_ltr

        xgboost = _import_ltr("xgboost")
        wrapper = getattr(xgboost, self.wrapper, None)
        if not (isinstance(wrapper, type) and issubclass(wrapper, xgboost.XGBModel)):
            raise ValueError(f"{self.wrapper!r} is no XGBoost scikit-learn model class")  # noqa: TRY004 - a damaged file
        model = wrapper()
        model.load_model(bytearray(data))
        return model


class _Forest(BaseEstimator):
    """The trees of a fitted scikit-learn ``HistGradientBoosting*`` model as flat arrays.

    The raw score is the model's to the same floats: the same walk of each
    tree and the same sum (see :mod:`recsys.ensemble._tree_kernels`). Built
    by ``fit(model)``; its arrays are checked on load (index ranges, and
    every child after its node inside its tree, so a walk ends).
    """

    _fitted_shapes: ClassVar[dict] = {
        "feature_": ("n_nodes",), "threshold_": ("n_nodes",), "missing_left_": ("n_nodes",),
        "left_": ("n_nodes",), "right_": ("n_nodes",), "value_": ("n_nodes",), "is_leaf_": ("n_nodes",),
        "tree_indptr_": ("n_trees + 1",), "baseline_": (1,),
    }
    _fitted_indices: ClassVar[dict] = {"feature_": "n_features_in_", "left_": "n_nodes", "right_": "n_nodes"}
    _fitted_indptrs: ClassVar[dict] = {"tree_indptr_": "value_"}

    def fit(self, model):
        """Take the trees of a fitted model with one tree per iteration on numeric features.

        Raises
        ------
        ValueError
            When they are not (multi-class, categorical features, a loss
            whose link is not the identity for a regressor), or scikit-learn
            keeps them differently.
        """
        predictors = getattr(model, "_predictors", None)
        if (predictors is None or getattr(model, "n_trees_per_iteration_", None) != 1
                or getattr(model, "_preprocessor", None) is not None or not self._supports(model)):
            raise ValueError("only one-tree-per-iteration models on numeric features are stored as trees")
        # scikit-learn keeps each tree's nodes in one record array (its TreePredictor.nodes).
        trees = [iteration[0].nodes for iteration in predictors]
        if any(bool(nodes["is_categorical"].any()) for nodes in trees):
            raise ValueError("trees with categorical splits are not stored")
        sizes = np.array([len(nodes) for nodes in trees], dtype=np.int64)
        self.tree_indptr_ = np.concatenate([[0], np.cumsum(sizes)])
        offset = np.repeat(self.tree_indptr_[:-1], sizes)
        nodes = np.concatenate(trees)
        self.feature_ = nodes["feature_idx"].astype(np.int64)
        self.threshold_ = nodes["num_threshold"].astype(np.float64)
        self.missing_left_ = nodes["missing_go_to_left"].astype(bool)
        self.is_leaf_ = nodes["is_leaf"].astype(bool)
        # Children as indices into the flat arrays; a leaf points to itself (never followed).
        own = np.arange(len(nodes), dtype=np.int64)
        self.left_ = np.where(self.is_leaf_, own, nodes["left"].astype(np.int64) + offset)
        self.right_ = np.where(self.is_leaf_, own, nodes["right"].astype(np.int64) + offset)
        self.value_ = nodes["value"].astype(np.float64)
        self.baseline_ = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(1)
        self.n_features_in_ = int(model.n_features_in_)
        return self

    def _rebuild_derived(self):
        """Refuse trees a walk could loop in: each child must come after its node, inside its tree."""
        inner = np.flatnonzero(~self.is_leaf_)
        tree_end = self.tree_indptr_[np.searchsorted(self.tree_indptr_, inner, side="right")] \
            if inner.size else inner
        for child in (self.left_, self.right_):
            if inner.size and ((child[inner] <= inner) | (child[inner] >= tree_end)).any():
                raise ValueError(
                    "cannot load the ranker's trees: a child node does not come after its parent inside its "
                    "tree (fitted attributes left_/right_). The file is damaged; save the fitted model again."
                )
        if (np.diff(self.tree_indptr_) < 1).any():
            raise ValueError("cannot load the ranker's trees: tree_indptr_ gives a tree without nodes. "
                             "The file is damaged; save the fitted model again.")

    def ranker(self):
        return self

    def _raw_scores(self, X):
        return forest_raw_scores(np.asarray(X, dtype=np.float64), self.feature_, self.threshold_,
                                 self.missing_left_, self.left_, self.right_, self.value_, self.is_leaf_,
                                 self.tree_indptr_, self.baseline_[0])


class HistGradientBoostingTrees(ClassifierMixin, _Forest):
    """The trees of a fitted binary ``HistGradientBoostingClassifier``; its ``predict_proba`` to the float."""

    _fitted_shapes: ClassVar[dict] = {"classes_": (2,)}

    def _supports(self, classifier):
        return len(classifier.classes_) == 2

    def fit(self, classifier):
        super().fit(classifier)
        self.classes_ = np.asarray(classifier.classes_)
        return self

    def decision_function(self, X):
        """Raw score (log-odds of class ``classes_[1]``) of each row."""
        return self._raw_scores(X)

    def predict_proba(self, X):
        """Probabilities of ``classes_``, shape (n_rows, 2), as the classifier's ``predict_proba``."""
        proba = np.empty((len(X), 2))
        proba[:, 1] = expit(self.decision_function(X))
        proba[:, 0] = 1 - proba[:, 1]
        return proba

    def predict(self, X):
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


class _LinearWeights(_RankerForm):
    """A fitted linear model of scikit-learn as its weights, loaded into its class.

    Its predictions depend on ``coef_`` and ``intercept_`` (and ``classes_``
    for a classifier) only: ``decision_function`` or ``predict`` is
    ``X @ coef_.T + intercept_``. These, with the feature count and names
    that the input checks read, make the same model. ``estimator`` is the
    unfitted model (its parameters), saved as a parameter.
    """

    _fitted_optional = ("feature_names_in_",)
    _COPIED = ("coef_", "intercept_", "classes_", "n_features_in_", "feature_names_in_")

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, model):
        """Take the weights of a fitted model (see ``holds``)."""
        self.estimator = clone(model)
        for name in self._COPIED:
            if hasattr(model, name):
                setattr(self, name, getattr(model, name))
        self.model_ = model
        return self

    def _rebuilt(self):
        model = clone(self.estimator)
        for name in self._COPIED:
            if name in vars(self):
                setattr(model, name, getattr(self, name))
        return model


class LinearClassifierWeights(_LinearWeights):
    """A fitted binary linear classifier (``LogisticRegression``, ``SGDClassifier``, ``LinearSVC``, ...)."""

    _fitted_shapes: ClassVar[dict] = {"coef_": (1, "n_features_in_"), "intercept_": (1,), "classes_": (2,),
                                      "feature_names_in_": ("n_features_in_",)}

    @staticmethod
    def holds(classifier):
        """Whether classifier is a fitted binary linear classifier these weights describe."""
        coef, intercept = getattr(classifier, "coef_", None), getattr(classifier, "intercept_", None)
        return (is_classifier(classifier) and hasattr(classifier, "decision_function")
                and isinstance(coef, np.ndarray) and coef.shape == (1, getattr(classifier, "n_features_in_", -1))
                and np.shape(intercept) == (1,) and len(classifier.classes_) == 2)


class LinearRegressorWeights(_LinearWeights):
    """A fitted single-output linear regressor (``Ridge``, ``RidgeCV``, ``LinearRegression``, ...)."""

    _fitted_shapes: ClassVar[dict] = {"coef_": ("n_features_in_",), "feature_names_in_": ("n_features_in_",)}

    @staticmethod
    def holds(regressor):
        """Whether regressor is a fitted single-output linear regressor these weights describe."""
        coef = getattr(regressor, "coef_", None)
        return (is_regressor(regressor) and isinstance(coef, np.ndarray)
                and coef.shape == (getattr(regressor, "n_features_in_", -1),)
                and np.ndim(getattr(regressor, "intercept_", None)) == 0)


class HistGradientBoostingRegressorTrees(RegressorMixin, _Forest):
    """The trees of a fitted ``HistGradientBoostingRegressor`` whose loss has the identity link; its ``predict``."""

    _IDENTITY_LINK_LOSSES = ("squared_error", "absolute_error", "quantile")

    def _supports(self, regressor):
        return regressor.loss in self._IDENTITY_LINK_LOSSES

    def predict(self, X):
        return self._raw_scores(X)
