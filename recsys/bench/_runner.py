"""Fit, recommend (or predict) and score every (model, fold) pair of a benchmark.

Timings are wall-clock (``time.perf_counter``) of a fresh model, after an
untimed warm-up fit on a slice of the same fold (so one-time process costs
such as numba loading its kernels are not charged to the first fold). Peak memory is the peak of
``tracemalloc`` during fit plus recommend/predict, measured in a second,
untimed pass so that tracing never slows the timed one: it sees every
allocation made through Python's allocators, numpy arrays included, but not
memory that C/C++ extensions allocate on their own (faiss indexes, implicit's
and lightfm's native buffers), so it understates those models. On a backend
that runs jobs in other processes (joblib's, Dask's), both passes of a job run
in the process that runs it; tracemalloc traces a whole process, so there the
peak also counts what that process's other threads allocate meanwhile (a Dask
worker receiving the fold of its next job), and a process must run one job at
a time for the peak to be the job's.

Each finished (model, fold) is logged at INFO on the ``recsys.bench._runner``
logger (a child of ``recsys``) with its times and scores; the library never
configures logging handlers, the ``recsys-bench`` command does.
"""

import logging
import os
import platform
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from types import SimpleNamespace

import numpy as np

from recsys.bench._metrics import parse_metrics
from recsys.bench._protocols import (
    PROTOCOLS,
    SAMPLED_NEGATIVES,
    SEQUENCE_PROTOCOLS,
    make_folds,
)
from recsys.bench._registry import get_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelEntry:
    """One row of the benchmark: a registered model with its parameters.

    The same registry ``name`` may appear several times with different
    ``params`` under different ``label``\\ s.
    """

    name: str
    label: str = None
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.label is None:
            object.__setattr__(self, "label", self.name)


@dataclass
class FoldResult:
    """The scores and costs of one model on one fold.

    ``peak_memory`` is None when memory was not traced. ``per_user`` maps each
    metric with per-user values to an array aligned with ``users`` (the user
    indices of a top-N fold's evaluated rows, the user ids of a rating fold's
    test pairs); both are None unless kept.
    """

    label: str
    model: str
    fold: int
    fit_time: float
    predict_time: float
    peak_memory: int
    n_evaluated: int
    metrics: dict
    warnings: list = field(default_factory=list)
    per_user: dict = None
    users: np.ndarray = None


@dataclass
class BenchmarkResult:
    """Every fold result of a run, with the metadata that makes it reproducible."""

    metadata: dict
    folds: list
    skipped: dict = field(default_factory=dict)
    #: list of Comparison against ``metadata["baseline"]``, set by :meth:`compare`
    comparisons: list = None

    @property
    def memory_traced(self):
        """Whether the folds hold a peak memory (False for a run with ``trace_memory=False``)."""
        return any(result.peak_memory is not None for result in self.folds)

    def compare(self, baseline, alpha=None):
        """Test every model against the baseline label (see :func:`recsys.bench.compare_to_baseline`).

        Stores the comparisons, the baseline and alpha (the level of the table
        marks) in the result and returns the comparisons.
        """
        from recsys.bench._significance import DEFAULT_ALPHA, compare_to_baseline

        self.comparisons = compare_to_baseline(self, baseline)
        self.metadata["baseline"] = baseline
        self.metadata["alpha"] = DEFAULT_ALPHA if alpha is None else alpha
        return self.comparisons

    def summary(self):
        """Mean and standard deviation over folds, one dict per model label, in run order."""
        labels = list(dict.fromkeys(result.label for result in self.folds))
        costs = ("fit_time", "predict_time", "peak_memory") if self.memory_traced else ("fit_time", "predict_time")
        rows = []
        for label in labels:
            mine = [result for result in self.folds if result.label == label]
            row = {"label": label, "model": mine[0].model, "folds": len(mine)}
            columns = {name: [r.metrics[name] for r in mine] for name in self.metadata["metrics"]}
            columns.update({name: [getattr(r, name) for r in mine] for name in costs})
            for name, values in columns.items():
                row[name] = float(np.mean(values))
                row[f"{name}_std"] = float(np.std(values))
            rows.append(row)
        return rows


