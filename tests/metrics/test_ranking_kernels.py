"""The numba kernels of the ranking metrics against their numpy references."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from recsys.metrics import (
    hit_rate_at_k,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)
from recsys.metrics._map import (
    _average_precision,
    _precision_at_hits,
    _single_hit_precision,
)
from recsys.metrics._mrr import _first_hit_reciprocal
from recsys.metrics._ndcg import _ideal_dcg, _ideal_dcg_reference
from recsys.metrics._ranking import (
    _PREFETCH_USERS,
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


@pytest.mark.parametrize("n_users", [1, _PREFETCH_USERS - 1, _PREFETCH_USERS + 1, 4 * _PREFETCH_USERS + 3])
def test_lookup_covers_every_user_around_the_prefetch_distance(n_users):
    # k=4 of 12-wide lists: the kernel reads (and prefetches) rows of a strided view.
    y_true, y_pred = _random_rankings(3, n_users=n_users, n_items=30, width=12)
    checked_true, checked_pred = check_ranking_inputs(y_true, y_pred, 4)
    assert checked_pred.strides[0] == 12 * checked_pred.itemsize
    np.testing.assert_array_equal(relevance_at_ranks(checked_true, checked_pred),
                                  _relevance_at_ranks_reference(checked_true, checked_pred))


def test_only_the_first_k_columns_are_converted():
    y_true, y_pred = _random_rankings(4, width=12, dtype=np.int16)
    _, checked_pred = check_ranking_inputs(y_true, y_pred, 5)
    assert checked_pred.dtype == np.int64 and checked_pred.shape == (len(y_pred), 5)
    np.testing.assert_array_equal(checked_pred, y_pred[:, :5])


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
    for gains in (y_true.data, np.exp2(y_true.data) - 1.0):
        np.testing.assert_array_equal(_ideal_dcg(y_true.indptr, gains, k, discounts),
                                      _ideal_dcg_reference(y_true.indptr, gains, k, discounts))


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


@pytest.mark.parametrize("seed", range(3))
def test_first_hit_reciprocal_matches_reference(seed):
    y_true, y_pred = _random_rankings(seed)
    relevance = relevance_at_ranks(*check_ranking_inputs(y_true, y_pred, 12))
    for columns in (relevance, relevance[:, :5]):
        _, first_hit = _hit_statistics_reference(columns)
        expected = np.divide(1.0, first_hit + 1.0, out=np.zeros(len(first_hit)), where=first_hit >= 0)
        assert (expected == 0).any() and (expected == 1).any() and ((expected > 0) & (expected < 1)).any()
        np.testing.assert_array_equal(_first_hit_reciprocal(columns), expected)


def _on_threads(n_threads, function, *args, **kwargs):
    """function(*args, **kwargs) with numba's parallel kernels on n_threads threads."""
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        return function(*args, **kwargs)
    finally:
        numba.set_num_threads(previous)


needs_two_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="numba has a single thread here"
)


@needs_two_threads
@pytest.mark.parametrize("graded", [True, False])
def test_kernels_give_identical_results_on_one_and_two_threads(graded):
    # Many prefetch distances per thread, and an odd count so that the parts differ in size.
    y_true, y_pred = _random_rankings(5, n_users=50 * _PREFETCH_USERS + 7, width=12, graded=graded)
    checked_true, checked_pred = check_ranking_inputs(y_true, y_pred, 12)
    previous = numba.get_num_threads()
    results = {}
    for n_threads in (1, 2):
        relevance = _on_threads(n_threads, relevance_at_ranks, checked_true, checked_pred)
        results[n_threads] = [
            relevance,
            *_on_threads(n_threads, hit_statistics, relevance),
            *_on_threads(n_threads, _single_hit_precision, relevance),
            _on_threads(n_threads, _first_hit_reciprocal, relevance),
            *(_on_threads(n_threads, metric, y_true, y_pred, k=10, average=False)
              for metric in (precision_at_k, recall_at_k, ndcg_at_k, map_at_k, mrr_at_k, hit_rate_at_k)),
        ]
    assert numba.get_num_threads() == previous
    np.testing.assert_array_equal(results[1][0], _relevance_at_ranks_reference(checked_true, checked_pred))
    for one_thread, two_threads in zip(results[1], results[2]):
        assert one_thread.dtype == two_threads.dtype
        # Bit for bit: the float64 values compared as integers, NaN included.
        np.testing.assert_array_equal(one_thread.view(np.uint8), two_threads.view(np.uint8))


@needs_two_threads
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        # The first bad user is in the first thread's part; another is in the second's.
        ({3: "repeat", 9: "repeat"}, "more than once for user 3"),
        ({3: "out", 9: "out"}, "user 3"),
        # Found by the second thread only, or winning over an earlier repeat.
        ({9: "repeat"}, "more than once for user 9"),
        ({3: "repeat", 9: "out"}, r"outside \[0, 20\).*user 9"),
        ({9: "repeat", 3: "out"}, r"outside \[0, 20\).*user 3"),
    ],
)
def test_lookup_reports_the_same_bad_user_on_one_and_two_threads(bad, match):
    y_pred = np.tile(np.arange(5), (12, 1))
    for user, kind in bad.items():
        y_pred[user, 4] = y_pred[user, 0] if kind == "repeat" else 20
    y_true, checked_pred = check_ranking_inputs(np.ones((12, 20)), y_pred, 5)
    for n_threads in (1, 2):
        with pytest.raises(ValueError, match=match):
            _on_threads(n_threads, relevance_at_ranks, y_true, checked_pred)
    with pytest.raises(ValueError, match=match):
        _relevance_at_ranks_reference(y_true, checked_pred)
