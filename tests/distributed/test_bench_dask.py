"""recsys-bench run --backend dask: the local run's results from (model, fold) jobs on a Dask cluster."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recsys.bench import cli, run_benchmark
from recsys.bench._registry import is_importable
from recsys.bench._runner import _run_here
from recsys.datasets import make_interactions
from recsys.testing import kill_worker_once_per_marker

SYNTHETIC_SUITE = str(Path(__file__).resolve().parents[2] / "benchmarks" / "suites" / "synthetic.toml")
# Measured where each job ran: equal only on the same machine and run.
COSTS = ("fit_time", "predict_time", "peak_memory")

HAS_DASK = is_importable("dask") and is_importable("distributed")
needs_dask = pytest.mark.skipif(not HAS_DASK, reason="needs the distributed extra")

if HAS_DASK:
    import cloudpickle

    # The worker processes cannot import this test module: its functions travel by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def run_json(tmp_path, name, *arguments):
    output = tmp_path / f"{name}.json"
    assert cli.main(["run", *arguments, "--output", str(output)]) == 0
    return json.loads(output.read_text())


def without_costs(document):
    return [{key: value for key, value in fold.items() if key not in COSTS} for fold in document["folds"]]


@pytest.fixture(scope="module")
def cluster(two_worker_cluster):
    """A cluster that the command did not start (conftest's 2 single-threaded workers), not the default client."""
    from distributed import Client

    with two_worker_cluster() as cluster, Client(cluster, set_as_default=False) as client:
        yield cluster, client


@pytest.mark.slow
def test_a_local_cluster_of_two_workers_gives_the_local_results(tmp_path, caplog):
    pytest.importorskip("distributed")
    local = run_json(tmp_path, "local", SYNTHETIC_SUITE)
    on_dask = run_json(tmp_path, "dask", SYNTHETIC_SUITE, "--backend", "dask", "--workers", "2")
    # Every fold in the same order, with the same scores, per-user values and warnings.
    assert without_costs(on_dask) == without_costs(local)
    assert len(on_dask["folds"]) == 15
    assert all(fold["peak_memory"] > 0 for fold in on_dask["folds"])
    assert on_dask["metadata"]["backend"] == {"name": "dask", "scheduler": "local cluster", "workers": 2,
                                              "threads_per_worker": [1]}
    assert "worker process that ran the job" in on_dask["metadata"]["memory_note"]
    assert local["metadata"]["backend"] == {"name": "local", "n_jobs": 1}


@pytest.mark.slow
def test_scheduler_runs_on_a_cluster_the_command_leaves_running(tmp_path, cluster):
    cluster, client = cluster
    arguments = ("--models", "pop,random", "--folds", "2", "--metrics", "ndcg@10,recall@5")
    local = run_json(tmp_path, "local", *arguments)
    on_dask = run_json(tmp_path, "dask", *arguments, "--backend", "dask", "--scheduler", cluster.scheduler_address)
    assert without_costs(on_dask) == without_costs(local)
    assert on_dask["metadata"]["backend"]["scheduler"] == cluster.scheduler_address
    assert len(client.nthreads()) == 2  # not closed by the command
    # Nothing of the run stays on the cluster: the folds and results were released.
    assert not [key for key in client.who_has() if str(key).startswith("recsys-job")]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Port .* is already in use")  # the scheduler's health-check port
def test_workers_of_several_threads_need_no_memory(tmp_path, capsys):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    # Threads in this process: one worker running two tasks at once shares one tracemalloc.
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        arguments = ["run", "--folds", "2", "--backend", "dask", "--scheduler", cluster.scheduler_address]
        assert cli.main(arguments) == 2
        assert "run up to 2 tasks at once in one process" in capsys.readouterr().err
        local = run_json(tmp_path, "local", "--folds", "2", "--no-memory")
        on_dask = run_json(tmp_path, "dask", *arguments[1:], "--no-memory")
    assert without_costs(on_dask) == without_costs(local)


@pytest.mark.slow
def test_a_scheduler_that_does_not_answer_is_one_clear_error(capsys):
    pytest.importorskip("distributed")
    assert cli.main(["run", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler tcp://127.0.0.1:1: no Dask scheduler answered" in capsys.readouterr().err


@pytest.mark.slow
def test_a_failing_job_fails_the_run(cluster):
    from recsys.distributed import map_shared

    _, client = cluster
    with pytest.raises(ZeroDivisionError):
        list(map_shared(divmod, [1, 2], [(0, (1,)), (1, (0,))], client=client))


@pytest.mark.slow
def test_map_shared_gives_every_job_its_shared_value(cluster):
    from recsys.distributed import map_shared

    _, client = cluster
    jobs = [(index, (divisor,)) for index in (1, 0) for divisor in (1, 2, 3)]
    results = dict(map_shared(divmod, [10, 20], jobs, client=client))
    assert [results[position] for position in range(len(jobs))] == \
        [divmod(20, 1), divmod(20, 2), divmod(20, 3), divmod(10, 1), divmod(10, 2), divmod(10, 3)]


def _double_once_every_worker_died(value, markers, client_pid):
    """2 x value, after killing its worker process once per marker not yet claimed (two: both die)."""
    kill_worker_once_per_marker(markers, spare_pid=client_pid)
    return 2 * value


@pytest.mark.slow
def test_jobs_survive_the_death_of_every_worker_holding_the_shared_values(cluster, tmp_path):
    from recsys.distributed import map_shared

    _, client = cluster
    markers = [str(tmp_path / f"killed-{number}") for number in range(2)]
    jobs = [(index, (markers, os.getpid())) for index in (0, 1, 0, 1)]
    results = dict(map_shared(_double_once_every_worker_died, [3, 4], jobs, client=client))
    assert all(os.path.exists(marker) for marker in markers)  # both workers did die
    assert results == {0: 6, 1: 8, 2: 6, 3: 8}
    client.wait_for_workers(2, timeout=60)  # the nannies restart them for the next tests


def test_results_are_kept_in_job_order_whatever_order_the_jobs_finish_in():
    data = make_interactions(150, 40, density=0.1, random_state=0)

    def backwards(function, shared, jobs):
        return reversed(list(_run_here(function, shared, jobs)))

    here = run_benchmark(data, ["pop", "random"], n_folds=2, metrics="ndcg@10")
    reversed_ = run_benchmark(data, ["pop", "random"], n_folds=2, metrics="ndcg@10", backend=backwards)
    assert [(r.label, r.fold, r.metrics) for r in reversed_.folds] == [(r.label, r.fold, r.metrics) for r in here.folds]
    with pytest.raises(ValueError, match="leave n_jobs at 1"):
        run_benchmark(data, ["pop"], n_folds=2, n_jobs=2, backend=backwards)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--scheduler", "tcp://127.0.0.1:8786"], "add --backend dask"),
        (["--workers", "2"], "add --backend dask"),
        pytest.param(["--backend", "dask", "--workers", "0"], "--workers 0: give a positive number",
                     marks=needs_dask),
        pytest.param(["--backend", "dask", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
                     "Drop one of them", marks=needs_dask),
        pytest.param(["--backend", "dask", "--n-jobs", "2"], "--n-jobs 2 with --backend dask", marks=needs_dask),
    ],
)
def test_backend_mistakes_are_reported_before_any_work(monkeypatch, capsys, arguments, message):
    def refuse(*args, **kwargs):
        raise AssertionError("the data set was loaded before the command line was checked")

    monkeypatch.setattr(cli, "load_data", refuse)
    assert cli.main(["run", "--folds", "2", *arguments]) == 2
    assert message in capsys.readouterr().err


# An installation without the distributed extra: an import hook refuses dask and distributed, in a
# fresh interpreter so that the modules already imported here (and a cluster's threads) are untouched.
WITHOUT_DASK = """
import importlib.abc, sys

class HideDask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, HideDask())
from recsys.bench import cli

def refuse(*args, **kwargs):
    raise AssertionError("the data set was loaded before the missing extra was reported")

cli.load_data = refuse
sys.exit(cli.main(["run", "--folds", "2", "--backend", "dask"]))
"""


def test_without_the_distributed_extra_the_error_names_it():
    finished = subprocess.run([sys.executable, "-c", WITHOUT_DASK], capture_output=True, text=True, timeout=120,
                              check=False)
    assert finished.returncode == 2, finished.stderr
    assert 'needs dask and distributed, from the distributed extra: pip install "recsys[distributed]"' in \
        finished.stderr