def _fit_and_predict(estimator, task, fold, n, input="matrix"):
    """Fit on the fold, then recommend n items (top-N) or predict (ratings).

    A sequence model (``input="sequence"``) is fitted on the fold's
    time-ordered training events and serves the evaluated users' histories
    in them. With sampled candidates, every item is ranked and the ranking
    cut to each row's candidates.

    Returns (recommended ids or predictions, fit seconds, recommend/predict seconds).
    """
    start = time.perf_counter()
    if task == "topn":
        candidates = getattr(fold, "candidates", None)
        n_ranked = n if candidates is None else fold.train.shape[1]
        if input == "sequence":
            events = fold.train_events
            estimator.fit(events)
            fitted = time.perf_counter()
            output, _ = estimator.recommend(events, n=n_ranked, exclude_seen=True,
                                            users=np.asarray(events.user_ids)[fold.users])
        else:
            fit_params = {"item_texts": fold.item_texts} if input == "item_texts" else {}
            estimator.fit(fold.train, **fit_params)
            fitted = time.perf_counter()
            output, _ = estimator.recommend(fold.query, n=n_ranked, exclude_seen=True)
        if candidates is not None:
            output = _restrict_to_candidates(output, candidates, n)
    else:
        estimator.fit(fold.train_pairs, fold.train_ratings)
        fitted = time.perf_counter()
        output = estimator.predict(fold.test_pairs)
    return output, fitted - start, time.perf_counter() - fitted


def _restrict_to_candidates(ranked, candidates, n):
    """The first n ids of each row of a full ranking that are among that row's candidates, -1 padded."""
    rows = np.arange(ranked.shape[0])[:, None]
    keep = (ranked >= 0) & candidates.toarray().astype(bool)[rows, np.maximum(ranked, 0)]
    order = np.argsort(~keep, axis=1, kind="stable")[:, :n]  # kept ids first, in ranking order
    return np.where(np.take_along_axis(keep, order, axis=1), np.take_along_axis(ranked, order, axis=1), -1)


