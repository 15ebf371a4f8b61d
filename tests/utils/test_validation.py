"""Input validation: inputs are never modified, and one policy for every entry point."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.baselines import PopularityRecommender
from recsys.datasets import Interactions
from recsys.neighbors import ItemKNN
from recsys.testing._contract import (
    INPUT_LAYOUTS,
    assert_input_unchanged,
    contract_data,
    non_canonical_input,
    snapshot_input,
)
from recsys.utils import check_interaction_matrix, check_item_indices
from recsys.utils._validation import (
    DUPLICATE_POLICIES,
    as_int64_indices,
    merge_duplicate_pairs,
)


@pytest.fixture(scope="module")
def data():
    return contract_data()


# ------------------------------------------------------------------ check_interaction_matrix
@pytest.mark.parametrize("layout", INPUT_LAYOUTS)
def test_input_unchanged_and_result_canonical(data, layout):
    X = non_canonical_input(data, layout)
    before = snapshot_input(X)
    result = check_interaction_matrix(X)
    assert_input_unchanged(X, before, "check_interaction_matrix")
    assert result.format == "csr" and result.dtype == np.float32
    assert result.has_canonical_format and result.data.all()
    np.testing.assert_array_equal(result.toarray(), data.toarray())


def test_canonical_float32_csr_is_not_copied(data):
    result = check_interaction_matrix(data)
    for name in ("data", "indices", "indptr"):
        assert np.shares_memory(getattr(result, name), getattr(data, name))


@pytest.mark.parametrize("layout", ["unsorted", "duplicates", "explicit_zeros"])
def test_canonicalised_result_shares_nothing_with_input(data, layout):
    X = non_canonical_input(data, layout)
    result = check_interaction_matrix(X)
    for name in ("data", "indices", "indptr"):
        assert not np.shares_memory(getattr(result, name), getattr(X, name))


def test_explicit_zeros_are_no_interaction():
    zeros = sp.csr_matrix((np.zeros(3), np.array([0, 1, 2]), np.array([0, 3, 3])), shape=(2, 4))
    assert zeros.nnz == 3
    with pytest.raises(ValueError, match="no interaction"):
        check_interaction_matrix(zeros)
    assert check_interaction_matrix(zeros, allow_empty=True).nnz == 0
    assert zeros.nnz == 3


def test_interactions_are_read_through_to_csr():
    events = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "a"], "w": [2.0, 1.0, 3.0]})
    interactions = Interactions.from_pandas(events, weight_col="w")
    np.testing.assert_array_equal(check_interaction_matrix(interactions).toarray(), [[2, 1], [3, 0]])


@pytest.mark.parametrize("model", [PopularityRecommender(), ItemKNN(k=20)], ids=type)
def test_two_threads_fitting_on_one_shared_non_canonical_matrix(data, model):
    """Regression: canonicalising in place raced when threads fitted on one shared matrix."""
    shared = non_canonical_input(data, "unsorted")
    before = snapshot_input(shared)
    expected = model.fit(data).recommend(data, n=10)
    start = threading.Barrier(2)

    def fit_and_recommend(_):
        start.wait()
        fitted = type(model)(**model.get_params()).fit(shared)
        return fitted.recommend(shared, n=10)

    for _ in range(10):
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(fit_and_recommend, range(2)))
        assert_input_unchanged(shared, before, "a concurrent fit")
        for ids, scores in answers:
            np.testing.assert_array_equal(ids, expected[0])
            np.testing.assert_allclose(scores, expected[1], rtol=1e-6)


# ------------------------------------------------------------------ item indices
@pytest.mark.parametrize("items, error, message", [
    ([1.7], ValueError, "whole item indices"),
    ([np.nan], ValueError, "whole item indices"),
    (["a"], TypeError, "integer item indices.*item_index"),
    (np.array([2**64 - 1], dtype=np.uint64), ValueError, r"\[0, 5\); got \[18446744073709551615\]"),
    ([5], ValueError, r"\[0, 5\)"),
    ([-1], ValueError, r"\[0, 5\)"),
    (np.array([True, False]), TypeError, "boolean mask"),
])
def test_bad_item_indices(items, error, message):
    with pytest.raises(error, match=message):
        check_item_indices(items, 5)


def test_item_indices_accept_any_integer_width_and_whole_floats():
    for items in ([0, 4], np.array([0, 4], dtype=np.uint64), np.array([0, 4], dtype=np.int8), [0.0, 4.0]):
        result = check_item_indices(items, 5)
        assert result.dtype == np.int64
        np.testing.assert_array_equal(result, [0, 4])


def test_uint64_ids_are_not_wrapped_to_padding():
    with pytest.raises(ValueError, match="18446744073709551615"):
        as_int64_indices(np.array([[0, 2**64 - 1]], dtype=np.uint64))
    np.testing.assert_array_equal(as_int64_indices(np.array([[0, 7]], dtype=np.uint64)), [[0, 7]])


# ------------------------------------------------------------------ duplicate pairs
def _reference_merge(users, items, ratings, policy):
    frame = pd.DataFrame({"user": users, "item": items, "rating": ratings})
    grouped = frame.groupby(["user", "item"], sort=True)["rating"]
    merged = {"sum": grouped.sum, "mean": grouped.mean,
              "first": grouped.first, "last": grouped.last}[policy]()
    return {pair: value for pair, value in merged.items()}


@pytest.mark.parametrize("policy", DUPLICATE_POLICIES[1:])
def test_merge_duplicate_pairs_matches_pandas(policy):
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 6, 200), rng.integers(0, 5, 200)
    ratings = rng.random(200)
    events, merged, _, counts = merge_duplicate_pairs(users, items, policy, values={"r": ratings})
    got = {(int(u), int(i)): r for u, i, r in zip(users[events], items[events], merged["r"])}
    expected = _reference_merge(users, items, ratings, policy)
    assert got.keys() == expected.keys()
    for pair, value in expected.items():
        assert got[pair] == pytest.approx(value)
    assert np.all(np.diff(events) > 0), "the pairs stay in the order of their events"
    if policy in ("sum", "mean"):
        assert counts.sum() == 200


def test_merge_without_duplicates_keeps_every_event_in_place():
    events, merged, times, counts = merge_duplicate_pairs(
        np.array([2, 0, 1]), np.array([0, 1, 0]), "error", values={"r": np.array([3.0, 1.0, 2.0])},
        times=np.array([5, 6, 7]))
    np.testing.assert_array_equal(events, [0, 1, 2])
    np.testing.assert_array_equal(merged["r"], [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(times, [5, 6, 7])
    assert counts is None


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="duplicates must be one of"):
        merge_duplicate_pairs(np.array([0]), np.array([0]), "max")


@pytest.mark.parametrize("make", [np.asarray, sp.csr_matrix], ids=["dense", "sparse"])
def test_complex_input_is_refused_not_cast(make):
    X = make(np.array([[1.0 + 2.0j, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"^Complex data not supported: X has dtype complex128.*np\.abs\(X\)"):
        check_interaction_matrix(X)


def test_errors_start_with_scikit_learns_wording_and_say_the_fix():
    with pytest.raises(ValueError, match=r"^Negative values in data passed to X: .*Shift or clip"):
        check_interaction_matrix(np.array([[1.0, -1.0]]))
    with pytest.raises(ValueError, match=r"^Found array with 0 feature\(s\) \(shape=\(3, 0\)\) while a "
                                         r"minimum of 1 is required: X has no item columns"):
        check_interaction_matrix(np.empty((3, 0)))
    model = ItemKNN(k=2).fit(sp.csr_matrix(np.eye(4)))
    for method in (model.recommend, model.score):
        with pytest.raises(ValueError, match=r"^X has 3 features, but ItemKNN is expecting 4 features "
                                             r"as input: the columns of X must be the 4 items"):
            method(sp.csr_matrix(np.eye(3)))
