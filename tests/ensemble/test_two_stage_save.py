"""TwoStageRecommender saves and loads without pickle, whatever ranker saves natively; others are refused."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from recsys.datasets import make_interactions
from recsys.ensemble import TwoStageRecommender
from recsys.ensemble._ranker_state import HistGradientBoostingTrees, ranker_library
from recsys.ensemble._tree_kernels import forest_raw_scores, forest_raw_scores_reference
from recsys.linear import EASE
from recsys.neighbors import ItemKNN
from recsys.testing import SaveLoadChecks


def two_stage(**params):
    defaults = {"candidates": EASE(l2=20.0), "n_candidates": 30, "scorers": [("knn", ItemKNN(k=20))],
                "random_state": 0, "n_threads": 1}
    return TwoStageRecommender(**{**defaults, **params})


class TestDefaultRankerSaveLoad(SaveLoadChecks):
    """HistGradientBoostingClassifier, stored as its trees."""

    def make_estimator(self):
        return two_stage()

    def test_loaded_ranker_is_the_trees(self, saved):
        model, _, path = saved
        restored = TwoStageRecommender.load(path)
        assert isinstance(restored.ranker_, HistGradientBoostingTrees)
        assert [name for name, _ in restored.scorers_] == ["knn"]
        np.testing.assert_array_equal(restored.feature_importances_, model.feature_importances_)


class TestLogisticRegressionRankerSaveLoad(SaveLoadChecks):
    """A scikit-learn estimator whose fitted state is public is stored as itself."""

    def make_estimator(self):
        return two_stage(ranker=LogisticRegression(max_iter=500), scorers=[])


class TestLambdarankSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        pytest.importorskip("lightgbm")
        return two_stage(ranker="lambdarank", scorers=[])


class TestXGBoostSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        pytest.importorskip("xgboost")
        return two_stage(ranker="xgboost", scorers=[])


@pytest.fixture(scope="module")
def X():
    return make_interactions(400, 80, density=0.08, random_state=1).to_csr()


@pytest.mark.parametrize("ranker, module", [("lambdarank", "lightgbm"), ("xgboost", "xgboost")])
def test_loaded_ltr_ranker_gives_the_same_contributions(X, tmp_path, ranker, module):
    pytest.importorskip(module)
    model = two_stage(ranker=ranker, scorers=[]).fit(X)
    model.save(tmp_path / "model")
    restored = TwoStageRecommender.load(tmp_path / "model")
    assert ranker_library(restored.ranker_) == module
    expected, actual = model.feature_contributions(X[:5], n=5), restored.feature_contributions(X[:5], n=5)
    np.testing.assert_allclose(actual.to_numpy(dtype=float), expected.to_numpy(dtype=float), rtol=1e-6)


def test_ranker_without_a_pickle_free_form_is_refused_naming_the_choices(X, tmp_path):
    model = two_stage(ranker=CalibratedClassifierCV(LogisticRegression(max_iter=500), cv=2), scorers=[]).fit(X)
    assert model.ranker_state_ is None
    with pytest.raises(ValueError, match=r"ranker CalibratedClassifierCV keeps its fitted model in private state"
                                         r".*ranker=None or a HistGradientBoostingClassifier.*'lambdarank'"):
        model.save(tmp_path / "model")
    assert not (tmp_path / "model.npz").exists()


def test_categorical_trees_are_not_stored(X, tmp_path):
    ranker = HistGradientBoostingClassifier(max_iter=5, categorical_features=[2])  # candidate_rank
    model = two_stage(ranker=ranker, scorers=[], features="none", n_candidates=20).fit(X)
    assert model.ranker_state_ is None
    with pytest.raises(ValueError, match="HistGradientBoostingClassifier keeps its fitted model"):
        model.save(tmp_path / "model")


def test_a_tree_whose_child_points_back_is_refused_on_load(X, tmp_path):
    model = two_stage(scorers=[], features="none").fit(X)
    path = model.save(tmp_path / "model")
    with np.load(path, allow_pickle=False) as archive:
        entries = dict(archive)
    left = entries["attr:ranker_state_/left_"].copy()
    inner = np.flatnonzero(~entries["attr:ranker_state_/is_leaf_"])
    left[inner[1]] = inner[0]  # a loop: the walk would never reach a leaf
    entries["attr:ranker_state_/left_"] = left
    np.savez(tmp_path / "looped.npz", **entries)
    with pytest.raises(ValueError, match="child node does not come after its parent"):
        TwoStageRecommender.load(tmp_path / "looped.npz")


# ------------------------------------------------------------------ the tree kernel
@pytest.fixture(scope="module")
def classifier_and_rows():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(600, 6))
    labels = (rows[:, 0] + rows[:, 1] ** 2 + rng.normal(scale=0.5, size=600) > 1).astype(np.int8)
    rows[rng.random(rows.shape) < 0.1] = np.nan  # missing values take each node's learned side
    classifier = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(rows, labels)
    return classifier, rows


def test_trees_give_the_classifier_probabilities_to_the_float(classifier_and_rows):
    classifier, rows = classifier_and_rows
    trees = HistGradientBoostingTrees().fit(classifier)
    np.testing.assert_array_equal(trees.predict_proba(rows), classifier.predict_proba(rows))
    np.testing.assert_array_equal(trees.predict(rows), classifier.predict(rows))


def test_kernel_matches_its_numpy_reference(classifier_and_rows):
    classifier, rows = classifier_and_rows
    trees = HistGradientBoostingTrees().fit(classifier)
    arrays = (trees.feature_, trees.threshold_, trees.missing_left_, trees.left_, trees.right_, trees.value_,
              trees.is_leaf_, trees.tree_indptr_, trees.baseline_[0])
    np.testing.assert_array_equal(forest_raw_scores(rows, *arrays), forest_raw_scores_reference(rows, *arrays))
