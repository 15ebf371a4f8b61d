"""Thread counts: numba's parallel kernels and the BLAS under numpy and scipy."""

import os
import time
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


def usable_cores():
    """The cores this process may run on (its CPU affinity), capped by numba's thread pool."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, numba.config.NUMBA_NUM_THREADS))


def _runnable_threads():
    """Threads runnable on the machine at this instant, the caller included; None where unknown.

    The fourth field of Linux's ``/proc/loadavg`` is ``runnable/total``.
    """
    try:
        with open("/proc/loadavg") as loadavg:
            return int(loadavg.read().split()[3].partition("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def idle_threads(samples=3, interval=0.002):
    """Threads a barrier-synchronised parallel kernel can use without waiting on the others.

    The usable cores minus the threads of other work runnable right now. A
    kernel that ends each step in a barrier (BiasedMF's strata) runs at the
    pace of its slowest thread: on 2 cores with one busy process, a second
    thread is descheduled half the time and stalls every barrier, so one
    thread is faster. The count of runnable threads is read at the moment
    of the call, not the 1-minute load average, which lags and counts this
    process's own earlier fits; the minimum over ``samples`` readings
    ``interval`` seconds apart leaves out short bursts. Where the count is
    unknown (not Linux), all usable cores.
    """
    cores = usable_cores()
    readings = []
    for sample in range(samples):
        if sample:
            time.sleep(interval)
        runnable = _runnable_threads()
        if runnable is None:
            return cores
        if runnable <= 1:
            # Only the caller is runnable: the minimum cannot go lower, so the idle
            # machine (the common case) decides without sleeping between readings.
            return cores
        readings.append(runnable)
    others = min(readings) - 1  # the calling thread is runnable while it reads
    return max(1, min(cores, cores - others))
