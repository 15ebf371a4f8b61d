"""Time recsys' ranking metrics against ranx and pytrec_eval on the same generated rankings.

Every user ranks 100 distinct items and has a few relevant ones (fixed seed).
Metrics are taken at k=10. ranx is warmed up first so that numba compile time
is left out; it is timed both on inputs already converted to its numba
structures ("metric only") and including the construction of its Qrels and
Run from the arrays ("incl. inputs"). pytrec_eval computes all five measures
in one call, so it is timed for the five together, as are ranx's ``evaluate``
with the five names and recsys' ``ranking_report``, which looks the
relevance up once for all metrics. recsys takes the arrays
as they are; its times include validation. The best of ``--repeats`` runs is
reported, except for input construction, which runs once.

Run as ``python benchmarks/metrics_speed.py [--users N] [--out FILE]``.
"""

import argparse
import time
from datetime import date

import numpy as np
import scipy.sparse as sp

from recsys.metrics import (
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_report,
    recall_at_k,
)

N_RANKED = 100
K = 10
# recsys function, ranx metric name, trec_eval measure.
METRICS = {
    "ndcg": (ndcg_at_k, "ndcg", "ndcg_cut"),
    "precision": (precision_at_k, "precision", "P"),
    "recall": (recall_at_k, "recall", "recall"),
    "map": (map_at_k, "map", "map_cut"),
    "mrr": (mrr_at_k, "mrr", None),
}


def make_rankings(n_users, n_items=2000, block=10_000, seed=0):
    """(y_true CSR, y_pred (n_users, 100)): 1-5 relevant items, half of them among the ranked."""
    rng = np.random.default_rng(seed)
    y_pred = np.empty((n_users, N_RANKED), dtype=np.int64)
    for start in range(0, n_users, block):
        keys = rng.random((min(block, n_users - start), n_items))
        y_pred[start:start + block] = np.argpartition(keys, N_RANKED, axis=1)[:, :N_RANKED]
    n_relevant = rng.integers(1, 6, n_users)
    users = np.repeat(np.arange(n_users), n_relevant)
    from_ranking = rng.random(len(users)) < 0.5
    items = np.where(from_ranking, y_pred[users, rng.integers(0, N_RANKED, len(users))],
                     rng.integers(0, n_items, len(users)))
    y_true = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=(n_users, n_items))
    y_true.data[:] = 1.0  # repeated draws of one item stay binary
    y_true.sum_duplicates()
    y_true.data[:] = 1.0
    return y_true, y_pred


def best_time(function, repeats):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def as_dicts(y_true, y_pred):
    """qrels and run as {user: {item: value}} with distinct decreasing scores."""
    qrels = {
        f"u{u}": {f"i{i}": 1 for i in y_true.indices[y_true.indptr[u]:y_true.indptr[u + 1]]}
        for u in range(y_true.shape[0])
    }
    scores = [float(N_RANKED - place) for place in range(N_RANKED)]
    run = {f"u{u}": dict(zip((f"i{i}" for i in ranked), scores)) for u, ranked in enumerate(y_pred.tolist())}
    return qrels, run


def time_ranx(y_true, y_pred, repeats):
    from ranx import Qrels, Run, evaluate

    small_qrels, small_run = as_dicts(y_true[:50], y_pred[:50])
    for _, name, _ in METRICS.values():  # numba compiles each metric on first use
        evaluate(Qrels(small_qrels), Run(small_run), f"{name}@{K}")
    start = time.perf_counter()
    qrels, run = as_dicts(y_true, y_pred)
    typed_qrels, typed_run = Qrels(qrels).to_typed_list(), Run(run).to_typed_list()
    build_seconds = time.perf_counter() - start
    results = {}
    for metric, (_, name, _) in METRICS.items():
        seconds, value = best_time(
            lambda name=name: evaluate(typed_qrels, typed_run, f"{name}@{K}", save_results_in_run=False),
            repeats,
        )
        results[metric] = (seconds, float(value))
    all_names = [f"{name}@{K}" for _, name, _ in METRICS.values()]
    together, _ = best_time(
        lambda: evaluate(typed_qrels, typed_run, all_names, save_results_in_run=False), repeats
    )
    return build_seconds, results, together


