"""BiasedMF's fit under libgomp's wait settings, quiet and beside three busy processes.

numba's OpenMP layer (libgomp) decides at start-up how long a thread spins at a
barrier before it sleeps, so each setting runs in a fresh process:

    python benchmarks/openmp_spin.py --data-home <data home>

prints, for libgomp's default (300,000 spins), ``OMP_WAIT_POLICY=PASSIVE`` (never
spin) and ``GOMP_SPINCOUNT=10000`` (recsys' default), the median fit time of
``BiasedMF(random_state=0)`` on ML-100K's u1.base with 2 threads on idle cores, then
with 2 and 1 threads beside 3 processes that spin on any core.
"""

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

SETTINGS = {
    "libgomp default (300,000 spins)": {"OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": ""},
    "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "GOMP_SPINCOUNT=10000 (recsys' default)": {},
}


def spin():
    while True:
        pass


def measure(data_home):
    """Run in the child process: print quiet 2-thread, loaded 2-thread and loaded 1-thread medians."""
    import pandas as pd

    import recsys  # noqa: F401  (sets GOMP_SPINCOUNT unless the environment chose)
    from recsys.datasets import get_data_home
    from recsys.factorization import BiasedMF

    names = ["user", "item", "rating", "timestamp"]
    data = pd.read_csv(get_data_home(data_home) / "ml-100k" / "u1.base", sep="\t", names=names)
    X, y = data[["user", "item"]], data["rating"].to_numpy(float)
    BiasedMF(random_state=0, n_threads=2).fit(X, y)  # compile, load caches, start the thread pool

    def median_fit(n_threads, repeats):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            BiasedMF(random_state=0, n_threads=n_threads).fit(X, y)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    quiet = median_fit(2, 7)
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(3)]
    for process in spinners:
        process.start()
    time.sleep(0.5)
    loaded_two, loaded_one = median_fit(2, 3), median_fit(1, 3)
    for process in spinners:
        process.terminate()
    print(f"{quiet:.3f} {loaded_two:.3f} {loaded_one:.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        measure(args.data_home)
        return
    print("| OpenMP setting | quiet, 2 threads | 3 busy processes, 2 threads | 3 busy, 1 thread |")
    print("| --- | ---: | ---: | ---: |")
    for label, settings in SETTINGS.items():
        environment = {key: value for key, value in os.environ.items()
                       if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
        # An empty OMP_WAIT_POLICY keeps recsys from choosing; libgomp then uses its default.
        environment.update(settings)
        command = [sys.executable, __file__, "--child"] + (["--data-home", args.data_home] if args.data_home else [])
        result = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
        quiet, loaded_two, loaded_one = result.stdout.split()
        print(f"| {label} | {quiet} s | {loaded_two} s | {loaded_one} s |")


if __name__ == "__main__":
    main()
