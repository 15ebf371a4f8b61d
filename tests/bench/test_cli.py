"""recsys-bench end to end, through main(argv), on small generated data."""

import csv
import json
import logging
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import KFold

from recsys.base import BaseRatingPredictor
from recsys.baselines import PopularityRecommender
from recsys.bench import _registry, cli, get_model, register_model
from recsys.datasets import make_interactions, make_ratings
from recsys.metrics import ndcg_at_k, split_rows

SMALL_DATA = {
    "synthetic": lambda: make_interactions(300, 80, density=0.08, random_state=0),
    "tiny-ratings": lambda: make_ratings(120, 40, density=0.2, random_state=0),
}


@pytest.fixture(autouse=True)
def small_datasets(monkeypatch):
    """Serve small generated data under the names the tests use; other names go to the real loaders."""
    real_load = cli.load_data

    def load(name, data_home=None, download=False):
        if name in SMALL_DATA:
            return SMALL_DATA[name]()
        return real_load(name, data_home, download)

    monkeypatch.setattr(cli, "load_data", load)


class ItemMeanPredictor(BaseRatingPredictor):
    """Predicts each item's mean training rating, shrunk towards the global mean."""

    def __init__(self, shrinkage=0.0):
        self.shrinkage = shrinkage

    def _fit(self, users, items, ratings):
        sums = np.bincount(items, weights=ratings, minlength=self.n_items_)
        counts = np.bincount(items, minlength=self.n_items_)
        self.item_means_ = (sums + self.shrinkage * self.global_mean_) / (counts + self.shrinkage)

    def _predict(self, users, items):
        return np.where(items >= 0, self.item_means_[items], self.global_mean_)


@pytest.fixture
def rating_model():
    register_model("test-item-mean", ItemMeanPredictor, task="rating", description="item mean (test)")
    yield "test-item-mean"
    _registry._MODELS.pop("test-item-mean")


def run_json(tmp_path, *arguments):
    output = tmp_path / "result.json"
    assert cli.main(["run", *arguments, "--output", str(output)]) == 0
    return json.loads(output.read_text())


def fold_metrics(document, label):
    return [fold for fold in document["folds"] if fold["label"] == label]


def test_run_prints_a_table_of_models_and_metrics(capsys):
    assert cli.main(["run", "--folds", "2"]) == 0
    out = capsys.readouterr().out
    for text in ("pop", "random", "ndcg@10", "recall@20", "precision@10", "fit (s)", "peak MiB"):
        assert text in out


def test_json_holds_every_fold_and_the_metadata(tmp_path):
    document = run_json(tmp_path, "--folds", "3", "--metrics", "ndcg@10,recall@5")
    meta = document["metadata"]
    assert meta["protocol"] == "strong" and meta["folds"] == 3 and meta["dataset"] == "synthetic"
    assert meta["metrics"] == ["ndcg@10", "recall@5"]
    assert meta["machine"]["cpu_count"] >= 1 and meta["versions"]["numpy"] == np.__version__
    assert meta["command"].startswith("recsys-bench run")
    assert len(document["folds"]) == 6
    for row in document["summary"]:
        folds = fold_metrics(document, row["label"])
        assert row["ndcg@10"] == pytest.approx(np.mean([fold["ndcg@10"] for fold in folds]))
        assert row["ndcg@10_std"] == pytest.approx(np.std([fold["ndcg@10"] for fold in folds]))


