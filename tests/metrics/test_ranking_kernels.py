"""The numba kernels of the ranking metrics against their numpy references."""

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.metrics import ndcg_at_k, precision_at_k
from recsys.metrics._map import _average_precision, _precision_at_hits
from recsys.metrics._ndcg import _ideal_dcg, _ideal_dcg_reference
from recsys.metrics._ranking import (
    _STAGED_USERS,
    _hit_statistics_reference,
    _relevance_at_ranks_reference,
    check_ranking_inputs,
    hit_statistics,
    relevance_at_ranks,
)


def _random_rankings(seed, n_users=200, n_items=60, width=15, graded=True, dtype=np.int64):
    """Relevance with empty rows and mixed grades, and distinct ranked ids with -1 padding."""
    rng = np.random.default_rng(seed)
    grades = rng.integers(1, 4, (n_users, n_items)) if graded else np.ones((n_users, n_items))
    y_true = np.where(rng.random((n_users, n_items)) < 0.2, grades, 0).astype(float)
    y_true[rng.random(n_users) < 0.2] = 0  # users without any relevant item
    y_pred = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :width].astype(dtype)
    lengths = rng.integers(0, width + 1, n_users)
    y_pred[np.arange(width) >= lengths[:, None]] = -1
    return y_true, y_pred


def _unsorted_csr_with_duplicates(dense, seed):
    """The same relevance as a CSR matrix whose rows hold each item twice, at half its grade, shuffled."""
    rng = np.random.default_rng(seed)
    indices, data, indptr = [], [], [0]
    for row in dense:
        entries = rng.permutation(np.repeat(np.flatnonzero(row), 2))
        indices.extend(entries)
        data.extend(row[entries] / 2)
        indptr.append(len(indices))
    matrix = sp.csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=dense.shape)
    assert not matrix.has_canonical_format
    return matrix


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("graded", [True, False])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_lookup_matches_reference(seed, graded, dtype):
    y_true, y_pred = _random_rankings(seed, graded=graded, dtype=dtype)
    for k in (1, 7, y_pred.shape[1]):
        checked_true, checked_pred = check_ranking_inputs(sp.csr_matrix(y_true), y_pred, k)
        np.testing.assert_array_equal(
            relevance_at_ranks(checked_true, checked_pred),
            _relevance_at_ranks_reference(checked_true, checked_pred),
        )
        np.testing.assert_array_equal(
            relevance_at_ranks(checked_true, checked_pred),
            np.where(checked_pred >= 0, y_true[np.arange(len(y_true))[:, None], checked_pred], 0.0),
        )


def test_lookup_reads_unsorted_duplicated_input_like_its_dense_form():
    y_true, y_pred = _random_rankings(7)
    raw = _unsorted_csr_with_duplicates(y_true, seed=7)
    raw_indices = raw.indices.copy()
    checked_true, checked_pred = check_ranking_inputs(raw, y_pred, 10)
    np.testing.assert_array_equal(raw.indices, raw_indices)  # the caller's matrix is left alone
    dense_true, _ = check_ranking_inputs(y_true, y_pred, 10)
    np.testing.assert_array_equal(relevance_at_ranks(checked_true, checked_pred),
                                  relevance_at_ranks(dense_true, checked_pred))
    np.testing.assert_array_equal(relevance_at_ranks(checked_true, checked_pred),
                                  _relevance_at_ranks_reference(checked_true, checked_pred))


def test_lookup_crosses_staging_blocks():
    y_true, y_pred = _random_rankings(3, n_users=2 * _STAGED_USERS + 5, n_items=12, width=4)
    checked_true, checked_pred = check_ranking_inputs(y_true, y_pred, 4)
    np.testing.assert_array_equal(relevance_at_ranks(checked_true, checked_pred),
                                  _relevance_at_ranks_reference(checked_true, checked_pred))


