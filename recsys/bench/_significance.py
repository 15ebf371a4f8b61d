"""Which models differ significantly from a baseline: paired tests over users.

Every model of a run is scored on the same users of the same folds, so its
per-user metric values pair with the baseline's: one pair per (fold, user).
Each model is compared with the baseline by a two-sided paired t-test
(:func:`scipy.stats.ttest_rel`, the test ranx's ``compare(stat_test="student")``
runs) and a Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`, which does
not assume normal differences: per-user ranking metrics are bounded and
skewed). The p-values of one metric and one test are Holm-corrected over the
models compared with the baseline. The effect size is the mean difference
(model minus baseline) and Cohen's d for paired samples, the mean difference
over the standard deviation of the differences (often written d_z).
"""

from dataclasses import asdict, dataclass

import numpy as np

#: significance level of the marks in the result tables
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    """One model against the baseline on one metric.

    Attributes
    ----------
    label, baseline, metric : str
    n_pairs : int
        (fold, user) pairs compared.
    mean_difference : float
        Mean of model minus baseline over the pairs.
    cohens_d : float
        ``mean_difference`` over the standard deviation (ddof=1) of the differences;
        0 when every difference is 0.
    p_ttest, p_wilcoxon : float
        Two-sided p-values of the paired t-test and of the Wilcoxon signed-rank test.
    p_ttest_holm, p_wilcoxon_holm : float
        The same, Holm-corrected over the models compared with the baseline.
    """

    label: str
    baseline: str
    metric: str
    n_pairs: int
    mean_difference: float
    cohens_d: float
    p_ttest: float
    p_wilcoxon: float
    p_ttest_holm: float = float("nan")
    p_wilcoxon_holm: float = float("nan")

    def significant(self, test, alpha=DEFAULT_ALPHA):
        """Whether the Holm-corrected p-value of ``test`` ("ttest" or "wilcoxon") is below alpha."""
        return bool(getattr(self, f"p_{test}_holm") < alpha)

    def to_dict(self):
        return asdict(self)


def holm(p_values):
    """Holm-Bonferroni adjusted p-values, in the order given (NaN stays NaN and is not counted).

    The i-th smallest of m p-values is multiplied by ``m - i`` (i from 0), made
    non-decreasing along that order, and capped at 1.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full_like(p_values, np.nan)
    finite = np.flatnonzero(~np.isnan(p_values))
    order = finite[np.argsort(p_values[finite], kind="stable")]
    scaled = p_values[order] * (len(order) - np.arange(len(order)))
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def paired_tests(model, baseline):
    """Mean difference, Cohen's d and the two p-values of model against baseline values, pair by pair."""
    from scipy import stats

    differences = np.asarray(model, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    mean = float(differences.mean()) if len(differences) else float("nan")
    if len(differences) < 2:
        return mean, float("nan"), float("nan"), float("nan")
    if not differences.any():
        # Identical values: no evidence of a difference (both tests are undefined here).
        return 0.0, 0.0, 1.0, 1.0
    spread = differences.std(ddof=1)
    cohens_d = mean / spread if spread > 0 else float(np.sign(mean) * np.inf)
    p_ttest = float(stats.ttest_rel(model, baseline).pvalue)
    p_wilcoxon = float(stats.wilcoxon(differences).pvalue)
    return mean, float(cohens_d), p_ttest, p_wilcoxon


def paired_values(result, label, metric):
    """The per-user values of one model and metric over all folds, as {(fold, user): value}."""
    values = {}
    for fold in result.folds:
        if fold.label != label:
            continue
        if fold.per_user is None or metric not in fold.per_user:
            raise ValueError(
                f"no per-user values of {metric!r} for {label!r}: run the benchmark with keep_per_user=True "
                "(list-level metrics such as catalog_coverage have none)."
            )
        values.update(zip(((fold.fold, user) for user in fold.users.tolist()), fold.per_user[metric].tolist()))
    return values


def compare_to_baseline(result, baseline):
    """Compare every other model of a run with the baseline, on each metric that has per-user values.

    Parameters
    ----------
    result : BenchmarkResult
        A run whose fold results keep their per-user values.
    baseline : str
        Label of the baseline model in the run.

    Returns
    -------
    list of Comparison
        Per metric, per model in run order; p-values Holm-corrected per metric and test.

    Examples
    --------
    >>> from recsys.bench import compare_to_baseline, run_benchmark
    >>> from recsys.datasets import make_interactions
    >>> data = make_interactions(300, 60, density=0.1, random_state=0)
    >>> result = run_benchmark(data, ["pop", "random"], n_folds=2, metrics="ndcg@10")
    >>> comparison, = compare_to_baseline(result, "pop")
    >>> comparison.label, comparison.mean_difference < 0, comparison.significant("wilcoxon")
    ('random', True, True)
    """
    labels = list(dict.fromkeys(fold.label for fold in result.folds))
    if baseline not in labels:
        raise ValueError(f"baseline {baseline!r} is not a model of this run; the models are {', '.join(labels)}.")
    metrics = [name for name in result.metadata["metrics"]
               if all(fold.per_user is not None and name in fold.per_user for fold in result.folds)]
    others = [label for label in labels if label != baseline]
    comparisons = []
    for metric in metrics:
        reference = paired_values(result, baseline, metric)
        rows = []
        for label in others:
            values = paired_values(result, label, metric)
            keys = [key for key in reference if key in values and not (
                np.isnan(values[key]) or np.isnan(reference[key]))]
            model_values = np.array([values[key] for key in keys])
            baseline_values = np.array([reference[key] for key in keys])
            rows.append(Comparison(label, baseline, metric, len(keys), *paired_tests(model_values, baseline_values)))
        adjusted_t = holm([row.p_ttest for row in rows])
        adjusted_w = holm([row.p_wilcoxon for row in rows])
        comparisons += [Comparison(**{**row.to_dict(), "p_ttest_holm": float(t), "p_wilcoxon_holm": float(w)})
                        for row, t, w in zip(rows, adjusted_t, adjusted_w, strict=True)]
    return comparisons
