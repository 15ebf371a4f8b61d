"""Tune the neighbourhood and linear recommenders with GridSearchCV before a quality run.

Strong generalisation, as in the VAE-CF / EASE protocol: a validation share of
the users is drawn (seeded), GridSearchCV folds over those users with
``KFold`` and scores each candidate with ``make_ranking_scorer("ndcg", k=100)``
(80/20 fold-in of the held-out users). The chosen parameters are printed as
TOML ``params`` lines to paste into benchmarks/suites/<dataset>-quality.toml.

    RECSYS_DATA_HOME=/work/shared/data python benchmarks/tune_neighbors.py ml-100k --binarize 4
    RECSYS_DATA_HOME=/work/shared/data python benchmarks/tune_neighbors.py ml-1m-pairs \
        --validation-users 0.5 --models item-knn-cosine,rp3beta,ease
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold

from recsys.bench._suite import apply_dataset_options
from recsys.datasets import load_dataset
from recsys.linear import EASE, SLIM
from recsys.metrics import make_ranking_scorer
from recsys.neighbors import ItemKNN, RP3beta, UserKNN

SHRINKS = [0.0, 10.0, 100.0]
NEIGHBOURS = [50, 200, 500]

# label -> (estimator, grid). Kept small: 2 cores, minutes per data set.
GRIDS = {
    "item-knn-cosine": (ItemKNN(similarity="cosine"), {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-bm25": (ItemKNN(similarity="bm25"), {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-tfidf": (ItemKNN(similarity="tfidf"), {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-jaccard": (ItemKNN(similarity="jaccard"), {"k": NEIGHBOURS, "shrink": SHRINKS}),
    "item-knn-asymmetric": (ItemKNN(similarity="asymmetric"),
                            {"k": [200, 500], "alpha": [0.2, 0.5, 0.8], "shrink": [0.0, 10.0]}),
    "user-knn": (UserKNN(similarity="cosine"), {"k": [50, 100, 200, 400], "shrink": [0.0, 10.0]}),
    "rp3beta": (RP3beta(), {"alpha": [0.5, 1.0], "beta": [0.0, 0.3, 0.6], "k": [100, 300]}),
    "ease": (EASE(), {"l2": [50.0, 200.0, 500.0, 1000.0, 3000.0]}),
    "slim": (SLIM(n_jobs=-1, k=200), {"l1": [0.1, 1.0], "l2": [10.0, 100.0]}),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="registered data set, e.g. ml-100k or ml-1m-pairs")
    parser.add_argument("--binarize", type=float, default=None,
                        help="keep ratings >= this as the interactions (as the suite does)")
    parser.add_argument("--min-user-interactions", type=int, default=5)
    parser.add_argument("--validation-users", type=float, default=1.0,
                        help="share of the users the search runs on (seeded draw)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", default=",".join(GRIDS),
                        help=f"comma-separated subset of {', '.join(GRIDS)}")
    args = parser.parse_args(argv)

    data = apply_dataset_options(load_dataset(args.dataset, download=False), {
        "binarize": args.binarize, "min_user_interactions": args.min_user_interactions})
    X = data.to_csr(values="binary")
    if args.validation_users < 1.0:
        rng = np.random.default_rng(1)
        users = rng.choice(X.shape[0], int(args.validation_users * X.shape[0]), replace=False)
        X = X[np.sort(users)]
    print(f"# {args.dataset}: tuning on {X.shape[0]} users x {X.shape[1]} items, "
          f"{X.nnz} interactions, KFold({args.folds}) over users, NDCG@100")
    scorer = make_ranking_scorer("ndcg", k=100)
    for label in args.models.split(","):
        estimator, grid = GRIDS[label]
        started = time.perf_counter()
        search = GridSearchCV(estimator, grid, scoring=scorer,
                              cv=KFold(args.folds, shuffle=True, random_state=0), refit=False)
        search.fit(X)
        fixed = {key: value for key, value in estimator.get_params().items()
                 if key in ("similarity", "n_jobs")}
        params = {**fixed, **search.best_params_}
        rendered = ", ".join(f"{key} = {value!r}".replace("'", '"') for key, value in params.items())
        print(f"{label}: params = {{ {rendered} }}  # NDCG@100 {search.best_score_:.4f}, "
              f"{time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
