"""Thread limits of the worker processes of a Dask cluster."""

from contextlib import contextmanager

import dask

# BLAS (OpenBLAS, MKL) and OpenMP (implicit's ALS) size their pools when they load,
# possibly before the worker applies its own environment: the nanny must set them
# before it spawns the worker (it sets them in its own process too).
_PRE_SPAWN_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# numba loads when a task first unpickles a model, after the worker has applied this;
# set before spawning, it would also reach the client process, where a changed
# NUMBA_NUM_THREADS makes numba refuse to run once its threads are launched.
_WORKER_VARIABLES = ("NUMBA_NUM_THREADS",)


@contextmanager
def worker_thread_limits(n_threads=1):
    """Start Dask worker processes inside the block with ``n_threads`` native threads each.

    Dask's nannies already spawn workers with one OpenMP/MKL/OpenBLAS thread
    (``distributed.nanny.pre-spawn-environ``) but leave numba, and with it
    the numba kernels of recsys, on every core of the machine: ``n_workers``
    processes then run ``n_workers x cores`` threads. Inside this block the
    workers also get ``NUMBA_NUM_THREADS``. Give ``n_threads`` = the cores
    per worker divided by its ``threads_per_worker``. As with Dask's own
    settings, a variable already set in the environment of the process
    starting the cluster wins.

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
    limits = {}
    for key, variables in (("distributed.nanny.pre-spawn-environ", _PRE_SPAWN_VARIABLES),
                           ("distributed.nanny.environ", _WORKER_VARIABLES)):
        environment = dict(dask.config.get(key, default={}) or {})
        environment.update({variable: n_threads for variable in variables})
        limits[key] = environment
    with dask.config.set(limits):
        yield