def test_csv_and_markdown_hold_the_json_numbers(tmp_path):
    document = run_json(tmp_path, "--folds", "2", "--seed", "3")
    assert cli.main(["run", "--folds", "2", "--seed", "3", "--output", str(tmp_path / "r.csv")]) == 0
    assert cli.main(["run", "--folds", "2", "--seed", "3", "--output", str(tmp_path / "r.md")]) == 0
    with open(tmp_path / "r.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["label"], int(row["fold"])) for row in rows] == \
        [(fold["label"], fold["fold"]) for fold in document["folds"]]
    for row, fold in zip(rows, document["folds"]):
        assert float(row["ndcg@10"]) == pytest.approx(fold["ndcg@10"])
    markdown = (tmp_path / "r.md").read_text()
    assert "| model | ndcg@10 | recall@20 | precision@10 |" in markdown
    pop = next(row for row in document["summary"] if row["label"] == "pop")
    assert f"| pop | {pop['ndcg@10']:.4f} ± {pop['ndcg@10_std']:.4f} |" in markdown


def test_catalog_coverage_is_scored_over_the_lists_of_a_fold(tmp_path):
    document = run_json(tmp_path, "--folds", "2", "--metrics", "ndcg@10,catalog_coverage@10")
    coverage = {fold["label"]: fold["catalog_coverage@10"] for fold in document["folds"] if fold["fold"] == 0}
    # every user gets nearly the same most-popular items; random lists cover most of the 80 items
    assert coverage["pop"] < 0.5 < coverage["random"] <= 1.0


def test_param_override_reaches_the_model(tmp_path):
    default = run_json(tmp_path, "--models", "random", "--folds", "2")
    changed = run_json(tmp_path, "--models", "random", "--folds", "2", "--param", "random.random_state=7")
    assert changed["metadata"]["models"][0]["estimator"] == "RandomRecommender(random_state=7)"
    assert [f["ndcg@10"] for f in default["folds"]] != [f["ndcg@10"] for f in changed["folds"]]


def test_param_override_of_a_label_with_dots_and_equals_signs():
    models = [cli.ModelEntry("pop", "pop t=0.5"), cli.ModelEntry("pop", "pop")]
    changed = cli.apply_param_overrides(models, ["pop t=0.5.count=weights", "pop.count=users"])
    assert [entry.params for entry in changed] == [{"count": "weights"}, {"count": "users"}]


def test_param_override_by_registry_name_reaches_every_entry_of_that_model():
    models = [cli.ModelEntry("pop", "a"), cli.ModelEntry("pop", "b"), cli.ModelEntry("random")]
    changed = cli.apply_param_overrides(models, ["pop.count=weights"])
    assert [entry.params for entry in changed] == [{"count": "weights"}, {"count": "weights"}, {}]


def test_param_values_are_parsed_as_literals():
    assert cli.parse_value("7") == 7
    assert cli.parse_value("0.5") == 0.5
    assert cli.parse_value("true") is True
    assert cli.parse_value("[1, 2]") == [1, 2]
    assert cli.parse_value('{"a": 1}') == {"a": 1}
    assert cli.parse_value("weights") == "weights"


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path):
    first = run_json(tmp_path, "--folds", "2", "--seed", "1")
    again = run_json(tmp_path, "--folds", "2", "--seed", "1")
    other = run_json(tmp_path, "--folds", "2", "--seed", "2")
    numbers = lambda document: [fold["ndcg@10"] for fold in document["folds"]]
    assert numbers(first) == numbers(again)
    assert numbers(first) != numbers(other)


def test_strong_protocol_numbers_for_pop_equal_a_manual_computation(tmp_path):
    document = run_json(tmp_path, "--models", "pop", "--folds", "3", "--seed", "5", "--metrics", "ndcg@10")
    X = SMALL_DATA["synthetic"]().to_csr(values="binary")
    expected = []
    splitter = KFold(n_splits=3, shuffle=True, random_state=5)
    for index, (train, test) in enumerate(splitter.split(np.arange(X.shape[0]))):
        fold_in, held_out = split_rows(X[test], 0.8, random_state=5 + index)
        scored = np.diff(held_out.indptr) > 0
        ids, _ = PopularityRecommender().fit(X[train]).recommend(fold_in[scored], n=10)
        expected.append(ndcg_at_k(held_out[scored], ids, k=10))
    assert [fold["ndcg@10"] for fold in document["folds"]] == pytest.approx(expected, rel=1e-12)


def test_suite_file_with_a_model_twice_and_command_line_overrides(tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(
        '[suite]\nname = "two-pops"\ndataset = "synthetic"\nfolds = 4\nseed = 1\nmetrics = ["ndcg@5"]\n\n'
        '[[models]]\nname = "pop"\nlabel = "pop-users"\n\n'
        '[[models]]\nname = "pop"\nlabel = "pop-weights"\nparams = { count = "weights" }\n'
    )
    document = run_json(tmp_path, str(suite), "--folds", "2")
    meta = document["metadata"]
    assert meta["suite"] == "two-pops" and meta["folds"] == 2 and meta["seed"] == 1
    assert meta["metrics"] == ["ndcg@5"]
    assert [model["estimator"] for model in meta["models"]] == \
        ["PopularityRecommender()", "PopularityRecommender(count='weights')"]
    only_weights = run_json(tmp_path, str(suite), "--models", "pop-weights", "--param", "pop-weights.count=users")
    assert [model["label"] for model in only_weights["metadata"]["models"]] == ["pop-weights"]
    assert only_weights["metadata"]["models"][0]["params"] == {"count": "users"}


@pytest.mark.parametrize("suite_name", ["synthetic.toml", "ml100k-topn.toml"])
def test_shipped_suites_parse(suite_name):
    from recsys.bench import load_suite

    suite = load_suite(Path(__file__).resolve().parents[2] / "benchmarks" / "suites" / suite_name)
    assert suite.protocol == "strong" and {entry.name for entry in suite.models} >= {"pop", "random"}


SUITES = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "suites").glob("*.toml"))


