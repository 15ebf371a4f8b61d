"""The contract every recsys rating predictor keeps, as a pytest mixin.

A rating predictor's test module declares::

    class TestMyModel(RatingPredictorContract):
        def make_estimator(self):
            return MyModel(n_factors=8, random_state=0)
"""

import pickle
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from recsys.base import DegenerateFitError, UnknownPairsWarning
from recsys.datasets import make_ratings
from recsys.testing._sklearn_checks import assert_sklearn_checks_pass


def rating_contract_data(n_users=150, n_items=80, density=0.12, random_state=0):
    """Generated (pairs DataFrame, ratings) the rating contract tests run on."""
    data = make_ratings(n_users, n_items, density=density, random_state=random_state).to_pandas()
    return data[["user", "item"]], data["rating"].to_numpy()


class RatingPredictorContract:
    """Mixin of pytest tests that every rating predictor must pass."""

    #: identical predictions for identical input and parameters
    deterministic = True
    #: "mean" (the global mean) or None: a predictor the model must beat in RMSE
    must_beat = "mean"
    #: ``{check name: reason}`` of scikit-learn checks this estimator fails beyond those
    #: :func:`recsys.testing.expected_failed_checks` lists for its kind
    sklearn_expected_failures: ClassVar[dict] = {}

    def make_estimator(self):
        raise NotImplementedError("a contract test class must define make_estimator()")

    @pytest.fixture(scope="class")
    def data(self):
        return rating_contract_data()

    @pytest.fixture(scope="class")
    def fitted(self, data):
        X, y = data
        return self.make_estimator().fit(X, y)

    def test_fit_returns_self(self, data):
        estimator = self.make_estimator()
        assert estimator.fit(*data) is estimator

    def test_sklearn_checks(self):
        # Every scikit-learn estimator check, less those recsys.testing lists with their reason.
        assert_sklearn_checks_pass(self.make_sklearn_check_estimator(), self.sklearn_expected_failures)

    def make_sklearn_check_estimator(self):
        """The instance scikit-learn's checks run on: ``make_estimator()`` unless overridden.

        The checks fit on a handful of samples and features, dozens of times:
        override to return a smaller instance (fewer factors or iterations).
        """
        return self.make_estimator()

    def test_unfitted_predict_raises(self, data):
        with pytest.raises(NotFittedError):
            self.make_estimator().predict(data[0][:3])

    def test_predictions_finite_and_clipped(self, fitted, data):
        X, y = data
        predictions = fitted.predict(X)
        assert predictions.shape == (len(X),)
        assert np.isfinite(predictions).all()
        assert predictions.min() >= y.min() and predictions.max() <= y.max()

    def test_array_and_dataframe_input_agree(self, fitted, data):
        X, _ = data
        np.testing.assert_allclose(fitted.predict(X[:50]), fitted.predict(X[:50].to_numpy()))

    def test_string_ids(self, data):
        X, y = data
        X = X.astype(str)
        predictions = self.make_estimator().fit(X, y).predict(X[:10])
        assert np.isfinite(predictions).all()

    def test_unknown_ids_fall_back_with_warning(self, fitted, data):
        X, _ = data
        known_user, known_item = X.iloc[0]
        unseen = pd.DataFrame({"user": [known_user, -12345, -12345],
                               "item": [-54321, known_item, -54321]})
        with pytest.warns(UnknownPairsWarning, match="3 of 3"):
            predictions = fitted.predict(unseen)
        assert np.isfinite(predictions).all()

    def test_pickle_round_trip(self, fitted, data):
        restored = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_allclose(restored.predict(data[0]), fitted.predict(data[0]))

    def test_deterministic(self, data):
        if not self.deterministic:
            pytest.skip("this predictor is not deterministic")
        first = self.make_estimator().fit(*data).predict(data[0])
        second = self.make_estimator().fit(*data).predict(data[0])
        np.testing.assert_allclose(first, second, rtol=1e-6)

    @pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
    def test_beats_global_mean_out_of_sample(self, data):
        if self.must_beat is None:
            pytest.skip("no quality bar set for this predictor")
        X, y = data
        scores = cross_val_score(self.make_estimator(), X, y, cv=KFold(3, shuffle=True, random_state=0),
                                 scoring="neg_root_mean_squared_error")
        baseline = [np.sqrt(np.mean((y[test] - y[train].mean()) ** 2))
                    for train, test in KFold(3, shuffle=True, random_state=0).split(X)]
        assert -scores.mean() < np.mean(baseline)

    @pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
    def test_grid_search(self, data):
        X, y = data
        # One candidate with the estimator's own parameters: works for parameter-free models too.
        search = GridSearchCV(self.make_estimator(), [{}], cv=KFold(2, shuffle=True, random_state=0),
                              scoring="neg_root_mean_squared_error")
        assert np.isfinite(search.fit(X, y).best_score_)

    def test_large_rating_scale_fits_or_raises_clearly(self, data):
        # Ratings x100 (100 to 500) must either fit, or raise DegenerateFitError
        # saying to rescale: never NaN replaced by a default, nor a constant.
        X, y = data
        y = 100.0 * y
        try:
            predictions = self.make_estimator().fit(X, y).predict(X)
        except DegenerateFitError as error:
            assert "divide the ratings" in str(error).lower()
            return
        assert np.isfinite(predictions).all()
        assert predictions.std() > 0.01 * y.std()
        assert np.sqrt(np.mean((predictions - y) ** 2)) < y.std()

    def test_duplicate_pairs_need_a_policy(self, data):
        X, y = data
        repeated = pd.concat([X, X.iloc[:5]], ignore_index=True)
        ratings = np.concatenate([y, y[:5] + 1.0])
        with pytest.raises(ValueError, match="repeated .* duplicates="):
            self.make_estimator().fit(repeated, ratings)
        # "mean" merges each repeat into one pair: the model sees the averages.
        averaged = y.astype(float).copy()
        averaged[:5] += 0.5
        merged = self.make_estimator().fit(repeated, ratings, duplicates="mean")
        direct = self.make_estimator().fit(X, averaged)
        if self.deterministic:
            np.testing.assert_allclose(merged.predict(X), direct.predict(X), rtol=1e-6, atol=1e-9)

    def test_inputs_unchanged_by_fit_and_predict(self, data):
        X, y = data
        X_before, y_before = X.copy(deep=True), y.copy()
        self.make_estimator().fit(X, y).predict(X)
        pd.testing.assert_frame_equal(X, X_before)
        np.testing.assert_array_equal(y, y_before)

    @pytest.mark.parametrize("bad, message", [
        ("nan_rating", "NaN"), ("inf_rating", "infinite"), ("missing_id", "missing"), ("empty", "empty"),
    ])
    def test_bad_input(self, data, bad, message):
        X, y = data
        X, y = X.copy(), y.astype(float).copy()
        if bad == "nan_rating":
            y[0] = np.nan
        elif bad == "inf_rating":
            y[0] = np.inf
        elif bad == "missing_id":
            X = X.astype(object)
            X.iloc[0, 0] = None
        else:
            X, y = X[:0], y[:0]
        with pytest.raises(ValueError, match=message):
            self.make_estimator().fit(X, y)
