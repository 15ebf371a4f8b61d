import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from recsys.hashing import (
    MinHasher,
    jaccard_from_signatures,
    pairwise_jaccard,
    pairwise_jaccard_from_signatures,
)
from recsys.hashing._setmin import set_minimum, set_minimum_reference

datasketch = pytest.importorskip("datasketch")


def random_token_sets(n_sets, vocabulary, max_size, seed):
    rng = np.random.default_rng(seed)
    return [[f"token-{t}" for t in rng.integers(0, vocabulary, rng.integers(1, max_size))]
            for _ in range(n_sets)]


def datasketch_signatures(sets, **kwargs):
    encoded = [[token.encode("utf-8") for token in tokens] for tokens in sets]
    return np.array([m.hashvalues for m in datasketch.MinHash.bulk(encoded, **kwargs)])


@pytest.mark.parametrize("scheme", ["affine32", "affine64", "legacy"])
@pytest.mark.parametrize("seed", [1, 7])
def test_token_signatures_equal_datasketch(scheme, seed):
    sets = random_token_sets(40, 300, 60, seed=seed)
    ours = MinHasher(n_perm=48, seed=seed, scheme=scheme).fit_transform(sets)
    expected = datasketch_signatures(sets, num_perm=48, seed=seed, scheme=scheme)
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)


def test_permutations_equal_datasketch():
    hasher = MinHasher(n_perm=16, seed=3).fit()
    np.testing.assert_array_equal(hasher.permutations_,
                                  datasketch.MinHash(num_perm=16, seed=3).permutations)


def test_matrix_column_j_is_the_token_str_j():
    rng = np.random.default_rng(0)
    X = sp.random(30, 200, density=0.05, random_state=rng, format="csr")
    X.data[:] = 1
    as_tokens = [[str(j) for j in X[i].indices] for i in range(X.shape[0])]
    hasher = MinHasher(n_perm=32).fit()
    np.testing.assert_array_equal(hasher.transform(X), hasher.transform(as_tokens))
    np.testing.assert_array_equal(hasher.transform(X), hasher.transform(X.toarray()))


def test_str_tokens_are_hashed_as_utf8_and_bytes_agree():
    hasher = MinHasher(n_perm=16).fit()
    np.testing.assert_array_equal(hasher.transform([["é", "b"]]), hasher.transform([[b"\xc3\xa9", b"b"]]))


def test_numba_minimum_matches_numpy_reference():
    rng = np.random.default_rng(1)
    lengths = rng.integers(0, 5, 50)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = rng.integers(0, 20, indptr[-1])
    values = rng.integers(0, 2**32, (20, 8), dtype=np.uint32)
    np.testing.assert_array_equal(set_minimum(indptr, indices, values, np.uint32(2**32 - 1)),
                                  set_minimum_reference(indptr, indices, values, np.uint32(2**32 - 1)))


@pytest.mark.parametrize("block_tokens", [1, 3, 64])
def test_blocked_minimum_is_right_for_unsorted_sets(block_tokens):
    from recsys.hashing._setmin import _set_minimum_kernel

    rng = np.random.default_rng(2)
    indptr = np.concatenate([[0], np.cumsum(rng.integers(0, 9, 40))]).astype(np.int64)
    indices = rng.integers(0, 30, indptr[-1]).astype(np.int64)
    values = rng.integers(0, 2**32, (30, 5), dtype=np.uint32)
    out = np.full((40, 5), 2**32 - 1, dtype=np.uint32)
    _set_minimum_kernel(indptr, indices, values, out, block_tokens)
    np.testing.assert_array_equal(out, set_minimum_reference(indptr, indices, values, np.uint32(2**32 - 1)))


def test_empty_set_signature_is_datasketch_empty_minhash_and_similarity_zero():
    signatures = MinHasher(n_perm=16).fit_transform([[], [], ["a"]])
    np.testing.assert_array_equal(signatures[0], datasketch.MinHash(num_perm=16).hashvalues)
    assert jaccard_from_signatures(signatures[:2], signatures[1:]).tolist() == [0.0, 0.0]
    assert pairwise_jaccard(np.array([[0, 0], [0, 0]]))[0, 1] == 0.0


