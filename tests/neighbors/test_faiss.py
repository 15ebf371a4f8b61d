"""FaissNearestNeighbors: recall against exact search, scikit-learn parity, pickling, bad input."""

import pickle

import faiss
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import estimator_checks

from recsys.neighbors import FaissNearestNeighbors

_SKLEARN_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_do_not_raise_errors_in_init_or_set_params",
)


def _clustered(n, dimension=32, n_clusters=40, random_state=0):
    """Embedding-like vectors: Gaussian clusters around random centres."""
    rng = np.random.default_rng(random_state)
    centres = np.random.default_rng(99).normal(size=(n_clusters, dimension))
    return (centres[rng.integers(n_clusters, size=n)] + 0.5 * rng.normal(size=(n, dimension))).astype(np.float32)


@pytest.fixture(scope="module", autouse=True)
def single_faiss_thread():
    # On a shared machine, OpenMP threads spinning against other processes
    # make faiss' k-means tens of times slower; one thread is plenty here.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)


@pytest.fixture(scope="module")
def vectors():
    return _clustered(3000), _clustered(200, random_state=1)


def _recall(found, exact):
    return np.mean([len(np.intersect1d(a, b)) / len(b) for a, b in zip(found, exact)])


@pytest.mark.parametrize("check_name", _SKLEARN_CHECKS)
def test_sklearn_check(check_name):
    getattr(estimator_checks, check_name)("FaissNearestNeighbors", FaissNearestNeighbors())


@pytest.mark.parametrize("metric, sklearn_metric", [("cosine", "cosine"), ("l2", "euclidean")])
def test_flat_equals_sklearn(vectors, metric, sklearn_metric):
    X, queries = vectors
    ours = FaissNearestNeighbors(n_neighbors=5, metric=metric).fit(X)
    exact = NearestNeighbors(n_neighbors=5, metric=sklearn_metric).fit(X)
    for query in (queries, None):
        distances, indices = ours.kneighbors(query)
        expected_distances, expected_indices = exact.kneighbors(query)
        np.testing.assert_array_equal(indices, expected_indices)
        np.testing.assert_allclose(distances, expected_distances, atol=1e-4)


def test_inner_product_distances_are_negated_scores(vectors):
    X, queries = vectors
    distances, indices = FaissNearestNeighbors(n_neighbors=3, metric="ip").fit(X).kneighbors(queries[:5])
    np.testing.assert_allclose(distances, -np.einsum("qd,qkd->qk", queries[:5], X[indices]), rtol=1e-4)
    assert np.all(np.diff(distances, axis=1) >= -1e-5)


@pytest.mark.parametrize("index", ["hnsw", "ivf", "ivfpq", "IVF32,SQ8"])
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_default_recall_at_10(vectors, index, metric):
    X, queries = vectors
    exact = FaissNearestNeighbors(metric=metric).fit(X).kneighbors(queries, return_distance=False)
    found = FaissNearestNeighbors(index=index, metric=metric, random_state=0).fit(X).kneighbors(
        queries, return_distance=False)
    assert _recall(found, exact) >= 0.95


def test_nprobe_trades_recall(vectors):
    X, queries = vectors
    exact = FaissNearestNeighbors().fit(X).kneighbors(queries, return_distance=False)
    narrow = FaissNearestNeighbors(index="ivf", nprobe=1, random_state=0).fit(X)
    wide = clone(narrow).set_params(nprobe=64).fit(X)
    assert _recall(narrow.kneighbors(queries, return_distance=False), exact) < \
        _recall(wide.kneighbors(queries, return_distance=False), exact)


def test_training_points_are_not_their_own_neighbours(vectors):
    X, _ = vectors
    indices = FaissNearestNeighbors(n_neighbors=4, index="ivf", random_state=0).fit(X).kneighbors(
        return_distance=False)
    assert indices.shape == (len(X), 4)
    assert not (indices == np.arange(len(X))[:, None]).any()


@pytest.mark.parametrize("mode", ["connectivity", "distance"])
def test_kneighbors_graph(vectors, mode):
    X, queries = vectors
    model = FaissNearestNeighbors(n_neighbors=3).fit(X)
    graph = model.kneighbors_graph(queries, mode=mode)
    expected = NearestNeighbors(n_neighbors=3, metric="cosine").fit(X).kneighbors_graph(queries, mode=mode)
    assert graph.shape == (len(queries), len(X))
    np.testing.assert_allclose(graph.toarray(), expected.toarray(), atol=1e-4)


@pytest.mark.parametrize("index", ["flat", "hnsw", "ivfpq"])
def test_pickle_round_trip(vectors, index):
    X, queries = vectors
    model = FaissNearestNeighbors(index=index, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(model))
    for first, second in zip(model.kneighbors(queries), restored.kneighbors(queries)):
        np.testing.assert_array_equal(first, second)


def test_random_state_makes_training_reproducible(vectors):
    X, queries = vectors
    first = FaissNearestNeighbors(index="ivf", nprobe=2, random_state=3).fit(X).kneighbors(queries)
    second = FaissNearestNeighbors(index="ivf", nprobe=2, random_state=3).fit(X).kneighbors(queries)
    np.testing.assert_array_equal(first[1], second[1])


def test_bad_input(vectors):
    X, queries = vectors
    model = FaissNearestNeighbors().fit(X[:20])
    with pytest.raises(ValueError, match="n_neighbors <= n_samples_fit"):
        model.kneighbors(queries, n_neighbors=21)
    with pytest.raises(ValueError, match="n_samples_fit - 1"):
        model.kneighbors(n_neighbors=20)
    bad = X[:5].copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        FaissNearestNeighbors().fit(bad)
    with pytest.raises(ValueError, match="NaN"):
        model.kneighbors(bad)
    with pytest.raises(ValueError, match="features"):
        model.kneighbors(queries[:, :5])
    with pytest.raises(ValueError, match="index_factory"):
        FaissNearestNeighbors(index="NoSuchIndex").fit(X)
    with pytest.raises(ValueError, match="metric"):
        FaissNearestNeighbors(metric="manhattan").fit(X)
    with pytest.raises(ValueError, match="mode"):
        model.kneighbors_graph(queries, mode="weights")


@pytest.mark.parametrize(("X", "error", "message"), [
    (sp.csr_matrix(np.eye(3)), TypeError, "Sparse data was passed for X, but dense data is required"),
    (np.ones((3, 2)) * 1j, ValueError, "Complex data not supported"),
    (np.empty((0, 3)), ValueError, r"0 sample\(s\)"),
    (np.empty((3, 0)), ValueError, r"0 feature\(s\)"),
])
def test_fit_refuses_sparse_complex_and_empty_input_clearly(X, error, message):
    with pytest.raises(error, match=message):
        FaissNearestNeighbors().fit(X)


def test_no_queries_give_empty_results():
    nn = FaissNearestNeighbors(n_neighbors=2).fit(np.random.default_rng(0).normal(size=(5, 3)))
    distances, indices = nn.kneighbors(np.empty((0, 3)))
    assert distances.shape == indices.shape == (0, 2)
