"""FeatureWeightedStacking saves and loads without pickle when its blender has a pickle-free form; else save says so."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

from recsys.datasets import make_ratings
from recsys.ensemble import FeatureWeightedStacking
from recsys.ensemble._ranker_state import HistGradientBoostingRegressorTrees
from recsys.factorization import BaselineOnly, BiasedMF
from recsys.preprocessing import PairFeatures


@pytest.fixture(scope="module")
def data():
    events = make_ratings(120, 50, density=0.2, random_state=4).to_pandas()
    # String ids: saved as JSON, matched again after load.
    events = events.astype({"user": str, "item": str})
    return events[["user", "item"]], events["rating"]


def members():
    return [("baseline", BaselineOnly()), ("mf", BiasedMF(n_factors=6, n_epochs=20, random_state=0))]


def test_gradient_boosted_blender_on_pair_features_round_trips(data, tmp_path):
    X, y = data
    blend = FeatureWeightedStacking(members(), meta_features=PairFeatures(time=False), feature_weighting=False,
                                    final_estimator=HistGradientBoostingRegressor(max_iter=20, random_state=0),
                                    cv=3).fit(X, y)
    blend.save(tmp_path / "blend")
    restored = FeatureWeightedStacking.load(tmp_path / "blend")
    assert isinstance(restored.final_estimator_, HistGradientBoostingRegressorTrees)
    assert list(restored.named_estimators_) == ["baseline", "mf"]
    np.testing.assert_array_equal(restored.predict(X), blend.predict(X))
    np.testing.assert_array_equal(restored.feature_mean_, blend.feature_mean_)


def test_linear_blender_keeps_its_blend_weights(data, tmp_path):
    X, y = data
    blend = FeatureWeightedStacking(members(), meta_features=PairFeatures(time=False), cv=3).fit(X, y)
    blend.save(tmp_path / "blend")
    restored = FeatureWeightedStacking.load(tmp_path / "blend")
    np.testing.assert_array_equal(restored.blend_weights(X[:40]).to_numpy(), blend.blend_weights(X[:40]).to_numpy())


def test_blender_without_a_pickle_free_form_is_refused_naming_the_choices(data, tmp_path):
    X, y = data
    blend = FeatureWeightedStacking(members(), final_estimator=RandomForestRegressor(n_estimators=5, random_state=0),
                                    feature_weighting=False, cv=3).fit(X, y)
    assert blend.final_estimator_state_ is None
    with pytest.raises(ValueError, match=r"blender RandomForestRegressor keeps its fitted model in private state"
                                         r".*final_estimator=None \(RidgeCV\)"):
        blend.save(tmp_path / "blend")
    assert not (tmp_path / "blend.npz").exists()
