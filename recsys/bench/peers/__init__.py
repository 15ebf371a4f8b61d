"""Adapters that run peer libraries' models in the recsys-bench table.

Each module registers its models with ``requires=(<library>,)`` so that the
registry lists them whether or not the ``peers`` extra is installed, and the
harness skips them with a clear message when it is not.
"""
