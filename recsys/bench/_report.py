"""Writers of benchmark results: rich table, JSON, CSV, Markdown and a PNG chart.

When the run was compared with a baseline (:meth:`BenchmarkResult.compare`),
the metric cells of the models that differ significantly from it carry a mark
(:data:`MARKS`), the caption says what the marks mean, and the Markdown, CSV
and JSON outputs hold the effect sizes and p-values.
"""

import csv
import json
import math
from pathlib import Path

_COST_LABELS = {"fit_time": "fit (s)", "predict_time": "predict (s)", "peak_memory": "peak MiB"}
_OUTPUT_FORMATS = (".json", ".csv", ".md")

#: test -> mark after a metric cell whose Holm-corrected p-value is below alpha
MARKS = {"ttest": "†", "wilcoxon": "‡"}


def _format(row, name):
    mean, std = row[name], row[f"{name}_std"]
    if name == "peak_memory":
        return f"{mean / 2**20:.1f} ± {std / 2**20:.1f}"
    if name.endswith("_time"):
        return f"{mean:.3f} ± {std:.3f}"
    return f"{mean:.4f} ± {std:.4f}"


def _cost_columns(result):
    return ("fit_time", "predict_time", "peak_memory") if result.memory_traced else ("fit_time", "predict_time")


def _headers(result):
    return ["model", *result.metadata["metrics"], *(_COST_LABELS[name] for name in _cost_columns(result))]


def _comparisons(result):
    """{(label, metric): Comparison} of a compared run, else {}."""
    return {(c.label, c.metric): c for c in result.comparisons or ()}


def _marks(comparison, alpha):
    if comparison is None:
        return ""
    return "".join(mark for test, mark in MARKS.items() if comparison.significant(test, alpha))


def _rows(result):
    comparisons, alpha = _comparisons(result), result.metadata.get("alpha")
    rows = []
    for row in result.summary():
        metrics = [_format(row, name) + _marks(comparisons.get((row["label"], name)), alpha)
                   for name in result.metadata["metrics"]]
        label = f"{row['label']} (baseline)" if row["label"] == result.metadata.get("baseline") else row["label"]
        rows.append([label, *metrics, *(_format(row, name) for name in _cost_columns(result))])
    return rows


def significance_caption(result):
    """What the marks mean, or "" for a run not compared with a baseline."""
    if result.comparisons is None:
        return ""
    meta = result.metadata
    n_models = len({c.label for c in result.comparisons})
    return (f"{MARKS['ttest']} paired t-test, {MARKS['wilcoxon']} Wilcoxon signed-rank test: differs from the "
            f"baseline {meta['baseline']} with p < {meta['alpha']:g} over (fold, user) pairs, Holm-corrected "
            f"over the {n_models} model(s) compared.")


def title(result):
    """The run in one line: suite, data set, protocol, folds, seed and the data set options."""
    meta = result.metadata
    parts = [meta["dataset"] or "unnamed data set", meta["protocol"], f"{meta['folds']} fold(s)",
             f"seed {meta['seed']}"]
    if meta.get("suite") not in (None, "command-line"):
        parts.insert(0, f"suite {meta['suite']}")
    parts += [f"{key} {value}" for key, value in (meta.get("dataset_options") or {}).items()]
    return " · ".join(parts)


def rich_table(result):
    """The summary (mean ± std over folds) as a :class:`rich.table.Table`."""
    from rich.table import Table

    table = Table(title=title(result), caption=significance_caption(result) or None)
    for position, header in enumerate(_headers(result)):
        table.add_column(header, justify="left" if position == 0 else "right", no_wrap=True)
    for row in _rows(result):
        table.add_row(*row)
    return table


def _p(value):
    return "nan" if math.isnan(value) else f"{value:.2g}" if value < 1e-3 else f"{value:.3f}"


def _significance_markdown(result):
    headers = ["model", "metric", "pairs", "mean diff", "Cohen's d", "p t-test (Holm)", "p Wilcoxon (Holm)"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---", "---"] + ["---:"] * 5) + "|"]
    for c in result.comparisons:
        lines.append(f"| {c.label} | {c.metric} | {c.n_pairs} | {c.mean_difference:+.4f} | {c.cohens_d:+.3f} | "
                     f"{_p(c.p_ttest_holm)} | {_p(c.p_wilcoxon_holm)} |")
    return lines


def to_markdown(result):
    """The summary as a Markdown table, preceded by what produced it."""
    meta = result.metadata
    headers = _headers(result)
    lines = [
        (f"Dataset `{meta['dataset']}` ({meta['n_users']} users, {meta['n_items']} items, "
         f"{meta['n_interactions']} interactions), protocol `{meta['protocol']}`, {meta['folds']} fold(s), "
         f"seed {meta['seed']}; mean ± std over folds."),
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(result)]
    if result.comparisons is not None:
        intro = (f"Against the baseline {meta['baseline']} (model minus baseline; Cohen's d of the paired "
                 "differences):")
        lines += ["", significance_caption(result), "", intro, "", *_significance_markdown(result)]
    if meta.get("command"):
        lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines) + "\n"


