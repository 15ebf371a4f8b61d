import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from recsys.hashing import (
    CosineLSH,
    EuclideanLSH,
    MinHasher,
    MinHashLSHForest,
    pairwise_jaccard,
)


def clustered_sets(n_groups=15, copies=4, n_columns=300, size=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_groups):
        base = rng.choice(n_columns, size, replace=False)
        for _ in range(copies):
            row = np.zeros(n_columns, dtype=np.int8)
            row[base] = 1
            row[rng.choice(n_columns, 3, replace=False)] = 1
            rows.append(row)
    return sp.csr_matrix(np.array(rows))


def test_forest_top_k_recall_against_exact_jaccard():
    X = clustered_sets()
    forest = MinHashLSHForest(n_perm=128, n_trees=8).fit(X)
    _, keys = forest.kneighbors(X, n_neighbors=4)
    truth = np.argsort(-pairwise_jaccard(X), axis=1, kind="stable")[:, :4]
    hits = [len(set(keys[row]) & set(truth[row])) for row in range(X.shape[0])]
    assert np.mean(hits) / 4 > 0.9


def test_forest_descends_to_short_prefixes_for_unrelated_queries():
    X = clustered_sets()
    forest = MinHashLSHForest(n_perm=64, n_trees=4).fit(X)
    unrelated = clustered_sets(n_groups=1, copies=1, seed=99)
    similarity, keys = forest.kneighbors(unrelated, n_neighbors=3)
    assert (keys != None).all()
    assert list(similarity[0]) == sorted(similarity[0], reverse=True)


def test_forest_accepts_signatures_and_rejects_too_many_trees():
    signatures = MinHasher(n_perm=32).fit_transform([["a", "b"], ["c"]])
    forest = MinHashLSHForest(n_perm=32, n_trees=4).fit(signatures, keys=["ab", "c"])
    assert forest.kneighbors(signatures[:1], n_neighbors=1)[1].tolist() == [["ab"]]
    with pytest.raises(ValueError, match="n_trees"):
        MinHashLSHForest(n_perm=4, n_trees=8).fit(signatures)


def test_cosine_lsh_finds_the_true_neighbours_of_perturbed_points():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 16))
    queries = X[:50] + 0.05 * rng.standard_normal((50, 16))
    index = CosineLSH(n_bits=12, n_tables=10, seed=0).fit(X)
    similarity, indices = index.kneighbors(queries, n_neighbors=1)
    assert (indices[:, 0] == np.arange(50)).mean() > 0.95
    found = indices[:, 0] >= 0
    cosine = np.einsum("ij,ij->i", queries[found], X[indices[found, 0]]) / (
        np.linalg.norm(queries[found], axis=1) * np.linalg.norm(X[indices[found, 0]], axis=1))
    np.testing.assert_allclose(similarity[found, 0], cosine)


def test_cosine_lsh_on_sparse_input_and_clone():
    X = sp.random(40, 30, density=0.3, random_state=1, format="csr")
    index = clone(CosineLSH(n_bits=4, n_tables=4, seed=1)).fit(X)
    _, dense_indices = CosineLSH(n_bits=4, n_tables=4, seed=1).fit(X.toarray()).kneighbors(X.toarray()[:5], 2)
    _, sparse_indices = index.kneighbors(X[:5], 2)
    np.testing.assert_array_equal(dense_indices, sparse_indices)


def test_euclidean_lsh_distances_are_exact_and_ascending():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 5))
    index = EuclideanLSH(n_hashes=3, width=3.0, n_tables=6, seed=0).fit(X)
    distance, indices = index.kneighbors(X[:20] + 0.01, n_neighbors=3)
    assert (indices[:, 0] == np.arange(20)).all()
    valid = indices >= 0
    rows = np.repeat(np.arange(20)[:, None], 3, axis=1)
    np.testing.assert_allclose(distance[valid],
                               np.linalg.norm(X[:20][rows[valid]] + 0.01 - X[indices[valid]], axis=1))
    assert np.all(np.diff(np.where(valid, distance, np.inf), axis=1) >= 0)


def test_query_returns_candidates_and_bad_parameters_rejected():
    X = np.random.default_rng(3).standard_normal((30, 4))
    index = EuclideanLSH(seed=0).fit(X)
    assert 0 in index.query(X[:1])[0]
    with pytest.raises(ValueError, match="n_bits"):
        CosineLSH(n_bits=65).fit(X)
    with pytest.raises(ValueError, match="features"):
        index.kneighbors(np.ones((1, 5)))
