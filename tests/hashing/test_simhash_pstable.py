import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks

from recsys.hashing import (
    PStableHasher,
    SimHasher,
    cosine_from_hamming,
    hamming_distance,
)


@parametrize_with_checks([SimHasher(n_bits=16, seed=0), PStableHasher(n_hashes=4, width=1.0, seed=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_simhash_bits_pack_into_uint64_words():
    X = np.random.default_rng(0).standard_normal((5, 7))
    hasher = SimHasher(n_bits=70, seed=1).fit(X)
    codes = hasher.transform(X)
    assert codes.shape == (5, 2) and codes.dtype == np.uint64
    bits = (X @ hasher.hyperplanes_) > 0
    unpacked = np.unpackbits(codes.view(np.uint8), axis=1, bitorder="little")[:, :70]
    np.testing.assert_array_equal(unpacked.astype(bool), bits)
    assert (codes[:, 1] >> np.uint64(6) == 0).all()


def test_simhash_dense_and_sparse_agree():
    X = sp.random(6, 20, density=0.3, random_state=0, format="csr")
    hasher = SimHasher(n_bits=32, seed=2).fit(X)
    np.testing.assert_array_equal(hasher.transform(X), hasher.transform(X.toarray()))


@settings(max_examples=15, deadline=None)
@given(angle=st.floats(0.0, np.pi), seed=st.integers(0, 10_000))
def test_simhash_agreement_estimates_angle(angle, seed):
    X = np.array([[1.0, 0.0], [np.cos(angle), np.sin(angle)]])
    n_bits = 2048
    codes = SimHasher(n_bits=n_bits, seed=seed).fit_transform(X)
    disagreement = hamming_distance(codes[:1], codes[1:])[0] / n_bits
    # Binomial(n_bits, angle / pi): 5 standard errors at worst.
    assert abs(disagreement - angle / np.pi) <= 5 * 0.5 / np.sqrt(n_bits)
    estimate = cosine_from_hamming(hamming_distance(codes[:1], codes[1:]), n_bits)[0]
    assert abs(estimate - np.cos(angle)) <= np.pi * 5 * 0.5 / np.sqrt(n_bits)


def test_hamming_distance_rejects_mismatched_codes():
    with pytest.raises(ValueError, match="uint64"):
        hamming_distance(np.zeros((1, 1), np.uint32), np.zeros((1, 1), np.uint64))


def test_pstable_near_points_collide_more_than_far_ones():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    near = X + 0.05 * rng.standard_normal(X.shape)
    far = X + 3.0 * rng.standard_normal(X.shape)
    hasher = PStableHasher(n_hashes=16, width=2.0, seed=0).fit(X)
    base = hasher.transform(X)
    assert (hasher.transform(near) == base).mean() > 0.9
    assert (hasher.transform(far) == base).mean() < 0.6


def test_pstable_matches_its_formula():
    X = np.random.default_rng(1).standard_normal((4, 3))
    hasher = PStableHasher(n_hashes=5, width=0.5, seed=3).fit(X)
    expected = np.floor((X @ hasher.projections_ + hasher.offsets_) / 0.5)
    np.testing.assert_array_equal(hasher.transform(X), expected)
    assert ((hasher.offsets_ >= 0) & (hasher.offsets_ < 0.5)).all()


def test_pstable_rejects_non_positive_width():
    with pytest.raises(ValueError, match="width"):
        PStableHasher(width=0.0).fit(np.ones((2, 2)))
