"""Fixtures shared by the Dask tests of recsys.distributed."""

import pytest


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes x 1 thread on 127.0.0.1 (one per test module), and its client.

    Started inside ``worker_thread_limits(1)``, so each worker runs one BLAS, OpenMP and numba
    thread. The client is the default one while the module runs.
    """
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from recsys.distributed import worker_thread_limits

    with worker_thread_limits(1):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client
