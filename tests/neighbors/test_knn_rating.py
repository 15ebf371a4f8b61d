"""KNNBasic, KNNWithMeans and KNNBaseline: contract, kernel reference and Surprise equivalence."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from recsys.datasets import make_ratings
from recsys.neighbors import KNNBaseline, KNNBasic, KNNWithMeans
from recsys.neighbors._knn_rating import _neighbour_average
from recsys.neighbors._rating_similarity import SIMILARITIES, rating_similarity
from recsys.testing import RatingPredictorContract, SaveLoadChecks

MODELS = (KNNBasic, KNNWithMeans, KNNBaseline)


class TestKNNBasicContract(RatingPredictorContract, SaveLoadChecks):
    def make_estimator(self):
        return KNNBasic(k=20)


class TestKNNWithMeansContract(RatingPredictorContract, SaveLoadChecks):
    def make_estimator(self):
        return KNNWithMeans(k=20, sim="pearson")


class TestKNNBaselineContract(RatingPredictorContract, SaveLoadChecks):
    def make_estimator(self):
        return KNNBaseline(k=20, sim="pearson_baseline")


class TestItemBasedKNNBaselineContract(RatingPredictorContract, SaveLoadChecks):
    def make_estimator(self):
        return KNNBaseline(k=20, sim="cosine", user_based=False)


def _split(n_users=70, n_items=40, density=0.2, random_state=0):
    data = make_ratings(n_users, n_items, density=density, random_state=random_state).to_pandas()
    data = data.sample(frac=1.0, random_state=random_state).reset_index(drop=True)
    cut = int(0.8 * len(data))
    return data[:cut], data[cut:]


def _reference_average(indptr, neighbours, residuals, similarity, rows, cols, k):
    """Per-pair numpy version of the kernel: stable top-k of the raters, positive weights only."""
    averages, counts = [], []
    for row, col in zip(rows, cols):
        raters = neighbours[indptr[col]:indptr[col + 1]]
        weights = similarity[row, raters]
        chosen = np.argsort(-weights, kind="stable")[:k]
        chosen = chosen[weights[chosen] > 0]
        values = residuals[indptr[col]:indptr[col + 1]][chosen]
        averages.append(np.average(values, weights=weights[chosen]) if len(chosen) else 0.0)
        counts.append(len(chosen))
    return np.array(averages), np.array(counts)


@pytest.mark.parametrize("k", [1, 3, 40])
def test_kernel_matches_numpy_reference(k):
    train, _ = _split()
    model = KNNWithMeans(k=k, sim="cosine").fit(train[["user", "item"]], train["rating"])
    rows, cols = model.encode_pairs(_split(random_state=1)[0][["user", "item"]])
    known = (rows >= 0) & (cols >= 0)
    rows, cols = rows[known].astype(np.int64), cols[known].astype(np.int64)
    args = (model.neighbour_indptr_, model.neighbours_, model.neighbour_residuals_, model.similarity_)
    got = _neighbour_average(*args, rows, cols, k)
    expected = _reference_average(*args, rows, cols, k)
    np.testing.assert_allclose(got[0], expected[0], atol=1e-12)
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("sim", SIMILARITIES)
def test_similarity_is_symmetric_with_unit_diagonal(sim):
    train, _ = _split()
    baselines = (3.0, np.zeros(70), np.zeros(40)) if sim == "pearson_baseline" else None
    similarity = rating_similarity(train["user"], train["item"], train["rating"], (70, 40), sim,
                                   baselines=baselines)
    np.testing.assert_allclose(similarity, similarity.T)
    np.testing.assert_array_equal(np.diag(similarity), 1.0)
    assert np.isfinite(similarity).all()


def test_msd_similarity_by_hand():
    # Users 0 and 1 share items 0 and 1: squared differences 1 and 4, mean 2.5.
    similarity = rating_similarity([0, 0, 1, 1, 2], [0, 1, 0, 1, 2], [5, 3, 4, 1, 2], (3, 3), "msd")
    np.testing.assert_allclose(similarity[0, 1], 1 / 3.5)
    assert similarity[0, 2] == 0.0


def test_min_k_falls_back():
    train, _ = _split()
    X, y = train[["user", "item"]], train["rating"]
    query = X.iloc[:1]
    basic = KNNBasic(k=5, min_k=10_000).fit(X, y)
    np.testing.assert_allclose(basic.predict(query), basic.global_mean_)
    means = KNNWithMeans(min_k=10_000).fit(X, y)
    np.testing.assert_allclose(means.predict(query), means.means_[means.encode_pairs(query)[0]])
    baseline = KNNBaseline(min_k=10_000).fit(X, y)
    users, items = baseline.encode_pairs(query)
    expected = baseline.global_mean_ + baseline.user_bias_[users] + baseline.item_bias_[items]
    np.testing.assert_allclose(baseline.predict(query), expected)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("params, message", [
    ({"k": 0}, "'k' parameter"), ({"min_k": 0}, "'min_k' parameter"),
    ({"sim": "jaccard"}, "'sim' parameter"), ({"shrinkage": -1.0}, "'shrinkage' parameter"),
])
def test_bad_parameters(model, params, message):
    train, _ = _split()
    with pytest.raises(InvalidParameterError, match=message):
        model(**params).fit(train[["user", "item"]], train["rating"])


def _surprise_predictions(algorithm, train, test):
    surprise = pytest.importorskip("surprise")
    reader = surprise.Reader(rating_scale=(train["rating"].min(), train["rating"].max()))
    trainset = surprise.Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
    algorithm.fit(trainset)
    return np.array([algorithm.predict(u, i).est for u, i in zip(test["user"], test["item"])])


@pytest.mark.peers
@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
@pytest.mark.parametrize("user_based", [True, False])
@pytest.mark.parametrize("sim", SIMILARITIES)
@pytest.mark.parametrize("model", MODELS)
def test_predictions_equal_surprise(model, sim, user_based):
    surprise = pytest.importorskip("surprise")
    train, test = _split()
    # Predict held-out pairs (some with unknown ids) and training pairs (the rater itself is a neighbour).
    queries = pd.concat([test, train[:50]])
    ours = model(k=10, min_k=2, sim=sim, user_based=user_based).fit(train[["user", "item"]], train["rating"])
    peer = getattr(surprise, model.__name__)(
        k=10, min_k=2, sim_options={"name": sim, "user_based": user_based}, verbose=False)
    np.testing.assert_allclose(ours.predict(queries[["user", "item"]]),
                               _surprise_predictions(peer, train, queries), atol=1e-6)


@pytest.mark.peers
@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
@pytest.mark.parametrize("model", MODELS)
def test_defaults_equal_surprise_defaults(model):
    surprise = pytest.importorskip("surprise")
    train, test = _split(random_state=2)
    ours = model().fit(train[["user", "item"]], train["rating"])
    peer = getattr(surprise, model.__name__)(verbose=False)
    np.testing.assert_allclose(ours.predict(test[["user", "item"]]),
                               _surprise_predictions(peer, train, test), atol=1e-6)


@pytest.mark.peers
@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
@pytest.mark.parametrize("ours, peer", [("knn-basic", "surprise-knn-basic"), ("knn-means", "surprise-knn-means"),
                                        ("knn-baseline", "surprise-knn-baseline"),
                                        ("slope-one", "surprise-slope-one")])
def test_registered_surprise_adapters_agree_with_ours(ours, peer):
    pytest.importorskip("surprise")
    from recsys.bench import get_model

    train, test = _split(random_state=4)
    X, y = train[["user", "item"]], train["rating"]
    np.testing.assert_allclose(get_model(ours).build().fit(X, y).predict(test[["user", "item"]]),
                               get_model(peer).build().fit(X, y).predict(test[["user", "item"]]), atol=1e-6)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.peers
@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
@pytest.mark.parametrize("model", [KNNBaseline, KNNWithMeans])
def test_movielens_100k_split_equals_surprise(real_dataset, model):
    surprise = pytest.importorskip("surprise")
    columns = ["user", "item", "rating", "timestamp"]
    train = pd.read_csv(real_dataset("ml-100k", "u1.base"), sep="\t", names=columns)
    test = pd.read_csv(real_dataset("ml-100k", "u1.test"), sep="\t", names=columns)
    ours = model().fit(train[["user", "item"]], train["rating"]).predict(test[["user", "item"]])
    expected = _surprise_predictions(getattr(surprise, model.__name__)(verbose=False), train, test)
    np.testing.assert_allclose(ours, expected, atol=1e-6)
