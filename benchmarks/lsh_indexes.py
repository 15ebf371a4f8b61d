"""LSH indexes: build time, query throughput and recall against exact neighbours, with peers.

In one run, on generated data:

- Jaccard: recsys MinHashLSH against datasketch.MinHashLSH with the same
  (bands, rows), recall of the sets at or above the threshold; recsys
  MinHashLSHForest against datasketch.MinHashLSHForest, top-10 recall;
- cosine: recsys CosineLSH against faiss.IndexLSH, top-10 recall;
- Euclidean: recsys EuclideanLSH against exact search, top-10 recall;
- the theoretical S-curve 1 - (1 - s^r)^b against the measured share of
  pairs of each Jaccard similarity that became candidates, as a plot.

Times are CPU seconds of this process (the machine's cores are shared).

    python benchmarks/lsh_indexes.py --n-base 1000 --plot /tmp/recsys_results/lsh_s_curve.png
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp


def cpu_timed(function):
    start = time.process_time()
    result = function()
    return time.process_time() - start, result


def jaccard_family(n_base, variants, size, vocabulary, seed):
    """Base sets and, per base, variants whose Jaccard with it spreads over [0, 1]."""
    rng = np.random.default_rng(seed)
    rows, next_token = [], vocabulary
    for _ in range(n_base):
        base = rng.choice(vocabulary, size, replace=False)
        rows.append(base)
        for target in rng.uniform(0.0, 1.0, variants):
            # Keeping m of the size tokens and adding size - m new ones gives
            # Jaccard m / (2 size - m).
            kept = round(2 * size * target / (1 + target))
            fresh = np.arange(next_token, next_token + size - kept)
            next_token += size - kept
            rows.append(np.concatenate([rng.choice(base, kept, replace=False), fresh]))
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    matrix = sp.csr_matrix((np.ones(indptr[-1], dtype=np.int8), np.concatenate(rows), indptr),
                           shape=(len(rows), next_token))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix, np.arange(0, len(rows), variants + 1)


def exact_jaccard(queries, X):
    from recsys.hashing import pairwise_jaccard

    return pairwise_jaccard(queries, X)


def bench_minhash_lsh(X, query_rows, threshold, n_perm, report):
    import datasketch

    from recsys.hashing import MinHasher, MinHashLSH, candidate_probability

    signatures = MinHasher(n_perm=n_perm).fit_transform(X)
    queries = signatures[query_rows]
    truth = exact_jaccard(X[query_rows], X)
    relevant = truth >= threshold

    build, index = cpu_timed(lambda: MinHashLSH(threshold=threshold, n_perm=n_perm).fit(signatures))
    search, candidates = cpu_timed(lambda: index.query(queries))
    bands, rows = index.bands_, index.rows_

    minhashes = [datasketch.MinHash(num_perm=n_perm, hashvalues=s, scheme="affine32") for s in signatures]

    def build_datasketch():
        lsh = datasketch.MinHashLSH(num_perm=n_perm, params=(bands, rows))
        with lsh.insertion_session() as session:
            for key, minhash in enumerate(minhashes):
                session.insert(key, minhash, check_duplication=False)
        return lsh

    peer_build, lsh = cpu_timed(build_datasketch)
    peer_search, peer_candidates = cpu_timed(lambda: [lsh.query(minhashes[q]) for q in query_rows])

    def recall(found):
        hits = sum(relevant[i, list(c)].sum() for i, c in enumerate(found))
        return hits / max(relevant.sum(), 1)

    identical = all(sorted(a) == sorted(b) for a, b in zip(candidates, peer_candidates))
    report.append(("Jaccard", f"MinHashLSH t={threshold} (b={bands}, r={rows})", "recsys",
                   build, len(query_rows) / search, recall(candidates)))
    report.append(("Jaccard", "", "datasketch MinHashLSH", peer_build,
                   len(query_rows) / peer_search, recall(peer_candidates)))

    # The S-curve: which share of (query, set) pairs of each similarity became candidates.
    is_candidate = np.zeros_like(relevant)
    for i, found in enumerate(candidates):
        is_candidate[i, found] = True
    edges = np.linspace(0, 1, 21)
    bins = np.clip(np.digitize(truth.ravel(), edges) - 1, 0, len(edges) - 2)
    counts = np.bincount(bins, minlength=len(edges) - 1)
    hits = np.bincount(bins, weights=is_candidate.ravel(), minlength=len(edges) - 1)
    centres = (edges[:-1] + edges[1:]) / 2
    measured = np.divide(hits, counts, out=np.full(len(counts), np.nan), where=counts > 0)
    curve = (centres, measured, counts, candidate_probability(centres, bands, rows), bands, rows)
    return identical, curve


def bench_forest(X, query_rows, n_perm, k, report):
    import datasketch

    from recsys.hashing import MinHasher, MinHashLSHForest

    signatures = MinHasher(n_perm=n_perm).fit_transform(X)
    truth = exact_jaccard(X[query_rows], X)
    top = np.argsort(-truth, axis=1, kind="stable")[:, :k]

    build, forest = cpu_timed(lambda: MinHashLSHForest(n_perm=n_perm, n_trees=8).fit(signatures))
    search, (_, keys) = cpu_timed(lambda: forest.kneighbors(signatures[query_rows], n_neighbors=k))
    minhashes = [datasketch.MinHash(num_perm=n_perm, hashvalues=s, scheme="affine32") for s in signatures]

    def build_datasketch():
        peer = datasketch.MinHashLSHForest(num_perm=n_perm, l=8)
        for key, minhash in enumerate(minhashes):
            peer.add(key, minhash)
        peer.index()
        return peer

    peer_build, peer = cpu_timed(build_datasketch)
    peer_search, peer_keys = cpu_timed(lambda: [peer.query(minhashes[q], k) for q in query_rows])

    def recall(found):
        return np.mean([len(set(top[i]) & {f for f in found[i] if f is not None}) / k
                        for i in range(len(query_rows))])

    report.append(("Jaccard top-10", "MinHashLSHForest (8 trees)", "recsys", build,
                   len(query_rows) / search, recall(keys)))
    report.append(("Jaccard top-10", "", "datasketch MinHashLSHForest", peer_build,
                   len(query_rows) / peer_search, recall(peer_keys)))


def bench_cosine(n_points, dimension, n_queries, k, seed, report):
    import faiss

    from recsys.hashing import CosineLSH

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_points // 20, dimension))
    X = (centres[rng.integers(0, len(centres), n_points)]
         + 0.5 * rng.standard_normal((n_points, dimension))).astype(np.float32)
    queries = X[:n_queries] + 0.1 * rng.standard_normal((n_queries, dimension)).astype(np.float32)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    top = np.argsort(-(queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ unit.T, axis=1)[:, :k]

    def recall(found):
        return np.mean([len(set(top[i]) & set(found[i][found[i] >= 0])) / k for i in range(n_queries)])

    build, index = cpu_timed(lambda: CosineLSH(n_bits=12, n_tables=16, seed=0).fit(X))
    search, (_, indices) = cpu_timed(lambda: index.kneighbors(queries, n_neighbors=k))
    report.append(("cosine top-10", "CosineLSH (12 bits x 16 tables, exact re-rank)", "recsys",
                   build, n_queries / search, recall(indices)))
    for n_bits in (64, 256):
        peer = faiss.IndexLSH(dimension, n_bits)
        peer_build, _ = cpu_timed(lambda peer=peer: (peer.train(X), peer.add(X)))
        peer_search, (_, peer_indices) = cpu_timed(lambda peer=peer: peer.search(queries, k))
        report.append(("cosine top-10", f"{n_bits} bits, Hamming ranking", "faiss IndexLSH",
                       peer_build, n_queries / peer_search, recall(peer_indices)))


def bench_euclidean(n_points, dimension, n_queries, k, seed, report):
    from recsys.hashing import EuclideanLSH

    rng = np.random.default_rng(seed)
    centres = 4 * rng.standard_normal((n_points // 20, dimension))
    X = centres[rng.integers(0, len(centres), n_points)] + rng.standard_normal((n_points, dimension))
    queries = X[:n_queries] + 0.1 * rng.standard_normal((n_queries, dimension))

    def exact():
        squared = (queries ** 2).sum(1)[:, None] - 2 * queries @ X.T + (X ** 2).sum(1)[None, :]
        return np.argsort(squared, axis=1)[:, :k]

    exact_search, top = cpu_timed(exact)
    build, index = cpu_timed(lambda: EuclideanLSH(n_hashes=3, width=16.0, n_tables=10, seed=0).fit(X))
    search, (_, indices) = cpu_timed(lambda: index.kneighbors(queries, n_neighbors=k))
    found = [set(row[row >= 0]) for row in indices]
    recall = np.mean([len(set(top[i]) & found[i]) / k for i in range(n_queries)])
    report.append(("Euclidean top-10", "EuclideanLSH (3 hashes x 10 tables, w=16)", "recsys",
                   build, n_queries / search, recall))
    report.append(("Euclidean top-10", "brute force (numpy)", "exact", 0.0,
                   n_queries / exact_search, 1.0))


def plot_s_curve(curve, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    centres, measured, _, _, bands, rows = curve
    grid = np.linspace(0, 1, 201)
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(grid, 1 - (1 - grid ** rows) ** bands, label=f"theory 1-(1-s^{rows})^{bands}")
    axes.plot(centres, measured, "o", label="measured (recsys MinHashLSH)")
    axes.set_xlabel("Jaccard similarity s")
    axes.set_ylabel("P(candidate)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-base", type=int, default=1000, help="base sets (9 variants each)")
    parser.add_argument("--n-queries", type=int, default=300)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--n-perm", type=int, default=128)
    parser.add_argument("--n-points", type=int, default=20_000, help="vectors for cosine/Euclidean")
    parser.add_argument("--plot", default=None, help="where to save the S-curve (PNG)")
    args = parser.parse_args(argv)

    X, base_rows = jaccard_family(args.n_base, 9, 60, 50_000, seed=0)
    query_rows = base_rows[:args.n_queries]
    report = []
    identical, curve = bench_minhash_lsh(X, query_rows, args.threshold, args.n_perm, report)
    bench_forest(X, query_rows, args.n_perm, 10, report)
    bench_cosine(args.n_points, 64, args.n_queries, 10, 0, report)
    bench_euclidean(args.n_points, 32, args.n_queries, 10, 0, report)

    print(f"{X.shape[0]} sets ({args.n_base} bases x 10), {len(query_rows)} queries; "
          f"{args.n_points} vectors for cosine/Euclidean. MinHashLSH candidates identical to "
          f"datasketch's: {identical}.\n")
    print("| similarity | index | implementation | build CPU s | queries per CPU s | recall |")
    print("|---|---|---|---:|---:|---:|")
    for kind, name, implementation, build, throughput, recall in report:
        print(f"| {kind} | {name} | {implementation} | {build:.2f} | {throughput:,.0f} | {recall:.3f} |")
    centres, measured, counts, theory, bands, rows = curve
    print(f"\nS-curve (b={bands}, r={rows}): similarity bin centre, measured P(candidate), "
          "theory, pairs in bin")
    print("| s | measured | theory | pairs |\n|---:|---:|---:|---:|")
    for centre, found, expected, count in zip(centres, measured, theory, counts):
        print(f"| {centre:.3f} | {found:.3f} | {expected:.3f} | {count} |")
    if args.plot:
        plot_s_curve(curve, args.plot)
        print(f"\nplot saved to {args.plot}")


if __name__ == "__main__":
    main()
