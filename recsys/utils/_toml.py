"""TOML parsing on every supported Python: ``tomllib`` from 3.11, its backport ``tomli`` on 3.10.

``tomli`` is a dependency on Python < 3.11 only (setup.cfg); import ``tomllib`` from
here rather than from the standard library so that the data-set registry, suites and
``recsys-bench --param`` values parse on 3.10 too.
"""

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]
