"""Thread counts: numba's parallel kernels and the BLAS under numpy and scipy."""

from contextlib import contextmanager
from functools import cache

import numba
from threadpoolctl import ThreadpoolController


@contextmanager
def numba_threads(n_threads):
    """Run numba's parallel kernels on ``n_threads`` threads inside the block.

    ``None`` means all of numba's threads (``NUMBA_NUM_THREADS``, the number
    of cores unless set otherwise); more than that is capped to it. The
    setting is numba's per-thread one, restored on exit.
    """
    available = numba.config.NUMBA_NUM_THREADS
    previous = numba.get_num_threads()
    numba.set_num_threads(available if n_threads is None else min(n_threads, available))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@cache
def _blas_controller():
    # Scanning the process for thread pools takes ~4 ms; numpy's and scipy's BLAS,
    # the ones implicit calls, are loaded by the time the first model fits.
    return ThreadpoolController()


@contextmanager
def limit_blas_threads():
    """Run the block with a single BLAS thread.

    implicit parallelises over users itself; a multi-threaded BLAS underneath
    oversubscribes the cores (implicit warns, and fits about 3x slower).
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield
