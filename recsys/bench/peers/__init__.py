"""Adapters that run peer libraries' models in the recsys-bench table.

One module per library, using only recsys' public API. Each adapter is a row
of :mod:`recsys.bench._models` with ``requires=(<library>,)``, so that the
registry lists it whether or not the ``peers`` extra is installed (without
importing the module), and the harness skips it with a clear message when it
is not.
"""
