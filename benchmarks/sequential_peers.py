"""Sequential recommendation table with a peer SASRec in the same run (issue 12).

For each data set, the harness' ``leave-last-out`` protocol (``recsys.bench.make_folds``, the same
split as the ``*-sequential`` suites: 5-core users, each user's last event by time is the target) is
made once and written to disk: ``train.csv`` (user, item, timestamp, position: every user's
training events in the order SequentialRecommender reads them) and ``users.npy`` (the evaluated
users). Every model then runs in a child process of its own, started from that directory:

- recsys' models (pop, ALS, EASE, SASRec, gSASRec) in this interpreter (``--worker``), fitted and
  asked for recommendations through the harness' ``_fit_and_predict`` on the split read back;
- the peer, RecTools 0.19's ``SASRecModel``, in its own virtualenv (RecTools pins numpy < 2) by
  ``benchmarks/peers/rectools_sasrec.py``, on the very same sequences.

Each child writes its top-k item indices (full ranking, the user's history excluded) and its
timings; this process scores all of them with the harness' metrics against the held-out targets.
Peak memory is the child's peak resident set size above its size before ``fit`` (what the model
and its training took, the interpreter and imports left out), so that torch's allocations count,
which ``tracemalloc`` does not see. Every child gets the same number of threads.

The tables printed at the end give every model's mean and spread over its seeds, and each of our
sequential models against its peer with Welch's t-test of the two sets of seeds. Seeds run by separate
commands (two side by side, say) are joined with ``--merge`` over their ``--output`` files.

    python -m venv /work/venvs/rectools
    /work/venvs/rectools/bin/pip install torch==2.13.0 "rectools[torch]==0.19.0"
    RECSYS_DATA_HOME=/work/shared/data nice -n 10 python benchmarks/sequential_peers.py \\
        --datasets ml-100k --epochs 100 --peer-python /work/venvs/rectools/bin/python
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from peers._memory import peak_rss, reset_peak  # benchmarks/peers/_memory.py

#: the data set options of the *-sequential suites
DATASET_OPTIONS = {"min_user_interactions": 5}

#: shared by ours and the peer (RecTools' feed-forward width is n_factors: our intermediate_size matches it)
ARCHITECTURE = {"hidden_size": 64, "n_layers": 2, "n_heads": 2, "dropout": 0.2}

#: loss settings of the two sequential rows (the registry's sasrec and gsasrec)
LOSSES = {"sasrec": {"loss": "bce"}, "gsasrec": {"loss": "gbce", "n_negatives": 256, "gbce_t": 0.75}}

MATRIX_MODELS = ("pop", "als", "ease")
PEERS = {"rectools-sasrec": "sasrec", "rectools-gsasrec": "gsasrec"}
#: models whose result depends on random_state: run once per --seeds value
SEEDED_MODELS = ("als", "sasrec", "gsasrec", *PEERS)
METRICS = ("ndcg@10", "recall@10")



# ---------------------------------------------------------------------- the split
def write_split(name, directory):
    """Make the harness' leave-last-out fold of a data set and write it; return (fold, n_items)."""
    import pandas as pd

    from recsys.bench import apply_dataset_options, make_folds
    from recsys.datasets import load_dataset
    from recsys.neural._sequential import _time_ordered_histories

    data = apply_dataset_options(load_dataset(name, download=False), DATASET_OPTIONS)
    (fold,) = make_folds("leave-last-out", data, 1, 0)
    events = fold.train_events
    histories = _time_ordered_histories(events)  # what SequentialRecommender reads, ties resolved as it does
    lengths = np.array([len(history) for history in histories])
    users = np.repeat(np.arange(events.n_users), lengths)
    items = np.concatenate(histories)
    # Along a history, times never decrease: position p holds the user's p-th smallest timestamp.
    times = np.asarray(events.timestamps)[np.lexsort((np.asarray(events.timestamps), np.asarray(events.users)))]
    frame = pd.DataFrame({"user": users, "item": items, "timestamp": times,
                          "position": np.concatenate([np.arange(length) for length in lengths])})
    directory.mkdir(parents=True, exist_ok=True)
    frame.to_csv(directory / "train.csv", index=False)
    np.save(directory / "users.npy", np.asarray(fold.users, dtype=np.int64))
    (directory / "split.json").write_text(json.dumps({
        "dataset": name, "protocol": "leave-last-out", "dataset_options": DATASET_OPTIONS,
        "n_users": int(events.n_users), "n_items": int(events.n_items), "n_train_events": len(frame),
        "n_evaluated": len(fold.users)}))
    return fold


