"""PairFeatures: statistics from fit only, documented fallbacks, model scores and ranks."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

from recsys.base import UnknownPairsWarning
from recsys.datasets import Interactions, make_ratings
from recsys.factorization import ALS, BaselineOnly
from recsys.neighbors import ItemKNN
from recsys.preprocessing import NegativeSampler, PairFeatures
from recsys.preprocessing._rank_kernels import count_greater, count_greater_reference


@pytest.fixture(scope="module")
def events():
    return make_ratings(120, 40, density=0.15, random_state=0).to_pandas()


@pytest.fixture(scope="module")
def pairs(events):
    rng = np.random.default_rng(1)
    users = rng.choice(np.append(events["user"].unique(), [-1, -2]), 400)
    items = rng.choice(np.append(events["item"].unique(), [-9]), 400)
    times = rng.integers(events["timestamp"].min(), events["timestamp"].max() + 100, 400)
    return pd.DataFrame({"user": users, "item": items, "timestamp": times})


def _expected(events, pairs):
    """The statistics by pandas groupby, unknown ids filled as documented."""
    by_user = events.groupby("user")
    by_item = events.groupby("item")
    user = pd.DataFrame({"user_count": by_user.size(), "user_rating_mean": by_user["rating"].mean(),
                         "user_rating_std": by_user["rating"].std(ddof=0),
                         "last": by_user["timestamp"].max()})
    counts = by_item.size()
    item = pd.DataFrame({"item_count": counts, "item_rating_mean": by_item["rating"].mean(),
                         "item_rating_std": by_item["rating"].std(ddof=0),
                         "item_popularity_rank": counts.rank(method="min", ascending=False),
                         "first": by_item["timestamp"].min()})
    frame = pairs.join(user, on="user").join(item, on="item")
    frame[["user_count", "item_count"]] = frame[["user_count", "item_count"]].fillna(0)
    frame["user_time_since_last"] = frame["timestamp"] - frame["last"]
    frame["item_time_since_first"] = frame["timestamp"] - frame["first"]
    return frame


def test_statistics_match_groupby(events, pairs):
    features = PairFeatures().set_output(transform="pandas").fit(events).transform(pairs)
    expected = _expected(events, pairs)
    assert list(features.columns) == [
        "user_count", "user_rating_mean", "user_rating_std", "item_count", "item_rating_mean",
        "item_rating_std", "item_popularity_rank", "user_time_since_last", "item_time_since_first"]
    for column in features.columns:
        np.testing.assert_allclose(features[column].to_numpy(), expected[column].to_numpy(dtype=float),
                                   err_msg=column)


def test_unknown_ids_get_documented_values(events, pairs):
    features = PairFeatures().set_output(transform="pandas").fit(events).transform(pairs)
    unknown_user = ~pairs["user"].isin(events["user"]).to_numpy()
    unknown_item = ~pairs["item"].isin(events["item"]).to_numpy()
    assert unknown_user.any() and unknown_item.any()
    assert (features.loc[unknown_user, "user_count"] == 0).all()
    assert features.loc[unknown_user, ["user_rating_mean", "user_time_since_last"]].isna().all().all()
    assert (features.loc[unknown_item, "item_count"] == 0).all()
    assert features.loc[unknown_item, ["item_popularity_rank", "item_time_since_first"]].isna().all().all()
    known = ~unknown_user & ~unknown_item
    assert features.loc[known].notna().all().all()


def test_no_leakage_from_transformed_pairs(events):
    train, test = events.iloc[: len(events) // 2], events.iloc[len(events) // 2:]
    transformer = PairFeatures().fit(train)
    before = transformer.transform(test)
    transformer.transform(events)
    np.testing.assert_array_equal(before, transformer.transform(test))
    # The statistics are those of the training half alone.
    np.testing.assert_allclose(before, PairFeatures().fit(train.copy()).transform(test))
    assert not np.allclose(np.nan_to_num(before), np.nan_to_num(PairFeatures().fit(events).transform(test)))


def test_interactions_input_equals_dataframe_input(events, pairs):
    data = Interactions.from_pandas(events, rating_col="rating", time_col="timestamp")
    np.testing.assert_allclose(PairFeatures().fit(data).transform(pairs),
                               PairFeatures().fit(events).transform(pairs))


def test_without_ratings_or_time():
    events = pd.DataFrame({"u": [1, 1, 2], "i": [5, 6, 5]})
    transformer = PairFeatures(time=False, user_col="u", item_col="i").fit(events)
    assert list(transformer.get_feature_names_out()) == ["user_count", "item_count", "item_popularity_rank"]
    np.testing.assert_allclose(transformer.transform(pd.DataFrame({"u": [2], "i": [6]})), [[1, 1, 2]])


def test_datetime_timestamps_in_seconds():
    start = pd.Timestamp("2024-01-01")
    events = pd.DataFrame({"user": [1, 1], "item": [1, 2],
                           "timestamp": [start, start + pd.Timedelta(hours=1)]})
    pairs = pd.DataFrame({"user": [1, 1], "item": [2, 1],
                          "timestamp": [start + pd.Timedelta(hours=2), pd.NaT]})
    out = PairFeatures(user_stats=False, item_stats=False).fit(events).transform(pairs)
    np.testing.assert_allclose(out[0], [3600.0, 3600.0])
    assert np.isnan(out[1]).all()  # a missing pair timestamp gives NaN time features
    with pytest.raises(TypeError, match="same kind"):
        PairFeatures().fit(events).transform(pairs.assign(timestamp=[1, 2]))


@pytest.mark.parametrize("exclude_seen", [True, False])
def test_recommender_score_and_rank_match_recommend(events, pairs, exclude_seen):
    transformer = PairFeatures(user_stats=False, item_stats=False, time=False,
                               models=[("als", ALS(n_factors=6, n_epochs=4, random_state=0))],
                               exclude_seen=exclude_seen).fit(events)
    out = transformer.transform(pairs)
    model = transformer.models_[0][1]
    data = Interactions.from_pandas(events, rating_col="rating", time_col="timestamp")
    matrix = data.to_csr()
    assert model.n_items_ == matrix.shape[1]
    empty_row = sp.csr_matrix((1, matrix.shape[1]), dtype=np.float32)
    for row in range(0, len(pairs), 5):
        user, item = data.user_index([pairs["user"][row]])[0], data.item_index([pairs["item"][row]])[0]
        if item < 0:
            assert np.isnan(out[row]).all()
            continue
        # A user unseen in fit folds in an empty row.
        user_row = matrix[user] if user >= 0 else empty_row
        ids, scores = model.recommend(user_row, n=matrix.shape[1], exclude_seen=exclude_seen)
        expected_score = float(model._score(user_row)[0, item])
        assert out[row, 0] == expected_score
        assert out[row, 1] == 1 + (scores[0][ids[0] >= 0] > expected_score).sum()


def test_rank_is_where_recommend_places_unseen_item(events):
    """For an unseen item without ties, recommend's list holds it at place rank."""
    model = ItemKNN(k=15)
    transformer = PairFeatures(user_stats=False, item_stats=False, time=False, models=[model]).fit(events)
    data = Interactions.from_pandas(events, rating_col="rating", time_col="timestamp")
    matrix = data.to_csr()
    fitted = transformer.models_[0][1]
    ids, scores = fitted.recommend(matrix[:20], n=matrix.shape[1])
    # Pairs: each of the first 20 users with its third recommended item.
    candidates = ids[:, 2]
    pairs = pd.DataFrame({"user": data.user_ids[:20], "item": data.item_ids[candidates]})
    out = transformer.transform(pairs)
    unique_score = ~np.isclose(scores[:, 1], scores[:, 2]) & ~np.isclose(scores[:, 2], scores[:, 3])
    np.testing.assert_allclose(out[unique_score, 0], scores[unique_score, 2])
    np.testing.assert_array_equal(out[unique_score, 1], 3)


