"""Significance against a baseline: per-user values, paired tests, Holm correction, and the tables."""

import csv
import json

import numpy as np
import pytest
from scipy import stats

from recsys.bench import compare_to_baseline, run_benchmark
from recsys.bench._report import to_markdown, write_csv
from recsys.bench._significance import holm, paired_tests
from recsys.datasets import make_interactions, make_ratings


@pytest.fixture(scope="module")
def data():
    return make_interactions(300, 80, density=0.08, random_state=0)


@pytest.fixture(scope="module")
def result(data):
    models = ["pop", "random", "item-knn"]
    return run_benchmark(data, models, n_folds=3, metrics="ndcg@10,recall@20,catalog_coverage@10",
                         trace_memory=False)


def test_holm_matches_its_definition():
    p = np.array([0.01, 0.04, 0.03, 0.2])
    # sorted: 0.01*4, 0.03*3, 0.04*2, 0.2*1, made non-decreasing
    assert holm(p).tolist() == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert holm([0.5, 0.6]).tolist() == pytest.approx([1.0, 1.0])
    adjusted = holm([np.nan, 0.01, 0.02])
    assert np.isnan(adjusted[0]) and adjusted[1:].tolist() == pytest.approx([0.02, 0.02])


def test_paired_tests_are_scipy_and_cohens_d_of_the_differences():
    rng = np.random.default_rng(0)
    baseline = rng.random(200)
    model = baseline + rng.normal(0.05, 0.1, 200)
    mean, d, p_t, p_w = paired_tests(model, baseline)
    differences = model - baseline
    assert mean == pytest.approx(differences.mean())
    assert d == pytest.approx(differences.mean() / differences.std(ddof=1))
    assert p_t == pytest.approx(stats.ttest_rel(model, baseline).pvalue)
    assert p_w == pytest.approx(stats.wilcoxon(differences).pvalue)


def test_identical_values_are_not_significant():
    values = np.linspace(0, 1, 50)
    assert paired_tests(values, values) == (0.0, 0.0, 1.0, 1.0)


def test_per_user_values_are_kept_and_average_to_the_fold_scores(result):
    for fold in result.folds:
        assert set(fold.per_user) == {"ndcg@10", "recall@20"}  # catalog coverage is list-level
        assert len(fold.users) == fold.n_evaluated == len(fold.per_user["ndcg@10"])
        assert np.mean(fold.per_user["ndcg@10"]) == pytest.approx(fold.metrics["ndcg@10"])


def test_comparisons_pair_the_same_users_and_holm_correct_over_the_models(result):
    comparisons = compare_to_baseline(result, "pop")
    assert [(c.label, c.metric) for c in comparisons] == [
        ("random", "ndcg@10"), ("item-knn", "ndcg@10"), ("random", "recall@20"), ("item-knn", "recall@20")]
    n_users = sum(fold.n_evaluated for fold in result.folds if fold.label == "pop")
    for metric in ("ndcg@10", "recall@20"):
        rows = [c for c in comparisons if c.metric == metric]
        baseline = np.concatenate([f.per_user[metric] for f in result.folds if f.label == "pop"])
        for row in rows:
            model = np.concatenate([f.per_user[metric] for f in result.folds if f.label == row.label])
            assert row.n_pairs == n_users
            assert row.p_ttest == pytest.approx(stats.ttest_rel(model, baseline).pvalue)
            assert row.mean_difference == pytest.approx(model.mean() - baseline.mean())
        assert [r.p_ttest_holm for r in rows] == pytest.approx(holm([r.p_ttest for r in rows]).tolist())
        assert [r.p_wilcoxon_holm for r in rows] == pytest.approx(holm([r.p_wilcoxon for r in rows]).tolist())
    random_ndcg = comparisons[0]
    assert random_ndcg.mean_difference < 0 and random_ndcg.significant("ttest")
    assert random_ndcg.significant("wilcoxon") and random_ndcg.cohens_d < -0.5


def test_unknown_baseline_is_refused(result):
    with pytest.raises(ValueError, match="baseline 'popp' is not a model of this run"):
        compare_to_baseline(result, "popp")


def test_markdown_marks_significant_cells_and_lists_effect_sizes(result):
    result.compare("pop")
    try:
        markdown = to_markdown(result)
    finally:
        result.comparisons = None
        del result.metadata["baseline"], result.metadata["alpha"]
    random_row = next(line for line in markdown.splitlines() if line.startswith("| random |"))
    assert random_row.count("†‡") == 2  # ndcg@10 and recall@20; catalog coverage has no per-user values
    assert "| pop (baseline) |" in markdown
    assert "† paired t-test, ‡ Wilcoxon signed-rank test" in markdown and "Holm-corrected over the 2" in markdown
    assert "| model | metric | pairs | mean diff | Cohen's d | p t-test (Holm) | p Wilcoxon (Holm) |" in markdown


