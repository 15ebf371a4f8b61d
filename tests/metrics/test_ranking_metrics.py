import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys.metrics import (
    hit_rate_at_k,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_report,
    recall_at_k,
)
from recsys.metrics._ranking import check_ranking_inputs, relevance_at_ranks

RANK_LIST_METRICS = [precision_at_k, recall_at_k, ndcg_at_k, map_at_k, mrr_at_k, hit_rate_at_k]

# User 0: relevant {0, 2} ranked at places 1 and 3; user 1: nothing relevant;
# user 2: relevant {1, 3, 4}, its list padded after two items, one hit at place 2.
Y_TRUE = np.array([[1, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 1, 0, 1, 1]])
Y_PRED = np.array([[0, 1, 2], [0, 1, 2], [0, 3, -1]])


@pytest.mark.parametrize(
    ("metric", "params", "expected"),
    [
        (precision_at_k, {}, [2 / 3, np.nan, 1 / 3]),
        (recall_at_k, {}, [1.0, np.nan, 1 / 3]),
        (recall_at_k, {"denominator": "min_k"}, [1.0, np.nan, 1 / 3]),
        (map_at_k, {}, [(1 + 2 / 3) / 2, np.nan, (1 / 2) / 3]),
        (map_at_k, {"denominator": "min_k"}, [(1 + 2 / 3) / 2, np.nan, (1 / 2) / 3]),
        (mrr_at_k, {}, [1.0, np.nan, 0.5]),
        (hit_rate_at_k, {}, [1.0, np.nan, 1.0]),
        (ndcg_at_k, {}, [(1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3)), np.nan,
                         (1 / np.log2(3)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))]),
    ],
)
def test_hand_computed_values(metric, params, expected):
    per_user = metric(Y_TRUE, Y_PRED, k=3, average=False, **params)
    np.testing.assert_allclose(per_user, expected, rtol=1e-12)
    assert metric(Y_TRUE, Y_PRED, k=3, **params) == pytest.approx(np.nanmean(expected), rel=1e-12)


def test_min_k_denominator_caps_at_k():
    y_true = np.array([[1, 1, 1, 1, 0]])
    y_pred = np.array([[0, 1, 4]])
    assert recall_at_k(y_true, y_pred, k=2) == 0.5
    assert recall_at_k(y_true, y_pred, k=2, denominator="min_k") == 1.0
    assert map_at_k(y_true, y_pred, k=2) == 0.5
    assert map_at_k(y_true, y_pred, k=2, denominator="min_k") == 1.0


def test_graded_ndcg_gains():
    y_true = np.array([[3, 0, 1]])
    y_pred = np.array([[2, 0, 1]])
    ideal = 3 + 1 / np.log2(3)
    assert ndcg_at_k(y_true, y_pred, k=3) == pytest.approx((1 + 3 / np.log2(3)) / ideal)
    ideal_exp = 7 + 1 / np.log2(3)
    assert ndcg_at_k(y_true, y_pred, k=3, gain="exponential") == pytest.approx((1 + 7 / np.log2(3)) / ideal_exp)


def test_sparse_and_dense_inputs_agree():
    for metric in RANK_LIST_METRICS:
        dense = metric(Y_TRUE, Y_PRED, k=3, average=False)
        sparse = metric(sp.csr_matrix(Y_TRUE), Y_PRED, k=3, average=False)
        np.testing.assert_array_equal(dense, sparse)


def test_only_first_k_columns_count():
    y_true = np.array([[0, 0, 1]])
    assert precision_at_k(y_true, np.array([[0, 1, 2]]), k=2) == 0.0


def test_no_relevant_user_anywhere_gives_nan():
    assert np.isnan(ndcg_at_k(np.zeros((2, 3)), np.array([[0, 1], [1, 2]]), k=2))


@pytest.mark.parametrize(
    ("y_pred", "k", "error", "match"),
    [
        (np.array([[0, 1]]), 3, ValueError, "k=3"),
        (np.array([[0, 0, 1]]), 3, ValueError, "more than once"),
        (np.array([[0, 9]]), 2, ValueError, "outside"),
        (np.array([[0.0, 1.0]]), 2, TypeError, "integer"),
        (np.array([0, 1]), 1, ValueError, "2-d"),
        (np.array([[0, 1]]), 0, ValueError, "positive integer"),
    ],
)
def test_bad_inputs_raise_clear_errors(y_pred, k, error, match):
    with pytest.raises(error, match=match):
        precision_at_k(np.array([[1, 0, 1]]), y_pred, k=k)