@pytest.mark.parametrize("path", SUITES, ids=[path.name for path in SUITES])
def test_every_suite_parses_and_names_no_machine_path(path):
    from recsys.bench import load_suite

    assert load_suite(path).models
    text = path.read_text(encoding="utf-8")
    # The documented variable, never one machine's folder: RECSYS_DATA_HOME=<data home>
    assert not re.search(r"RECSYS_DATA_HOME=[/~.]", text)


def test_ratings_kfold_scores_a_rating_model(tmp_path, rating_model):
    document = run_json(tmp_path, "--dataset", "tiny-ratings", "--protocol", "ratings-kfold",
                        "--models", rating_model, "--folds", "3")
    assert document["metadata"]["metrics"] == ["rmse", "mae"]
    assert len(document["folds"]) == 3
    for fold in document["folds"]:
        assert 0 < fold["mae"] <= fold["rmse"] < 4
    # pairs of users unseen in a fold's training part are reported in the fold, not on stderr
    assert any("UnknownPairsWarning" in warning for fold in document["folds"] for warning in fold["warnings"])


@pytest.mark.parametrize("protocol, n_folds", [("holdout", 2), ("leave-last-out", 1)])
def test_weak_generalisation_protocols_run(tmp_path, protocol, n_folds):
    document = run_json(tmp_path, "--protocol", protocol, "--folds", "2")
    assert document["metadata"]["folds"] == n_folds
    summary = {row["label"]: row for row in document["summary"]}
    assert summary["pop"]["recall@20"] > summary["random"]["recall@20"]