def time_pytrec_eval(y_true, y_pred):
    import pytrec_eval

    start = time.perf_counter()
    qrels, run = as_dicts(y_true, y_pred)
    measures = {f"{measure}.{K}" for _, _, measure in METRICS.values() if measure} | {"recip_rank"}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, measures)
    build_seconds = time.perf_counter() - start
    start = time.perf_counter()
    evaluator.evaluate(run)
    return build_seconds, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="also write the markdown section to this file")
    args = parser.parse_args(argv)

    y_true, y_pred = make_rankings(args.users)
    ours = {metric: best_time(lambda f=function: f(y_true, y_pred, k=K), args.repeats)
            for metric, (function, _, _) in METRICS.items()}
    ours_together, _ = best_time(lambda: ranking_report(y_true, y_pred, metrics=tuple(METRICS), ks=(K,)),
                                 args.repeats)
    ranx_build, ranx, ranx_together = time_ranx(y_true, y_pred, args.repeats)
    trec_build, trec_seconds = time_pytrec_eval(y_true, y_pred)

    lines = [
        (f"| metric@{K} | recsys (s) | ranx metric only (s) | ranx incl. inputs (s) "
        "| ranx / recsys, metric only | ranx / recsys, incl. inputs | recsys value | ranx value |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for metric, (seconds, value) in ours.items():
        ranx_seconds, ranx_value = ranx[metric]
        lines.append(
            f"| {metric} | {seconds:.3f} | {ranx_seconds:.3f} | {ranx_seconds + ranx_build:.1f} "
            f"| {ranx_seconds / seconds:.1f}x | {(ranx_seconds + ranx_build) / seconds:.0f}x "
            f"| {value:.6f} | {ranx_value:.6f} |"
        )
    ours_total = sum(seconds for seconds, _ in ours.values())
    ranx_total = sum(seconds for seconds, _ in ranx.values())
    lines.append(
        f"| all five | {ours_total:.3f} | {ranx_total:.3f} | {ranx_total + ranx_build:.1f} "
        f"| {ranx_total / ours_total:.1f}x | {(ranx_total + ranx_build) / ours_total:.0f}x | | |"
    )
    lines.append(
        f"| all five in one call (ranking_report / evaluate(list)) | {ours_together:.3f} "
        f"| {ranx_together:.3f} | {ranx_together + ranx_build:.1f} | {ranx_together / ours_together:.1f}x "
        f"| {(ranx_together + ranx_build) / ours_together:.0f}x | | |"
    )
    lines += [
        "",
        (f"pytrec_eval, all five measures in one call (P_{K}, recall_{K}, ndcg_cut_{K}, map_cut_{K}, "
        f"recip_rank): {trec_seconds:.2f} s metric only ({trec_seconds / ours_total:.0f}x recsys' five), "
        f"{trec_seconds + trec_build:.1f} s incl. building its dicts and evaluator "
        f"({(trec_seconds + trec_build) / ours_total:.0f}x)."),
    ]
    table = "\n".join(lines)
    command = "python benchmarks/metrics_speed.py" + ("" if args.users == 100_000 else f" --users {args.users}")
    section = (
        "## Ranking metrics: recsys vs ranx and pytrec_eval\n\n"
        f"{args.users:,} users x {N_RANKED} ranked items (generated, seed 0, 1-5 relevant items per user), "
        f"metrics at k={K}; best of {args.repeats} runs; ranx warmed up (numba compile excluded) and "
        "running on all cores, as are recsys' numba kernels (one BLAS thread).\n"
        f"Machine: 2-core x86-64 VM, 24 GiB. Date: {date(2026, 11, 23).isoformat()}.\n"
        f"Command: `{command}`\n\n{table}\n"
    )
    print(section)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(section)


if __name__ == "__main__":
    main()