def test_csv_and_json_carry_the_comparisons(result, tmp_path):
    from recsys.bench._report import to_json

    result.compare("pop", alpha=0.01)
    try:
        write_csv(result, tmp_path / "r.csv")
        document = json.loads(to_json(result))
    finally:
        result.comparisons = None
        del result.metadata["baseline"], result.metadata["alpha"]
    with open(tmp_path / "r.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    random_rows = [row for row in rows if row["label"] == "random"]
    assert len(random_rows) == 3 and float(random_rows[0]["ndcg@10 mean_difference"]) < 0
    assert all(row["ndcg@10 p_ttest_holm"] == "" for row in rows if row["label"] == "pop")
    assert document["metadata"]["alpha"] == 0.01 and len(document["comparisons"]) == 4
    fold = document["folds"][0]
    assert len(fold["users"]) == len(fold["per_user"]["ndcg@10"]) == fold["n_evaluated"]


@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
def test_rating_runs_keep_per_user_errors_and_compare():
    from recsys.bench import ModelEntry, _registry, register_model
    from recsys.metrics import mae

    from .test_cli import ItemMeanPredictor

    register_model("test-item-mean", ItemMeanPredictor, task="rating")
    try:
        data = make_ratings(120, 40, density=0.2, random_state=0)
        result = run_benchmark(data, [ModelEntry("test-item-mean", "mean"),
                                      ModelEntry("test-item-mean", "shrunk", {"shrinkage": 50.0})],
                               protocol="ratings-kfold", n_folds=2, trace_memory=False)
    finally:
        _registry._MODELS.pop("test-item-mean")
    fold = result.folds[0]
    assert set(fold.per_user) == {"rmse", "mae"} and len(fold.users) == len(fold.per_user["mae"])
    # the first user's MAE over its own test pairs, recomputed
    from recsys.bench import make_folds

    split = make_folds("ratings-kfold", data, 2, 0)[0]
    mine = (split.test_pairs["user"] == fold.users[0]).to_numpy()
    predictions = ItemMeanPredictor().fit(split.train_pairs, split.train_ratings).predict(split.test_pairs)
    assert fold.per_user["mae"][0] == pytest.approx(mae(split.test_ratings[mine], predictions[mine]))
    comparisons = result.compare("mean")
    assert {c.metric for c in comparisons} == {"rmse", "mae"} and all(c.label == "shrunk" for c in comparisons)


@pytest.mark.peers
@pytest.mark.slow  # ranx compiles its numba kernels on first use
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaTypeSafetyWarning")
def test_t_test_p_values_equal_ranx_compare_on_the_same_runs(data):
    ranx = pytest.importorskip("ranx")
    result = run_benchmark(data, ["pop", "random", "item-knn"], n_folds=2, metrics="ndcg@10",
                           trace_memory=False)
    ours = {c.label: c for c in compare_to_baseline(result, "pop")}
    # The same recommendations as ranx runs: one query per (fold, user), the relevant items as qrels.
    from recsys.bench import get_model, make_folds

    folds = make_folds("strong", data, 2, 0)
    qrels, runs = {}, {label: {} for label in ("pop", "random", "item-knn")}
    for fold in folds:
        for row, user in enumerate(fold.users):
            relevant = fold.relevant[row].indices
            qrels[f"{fold.index}-{user}"] = {str(item): 1 for item in relevant}
        for label, run in runs.items():
            ids, _ = get_model(label).build().fit(fold.train).recommend(fold.query, n=10)
            for row, user in enumerate(fold.users):
                ranked = [item for item in ids[row] if item >= 0]
                run[f"{fold.index}-{user}"] = {str(item): float(10 - rank) for rank, item in enumerate(ranked)}
    report = ranx.compare(ranx.Qrels(qrels), [ranx.Run(runs[label], name=label) for label in runs],
                          metrics=["ndcg@10"], stat_test="student")
    for label in ("random", "item-knn"):
        per_user = np.concatenate([f.per_user["ndcg@10"] for f in result.folds if f.label == label])
        assert report.results[label]["ndcg@10"] == pytest.approx(per_user.mean(), abs=1e-9)
        p_ranx = report.comparisons[{"pop", label}]["ndcg@10"]["p_value"]
        assert ours[label].p_ttest == pytest.approx(p_ranx, rel=1e-6, abs=1e-300)