def _warm_up(spec, params, fold, n):
    """Fit and use a fresh model on a slice of the fold, untimed.

    One-time costs of a process (numba loading its cached kernels and
    starting its threading layer on the first parallel call, lazy imports,
    first BLAS calls) then fall outside the timed pass, for recsys' models
    and peers alike, so fold times are steady-state times. A warm-up that
    fails on the small slice is skipped (logged at DEBUG): the timed pass
    reports real errors.
    """
    if spec.input != "matrix":
        return  # a neural model's one-time costs (torch start-up) are small beside its training or embedding
    if spec.task == "topn":
        rows = slice(0, min(fold.train.shape[0], 500))
        sample = SimpleNamespace(train=fold.train[rows], query=fold.query[:10])
        if sample.train.nnz == 0:
            return
    else:
        pairs = slice(0, min(len(fold.train_ratings), 2000))
        sample = SimpleNamespace(train_pairs=fold.train_pairs[pairs], train_ratings=fold.train_ratings[pairs],
                                 test_pairs=fold.test_pairs[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _fit_and_predict(spec.build(**params), spec.task, sample, n)
        except Exception as error:  # noqa: BLE001 - a warm-up never decides the outcome
            logger.debug("warm-up of %s failed on its slice (%s: %s); the first fold may include one-time "
                         "costs", spec.name, type(error).__name__, error)


def _peak_memory(spec, params, fold, n):
    """tracemalloc peak of fitting a fresh model and recommending/predicting, in bytes."""
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # already recorded by the timed pass
            _fit_and_predict(spec.build(**params), spec.task, fold, n, spec.input)
        return tracemalloc.get_traced_memory()[1]
    finally:
        if started_tracing:
            tracemalloc.stop()


def _per_user_errors(metrics, users, y_true, y_pred):
    """Per-user values of rating metrics: each metric over each user's test pairs.

    Returns (user ids in sorted order, {metric label: values aligned with them}).
    """
    ids, codes = np.unique(np.asarray(users), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(codes, minlength=len(ids)))[:-1])
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return ids, {metric.label: np.array([metric(y_true[group], y_pred[group]) for group in groups])
                 for metric in metrics}


def evaluate_fold(spec, params, label, fold, metrics, keep_per_user=False, trace_memory=True):
    """Fit a new model on one fold and score it.

    The scores and times come from one pass without tracemalloc, whose
    overhead would slow models that allocate many small Python objects
    (Surprise's fit runs about 4x slower traced); the peak memory comes from a
    second, untimed pass with a fresh model under tracemalloc.

    Parameters
    ----------
    spec : ModelSpec
        Registry entry of the model.
    params : dict
        Parameters passed to ``spec.build``.
    label : str
        Name of the model in the results.
    fold : TopNFold or RatingFold
    metrics : list of Metric
    keep_per_user : bool, default=False
        Keep the per-user metric values (and the users they belong to): per
        evaluated row for ranking metrics, per test user for rating metrics.
    trace_memory : bool, default=True
        Measure the tracemalloc peak of fit and recommend/predict (a second pass).

    Returns
    -------
    FoldResult
    """
    n = max(metric.k for metric in metrics) if spec.task == "topn" else None
    # Warnings (e.g. test pairs with a user unseen in fit) belong to the fold's record, not to stderr.
    _warm_up(spec, params, fold, n)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        output, fit_time, predict_time = _fit_and_predict(spec.build(**params), spec.task, fold, n, spec.input)
    peak = int(_peak_memory(spec, params, fold, n)) if trace_memory else None
    ids = predictions = output
    users = per_user = None
    if spec.task == "topn":
        per_user = {metric.label: metric.per_user(fold.relevant, ids)
                    for metric in metrics if not metric.list_level}
        scores = {metric.label: metric.of_lists(ids, fold.relevant.shape[1]) if metric.list_level
                  else float(np.nanmean(per_user[metric.label])) for metric in metrics}
        n_evaluated, users = fold.query.shape[0], fold.users
    else:
        scores = {metric.label: metric(fold.test_ratings, predictions) for metric in metrics}
        n_evaluated = len(fold.test_ratings)
        if keep_per_user:
            users, per_user = _per_user_errors(metrics, fold.test_pairs.iloc[:, 0], fold.test_ratings, predictions)
    return FoldResult(
        label, spec.name, fold.index, fit_time, predict_time, peak, n_evaluated, scores,
        list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)),
        per_user if keep_per_user else None,
        users if keep_per_user else None,
    )


def _evaluate_job(fold, spec, params, label, metrics, keep_per_user, trace_memory):
    """:func:`evaluate_fold` with the fold first: the argument a backend shares between jobs."""
    return evaluate_fold(spec, params, label, fold, metrics, keep_per_user, trace_memory)


def _run_here(function, shared, jobs):
    """The backend of ``n_jobs=1``: each job in this process, in order."""
    for position, (index, args) in enumerate(jobs):
        yield position, function(shared[index], *args)


def _joblib_backend(n_jobs):
    """A backend running the jobs in n_jobs joblib processes."""
    def run(function, shared, jobs):
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(function)(shared[index], *args) for index, args in jobs)
        yield from enumerate(results)

    return run


def _log_finished(result, position, total, n_folds):
    scores = ", ".join(f"{name} {value:.4f}" for name, value in result.metrics.items())
    logger.info("[%d/%d] %s fold %d/%d: fit %.3f s, predict %.3f s, %s", position, total, result.label,
                result.fold + 1, n_folds, result.fit_time, result.predict_time, scores)


def _machine():
    """Where the run happened; the load average says whether other work competed for the cores."""
    machine = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
               "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    if hasattr(os, "getloadavg"):
        machine["load_average_1min"] = round(os.getloadavg()[0], 2)
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            # Set by the first parallel kernel; OpenMP's barriers stall when the cores are busy.
            machine["numba_threading_layer"] = numba.threading_layer()
        except ValueError:
            pass  # no parallel kernel ran
    return machine


