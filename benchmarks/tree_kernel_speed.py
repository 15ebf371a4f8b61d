"""predict_proba of a fitted HistGradientBoostingClassifier against the saved-tree kernel of TwoStageRecommender.

Usage: python benchmarks/tree_kernel_speed.py [--rows 100000] [--trees 200]

TwoStageRecommender saves its default ranker as flat tree arrays
(recsys.ensemble._ranker_state.HistGradientBoostingTrees) and scores them
after load with a numba kernel; this measures both on the same rows, twice
each, alternating, after one call of each to compile and warm up, and
checks the probabilities are the same floats.
"""

import argparse
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from recsys.ensemble._ranker_state import HistGradientBoostingTrees


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trees", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 12))
    y = (X[:, 0] + X[:, 1] ** 2 + rng.normal(size=len(X)) > 1).astype(np.int8)
    classifier = HistGradientBoostingClassifier(max_iter=args.trees, learning_rate=0.05, random_state=0).fit(X, y)
    trees = HistGradientBoostingTrees().fit(classifier)
    rows = rng.normal(size=(args.rows, X.shape[1]))
    rows[rng.random(rows.shape) < 0.05] = np.nan
    readers = {"HistGradientBoostingClassifier.predict_proba": classifier.predict_proba,
               "HistGradientBoostingTrees.predict_proba": trees.predict_proba}
    for predict in readers.values():
        predict(rows[:100])
    best = dict.fromkeys(readers, np.inf)
    for _ in range(2):
        for name, predict in readers.items():
            start = time.perf_counter()
            predict(rows)
            best[name] = min(best[name], time.perf_counter() - start)
    same = np.array_equal(classifier.predict_proba(rows), trees.predict_proba(rows))
    for name, seconds in best.items():
        print(f"{name}: {seconds:.3f} s for {args.rows} rows x {classifier.n_iter_} trees")
    print(f"ratio sklearn / kernel: {best['HistGradientBoostingClassifier.predict_proba'] / best['HistGradientBoostingTrees.predict_proba']:.2f}; identical: {same}")


if __name__ == "__main__":
    main()
