"""SparkALS against recsys ALS, and batch top-n on a 2-worker Dask cluster, at MovieLens-20M shape.

Issue 13's measurements (c) and (b) on one generated matrix (``als_scale.generate``:
log-normal user activity, Zipf(0.8) item popularity, no latent structure, so the
NDCG figures compare the two fits with each other and with popularity, not with
real data):

(c) A sample of ``--test-users`` users is held out; recsys ``ALS`` and ``SparkALS``
    (``local[2]``) fit the other rows with the same factors, sweeps and
    confidence (ALS's ``alpha * x`` = 5, Spark's ``1 + alpha * x`` = 5 on every
    positive), then fold in 80 % of each held-out user's items and are scored by
    NDCG@10 on the other 20 %. Spark's fit is timed in two parts: the matrix to a
    cached Spark DataFrame (through Arrow), and ``SparkALS.fit`` on it (MLlib's
    ALS plus bringing the factors to the driver). The JVM's peak RSS is read from
    /proc (VmHWM).
(b) ``recsys.distributed.recommend`` of the top 10 for every user (fold-in of
    every row) on a ``LocalCluster`` of 2 single-threaded worker processes,
    written as parquet shards, against ``model.recommend`` in this process (2
    threads), with each worker's peak RSS and the per-block task times.

    python benchmarks/distributed_scale.py                              # 20M shape
    python benchmarks/distributed_scale.py --users 69000 --items 13500 --interactions 5000000
    python benchmarks/distributed_scale.py --skip-spark --n-epochs 3    # (b) alone
"""

import argparse
import os
import statistics
import tempfile

import als_scale
import cloudpickle
import numpy as np
from als_scale import Step, generate, peak_rss_mib

# client.run sends peak_rss_mib to the workers, which cannot import this folder's modules.
cloudpickle.register_pickle_by_value(als_scale)


def _jvm_pid(spark):
    """Process id of the JVM behind a local Spark session."""
    return spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()


