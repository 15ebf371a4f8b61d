"""Blocked ItemKNN on a 2-worker Dask LocalCluster against the in-memory ItemKNN: time and peak memory.

Data: the MovieLens-20M-shaped matrix of ``benchmarks/als_scale.py`` (138,000
users x 27,000 items, 20 million distinct pairs; long-tailed activity, Zipf
popularity), or ``--scale s`` times its users and interactions (the same
catalogue). Every measurement runs in a fresh process so that its peak
resident set size (VmHWM: ``als_scale.peak_rss_mib``) is its own:

- ``in-memory``: ``recsys.neighbors.ItemKNN(k).fit(X)`` in one process: wall
  time and peak RSS of the process (after generating X, and after the fit).
- ``distributed``: ``recsys.distributed.ItemKNN(k, block_size)`` on a
  LocalCluster of 2 worker processes x 1 thread (``worker_thread_limits(1)``):
  wall time of the fit, peak RSS of each worker (its VmHWM, read with
  ``client.run`` after the fit), RSS of the workers before the fit, peak RSS of
  the client process (which also runs the scheduler), and the compute time of
  each block task from Dask's task stream.
- ``blocks``: the per-task cost in one process: the operands (item vectors,
  norms, transposed copy) are built once, as by the fit's first task, then
  one block of B items is computed at a time (what a block task runs):
  its time and the peak of the memory it allocates (``tracemalloc``, which
  numpy and scipy's arrays report to; RSS would hide a block's peak in pages
  the allocator kept from the block before).

With ``--compare`` the similarity matrices of ``in-memory`` and
``distributed`` are saved and compared entry for entry.

    python benchmarks/distributed_knn_scaling.py in-memory distributed --compare
    python benchmarks/distributed_knn_scaling.py blocks --block-sizes 512,2048,8192
    python benchmarks/distributed_knn_scaling.py distributed blocks --scale 4
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

import als_scale
import cloudpickle
import numpy as np
from als_scale import peak_rss_mib

# client.run sends peak_rss_mib to the workers, which cannot import this folder's modules.
cloudpickle.register_pickle_by_value(als_scale)

MIB = 2**20


def load_average():
    with open("/proc/loadavg") as file:
        return " ".join(file.read().split()[:3])


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mib():
    import psutil

    return psutil.Process().memory_info().rss / MIB


def make_matrix(args):
    from als_scale import generate

    return generate(args.users * args.scale, args.items, args.interactions * args.scale)


def in_memory(args):
    from recsys.neighbors import ItemKNN

    X = make_matrix(args)
    result = {"rss_after_generate_mib": rss_mib(), "peak_after_generate_mib": peak_rss_mib()}
    start, cpu = time.perf_counter(), cpu_seconds()
    model = ItemKNN(k=args.k).fit(X)
    result.update(fit_s=time.perf_counter() - start, fit_cpu_s=cpu_seconds() - cpu, peak_after_fit_mib=peak_rss_mib(),
                  similarity_nnz=int(model.similarity_.nnz))
    if args.save:
        import scipy.sparse as sp

        sp.save_npz(args.save, model.similarity_, compressed=False)
    return result


def distributed(args):
    from distributed import Client, LocalCluster, get_task_stream

    from recsys.distributed import ItemKNN, worker_thread_limits

    X = make_matrix(args)
    result = {"rss_after_generate_mib": rss_mib()}
    with worker_thread_limits(1):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
    with cluster, Client(cluster) as client:
        # With the libraries a task imports already loaded: what the fit itself adds.
        result["worker_rss_before_fit_mib"] = sorted(client.run(_import_and_measure).values())
        cpu_before = client.run(cpu_seconds)
        start = time.perf_counter()
        with get_task_stream(client) as stream:
            model = ItemKNN(k=args.k, client=client, block_size=args.block_size).fit(X)
        result["fit_s"] = time.perf_counter() - start
        cpu_after = client.run(cpu_seconds)
        # Robust to a busy machine, unlike the wall time: what the workers computed.
        result["worker_fit_cpu_s"] = sorted(cpu_after[worker] - cpu_before[worker] for worker in cpu_after)
        result["worker_peak_rss_mib"] = sorted(client.run(peak_rss_mib).values())
        seconds = {}
        for task in stream.data:
            for phase in task["startstops"]:
                if phase["action"] == "compute":
                    kind = task["key"].split("-")[3]  # recsys-item-knn-<kind>-...
                    seconds.setdefault(kind, []).append(phase["stop"] - phase["start"])
        result["task_seconds"] = {kind: [round(value, 2) for value in values]
                                  for kind, values in seconds.items()}
    result.update(client_peak_rss_mib=peak_rss_mib(), similarity_nnz=int(model.similarity_.nnz),
                  n_blocks=-(-X.shape[1] // args.block_size))
    if args.save:
        import scipy.sparse as sp

        sp.save_npz(args.save, model.similarity_, compressed=False)
    return result


def _import_and_measure():
    import recsys.distributed._item_knn  # noqa: F401

    return rss_mib()


def blocks(args):
    from recsys.neighbors import ItemKNN

    X = make_matrix(args)
    kernel = ItemKNN(k=args.k)
    operands = kernel._item_operands(X)  # one task of the fit: each worker then holds them
    del X
    rows = []
    for block_size in args.block_sizes:
        # Blocks from the middle of the catalogue (popularity is a random permutation).
        start = operands.query.shape[0] // 2 - block_size // 2
        tracemalloc.start()
        begin, cpu = time.perf_counter(), cpu_seconds()
        part = kernel._item_similarity(operands, rows=np.arange(start, start + block_size))
        seconds, cpu = time.perf_counter() - begin, cpu_seconds() - cpu
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append({"block_size": block_size, "seconds": round(seconds, 2), "cpu_s": round(cpu, 2),
                     "peak_allocated_mib": round(peak / MIB), "kept_entries": int(part.nnz)})
        del part
    held = [operands.query, operands.right]
    return {"vectors_nnz": int(operands.query.nnz),
            "operands_mib": round(sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in held) / MIB),
            "blocks": rows}


MODES = {"in-memory": in_memory, "distributed": distributed, "blocks": blocks}


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modes", nargs="+", choices=sorted(MODES))
    parser.add_argument("--users", type=int, default=138_000)
    parser.add_argument("--items", type=int, default=27_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--scale", type=int, default=1, help="times the users and the interactions")
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--block-size", type=int, default=2048, help="items per task (distributed)")
    parser.add_argument("--block-sizes", type=lambda text: [int(v) for v in text.split(",")],
                        default=[512, 2048, 8192], help="blocks timed one at a time (blocks)")
    parser.add_argument("--compare", action="store_true",
                        help="check that in-memory and distributed give the same matrix")
    parser.add_argument("--save", help=argparse.SUPPRESS)  # set by the parent for --compare
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.child:
        print(json.dumps(MODES[args.modes[0]](args)))
        return
    print(f"{args.users * args.scale:,} users x {args.items:,} items, {args.interactions * args.scale:,} "
          f"interactions; k={args.k}; load average {load_average()}", flush=True)
    base = [value for value in argv if value not in MODES and value != "--compare"]
    with tempfile.TemporaryDirectory() as directory:
        saved = {}
        for mode in args.modes:
            extra = []
            if args.compare and mode != "blocks":
                saved[mode] = os.path.join(directory, f"{mode}.npz")
                extra = ["--save", saved[mode]]
            done = subprocess.run([sys.executable, __file__, mode, *base, *extra, "--child"],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{mode} failed:\n{done.stderr[-3000:]}", flush=True)
                continue
            print(f"{mode}: {done.stdout.strip().splitlines()[-1]}", flush=True)
            print(f"  load average after: {load_average()}", flush=True)
        if len(saved) == 2 and all(os.path.exists(path) for path in saved.values()):
            import scipy.sparse as sp

            left, right = (sp.load_npz(path) for path in saved.values())
            same = all(np.array_equal(getattr(left, part), getattr(right, part))
                       for part in ("indptr", "indices", "data"))
            print(f"identical similarity matrices: {same}")


if __name__ == "__main__":
    main()
