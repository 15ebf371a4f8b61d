"""Fault injection for tests of code that runs on Dask workers: kill the worker, a bounded number of times."""

import os
import signal


def kill_worker_once_per_marker(markers, spare_pid):
    """Kill the calling process (SIGKILL) if one of ``markers`` is still unclaimed.

    Called from inside a task, this kills the Dask worker running it, as an
    out-of-memory kill would: no exception, no clean-up. Each kill claims one
    marker file by creating it exclusively (``O_CREAT | O_EXCL``), so two
    workers starting at once never claim the same one and the number of kills
    is exactly ``len(markers)`` over the whole job: with as many markers as
    workers, every worker dies once, and with it all the data it held. The
    process ``spare_pid`` (the client's, where a task may also run inline) is
    never killed.

    Parameters
    ----------
    markers : sequence of str
        Paths of marker files, in a directory the workers share with the test.
    spare_pid : int
        The process id never to kill (``os.getpid()`` of the test).

    Examples
    --------
    >>> import os, tempfile
    >>> from recsys.testing import kill_worker_once_per_marker
    >>> markers = [os.path.join(tempfile.mkdtemp(), "killed-0")]
    >>> kill_worker_once_per_marker(markers, spare_pid=os.getpid())  # the test's own process: spared
    >>> os.path.exists(markers[0])
    False
    """
    if os.getpid() == spare_pid:
        return
    for marker in markers:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        os.kill(os.getpid(), signal.SIGKILL)
