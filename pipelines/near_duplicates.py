"""Find near-duplicate items: items whose sets of raters (or taggers) nearly coincide.

Runs MinHash LSH over each item's set of users, verifies the candidate pairs
with exact Jaccard similarity and prints the groups of near-duplicates.

    python pipelines/near_duplicates.py --data generated --threshold 0.8
    python pipelines/near_duplicates.py --data ml-100k --threshold 0.5 --min-raters 20
    python pipelines/near_duplicates.py --data ml-latest-small --by tags --threshold 0.6

MovieLens is read from RECSYS_DATA_HOME (never shipped with recsys).
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.datasets import make_interactions
from recsys.hashing import find_near_duplicates


def generated_items(n_users=2000, n_items=600, n_copies=40, random_state=0):
    """Items x users sets from generated data, with n_copies planted near-copies.

    Returns the item sets, item names and the planted (original, copy) pairs.
    """
    rng = np.random.default_rng(random_state)
    users_by_item = make_interactions(n_users, n_items, density=0.03,
                                      random_state=random_state).to_csr().T.tocsr()
    users_by_item.data[:] = 1
    popular = np.flatnonzero(np.diff(users_by_item.indptr) >= 30)
    originals = rng.choice(popular, min(n_copies, len(popular)), replace=False)
    copies = []
    for item in originals:
        raters = users_by_item[item].indices
        # A copy keeps 95% of the raters: Jaccard about 0.95 with its original.
        kept = rng.choice(raters, round(0.95 * len(raters)), replace=False)
        copies.append(sp.csr_matrix((np.ones(len(kept)), (np.zeros(len(kept), int), kept)),
                                    shape=(1, n_users)))
    items = sp.vstack([users_by_item, *copies], format="csr")
    # Items nobody interacted with may be missing from the generated matrix.
    n_generated = users_by_item.shape[0]
    names = [f"item {i}" for i in range(n_generated)] + [f"copy of item {i}" for i in originals]
    planted = {(int(item), n_generated + k) for k, item in enumerate(originals)}
    return items, names, planted


def movielens_items(name, by, min_raters, data_home):
    """Items x users sets of a MovieLens folder under data_home, and the movie titles."""
    folder = Path(data_home) / name
    if name == "ml-100k":
        if by != "raters":
            raise SystemExit("ml-100k has no tags; use --by raters")
        events = pd.read_csv(folder / "u.data", sep="\t", names=["user", "item", "rating", "time"])
        titles = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1",
                             usecols=[0, 1], names=["item", "title"]).set_index("item")["title"]
    else:
        events = pd.read_csv(folder / ("tags.csv" if by == "tags" else "ratings.csv"))
        events = events.rename(columns={"userId": "user", "movieId": "item"})
        titles = pd.read_csv(folder / "movies.csv").set_index("movieId")["title"]
    events = events.drop_duplicates(["user", "item"])
    counts = events["item"].value_counts()
    events = events[events["item"].isin(counts.index[counts >= min_raters])]
    item_codes, items = pd.factorize(events["item"], sort=True)
    user_codes, users = pd.factorize(events["user"])
    sets = sp.csr_matrix((np.ones(len(events), dtype=np.int8), (item_codes, user_codes)),
                         shape=(len(items), len(users)))
    return sets, [str(titles.get(item, item)) for item in items]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="generated",
                        help="generated, ml-100k or ml-latest-small (from RECSYS_DATA_HOME)")
    parser.add_argument("--by", choices=["raters", "tags"], default="raters")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--min-raters", type=int, default=10,
                        help="ignore items with fewer users (tiny sets coincide by chance)")
    parser.add_argument("--n-perm", type=int, default=128)
    parser.add_argument("--show", type=int, default=10, help="groups printed")
    args = parser.parse_args(argv)

    planted = None
    if args.data == "generated":
        sets, names, planted = generated_items()
    else:
        data_home = os.environ.get("RECSYS_DATA_HOME", "../shared/data")
        sets, names = movielens_items(args.data, args.by, args.min_raters, data_home)

    start = time.perf_counter()
    groups = find_near_duplicates(sets, threshold=args.threshold, n_perm=args.n_perm)
    seconds = time.perf_counter() - start
    print(f"{sets.shape[0]} items, {sets.nnz} (item, user) pairs: {len(groups)} group(s) of "
          f"near-duplicates at Jaccard >= {args.threshold} in {seconds:.2f} s")
    for group in groups[:args.show]:
        print("  - " + " | ".join(names[i] for i in group))
    if planted is not None:
        found = {(int(a), int(b)) for group in groups for a in group for b in group if a < b}
        print(f"planted near-copies found: {len(planted & found)} of {len(planted)}")
    return groups, planted


if __name__ == "__main__":
    main()
