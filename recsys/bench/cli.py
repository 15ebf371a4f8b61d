"""The ``recsys-bench`` command: list data sets and models, download data, run benchmarks.

Examples
--------
::

    recsys-bench datasets
    recsys-bench download ml-100k
    recsys-bench describe ml-100k
    recsys-bench models
    recsys-bench run                                   # pop and random on the generated default
    recsys-bench run benchmarks/suites/ml100k-topn.toml --folds 3 --output results.json
    recsys-bench run --dataset ml-100k --models pop,random --param random.random_state=1
    recsys-bench run benchmarks/suites/ml100k-topn.toml --baseline pop --output results.md
    recsys-bench run benchmarks/suites/ml100k-topn.toml --backend dask --workers 2
    recsys-bench run benchmarks/suites/ml100k-topn.toml --backend dask --scheduler tcp://10.0.0.5:8786

Start-up stays light: the modules imported here pull in neither scikit-learn,
scipy.stats, numba nor any model package; data sets, models and peers are
imported by the commands that use them (``benchmarks/cli_startup.py``).

Progress is logged on the ``recsys`` logger (one INFO line per finished
(model, fold), to stderr, piped or not); a progress bar is drawn only when
stdout and stderr are terminals. ``-q`` keeps warnings only, ``-v`` adds
DEBUG lines and the traceback of an error.
"""

import argparse
import functools
import json
import logging
import os
import shlex
import sys
import traceback
from contextlib import ExitStack, contextmanager

from rich.console import Console
from rich.table import Table

from recsys.bench import _recommend_command
from recsys.bench._metrics import DEFAULT_METRICS, parse_metrics
from recsys.bench._protocols import MIN_FOLDS, PROTOCOLS
from recsys.bench._registry import is_importable, list_models
from recsys.bench._report import (
    check_output_path,
    check_plot_path,
    plot,
    rich_table,
    write_output,
)
from recsys.bench._runner import ModelEntry, resolve_models, run_benchmark
from recsys.bench._suite import Suite, apply_dataset_options, load_suite

DEBUG_ENV = "RECSYS_DEBUG"

# Not __name__: run as ``python -m recsys.bench.cli`` this module is __main__, outside the recsys logger.
logger = logging.getLogger("recsys.bench.cli")


class CommandError(Exception):
    """A mistake on the command line, reported in one line with exit status 2."""


def _datasets_function(name):
    from recsys import datasets

    function = getattr(datasets, name, None)
    if function is None:
        raise ImportError(
            f"recsys.datasets.{name} is not available in this installation of recsys; "
            "the dataset commands need the dataset loaders (update recsys)."
        )
    return function


def load_data(name, data_home=None, download=False):
    """Load a registered data set through :func:`recsys.datasets.load_dataset`."""
    return _datasets_function("load_dataset")(name, data_home=data_home, download=download)


def parse_value(text):
    """A --param value as a TOML literal (``1``, ``0.5``, ``true``, ``[1, 2]``), else JSON, else a string."""
    # Imports recsys.utils (numba): only when a value is parsed, not at start-up.
    from recsys.utils._toml import tomllib

    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        pass
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _split_override(override, models):
    """Split MODEL.KEY=VALUE, where MODEL may itself hold dots or '=' (suite labels like 'lsh t=0.1')."""
    targets = sorted({entry.label for entry in models} | {entry.name for entry in models}, key=len, reverse=True)
    model = next((target for target in targets if override.startswith(f"{target}.")), None)
    if model is None:
        model = override.partition(".")[0]
    key, equals, value = override[len(model) + 1:].partition("=")
    if not equals or not model or not key:
        raise CommandError(f"--param {override!r}: write it as MODEL.KEY=VALUE, e.g. random.random_state=1.")
    return model, key, value


def apply_param_overrides(models, overrides):
    """Apply ``MODEL.KEY=VALUE`` overrides; MODEL is an entry's label or else its registry name."""
    models = list(models)
    for override in overrides:
        model, key, value = _split_override(override, models)
        matches = [i for i, entry in enumerate(models) if entry.label == model] or \
                  [i for i, entry in enumerate(models) if entry.name == model]
        if not matches:
            labels = ", ".join(entry.label for entry in models)
            raise CommandError(f"--param {override!r}: no model {model!r} in this run; the models are {labels}.")
        for i in matches:
            entry = models[i]
            models[i] = ModelEntry(entry.name, entry.label, {**entry.params, key: parse_value(value)})
    return models


def select_models(suite_models, names):
    """The entries of ``--models``: suite entries by label, other names as fresh registry entries."""
    by_label = {entry.label: entry for entry in suite_models}
    return [by_label.get(name) or ModelEntry(name) for name in names]


