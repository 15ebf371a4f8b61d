"""Approximate top-N retrieval through faiss for factor models and item embeddings."""

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import clone

from recsys.datasets import make_interactions
from recsys.embeddings import ItemEmbeddings
from recsys.factorization import ALS, BPR, LMF, PureSVD
from recsys.retrieval import FaissNearestNeighbors, retrieve_top_n
from recsys.testing import RecommenderContract


class TestALSFlatRetrievalContract(RecommenderContract):
    must_beat = "popularity"

    def make_estimator(self):
        return ALS(n_factors=8, n_epochs=10, regularization=10.0, alpha=5.0, random_state=0,
                   retrieval="flat")


@pytest.fixture(scope="module")
def data():
    return make_interactions(400, 2000, density=0.01, random_state=0).to_csr()


MODELS = {
    "ALS": lambda **params: ALS(n_factors=16, n_epochs=5, random_state=0, **params),
    "PureSVD": lambda **params: PureSVD(n_factors=16, random_state=0, **params),
    "BPR": lambda **params: BPR(n_factors=16, n_epochs=20, random_state=0, **params),
    "LMF": lambda **params: LMF(n_factors=16, n_epochs=5, random_state=0, **params),
}


def recall(found, exact):
    return np.mean([len(np.intersect1d(a[a >= 0], b[b >= 0])) / (b >= 0).sum() for a, b in zip(found, exact)])


@pytest.mark.parametrize("name", ["ALS", "PureSVD"])
def test_flat_retrieval_equals_exact_ranking(name, data):
    exact_ids, exact_scores = MODELS[name]().fit(data).recommend(data, n=10)
    model = MODELS[name](retrieval="flat").fit(data)
    ids, scores = model.recommend(data, n=10)
    np.testing.assert_array_equal(ids, exact_ids)
    np.testing.assert_allclose(scores, exact_scores, rtol=1e-5, atol=1e-5)
    assert isinstance(model.retrieval_index_, FaissNearestNeighbors)
    assert model.retrieval_index_.metric == "ip"


@pytest.mark.parametrize("name", ["BPR", "LMF"])
def test_bias_columns_make_inner_product_the_model_score(name, data):
    # The user factors' constant-1 columns meet the item biases, so the
    # searched inner product is the score of exact recommend.
    exact_ids, exact_scores = MODELS[name]().fit(data).recommend(data[:100], n=10)
    ids, scores = MODELS[name](retrieval="flat").fit(data).recommend(data[:100], n=10)
    np.testing.assert_array_equal(ids, exact_ids)
    np.testing.assert_allclose(scores, exact_scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["ALS", "PureSVD"])
def test_hnsw_recall_against_exact(name, data):
    exact_ids, _ = MODELS[name]().fit(data).recommend(data, n=10)
    ids, _ = MODELS[name](retrieval="hnsw").fit(data).recommend(data, n=10)
    assert recall(ids, exact_ids) >= 0.9


@pytest.mark.parametrize("retrieval", ["flat", "hnsw"])
def test_exclude_seen_and_items_restriction(retrieval, data):
    model = MODELS["ALS"](retrieval=retrieval).fit(data)
    allowed = np.arange(0, data.shape[1], 7)
    ids, scores = model.recommend(data, n=10, items=allowed)
    assert np.isin(ids[ids >= 0], allowed).all()
    for row in range(data.shape[0]):
        assert not np.isin(ids[row], data[row].indices).any()
    n_available = np.array([len(np.setdiff1d(allowed, data[row].indices)) for row in range(data.shape[0])])
    assert ((ids >= 0).sum(axis=1) == np.minimum(10, n_available)).all()
    assert np.isneginf(scores[ids < 0]).all()
    exact_ids, _ = MODELS["ALS"]().fit(data).recommend(data, n=10, items=allowed)
    assert recall(ids, exact_ids) >= 0.9


def test_exclude_seen_leaves_n_for_the_heaviest_user(data):
    heaviest = np.argmax(np.diff(data.indptr))
    ids, _ = MODELS["ALS"](retrieval="flat").fit(data).recommend(data[[heaviest]], n=20)
    assert (ids >= 0).all()
    assert not np.isin(ids, data[heaviest].indices).any()


