import inspect
import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.ensemble import (
    HistGradientBoostingRegressor,
    StackingRegressor,
    VotingRegressor,
)
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit
from sklearn.preprocessing import FunctionTransformer

import recsys.factorization
import recsys.neighbors
from recsys.base import BaseRatingPredictor, UnknownPairsWarning
from recsys.ensemble import FeatureWeightedStacking, WeightedHybrid
from recsys.factorization import BaselineOnly, BiasedMF
from recsys.neighbors import KNNBaseline, SlopeOne
from recsys.testing import RatingPredictorContract, SaveLoadChecks, rating_contract_data
from recsys.testing._sklearn_checks import RATING_PREDICTOR_EXPECTED_FAILURES


def support_features(X):
    """A test-only meta-feature: the two id columns as numbers (stand-in for real support counts)."""
    return np.log1p(np.abs(np.asarray(X, dtype=np.float64)))


def members():
    return [("baseline", BaselineOnly()), ("mf", BiasedMF(n_factors=8, n_epochs=30, random_state=0)),
            ("slope", SlopeOne())]


# FeatureWeightedStacking is a meta-estimator, not a BaseRatingPredictor: it takes the checks that
# rating predictors fail, for the same reasons, plus its own.
_BLEND_EXPECTED_FAILURES = {
    **RATING_PREDICTOR_EXPECTED_FAILURES,
    **dict.fromkeys(["check_estimator_sparse_tag", "check_estimator_sparse_array",
                     "check_estimator_sparse_matrix", "check_complex_data",
                     "check_estimators_empty_data_messages", "check_requires_y_none"],
                    "not yet: refused by recsys.utils.check_pairs/check_ratings in recsys's wording, "
                    "not scikit-learn's (the members' own checks)"),
}


class TestFeatureWeightedStackingContract(RatingPredictorContract, SaveLoadChecks):
    sklearn_expected_failures: ClassVar[dict] = _BLEND_EXPECTED_FAILURES

    def make_estimator(self):
        return FeatureWeightedStacking(members(), cv=3)


@pytest.mark.slow
class TestGradientBoostedBlenderContract(RatingPredictorContract, SaveLoadChecks):
    sklearn_expected_failures: ClassVar[dict] = _BLEND_EXPECTED_FAILURES

    def make_estimator(self):
        return FeatureWeightedStacking(members(), final_estimator=HistGradientBoostingRegressor(
            max_iter=30, random_state=0), feature_weighting=False, cv=3)


@pytest.fixture(scope="module")
def data():
    return rating_contract_data()


class LogSupport(TransformerMixin, BaseEstimator):
    """Test meta-features learned from the training pairs: log support of the user and of the item."""

    def fit(self, X, y=None):
        X = pd.DataFrame(np.asarray(X), columns=["user", "item"])
        self.user_counts_ = X["user"].value_counts()
        self.item_counts_ = X["item"].value_counts()
        return self

    def transform(self, X):
        X = pd.DataFrame(np.asarray(X), columns=["user", "item"])
        return np.column_stack([
            np.log1p(X["user"].map(self.user_counts_).fillna(0).to_numpy(float)),
            np.log1p(X["item"].map(self.item_counts_).fillna(0).to_numpy(float)),
        ])


@pytest.fixture
def user_item_stats():
    return LogSupport()


# ------------------------------------------------------------------ every predictor stacks
def all_rating_predictors():
    """Every public rating predictor of recsys, with its default parameters (seeded where it has a seed)."""
    found = []
    for module in (recsys.factorization, recsys.neighbors):
        for name in module.__all__:
            cls = getattr(module, name)
            if inspect.isclass(cls) and issubclass(cls, BaseRatingPredictor):
                found.append(cls(random_state=0) if "random_state" in cls().get_params() else cls())
    return found


def test_the_list_of_rating_predictors_is_complete():
    names = {type(model).__name__ for model in all_rating_predictors()}
    assert {"BaselineOnly", "BiasedMF", "SVDpp", "NMF", "ALSRating", "KNNBaseline", "KNNBasic",
            "KNNWithMeans", "SlopeOne"} <= names


@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
@pytest.mark.parametrize("model", all_rating_predictors(), ids=lambda model: type(model).__name__)
def test_every_rating_predictor_works_in_stacking_and_voting(data, model):
    X, y = data
    train, test = X.iloc[:1200], X.iloc[1200:]
    cv = KFold(3, shuffle=True, random_state=0)
    stack = StackingRegressor([("model", model), ("baseline", BaselineOnly())],
                              final_estimator=RidgeCV(), cv=cv).fit(train, y[:1200])
    vote = VotingRegressor([("model", model), ("baseline", BaselineOnly())]).fit(train, y[:1200])
    blend = FeatureWeightedStacking([("model", model), ("baseline", BaselineOnly())], cv=cv).fit(
        train, y[:1200])
    for ensemble in (stack, vote, blend):
        predictions = ensemble.predict(test)
        assert predictions.shape == (len(test),) and np.isfinite(predictions).all()


# ------------------------------------------------------------------ what the blend computes
@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
def test_without_meta_features_the_blend_is_a_linear_stack_of_out_of_fold_predictions(data):
    X, y = data
    cv = KFold(3, shuffle=True, random_state=0)
    blend = FeatureWeightedStacking(members(), final_estimator=LinearRegression(), cv=cv).fit(X, y)
    stack = StackingRegressor(members(), final_estimator=LinearRegression(), cv=cv).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownPairsWarning)
        np.testing.assert_allclose(blend.final_estimator_.coef_, stack.final_estimator_.coef_, rtol=1e-6)
        np.testing.assert_allclose(blend.predict(X[:100]),
                                   np.clip(stack.predict(X[:100]), y.min(), y.max()), rtol=1e-6)


