"""Tune the models of a quality suite with GridSearchCV, on the suite's own data.

Strong generalisation, as in the VAE-CF / EASE protocol: the script reads the
suite file (data set and dataset options), draws a validation share of the
users (seeded), folds GridSearchCV over those users with ``KFold`` and scores
each candidate with ``make_ranking_scorer("ndcg", k=100)`` (80/20 fold-in of
the held-out users). Every suite model whose label has a grid in :data:`GRIDS`
is tuned; the chosen parameters are printed as TOML ``params`` lines to paste
into the suite. The exact command that produced a suite's parameters is in the
suite's header, so ``recsys-bench run`` and this search read the same file.

    RECSYS_DATA_HOME=/work/shared/data python benchmarks/tune_neighbors.py \
        benchmarks/suites/ml100k-quality.toml
    RECSYS_DATA_HOME=/work/shared/data python benchmarks/tune_neighbors.py \
        benchmarks/suites/ml1m-pairs-quality.toml --validation-users 0.2 \
        --models ease,als --grid ease.l2=200.0,1000.0 --grid als.regularization=1.0

``--grid LABEL.PARAM=V1,V2`` replaces one parameter's candidates (TOML
literals); a single value fixes the parameter, e.g. ``--grid slim.k=100``.
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold

from recsys.bench._suite import apply_dataset_options, load_suite
from recsys.datasets import load_dataset
from recsys.factorization import ALS, BPR, PureSVD
from recsys.linear import EASE, SLIM
from recsys.metrics import make_ranking_scorer
from recsys.neighbors import ItemKNN, RP3beta, UserKNN
from recsys.utils._toml import tomllib

SHRINKS = [0.0, 10.0, 100.0]
NEIGHBOURS = [50, 200, 500]

# suite label -> (estimator class, fixed parameters, grid); the fixed parameters are printed with the
# chosen ones so that the suite entry is complete. Kept small: 2 cores, minutes per data set.
GRIDS = {
    "item-knn-cosine": (ItemKNN, {"similarity": "cosine"}, {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-bm25": (ItemKNN, {"similarity": "bm25"}, {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-tfidf": (ItemKNN, {"similarity": "tfidf"}, {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-jaccard": (ItemKNN, {"similarity": "jaccard"}, {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-asymmetric": (ItemKNN, {"similarity": "asymmetric"},
                            {"k": [200, 500], "alpha": [0.2, 0.5, 0.8], "shrink": [0.0, 10.0]}),
    "user-knn": (UserKNN, {"similarity": "cosine"}, {"k": [50, 100, 200, 400], "shrink": [0.0, 10.0]}),
    "rp3beta": (RP3beta, {}, {"alpha": [0.5, 1.0], "beta": [0.0, 0.3, 0.6], "k": [100, 300]}),
    "ease": (EASE, {}, {"l2": [50.0, 200.0, 500.0, 1000.0, 3000.0]}),
    "slim": (SLIM, {"k": 200, "n_jobs": -1}, {"l1": [0.1, 1.0], "l2": [10.0, 100.0]}),
    "pure-svd": (PureSVD, {"random_state": 0}, {"n_factors": [20, 50, 100, 200]}),
    "als": (ALS, {"random_state": 0}, {"n_factors": [32, 128], "alpha": [1.0, 5.0, 20.0],
                                       "regularization": [0.1, 10.0]}),
    "bpr": (BPR, {"random_state": 0}, {"n_factors": [64, 128], "learning_rate": [0.01, 0.05]}),
}


def parse_grid_override(text):
    """``LABEL.PARAM=V1,V2`` -> (label, param, [v1, v2]), the values read as TOML literals."""
    target, equals, values = text.partition("=")
    label, dot, param = target.partition(".")
    if not (equals and dot and label and param and values):
        raise SystemExit(f"--grid {text!r}: write it as LABEL.PARAM=V1,V2, e.g. slim.l1=0.1,1.0.")
    if label not in GRIDS:
        raise SystemExit(f"--grid {text!r}: no grid for {label!r}; labels with grids: {', '.join(GRIDS)}.")
    try:
        return label, param, tomllib.loads(f"values = [{values}]")["values"]
    except tomllib.TOMLDecodeError:
        raise SystemExit(f"--grid {text!r}: the values must be TOML literals, e.g. 0.1,1.0 or "
                         '"cosine","bm25".') from None


def toml_params(params):
    """Render parameters as an inline TOML table body: ``k = 50, similarity = "cosine"``."""
    return ", ".join(f"{key} = {value!r}".replace("'", '"') for key, value in params.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", help="suite TOML file, e.g. benchmarks/suites/ml100k-quality.toml")
    parser.add_argument("--validation-users", type=float, default=1.0,
                        help="share of the users the search runs on (seeded draw; default: all)")
    parser.add_argument("--folds", type=int, default=3, help="KFold splits over the validation users")
    parser.add_argument("--models", help="comma-separated subset of the suite's labels (default: all with a grid)")
    parser.add_argument("--grid", action="append", default=[], metavar="LABEL.PARAM=V1,V2",
                        help="replace the candidates of one parameter (repeatable)")
    args = parser.parse_args(argv)

    suite = load_suite(args.suite)
    labels = [entry.label for entry in suite.models if entry.label in GRIDS]
    if args.models:
        wanted = [label.strip() for label in args.models.split(",") if label.strip()]
        unknown = sorted(set(wanted) - set(labels))
        if unknown:
            raise SystemExit(f"--models: {unknown} are not suite models with a grid; choose from {labels}.")
        labels = [label for label in labels if label in wanted]
    grids = {label: dict(GRIDS[label][2]) for label in labels}
    for override in args.grid:
        label, param, values = parse_grid_override(override)
        grids.setdefault(label, dict(GRIDS[label][2]))[param] = values

    data = apply_dataset_options(load_dataset(suite.dataset, download=False), suite.dataset_options)
    X = data.to_csr(values="binary")
    if args.validation_users < 1.0:
        rng = np.random.default_rng(suite.seed + 1)
        users = rng.choice(X.shape[0], int(args.validation_users * X.shape[0]), replace=False)
        X = X[np.sort(users)]
    print(f"# {suite.dataset} ({args.suite}): tuning on {X.shape[0]} users x {X.shape[1]} items, "
          f"{X.nnz} interactions, KFold({args.folds}) over users, NDCG@100")
    scorer = make_ranking_scorer("ndcg", k=100)
    for label in labels:
        estimator_class, fixed, _ = GRIDS[label]
        started = time.perf_counter()
        search = GridSearchCV(estimator_class(**fixed), grids[label], scoring=scorer,
                              cv=KFold(args.folds, shuffle=True, random_state=suite.seed), refit=False)
        search.fit(X)
        params = {**fixed, **search.best_params_}
        print(f"{label}: params = {{ {toml_params(params)} }}  # NDCG@100 {search.best_score_:.4f}, "
              f"{len(search.cv_results_['params'])} candidates, {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