def read_split(directory):
    """The fold a worker fits on, rebuilt from the files: matrix, events in reading order, users."""
    import pandas as pd
    import scipy.sparse as sp

    from recsys.datasets import Interactions

    info = json.loads((directory / "split.json").read_text())
    frame = pd.read_csv(directory / "train.csv")
    users = np.load(directory / "users.npy")
    n_users, n_items = info["n_users"], info["n_items"]
    # Times strictly increasing along each history: the reading order is the file's, whatever the ties.
    events = Interactions(frame["user"].to_numpy(), frame["item"].to_numpy(), user_ids=np.arange(n_users),
                          item_ids=np.arange(n_items), timestamps=np.arange(len(frame), dtype=np.int64))
    train = sp.csr_matrix((np.ones(len(frame), dtype=np.float32), (frame["user"], frame["item"])),
                          shape=(n_users, n_items))
    train.sum_duplicates()
    train.data[:] = 1
    return SimpleNamespace(train=train, query=train[users], train_events=events, users=users, candidates=None)


# ---------------------------------------------------------------------- children
def worker(model, split_dir, out_dir, params):
    """Fit one recsys model on the split read back, recommend, write ids.npy and meta.json."""
    import torch

    from recsys.bench._registry import get_model
    from recsys.bench._runner import _fit_and_predict, _warm_up

    torch.set_num_threads(params.pop("threads"))
    k = params.pop("k")
    fold = read_split(Path(split_dir))
    spec = get_model(model)
    # The harness' untimed warm-up on a slice (numba kernels, lazy imports; none for sequence models), so
    # that neither the times nor the memory above rss_before count a process' one-time costs.
    _warm_up(spec, params, fold, k)
    estimator = spec.build(**params)
    rss_before = reset_peak()
    ids, fit_seconds, recommend_seconds = _fit_and_predict(estimator, "topn", fold, k, spec.input)
    np.save(Path(out_dir) / "ids.npy", np.asarray(ids, dtype=np.int64))
    history = getattr(estimator, "history_", None)
    meta = {"fit_seconds": fit_seconds, "recommend_seconds": recommend_seconds,
            "peak_rss": peak_rss(), "rss_before_fit": rss_before,
            "epochs": None if history is None else [{"seconds": r["seconds"], "loss": r["loss"],
                                                     "val_ndcg": r["val_ndcg"]} for r in history],
            "best_epoch": getattr(estimator, "best_epoch_", None), "torch_threads": torch.get_num_threads()}
    (Path(out_dir) / "meta.json").write_text(json.dumps(meta, indent=1))


