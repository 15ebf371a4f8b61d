"""The rating-predictor base class and its contract, on a minimal biased-mean model."""

import numpy as np

from recsys.base import BaseRatingPredictor
from recsys.testing import RatingPredictorContract


class ItemMeanPredictor(BaseRatingPredictor):
    """Global mean plus the mean item deviation: the smallest useful rating predictor."""

    def __init__(self, shrinkage=5.0):
        self.shrinkage = shrinkage

    def _fit(self, users, items, ratings):
        deviation = np.bincount(items, ratings - self.global_mean_, minlength=self.n_items_)
        counts = np.bincount(items, minlength=self.n_items_)
        self.item_bias_ = deviation / (counts + self.shrinkage)

    def _predict(self, users, items):
        bias = np.where(items >= 0, self.item_bias_[np.maximum(items, 0)], 0.0)
        return self.global_mean_ + bias


class TestItemMeanContract(RatingPredictorContract):
    def make_estimator(self):
        return ItemMeanPredictor()


def test_predict_clips_to_training_range():
    model = ItemMeanPredictor(shrinkage=0.0).fit([[0, 0], [1, 0], [0, 1]], [1.0, 1.0, 5.0])
    assert model.rating_min_ == 1.0 and model.rating_max_ == 5.0
    np.testing.assert_allclose(model.predict([[0, 0], [0, 1]]), [1.0, 5.0])
