"""``recsys-bench recommend``: top-N recommendations for a list of users, in their own ids.

::

    recsys-bench recommend --model item-knn --dataset ml-100k --users 1,2,3
    recsys-bench recommend --model-file model.npz --interactions events.csv --users-file users.txt \\
        --n 20 --explain --output recommendations.parquet

The model is a file written by ``save`` (``--model-file``) or a registered
model fitted on the data first (``--model``, ``--param KEY=VALUE``,
``--save-model``). The data (``--dataset`` or ``--interactions``) are the
histories folded in, as :meth:`recsys.base.BaseRecommender.recommend_ids`
does: a model fitted on them, or on data sharing their item ids. ``--explain``
adds the history items that contribute most to each score
(:meth:`~recsys.base.BaseRecommender.explain`).

Start-up stays light: this module imports nothing beyond the standard
library until the command runs.
"""

import importlib
import json
from pathlib import Path

_OUTPUT_FORMATS = (".csv", ".parquet", ".md")
_INTERACTION_FORMATS = (".csv", ".parquet")


def add_parser(commands):
    """Add the ``recommend`` sub-command to the sub-parsers of ``recsys-bench``."""
    recommend = commands.add_parser(
        "recommend", help="top-N recommendations for users, in their own ids (optionally explained)",
        description="Recommend the top-N items to given users of a data set, with a saved model or a "
                    "registered one fitted on the data first. The data are the users' histories: the "
                    "model folds them in and excludes the items seen.")
    model = recommend.add_mutually_exclusive_group(required=True)
    model.add_argument("--model-file", metavar="PATH", help="a model written by its save() (.npz)")
    model.add_argument("--model", metavar="NAME", help="a registered top-N model (recsys-bench models), "
                                                       "fitted on the data first")
    data = recommend.add_mutually_exclusive_group(required=True)
    data.add_argument("--dataset", metavar="NAME", help="a registered data set (recsys-bench datasets)")
    data.add_argument("--interactions", metavar="FILE",
                      help="a .csv or .parquet file of events with columns user, item and optionally "
                           "weight or rating (repeated pairs are summed)")
    users = recommend.add_mutually_exclusive_group(required=True)
    users.add_argument("--users", metavar="U1,U2", help="comma-separated user ids")
    users.add_argument("--users-file", metavar="FILE", help="a text file with one user id per line")
    recommend.add_argument("--n", type=int, default=10, help="items per user (default: 10)")
    recommend.add_argument("--include-seen", action="store_true",
                           help="also recommend items of the user's history")
    recommend.add_argument("--explain", action="store_true",
                           help="add a column 'because': the history items contributing most to each "
                                "score (models with explain: item-knn, ease, slim, als)")
    recommend.add_argument("--explain-top", type=int, default=3, metavar="K",
                           help="history items listed per recommendation by --explain (default: 3)")
    recommend.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                           help="a parameter of --model; VALUE is a TOML/JSON literal (repeatable)")
    recommend.add_argument("--save-model", metavar="PATH", help="save the model fitted by --model")
    recommend.add_argument("--output", metavar="FILE",
                           help=f"write the table to {', '.join(_OUTPUT_FORMATS)} instead of printing it")
    recommend.add_argument("--data-home")
    recommend.add_argument("--download", action="store_true", help="download the data set if it is absent")
    return recommend


def run(args, console):
    """Run ``recsys-bench recommend`` with the parsed args; print or write the table; return it."""
    from recsys.bench.cli import CommandError

    _check_options(args, CommandError)
    users = _requested_users(args)
    data = _load_interactions(args, CommandError)
    model = _model(args, data, CommandError)
    if args.explain and not hasattr(model, "explain"):
        raise CommandError(f"--explain: {type(model).__name__} cannot explain its scores; models that "
                           "can: ItemKNN, EASE, SLIM, ALS.")
    users = _match_user_ids(users, data, CommandError)
    table = model.recommend_ids(data, users=users, n=args.n, exclude_seen=not args.include_seen)
    if args.explain:
        table["because"] = [
            _because(model.explain(data, user, item), args.explain_top)
            for user, item in zip(table["user_id"], table["item_id"], strict=True)]
    if args.output:
        _write(table, args.output)
        console.print(f"wrote {len(table)} rows to {args.output}", markup=False)
    else:
        console.print(_rich_table(table))
    return table


def _check_options(args, error):
    """Every mistake found before any data set is read or model fitted."""
    if args.n < 1:
        raise error(f"--n {args.n}: give a positive number of items per user.")
    if args.explain_top < 1:
        raise error(f"--explain-top {args.explain_top}: give a positive number of history items.")
    if args.model_file is not None and (args.param or args.save_model):
        raise error("--param and --save-model apply to --model NAME, not to a saved --model-file.")
    for option, path, formats in (("--output", args.output, _OUTPUT_FORMATS),
                                  ("--save-model", args.save_model, None),
                                  ("--interactions", args.interactions, _INTERACTION_FORMATS)):
        if path is None:
            continue
        if formats is not None and Path(path).suffix.lower() not in formats:
            raise error(f"{option} {path!r}: the extension must be one of {', '.join(formats)}.")
        folder = Path(path).parent
        if not folder.is_dir():
            raise error(f"{option} {path!r}: the folder {str(folder)!r} does not exist; create it first.")
    for option, path in (("--interactions", args.interactions), ("--users-file", args.users_file),
                         ("--model-file", args.model_file)):
        if path is not None and not Path(path).is_file() and not Path(f"{path}.npz").is_file():
            raise error(f"{option} {path!r}: no such file.")