def test_include_seen_and_padding(data):
    model = MODELS["PureSVD"](retrieval="hnsw").fit(data)
    ids, _ = model.recommend(data[:3], n=10, exclude_seen=False)
    exact_ids, _ = MODELS["PureSVD"]().fit(data).recommend(data[:3], n=10, exclude_seen=False)
    assert recall(ids, exact_ids) >= 0.9
    few = np.array([3, 5])
    ids, scores = model.recommend(data[:2], n=4, exclude_seen=False, items=few)
    assert (np.sort(ids[:, :2], axis=1) == few).all()
    assert (ids[:, 2:] == -1).all() and np.isneginf(scores[:, 2:]).all()


def test_retrieval_instance_is_cloned_and_checked(data):
    index = FaissNearestNeighbors(index="ivf", metric="ip", nprobe=64, random_state=0)
    model = MODELS["ALS"](retrieval=index).fit(data)
    assert model.retrieval_index_ is not index
    assert not hasattr(index, "index_")
    assert model.retrieval_index_.get_params() == index.get_params()
    with pytest.raises(ValueError, match="metric='ip'"):
        MODELS["ALS"](retrieval=FaissNearestNeighbors(metric="cosine")).fit(data)
    with pytest.raises(ValueError, match="retrieval"):
        MODELS["ALS"](retrieval=3).fit(data)


def test_get_params_clone_pickle(data):
    model = MODELS["ALS"](retrieval="hnsw")
    assert model.get_params()["retrieval"] == "hnsw"
    assert clone(model).retrieval == "hnsw"
    model.fit(data)
    restored = pickle.loads(pickle.dumps(model))
    for got, expected in zip(restored.recommend(data[:20]), model.recommend(data[:20])):
        np.testing.assert_array_equal(got, expected)


def test_save_rebuilds_the_index_on_load(data, tmp_path):
    model = MODELS["BPR"](retrieval="flat").fit(data)
    model.save(tmp_path / "bpr.npz")
    with np.load(tmp_path / "bpr.npz", allow_pickle=False) as archive:
        assert not any("retrieval" in key for key in archive.files)
    restored = BPR.load(tmp_path / "bpr.npz")
    assert isinstance(restored.retrieval_index_, FaissNearestNeighbors)
    for got, expected in zip(restored.recommend(data[:20]), model.recommend(data[:20])):
        np.testing.assert_array_equal(got, expected)


def test_no_retrieval_keeps_no_index(data):
    assert MODELS["PureSVD"]().fit(data).retrieval_index_ is None


def test_retrieve_top_n_with_no_queries():
    vectors = np.eye(3, dtype=np.float32)
    ids, scores = retrieve_top_n(None, vectors, vectors[:0], 2)
    assert ids.shape == (0, 2) and scores.shape == (0, 2)


@pytest.fixture(scope="module")
def embedding_model():
    vectors = np.random.default_rng(0).normal(size=(3000, 16))
    vectors[7] = 0.0
    return SimpleNamespace(item_factors_=vectors)


def test_item_embeddings_similar_items_exact(embedding_model):
    vectors = embedding_model.item_factors_
    ids, scores = ItemEmbeddings(embedding_model).fit().similar_items([0, 5], n=5)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-300)
    cosine = unit[[0, 5]] @ unit.T
    cosine[[0, 1], [0, 5]] = -np.inf
    np.testing.assert_array_equal(ids, np.argsort(-cosine, axis=1)[:, :5])
    np.testing.assert_allclose(scores, np.take_along_axis(cosine, ids, axis=1))


def test_item_embeddings_similar_items_through_hnsw(embedding_model):
    queries = np.arange(0, 3000, 30)
    exact_ids, _ = ItemEmbeddings(embedding_model).fit().similar_items(queries, n=10)
    embeddings = ItemEmbeddings(embedding_model, retrieval="hnsw").fit()
    ids, _ = embeddings.similar_items(queries, n=10)
    assert embeddings.retrieval_index_.metric == "cosine"
    assert recall(ids, exact_ids) >= 0.9
    assert not (ids == queries[:, None]).any()
    assert not (ids == 7).any()
    with pytest.raises(ValueError, match="metric='cosine'"):
        ItemEmbeddings(embedding_model, retrieval=FaissNearestNeighbors(metric="ip")).fit()
