"""Thread counts for numba's parallel kernels."""

from contextlib import contextmanager

import numba


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