def test_rating_predictor_score_and_rank(events, pairs):
    transformer = PairFeatures(user_stats=False, item_stats=False, time=False,
                               models=[BaselineOnly()]).fit(events)
    with pytest.warns(UnknownPairsWarning):
        out = transformer.transform(pairs)
    assert list(transformer.get_feature_names_out()) == ["baselineonly_score", "baselineonly_rank"]
    model = transformer.models_[0][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownPairsWarning)
        np.testing.assert_allclose(out[:, 0], model.predict(pairs[["user", "item"]]))
        catalogue = np.sort(events["item"].unique())
        for row in range(0, len(pairs), 37):
            user = pairs["user"][row]
            grid = pd.DataFrame({"user": user, "item": catalogue})
            predictions = model.predict(grid)
            has = set(events.loc[events["user"] == user, "item"])
            allowed = ~np.isin(catalogue, list(has))
            assert out[row, 1] == 1 + (predictions[allowed] > out[row, 0]).sum()


def test_frozen_model_is_used_as_is(events, pairs):
    data = Interactions.from_pandas(events, rating_col="rating", time_col="timestamp")
    prefit = ItemKNN(k=10).fit(data.to_csr())
    frozen = PairFeatures(time=False, models=[FrozenEstimator(prefit)]).fit(events)
    assert frozen.models_[0][1].estimator is prefit
    refit = PairFeatures(time=False, models=[ItemKNN(k=10)]).fit(events)
    np.testing.assert_allclose(frozen.transform(pairs), refit.transform(pairs))
    wrong = ItemKNN(k=10).fit(data.to_csr()[:, :30])
    with pytest.raises(ValueError, match="fitted on 30 items"):
        PairFeatures(models=[FrozenEstimator(wrong)]).fit(events)