def _versions(models):
    """Installed versions of recsys, its core dependencies and the peers run (by distribution name)."""
    distributions = metadata.packages_distributions()
    packages = ["recsys", "numpy", "scipy", "scikit-learn", "pandas"]
    for spec in models:
        for module in (spec.peer, *spec.requires):
            if module:
                # A peer is named by its import name (surprise); its version belongs to the
                # distribution that installs it (scikit-surprise).
                packages.extend(distributions.get(module, [module]))
    versions = {}
    for package in dict.fromkeys(packages):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def resolve_models(entries, task, protocol=None):
    """Check the entries against the registry.

    Returns the runnable ``(entry, spec)`` pairs and a dict ``label -> reason``
    of the models skipped because a module they need is missing. Unknown names,
    repeated labels, models of the wrong task, sequence models under a
    protocol without time-ordered events (when ``protocol`` is given) and
    parameters the model does not take raise a ``ValueError`` before anything runs.
    """
    runnable, skipped, seen = [], {}, set()
    for entry in entries:
        if entry.label in seen:
            raise ValueError(f"label {entry.label!r} is used twice; give each model entry its own label.")
        seen.add(entry.label)
        try:
            spec = get_model(entry.name)
        except KeyError as error:
            raise ValueError(error.args[0]) from None
        if spec.task != task:
            protocols = [name for name, (kind, _) in PROTOCOLS.items() if kind == spec.task]
            raise ValueError(
                f"model {entry.name!r} is a {spec.task} model, but the protocol evaluates {task} models; "
                f"run it with --protocol {' or '.join(protocols)}."
            )
        if spec.input == "sequence" and protocol is not None and protocol not in SEQUENCE_PROTOCOLS:
            raise ValueError(
                f"model {entry.name!r} is fitted on time-ordered event sequences, which the {protocol} protocol "
                f"does not provide; run it with --protocol {' or '.join(SEQUENCE_PROTOCOLS)}."
            )
        missing = spec.missing()
        if missing:
            skipped[entry.label] = f"needs {' and '.join(missing)}"
            continue
        try:
            spec.build(**entry.params)
        except TypeError as error:
            raise ValueError(f"model {entry.label!r} rejects its parameters {entry.params}: {error}") from None
        runnable.append((entry, spec))
    return runnable, skipped