def _fold_records(result, per_user=False):
    records = []
    for fold in result.folds:
        record = {"label": fold.label, "model": fold.model, "fold": fold.fold, "fit_time": fold.fit_time,
                  "predict_time": fold.predict_time, "n_evaluated": fold.n_evaluated, **fold.metrics,
                  "warnings": fold.warnings}
        if fold.peak_memory is not None:
            record["peak_memory"] = fold.peak_memory
        if per_user and fold.per_user is not None:
            record["users"] = fold.users.tolist()
            record["per_user"] = {name: values.tolist() for name, values in fold.per_user.items()}
        records.append(record)
    return records


def _comparison_columns(result):
    """CSV columns of the comparison with the baseline: (header, metric, Comparison attribute)."""
    if result.comparisons is None:
        return []
    attributes = ("mean_difference", "cohens_d", "p_ttest_holm", "p_wilcoxon_holm")
    metrics = dict.fromkeys(c.metric for c in result.comparisons)
    return [(f"{metric} {attribute}", metric, attribute) for metric in metrics for attribute in attributes]


def to_json(result):
    """Metadata, every per-fold number (per-user values too), the summary, the comparisons with the
    baseline and the skipped models, as a JSON string."""
    document = {"metadata": result.metadata, "folds": _fold_records(result, per_user=True),
                "summary": result.summary(), "skipped": result.skipped}
    if result.comparisons is not None:
        document["comparisons"] = [comparison.to_dict() for comparison in result.comparisons]
    return json.dumps(document, indent=2, default=str)


def write_csv(result, path):
    """One row per (model, fold), with its metrics, costs and the model's comparison with the baseline."""
    records = _fold_records(result)
    comparisons, extra = _comparisons(result), _comparison_columns(result)
    for record in records:
        for header, metric, attribute in extra:
            comparison = comparisons.get((record["label"], metric))
            record[header] = "" if comparison is None else getattr(comparison, attribute)
    fieldnames = ["label", "model", "fold", *result.metadata["metrics"], *_cost_columns(result), "n_evaluated",
                  *(header for header, _, _ in extra)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def check_output_path(path):
    """Return the lower-case extension of an output path, or raise if no writer handles it."""
    suffix = Path(path).suffix.lower()
    if suffix not in _OUTPUT_FORMATS:
        raise ValueError(f"--output {str(path)!r}: the extension must be one of {', '.join(_OUTPUT_FORMATS)}.")
    _check_folder(path, "--output")
    return suffix


def write_output(result, path):
    """Write the result to a .json, .csv or .md file, chosen by the extension."""
    path = Path(path)
    suffix = check_output_path(path)
    if suffix == ".csv":
        write_csv(result, path)
    else:
        path.write_text(to_json(result) if suffix == ".json" else to_markdown(result), encoding="utf-8")


def check_plot_path(path):
    """Raise now, before any work, if a chart cannot be written to path."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("--plot needs matplotlib; install it with pip install 'recsys[dev]' "
                          "(or pip install matplotlib).") from None
    if Path(path).suffix.lower() != ".png":
        raise ValueError(f"--plot {str(path)!r}: the chart is a PNG; name the file FILE.png.")
    _check_folder(path, "--plot")


def _check_folder(path, option):
    folder = Path(path).parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{option} {str(path)!r}: the folder {str(folder)!r} does not exist; create it first.")


def plot(result, path):
    """Write :func:`make_figure` of the result to a PNG file."""
    check_plot_path(path)
    make_figure(result).savefig(path, dpi=120)


def make_figure(result):
    """A bar chart per metric (one facet each), model by model, with the fold std as error bars.

    The title names the suite, data set, protocol, folds and seed; with a
    baseline, bars of models that differ significantly from it carry the
    table's marks. Returns a :class:`matplotlib.figure.Figure` outside pyplot
    (no global backend change, nothing left open).
    """
    from matplotlib.figure import Figure

    metrics = result.metadata["metrics"]
    rows = result.summary()
    labels = [row["label"] for row in rows]
    comparisons, alpha = _comparisons(result), result.metadata.get("alpha")
    baseline = result.metadata.get("baseline")  # drawn in grey
    width = max(4.0, 0.55 * len(rows) + 1.5)
    figure = Figure(figsize=(width * len(metrics), 4.2))
    axes = figure.subplots(1, len(metrics), squeeze=False)
    for axis, metric in zip(axes[0], metrics, strict=True):
        bars = axis.bar(labels, [row[metric] for row in rows], yerr=[row[f"{metric}_std"] for row in rows],
                        capsize=3, color=["tab:gray" if label == baseline else "tab:blue" for label in labels])
        marks = [_marks(comparisons.get((label, metric)), alpha) for label in labels]
        if any(marks):
            axis.bar_label(bars, marks, padding=2)
        axis.set_title(metric)
        axis.set_ylabel(f"{metric} (mean ± std over folds)")
        axis.tick_params(axis="x", labelrotation=45)
        for tick in axis.get_xticklabels():
            tick.set_horizontalalignment("right")
        axis.grid(axis="y", alpha=0.3)
    heading = title(result)
    caption = significance_caption(result)
    figure.suptitle(heading + (f"\n{caption}" if caption else ""), fontsize=9 if caption else 11)
    figure.tight_layout()
    return figure
