"""Repository-wide pytest configuration (tests/conftest.py holds the shared fixtures).

pytest also collects the docstring Examples under recsys/ (``--doctest-modules``).
recsys.neural cannot be imported without the ``neural`` extra (torch, transformers,
safetensors), so its modules are left out of the collection when the extra is absent;
tests/neural skips itself the same way (``pytest.importorskip``).
"""

import importlib.util


def _installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


collect_ignore_glob = ([] if all(map(_installed, ("torch", "transformers", "safetensors")))
                       else ["recsys/neural/*.py"])
# recsys.distributed likewise needs the ``distributed`` extra (dask, distributed).
if not all(map(_installed, ("dask", "distributed"))):
    collect_ignore_glob.append("recsys/distributed/*.py")