def test_no_memory_skips_tracemalloc_and_leaves_the_column_out(tmp_path, capsys):
    document = run_json(tmp_path, "--folds", "2", "--no-memory")
    assert not any("peak_memory" in fold for fold in document["folds"])
    assert not any("peak_memory" in row for row in document["summary"])
    assert document["metadata"]["memory_traced"] is False
    assert "peak MiB" not in capsys.readouterr().out
    assert cli.main(["run", "--folds", "2", "--no-memory", "--output", str(tmp_path / "r.md")]) == 0
    assert "peak MiB" not in (tmp_path / "r.md").read_text()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--models", "pop,nope"], "unknown model 'nope'"),
        (["--protocol", "sideways"], "unknown protocol 'sideways'"),
        (["--metrics", "ndgc@10"], "unknown ranking metric 'ndgc@10'"),
        (["--metrics", "ndcg@ten"], "positive integer"),
        (["--dataset", "no-such-data"], "no-such-data"),
        (["--protocol", "ratings-kfold", "--dataset", "tiny-ratings"], "is a topn model"),
        (["--param", "pop"], "MODEL.KEY=VALUE"),
        (["--param", "lightgcn.layers=2"], "no model 'lightgcn'"),
        (["--param", "pop.colour=1"], "rejects its parameters"),
        (["--output", "result.xlsx"], "extension"),
        (["--output", "no/such/folder/r.md"], "does not exist"),
        (["--plot", "chart.jpg"], "PNG"),
        (["--folds", "1"], "needs an integer >= 2"),
        (["--seed", "-1"], "from 0 to 2**32 - 1"),
        (["--n-jobs", "0"], "--n-jobs 0"),
        (["--models", "popp"], "Did you mean pop"),
        (["--baseline", "popp"], "--baseline 'popp' is not a model of this run. Did you mean pop?"),
        (["--baseline", "pop", "--metrics", "catalog_coverage@10"], "list-level"),
        (["--baseline", "pop", "--alpha", "5"], "between 0 and 1"),
    ],
)
def test_mistakes_get_one_clear_error(capsys, arguments, message):
    assert cli.main(["run", "--folds", "2", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_mistakes_are_reported_before_the_data_set_is_loaded(capsys, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("the data set was loaded before the command line was checked")

    monkeypatch.setattr(cli, "load_data", refuse)
    assert cli.main(["run", "--dataset", "ml-100k", "--models", "pop,nope"]) == 2
    assert cli.main(["run", "--dataset", "ml-100k", "--metrics", "ndgc@10"]) == 2
    assert cli.main(["run", "--dataset", "ml-100k", "--baseline", "nope"]) == 2
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes "import matplotlib" fail
    assert cli.main(["run", "--dataset", "ml-100k", "--plot", str(tmp_path / "chart.png")]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "unknown ranking metric 'ndgc@10'" in err
    assert "--baseline 'nope'" in err and "--plot needs matplotlib" in err


def test_one_log_line_per_finished_model_and_fold_when_piped(capsys):
    assert cli.main(["run", "--folds", "3", "--metrics", "ndcg@10"]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if " fold " in line]
    assert len(lines) == 6
    assert "INFO [1/6] pop fold 1/3: fit " in lines[0] and "ndcg@10 0." in lines[0]
    assert "[6/6] random fold 3/3" in lines[-1]
    assert " fold " not in captured.out  # the table alone on stdout


def test_quiet_keeps_warnings_only_and_leaves_logging_as_it_was(capsys):
    logger = logging.getLogger("recsys")
    before = (logger.level, logger.propagate, list(logger.handlers))
    assert cli.main(["run", "--folds", "2", "-q"]) == 0
    assert cli.main(["-q", "run", "--folds", "2"]) == 0
    assert " fold " not in capsys.readouterr().err
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


def test_baseline_marks_the_table_and_a_suite_can_name_it(capsys, tmp_path):
    assert cli.main(["run", "--folds", "2", "--baseline", "pop"]) == 0
    out = capsys.readouterr().out
    assert "pop (baseline)" in out and "†‡" in out and "Wilcoxon" in out
    suite = tmp_path / "suite.toml"
    suite.write_text('[suite]\nname = "s"\nfolds = 2\nbaseline = "random"\n')
    document = run_json(tmp_path, str(suite))
    assert document["metadata"]["baseline"] == "random"
    assert {c["label"] for c in document["comparisons"]} == {"pop"}


def test_plot_has_a_facet_per_metric_and_names_the_run(tmp_path):
    pytest.importorskip("matplotlib")
    from recsys.bench import run_benchmark
    from recsys.bench._report import make_figure

    result = run_benchmark(SMALL_DATA["synthetic"](), ["pop", "random"], n_folds=2,
                           metrics="ndcg@10,recall@20,catalog_coverage@10", trace_memory=False)
    result.metadata.update(suite="my-suite", dataset_options={"binarize": 4.0})
    result.compare("pop")
    figure = make_figure(result)
    assert [axis.get_title() for axis in figure.axes] == ["ndcg@10", "recall@20", "catalog_coverage@10"]
    assert all(axis.get_ylabel().endswith("(mean ± std over folds)") for axis in figure.axes)
    heading = figure.get_suptitle()
    assert "suite my-suite" in heading and "strong" in heading and "binarize 4.0" in heading
    assert "Wilcoxon" in heading


def test_rating_model_under_a_topn_protocol_is_refused(capsys, rating_model):
    assert cli.main(["run", "--models", rating_model]) == 2
    assert "run it with --protocol ratings-kfold" in capsys.readouterr().err


def test_unavailable_model_is_skipped_with_its_reason(capsys, tmp_path):
    register_model("test-needs-peer", PopularityRecommender, task="topn", requires=("no_such_module_xyz",))
    try:
        document = run_json(tmp_path, "--models", "pop,test-needs-peer", "--folds", "2")
    finally:
        _registry._MODELS.pop("test-needs-peer")
    assert "skipped test-needs-peer: needs no_such_module_xyz (pip install 'recsys[peers]')" in capsys.readouterr().out
    assert document["skipped"] == {"test-needs-peer": "needs no_such_module_xyz (pip install 'recsys[peers]')"}
    assert {fold["label"] for fold in document["folds"]} == {"pop"}


@pytest.fixture
def needs_missing_program():
    """The name of a registered model that needs a program this machine lacks (unregistered after the test)."""
    register_model("test-needs-program", PopularityRecommender, task="topn", programs=("no-such-program-xyz",))
    yield "test-needs-program"
    _registry._MODELS.pop("test-needs-program")


def test_model_whose_program_is_missing_is_skipped_with_its_reason(capsys, tmp_path, needs_missing_program):
    document = run_json(tmp_path, "--models", f"pop,{needs_missing_program}", "--folds", "2")
    reason = "needs the program no-such-program-xyz (install it or put it on PATH)"
    assert f"skipped test-needs-program: {reason}" in capsys.readouterr().out
    assert document["skipped"] == {"test-needs-program": reason}


def test_a_skipped_baseline_is_refused_with_the_reason(capsys, needs_missing_program):
    code = cli.main(["run", "--models", f"pop,{needs_missing_program}", "--baseline", needs_missing_program])
    assert code == 2
    assert "--baseline 'test-needs-program' cannot run here: it needs the program no-such-program-xyz" in (
        capsys.readouterr().err)


def test_spark_als_needs_java(monkeypatch, tmp_path):
    # JAVA_HOME wins over PATH, as in pyspark: a JAVA_HOME without bin/java means no java.
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    spec = get_model("spark-als")
    assert spec.programs == ("java",)
    assert any("the program java" in reason and "JAVA_HOME" in reason for reason in spec.missing())
    assert not spec.available


def test_models_command_lists_the_registry(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "pop" in out and "random" in out and "topn" in out


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    assert cli.main(["run", "--folds", "2", "--plot", str(tmp_path / "ndcg.png")]) == 0
    assert (tmp_path / "ndcg.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_parallel_jobs_give_the_sequential_numbers(tmp_path):
    sequential = run_json(tmp_path, "--folds", "2")
    parallel = run_json(tmp_path, "--folds", "2", "--n-jobs", "2")
    assert [f["ndcg@10"] for f in parallel["folds"]] == [f["ndcg@10"] for f in sequential["folds"]]


def test_datasets_command_lists_the_registry(capsys):
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "synthetic" in out and "generated" in out and "ml-100k" in out


@pytest.mark.realdata
def test_strong_protocol_on_movielens_100k(real_data_home, real_dataset, tmp_path):
    real_dataset("ml-100k", "u.data")
    document = run_json(tmp_path, "--dataset", "ml-100k", "--models", "pop,random", "--protocol", "strong",
                        "--data-home", str(real_data_home))
    assert document["metadata"]["n_users"] == 943 and len(document["folds"]) == 10
    summary = {row["label"]: row for row in document["summary"]}
    assert summary["pop"]["ndcg@10"] > 2 * summary["random"]["ndcg@10"]


def test_describe_prints_the_summary_of_a_data_set(capsys):
    assert cli.main(["describe", "synthetic"]) == 0
    out = capsys.readouterr().out
    assert "n_users" in out and "300" in out and "interactions_per_user" in out


def test_download_of_an_unknown_data_set_names_the_known_ones(capsys):
    assert cli.main(["download", "ml-0k"]) == 2
    err = capsys.readouterr().err
    assert "unknown data set 'ml-0k'" in err and "ml-100k" in err


@pytest.mark.realdata
def test_download_of_a_present_data_set_reports_its_folder(real_data_home, real_dataset, capsys):
    real_dataset("ml-100k", "u.data")
    assert cli.main(["download", "ml-100k", "--data-home", str(real_data_home)]) == 0
    assert str(real_data_home / "ml-100k") in capsys.readouterr().out


def _fail_with_a_missing_module(args, console):
    import no_such_module_for_recsys_tests  # noqa: F401


@pytest.mark.parametrize("arguments", [["-v", "models"], ["models", "--verbose"], ["models"]])
def test_verbose_or_recsys_debug_shows_the_traceback_of_an_unexpected_error(capsys, monkeypatch, arguments):
    monkeypatch.setattr(cli, "_cmd_models", _fail_with_a_missing_module)
    if arguments == ["models"]:
        monkeypatch.setenv(cli.DEBUG_ENV, "1")
    assert cli.main(arguments) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "_fail_with_a_missing_module" in err
    assert err.rstrip().splitlines()[-1] == "recsys-bench: error: No module named 'no_such_module_for_recsys_tests'"


def test_an_unexpected_error_is_one_line_by_default(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_cmd_models", _fail_with_a_missing_module)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert cli.main(["models"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("recsys-bench: error: No module named 'no_such_module_for_recsys_tests' "
                           "(--verbose shows the traceback)")