def run_child(label, command, out_dir, threads, log):
    env = {**os.environ, **{name: str(threads) for name in (
        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with open(out_dir / "log.txt", "w") as output:
        result = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - started
    if result.returncode:
        log(f"{label}: failed (exit {result.returncode}); see {out_dir / 'log.txt'}:\n"
            + (out_dir / "log.txt").read_text()[-3000:])
        return None
    meta = json.loads((out_dir / "meta.json").read_text())
    meta.update(wall_seconds=wall, load_average_at_start=load, load_average_at_end=os.getloadavg()[0])
    return meta


def score(fold, ids):
    from recsys.bench._metrics import parse_metrics

    return {metric.label: float(np.nanmean(metric.per_user(fold.relevant, ids)))
            for metric in parse_metrics(list(METRICS), "topn")}


def model_params(model, args, seed=0):
    if model in MATRIX_MODELS:
        return {"als": {"n_factors": 128, "alpha": 1.0, "regularization": 10.0, "random_state": seed},
                "ease": {"l2": 200.0}}.get(model, {})
    base = LOSSES[PEERS.get(model, model)]
    shared = {**ARCHITECTURE, **base, "max_len": args.max_len, "lr": args.lr, "batch_size": args.batch_size,
              "epochs": args.epochs, "dropout": args.dropout, "lr_schedule": args.lr_schedule,
              "random_state": seed}
    if model in PEERS:
        return shared
    return {**shared, "intermediate_size": ARCHITECTURE["hidden_size"], "device": "cpu",
            "validation_fraction": args.validation_fraction, "patience": args.patience}


class Split(NamedTuple):
    """One data set's fold, as scored here, and the directory its children read it from."""

    name: str
    fold: object  # the harness' leave-last-out fold (a recsys.bench TopNFold), as write_split made it
    directory: Path


class ChildRuns:
    """Fits and scores each (model, seed) in a child process of its own, all with the same settings."""

    def __init__(self, args, workdir, log):
        self.args, self.workdir, self.log = args, workdir, log
        self.peer_runner = Path(__file__).resolve().parent / "peers" / "rectools_sasrec.py"

    def command(self, model, split, out_dir):
        """The child's command line: the peer's runner in its virtualenv, or this script as a worker."""
        params = str(out_dir / "params.json")
        if model in PEERS:
            return [self.args.peer_python, str(self.peer_runner), str(split.directory), str(out_dir), params]
        return [sys.executable, str(Path(__file__).resolve()), "--worker", model, str(split.directory),
                str(out_dir), params]

    def run(self, split, model, seed):
        """Fit and score one (model, seed) on a split; return its row, or None if the child failed."""
        out_dir = self.workdir / split.name / f"{model}-seed{seed}"
        out_dir.mkdir(parents=True, exist_ok=True)
        params = model_params(model, self.args, seed)
        (out_dir / "params.json").write_text(json.dumps({**params, "threads": self.args.threads, "k": 10}))
        label = f"{split.name} {model} seed {seed}"
        meta = run_child(label, self.command(model, split, out_dir), out_dir, self.args.threads, self.log)
        if meta is None:
            return None
        epochs = meta.get("epochs") or []
        row = {"dataset": split.name, "model": model, "seed": seed,
               **score(split.fold, np.load(out_dir / "ids.npy")), "params": params,
               "fit_seconds": meta["fit_seconds"], "recommend_seconds": meta["recommend_seconds"],
               "epochs_run": len(epochs) or None,
               "epoch_seconds": float(np.median([e["seconds"] for e in epochs])) if epochs else None,
               "losses": [e["loss"] for e in epochs], "val_ndcg": [e.get("val_ndcg") for e in epochs],
               "best_epoch": meta.get("best_epoch"),
               "peak_memory_mb": (meta["peak_rss"] - meta["rss_before_fit"]) / 2**20,
               "peak_rss_mb": meta["peak_rss"] / 2**20, "library": meta.get("library", "recsys"),
               "load_average": [meta["load_average_at_start"], meta["load_average_at_end"]]}
        epoch_text = "" if row["epoch_seconds"] is None else (
            f", {row['epochs_run']} epochs of {row['epoch_seconds']:.2f} s (median), "
            f"last loss {row['losses'][-1]:.4f}")
        self.log(f"{label}: NDCG@10 {row['ndcg@10']:.4f}, Recall@10 {row['recall@10']:.4f}, "
                 f"fit {row['fit_seconds']:.1f} s{epoch_text}, peak +{row['peak_memory_mb']:.0f} MB, "
                 f"load {row['load_average'][0]:.2f}-{row['load_average'][1]:.2f}")
        return row


def summary_table(rows):
    """Markdown rows: one per (data set, model), metrics as mean +- standard deviation over its seeds."""
    lines = ["| data set | model | seeds | NDCG@10 | Recall@10 | epochs | epoch s | fit s | peak MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    groups = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["model"]), []).append(row)

    def spread(values, digits):
        values = np.asarray(values, dtype=float)
        if len(values) == 1:
            return f"{values[0]:.{digits}f}"
        return f"{values.mean():.{digits}f} +- {values.std(ddof=1):.{digits}f}"

    for (dataset, model), group in groups.items():
        epoch_seconds = [row["epoch_seconds"] for row in group if row["epoch_seconds"] is not None]
        lines.append(
            f"| {dataset} | {model} | {len(group)} | {spread([r['ndcg@10'] for r in group], 4)} | "
            f"{spread([r['recall@10'] for r in group], 4)} | {group[0]['epochs_run'] or ''} | "
            f"{spread(epoch_seconds, 2) if epoch_seconds else ''} | {spread([r['fit_seconds'] for r in group], 1)} | "
            f"{spread([r['peak_memory_mb'] for r in group], 0)} |")
    return "\n".join(lines)


def comparison_table(rows):
    """Markdown rows: each of our sequential models against its peer on a data set, over their seeds.

    The ratio of the mean NDCG@10 and Welch's t-test of the two sets of seeds (unequal variances: the
    peer's seeds spread differently from ours), so that a gap smaller than the seeds' spread is not read
    as a result. Pairs with fewer than two seeds on either side get no test.
    """
    from scipy import stats

    lines = ["| data set | ours | peer | seeds (ours, peer) | NDCG@10 ours | NDCG@10 peer | ours / peer | Welch p |",
             "|---|---|---|---|---|---|---|---|"]
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        for peer, ours in PEERS.items():
            mine, theirs = ([row["ndcg@10"] for row in rows if row["dataset"] == dataset and row["model"] == model]
                            for model in (ours, peer))
            if not mine or not theirs:
                continue
            test = (f"{stats.ttest_ind(mine, theirs, equal_var=False).pvalue:.2f}"
                    if min(len(mine), len(theirs)) >= 2 else "")
            lines.append(f"| {dataset} | {ours} | {peer} | {len(mine)}, {len(theirs)} | {np.mean(mine):.4f} | "
                         f"{np.mean(theirs):.4f} | {np.mean(mine) / np.mean(theirs):.3f} | {test} |")
    return "\n".join(lines)


#: settings that output files written before their option existed ran at (read as such by --merge)
SETTINGS_ADDED_LATER = {"lr_schedule": "constant"}


def merged_rows(paths):
    """The rows of earlier ``--output`` files, for one table over seeds run by separate commands.

    Runs of one (data set, model) must share every setting but the seed, and a seed may appear once:
    otherwise the mean would mix settings or count a run twice, so both are refused.
    """
    rows, settings, seen = [], {}, set()
    for path in paths:
        for row in json.loads(Path(path).read_text())["rows"]:
            key = (row["dataset"], row["model"])
            params = {**SETTINGS_ADDED_LATER, **row["params"]}
            params.pop("random_state", None)
            if settings.setdefault(key, params) != params:
                raise ValueError(f"{path}: {key[1]} on {key[0]} ran with other settings than in an earlier file "
                                 f"({params} against {settings[key]}); merge runs of one setting at a time.")
            if (*key, row["seed"]) in seen:
                raise ValueError(f"{path}: {key[1]} on {key[0]} seed {row['seed']} is already in an earlier file; "
                                 "give each run once.")
            seen.add((*key, row["seed"]))
            rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ml-1m-partial", "movietweetings-100k"])
    parser.add_argument("--models", nargs="+",
                        default=["pop", "als", "ease", "sasrec", "gsasrec", "rectools-sasrec"])
    parser.add_argument("--epochs", type=int, default=100, help="epochs of every neural model (the same for all)")
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=ARCHITECTURE["dropout"],
                        help="every neural model's dropout (RecTools' default; the SASRec paper took 0.5 for its "
                             "sparse data sets)")
    parser.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                        help="the learning-rate schedule of every neural model, the peer's included "
                             "(default: constant, RecTools' only one and recsys' default)")
    parser.add_argument("--validation-fraction", type=float, default=0.0,
                        help="recsys' early-stopping slice; 0 (default) trains all epochs, as the peer does")
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="random_state of each run of a neural model (and ALS); the table gives their mean "
                             "and standard deviation: one seed of SASRec moved NDCG@10 on MovieTweetings by "
                             "0.007, more than some gaps between models")
    parser.add_argument("--peer-python", default="/work/venvs/rectools/bin/python")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=None, help="write the results here as JSON")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, metavar="OUTPUT",
                        help="run nothing: print the tables over the rows of earlier --output files (seeds run "
                             "by separate commands, one setting per model and data set)")
    # worker mode (internal): --worker MODEL SPLIT_DIR OUT_DIR PARAMS_JSON
    parser.add_argument("--worker", nargs=4, metavar=("MODEL", "SPLIT", "OUT", "PARAMS"))
    args = parser.parse_args(argv)
    if args.worker:
        model, split_dir, out_dir, params = args.worker
        worker(model, split_dir, out_dir, json.loads(Path(params).read_text()))
        return
    if args.merge:
        rows = merged_rows(args.merge)
        print(summary_table(rows) + "\n\n" + comparison_table(rows))
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sequential_peers_"))
    results = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": {"cpu_count": os.cpu_count(), "load_average_1min_start": os.getloadavg()[0]},
               "threads": args.threads, "rows": []}

    def log(message):
        print(message, flush=True)

    runs = ChildRuns(args, workdir, log)
    for name in args.datasets:
        directory = workdir / name / "split"
        split = Split(name, write_split(name, directory), directory)
        log(f"{name}: {json.loads((directory / 'split.json').read_text())}")
        for model in args.models:
            for seed in (args.seeds if model in SEEDED_MODELS else args.seeds[:1]):
                row = runs.run(split, model, seed)
                if row is None:
                    continue
                results["rows"].append(row)
                if args.output:
                    args.output.write_text(json.dumps(results, indent=1))
    results["machine"]["load_average_1min_end"] = os.getloadavg()[0]
    if args.output:
        args.output.write_text(json.dumps(results, indent=1))
    print("\n" + summary_table(results["rows"]) + "\n\n" + comparison_table(results["rows"]))


if __name__ == "__main__":
    main()
