"""The benchmark harness behind the ``recsys-bench`` command.

Models come from the registry (:func:`register_model`), data sets from
:mod:`recsys.datasets`, metrics from :mod:`recsys.metrics`; the harness only
splits (:mod:`recsys.bench._protocols`), runs, compares and reports.

The public names are imported on first use (PEP 562): ``recsys-bench --help``
and ``recsys-bench models`` import neither scikit-learn, scipy.stats, numba
nor any model package (``benchmarks/cli_startup.py`` measures it).
"""

from typing import TYPE_CHECKING

from recsys import _lazy_exports

#: public name -> the private module defining it
_EXPORTS = {
    "Metric": "_metrics",
    "parse_metrics": "_metrics",
    "PROTOCOLS": "_protocols",
    "RatingFold": "_protocols",
    "TopNFold": "_protocols",
    "holdout": "_protocols",
    "leave_last_out": "_protocols",
    "leave_last_out_sampled": "_protocols",
    "make_folds": "_protocols",
    "ratings_kfold": "_protocols",
    "strong_generalization": "_protocols",
    "ModelSpec": "_registry",
    "get_model": "_registry",
    "list_models": "_registry",
    "register_model": "_registry",
    "BenchmarkResult": "_runner",
    "FoldResult": "_runner",
    "ModelEntry": "_runner",
    "evaluate_fold": "_runner",
    "run_benchmark": "_runner",
    "Comparison": "_significance",
    "compare_to_baseline": "_significance",
    "Suite": "_suite",
    "apply_dataset_options": "_suite",
    "load_suite": "_suite",
}

__all__ = [
    "PROTOCOLS",
    "BenchmarkResult",
    "Comparison",
    "FoldResult",
    "Metric",
    "ModelEntry",
    "ModelSpec",
    "RatingFold",
    "Suite",
    "TopNFold",
    "apply_dataset_options",
    "compare_to_baseline",
    "evaluate_fold",
    "get_model",
    "holdout",
    "leave_last_out",
    "leave_last_out_sampled",
    "list_models",
    "load_suite",
    "make_folds",
    "parse_metrics",
    "ratings_kfold",
    "register_model",
    "run_benchmark",
    "strong_generalization",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ imports on demand
    from recsys.bench._metrics import Metric, parse_metrics
    from recsys.bench._protocols import (
        PROTOCOLS,
        RatingFold,
        TopNFold,
        holdout,
        leave_last_out,
        leave_last_out_sampled,
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
    from recsys.bench._significance import Comparison, compare_to_baseline
    from recsys.bench._suite import Suite, apply_dataset_options, load_suite


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
