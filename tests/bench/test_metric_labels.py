"""Metric labels of recsys-bench: recall_min_k@k is recall with the min(k, n_relevant) denominator."""

import numpy as np
import pytest

from recsys.bench import run_benchmark
from recsys.bench._metrics import parse_metric, parse_metrics
from recsys.datasets import make_interactions
from recsys.metrics import recall_at_k

# user 0: three relevant items, one of them in the top 2; user 1: one relevant item, found;
# user 2: nothing relevant (NaN, left out of means)
RELEVANT = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]])
RANKED = np.array([[0, 3], [3, 4], [1, 2]])


def test_recall_min_k_divides_the_hits_by_min_k_and_n_relevant():
    values = parse_metric("recall_min_k@2").per_user(RELEVANT, RANKED)
    np.testing.assert_allclose(values, [1 / 2, 1.0, np.nan])


def test_plain_recall_label_keeps_the_relevant_items_denominator():
    values = parse_metric("recall@2").per_user(RELEVANT, RANKED)
    np.testing.assert_allclose(values, [1 / 3, 1.0, np.nan])


def test_recall_min_k_label_matches_recall_at_k_on_generated_rankings():
    rng = np.random.default_rng(0)
    relevant = (rng.random((40, 30)) < 0.3).astype(np.float32)
    ranked = np.argsort(rng.random((40, 30)), axis=1)[:, :10]
    metric = parse_metric("recall_min_k@10")
    assert metric.k == 10 and metric.task == "topn" and not metric.list_level
    np.testing.assert_allclose(metric.per_user(relevant, ranked),
                               recall_at_k(relevant, ranked, k=10, denominator="min_k", average=False))


def test_unknown_ranking_metric_error_lists_recall_min_k():
    with pytest.raises(ValueError, match=r"recall_min_k@k"):
        parse_metric("recal_min_k@20")


def test_recall_min_k_needs_a_cutoff():
    with pytest.raises(ValueError, match=r"recall_min_k@k written as name@k"):
        parse_metrics("ndcg@10,recall_min_k", task="topn")


def test_benchmark_run_reports_recall_min_k_at_least_plain_recall():
    data = make_interactions(200, 60, density=0.15, random_state=0)
    result = run_benchmark(data, ["pop"], metrics="recall@5,recall_min_k@5", n_folds=2, trace_memory=False)
    assert result.metadata["metrics"] == ["recall@5", "recall_min_k@5"]
    for fold in result.folds:
        # the held-out 20 % of a user holds more than 5 items here, so min(k, n) < n for some users
        assert fold.metrics["recall_min_k@5"] > fold.metrics["recall@5"] > 0
