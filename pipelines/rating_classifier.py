"""Will this user rate this movie 4 or more? Classifiers on PairFeatures and item genres.

The rating events are split at random into training and held-out events
(``--test-size``, seeded). Each (user, item) pair is described by
``recsys.preprocessing.PairFeatures`` (user and item event counts, rating
mean and spread, item popularity rank; with ``--mf`` also a BiasedMF
prediction and its rank among the user's items) and by the item's genre
flags; the label is ``rating >= 4``. Features of the training pairs are
computed out of fold (``PairFeatures`` fitted on the other ``--feature-folds``
folds of the training events), so that a pair's own rating never enters its
features, as it cannot for a held-out pair, whose features come from all
training events.

Classifiers: ``HistGradientBoostingClassifier``, ``RandomForestClassifier``
and a ``StackingClassifier`` of both (logistic regression on their
out-of-fold probabilities). Reported on the held-out events: precision,
recall and F1 of the positive class at probability 0.5, ROC-AUC and average
precision; the ROC and precision-recall curves of every classifier are
written as PNG (scikit-learn's ``RocCurveDisplay`` and
``PrecisionRecallDisplay``) under ``--output``, with the table as CSV.

Data: ``generated`` (``recsys.datasets.make_ratings`` with a synthetic item
attribute, see :func:`generated_events`) or ``ml-100k`` (u.data and the
genre flags of u.item).

    python pipelines/rating_classifier.py
    RECSYS_DATA_HOME=/path/to/data python pipelines/rating_classifier.py --dataset ml-100k --output out

MovieLens is read from --data-home or RECSYS_DATA_HOME (never shipped with recsys).
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from recsys.factorization import BiasedMF
from recsys.preprocessing import PairFeatures

#: Synthetic genres of the generated data and the rating shift each gives its items.
GENERATED_GENRE_SHIFTS = {"bright": 0.8, "grim": -0.8, "plain": 0.0, "odd": 0.3}


def generated_events(random_state=0):
    """Generated ratings with a synthetic item attribute: genre flags that shift ratings.

    ``recsys.datasets.make_ratings`` draws the ratings from a biased
    latent-factor model. Each item then gets each genre of
    ``GENERATED_GENRE_SHIFTS`` with probability 0.3, independently, and its
    ratings are shifted by the sum of its genres' shifts (rounded, clipped
    to 1..5), so the flags carry signal about the label as real genres do.

    Returns the events (user, item, rating) and the items' genre flags
    (DataFrame indexed by item, one 0/1 column per genre).
    """
    from recsys.datasets import make_ratings

    rng = np.random.default_rng(random_state)
    events = make_ratings(500, 200, density=0.08, random_state=random_state).to_pandas()
    items = np.unique(events["item"])
    flags = pd.DataFrame((rng.random((len(items), len(GENERATED_GENRE_SHIFTS))) < 0.3).astype(np.int8),
                         index=items, columns=list(GENERATED_GENRE_SHIFTS))
    shift = flags.to_numpy() @ np.array(list(GENERATED_GENRE_SHIFTS.values()))
    shifted = events["rating"].to_numpy() + pd.Series(shift, index=items).loc[events["item"]].to_numpy()
    events["rating"] = np.clip(np.round(shifted), 1, 5)
    return events[["user", "item", "rating"]], flags


def movielens_events(data_home=None):
    """ML-100K's ratings and the genre flags of u.item (one 0/1 column per genre)."""
    from recsys.datasets import load_movielens

    data = load_movielens("100k", data_home=data_home, download=False)
    genres = data.item_features["genres"].fillna("").str.get_dummies(sep="|")
    return data.to_pandas()[["user", "item", "rating"]], genres.astype(np.int8)


def pair_features(with_mf=False, seed=0):
    models = [("mf", BiasedMF(random_state=seed))] if with_mf else []
    return PairFeatures(time=False, models=models)


def describe(pairs, fitted, genres):
    """PairFeatures of the pairs and the genre flags of their items (0 for an item without any)."""
    features = pd.DataFrame(fitted.transform(pairs), columns=fitted.get_feature_names_out(), index=pairs.index)
    flags = genres.reindex(pairs["item"].to_numpy()).fillna(0).to_numpy()
    features[[f"genre_{name}" for name in genres.columns]] = flags
    return features