def run_benchmark(
    data,
    models,
    *,
    protocol="strong",
    metrics=None,
    n_folds=5,
    random_state=0,
    n_jobs=1,
    dataset_name=None,
    command=None,
    keep_per_user=True,
    trace_memory=True,
    on_skip=None,
    progress=None,
    backend=None,
):
    """Evaluate models on a data set with a protocol.

    Parameters
    ----------
    data : Interactions
    models : list of ModelEntry, or of str (registry names)
    protocol : {"strong", "holdout", "leave-last-out", "ratings-kfold", "leave-last-out-sampled"}, default="strong"
    metrics : list of str or comma-separated str, default=None
        ``ndcg@10,recall@20,precision@10`` for top-N protocols, ``rmse,mae`` for ratings.
    n_folds : int, default=5
    random_state : int, default=0
        Seed of the splits.
    n_jobs : int, default=1
        Parallel (model, fold) pairs, in joblib processes; timings are then concurrent.
    dataset_name, command : str, default=None
        Recorded in the metadata.
    keep_per_user : bool, default=True
        Keep the per-user metric values in each :class:`FoldResult`
        (:meth:`BenchmarkResult.compare` tests models on them).
    trace_memory : bool, default=True
        Measure peak memory with tracemalloc, in a second untimed pass per (model, fold).
    on_skip : callable, default=None
        ``on_skip(label, reason)`` for each model skipped for a missing dependency.
    progress : callable, default=None
        ``progress(total)`` returning a callable invoked once per finished (model, fold).
    backend : callable, default=None
        Where the (model, fold) jobs run: ``backend(function, shared, jobs)``
        calls ``function(shared[i], *args)`` for every ``(i, args)`` of jobs
        and yields ``(position in jobs, result)`` pairs as they finish; the
        shared values are the folds, so that a backend sends each fold once
        rather than once per model. ``functools.partial(recsys.distributed.map_shared,
        client=client)`` runs them as Dask tasks. None runs them in this
        process, or in ``n_jobs`` joblib processes. The results are the same
        on every backend; times and peak memory are measured where each job ran.

    Returns
    -------
    BenchmarkResult

    Examples
    --------
    >>> from recsys.bench import run_benchmark
    >>> from recsys.datasets import make_interactions
    >>> data = make_interactions(200, 60, density=0.1, random_state=0)
    >>> result = run_benchmark(data, ["pop", "random"], n_folds=2, metrics="ndcg@10")
    >>> [row["label"] for row in result.summary()]
    ['pop', 'random']
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}.")
    if backend is not None and n_jobs != 1:
        raise ValueError(f"n_jobs={n_jobs} and a backend: the backend decides where the jobs run; "
                         "leave n_jobs at 1.")
    task = PROTOCOLS[protocol][0]
    metric_list = parse_metrics(metrics, task)
    if protocol == "leave-last-out-sampled":
        # Sampled metrics rank models differently from full-ranking ones (Krichene & Rendle 2020): say so in the name.
        metric_list = [replace(metric, label=f"{metric.label}-sampled{SAMPLED_NEGATIVES}") for metric in metric_list]
    entries = [ModelEntry(entry) if isinstance(entry, str) else entry for entry in models]
    if not entries:
        raise ValueError("no model to run; pass e.g. --models pop,random.")
    runnable, skipped = resolve_models(entries, task, protocol)
    for label, reason in skipped.items():
        if on_skip is not None:
            on_skip(label, reason)
    started = time.perf_counter()
    folds = make_folds(protocol, data, n_folds, random_state)
    if any(spec.input == "item_texts" for _, spec in runnable):
        texts = data.item_texts()  # one list shared by the folds: they keep the data's item vocabulary
        folds = [replace(fold, item_texts=texts) for fold in folds]
    logger.info("%d %s fold(s) made in %.1f s; %d model(s) to run on each", len(folds), protocol,
                time.perf_counter() - started, len(runnable))
    if backend is None:
        backend = _run_here if n_jobs == 1 else _joblib_backend(n_jobs)
    jobs = [(fold, (spec, entry.params, entry.label, metric_list, keep_per_user, trace_memory))
            for entry, spec in runnable for fold in range(len(folds))]
    advance = progress(len(jobs)) if progress is not None else (lambda: None)
    # Stored in job order, so that every backend gives the same result whatever order the jobs finish in.
    results = [None] * len(jobs)
    for finished, (position, result) in enumerate(backend(_evaluate_job, folds, jobs), start=1):
        results[position] = result
        _log_finished(result, finished, len(jobs), len(folds))
        advance()
    metadata_ = {
        "command": command,
        "dataset": dataset_name,
        "n_users": int(data.n_users),
        "n_items": int(data.n_items),
        "n_interactions": len(data),
        "protocol": protocol,
        "folds": len(folds),
        "seed": random_state,
        "n_jobs": n_jobs,
        "memory_traced": trace_memory,
        "metrics": [metric.label for metric in metric_list],
        "models": [{"label": entry.label, "name": entry.name, "params": entry.params,
                    "estimator": repr(spec.build(**entry.params))} for entry, spec in runnable],
        "machine": _machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 (datetime.UTC is 3.11+)
        "versions": _versions([spec for _, spec in runnable]),
        "memory_note": "peak_memory is the tracemalloc peak during fit + recommend/predict (a second, untimed "
                       "pass); it excludes "
                       "memory allocated outside Python's allocator (e.g. by faiss or implicit C++ code).",
    }
    return BenchmarkResult(metadata_, results, skipped)
