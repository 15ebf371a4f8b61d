"""Metric names on the command line (``ndcg@10``, ``rmse``) resolved to recsys.metrics functions.

The harness computes nothing itself: ``name@k`` is ``recsys.metrics.<name>_at_k``
called with ``k`` and ``average=False`` (so per-user values are kept), or one of
the list-level metrics of :data:`LIST_METRICS` (``catalog_coverage@10``: the
share of the catalogue in the top k of the fold's test users), or one of the
variants of :data:`METRIC_VARIANTS` (``recall_min_k@20``: recall divided by
``min(k, n_relevant)`` as in VAE-CF and EASE); a bare name is a rating metric
``recsys.metrics.<name>(y_true, y_pred)``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

#: recsys.metrics functions f(y_pred, n_items, k) that score all the fold's lists at once
LIST_METRICS = ("catalog_coverage",)

#: label names for a recsys.metrics ranking function called with fixed options:
#: name -> (function name, keyword arguments)
METRIC_VARIANTS = {
    # Liang et al. 2018 (VAE-CF) and Steck 2019 (EASE): a perfect top k scores 1
    # even for users with more than k held-out items.
    "recall_min_k": ("recall_at_k", {"denominator": "min_k"}),
}

#: recsys.metrics functions f(y_true, y_pred) that score rating predictions
RATING_METRICS = ("rmse", "mae", "mse")

DEFAULT_METRICS = {
    "topn": ("ndcg@10", "recall@20", "precision@10"),
    "rating": ("rmse", "mae"),
}


@dataclass(frozen=True)
class Metric:
    """A metric of the benchmark table.

    Attributes
    ----------
    label : str
        As written on the command line, e.g. ``"ndcg@10"``.
    function : callable
        The ``recsys.metrics`` function.
    k : int or None
        Cut-off of a ranking metric; None for a rating metric.
    """

    label: str
    function: Callable
    k: int = None
    list_level: bool = False

    @property
    def task(self):
        return "rating" if self.k is None else "topn"

    def per_user(self, relevant, ranked_ids):
        """Per-user values of a ranking metric (NaN for users without relevant items)."""
        return np.asarray(self.function(relevant, ranked_ids, k=self.k, average=False), dtype=np.float64)

    def of_lists(self, ranked_ids, n_items):
        """Value of a list-level metric over all the ranked lists of a fold."""
        return float(self.function(ranked_ids, n_items=n_items, k=self.k))

    def __call__(self, y_true, y_pred):
        """Value of a rating metric."""
        return float(self.function(y_true, y_pred))


def _available(task):
    from recsys import metrics

    names = [name for name in dir(metrics) if callable(getattr(metrics, name))]
    if task == "topn":
        ranking = [name[:-len("_at_k")] for name in names if name.endswith("_at_k")]
        variants = [name for name, (function, _) in METRIC_VARIANTS.items() if function in names]
        listed = [n for n in LIST_METRICS if n in names]
        return sorted(f"{name}@k" for name in [*ranking, *variants, *listed])
    return sorted(name for name in RATING_METRICS if name in names)


def parse_metric(label):
    """Resolve one metric label: ``"<name>@<k>"`` (ranking) or ``"<name>"`` (rating)."""
    from recsys import metrics

    label = label.strip()
    name, at, cutoff = label.partition("@")
    if at:
        if not cutoff.isdigit() or int(cutoff) < 1:
            raise ValueError(f"metric {label!r}: the cut-off after '@' must be a positive integer, e.g. ndcg@10.")
        if name in LIST_METRICS and hasattr(metrics, name):
            return Metric(label, getattr(metrics, name), int(cutoff), list_level=True)
        if name in METRIC_VARIANTS and hasattr(metrics, METRIC_VARIANTS[name][0]):
            function_name, options = METRIC_VARIANTS[name]
            return Metric(label, partial(getattr(metrics, function_name), **options), int(cutoff))
        function = getattr(metrics, f"{name}_at_k", None)
        if function is None:
            raise ValueError(
                f"unknown ranking metric {label!r}; available: {', '.join(_available('topn'))} "
                "(write them as name@k, e.g. ndcg@10)."
            )
        return Metric(label, function, int(cutoff))
    function = getattr(metrics, name, None) if name in RATING_METRICS else None
    if function is None:
        hint = "" if _available("rating") else " (recsys.metrics provides no rating metric in this installation)"
        raise ValueError(
            f"unknown metric {label!r}; rating metrics: {', '.join(_available('rating')) or 'none'}{hint}; "
            f"ranking metrics: {', '.join(_available('topn'))} written as name@k, e.g. ndcg@10."
        )
    return Metric(label, function)


def parse_metrics(labels, task):
    """Resolve metric labels (a list or a comma-separated string) for the models of one task."""
    if labels is None:
        labels = DEFAULT_METRICS[task]
    if isinstance(labels, str):
        labels = [label for label in labels.split(",") if label.strip()]
    if not labels:
        raise ValueError("no metric given; pass e.g. --metrics ndcg@10,recall@20.")
    parsed = [parse_metric(label) for label in labels]
    wrong = [metric.label for metric in parsed if metric.task != task]
    if wrong:
        kind = "ranking metrics name@k" if task == "topn" else "rating metrics (rmse, mae)"
        raise ValueError(f"metrics {wrong} do not apply to {task} models; use {kind}.")
    return parsed
