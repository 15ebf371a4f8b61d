"""Recall@k against queries per second of approximate maximum inner product search.

Each vector set (the item factors of ALS fitted on the MovieLens 1M pairs,
queried by its user factors; or generated Gaussian clusters) is indexed by
:class:`~recsys.neighbors.FaissNearestNeighbors` with metric ``"ip"``, as
``retrieval=`` does, and searched at several settings. Recall@k is against
exact (flat) search; the same built index is also searched by raw faiss with
the same settings, and each index type is built once more by raw faiss, so
the wrapper's overhead is a ratio measured in the same run.
"""

import time
from dataclasses import dataclass

import faiss
import numpy as np

from recsys.retrieval import FaissNearestNeighbors

# (label, index spec, search parameters) tried on every set; "{lists}" is the
# IVF list count of the set.
DEFAULT_SETTINGS = (
    [("flat", "flat", {})]
    + [(f"ivf nprobe={nprobe}", "IVF{lists},Flat", {"nprobe": nprobe}) for nprobe in (1, 4, 16, 64)]
    + [(f"hnsw efSearch={ef}", "hnsw", {"ef_search": ef}) for ef in (16, 32, 64, 128)]
)


@dataclass
class AnnResult:
    vector_set: str
    setting: str
    recall: float
    queries_per_second: float
    build_seconds: float
    build_ratio: float
    search_ratio: float


def clustered_vectors(n, centres, rng):
    """n vectors scattered around random centres, like the embeddings of a factor model."""
    n_clusters, dimension = centres.shape
    return (centres[rng.integers(n_clusters, size=n)] + 0.5 * rng.normal(size=(n, dimension))).astype(np.float32)


def generated_set(n, dimension, n_queries, n_clusters=200, random_state=0):
    rng = np.random.default_rng(random_state)
    centres = rng.normal(size=(n_clusters, dimension))
    return clustered_vectors(n, centres, rng), clustered_vectors(n_queries, centres, rng)


def movielens_factor_set(n_queries, n_factors=64, data_home=None, random_state=0):
    """ALS item factors of the ML-1M pairs, and the user factors of n_queries users; None if absent."""
    from recsys.datasets import load_dataset
    from recsys.factorization import ALS

    try:
        interactions = load_dataset("ml-1m-pairs", data_home=data_home, download=False)
    except (FileNotFoundError, OSError):
        return None
    model = ALS(n_factors=n_factors, n_epochs=15, regularization=0.1, random_state=random_state)
    model.fit(interactions.to_csr())
    users = np.random.default_rng(random_state).permutation(len(model.user_factors_))[:n_queries]
    return model.item_factors_, model.user_factors_[users]


def _best_of(repeat, function):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def _raw_build(spec, vectors):
    index = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(vectors)
    index.add(vectors)
    return index


def _raw_search(index, queries, k):
    return index.search(queries, k)


def _factory_string(spec):
    return {"flat": "Flat", "hnsw": "HNSW32"}.get(spec, spec)


def benchmark_vector_set(name, base, queries, k=10, settings=DEFAULT_SETTINGS, repeat=3, ivf_lists=None,
                         log=print):
    """Recall@k, queries/s and wrapper/raw time ratios of every setting on one vector set.

    ``ivf_lists`` defaults to ``4 sqrt(n)``, as ``index="ivf"`` builds.
    """
    lists = ivf_lists or max(1, int(4 * np.sqrt(len(base))))
    exact = FaissNearestNeighbors(n_neighbors=k, index="flat", metric="ip").fit(base).kneighbors(
        queries, return_distance=False)
    results, built = [], {}
    for label, spec, search_params in settings:
        spec = spec.format(lists=lists)
        if spec not in built:
            build_seconds, model = _best_of(1, lambda spec=spec: FaissNearestNeighbors(
                n_neighbors=k, index=spec, metric="ip", random_state=0).fit(base))
            raw_build_seconds, _ = _best_of(1, lambda spec=spec: _raw_build(_factory_string(spec), base))
            built[spec] = (model, build_seconds, raw_build_seconds)
        model, build_seconds, raw_build_seconds = built[spec]
        model.set_params(nprobe=search_params.get("nprobe"), ef_search=search_params.get("ef_search"))
        search_seconds, found = _best_of(repeat, lambda model=model: model.kneighbors(
            queries, return_distance=False))
        # The wrapper leaves its search settings on the index: raw faiss
        # searches that very index, so only the wrapper's own work differs.
        raw_seconds, _ = _best_of(repeat, lambda model=model: _raw_search(model.index_, queries, k))
        recall = float(np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(found, exact)]))
        result = AnnResult(name, label, recall, len(queries) / search_seconds, build_seconds,
                           build_seconds / raw_build_seconds, search_seconds / raw_seconds)
        log(f"{name}: {label:18s} recall@{k}={recall:.3f} qps={result.queries_per_second:,.0f} "
            f"build={build_seconds:.1f}s build/raw={result.build_ratio:.2f} search/raw={result.search_ratio:.3f}")
        results.append(result)
    return results


def results_markdown(results, k=10):
    header = (f"| vectors | index | recall@{k} vs exact | queries/s | build s | build / raw faiss | "
              "search / raw faiss |")
    lines = [header, "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.vector_set} | {r.setting} | {r.recall:.3f} | {r.queries_per_second:,.0f} | "
              f"{r.build_seconds:.1f} | {r.build_ratio:.2f} | {r.search_ratio:.3f} |" for r in results]
    return "\n".join(lines)


def plot_recall_qps(results, path):
    """Write the recall/queries-per-second curves, one per vector set and index type, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    curves = {}
    for result in results:
        curves.setdefault((result.vector_set, result.setting.split()[0]), []).append(result)
    for (vector_set, kind), points in curves.items():
        axes.plot([p.recall for p in points], [p.queries_per_second for p in points], marker="o",
                  label=f"{vector_set} {kind}")
    axes.set_yscale("log")
    axes.set_xlabel("recall@10 vs exact search")
    axes.set_ylabel("queries per second")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def run_ann_benchmark(sets=("ml-1m", "generated"), n=1_000_000, dimension=64, n_queries=1_000,
                      k=10, repeat=3, threads=1, indexes=None, ivf_lists=None, data_home=None, log=print):
    """Benchmark every vector set in sets; returns the list of :class:`AnnResult`.

    ``indexes`` keeps only the settings whose label starts with one of its
    entries (e.g. ``("flat", "ivf")``).
    """
    faiss.omp_set_num_threads(threads)
    settings = [s for s in DEFAULT_SETTINGS if indexes is None or s[0].split()[0] in indexes]
    results = []
    for name in sets:
        if name == "ml-1m":
            vectors = movielens_factor_set(n_queries, n_factors=dimension, data_home=data_home)
            if vectors is None:
                log("ml-1m-pairs is not in the data home: skipping the MovieLens 1M factors.")
                continue
            label = "ML-1M ALS factors"
        elif name == "generated":
            vectors = generated_set(n, dimension, n_queries)
            label = f"generated {n:,} x {dimension}"
        else:
            raise ValueError(f"vector sets are 'ml-1m' and 'generated'; got {name!r}.")
        results += benchmark_vector_set(label, *vectors, k=k, settings=settings, repeat=repeat,
                                        ivf_lists=ivf_lists, log=log)
    return results
