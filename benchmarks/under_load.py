"""recsys' multi-threaded kernels against their peers, on quiet cores and beside a busy process.

Issue 10 found BiasedMF's stratified parallel SGD 14x Surprise's SVD on a quiet
2-core machine but 1.1x while other processes kept the cores busy. This script
times every multi-threaded kernel (BiasedMF and SVD++ fits, the k-NN rating
predictor's fit and predict, the ranking metrics) and its peer twice in one run: first quiet,
then with ``--busy`` processes spinning, each pinned to one core (core 0, 1, ...),
and prints both ratios side by side. Times are the median of ``--repeats``
runs after one untimed warm-up run (numba compile and cache loading excluded).

Run as ``python benchmarks/under_load.py [--data-home DIR] [--repeats 5] [--busy 1]``.
ML-100K's u1.base/u1.test are used when found in the data home, else a
generated data set of the same shape.
"""

import argparse
import multiprocessing
import os
import platform
import statistics
import time
from datetime import date


def spin(core):
    """Keep one core busy until terminated."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    while True:
        pass


def median_time(function, repeats):
    function()  # warm-up: compile, load caches, fault pages in
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rating_data(data_home):
    import pandas as pd

    try:
        from recsys.datasets import get_data_home

        folder = get_data_home(data_home) / "ml-100k"
        names = ["user", "item", "rating", "timestamp"]
        train = pd.read_csv(folder / "u1.base", sep="\t", names=names)
        test = pd.read_csv(folder / "u1.test", sep="\t", names=names)
        source = "ML-100K u1.base/u1.test"
    except (FileNotFoundError, OSError):
        from recsys.datasets import make_ratings

        data = make_ratings(943, 1682, n_ratings=100_000, random_state=0).to_pandas()
        train, test = data.iloc[:80_000], data.iloc[80_000:]
        source = "generated, 943 x 1682, 100,000 ratings"
    return (train[["user", "item"]], train["rating"].to_numpy(dtype=float),
            test[["user", "item"]], source)


def workloads(data_home):
    """(name, recsys callable, peer name, peer callable) for each multi-threaded kernel."""
    import warnings

    from recsys.bench.peers.surprise import SurpriseRatingPredictor
    from recsys.bench.peers.surprise_knn import SurpriseNeighbourhoodPredictor
    from recsys.factorization import BiasedMF, SVDpp
    from recsys.metrics import ndcg_at_k
    from recsys.neighbors import KNNBasic

    X, y, X_test, source = rating_data(data_home)
    # The generator of metrics_speed.py (this folder is on sys.path when the script runs), in
    # blocks of users: one dense 100,000 x 2,000 draw left the heap fragmented and slowed what followed.
    from metrics_speed import make_rankings

    y_true, y_pred = make_rankings(100_000)

    def fit_predict(model, predict=True):
        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X, y)
                if predict:
                    model.predict(X_test)
        return run

    def ranx_ndcg():
        # As in metrics_speed.py: ranx's own typed inputs built once, the metric alone timed.
        from ranx import Qrels, Run, evaluate

        qrels = {str(u): {str(i): 1 for i in y_true[u].indices} for u in range(y_true.shape[0])}
        run = {str(u): {str(i): float(len(row) - r) for r, i in enumerate(row)} for u, row in enumerate(y_pred)}
        typed_qrels, typed_run = Qrels(qrels).to_typed_list(), Run(run).to_typed_list()
        return lambda: evaluate(typed_qrels, typed_run, "ndcg@10", save_results_in_run=False)

    return source, [
        # The parallel SGD is in fit; KNNBasic's neighbour averaging is in predict.
        ("BiasedMF fit", fit_predict(BiasedMF(random_state=0), predict=False),
         "Surprise SVD", fit_predict(SurpriseRatingPredictor("SVD", {"random_state": 0}), predict=False)),
        ("SVD++ fit (2 epochs)", fit_predict(SVDpp(n_epochs=2, random_state=0), predict=False),
         "Surprise SVDpp (2 epochs)",
         fit_predict(SurpriseRatingPredictor("SVDpp", {"n_epochs": 2, "random_state": 0}), predict=False)),
        ("KNNBasic fit + predict", fit_predict(KNNBasic()),
         "Surprise KNNBasic", fit_predict(SurpriseNeighbourhoodPredictor("KNNBasic", {"verbose": False}))),
        ("ndcg@10, 100,000 users", lambda: ndcg_at_k(y_true, y_pred, k=10),
         "ranx ndcg@10 (metric only)", ranx_ndcg()),
    ]


def measure(tasks, repeats):
    return [(median_time(ours, repeats), median_time(peer, repeats)) for _, ours, _, peer in tasks]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", type=int, default=1, help="busy processes in the loaded run")
    args = parser.parse_args(argv)

    source, tasks = workloads(args.data_home)
    quiet = measure(tasks, args.repeats)
    spinners = [multiprocessing.Process(target=spin, args=(core % os.cpu_count(),), daemon=True)
                for core in range(args.busy)]
    for process in spinners:
        process.start()
    try:
        time.sleep(1.0)  # let the spinners get scheduled before timing
        loaded = measure(tasks, args.repeats)
    finally:
        for process in spinners:
            process.terminate()
            process.join()

    print(f"## Multi-threaded kernels, quiet and beside {args.busy} busy process(es)\n")
    print(f"Data: {source}. Median of {args.repeats} runs after a warm-up; {date.today()}, "
          f"{platform.machine()}, {os.cpu_count()} cores.\n")
    print("| kernel | peer | recsys quiet (s) | peer quiet (s) | ratio quiet "
          "| recsys loaded (s) | peer loaded (s) | ratio loaded |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, _, peer, _), (ours_q, peer_q), (ours_l, peer_l) in zip(tasks, quiet, loaded):
        print(f"| {name} | {peer} | {ours_q:.3f} | {peer_q:.3f} | {peer_q / ours_q:.1f}x "
              f"| {ours_l:.3f} | {peer_l:.3f} | {peer_l / ours_l:.1f}x |")


if __name__ == "__main__":
    main()