def test_user_count_mismatch_and_negative_relevance():
    with pytest.raises(ValueError, match="users"):
        recall_at_k(np.ones((2, 3)), np.array([[0, 1]]), k=2)
    with pytest.raises(ValueError, match="negative"):
        recall_at_k(np.array([[-1, 1, 0]]), np.array([[0, 1]]), k=2)
    with pytest.raises(ValueError, match="denominator"):
        recall_at_k(np.array([[1, 1, 0]]), np.array([[0, 1]]), k=2, denominator="k")


def test_relevance_at_ranks_reports_grades_at_places():
    y_true, y_pred = check_ranking_inputs(np.array([[0, 2.5, 0, 1], [3, 0, 0, 0]]),
                                          np.array([[3, 0, 1], [1, -1, -1]]), 3)
    np.testing.assert_array_equal(relevance_at_ranks(y_true, y_pred), [[1, 0, 2.5], [0, 0, 0]])


def test_ranking_report_matches_metric_functions():
    rng = np.random.default_rng(0)
    y_true = sp.random(30, 40, density=0.1, random_state=1, format="csr")
    y_true.data = rng.integers(1, 4, y_true.nnz).astype(float)
    y_pred = np.argsort(rng.random((30, 40)), axis=1)[:, :10]
    report = ranking_report(y_true, y_pred, metrics=("precision", "recall", "ndcg", "map", "mrr", "hit_rate"),
                            ks=(3, 10))
    assert list(report.columns) == [3, 10]
    for name, metric in [("precision", precision_at_k), ("recall", recall_at_k), ("ndcg", ndcg_at_k),
                         ("map", map_at_k), ("mrr", mrr_at_k), ("hit_rate", hit_rate_at_k)]:
        for k in (3, 10):
            assert report.loc[name, k] == pytest.approx(metric(y_true, y_pred, k=k), rel=1e-12)


def test_ranking_report_rejects_unknown_metric():
    with pytest.raises(ValueError, match="metrics"):
        ranking_report(Y_TRUE, Y_PRED, metrics=("ndgc",), ks=(1,))


@st.composite
def rankings(draw):
    n_users = draw(st.integers(1, 6))
    n_items = draw(st.integers(2, 12))
    y_true = draw(arrays(np.int64, (n_users, n_items), elements=st.integers(0, 3)))
    keys = draw(arrays(np.float64, (n_users, n_items), elements=st.floats(0, 1), unique=True))
    y_pred = np.argsort(keys, axis=1)
    n_padded = draw(st.integers(0, n_items - 1))
    if n_padded:
        y_pred[:, n_items - n_padded:] = -1
    k = draw(st.integers(1, n_items))
    return y_true, y_pred, k


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_every_metric_lies_in_unit_interval(case):
    y_true, y_pred, k = case
    has_relevant = (y_true > 0).any(axis=1)
    for metric in RANK_LIST_METRICS:
        per_user = metric(y_true, y_pred, k=k, average=False)
        assert np.isnan(per_user[~has_relevant]).all()
        assert ((per_user[has_relevant] >= 0) & (per_user[has_relevant] <= 1 + 1e-12)).all()


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_ideal_ranking_scores_one(case):
    y_true, _, k = case
    # Sort by decreasing grade, ties by item index: the ideal list.
    ideal = np.lexsort((np.broadcast_to(np.arange(y_true.shape[1]), y_true.shape), -y_true), axis=1)
    has_relevant = (y_true > 0).any(axis=1)
    for metric, params in [(ndcg_at_k, {}), (ndcg_at_k, {"gain": "exponential"}),
                           (recall_at_k, {"denominator": "min_k"}), (map_at_k, {"denominator": "min_k"}),
                           (mrr_at_k, {}), (hit_rate_at_k, {})]:
        per_user = metric(y_true, ideal, k=k, average=False, **params)
        np.testing.assert_allclose(per_user[has_relevant], 1.0, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(rankings())
def test_metrics_grow_with_k_where_they_should(case):
    y_true, y_pred, k = case
    larger = min(k + 1, y_pred.shape[1])
    for metric in (recall_at_k, hit_rate_at_k, mrr_at_k):
        small = metric(y_true, y_pred, k=k, average=False)
        large = metric(y_true, y_pred, k=larger, average=False)
        defined = ~np.isnan(small)
        assert (large[defined] >= small[defined] - 1e-12).all()
