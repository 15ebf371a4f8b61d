"""Fixtures shared by the Dask tests of recsys.distributed."""

import contextlib

import pytest


@contextlib.contextmanager
def _two_worker_cluster(config=None):
    import dask
    from distributed import LocalCluster

    from recsys.distributed import worker_thread_limits

    # The scheduler reads its settings (config) when it starts; the workers their thread limits.
    with dask.config.set(config or {}), worker_thread_limits(1):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
    with cluster:
        yield cluster


@pytest.fixture(scope="session")
def two_worker_cluster():
    """Start a LocalCluster of 2 worker processes x 1 thread on 127.0.0.1: ``with two_worker_cluster(config):``.

    Started inside ``worker_thread_limits(1)``, so each worker runs one BLAS, OpenMP and numba
    thread; ``config`` holds Dask settings for its scheduler (e.g. allowed-failures).
    """
    pytest.importorskip("distributed")
    return _two_worker_cluster


@pytest.fixture(scope="module")
def client(two_worker_cluster):
    """A client of a two_worker_cluster (one per test module), the default client while it runs."""
    from distributed import Client

    with two_worker_cluster() as cluster, Client(cluster) as client:
        yield client
