"""Writers of benchmark results: rich table, JSON, CSV, Markdown and a PNG bar chart."""

import csv
import json
from pathlib import Path

from rich.table import Table

_COST_COLUMNS = ("fit_time", "predict_time", "peak_memory")
_OUTPUT_FORMATS = (".json", ".csv", ".md")


def _format(row, name):
    mean, std = row[name], row[f"{name}_std"]
    if name == "peak_memory":
        return f"{mean / 2**20:.1f} ± {std / 2**20:.1f}"
    if name.endswith("_time"):
        return f"{mean:.3f} ± {std:.3f}"
    return f"{mean:.4f} ± {std:.4f}"


def _headers(result):
    return ["model", *result.metadata["metrics"], "fit (s)", "predict (s)", "peak MiB"]


def _rows(result):
    columns = [*result.metadata["metrics"], *_COST_COLUMNS]
    return [[row["label"], *(_format(row, name) for name in columns)] for row in result.summary()]


def rich_table(result):
    """The summary (mean ± std over folds) as a :class:`rich.table.Table`."""
    meta = result.metadata
    parts = [meta["dataset"], meta["protocol"], f"{meta['folds']} fold(s)", f"seed {meta['seed']}"]
    if meta.get("suite") not in (None, "command-line"):
        parts.insert(0, f"suite {meta['suite']}")
    table = Table(title=" · ".join(parts))
    for position, header in enumerate(_headers(result)):
        table.add_column(header, justify="left" if position == 0 else "right", no_wrap=True)
    for row in _rows(result):
        table.add_row(*row)
    return table


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
    if meta.get("command"):
        lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines) + "\n"


def _fold_records(result):
    return [
        {"label": fold.label, "model": fold.model, "fold": fold.fold, "fit_time": fold.fit_time,
         "predict_time": fold.predict_time, "peak_memory": fold.peak_memory,
         "n_evaluated": fold.n_evaluated, **fold.metrics, "warnings": fold.warnings}
        for fold in result.folds
    ]


def to_json(result):
    """Metadata, every per-fold number, the summary and the skipped models, as a JSON string."""
    document = {"metadata": result.metadata, "folds": _fold_records(result),
                "summary": result.summary(), "skipped": result.skipped}
    return json.dumps(document, indent=2, default=str)


def write_csv(result, path):
    """One row per (model, fold), with its metrics and costs."""
    records = _fold_records(result)
    fieldnames = ["label", "model", "fold", *result.metadata["metrics"], *_COST_COLUMNS, "n_evaluated"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def check_output_path(path):
    """Return the lower-case extension of an output path, or raise if no writer handles it."""
    suffix = Path(path).suffix.lower()
    if suffix not in _OUTPUT_FORMATS:
        raise ValueError(f"--output {str(path)!r}: the extension must be one of {', '.join(_OUTPUT_FORMATS)}.")
    return suffix


def write_output(result, path):
    """Write the result to a .json, .csv or .md file, chosen by the extension."""
    path = Path(path)
    suffix = check_output_path(path)
    if suffix == ".csv":
        write_csv(result, path)
    else:
        path.write_text(to_json(result) if suffix == ".json" else to_markdown(result), encoding="utf-8")


def plot(result, path, metric=None):
    """Bar chart of one metric (the first by default) per model, with the fold std as error bars."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plot needs matplotlib; install it with pip install matplotlib.") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot

    metric = metric or result.metadata["metrics"][0]
    rows = result.summary()
    figure, axes = pyplot.subplots(figsize=(max(4.0, 1.2 * len(rows)), 3.5))
    axes.bar([row["label"] for row in rows], [row[metric] for row in rows],
             yerr=[row[f"{metric}_std"] for row in rows], capsize=4, color="tab:blue")
    axes.set_ylabel(metric)
    axes.set_title(f"{result.metadata['dataset']} · {result.metadata['protocol']}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