def _split_list(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="recsys-bench", description="Benchmark recsys recommenders and their peers on registered data sets.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    datasets = commands.add_parser("datasets", help="list the registered data sets")
    datasets.add_argument("--data-home", help="folder holding the data sets (default: $RECSYS_DATA_HOME)")

    download = commands.add_parser("download", help="download a data set into the data home")
    download.add_argument("name")
    download.add_argument("--data-home")

    describe = commands.add_parser("describe", help="summarise a data set")
    describe.add_argument("name")
    describe.add_argument("--data-home")

    commands.add_parser("models", help="list the registered models")

    run = commands.add_parser(
        "run", help="evaluate models on a data set",
        description="Evaluate models on a data set. Times are wall-clock seconds per fold; peak MiB is the "
                    "tracemalloc peak during fit + recommend/predict, measured in a second untimed pass so that "
                    "tracing does not slow the timed one. It sees numpy arrays but not memory "
                    "that C/C++ extensions allocate themselves (faiss, implicit), so it understates those models. With "
                    "--backend dask both passes run on the worker that runs the job, one job per worker process.")
    run.add_argument("suite", nargs="?", help="a suite TOML file (benchmarks/suites/*.toml)")
    run.add_argument("--dataset", help="registered data set (default: synthetic)")
    run.add_argument("--models", help="comma-separated registry names or suite labels (default: pop,random)")
    run.add_argument("--param", action="append", default=[], metavar="MODEL.KEY=VALUE",
                     help="set a model parameter; VALUE is a TOML/JSON literal (repeatable)")
    run.add_argument("--protocol", help=f"one of {', '.join(PROTOCOLS)} (default: strong)")
    run.add_argument("--metrics", help="comma-separated, e.g. ndcg@10,recall@20; recall_min_k@20 divides "
                     "the hits by min(k, relevant items) as VAE-CF and EASE do "
                     f"(default: {','.join(DEFAULT_METRICS['topn'])}; ratings-kfold: rmse,mae)")
    run.add_argument("--folds", type=int, help="number of folds (default: 5)")
    run.add_argument("--seed", type=int, help="seed of the splits (default: 0)")
    run.add_argument("--n-jobs", type=int, default=1, help="parallel (model, fold) pairs; timings become concurrent")
    run.add_argument("--backend", choices=("local", "dask"), default="local",
                     help="where the (model, fold) pairs run: here (default), or as Dask tasks, each fold sent "
                          "once to the cluster; same results, timings concurrent (the distributed extra)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --backend dask: the scheduler to run on (tcp://host:8786), whose workers have "
                          "recsys and the models' libraries installed; by default a local cluster of "
                          "single-threaded worker processes is started and closed by the command")
    run.add_argument("--workers", type=int, metavar="N",
                     help="with --backend dask and no --scheduler: worker processes of the local cluster "
                          "(default: one per core)")
    run.add_argument("--output", help="write the results to FILE.json, FILE.csv or FILE.md")
    run.add_argument("--plot", help="write a PNG bar chart of the first metric")
    run.add_argument("--data-home")
    run.add_argument("--download", action="store_true", help="download the data set if it is absent")
    run.add_argument("--no-memory", action="store_true",
                     help="skip the second, traced pass that measures peak memory (halves the run time) "
                          "and leave the peak MiB column out")
    run.add_argument("--baseline", metavar="LABEL",
                     help="mark the models whose per-user metric values differ significantly from this one's "
                          "(paired t-test and Wilcoxon signed-rank test over users, Holm-corrected); the "
                          "Markdown, CSV and JSON outputs add effect sizes and p-values")
    run.add_argument("--alpha", type=float, help="significance level of the --baseline marks (default: 0.05)")

    ann = commands.add_parser(
        "ann", help="recall@10 against queries/s of faiss indexes (flat, IVF, HNSW) for retrieval=",
        description="Maximum inner product search over the ALS item factors of the ML-1M pairs (user "
                    "factors as queries) and a generated set: recall@k against exact search, queries per "
                    "second, and FaissNearestNeighbors' build and search times over raw faiss in the same run.")
    ann.add_argument("--sets", default="ml-1m,generated", help="comma-separated: ml-1m, generated")
    ann.add_argument("--n", type=int, default=1_000_000, help="vectors of the generated set")
    ann.add_argument("--dim", type=int, default=64, help="dimensions (also the ALS factors)")
    ann.add_argument("--queries", type=int, default=1_000)
    ann.add_argument("--k", type=int, default=10)
    ann.add_argument("--repeat", type=int, default=3, help="best of this many search timings")
    ann.add_argument("--threads", type=int, default=1, help="faiss OpenMP threads")
    ann.add_argument("--indexes", default="flat,ivf,hnsw", help="comma-separated: flat, ivf, hnsw")
    ann.add_argument("--ivf-lists", type=int, help="IVF lists (default: 4 sqrt(n))")
    ann.add_argument("--output", help="write the markdown table to FILE.md")
    ann.add_argument("--plot", help="write the recall/queries-per-second plot to FILE.png")
    ann.add_argument("--data-home")

    _recommend_command.add_parser(commands)

    # Before or after the command: recsys-bench -v run, recsys-bench run -v.
    verbose_help = f"log DEBUG lines and, on an error, its traceback (so does setting {DEBUG_ENV}=1)"
    quiet_help = "log warnings and errors only (no line per finished fold)"
    parser.add_argument("-v", "--verbose", action="count", default=0, help=verbose_help)
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet_help)
    for command in commands.choices.values():
        command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=verbose_help)
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=quiet_help)
    return parser


