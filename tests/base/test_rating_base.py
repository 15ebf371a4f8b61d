"""The rating-predictor base class and its contract, on a minimal biased-mean model."""

import numpy as np
import pytest

from recsys.base import BaseRatingPredictor, DegenerateFitError
from recsys.testing import RatingPredictorContract, SaveLoadChecks


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


class TestItemMeanContract(RatingPredictorContract, SaveLoadChecks):
    def make_estimator(self):
        return ItemMeanPredictor()


def test_predict_clips_to_training_range():
    model = ItemMeanPredictor(shrinkage=0.0).fit([[0, 0], [1, 0], [0, 1]], [1.0, 1.0, 5.0])
    assert model.rating_min_ == 1.0 and model.rating_max_ == 5.0
    np.testing.assert_allclose(model.predict([[0, 0], [0, 1]]), [1.0, 5.0])


class NaNPredictor(ItemMeanPredictor):
    """A broken model whose fit leaves a NaN parameter."""

    def _fit(self, users, items, ratings):
        super()._fit(users, items, ratings)
        self.item_bias_[0] = np.nan


def test_non_finite_fitted_parameters_raise_at_fit():
    with pytest.raises(DegenerateFitError, match="item_bias_ holds NaN or inf.*divide them by a constant"):
        NaNPredictor().fit([[0, 0], [1, 1]], [1.0, 5.0])


def test_non_finite_predictions_are_never_replaced():
    model = ItemMeanPredictor().fit([[0, 0], [1, 1]], [1.0, 5.0])
    model.item_bias_[1] = np.inf  # e.g. a model file edited by hand
    with pytest.raises(DegenerateFitError, match="NaN or inf for 1 of 2 pairs"):
        model.predict([[0, 0], [1, 1]])
