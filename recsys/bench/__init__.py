"""The benchmark harness behind the ``recsys-bench`` command.

Models come from the registry (:func:`register_model`), data sets from
:mod:`recsys.datasets`, metrics from :mod:`recsys.metrics`; the harness only
splits (:mod:`recsys.bench._protocols`), runs and reports.
"""

from recsys.bench._metrics import Metric, parse_metrics
from recsys.bench._protocols import (
    PROTOCOLS,
    RatingFold,
    TopNFold,
    holdout,
    leave_last_out,
    make_folds,
    ratings_kfold,
    strong_generalization,
)
from recsys.bench._registry import ModelSpec, get_model, list_models, register_model
from recsys.bench._runner import (
    BenchmarkResult,
    FoldResult,
    ModelEntry,
    evaluate_fold,
    run_benchmark,
)
from recsys.bench._suite import Suite, apply_dataset_options, load_suite

__all__ = [
    "PROTOCOLS",
    "BenchmarkResult",
    "FoldResult",
    "Metric",
    "ModelEntry",
    "ModelSpec",
    "RatingFold",
    "Suite",
    "TopNFold",
    "apply_dataset_options",
    "evaluate_fold",
    "get_model",
    "holdout",
    "leave_last_out",
    "list_models",
    "load_suite",
    "make_folds",
    "parse_metrics",
    "ratings_kfold",
    "register_model",
    "run_benchmark",
    "strong_generalization",
]
