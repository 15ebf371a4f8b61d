"""Where data sets are read from and downloaded to."""

import os
from pathlib import Path

DATA_HOME_ENV = "RECSYS_DATA_HOME"


def get_data_home(data_home=None):
    """Return the folder that holds the data sets.

    The folder is, in this order: ``data_home`` when given, the environment
    variable ``RECSYS_DATA_HOME`` when set, or the per-user cache folder
    ``pooch.os_cache("recsys")`` (e.g. ``~/.cache/recsys`` on Linux). It is
    not created here; downloads create it.

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    pathlib.Path
        The folder, with ``~`` expanded.

    Examples
    --------
    >>> from recsys.datasets import get_data_home
    >>> get_data_home("/tmp/recsys-data").name
    'recsys-data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV)
    if data_home is None or data_home == "":
        # Imported here: pooch pulls in requests and tqdm, which listing the
        # registry (``recsys-bench datasets``) with a data home set never needs.
        import pooch

        data_home = pooch.os_cache("recsys")
    return Path(data_home).expanduser()