def out_of_fold_features(train, genres, folds=5, with_mf=False, seed=0):
    """Features of each training pair from PairFeatures fitted on the other folds of the training events."""
    parts = []
    for fit_rows, feature_rows in KFold(folds, shuffle=True, random_state=seed).split(train):
        fitted = pair_features(with_mf, seed).fit(train.iloc[fit_rows])
        parts.append(describe(train.iloc[feature_rows], fitted, genres))
    return pd.concat(parts).loc[train.index]


def classifiers(seed=0):
    hgb = HistGradientBoostingClassifier(learning_rate=0.1, max_leaf_nodes=31, random_state=seed)
    # NaN features (a user or item absent from a feature fold) are what HGB handles natively; the forest
    # gets the imputation scikit-learn's RandomForest does itself for missing values (since 1.4).
    forest = RandomForestClassifier(n_estimators=200, min_samples_leaf=20, n_jobs=1, random_state=seed)
    return {
        "hist_gradient_boosting": hgb,
        "random_forest": forest,
        "stacking": StackingClassifier(
            [("hgb", hgb), ("forest", forest)],
            final_estimator=make_pipeline(StandardScaler(), LogisticRegression()), cv=3),
    }


def scores(y_true, probability):
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, probability >= 0.5, average="binary", zero_division=0)
    return {"precision": precision, "recall": recall, "f1": f1,
            "roc_auc": roc_auc_score(y_true, probability),
            "average_precision": average_precision_score(y_true, probability)}


def plot_curves(y_true, probabilities, output):
    """ROC and precision-recall curves of every classifier: roc.png and precision_recall.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    paths = []
    for display, filename in ((RocCurveDisplay, "roc.png"), (PrecisionRecallDisplay, "precision_recall.png")):
        fig, ax = plt.subplots(figsize=(6, 5))
        for name, probability in probabilities.items():
            display.from_predictions(y_true, probability, name=name, ax=ax)
        if display is RocCurveDisplay:
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
        ax.set_title("rating >= 4 on held-out events")
        ax.legend(loc="lower right" if display is RocCurveDisplay else "lower left")
        fig.tight_layout()
        fig.savefig(output / filename, dpi=120)
        plt.close(fig)
        paths.append(output / filename)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["generated", "ml-100k"], default="generated")
    parser.add_argument("--data-home", default=None, help="folder holding ml-100k/ (default RECSYS_DATA_HOME)")
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--feature-folds", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=4.0, help="label: rating >= threshold")
    parser.add_argument("--mf", action="store_true", help="add a BiasedMF prediction and rank to PairFeatures")
    parser.add_argument("--classifiers", nargs="+", choices=list(classifiers()), default=list(classifiers()))
    parser.add_argument("--n-threads", type=int, default=1,
                        help="OpenMP threads of gradient boosting (more than the idle cores slows it down many times)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="rating_classifier_output")
    args = parser.parse_args(argv)

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    events, genres = generated_events(args.seed) if args.dataset == "generated" else movielens_events(args.data_home)
    train, test = train_test_split(events, test_size=args.test_size, random_state=args.seed)
    X_train = out_of_fold_features(train, genres, args.feature_folds, args.mf, args.seed)
    X_test = describe(test, pair_features(args.mf, args.seed).fit(train), genres)
    y_train = (train["rating"] >= args.threshold).to_numpy()
    y_test = (test["rating"] >= args.threshold).to_numpy()

    models = classifiers(args.seed)
    probabilities, rows = {}, []
    for name in args.classifiers:
        # On a shared machine HistGradientBoosting's OpenMP threads wait for busy cores:
        # 6400 pairs took 95 s with the default threads under load, about 1 s with one.
        with threadpool_limits(limits=args.n_threads, user_api="openmp"):
            probabilities[name] = models[name].fit(X_train, y_train).predict_proba(X_test)[:, 1]
        rows.append({"classifier": name, **scores(y_test, probabilities[name])})
    table = pd.DataFrame(rows).set_index("classifier")
    table.to_csv(output / "rating_classifier.csv")
    print(f"{args.dataset}: {len(train)} training, {len(test)} held-out events; "
          f"rating >= {args.threshold:g} for {y_test.mean():.0%} of the held-out ones; "
          f"{X_train.shape[1]} features ({genres.shape[1]} genre flags)")
    print(table.to_string(float_format=lambda value: f"{value:.4f}"))
    plot_curves(y_test, probabilities, output)
    return table


if __name__ == "__main__":
    main()