def _cmd_ann(args, console):
    from recsys.bench._ann import plot_recall_qps, results_markdown, run_ann_benchmark

    results = run_ann_benchmark(
        sets=_split_list(args.sets), n=args.n, dimension=args.dim, n_queries=args.queries, k=args.k,
        repeat=args.repeat, threads=args.threads, indexes=_split_list(args.indexes),
        ivf_lists=args.ivf_lists, data_home=args.data_home, log=console.print)
    table = results_markdown(results, k=args.k)
    console.print(table)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(table + "\n")
    if args.plot:
        plot_recall_qps(results, args.plot)


def _short_license(text):
    return text.replace(";", ":").split(":")[0].strip()


def _folder_size(info, data_home):
    if info.format == "generated":
        return "generated"
    if not info.is_present(data_home):
        return "-"
    total = sum(path.stat().st_size for path in info.path(data_home).rglob("*") if path.is_file())
    return f"{total / 2**20:.1f} MiB"


def _cmd_datasets(args, console):
    table = Table(title="registered data sets")
    table.add_column("name", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("license", max_width=48, no_wrap=True, overflow="ellipsis")
    table.add_column("present", no_wrap=True)
    for info in _datasets_function("list_datasets")():
        present = info.is_present(args.data_home)
        table.add_row(info.name, _folder_size(info, args.data_home), _short_license(info.license),
                      "yes" if present else "no")
    console.print(table)


def _cmd_download(args, console):
    path = _datasets_function("fetch_dataset")(args.name, data_home=args.data_home, download=True)
    console.print(f"{args.name}: {path}", markup=False)


def _cmd_describe(args, console):
    summary = load_data(args.name, args.data_home, download=False).describe()
    table = Table(title=args.name, show_header=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value")
    for key, value in summary.items():
        if hasattr(value, "to_dict"):
            value = ", ".join(f"{stat} {number:.4g}" for stat, number in value.to_dict().items())
        elif isinstance(value, float):
            value = f"{value:.6g}"
        elif isinstance(value, tuple):
            value = " to ".join(str(part) for part in value)
        table.add_row(key, str(value))
    console.print(table)


def _cmd_models(args, console):
    table = Table(title="registered models")
    for header in ("name", "task", "peer", "available", "description"):
        table.add_column(header, no_wrap=header != "description")
    for spec in list_models():
        table.add_row(spec.name, spec.task, spec.peer or "-", "yes" if spec.available else "no", spec.description)
    console.print(table)


def _suite_from_args(args):
    suite = load_suite(args.suite) if args.suite else Suite()
    suite = suite.override(dataset=args.dataset, protocol=args.protocol, folds=args.folds, seed=args.seed,
                           metrics=tuple(_split_list(args.metrics)) if args.metrics else None)
    models = select_models(suite.models, _split_list(args.models)) if args.models else list(suite.models)
    return suite.override(models=tuple(apply_param_overrides(models, args.param)))


def _progress_factory(console):
    """progress(total) for run_benchmark: a rich bar on console, or nothing without one."""
    if console is None:
        return None

    def start(total):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        progress = Progress(TextColumn("running"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=console, transient=True)
        progress.start()
        task = progress.add_task("folds", total=total)

        def advance():
            progress.advance(task)
            if progress.finished:
                progress.stop()

        if total == 0:
            progress.stop()
        return advance

    return start


def _check_run(args, suite):
    """Every mistake of the command line and suite, found before any data set is loaded or model fitted."""
    if suite.protocol not in PROTOCOLS:
        raise CommandError(f"unknown protocol {suite.protocol!r}; choose one of {', '.join(PROTOCOLS)}.")
    task = PROTOCOLS[suite.protocol][0]
    if task == "rating" and suite.dataset_options.get("binarize") is not None:
        raise CommandError("the suite binarises the ratings, which the ratings-kfold protocol needs; "
                           "drop dataset_options.binarize or use a top-N protocol.")
    minimum = MIN_FOLDS.get(suite.protocol, 1)
    if isinstance(suite.folds, bool) or not isinstance(suite.folds, int) or suite.folds < minimum:
        raise CommandError(f"--folds {suite.folds!r}: the {suite.protocol} protocol needs an integer >= {minimum}.")
    if isinstance(suite.seed, bool) or not isinstance(suite.seed, int) or not 0 <= suite.seed < 2**32:
        raise CommandError(f"--seed {suite.seed!r}: give an integer from 0 to 2**32 - 1.")
    if args.n_jobs == 0:
        raise CommandError("--n-jobs 0: give a positive number of processes, or -1 for one per CPU.")
    _check_backend(args)
    if args.output:
        check_output_path(args.output)
    if args.plot:
        check_plot_path(args.plot)
    metrics = parse_metrics(suite.metrics, task)
    runnable, skipped = resolve_models(suite.models, task, suite.protocol)
    baseline = args.baseline or suite.baseline
    if baseline is not None:
        labels = [entry.label for entry in suite.models]
        if baseline not in labels:
            import difflib

            close = difflib.get_close_matches(baseline, labels, n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise CommandError(f"--baseline {baseline!r} is not a model of this run.{hint} "
                               f"The models are {', '.join(labels)}.")
        if baseline not in {entry.label for entry, _ in runnable}:
            raise CommandError(f"--baseline {baseline!r} cannot run here: it {skipped[baseline]}.")
        if all(metric.list_level for metric in metrics):
            raise CommandError("--baseline compares per-user metric values, and every metric of this run is "
                               "list-level; add one such as ndcg@10.")
    if args.alpha is not None and not 0 < args.alpha < 1:
        raise CommandError(f"--alpha {args.alpha}: give a significance level between 0 and 1, e.g. 0.05.")
    return baseline


def _check_backend(args):
    """The mistakes of --backend, --scheduler and --workers, and a missing distributed extra."""
    if args.backend != "dask":
        for option, value in (("--scheduler", args.scheduler), ("--workers", args.workers)):
            if value is not None:
                raise CommandError(f"{option} sets up the Dask cluster of --backend dask; add --backend dask.")
        return
    if not (is_importable("dask") and is_importable("distributed")):
        raise CommandError('--backend dask needs dask and distributed, from the distributed extra: '
                           'pip install "recsys[distributed]".')
    if args.n_jobs != 1:
        raise CommandError(f"--n-jobs {args.n_jobs} with --backend dask: the cluster's workers run the jobs "
                           "in parallel; drop --n-jobs (or use --workers N for the local cluster).")
    if args.workers is not None and args.scheduler is not None:
        raise CommandError("--workers sizes the local cluster; with --scheduler the workers of that cluster "
                           "run the jobs. Drop one of them.")
    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers {args.workers}: give a positive number of worker processes.")


@contextmanager
def _backend(args):
    """(backend for run_benchmark, its description for the metadata) for the duration of a run."""
    if args.backend != "dask":
        yield None, {"name": "local", "n_jobs": args.n_jobs}
        return
    from recsys.distributed import dask_client, map_shared

    with ExitStack() as stack:
        try:
            client = stack.enter_context(dask_client(args.scheduler, n_workers=args.workers))
        except OSError as error:
            if args.scheduler is None:
                raise
            raise CommandError(f"--scheduler {args.scheduler}: no Dask scheduler answered ({error}); start one "
                               "(dask scheduler) and give its address, e.g. tcp://host:8786.") from None
        threads = _dask_threads(args, client)
        per_worker = sorted(set(threads.values()))
        logger.info("Dask scheduler %s: %d worker(s), %s task thread(s) each", client.scheduler.address,
                    len(threads), "/".join(map(str, per_worker)))
        yield functools.partial(map_shared, client=client), {
            "name": "dask", "scheduler": args.scheduler or "local cluster", "workers": len(threads),
            "threads_per_worker": per_worker}


def _dask_threads(args, client, wait=10):
    """{worker: task threads} of the cluster, checked for a run: some workers, one thread each if traced."""
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError:
        raise CommandError(f"--scheduler {args.scheduler}: no worker joined the scheduler in {wait} s; start "
                           f"some (dask worker {args.scheduler} --nthreads 1).") from None
    threads = client.nthreads()
    if not args.no_memory and max(threads.values()) > 1:
        # tracemalloc traces a whole process: concurrent jobs of one worker would share (and reset) one peak.
        raise CommandError(f"--scheduler {args.scheduler}: its workers run up to {max(threads.values())} tasks "
                           "at once in one process, where peak memory cannot be told apart per job; start them "
                           "with --nthreads 1, or add --no-memory.")
    return threads


def _cmd_run(args, console, argv, progress_console=None):
    suite = _suite_from_args(args)
    # Fail on mistakes now rather than after loading a large data set or fitting for minutes.
    baseline = _check_run(args, suite)
    # Before the data set too: a scheduler that does not answer is a mistake of the command line.
    with _backend(args) as (backend, backend_description):
        try:
            data = load_data(suite.dataset, args.data_home, download=args.download)
        except KeyError as error:
            raise CommandError(error.args[0]) from None
        data = apply_dataset_options(data, suite.dataset_options)
        logger.info("%s: %d users, %d items, %d interactions", suite.dataset, data.n_users, data.n_items,
                    len(data))
        result = run_benchmark(
            data, list(suite.models), protocol=suite.protocol, metrics=suite.metrics, n_folds=suite.folds,
            random_state=suite.seed, n_jobs=args.n_jobs, dataset_name=suite.dataset,
            trace_memory=not args.no_memory,
            command=shlex.join(["recsys-bench", *argv]),
            on_skip=lambda label, reason: console.print(f"skipped {label}: {reason}", markup=False),
            progress=_progress_factory(progress_console),
            backend=backend,
        )
    result.metadata["backend"] = backend_description
    if backend is not None and result.memory_traced:
        result.metadata["memory_note"] += (" On --backend dask it is measured in the worker process that ran "
                                           "the job, so it also counts what that worker's own threads "
                                           "allocate meanwhile (e.g. receiving the fold of its next job).")
    result.metadata["suite"] = suite.name
    result.metadata["dataset_options"] = suite.dataset_options
    if baseline is not None:
        result.compare(baseline, args.alpha)
    console.print(rich_table(result))
    if args.output:
        write_output(result, args.output)
        console.print(f"wrote {args.output}", markup=False)
    if args.plot:
        plot(result, args.plot)
        console.print(f"wrote {args.plot}", markup=False)
    return result


def _logging_handler(console, verbose, quiet):
    """A handler on the ``recsys`` logger for one command: rich on a terminal, plain lines when piped.

    console is the stderr console the progress bar uses too, so that log lines print above the bar.
    """
    if console.is_terminal:
        from rich.logging import RichHandler

        handler = RichHandler(console=console, show_path=False, markup=False, log_time_format="%H:%M:%S")
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"))
    handler.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    return handler


def main(argv=None):
    """Run ``recsys-bench`` with the arguments argv (``sys.argv[1:]`` by default); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:
        # Piped or captured output is read by programs and people alike: never truncate columns.
        console.width = max(console.width, 160)
    handlers = {"datasets": _cmd_datasets, "download": _cmd_download, "describe": _cmd_describe,
                "models": _cmd_models, "ann": _cmd_ann, "recommend": _recommend_command.run}
    # The library only logs; the command decides where the lines go, for its own duration.
    recsys_logger = logging.getLogger("recsys")
    log_console = Console(stderr=True)
    handler = _logging_handler(log_console, args.verbose, args.quiet)
    saved = recsys_logger.level, recsys_logger.propagate
    recsys_logger.addHandler(handler)
    recsys_logger.setLevel(handler.level)
    recsys_logger.propagate = False
    try:
        if args.command == "run":
            show_progress = not args.quiet and console.is_terminal and log_console.is_terminal
            _cmd_run(args, console, argv, log_console if show_progress else None)
        else:
            handlers[args.command](args, console)
    except (CommandError, ValueError, KeyError, FileNotFoundError, ImportError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        if not isinstance(error, CommandError):
            # Not a command-line mistake: where it came from may matter (a missing module, a bug).
            if args.verbose or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                traceback.print_exc()
            else:
                message = f"{message} (--verbose shows the traceback)"
        Console(stderr=True, soft_wrap=True).print(f"recsys-bench: error: {message}", highlight=False, markup=False)
        return 2
    finally:
        recsys_logger.removeHandler(handler)
        recsys_logger.setLevel(saved[0])
        recsys_logger.propagate = saved[1]
    return 0


if __name__ == "__main__":
    sys.exit(main())
