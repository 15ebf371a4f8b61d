"""Thread limits of the worker processes of a Dask cluster."""

from contextlib import contextmanager

import dask

# BLAS (OpenBLAS, MKL), OpenMP (implicit's ALS) and numba read these once, when
# they load: they must be in the environment the worker process is spawned with.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


@contextmanager
def worker_thread_limits(n_threads=1):
    """Start Dask worker processes inside the block with ``n_threads`` native threads each.

    Dask's nannies already spawn workers with one OpenMP/MKL/OpenBLAS thread
    (``distributed.nanny.pre-spawn-environ``) but leave numba, and with it
    the numba kernels of recsys, on every core of the machine: ``n_workers``
    processes then run ``n_workers x cores`` threads. Inside this block the
    spawn environment also sets ``NUMBA_NUM_THREADS``. Give ``n_threads`` =
    the cores per worker divided by its ``threads_per_worker``.

    Parameters
    ----------
    n_threads : int, default=1
        Threads of BLAS, OpenMP and numba in each worker process.

    Examples
    --------
    >>> from distributed import LocalCluster
    >>> from recsys.distributed import worker_thread_limits
    >>> with worker_thread_limits(1):  # doctest: +SKIP
    ...     cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
    """
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer; got {n_threads!r}.")
    environment = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environment.update({variable: n_threads for variable in _THREAD_VARIABLES})
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environment}):
        yield