def test_blend_weights_are_linear_in_the_meta_features(data, user_item_stats):
    X, y = data
    blend = FeatureWeightedStacking(members(), meta_features=user_item_stats, cv=3).fit(X, y)
    n_members, n_features = 3, 2
    assert len(blend.feature_names_in_blender_) == n_members + n_features + n_members * n_features
    weights = blend.blend_weights(X[:50])
    assert list(weights.columns) == ["baseline", "mf", "slope"]
    # Rebuild the prediction from the weights: b + sum_m weight_m (p_m - mu) + sum_j c_j f_j.
    predictions = np.column_stack([member.predict(X[:50]) for member in blend.estimators_])
    scaled = (blend.meta_features_.transform(X[:50]) - blend.feature_mean_) / blend.feature_scale_
    coef = blend.final_estimator_.coef_
    rebuilt = (blend.final_estimator_.intercept_
               + ((predictions - blend.global_mean_) * weights.to_numpy()).sum(axis=1)
               + scaled @ coef[n_members:n_members + n_features])
    np.testing.assert_allclose(blend.predict(X[:50]), np.clip(rebuilt, y.min(), y.max()), rtol=1e-10)
    # The weights vary across pairs: that is the point of feature weighting.
    assert weights.std().max() > 0


def test_meta_features_are_fitted_per_fold_and_on_all_data(data, user_item_stats):
    X, y = data
    blend = FeatureWeightedStacking(members(), meta_features=user_item_stats, cv=3).fit(X, y)
    assert blend.meta_features_ is not user_item_stats
    assert blend.meta_features_.user_counts_.sum() == len(X)
    assert not hasattr(user_item_stats, "user_counts_")


def test_holdout_blending_trains_the_blender_on_the_probe_pairs_only(data):
    X, y = data
    probe = ShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
    blend = FeatureWeightedStacking(members(), cv=probe).fit(X, y)
    assert np.isfinite(blend.predict(X[:20])).all()


def test_overlapping_test_folds_are_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="more than one test fold"):
        FeatureWeightedStacking(members(), cv=ShuffleSplit(n_splits=3, test_size=0.5, random_state=0)).fit(X, y)


def test_member_parameters_are_searchable(data):
    X, y = data
    search = GridSearchCV(FeatureWeightedStacking(members(), cv=2), {"mf__n_factors": [2, 6]},
                          cv=KFold(2, shuffle=True, random_state=0), scoring="neg_root_mean_squared_error")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownPairsWarning)
        search.fit(X, y)
    assert search.best_estimator_.named_estimators_.mf.n_factors == search.best_params_["mf__n_factors"]
    assert clone(search.best_estimator_).get_params()["mf__n_factors"] == search.best_params_["mf__n_factors"]


def test_blend_is_not_worse_than_its_best_member_out_of_sample(data):
    X, y = data
    train, test = np.arange(len(y)) % 5 != 0, np.arange(len(y)) % 5 == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownPairsWarning)
        blend = FeatureWeightedStacking(members(), cv=5).fit(X[train], y[train])
        rmse = lambda model: np.sqrt(np.mean((model.predict(X[test]) - y[test]) ** 2))
        best_member = min(rmse(member) for member in blend.estimators_)
        assert rmse(blend) <= best_member + 0.01


def test_function_transformer_meta_features_work(data):
    X, y = data
    blend = FeatureWeightedStacking(members(), meta_features=FunctionTransformer(support_features), cv=2)
    assert np.isfinite(blend.fit(X, y).predict(X[:5])).all()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("estimators, error, message", [
    ([], ValueError, "non-empty list"),
    ([("a", BaselineOnly()), ("a", SlopeOne())], ValueError, "not unique"),
    ([("a", BaselineOnly)], TypeError, "instance"),
    ([("a", WeightedHybrid([("b", KNNBaseline())]))], TypeError, "not a regressor"),
])
def test_bad_members_are_rejected(data, estimators, error, message):
    with pytest.raises(error, match=message):
        FeatureWeightedStacking(estimators).fit(*data)


def test_blend_weights_need_a_linear_blender(data):
    blend = FeatureWeightedStacking(members(), final_estimator=HistGradientBoostingRegressor(max_iter=5),
                                    feature_weighting=False, cv=2).fit(*data)
    with pytest.raises(ValueError, match="linear blender"):
        blend.blend_weights(data[0][:3])


# ------------------------------------------------------------------ PairFeatures as meta-features
@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
def test_pair_features_get_the_ratings_of_each_training_fold(data):
    from sklearn.pipeline import make_pipeline

    from recsys.preprocessing import PairFeatures

    X, y = data
    X = pd.DataFrame(np.asarray(X), columns=["user", "item"])
    for meta_features in (PairFeatures(time=False),
                          make_pipeline(PairFeatures(time=False), FunctionTransformer(np.log1p))):
        blend = FeatureWeightedStacking(members(), meta_features=meta_features, cv=3).fit(X, y)
        names = list(blend.feature_names_in_blender_)
        if not hasattr(meta_features, "steps"):
            assert {"user_rating_mean", "item_rating_std", "mf*user_rating_std"} <= set(names)
            # Fitted on all of X: its user means are the users' mean ratings.
            means = pd.Series(y).groupby(X["user"].to_numpy()).mean()
            features = blend.meta_features_.transform(X.iloc[:30])
            np.testing.assert_allclose(features[:, names.index("user_rating_mean") - 3],
                                       means.loc[X["user"].iloc[:30]].to_numpy())
        else:
            # Seven columns: counts, rating statistics and popularity rank, not counts alone.
            assert blend.feature_mean_.shape == (7,)
        assert "rating" not in X.columns  # the caller's frame is untouched
        assert np.isfinite(blend.predict(X.iloc[:20])).all()
