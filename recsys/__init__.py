"""recsys: scikit-learn-style recommender systems.

Subpackages
-----------
datasets         interaction data, loaders and generators
model_selection  splitters for interaction data
metrics          ranking, beyond-accuracy and rating metrics
baselines        popularity and random recommenders
bench            the harness behind the ``recsys-bench`` command
testing          the shared test contract every recommender reuses
"""

import importlib
import os
import sys

__version__ = "0.1.0"


def _keep_numba_cache_out_of_the_package():
    """Point numba's on-disk cache at the per-user cache folder unless the user chose one.

    The kernels are compiled with ``cache=True``, and numba's default cache folder is
    ``__pycache__`` beside the source: inside ``site-packages/recsys`` for an installed
    copy. ``pip uninstall`` leaves those files, and the leftover ``recsys`` folder then
    shadows a later editable install as an empty namespace package. So the cache goes
    to ``<user cache>/recsys/numba`` (``~/.cache/recsys/numba`` on Linux, the folder
    ``pooch.os_cache`` gives, through the same ``platformdirs``) unless
    ``NUMBA_CACHE_DIR`` is set, even to "" (numba's default).

    numba fixes a function's cache folder when its decorator runs, so this runs here,
    before any kernel module is imported. numba has one cache folder per process: other
    ``cache=True`` functions compiled in this process (and its workers) use it too.
    """
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None and numba_config.CACHE_DIR:
        return  # set by a .numba_config.yaml
    import platformdirs

    cache_dir = os.path.join(platformdirs.user_cache_dir("recsys"), "numba")
    os.environ["NUMBA_CACHE_DIR"] = cache_dir
    if numba_config is not None:
        # numba was imported before recsys and has read the environment already.
        numba_config.CACHE_DIR = cache_dir


_keep_numba_cache_out_of_the_package()


def _bound_the_spinning_of_waiting_threads():
    """Let OpenMP threads spin only briefly at a barrier before sleeping, unless the user chose.

    numba's default threading layer on Linux is OpenMP (libgomp), whose threads spin
    300,000 times at the end of each parallel region before they sleep. recsys' parallel
    SGD ends each of its 16 strata per epoch in such a barrier: on 2 cores shared with
    other busy processes the spinning threads take the cores from the one still working
    (BiasedMF on ML-100K's u1.base with 2 threads beside 3 busy processes: 0.50 s against
    0.20 s with 10,000 spins; at load average 10, 9.0 s against 0.09 s). 10,000 spins
    (microseconds) still catch the other thread on idle cores, where the fit stays as fast
    (0.044 s against 0.043 s), whereas never spinning (``OMP_WAIT_POLICY=PASSIVE``) made
    it 0.065 s. libgomp reads the variable when numba first starts its thread pool, which
    happens after this; ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` set by the user wins.
    """
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")


_bound_the_spinning_of_waiting_threads()


def _lazy_exports(package, exports):
    """PEP 562 ``__getattr__`` and ``__dir__`` for a package whose public names load on first use.

    ``exports`` maps each public name to the private module of ``package`` that
    defines it. ``recsys.utils``, ``recsys.datasets`` and ``recsys.bench`` use it,
    so that ``recsys-bench --help``, ``models`` and ``datasets`` start without
    importing numba, pandas or scikit-learn. A name is imported once, then kept
    in the package's namespace.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__():
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
