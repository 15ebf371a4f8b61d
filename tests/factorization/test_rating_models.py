"""The explicit-feedback rating predictors: contract, kernels, scikit-learn integration."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import StackingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from recsys.base import DegenerateFitError, UnknownPairsWarning
from recsys.factorization import NMF, ALSRating, BaselineOnly, BiasedMF, SVDpp
from recsys.factorization._biased_mf import _BlockGrid
from recsys.factorization._rating_common import group_by_row
from recsys.factorization._sgd_kernels import (
    biased_mf_epoch_reference,
    biased_mf_sgd,
    biased_mf_stratified_epoch,
    svdpp_epoch,
    svdpp_epoch_reference,
)
from recsys.testing import RatingPredictorContract, SaveLoadChecks
from recsys.testing._rating_contract import rating_contract_data

pytestmark = pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")


class SizeParameterChecks:
    """n_factors and n_epochs below 1 are refused by name (save/load: recsys.testing.SaveLoadChecks)."""

    @pytest.mark.parametrize("name", ["n_factors", "n_epochs"])
    def test_non_positive_size_is_rejected(self, data, name):
        estimator = self.make_estimator()
        if name not in estimator.get_params():
            pytest.skip(f"{type(estimator).__name__} has no {name}")
        with pytest.raises(ValueError, match=f"'{name}' parameter"):
            estimator.set_params(**{name: 0}).fit(*data)


class TestBaselineOnlyALS(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    def make_estimator(self):
        return BaselineOnly()


class TestBaselineOnlySGD(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    def make_estimator(self):
        return BaselineOnly(method="sgd", reg_user=0.02, reg_item=0.02, n_epochs=20, random_state=0)


class TestBiasedMF(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    def make_estimator(self):
        return BiasedMF(n_factors=8, random_state=0)


class TestBiasedMFFloat64(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    def make_estimator(self):
        return BiasedMF(n_factors=8, dtype="float64", random_state=0)


class TestUnbiasedMF(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    # Without biases nor the mean, 20 epochs at lr 0.005 do not reach the mean's RMSE.
    must_beat = None

    def make_estimator(self):
        return BiasedMF(n_factors=8, biased=False, random_state=0)


class TestSVDpp(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    def make_estimator(self):
        return SVDpp(n_factors=5, random_state=0)


class TestALSRating(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    def make_estimator(self):
        return ALSRating(n_factors=5, regularization=0.5, n_epochs=5, random_state=0)


class TestNMF(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    def make_estimator(self):
        return NMF(n_factors=5, random_state=0)


class TestBiasedNMF(RatingPredictorContract, SaveLoadChecks, SizeParameterChecks):
    # Surprise documents that biased NMF overfits; on these small data it may not beat the mean.
    must_beat = None

    def make_estimator(self):
        return NMF(n_factors=5, biased=True, random_state=0)


def _tiny_problem(seed=0, n_users=12, n_items=9, n_ratings=60, n_factors=4):
    rng = np.random.default_rng(seed)
    cells = rng.choice(n_users * n_items, n_ratings, replace=False)
    users, items = (cells // n_items).astype(np.int32), (cells % n_items).astype(np.int32)
    ratings = rng.integers(1, 6, n_ratings).astype(np.float64)
    parameters = (rng.normal(0, 0.1, n_users), rng.normal(0, 0.1, n_items),
                  rng.normal(0, 0.1, (n_users, n_factors)), rng.normal(0, 0.1, (n_items, n_factors)),
                  rng.normal(0, 0.1, (n_items, n_factors)))
    return users, items, ratings, parameters, rng


# float32 factors round every step to ~6e-8 relative; over 3 epochs the parameters
# (of size ~0.1) drift from the float64 reference by ~1e-7, well inside 1e-5.
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("biased", [True, False])
def test_biased_mf_kernel_matches_numpy_reference(biased, dtype, tolerance):
    users, items, ratings, parameters, rng = _tiny_problem()
    user_bias, item_bias, user_factors, item_factors = parameters[:4]
    kernel_state = [user_bias.copy(), item_bias.copy(), user_factors.astype(dtype), item_factors.astype(dtype)]
    reference_state = [p.copy() for p in parameters[:4]]
    for _ in range(3):
        order = rng.permutation(len(ratings))
        kernel_error = biased_mf_sgd(users[order], items[order], ratings[order], 0, len(ratings),
                                     ratings.mean(), *kernel_state, 0.01, 0.05, 0.03, biased)
        reference_error = biased_mf_epoch_reference(users, items, ratings, order, ratings.mean(),
                                                    *reference_state, 0.01, 0.05, 0.03, biased)
        assert kernel_error == pytest.approx(reference_error, abs=tolerance)
    assert kernel_state[2].dtype == dtype and kernel_state[3].dtype == dtype
    for kernel, reference in zip(kernel_state, reference_state):
        np.testing.assert_allclose(kernel, reference, rtol=0, atol=tolerance)


@pytest.mark.parametrize("n_blocks", [1, 3])
def test_stratified_epoch_is_the_reference_sgd_in_stratum_order(n_blocks):
    # The blocks of a stratum run in parallel; the result must be that of the numpy
    # reference visiting the blocks one after the other, each in its array order.
    users, items, ratings, parameters, rng = _tiny_problem(n_users=30, n_items=20, n_ratings=300)
    grid = _BlockGrid(users, items, ratings, 30, 20, n_blocks, rng)
    kernel_state = [p.copy() for p in parameters[:4]]
    reference_state = [p.copy() for p in parameters[:4]]
    offsets = rng.permutation(n_blocks)
    reference_error = 0.0
    for offset in offsets:
        for user_block in range(n_blocks):
            block = user_block * n_blocks + (user_block + offset) % n_blocks
            samples = np.arange(grid.block_indptr[block], grid.block_indptr[block + 1])
            reference_error += biased_mf_epoch_reference(grid.users, grid.items, grid.ratings, samples, 3.0,
                                                         *reference_state, 0.01, 0.05, 0.03, True)
    kernel_error = biased_mf_stratified_epoch(grid.users, grid.items, grid.ratings, grid.block_indptr,
                                              offsets, 3.0, *kernel_state, 0.01, 0.05, 0.03, True)
    assert kernel_error.sum() == pytest.approx(reference_error, abs=1e-10)
    for kernel, reference in zip(kernel_state, reference_state):
        np.testing.assert_allclose(kernel, reference, rtol=0, atol=1e-10)


def test_block_grid_blocks_share_no_user_or_item_within_a_stratum():
    users, items, ratings, _, rng = _tiny_problem(n_users=40, n_items=30, n_ratings=600)
    grid = _BlockGrid(users, items, ratings, 40, 30, 4, rng)
    # Every rating is kept once, renamed consistently.
    original = sorted(zip(users, items, ratings))
    renamed = sorted(zip(grid.user_of_code[grid.users], grid.item_of_code[grid.items], grid.ratings))
    assert original == renamed
    block_of_sample = np.repeat(np.arange(16), np.diff(grid.block_indptr))
    user_blocks, item_blocks = block_of_sample // 4, block_of_sample % 4
    for codes, blocks in ((grid.users, user_blocks), (grid.items, item_blocks)):
        # A code belongs to one block, and each block's codes form a contiguous range.
        assert all(len(np.unique(blocks[codes == code])) == 1 for code in np.unique(codes))
        assert np.all(np.diff(blocks[np.argsort(codes, kind="stable")]) >= 0)
    # Blocks hold about equal numbers of ratings: 150 each side, give or take a heavy user.
    np.testing.assert_allclose(np.bincount(user_blocks), 150, atol=40)


def test_biased_mf_is_the_same_on_any_number_of_threads(ratings_data):
    X, y = ratings_data
    one = BiasedMF(n_factors=8, n_epochs=3, random_state=0, n_threads=1).fit(X, y)
    two = BiasedMF(n_factors=8, n_epochs=3, random_state=0, n_threads=2).fit(X, y)
    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    assert one.train_rmse_ == two.train_rmse_


def test_biased_mf_leaves_the_training_data_unchanged(ratings_data):
    X, y = ratings_data
    X_before, y_before = X.copy(), np.array(y, copy=True)
    BiasedMF(n_factors=4, n_epochs=2, random_state=0).fit(X, y)
    pd.testing.assert_frame_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_biased_mf_dtypes_agree_up_to_rounding(ratings_data):
    X, y = ratings_data
    single = BiasedMF(n_factors=8, dtype="float32", random_state=0).fit(X, y)
    double = BiasedMF(n_factors=8, dtype="float64", random_state=0).fit(X, y)
    assert single.user_factors_.dtype == np.float32 and double.item_factors_.dtype == np.float64
    np.testing.assert_allclose(single.predict(X), double.predict(X), rtol=0, atol=1e-4)


def test_svdpp_batched_kernel_matches_per_rating_reference():
    users, items, ratings, parameters, rng = _tiny_problem(seed=1)
    indptr, by_user = group_by_row(users, 12)
    rated_items, rated_values = items[by_user], ratings[by_user]
    kernel_state = [p.copy() for p in parameters]
    reference_state = [p.copy() for p in parameters]
    for _ in range(3):
        user_order = rng.permutation(12)
        kernel_error = svdpp_epoch(indptr, rated_items, rated_values, user_order, ratings.mean(),
                                   *kernel_state, 0.01, 0.05)
        reference_error = svdpp_epoch_reference(indptr, rated_items, rated_values, user_order,
                                                ratings.mean(), *reference_state, 0.01, 0.05)
        assert kernel_error == pytest.approx(reference_error, abs=1e-10)
    for kernel, reference in zip(kernel_state, reference_state):
        np.testing.assert_allclose(kernel, reference, rtol=0, atol=1e-10)


def test_group_by_row_keeps_duplicates_apart():
    indptr, order = group_by_row(np.array([2, 0, 2, 2], dtype=np.int32), 3)
    np.testing.assert_array_equal(indptr, [0, 1, 1, 4])
    np.testing.assert_array_equal(order, [1, 0, 2, 3])


@pytest.fixture(scope="module")
def ratings_data():
    return rating_contract_data()


def test_cross_val_score(ratings_data):
    X, y = ratings_data
    scores = cross_val_score(BiasedMF(), X, y, cv=KFold(5), scoring="neg_root_mean_squared_error")
    assert scores.shape == (5,)
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)


def test_grid_search_picks_among_factor_counts(ratings_data):
    X, y = ratings_data
    search = GridSearchCV(BiasedMF(random_state=0), {"n_factors": [2, 8], "regularization": [0.02, 0.1]},
                          cv=KFold(3, shuffle=True, random_state=0), scoring="neg_root_mean_squared_error")
    search.fit(X, y)
    assert search.best_params_["n_factors"] in (2, 8)
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert isinstance(search.best_estimator_, BiasedMF)


def test_stacking_regressor(ratings_data):
    X, y = ratings_data
    stack = StackingRegressor(
        [("baseline", BaselineOnly()), ("mf", BiasedMF(n_factors=8, random_state=0)),
         ("svdpp", SVDpp(n_factors=5, random_state=0))],
        final_estimator=LinearRegression(), cv=KFold(3, shuffle=True, random_state=0),
    )
    train, test = np.arange(len(y)) % 4 != 0, np.arange(len(y)) % 4 == 0
    predictions = stack.fit(X[train], y[train]).predict(X[test])
    assert predictions.shape == (test.sum(),)
    assert np.isfinite(predictions).all()
    assert stack.final_estimator_.coef_.shape == (3,)


def test_unknown_ids_get_the_known_bias():
    X, y = rating_contract_data()
    model = BiasedMF(n_factors=4, random_state=0).fit(X, y)
    user, item = X.iloc[0]
    unseen = pd.DataFrame({"user": [user, -1, -1], "item": [-1, item, -1]})
    with pytest.warns(UnknownPairsWarning):
        predictions = model.predict(unseen)
    user_index, item_index = model.encode_pairs(X.iloc[:1])
    expected = [model.global_mean_ + model.user_bias_[user_index[0]],
                model.global_mean_ + model.item_bias_[item_index[0]], model.global_mean_]
    np.testing.assert_allclose(predictions, np.clip(expected, model.rating_min_, model.rating_max_))


def test_unbiased_nmf_falls_back_to_the_global_mean(ratings_data):
    X, y = ratings_data
    model = NMF(n_factors=4, random_state=0).fit(X, y)
    with pytest.warns(UnknownPairsWarning):
        prediction = model.predict([[X.iloc[0, 0], -1]])
    np.testing.assert_allclose(prediction, [model.global_mean_])


def test_seed_changes_the_fit(ratings_data):
    X, y = ratings_data
    first = BiasedMF(n_factors=4, random_state=0).fit(X, y).predict(X)
    second = BiasedMF(n_factors=4, random_state=1).fit(X, y).predict(X)
    assert not np.allclose(first, second)


@pytest.mark.parametrize("model", [BiasedMF(n_factors=4, random_state=0), SVDpp(n_factors=4, random_state=0)])
def test_sgd_training_error_decreases(ratings_data, model):
    model.fit(*ratings_data)
    assert model.train_rmse_[-1] < model.train_rmse_[0]


def test_svdpp_user_vectors_include_the_implicit_feedback(ratings_data):
    X, y = ratings_data
    model = SVDpp(n_factors=3, random_state=0).fit(X, y)
    users, items = model.encode_pairs(X)
    user = users[0]
    rated = np.unique(items[users == user])
    expected = model.user_factors_[user] + model.implicit_factors_[rated].sum(axis=0) / np.sqrt(len(rated))
    np.testing.assert_allclose(model.user_vectors_[user], expected)


def test_als_epochs_lower_the_training_error(ratings_data):
    X, y = ratings_data
    errors = [np.sqrt(np.mean((ALSRating(n_factors=5, n_epochs=n, random_state=0).fit(X, y).predict(X) - y) ** 2))
              for n in (1, 10)]
    assert errors[1] < errors[0]


def test_nmf_keeps_factors_non_negative(ratings_data):
    model = NMF(n_factors=4, random_state=0).fit(*ratings_data)
    assert (model.user_factors_ >= 0).all() and (model.item_factors_ >= 0).all()


def test_nmf_rejects_negative_ratings(ratings_data):
    X, y = ratings_data
    with pytest.raises(ValueError, match="non-negative ratings"):
        NMF(n_factors=2).fit(X, y - 3)


@pytest.mark.parametrize("estimator, message", [
    (BaselineOnly(method="newton"), "'method' parameter"),
    (BiasedMF(lr=0), "'lr' parameter"),
    (SVDpp(regularization=-1), "'regularization' parameter"),
    (ALSRating(regularization=0), "'regularization' parameter"),
    (NMF(reg_user=-0.1), "'reg_user' parameter"),
    (BiasedMF(n_factors=2.5), "'n_factors' parameter"),
    (BiasedMF(dtype="float16"), "'dtype' parameter"),
])
def test_invalid_parameters_are_rejected(ratings_data, estimator, message):
    with pytest.raises(ValueError, match=message):
        estimator.fit(*ratings_data)


@pytest.mark.parametrize("model", [BiasedMF(n_factors=8, random_state=0), SVDpp(n_factors=8, random_state=0)],
                         ids=["biased_mf", "svdpp"])
def test_sgd_divergence_raises_with_the_fix(model):
    X, y = rating_contract_data()
    with pytest.raises(DegenerateFitError, match=r"diverged in epoch \d+ of SGD.*divide the ratings.*or lower lr"):
        model.fit(X, 100.0 * y)


def test_sgd_divergence_stops_early():
    # Caught while the RMSE explodes, before the factors turn NaN.
    X, y = rating_contract_data()
    with pytest.raises(DegenerateFitError, match="epoch 3 of SGD"):
        BiasedMF(n_factors=8, random_state=0).fit(X, 100.0 * y)


def test_large_ratings_fit_with_a_smaller_lr():
    X, y = rating_contract_data()
    model = BiasedMF(n_factors=8, lr=0.00005, random_state=0).fit(X, 100.0 * y)
    assert np.isfinite(model.user_factors_).all()
    assert np.sqrt(np.mean((model.predict(X) - 100.0 * y) ** 2)) < (100.0 * y).std()


def test_nmf_oscillating_on_large_ratings_raises_with_the_fix():
    X, y = rating_contract_data()
    with pytest.raises(DegenerateFitError, match="NMF did not fit.*Divide the ratings.*biased=True"):
        NMF(n_factors=8, random_state=0).fit(X, 20.0 * y)
    # The fix the message gives works.
    assert NMF(n_factors=8, random_state=0, biased=True).fit(X, 20.0 * y).predict(X).std() > 1.0


@pytest.mark.parametrize("runnable, expected", [(1, 4), (2, 3), (4, 1), (40, 1)])
def test_default_threads_leave_out_the_busy_cores(monkeypatch, runnable, expected):
    import numba

    from recsys.utils import _threads

    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    monkeypatch.setattr(_threads, "_runnable_threads", lambda: runnable)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 8)
    assert _threads.idle_threads(interval=0) == expected


def test_default_threads_ignore_a_short_burst(monkeypatch):
    from recsys.utils import _threads

    readings = iter([3, 1, 2])
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(_threads, "_runnable_threads", lambda: next(readings))
    assert _threads.idle_threads(interval=0) == 2


def test_default_threads_read_once_on_an_idle_machine(monkeypatch):
    from recsys.utils import _threads

    calls = []
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(_threads, "_runnable_threads", lambda: calls.append(1) or 1)
    assert _threads.idle_threads() == 2
    assert len(calls) == 1


def test_runnable_threads_read_on_linux():
    from recsys.utils import _threads

    runnable = _threads._runnable_threads()
    if runnable is None:
        pytest.skip("/proc/loadavg is not available on this platform")
    assert runnable >= 1
