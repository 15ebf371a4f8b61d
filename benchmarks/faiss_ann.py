"""Recall@10 against queries per second of FaissNearestNeighbors' indexes, and its overhead over raw faiss.

For each index the wrapper is fitted and queried, then the same faiss index
is built and searched directly (same factory string, same search settings,
queries normalised beforehand), so the overhead ratio compares the two in the
same run on the same data. The vectors are Gaussian clusters, like the
embeddings of a factor model.

    python benchmarks/faiss_ann.py --n 50000 --dim 64 --queries 2000 --output /tmp/recsys_results/faiss-ann.md
"""

import argparse
import time

import faiss
import numpy as np

from recsys.neighbors import FaissNearestNeighbors


def clustered_vectors(n, centres, rng):
    n_clusters, dimension = centres.shape
    return (centres[rng.integers(n_clusters, size=n)] + 0.5 * rng.normal(size=(n, dimension))).astype(np.float32)


def best_of(repeat, function):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def factory_string(model):
    """The faiss index_factory string of the index a fitted wrapper built."""
    ivf = faiss.try_extract_index_ivf(model.index_)
    dimension = model.n_features_in_
    return {"flat": "Flat", "hnsw": "HNSW32", "ivf": f"IVF{ivf.nlist if ivf else 0},Flat",
            "ivfpq": f"IVF{ivf.nlist if ivf else 0},PQ{dimension // 2}x4fs,RFlat"}.get(model.index, model.index)


def raw_faiss(model, X, queries, k, repeat):
    """Build and search the same index with faiss alone; return (fit s, search s)."""

    def build():
        vectors = X.copy()
        faiss.normalize_L2(vectors)
        index = faiss.index_factory(X.shape[1], factory_string(model), faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        return index

    fit_seconds, index = best_of(repeat, build)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = faiss.try_extract_index_ivf(model.index_).nprobe
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = faiss.downcast_index(model.index_).hnsw.efSearch
    if isinstance(index, faiss.IndexRefine):
        index.k_factor = model.index_.k_factor

    def search():
        normalised = queries.copy()
        faiss.normalize_L2(normalised)
        return index.search(normalised, k)

    search_seconds, _ = best_of(repeat, search)
    return fit_seconds, search_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="indexed vectors")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    parser.add_argument("--threads", type=int, default=1, help="faiss OpenMP threads")
    parser.add_argument("--indexes", default="flat,ivf,hnsw,ivfpq")
    parser.add_argument("--output", help="write the markdown table here too")
    args = parser.parse_args()

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(args.clusters, args.dim))
    X = clustered_vectors(args.n, centres, rng)
    queries = clustered_vectors(args.queries, centres, rng)

    exact = FaissNearestNeighbors(n_neighbors=args.k, index="flat").fit(X).kneighbors(
        queries, return_distance=False)
    rows = []
    for name in args.indexes.split(","):
        model = FaissNearestNeighbors(n_neighbors=args.k, index=name, random_state=0)
        fit_seconds, _ = best_of(args.repeat, lambda model=model: model.fit(X))
        search_seconds, found = best_of(
            args.repeat, lambda model=model: model.kneighbors(queries, return_distance=False))
        recall = np.mean([len(np.intersect1d(a, b)) / args.k for a, b in zip(found, exact)])
        raw_fit, raw_search = raw_faiss(model, X, queries, args.k, args.repeat)
        rows.append((name, recall, args.queries / search_seconds, fit_seconds, fit_seconds / raw_fit,
                     search_seconds / raw_search))
        print(f"{name:6s} recall@{args.k}={recall:.3f} qps={args.queries / search_seconds:,.0f} "
              f"fit={fit_seconds:.2f}s fit/raw={fit_seconds / raw_fit:.2f} search/raw={search_seconds / raw_search:.2f}",
              flush=True)

    table = [f"| index | recall@{args.k} | queries/s | fit s | fit time / raw faiss | search time / raw faiss |",
             "|---|---|---|---|---|---|"]
    table += [f"| {name} | {recall:.3f} | {qps:,.0f} | {fit:.2f} | {fit_ratio:.2f} | {search_ratio:.2f} |"
              for name, recall, qps, fit, fit_ratio, search_ratio in rows]
    text = "\n".join(table)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
