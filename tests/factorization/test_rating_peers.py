"""Rating predictors against Surprise, their reference implementation."""

import numpy as np
import pytest
from sklearn.model_selection import KFold, cross_val_score

from recsys.datasets import make_ratings
from recsys.factorization import NMF, BaselineOnly, BiasedMF, SVDpp
from recsys.testing import RatingPredictorContract

pytestmark = [pytest.mark.peers, pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")]

# RMSE is averaged over 3 folds of ~4,800 ratings; seeds alone move it by ~0.005.
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def surprise_adapter():
    pytest.importorskip("surprise")
    from recsys.bench.peers.surprise import SurpriseRatingPredictor

    return SurpriseRatingPredictor


@pytest.fixture(scope="module")
def ratings():
    data = make_ratings(400, 300, density=0.06, random_state=3).to_pandas()
    return data[["user", "item"]], data["rating"].to_numpy()


def _cv_rmse(estimator, X, y):
    scores = cross_val_score(estimator, X, y, cv=KFold(3, shuffle=True, random_state=0),
                             scoring="neg_root_mean_squared_error")
    return -scores.mean()


@pytest.mark.slow
@pytest.mark.parametrize("ours, algorithm, params", [
    (BiasedMF(n_factors=20, random_state=0), "SVD", {"n_factors": 20}),
    (BiasedMF(n_factors=20, biased=False, random_state=0), "SVD", {"n_factors": 20, "biased": False}),
    (SVDpp(n_factors=10, random_state=0), "SVDpp", {"n_factors": 10}),
    (NMF(random_state=0), "NMF", {}),
])
def test_rmse_within_tolerance_of_surprise(surprise_adapter, ratings, ours, algorithm, params):
    X, y = ratings
    theirs = surprise_adapter(algorithm, {**params, "random_state": 0})
    assert _cv_rmse(ours, X, y) <= _cv_rmse(theirs, X, y) + TOLERANCE


def test_baseline_only_als_equals_surprise(surprise_adapter, ratings):
    X, y = ratings
    ours = BaselineOnly().fit(X, y).predict(X)
    theirs = surprise_adapter("BaselineOnly").fit(X, y).predict(X)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)


class TestSurpriseAdapter(RatingPredictorContract):
    def make_estimator(self):
        pytest.importorskip("surprise")
        from recsys.bench.peers.surprise import SurpriseRatingPredictor

        return SurpriseRatingPredictor("SVD", {"n_factors": 8, "random_state": 0})
