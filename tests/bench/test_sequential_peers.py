"""benchmarks/sequential_peers.py: what each model is given, and the table its runs are summarised in."""

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def peers_script():
    # The script imports benchmarks/peers/_memory.py as `peers._memory`: its folder must be importable.
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("sequential_peers", BENCHMARKS / "sequential_peers.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name in [name for name in sys.modules if name == "peers" or name.startswith("peers.")]:
            del sys.modules[name]  # a top-level "peers" must not outlive this module's tests


ARGS = SimpleNamespace(max_len=50, lr=1e-3, lr_schedule="constant", dropout=0.2, batch_size=64, epochs=40,
                       validation_fraction=0.0, patience=5)


def test_ours_and_the_peer_get_the_same_architecture_and_loss(peers_script):
    ours, peer = peers_script.model_params("gsasrec", ARGS, seed=2), peers_script.model_params(
        "rectools-gsasrec", ARGS, seed=2)
    # The peer takes exactly the shared settings; ours adds only what RecTools fixes internally or lacks.
    assert set(ours) - set(peer) == {"intermediate_size", "device", "validation_fraction", "patience"}
    assert {name: ours[name] for name in peer} == peer
    assert (peer["loss"], peer["n_negatives"], peer["gbce_t"], peer["random_state"]) == ("gbce", 256, 0.75, 2)
    # RecTools' feed-forward is n_factors wide.
    assert ours["intermediate_size"] == peer["hidden_size"]
    assert peers_script.model_params("rectools-sasrec", ARGS)["loss"] == "bce"
    assert peer["lr_schedule"] == "constant"  # RecTools' only schedule, recsys' default


def test_a_schedule_and_dropout_given_reach_ours_and_the_peer(peers_script):
    args = SimpleNamespace(**{**vars(ARGS), "lr_schedule": "cosine", "dropout": 0.5})
    for model in ("gsasrec", "rectools-gsasrec"):
        params = peers_script.model_params(model, args)
        assert (params["lr_schedule"], params["dropout"]) == ("cosine", 0.5)


def test_summary_table_gives_mean_and_spread_over_seeds(peers_script):
    def row(model, seed, ndcg, epoch_seconds=None):
        return {"dataset": "toy", "model": model, "seed": seed, "ndcg@10": ndcg, "recall@10": 2 * ndcg,
                "epochs_run": None if epoch_seconds is None else 40, "epoch_seconds": epoch_seconds,
                "fit_seconds": 10.0 + seed, "peak_memory_mb": 100.0}

    table = peers_script.summary_table([row("sasrec", 0, 0.10, 1.0), row("sasrec", 1, 0.12, 3.0),
                                        row("pop", 0, 0.05)]).splitlines()
    assert table[0].startswith("| data set | model | seeds | NDCG@10 |")
    # Two seeds: the mean and the sample standard deviation (ddof 1) of each figure.
    assert table[2] == ("| toy | sasrec | 2 | 0.1100 +- 0.0141 | 0.2200 +- 0.0283 | 40 | 2.00 +- 1.41 | "
                        "10.5 +- 0.7 | 100 +- 0 |")
    # One run: the figure alone, no spread; no epochs for a model that has none.
    assert table[3] == "| toy | pop | 1 | 0.0500 | 0.1000 |  |  | 10.0 | 100 |"


def test_each_child_runs_in_its_own_interpreter(peers_script, tmp_path):
    args = SimpleNamespace(**vars(ARGS), peer_python="/venvs/rectools/bin/python", threads=1)
    runs = peers_script.ChildRuns(args, tmp_path, print)
    split = peers_script.Split("toy", None, tmp_path / "toy" / "split")
    out_dir = tmp_path / "toy" / "gsasrec-seed0"
    peer = runs.command("rectools-gsasrec", split, out_dir)
    ours = runs.command("gsasrec", split, out_dir)
    # The peer: its own virtualenv's interpreter, RecTools' runner, the same split and parameter files.
    assert peer[:2] == ["/venvs/rectools/bin/python", str(BENCHMARKS / "peers" / "rectools_sasrec.py")]
    # Ours: this interpreter, running the script itself as a worker for the model.
    assert ours[:4] == [sys.executable, str(BENCHMARKS / "sequential_peers.py"), "--worker", "gsasrec"]
    assert peer[-3:] == ours[-3:] == [str(split.directory), str(out_dir), str(out_dir / "params.json")]


def _run_row(model, seed, ndcg, **params):
    return {"dataset": "toy", "model": model, "seed": seed, "ndcg@10": ndcg,
            "params": {"dropout": 0.2, "lr_schedule": "constant", "random_state": seed, **params}}


def test_comparison_table_pairs_each_model_with_its_peer_and_tests_the_seeds(peers_script):
    from scipy import stats

    ours, theirs = [0.10, 0.11, 0.12], [0.11, 0.13]
    rows = ([_run_row("sasrec", seed, value) for seed, value in enumerate(ours)]
            + [_run_row("rectools-sasrec", seed, value) for seed, value in enumerate(theirs)]
            + [_run_row("gsasrec", 0, 0.2), _run_row("rectools-gsasrec", 0, 0.1), _run_row("ease", 0, 0.3)])
    table = peers_script.comparison_table(rows).splitlines()
    p_value = stats.ttest_ind(ours, theirs, equal_var=False).pvalue
    assert table[2] == f"| toy | sasrec | rectools-sasrec | 3, 2 | 0.1100 | 0.1200 | 0.917 | {p_value:.2f} |"
    # One seed a side: the ratio, but no test of one number against another.
    assert table[3] == "| toy | gsasrec | rectools-gsasrec | 1, 1 | 0.2000 | 0.1000 | 2.000 |  |"
    assert len(table) == 4  # models without a peer (EASE) are not compared


def _write_output(path, rows):
    import json

    path.write_text(json.dumps({"rows": rows}))
    return path


def test_merge_joins_seeds_of_separate_runs_and_reads_old_files_as_constant_rate(peers_script, tmp_path):
    old = _run_row("sasrec", 0, 0.1)
    del old["params"]["lr_schedule"]  # a file written before the option existed
    first = _write_output(tmp_path / "a.json", [old])
    second = _write_output(tmp_path / "b.json", [_run_row("sasrec", 1, 0.12)])
    rows = peers_script.merged_rows([first, second])
    assert [(row["model"], row["seed"]) for row in rows] == [("sasrec", 0), ("sasrec", 1)]


def test_merge_refuses_other_settings_and_repeated_seeds(peers_script, tmp_path):
    first = _write_output(tmp_path / "a.json", [_run_row("sasrec", 0, 0.1)])
    other_dropout = _write_output(tmp_path / "b.json", [_run_row("sasrec", 1, 0.1, dropout=0.5)])
    with pytest.raises(ValueError, match="other settings"):
        peers_script.merged_rows([first, other_dropout])
    with pytest.raises(ValueError, match="seed 0 is already"):
        peers_script.merged_rows([first, first])
