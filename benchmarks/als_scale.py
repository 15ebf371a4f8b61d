"""ALS at MovieLens-20M scale: fit, then top-10 for every user, with time and peak RSS.

Generates a users x items matrix of MovieLens-20M shape (138,000 users, 27,000
items, about 20 million interactions) with a cheap vectorised generator:
long-tailed (log-normal) user activity and Zipf item popularity, exactly the
requested number of distinct (user, item) pairs, built a chunk of users at a
time so that the generator's temporaries do not set the peak memory. No latent
structure: this measures cost, not quality.

Then fits recsys.factorization.ALS and calls ``recommend(X, n=10)`` for every
user (fold-in of each row, as the API always does), recording wall time and
the process' CPU time (``resource.getrusage``) and peak resident set size (VmHWM)
after each step,
against the size of the CSR matrix and of the factors. With ``--peer`` it also
fits implicit's AlternatingLeastSquares directly on the same matrix, for the
fit-time ratio.

    python benchmarks/als_scale.py                      # full size, 15 iterations
    python benchmarks/als_scale.py --n-epochs 5         # shorter
    python benchmarks/als_scale.py --users 13800 --items 2700 --interactions 2000000
"""

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp


def generate(n_users, n_items, n_interactions, random_state=0, chunk_users=10_000):
    """A float32 CSR users x items matrix with exactly ``n_interactions`` distinct pairs.

    User activity is log-normal and item popularity Zipf(0.8); every user's
    items are drawn by popularity without replacement (duplicates are redrawn),
    ``chunk_users`` users at a time so the temporaries stay small beside the
    matrix itself.
    """
    if n_interactions > n_users * n_items:
        raise ValueError(f"{n_interactions:,} distinct pairs do not fit in {n_users:,} x {n_items:,}.")
    rng = np.random.default_rng(random_state)
    activity = rng.lognormal(0.0, 1.0, n_users)
    counts = 1 + rng.multinomial(n_interactions - n_users, activity / activity.sum())
    while (overflow := np.maximum(counts - n_items, 0)).any():
        counts -= overflow
        room = n_items - counts
        counts += rng.multinomial(overflow.sum(), room / room.sum())
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity = popularity[rng.permutation(n_items)]
    popularity /= popularity.sum()

    # Redrawing duplicates converges fast for users who want a small share of the
    # catalogue; the few heavy users take an exact weighted sample without replacement
    # instead (Gumbel top-k over all items).
    heavy = counts > n_items // 8
    indices = [None] * n_users
    for user in np.flatnonzero(heavy):
        keys = np.log(popularity) + rng.gumbel(size=n_items)
        indices[user] = np.sort(np.argpartition(-keys, counts[user] - 1)[:counts[user]])
    light = np.flatnonzero(~heavy)
    for start in range(0, len(light), chunk_users):
        users = light[start:start + chunk_users]
        wanted = counts[users]
        rows = np.arange(len(users), dtype=np.int64)
        keys = np.empty(0, dtype=np.int64)
        missing = wanted
        while missing.any():
            drawn_rows = np.repeat(rows, missing)
            keys = _sorted_unique(np.concatenate(
                [keys, drawn_rows * n_items + rng.choice(n_items, len(drawn_rows), p=popularity)]))
            missing = wanted - np.bincount(keys // n_items, minlength=len(users))
        # The keys are sorted, so each row's items come out sorted, as CSR wants them.
        bounds = np.cumsum(wanted)[:-1]
        for user, row_items in zip(users, np.split((keys % n_items).astype(np.int32), bounds)):
            indices[user] = row_items
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.concatenate(indices).astype(np.int32, copy=False)
    return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                         shape=(n_users, n_items))


def _sorted_unique(values):
    # np.unique's hash-based path is ~30x slower than a sort for these int64 keys.
    values.sort()
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def peak_rss_mib(pid="self"):
    """Peak RSS (VmHWM) of a process, in MiB, from /proc (Linux).

    Not ``ru_maxrss``: Linux carries it over ``execve``, so a Dask worker that
    its nanny spawns (fork + exec) would start with the peak of the process it
    came from. The other benchmarks send this function to Dask workers by value.
    """
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds():
    """User + system CPU time of the process, all threads: robust to a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Step:
    """Time a step in wall-clock and CPU seconds, and note the peak RSS after it."""

    def __init__(self, rows, name):
        self.rows, self.name = rows, name

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc_info):
        self.wall_seconds = time.perf_counter() - self.wall
        self.rows.append((self.name, self.wall_seconds, cpu_seconds() - self.cpu, peak_rss_mib()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=138_000)
    parser.add_argument("--items", type=int, default=27_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--n-factors", "--factors", dest="n_factors", type=int, default=64)
    parser.add_argument("--n-epochs", "--iterations", dest="n_epochs", type=int, default=15)
    parser.add_argument("--alpha", type=float, default=5.0)
    parser.add_argument("--peer", action="store_true", help="also fit implicit's ALS directly")
    args = parser.parse_args(argv)

    from recsys.factorization import ALS
    from recsys.utils import limit_blas_threads

    rows = [("start (imports)", 0.0, 0.0, peak_rss_mib())]
    with Step(rows, "generate matrix"):
        X = generate(args.users, args.items, args.interactions)
    csr_mib = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20

    model = ALS(n_factors=args.n_factors, n_epochs=args.n_epochs, alpha=args.alpha,
                regularization=1.0, random_state=0)
    with Step(rows, f"recsys ALS fit ({args.n_epochs} iterations)") as fit_step:
        model.fit(X)
    factors_mib = (model.user_factors_.nbytes + model.item_factors_.nbytes) / 2**20

    with Step(rows, "recommend top-10, every user (fold-in)"):
        ids, _ = model.recommend(X, n=10)
    assert ids.shape == (X.shape[0], 10)

    if args.peer:
        from implicit.cpu.als import AlternatingLeastSquares

        with Step(rows, f"implicit ALS fit ({args.n_epochs} iterations)") as peer_step, \
                limit_blas_threads():
            peer = AlternatingLeastSquares(factors=args.n_factors, iterations=args.n_epochs,
                                           alpha=args.alpha, regularization=1.0, random_state=0)
            peer.fit(X, show_progress=False)
        same = np.array_equal(peer.item_factors, model.item_factors_)

    print(f"matrix: {X.shape[0]:,} users x {X.shape[1]:,} items, {X.nnz:,} interactions; "
          f"factors={args.n_factors}, alpha={args.alpha}")
    print(f"CSR {csr_mib:.0f} MiB, factors {factors_mib:.0f} MiB, "
          f"together {csr_mib + factors_mib:.0f} MiB")
    print("| step | wall time (s) | CPU time (s) | peak RSS so far (MiB) |")
    print("|---|---:|---:|---:|")
    for step, wall, cpu, rss in rows:
        print(f"| {step} | {wall:.1f} | {cpu:.1f} | {rss:,.0f} |")
    if args.peer:
        print(f"fit time recsys / implicit: {fit_step.wall_seconds / peer_step.wall_seconds:.3f}; "
              f"identical item factors: {same}")


if __name__ == "__main__":
    main()
