"""save(path) / Class.load(path) of the hashing estimators: same answers after a round trip."""

import json
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.hashing import (
    ContainmentLSH,
    CosineLSH,
    EuclideanLSH,
    MinHasher,
    MinHashLSH,
    MinHashLSHForest,
    PStableHasher,
    SimHasher,
    WeightedMinHasher,
)

WORDS = [f"w{i}" for i in range(40)]
TOKEN_SETS = [WORDS, WORDS[:35], WORDS[5:], ["a", "b", "c"], [], ["a", "b", "d"], WORDS[::2]]
QUERIES = [WORDS[:38], ["a", "b"], WORDS[1::2], []]


def round_trip(estimator, tmp_path):
    estimator.save(tmp_path / "model.npz")
    with zipfile.ZipFile(tmp_path / "model.npz") as archive:
        # Every member is a plain .npy array: nothing for numpy to unpickle.
        assert all(name.endswith(".npy") for name in archive.namelist())
    return type(estimator).load(tmp_path / "model.npz")


def binary_sets(seed=0):
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((30, 50)) < 0.3).astype(np.int8))


@pytest.mark.parametrize("X", [TOKEN_SETS, binary_sets()], ids=["tokens", "matrix"])
def test_minhash_lsh_round_trip(tmp_path, X):
    queries = QUERIES if isinstance(X, list) else binary_sets(1)
    index = MinHashLSH(threshold=0.4, n_perm=64).fit(X, keys=[f"k{i}" for i in range(len(
        TOKEN_SETS) if isinstance(X, list) else X.shape[0])])
    index.remove(["k1"])
    loaded = round_trip(index, tmp_path)
    assert loaded.query(queries) == index.query(queries)
    for exact in (False, True):
        expected, found = index.kneighbors(queries, n_neighbors=3, exact=exact), \
            loaded.kneighbors(queries, n_neighbors=3, exact=exact)
        np.testing.assert_array_equal(found[0], expected[0])
        assert found[1].tolist() == expected[1].tolist()
    assert [a.tolist() for a in loaded.candidate_pairs()] == \
        [a.tolist() for a in index.candidate_pairs()]
    # The loaded index keeps growing like the original, default keys included.
    more = QUERIES[:2] if isinstance(X, list) else binary_sets(2)[:2]
    index.partial_fit(more)
    loaded.partial_fit(more)
    assert loaded.query(queries) == index.query(queries)


def test_minhash_lsh_keys_that_json_cannot_keep_are_refused(tmp_path):
    index = MinHashLSH(n_perm=16).fit([["a"], ["b"]], keys=[("a", 1), ("b", 2)])
    with pytest.raises(ValueError, match=r"keys must be int or str to be saved; got tuple"):
        index.save(tmp_path / "model.npz")
    assert not (tmp_path / "model.npz").exists()


def test_forest_round_trip(tmp_path):
    forest = MinHashLSHForest(n_perm=64, n_trees=8).fit(TOKEN_SETS, keys=list("abcdefg"))
    loaded = round_trip(forest, tmp_path)
    expected, found = forest.kneighbors(QUERIES, n_neighbors=3), loaded.kneighbors(QUERIES, 3)
    np.testing.assert_array_equal(found[0], expected[0])
    assert found[1].tolist() == expected[1].tolist()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("make", [lambda: CosineLSH(n_bits=6, n_tables=4, seed=3),
                                  lambda: EuclideanLSH(n_hashes=2, width=1.5, seed=3),
                                  lambda: CosineLSH(n_bits=6, n_tables=4, seed=None)],
                         ids=["cosine", "euclidean", "cosine-unseeded"])
def test_multi_table_round_trip(tmp_path, make, sparse):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 6)) * (rng.random((80, 6)) < 0.7)
    X = sp.csr_matrix(X) if sparse else X
    index = make().fit(X)
    loaded = round_trip(index, tmp_path)
    queries = X[:10]
    assert [a.tolist() for a in loaded.query(queries)] == [a.tolist() for a in index.query(queries)]
    expected, found = index.kneighbors(queries, 3), loaded.kneighbors(queries, 3)
    np.testing.assert_array_equal(found[0], expected[0])
    np.testing.assert_array_equal(found[1], expected[1])
    assert len(loaded.hashers_) == index.n_tables


def test_containment_round_trip(tmp_path):
    index = ContainmentLSH(threshold=0.6, n_perm=64).fit(TOKEN_SETS, keys=list("abcdefg"))
    loaded = round_trip(index, tmp_path)
    assert loaded.query(QUERIES) == index.query(QUERIES)


@pytest.mark.parametrize("hasher, X", [
    (MinHasher(n_perm=32, seed=4), TOKEN_SETS),
    (SimHasher(n_bits=70, seed=1), np.random.default_rng(0).standard_normal((5, 4))),
    (PStableHasher(n_hashes=6, seed=1), np.random.default_rng(0).standard_normal((5, 4))),
    (WeightedMinHasher(n_perm=16, seed=2), np.random.default_rng(0).random((5, 4))),
], ids=lambda value: type(value).__name__ if not isinstance(value, (list, np.ndarray)) else "")
def test_hasher_round_trip(tmp_path, hasher, X):
    hasher.fit(X)
    np.testing.assert_array_equal(round_trip(hasher, tmp_path).transform(X), hasher.transform(X))


def test_damaged_index_file_raises_naming_the_problem(tmp_path):
    index = MinHashLSH(n_perm=16).fit(TOKEN_SETS)
    index.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        contents = {name: archive[name] for name in archive.files}
    contents["attr:signatures_"] = contents["attr:signatures_"][:, :8]
    np.savez(tmp_path / "damaged.npz", **contents)
    with pytest.raises(ValueError, match=r"signatures_ has shape \(7, 8\).*damaged"):
        MinHashLSH.load(tmp_path / "damaged.npz")
    header = json.loads(str(contents["__header__"]))
    header["attributes"]["encoder_kind_"]["value"] = "pickle"
    contents["__header__"] = np.array(json.dumps(header))
    contents["attr:signatures_"] = index._storage.signatures(list(range(7)))
    np.savez(tmp_path / "kind.npz", **contents)
    with pytest.raises(ValueError, match="input kind 'pickle'"):
        MinHashLSH.load(tmp_path / "kind.npz")
    with pytest.raises(ValueError, match="storage_options are for an index saved with"):
        MinHashLSH.load(tmp_path / "model.npz", host="127.0.0.1")


def test_lsh_item_knn_round_trip(tmp_path):
    from recsys.hashing import LSHItemKNN

    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((60, 25)) < 0.3).astype(np.float32))
    model = LSHItemKNN(threshold=0.2, n_perm=64, k=5).fit(X)
    loaded = round_trip(model, tmp_path)
    assert (loaded.similarity_ != model.similarity_).nnz == 0
    expected, found = model.recommend(X[:10], n=5), loaded.recommend(X[:10], n=5)
    np.testing.assert_array_equal(found[0], expected[0])
    np.testing.assert_array_equal(found[1], expected[1])
