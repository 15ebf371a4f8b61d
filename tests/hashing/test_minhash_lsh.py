import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from recsys.hashing import MinHasher, MinHashLSH, pairwise_jaccard


def near_duplicate_matrix(n_groups=20, copies=3, n_columns=400, size=40, noise=2, seed=0):
    """Rows in groups of near-identical sets; returns the matrix and each row's group."""
    rng = np.random.default_rng(seed)
    rows, groups = [], []
    for group in range(n_groups):
        base = rng.choice(n_columns, size, replace=False)
        for _ in range(copies):
            row = np.zeros(n_columns, dtype=np.int8)
            row[base] = 1
            row[rng.choice(n_columns, noise, replace=False)] = 1
            rows.append(row)
            groups.append(group)
    return sp.csr_matrix(np.array(rows)), np.array(groups)


@pytest.fixture(scope="module")
def data():
    return near_duplicate_matrix()


def test_bands_and_rows_match_datasketch():
    datasketch = pytest.importorskip("datasketch")
    for threshold in (0.3, 0.8):
        ours = MinHashLSH(threshold=threshold, n_perm=128).fit(sp.eye(2, format="csr"))
        theirs = datasketch.MinHashLSH(threshold=threshold, num_perm=128)
        assert (ours.bands_, ours.rows_) == (theirs.b, theirs.r)


def test_query_finds_near_duplicates(data):
    X, groups = data
    index = MinHashLSH(threshold=0.6, n_perm=128).fit(X)
    for row, candidates in enumerate(index.query(X)):
        assert row in candidates
        assert set(np.flatnonzero(groups == groups[row])) <= set(candidates)


def test_candidates_equal_datasketch_with_same_banding(data):
    datasketch = pytest.importorskip("datasketch")
    X, _ = data
    index = MinHashLSH(threshold=0.5, n_perm=64).fit(X)
    signatures = MinHasher(n_perm=64).fit_transform(X)
    theirs = datasketch.MinHashLSH(num_perm=64, params=(index.bands_, index.rows_))
    minhashes = [datasketch.MinHash(num_perm=64, hashvalues=s, scheme="affine32") for s in signatures]
    for key, minhash in enumerate(minhashes):
        theirs.insert(key, minhash)
    for row, candidates in enumerate(index.query(X)):
        assert sorted(candidates) == sorted(theirs.query(minhashes[row]))


def test_radius_and_kneighbors_exact_against_brute_force(data):
    X, _ = data
    index = MinHashLSH(threshold=0.6, n_perm=128).fit(X)
    truth = pairwise_jaccard(X)
    similarities, keys = index.radius_neighbors(X[:10], threshold=0.6, exact=True)
    for row in range(10):
        np.testing.assert_allclose(similarities[row], truth[row, keys[row].astype(int)])
        assert (similarities[row] >= 0.6).all()
        assert list(similarities[row]) == sorted(similarities[row], reverse=True)
    top, _ = index.kneighbors(X[:10], n_neighbors=3, exact=True)
    assert top.shape == (10, 3)
    np.testing.assert_allclose(top, np.sort(truth[:10], axis=1)[:, ::-1][:, :3])


def test_kneighbors_pads_with_nan_and_none():
    X = sp.csr_matrix(np.eye(4, dtype=np.int8))
    similarity, keys = MinHashLSH(threshold=0.9, n_perm=32).fit(X).kneighbors(X[:1], n_neighbors=3)
    assert keys[0, 0] == 0 and similarity[0, 0] == 1.0
    assert np.isnan(similarity[0, 1:]).all() and list(keys[0, 1:]) == [None, None]


def test_partial_fit_with_keys_and_remove(data):
    X, _ = data
    index = MinHashLSH(threshold=0.6).fit(X[:30], keys=[f"a{i}" for i in range(30)])
    index.partial_fit(X[30:], keys=[f"b{i}" for i in range(30, X.shape[0])])
    assert len(index) == X.shape[0] and "b40" in index
    index.remove(["a0", "b40"])
    assert "a0" not in index and len(index) == X.shape[0] - 2
    returned = {key for row in index.query(X) for key in row}
    assert not returned & {"a0", "b40"}
    with pytest.raises(KeyError, match="nothing was removed"):
        index.remove(["a1", "missing"])
    assert "a1" in index
    with pytest.raises(ValueError, match="already indexed"):
        index.partial_fit(X[:1], keys=["a1"])


