"""Independent jobs on shared inputs as Dask tasks, and the client they run on."""

import uuid
import warnings
from contextlib import contextmanager

from distributed import Client, LocalCluster, as_completed

from recsys.distributed._cluster import worker_thread_limits
from recsys.distributed._tasks import retries_spent_error, shared_input


def map_shared(function, shared, jobs, *, client, name="recsys-job"):
    """Run ``function(shared[i], *args)`` for every ``(i, args)`` of jobs as Dask tasks.

    Each shared value (a data set, a fold) travels to the cluster once, however
    many jobs need it, as the result of a task of its own (``shared_input``),
    recomputed if every worker holding it dies.

    Parameters
    ----------
    function : callable
        Importable by the workers (a module-level function of an installed
        package), or picklable by value.
    shared : list
        The values the jobs share.
    jobs : list of (int, tuple)
        For each job, the position in ``shared`` of its first argument and
        its other arguments.
    client : distributed.Client
    name : str, default="recsys-job"
        Prefix of the task keys (seen on the dashboard).

    Yields
    ------
    position : int
        The job's position in ``jobs``.
    result
        What ``function`` returned, in the order the jobs finish.

    Raises
    ------
    RuntimeError
        When workers died on a job more often than Dask's retries allow
        (``distributed.scheduler.allowed-failures``). An exception raised by
        ``function`` is raised as it is.

    Examples
    --------
    >>> from distributed import Client, LocalCluster
    >>> from recsys.distributed import map_shared
    >>> with LocalCluster(n_workers=1, processes=False) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     sorted(map_shared(pow, [2, 3], [(0, (5,)), (1, (2,))], client=client))
    [(0, 32), (1, 9)]
    """
    run = uuid.uuid4().hex
    inputs = [client.submit(shared_input, value, key=f"{name}-shared-{index}-{run}") for index, value in enumerate(shared)]
    futures = [client.submit(function, inputs[index], *args, key=f"{name}-{position}-{run}")
               for position, (index, args) in enumerate(jobs)]
    positions = {future.key: position for position, future in enumerate(futures)}
    try:
        with retries_spent_error("a job", "If the workers ran out of memory, give them more "
                                 "(dask worker --memory-limit) or run fewer at once per machine."):
            for future in as_completed(futures, loop=client.loop):
                yield positions[future.key], future.result()
    finally:
        # A failed job, or a caller that stops early, leaves the others nothing to do.
        client.cancel([*futures, *inputs])


@contextmanager
def dask_client(address=None, *, n_workers=None, timeout=10):
    """A Dask client of the scheduler at address, or of a local cluster started and closed here.

    The local cluster runs ``n_workers`` worker processes of one task thread
    each on 127.0.0.1, without a dashboard, started inside
    :func:`worker_thread_limits` so that each runs one BLAS, OpenMP and numba
    thread: a machine's cores are then shared by processes, not by threads.

    Parameters
    ----------
    address : str, default=None
        The scheduler's address (``tcp://host:8786``); None for a local cluster.
    n_workers : int, default=None
        Worker processes of the local cluster; None for one per core.
    timeout : float, default=10
        Seconds to wait for the scheduler at address to answer.

    Yields
    ------
    distributed.Client

    Raises
    ------
    OSError
        When the scheduler at address cannot be reached in ``timeout`` seconds.

    Examples
    --------
    >>> from recsys.distributed import dask_client
    >>> with dask_client(n_workers=2) as client:  # doctest: +SKIP
    ...     len(client.nthreads())
    2
    """
    if address is not None:
        with Client(address, timeout=timeout, set_as_default=False) as client:
            yield client
        return
    with worker_thread_limits(1), warnings.catch_warnings():
        # Without a dashboard the scheduler's HTTP port serves only health checks: when another
        # cluster holds the default one (8787), the port it takes instead is no news to the user.
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
    with cluster, Client(cluster, set_as_default=False) as client:
        yield client
