"""Fit time of recsys' ALS against implicit's AlternatingLeastSquares, interleaved.

The goal is a recsys/implicit fit-time ratio within 1.05 with identical
factors. On a shared machine a single pair of timings is noisy, so the two
fits alternate ``--repeats`` times on the same matrix, after one untimed
warm-up fit each, and the script reports the median wall and CPU time of
each (CPU time of the process, all threads: steadier on a busy machine) and
the ratios of medians.

    RECSYS_DATA_HOME=/work/shared/data python benchmarks/als_fit_ratio.py
    python benchmarks/als_fit_ratio.py --dataset synthetic --repeats 3
"""

import argparse
import statistics
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m-pairs", help="a registered data set")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-factors", "--factors", dest="n_factors", type=int, default=64)
    parser.add_argument("--n-epochs", "--iterations", dest="n_epochs", type=int, default=15)
    parser.add_argument("--alpha", type=float, default=5.0)
    parser.add_argument("--regularization", type=float, default=5.0)
    args = parser.parse_args(argv)

    from implicit.cpu.als import AlternatingLeastSquares

    from recsys.datasets import load_dataset
    from recsys.factorization import ALS
    from recsys.utils import limit_blas_threads

    X = load_dataset(args.dataset, download=False).to_csr().astype(np.float32)
    params = {"alpha": args.alpha, "regularization": args.regularization, "random_state": 0}

    def fit_recsys():
        return ALS(n_factors=args.n_factors, n_epochs=args.n_epochs, **params).fit(X).item_factors_

    def fit_implicit():
        with limit_blas_threads():
            model = AlternatingLeastSquares(factors=args.n_factors, iterations=args.n_epochs, **params)
            model.fit(X, show_progress=False)
        return model.item_factors

    # One untimed fit each first: imports, thread pools and page faults.
    fit_recsys(), fit_implicit()
    times = {"recsys": [], "implicit": []}
    cpu_times = {"recsys": [], "implicit": []}
    factors = {}
    for _ in range(args.repeats):
        for name, fit in (("recsys", fit_recsys), ("implicit", fit_implicit)):
            start, cpu_start = time.perf_counter(), time.process_time()
            factors[name] = fit()
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - cpu_start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu_times.items()}
    print(f"{args.dataset}: {X.shape[0]:,} users x {X.shape[1]:,} items, {X.nnz:,} interactions; "
          f"{params}")
    print("| library | median fit, wall (s) | median fit, CPU (s) | all fits, wall (s) |")
    print("|---|---:|---:|---|")
    for name, values in times.items():
        print(f"| {name} | {medians[name]:.2f} | {cpu_medians[name]:.2f} | "
              f"{', '.join(f'{v:.2f}' for v in values)} |")
    print(f"ratio recsys / implicit: wall {medians['recsys'] / medians['implicit']:.3f}, "
          f"CPU {cpu_medians['recsys'] / cpu_medians['implicit']:.3f}; "
          f"identical item factors: {np.array_equal(factors['recsys'], factors['implicit'])}")


if __name__ == "__main__":
    main()