def test_canonical_csr_is_used_without_copying_indices():
    y_true, y_pred = _random_rankings(1)
    for dtype in (np.float64, np.float32):
        matrix = sp.csr_matrix(y_true, dtype=dtype)
        checked_true, _ = check_ranking_inputs(matrix, y_pred, 5)
        assert checked_true.dtype == np.float64
        assert np.shares_memory(checked_true.indices, matrix.indices)
        assert ndcg_at_k(matrix, y_pred, k=5) == ndcg_at_k(y_true, y_pred, k=5)


def test_explicit_zeros_are_not_relevant_and_stay_in_the_callers_matrix():
    matrix = sp.csr_matrix((np.array([0.0, 1.0, 0.0]), np.array([0, 1, 2]), np.array([0, 2, 3])), shape=(2, 3))
    assert matrix.has_canonical_format
    y_pred = np.array([[0, 1], [2, -1]])
    per_user = precision_at_k(matrix, y_pred, k=2, average=False)
    np.testing.assert_array_equal(per_user, [0.5, np.nan])
    assert matrix.nnz == 3


@pytest.mark.parametrize(
    ("y_pred", "match"),
    [
        (np.array([[0, 1, 0], [0, 1, 2], [1, 1, 2]]), "more than once for user 0"),
        (np.array([[0, 1, 2], [0, 1, 2], [1, 2, 2]]), "more than once for user 2"),
        (np.array([[0, 1, 2], [0, 5, 2], [1, 2, 3]]), r"outside \[0, 5\).*user 1"),
        # An id out of range is reported before a repeat of an earlier user.
        (np.array([[0, 0, 2], [0, 1, 2], [1, -2, 3]]), r"outside \[0, 5\).*user 2"),
    ],
)
def test_lookup_and_reference_report_the_same_bad_user(y_pred, match):
    y_true, checked_pred = check_ranking_inputs(np.ones((3, 5)), y_pred, 3)
    for lookup in (relevance_at_ranks, _relevance_at_ranks_reference):
        with pytest.raises(ValueError, match=match):
            lookup(y_true, checked_pred)


@pytest.mark.parametrize("seed", range(3))
def test_average_precision_sums_like_numpy(seed):
    y_true, y_pred = _random_rankings(seed)
    checked_true, checked_pred = check_ranking_inputs(y_true, y_pred, 12)
    relevance = relevance_at_ranks(checked_true, checked_pred)
    n_relevant = np.diff(checked_true.indptr)
    for columns in (relevance, relevance[:, :5]):
        n_hits = (columns > 0).sum(axis=1)
        assert (n_hits == 1).any() and (n_hits > 1).any()
        expected = _precision_at_hits(columns).sum(axis=1) / np.maximum(n_relevant, 1)
        np.testing.assert_array_equal(_average_precision(columns, checked_true), expected)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 4, 30])
def test_ideal_dcg_matches_reference(seed, k):
    rng = np.random.default_rng(seed)
    grades = np.round(rng.random((80, 50)) * 4, 1) + 0.1  # many ties and fractional grades
    dense = np.where(rng.random((80, 50)) < 0.3, grades, 0.0)
    dense[:10] = 0  # users without any relevant item
    y_true = sp.csr_matrix(dense)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for transform in (lambda r: r, lambda r: np.exp2(r) - 1.0):
        np.testing.assert_array_equal(_ideal_dcg(y_true, k, transform, discounts),
                                      _ideal_dcg_reference(y_true, k, transform, discounts))


def test_hit_statistics_count_and_place_hits():
    relevance = np.array([[0, 0, 2.0], [1.0, 0, 0.5], [0, 0, 0]])
    n_hits, first_hit = hit_statistics(relevance)
    np.testing.assert_array_equal(n_hits, [1, 2, 0])
    np.testing.assert_array_equal(first_hit, [2, 0, -1])


@pytest.mark.parametrize("seed", range(3))
def test_hit_statistics_match_reference(seed):
    y_true, y_pred = _random_rankings(seed)
    relevance = relevance_at_ranks(*check_ranking_inputs(y_true, y_pred, 12))
    for columns in (relevance, relevance[:, :5]):
        for ours, reference in zip(hit_statistics(columns), _hit_statistics_reference(columns)):
            np.testing.assert_array_equal(ours, reference)