def _requested_users(args):
    if args.users is not None:
        text = args.users.split(",")
    else:
        text = Path(args.users_file).read_text(encoding="utf-8").splitlines()
    return [user.strip() for user in text if user.strip()]


def _load_interactions(args, error):
    if args.dataset is not None:
        from recsys.bench import cli

        try:
            return cli.load_data(args.dataset, args.data_home, download=args.download)
        except KeyError as problem:
            raise error(problem.args[0]) from None
    import pandas as pd

    from recsys.datasets import Interactions

    path = Path(args.interactions)
    frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    missing = [column for column in ("user", "item") if column not in frame.columns]
    if missing:
        raise error(f"--interactions {args.interactions!r} has no column {missing}; its columns are "
                    f"{list(frame.columns)} and it needs user and item (weight, rating optional).")
    return Interactions.from_pandas(
        frame, rating_col="rating" if "rating" in frame.columns else None,
        weight_col="weight" if "weight" in frame.columns else None, duplicates="sum")


def _model(args, data, error):
    if args.model_file is not None:
        return load_saved_model(args.model_file)
    from recsys.bench._registry import get_model
    from recsys.bench.cli import parse_value

    spec = get_model(args.model)
    if spec.task != "topn":
        raise error(f"--model {args.model!r} is a rating predictor; recommend needs a top-N model "
                    "(recsys-bench models lists their task).")
    params = {}
    for setting in args.param:
        key, equals, value = setting.partition("=")
        if not equals or not key:
            raise error(f"--param {setting!r}: write it as KEY=VALUE, e.g. k=50.")
        params[key.strip()] = parse_value(value)
    try:
        model = spec.build(**params)
    except TypeError as problem:
        raise error(f"--param: {problem}") from None
    model.fit(data)
    if args.save_model:
        model.save(args.save_model)
    return model


def load_saved_model(path):
    """The recommender a ``save`` wrote to path, of the recsys class its header names.

    Only classes of recsys' own modules that subclass
    :class:`~recsys.base.BaseRecommender` are loaded, so a file cannot make
    this import an arbitrary module.
    """
    import numpy as np

    from recsys.base import BaseRecommender
    from recsys.utils._persistence import _npz_path

    if not Path(path).is_file():
        path = _npz_path(path)
    with np.load(path, allow_pickle=False) as archive:
        try:
            header = json.loads(str(archive["__header__"]))
            module, _, qualified_name = header["class"].partition(":")
        except (KeyError, ValueError, TypeError, AttributeError):
            raise ValueError(f"{path} is not a model written by save(): it has no valid header.") from None
    if module != "recsys" and not module.startswith("recsys."):
        raise ValueError(f"{path} holds a {header['class']}; recommend loads recsys' own models only.")
    cls = importlib.import_module(module)
    for part in qualified_name.split("."):
        cls = getattr(cls, part, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseRecommender)):
        # The file is the bad value here (main reports ValueError in one line), not a type in the code.
        raise ValueError(f"{path} holds a {header['class']}, which is not a recsys recommender.")  # noqa: TRY004
    return cls.load(path)


def _match_user_ids(requested, data, error):
    """The data's user ids for ids typed on the command line (text), matched by their str()."""
    by_text = {str(user): user for user in data.user_ids.tolist()}
    unknown = [user for user in requested if user not in by_text]
    if unknown:
        raise error(f"user id(s) {unknown[:5]} are not users of the data ({len(by_text)} users, "
                    f"e.g. {list(by_text)[:3]}).")
    return [by_text[user] for user in requested]


def _because(contributions, top):
    rows = contributions.head(top)
    return "; ".join(f"{item} ({value:+.3g})"
                     for item, value in zip(rows["history_item_id"], rows["contribution"], strict=True))


def _formatted(table):
    """The table as rows of strings (scores to 4 significant digits)."""
    columns = list(table.columns)
    return columns, [[f"{value:.4g}" if column == "score" else str(value)
                      for column, value in zip(columns, row, strict=True)]
                     for row in table.itertuples(index=False)]


def _rich_table(table):
    from rich.table import Table

    columns, rows = _formatted(table)
    shown = Table(title=f"{table['user_id'].nunique()} users, {len(table)} recommendations")
    for column in columns:
        shown.add_column(column, justify="right" if column in ("rank", "score") else "left")
    for row in rows:
        shown.add_row(*row)
    return shown


def _write(table, path):
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        columns, rows = _formatted(table)
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
