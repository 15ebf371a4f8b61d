"""PairFeatures on 10 million candidate pairs: wall time and peak memory.

Generates training events (users x items with Zipf item popularity, ratings
1-5, integer timestamps; repeated pairs are repeated events) and a table of
candidate pairs as a two-stage recommender would rerank them: ``--candidate-users``
users with ``--candidates`` items each (10 million pairs by default), about 1%
of them with a user or item unseen in fit. Then:

1. ``PairFeatures(models=())``: counts, rating mean/std, popularity rank and
   the two recency features (9 columns);
2. with ``--model itemknn`` (the default) also ``ItemKNN(k=50)``'s score and
   rank of every pair (the full score row of each candidate user, in blocks).

Each stage reports fit and transform wall time (transform twice: the first
call also pays for mapping fresh memory), the process' peak
resident set size (``resource.getrusage``, monotone over the run) and, in a
second untimed pass with ``--trace``, the ``tracemalloc`` peak of transform
alone (numpy's allocations included).

    python benchmarks/pair_features_speed.py
    python benchmarks/pair_features_speed.py --pairs 1000000 --model none
"""

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd


def generate_events(n_users, n_items, n_events, random_state=0):
    rng = np.random.default_rng(random_state)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    items = rng.choice(n_items, size=n_events, p=popularity / popularity.sum())
    users = rng.integers(0, n_users, size=n_events)
    return pd.DataFrame({
        "user": users,
        "item": rng.permutation(n_items)[items],
        "rating": rng.integers(1, 6, size=n_events).astype(np.float64),
        "timestamp": rng.integers(0, 10**8, size=n_events),
    })


def generate_candidates(n_users, n_items, n_candidate_users, n_pairs, random_state=1):
    rng = np.random.default_rng(random_state)
    per_user = n_pairs // n_candidate_users
    users = np.repeat(rng.choice(n_users, size=n_candidate_users, replace=False), per_user)
    items = rng.integers(0, n_items, size=len(users))
    unknown = rng.random(len(users)) < 0.01
    # Half of the unseen pairs get a new user, half a new item.
    users[unknown & (rng.random(len(users)) < 0.5)] = n_users + 7
    items[unknown & (users != n_users + 7)] = n_items + 3
    return pd.DataFrame({"user": users, "item": items,
                         "timestamp": rng.integers(10**8, 2 * 10**8, size=len(users))})


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_stage(label, make_transformer, events, pairs, trace):
    start = time.perf_counter()
    transformer = make_transformer().fit(events)
    fitted = time.perf_counter()
    features = transformer.transform(pairs)
    done = time.perf_counter()
    print(f"{label}: fit {fitted - start:.1f} s, transform {done - fitted:.1f} s "
          f"({len(pairs) / (done - fitted) / 1e6:.2f} M pairs/s), output {features.shape} "
          f"{features.nbytes / 2**20:.0f} MiB, peak RSS so far {peak_rss_mib():.0f} MiB")
    del features
    again = time.perf_counter()
    transformer.transform(pairs)
    print(f"{label}: transform again {time.perf_counter() - again:.1f} s (memory already mapped)")
    if trace:
        tracemalloc.start()
        transformer.transform(pairs)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{label}: tracemalloc peak of transform {peak / 2**20:.0f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--candidate-users", type=int, default=20_000)
    parser.add_argument("--model", choices=("itemknn", "none"), default="itemknn")
    parser.add_argument("--trace", action="store_true", help="also report tracemalloc's peak")
    args = parser.parse_args()

    from recsys.neighbors import ItemKNN
    from recsys.preprocessing import PairFeatures

    print(f"after imports: peak RSS {peak_rss_mib():.0f} MiB")
    events = generate_events(args.users, args.items, args.events)
    pairs = generate_candidates(args.users, args.items, args.candidate_users, args.pairs)
    print(f"{len(events):,} events, {len(pairs):,} candidate pairs "
          f"({pairs.memory_usage().sum() / 2**20:.0f} MiB); peak RSS {peak_rss_mib():.0f} MiB")
    run_stage("statistics + time", PairFeatures, events, pairs, args.trace)
    if args.model == "itemknn":
        run_stage("statistics + time + ItemKNN(k=50)",
                  lambda: PairFeatures(models=[ItemKNN(k=50)]), events, pairs, args.trace)


if __name__ == "__main__":
    main()