def test_token_input_and_pickle_round_trip():
    words = [f"w{i}" for i in range(30)]
    index = MinHashLSH(threshold=0.5, n_perm=64).fit([words, words[:27], ["x", "y", "z"]])
    index.partial_fit([words[3:]])
    restored = pickle.loads(pickle.dumps(index))
    assert restored.query([words]) == index.query([words]) == [[0, 1, 3]]
    assert clone(index).get_params() == index.get_params()


def test_empty_sets_are_no_candidates():
    X = sp.csr_matrix(np.array([[0, 0, 0], [0, 0, 0], [1, 1, 0]], dtype=np.int8))
    index = MinHashLSH(threshold=0.5, n_perm=32).fit(X)
    assert index.query(X) == [[], [], [2]]


def test_signatures_and_datasketch_minhash_input():
    datasketch = pytest.importorskip("datasketch")
    words = [f"w{i}" for i in range(30)]
    signatures = MinHasher(n_perm=64, seed=5).fit_transform([words, ["q"]])
    index = MinHashLSH(n_perm=64, seed=5).fit(signatures)
    minhash = datasketch.MinHash(num_perm=64, seed=5)
    minhash.update_batch([w.encode() for w in words])
    assert index.query([minhash]) == [[0]]


@pytest.mark.parametrize("other", [{"n_perm": 32, "seed": 1}, {"n_perm": 64, "seed": 2}])
def test_minhash_of_other_n_perm_or_seed_rejected(other):
    datasketch = pytest.importorskip("datasketch")
    index = MinHashLSH(n_perm=64, seed=1).fit(MinHasher(n_perm=64).fit_transform([["a"]]))
    with pytest.raises(ValueError, match="seed"):
        index.query([datasketch.MinHash(num_perm=other["n_perm"], seed=other["seed"])])


def test_signature_array_of_other_length_rejected():
    index = MinHashLSH(n_perm=64).fit(MinHasher(n_perm=64).fit_transform([["a"]]))
    with pytest.raises(ValueError, match="n_perm=64"):
        index.query(MinHasher(n_perm=32).fit_transform([["a"]]))


def test_mixing_input_kinds_rejected():
    index = MinHashLSH().fit([["a", "b"]])
    with pytest.raises(ValueError, match="same kind of input"):
        index.query(sp.csr_matrix(np.ones((1, 2))))


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.2, 1.5])
def test_threshold_outside_unit_interval_rejected(threshold):
    with pytest.raises(ValueError, match="threshold"):
        MinHashLSH(threshold=threshold).fit([["a"]])


def test_non_binary_matrix_rejected():
    with pytest.raises(ValueError, match="binary"):
        MinHashLSH().fit(sp.csr_matrix(np.array([[0.5, 1.0]])))


def test_exact_needs_sets():
    index = MinHashLSH(n_perm=16).fit(MinHasher(n_perm=16).fit_transform([["a"]]))
    with pytest.raises(ValueError, match="exact=True"):
        index.kneighbors(MinHasher(n_perm=16).fit_transform([["a"]]), exact=True)


@settings(max_examples=20, deadline=None)
@given(removed=st.sets(st.integers(0, 59), max_size=30), seed=st.integers(0, 100))
def test_removed_keys_never_returned(removed, seed):
    X, _ = near_duplicate_matrix(seed=seed)
    index = MinHashLSH(threshold=0.5, n_perm=32).fit(X)
    index.remove(sorted(removed))
    returned = {key for row in index.query(X) for key in row}
    _, neighbors = index.kneighbors(X, n_neighbors=5)
    assert not returned & removed
    assert not set(neighbors[neighbors != None].tolist()) & removed
