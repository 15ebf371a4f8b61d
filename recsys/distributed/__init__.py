"""Scale recsys out: a Dask cluster (batch top-n, Dask DataFrames, worker thread limits) or Spark (ALS).

The two halves need different parts of the ``distributed`` extra
(``pip install "recsys[distributed]"``) and neither needs the other's:

- ``recommend``, ``from_dask``, ``worker_thread_limits``, ``map_shared``
  and ``dask_client`` need dask and distributed; they are imported on first
  use, and without those packages that use raises an ImportError naming the
  extra.
- :class:`SparkALS` imports pyspark only when it fits (an ImportError naming
  the extra when it is missing); a fitted SparkALS recommends, saves and
  loads without Spark.

Only the harness, one layer above, imports this package, and lazily:
``recsys-bench run --backend dask`` and its ``spark-als`` row. Model selection needs nothing
from here: scikit-learn's ``GridSearchCV`` and ``cross_validate`` run their
fits on a cluster under ``joblib.parallel_backend("dask")`` (see the README).
"""

import importlib

from recsys.distributed._spark_als import SparkALS, local_spark_session

#: public name -> private module of the Dask parts, imported on first use
_DASK_PARTS = {"ItemKNN": "_item_knn", "from_dask": "_dataframe", "recommend": "_recommend",
               "worker_thread_limits": "_cluster",
               "map_shared": "_jobs", "dask_client": "_jobs"}


def __getattr__(name):
    if name not in _DASK_PARTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"recsys.distributed.{name} needs dask and distributed, from the 'distributed' extra: "
            'pip install "recsys[distributed]" (or pip install "dask[distributed]").'
        ) from error
    value = getattr(importlib.import_module(f"{__name__}.{_DASK_PARTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)


__all__ = ["ItemKNN", "SparkALS", "dask_client", "from_dask", "local_spark_session", "map_shared", "recommend",
           "worker_thread_limits"]