def test_clone_gives_unfitted_models_and_keeps_frozen(events):
    frozen_model = FrozenEstimator(ItemKNN().fit(Interactions.from_pandas(events).to_csr()))
    transformer = PairFeatures(models=[ItemKNN(k=5), frozen_model])
    cloned = clone(transformer)
    assert cloned.models[1] is frozen_model
    assert not hasattr(cloned.models[0], "similarity_")
    names = [name for name, _ in PairFeatures(time=False, models=[ItemKNN(k=5), ItemKNN(k=6)])
             .fit(events).models_]
    assert names == ["itemknn-1", "itemknn-2"]


def test_rank_kernel_matches_reference():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(30, 50)).astype(float)
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    scores[rng.random(scores.shape) < 0.05] = np.nan
    rows = rng.integers(0, 30, 2000)
    values = rng.integers(-1, 7, 2000).astype(float)
    values[::97] = np.nan
    np.testing.assert_array_equal(count_greater(scores, rows, values),
                                  np.where(np.isnan(values), 0, count_greater_reference(scores, rows, values)))


def test_features_feed_a_gradient_boosting_classifier(events):
    """History -> features, later events -> labelled pairs; sklearn's metrics score the classifier."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    ordered = events.sort_values("timestamp", kind="stable").reset_index(drop=True)
    first, second = int(0.6 * len(ordered)), int(0.8 * len(ordered))
    history, train, test = ordered.iloc[:first], ordered.iloc[first:second], ordered.iloc[second:]
    sampler = NegativeSampler(n_negatives=2, strategy="uniform", time_col="timestamp",
                              random_state=0).fit(ordered)
    features = PairFeatures(models=[ItemKNN(k=10)]).set_output(transform="pandas").fit(history)
    train_pairs, test_pairs = sampler.sample(train), sampler.sample(test)
    classifier = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    classifier.fit(features.transform(train_pairs), train_pairs["label"])
    probabilities = classifier.predict_proba(features.transform(test_pairs))[:, 1]
    assert roc_auc_score(test_pairs["label"], probabilities) > 0.55  # 0.62 with these seeds
    assert average_precision_score(test_pairs["label"], probabilities) > 1 / 3


@pytest.mark.parametrize("make_bad, error, message", [
    (lambda events: events.to_numpy(), TypeError, "DataFrame"),
    (lambda events: events.drop(columns="timestamp"), ValueError, "time=False"),
    (lambda events: events.assign(user=events["user"].where(events.index != 3)), ValueError, "have no 'user'"),
    (lambda events: events.assign(timestamp=events["timestamp"].where(events.index != 3)),
     ValueError, "no 'timestamp'"),
    (lambda events: events.assign(rating=np.nan), ValueError, "'rating'"),
    (lambda events: events.assign(timestamp="yesterday"), TypeError, "numeric or datetime"),
])
def test_bad_fit_input(events, make_bad, error, message):
    with pytest.raises(error, match=message):
        PairFeatures().fit(make_bad(events))


def test_bad_models_and_pairs(events, pairs):
    with pytest.raises(TypeError, match="neither a recommender"):
        PairFeatures(models=[NegativeSampler()]).fit(events)
    with pytest.raises(ValueError, match="no 'rating' column"):
        PairFeatures(time=False, models=[BaselineOnly()]).fit(events.drop(columns="rating"))
    transformer = PairFeatures().fit(events)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['item'\]"):
        transformer.transform(pairs.drop(columns="item"))
    with pytest.raises(ValueError, match="empty"):
        transformer.transform(pairs.iloc[:0])


def test_input_not_modified(events, pairs):
    before_events, before_pairs = events.copy(), pairs.copy()
    PairFeatures(models=[ItemKNN(k=5)]).fit(events).transform(pairs)
    pd.testing.assert_frame_equal(events, before_events)
    pd.testing.assert_frame_equal(pairs, before_pairs)
