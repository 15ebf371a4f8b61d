"""Test helpers shared by recsys' own tests and by third-party recommenders.

The contracts are pytest classes, and pytest is a development dependency (the
``dev`` extra): ``import recsys.testing`` imports neither it nor the contract
modules, which load on first access of one of the names below.
"""

import importlib

_EXPORTS = {
    "RecommenderContract": "recsys.testing._contract",
    "contract_data": "recsys.testing._contract",
    "RatingPredictorContract": "recsys.testing._rating_contract",
    "rating_contract_data": "recsys.testing._rating_contract",
    "SaveLoadChecks": "recsys.testing._save_load",
    "SimilarItemsChecks": "recsys.testing._similar_items",
    "assert_sklearn_checks_pass": "recsys.testing._sklearn_checks",
    "expected_failed_checks": "recsys.testing._sklearn_checks",
    "kill_worker_once_per_marker": "recsys.testing._faults",
}

__all__ = [
    "RatingPredictorContract",
    "RecommenderContract",
    "SaveLoadChecks",
    "SimilarItemsChecks",
    "assert_sklearn_checks_pass",
    "contract_data",
    "expected_failed_checks",
    "kill_worker_once_per_marker",
    "rating_contract_data",
]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(_EXPORTS[name])
    except ModuleNotFoundError as error:
        if error.name != "pytest":
            raise
        raise ImportError(
            f"recsys.testing.{name} needs pytest; install the development extra with "
            "pip install 'recsys[dev]'."
        ) from error
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})