def test_non_binary_matrix_rejected():
    with pytest.raises(ValueError, match="binary"):
        MinHasher().fit_transform(sp.csr_matrix(np.array([[2.0, 0.0, 1.0]])))


def test_string_instead_of_token_set_rejected():
    with pytest.raises(TypeError, match="not a set of tokens"):
        MinHasher().fit_transform(["abc", "def"])


def test_non_string_tokens_rejected():
    with pytest.raises(TypeError, match="str or bytes"):
        MinHasher().fit_transform([[1, 2]])


def test_signatures_of_different_hashers_cannot_be_compared():
    a = MinHasher(n_perm=16).fit_transform([["a"]])
    b = MinHasher(n_perm=32).fit_transform([["a"]])
    with pytest.raises(ValueError, match="same n_perm"):
        jaccard_from_signatures(a, b)


@pytest.mark.parametrize("bad", [{"n_perm": 0}, {"scheme": "md5"}, {"seed": -1}])
def test_bad_parameters(bad):
    with pytest.raises(ValueError):
        MinHasher(**bad).fit()


def test_clone_and_pairwise_estimate_consistent():
    hasher = clone(MinHasher(n_perm=64, seed=4))
    sets = random_token_sets(6, 30, 20, seed=2)
    signatures = hasher.fit_transform(sets)
    pairwise = pairwise_jaccard_from_signatures(signatures)
    np.testing.assert_allclose(np.diag(pairwise), 1.0)
    np.testing.assert_allclose(pairwise[0, 1:], jaccard_from_signatures(signatures[[0] * 5], signatures[1:]))


@settings(max_examples=25, deadline=None)
@given(size_a=st.integers(1, 80), size_b=st.integers(1, 80), shared=st.integers(0, 80),
       seed=st.integers(0, 1000))
def test_collision_rate_estimates_jaccard(size_a, size_b, shared, seed):
    shared = min(shared, size_a, size_b)
    common = [f"c{i}" for i in range(shared)]
    a = common + [f"a{i}" for i in range(size_a - shared)]
    b = common + [f"b{i}" for i in range(size_b - shared)]
    truth = shared / (size_a + size_b - shared)
    n_perm = 256
    signatures = MinHasher(n_perm=n_perm, seed=seed).fit_transform([a, b])
    estimate = jaccard_from_signatures(signatures[:1], signatures[1:])[0]
    # Binomial(n_perm, J) / n_perm: 5 standard errors at worst J = 0.5.
    assert abs(estimate - truth) <= 5 * 0.5 / np.sqrt(n_perm)


def test_fit_on_a_matrix_checks_it_and_keeps_its_width():
    X = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 1]], dtype=np.int8))
    hasher = MinHasher(n_perm=8).fit(X)
    assert hasher.n_features_in_ == 3
    with pytest.raises(ValueError, match="X has 2 features, but MinHasher is expecting 3"):
        hasher.transform(X[:, :2])
    # Token sets and fit() without X set no width, and a refit drops an earlier one.
    assert not hasattr(MinHasher(n_perm=8).fit([["a"]]), "n_features_in_")
    assert not hasattr(hasher.fit(), "n_features_in_")
    assert hasher.transform(X[:, :2]).shape == (2, 8)


@pytest.mark.parametrize(("X", "message"), [
    (np.array([[1.0, -1.0]]), r"^Negative values in data passed to X"),
    (np.array([[1.0, np.nan]]), r"^Input X contains NaN or infinite values"),
    (np.array([[1.0, np.inf]]), r"^Input X contains NaN or infinite values"),
    (np.empty((0, 3)), r"^Found array with 0 sample\(s\)"),
    (np.empty((3, 0)), r"^Found array with 0 feature\(s\)"),
    (np.array([[1 + 1j, 0]]), r"^Complex data not supported"),
    (np.array([1, 0, 1]), r"^Expected 2D array, got 1D array instead.*Reshape your data"),
])
def test_fit_refuses_what_no_set_matrix_holds(X, message):
    with pytest.raises(ValueError, match=message):
        MinHasher(n_perm=8).fit(X)
