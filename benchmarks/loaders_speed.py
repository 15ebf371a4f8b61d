"""Time recsys' `::`-file reader against pandas' python engine, and load_movielens("100k").

    RECSYS_DATA_HOME=../shared/data python benchmarks/loaders_speed.py
"""

import time

import pandas as pd

from recsys.datasets import get_data_home, load_movielens
from recsys.datasets._loaders import read_table

NAMES = ["user", "item", "rating", "timestamp"]


def best_time(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    ratings = get_data_home() / "movietweetings-100k" / "ratings.dat"
    ours = best_time(lambda: read_table(ratings, sep="::", names=NAMES, dtype={"item": str}), 5)
    pandas_python = best_time(
        lambda: pd.read_csv(ratings, sep="::", engine="python", names=NAMES, dtype={"item": str}), 5
    )
    movielens = best_time(lambda: load_movielens("100k", download=False), 3)
    print("| task | recsys | pandas python engine | speed-up |")
    print("|---|---|---|---|")
    print(f"| read movietweetings-100k ratings.dat (`::`) | {ours * 1000:.0f} ms "
          f"| {pandas_python * 1000:.0f} ms | {pandas_python / ours:.1f}x |")
    print(f"| load_movielens('100k') end to end (incl. side tables, verified) | {movielens * 1000:.0f} ms | - | - |")


if __name__ == "__main__":
    main()
