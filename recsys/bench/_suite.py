"""Benchmark suites: TOML files naming a data set, a protocol and the models to compare.

A suite file has a ``[suite]`` table and one ``[[models]]`` table per row of
the result::

    [suite]
    name = "synthetic"
    description = "baselines on the generated default data set"
    dataset = "synthetic"
    protocol = "strong"
    folds = 5
    seed = 0
    metrics = ["ndcg@10", "recall@20"]
    baseline = "pop"             # optional: mark models that differ significantly from it

    [suite.dataset_options]      # optional
    binarize = 4.0               # keep ratings >= 4 as the relevant interactions
    min_user_interactions = 5    # iterated k-core
    min_item_interactions = 1

    [[models]]
    name = "pop"                 # registry name
    label = "pop-users"          # optional, defaults to name; must be unique
    params = { count = "users" } # optional
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from recsys.bench._runner import ModelEntry

_SUITE_KEYS = {"name", "description", "dataset", "protocol", "folds", "seed", "metrics", "baseline",
               "dataset_options"}
_MODEL_KEYS = {"name", "label", "params"}
_DATASET_OPTIONS = {"binarize", "min_user_interactions", "min_item_interactions"}


@dataclass(frozen=True)
class Suite:
    """A benchmark configuration; :func:`load_suite` reads one, the CLI overrides its fields."""

    name: str = "command-line"
    description: str = ""
    dataset: str = "synthetic"
    protocol: str = "strong"
    folds: int = 5
    seed: int = 0
    metrics: tuple = None
    baseline: str = None
    dataset_options: dict = field(default_factory=dict)
    models: tuple = (ModelEntry("pop"), ModelEntry("random"))

    def override(self, **changes):
        """Return a copy with the changes that are not None."""
        return replace(self, **{key: value for key, value in changes.items() if value is not None})


def _check_keys(table, allowed, where, path):
    unknown = set(table) - allowed
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {sorted(unknown)} in {where}; allowed: {sorted(allowed)}.")


def load_suite(path):
    """Read a suite TOML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Suite
    """
    # Imports recsys.utils (numba): only when a suite is read, not at start-up.
    from recsys.utils._toml import tomllib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"suite file {str(path)!r} does not exist.")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path} is not valid TOML: {error}") from None
    _check_keys(document, {"suite", "models"}, "the top level", path)
    table = document.get("suite", {})
    _check_keys(table, _SUITE_KEYS, "[suite]", path)
    options = table.get("dataset_options", {})
    _check_keys(options, _DATASET_OPTIONS, "[suite.dataset_options]", path)
    models = []
    for position, model in enumerate(document.get("models", [])):
        _check_keys(model, _MODEL_KEYS, f"[[models]] entry {position}", path)
        if "name" not in model:
            raise ValueError(f"{path}: [[models]] entry {position} has no name (a registered model name).")
        if not isinstance(model.get("params", {}), dict):
            # A ValueError like every other mistake in the file: the CLI reports them alike.
            raise ValueError(  # noqa: TRY004
                f"{path}: params of model {model['name']!r} must be a table, e.g. params = {{ k = 1 }}.")
        models.append(ModelEntry(model["name"], model.get("label"), dict(model.get("params", {}))))
    fields = {key: value for key, value in table.items() if key != "dataset_options"}
    if "metrics" in fields:
        fields["metrics"] = tuple(fields["metrics"])
    suite = Suite(**fields, dataset_options=dict(options))
    return replace(suite, models=tuple(models)) if models else suite


def apply_dataset_options(data, options):
    """Binarise ratings at ``binarize`` and keep the k-core, as the suite's dataset options say."""
    _check_keys(options, _DATASET_OPTIONS, "dataset options", "suite")
    if options.get("binarize") is not None:
        data = data.binarize(options["binarize"])
    min_users = options.get("min_user_interactions", 1)
    min_items = options.get("min_item_interactions", 1)
    if min_users > 1 or min_items > 1:
        data = data.filter(min_users, min_items)
    return data
