import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys.metrics import ranking_from_scores
from recsys.utils import top_k


def _reference_top_k(scores, k, exclude=None):
    """Full stable sort per row: the contract of top_k, written plainly."""
    scores = np.array(scores, dtype=np.float64)
    if exclude is not None:
        scores[np.asarray(exclude, dtype=bool)] = np.nan
    ids = np.full((len(scores), k), -1, dtype=np.int64)
    values = np.full((len(scores), k), -np.inf)
    for row, row_scores in enumerate(scores):
        rankable = np.flatnonzero(~np.isnan(row_scores) & (row_scores > -np.inf))
        order = rankable[np.argsort(-row_scores[rankable], kind="stable")][:k]
        ids[row, :len(order)], values[row, :len(order)] = order, row_scores[order]
    return ids, values


def test_ties_are_broken_by_lower_index_only_in_tied_rows():
    scores = np.array([[0.1, 0.9, 0.9, 0.3, 0.9], [0.5, 0.4, 0.3, 0.2, 0.1]])
    ids, values = top_k(scores, 2)
    np.testing.assert_array_equal(ids, [[1, 2], [0, 1]])
    np.testing.assert_array_equal(values, [[0.9, 0.9], [0.5, 0.4]])


def test_excluded_and_nan_are_never_returned_and_pad():
    scores = np.array([[np.nan, 1.0, 2.0, 3.0]])
    ids, values = top_k(scores, 6, exclude=sp.csr_matrix([[0, 0, 0, 1]]))
    np.testing.assert_array_equal(ids, [[2, 1, -1, -1, -1, -1]])
    assert np.isneginf(values[0, 2:]).all()


def test_ranking_from_scores_doc_example():
    np.testing.assert_array_equal(ranking_from_scores(np.array([[0.1, 0.9, 0.9, 0.3]]), k=3), [[1, 2, 3]])


def test_rejects_bad_k_and_shape():
    with pytest.raises(ValueError, match="positive integer"):
        top_k(np.ones((2, 3)), 0)
    with pytest.raises(ValueError, match="2-d"):
        top_k(np.ones(3), 1)


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 10)),
           elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, -np.inf, np.nan])),
    st.integers(1, 12),
    st.integers(0, 2**31),
)
def test_matches_a_full_sort_reference(scores, k, seed):
    exclude = np.random.default_rng(seed).random(scores.shape) < 0.2
    ids, values = top_k(scores.copy(), k, exclude=exclude)
    expected_ids, expected_values = _reference_top_k(scores, k, exclude)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(values, expected_values)


@pytest.mark.parametrize("exclude", [None, "dense", "sparse"])
def test_top_k_leaves_the_scores_unchanged_unless_told_it_may_overwrite_them(exclude):
    scores = np.array([[0.5, np.nan, 2.0, np.inf], [1.0, 3.0, -np.inf, 0.0]])
    mask = np.array([[False, False, True, False], [True, False, False, False]])
    exclusion = {None: None, "dense": mask, "sparse": sp.csr_matrix(mask)}[exclude]
    before = scores.copy()
    ids, values = top_k(scores, 3, exclude=exclusion)
    np.testing.assert_array_equal(scores, before)
    owned = scores.copy()
    owned_ids, owned_values = top_k(owned, 3, exclude=exclusion, overwrite_scores=True)
    np.testing.assert_array_equal(owned_ids, ids)
    np.testing.assert_array_equal(owned_values, values)
    assert not np.array_equal(owned, before, equal_nan=True)  # the owner's block was written over


def test_top_k_ranks_read_only_scores_without_exclusions():
    scores = np.array([[0.5, 2.0, 1.0]])
    scores.flags.writeable = False
    ids, values = top_k(scores, 2, overwrite_scores=True)
    np.testing.assert_array_equal(ids, [[1, 2]])
    np.testing.assert_array_equal(values, [[2.0, 1.0]])