def _cpu_seconds(pid):
    """User + system CPU time of a process (all its threads), from /proc: robust to a busy machine."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quality_and_spark(X, args, rows, report):
    """(c): fit ALS and SparkALS on all but the held-out users; NDCG@10 on them."""
    from recsys.baselines import PopularityRecommender
    from recsys.distributed import SparkALS, local_spark_session
    from recsys.distributed._spark_als import _csr_to_spark_frame
    from recsys.factorization import ALS
    from recsys.metrics import ndcg_at_k
    from recsys.utils import split_rows

    rng = np.random.default_rng(1)
    held = np.zeros(X.shape[0], dtype=bool)
    held[rng.choice(X.shape[0], args.test_users, replace=False)] = True
    train, test = X[~held], X[held]
    fold_in, held_out = split_rows(test, 0.8, random_state=1)
    report.append(f"held out {held.sum():,} users; train {train.shape[0]:,} users, {train.nnz:,} interactions")

    als = ALS(n_factors=args.n_factors, n_epochs=args.n_epochs, alpha=args.alpha,
              regularization=args.als_regularization, random_state=0)
    with Step(rows, f"recsys ALS fit ({args.n_epochs} sweeps, 2 threads)") as als_step:
        als.fit(train)
    als_cpu = rows[-1][2]
    als_ndcg = ndcg_at_k(held_out, als.recommend(fold_in, n=10)[0], k=10)

    spark = local_spark_session(n_cores=2, config={"spark.driver.memory": args.driver_memory,
                                                               "spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    jvm = _jvm_pid(spark)
    with Step(rows, "matrix to a cached Spark DataFrame (Arrow)") as frame_step:
        frame = _csr_to_spark_frame(spark, train).cache()
        frame.count()
    spark_model = SparkALS(n_factors=args.n_factors, n_epochs=args.n_epochs, alpha=args.alpha - 1.0,
                           regularization=args.spark_regularization, num_blocks=args.num_blocks,
                           random_state=0, spark=spark)
    with Step(rows, f"SparkALS fit on it ({args.n_epochs} sweeps, local[2], "
                    f"{args.num_blocks or 2} blocks)") as spark_step:
        jvm_cpu = _cpu_seconds(jvm)
        spark_model.fit(frame)
        jvm_cpu = _cpu_seconds(jvm) - jvm_cpu
    spark_cpu = rows[-1][2]
    spark_ndcg = ndcg_at_k(held_out, spark_model.recommend(fold_in, n=10)[0], k=10)
    jvm_peak = peak_rss_mib(jvm)
    frame.unpersist()

    pop_ndcg = ndcg_at_k(held_out, PopularityRecommender().fit(train).recommend(fold_in, n=10)[0], k=10)
    report += [
        (f"NDCG@10 on the held-out users: ALS {als_ndcg:.4f}, SparkALS {spark_ndcg:.4f}, "
         f"popularity {pop_ndcg:.4f}"),
        (f"fit time SparkALS / ALS: {spark_step.wall_seconds / als_step.wall_seconds:.2f} "
         f"(with the DataFrame conversion: "
         f"{(spark_step.wall_seconds + frame_step.wall_seconds) / als_step.wall_seconds:.2f}); "
         f"per sweep: ALS {als_step.wall_seconds / args.n_epochs:.2f} s, "
         f"SparkALS {spark_step.wall_seconds / args.n_epochs:.2f} s"),
        (f"CPU time of the fits: ALS {als_cpu:.1f} s (this process), SparkALS "
         f"{jvm_cpu:.1f} s (the JVM) + {spark_cpu:.1f} s (this process); JVM CPU per "
         f"interaction and sweep {jvm_cpu / train.nnz / args.n_epochs * 1e9:.0f} ns"),
        f"JVM peak RSS {jvm_peak:,.0f} MiB (spark.driver.memory={args.driver_memory})",
    ]
    return als


def batch_recommend(X, model, args, rows, report):
    """(b): top-10 for every user on a 2-worker LocalCluster against model.recommend here."""
    from distributed import Client, LocalCluster, get_task_stream

    from recsys.distributed import recommend, worker_thread_limits

    with Step(rows, "model.recommend top-10, every user (this process, 2 threads)") as local_step:
        ids, _ = model.recommend(X, n=10)
    local_cpu = rows[-1][2]
    del ids
    with worker_thread_limits(1):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, memory_limit=args.worker_memory)
    client = Client(cluster)
    try:
        before = client.run(peak_rss_mib)
        cpu_before = client.run(_cpu_seconds, "self")
        with tempfile.TemporaryDirectory(dir=args.output_dir) as directory, \
                get_task_stream(client=client) as stream, \
                Step(rows, f"distributed.recommend top-10, every user (2 workers x 1 thread, "
                           f"blocks of {args.block_size:,}, parquet shards)") as dask_step:
            shards = recommend(model, X, n=10, client=client, block_size=args.block_size,
                               output=os.path.join(directory, "top10"))
        after = client.run(peak_rss_mib)
        worker_cpu = sum(client.run(_cpu_seconds, "self").values()) - sum(cpu_before.values())
    finally:
        client.close()
        cluster.close()
    block_seconds = [stop - start for task in stream.data if "recommend-" in str(task["key"])
                     and not any(part in str(task["key"]) for part in ("-model-", "-vocabulary-"))
                     for action, start, stop in ((s["action"], s["start"], s["stop"])
                                                 for s in task["startstops"]) if action == "compute"]
    report += [
        (f"batch top-10: {len(shards)} shards; distributed / in-process wall time "
         f"{dask_step.wall_seconds / local_step.wall_seconds:.2f}"),
        "worker peak RSS (MiB), before -> after the job: "
        + ", ".join(f"{before[address]:,.0f} -> {after[address]:,.0f}" for address in sorted(after)),
        (f"block task compute time: median {statistics.median(block_seconds):.2f} s over "
         f"{len(block_seconds)} blocks of {args.block_size:,} users "
         f"({statistics.median(block_seconds) / args.block_size * 1e6:.0f} us per user)"),
        (f"CPU time: workers {worker_cpu:.1f} s ({worker_cpu / X.shape[0] * 1e6:.0f} us per user), "
         f"in-process recommend {local_cpu:.1f} s ({local_cpu / X.shape[0] * 1e6:.0f} us per user)"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=138_000)
    parser.add_argument("--items", type=int, default=27_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--n-factors", type=int, default=64)
    parser.add_argument("--n-epochs", type=int, default=15)
    parser.add_argument("--alpha", type=float, default=5.0, help="ALS's confidence (SparkALS gets alpha - 1)")
    parser.add_argument("--als-regularization", type=float, default=1.0)
    parser.add_argument("--spark-regularization", type=float, default=0.1)
    parser.add_argument("--num-blocks", type=int, default=None)
    parser.add_argument("--test-users", type=int, default=5_000)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--block-size", type=int, default=10_000)
    parser.add_argument("--worker-memory", default="4GiB", help="memory_limit of each Dask worker")
    parser.add_argument("--output-dir", default=None, help="where the temporary parquet shards go")
    parser.add_argument("--skip-spark", action="store_true", help="measure (b) only, on an ALS fit")
    parser.add_argument("--skip-dask", action="store_true", help="measure (c) only")
    args = parser.parse_args(argv)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    rows = [("start (imports)", 0.0, 0.0, peak_rss_mib())]
    report = []
    with Step(rows, "generate matrix"):
        X = generate(args.users, args.items, args.interactions)
    report.append(f"matrix: {X.shape[0]:,} users x {X.shape[1]:,} items, {X.nnz:,} interactions; "
                  f"{args.n_factors} factors, {args.n_epochs} sweeps")
    if args.skip_spark:
        from recsys.factorization import ALS

        model = ALS(n_factors=args.n_factors, n_epochs=args.n_epochs, alpha=args.alpha,
                    regularization=args.als_regularization, random_state=0)
        with Step(rows, f"recsys ALS fit ({args.n_epochs} sweeps, 2 threads)"):
            model.fit(X)
    else:
        model = quality_and_spark(X, args, rows, report)
    if not args.skip_dask:
        batch_recommend(X, model, args, rows, report)

    with open("/proc/loadavg") as load:
        print(f"load average at the end: {load.read().strip()}")
    print("| step | wall time (s) | CPU time (s), this process | peak RSS so far (MiB), this process |")
    print("|---|---:|---:|---:|")
    for step, wall, cpu, rss in rows:
        print(f"| {step} | {wall:.1f} | {cpu:.1f} | {rss:,.0f} |")
    print("\n".join(report))


if __name__ == "__main__":
    main()
