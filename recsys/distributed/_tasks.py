"""What every recsys job on Dask shares: inputs sent once and recomputable, and one error when retries run out."""

from contextlib import contextmanager

from distributed import KilledWorker


def shared_input(value):
    """A task whose result is value: data the other tasks depend on, recomputable if lost.

    Submitted once (``client.submit(shared_input, value)``), the value travels to
    each worker that runs a dependent task once, however many tasks need it.
    Not ``client.scatter``: scattered data is lost for good when the workers
    holding it die, whereas a task's result is recomputed from its spec (kept
    by the scheduler), so a job survives even the death of every worker.
    """
    return value


@contextmanager
def retries_spent_error(unit, advice):
    """Turn Dask's KilledWorker into one RuntimeError that names the retry setting and what to do.

    ``unit`` names what the workers died on ("a block of users"); ``advice``
    is the sentence that ends the message.
    """
    try:
        yield
    except KilledWorker as error:
        raise RuntimeError(
            f"a Dask worker died on every attempt at {unit} ({error}); Dask's retries "
            f"(distributed.scheduler.allowed-failures) are spent. {advice}"
        ) from error
