"""Scale recsys out on a Dask cluster: batch top-n, Dask DataFrames, worker thread limits.

Needs the ``distributed`` extra (``pip install "recsys[distributed]"``): dask
and distributed are imported here, so importing this package without them
raises an ImportError that names the extra. Nothing else in recsys imports
this package.

Model selection needs nothing from here: scikit-learn's ``GridSearchCV`` and
``cross_validate`` run their fits on a cluster under
``joblib.parallel_backend("dask")`` (see the README).
"""

try:
    import dask  # noqa: F401
    import distributed  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "recsys.distributed needs dask and distributed, from the 'distributed' extra: "
        'pip install "recsys[distributed]" (or pip install "dask[distributed]").'
    ) from error

from recsys.distributed._cluster import worker_thread_limits
from recsys.distributed._dataframe import from_dask
from recsys.distributed._recommend import recommend

__all__ = ["from_dask", "recommend", "worker_thread_limits"]
