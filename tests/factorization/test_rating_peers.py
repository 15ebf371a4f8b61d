"""Rating predictors against Surprise, their reference implementation."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold, cross_val_score

from recsys.datasets import make_ratings
from recsys.factorization import NMF, BaselineOnly, BiasedMF, SVDpp
from recsys.testing import RatingPredictorContract

pytestmark = [pytest.mark.peers, pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")]

# RMSE is averaged over 3 folds of ~4,800 ratings and 8 seeds: across seeds it spreads by
# ~0.005 for the biased models but ~0.02 for unbiased MF, which 20 epochs leave unconverged,
# so a single seed (or three) can land either library 0.01 off its mean.
TOLERANCE = 0.01
SEEDS = range(8)


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


def _seed_averaged_cv_rmse(make_estimator, X, y):
    return np.mean([_cv_rmse(make_estimator(seed), X, y) for seed in SEEDS])


@pytest.mark.slow
@pytest.mark.parametrize("ours, algorithm, params", [
    (BiasedMF(n_factors=20), "SVD", {"n_factors": 20}),
    (BiasedMF(n_factors=20, biased=False), "SVD", {"n_factors": 20, "biased": False}),
    (SVDpp(n_factors=10), "SVDpp", {"n_factors": 10}),
    (NMF(), "NMF", {}),
])
def test_rmse_within_tolerance_of_surprise(surprise_adapter, ratings, ours, algorithm, params):
    X, y = ratings
    ours_rmse = _seed_averaged_cv_rmse(lambda seed: clone(ours).set_params(random_state=seed), X, y)
    theirs_rmse = _seed_averaged_cv_rmse(
        lambda seed: surprise_adapter(algorithm, {**params, "random_state": seed}), X, y)
    assert ours_rmse <= theirs_rmse + TOLERANCE


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

    # The peer is wrapped as it is: this documents its silent failure, which BiasedMF reports.
    @pytest.mark.xfail(strict=True, reason="Surprise's SVD diverges silently on ratings x100 and "
                                           "predicts one clipped constant")
    def test_large_rating_scale_fits_or_raises_clearly(self, data):
        super().test_large_rating_scale_fits_or_raises_clearly(data)
