"""Cold-item recall@20 of ContentKNN (MiniLM sentence embeddings, TF-IDF) against popularity, MovieLens latest-small.

Cold-item split: a random --cold-share of the movies (seed --seed) is held out of training, so their
columns of the training matrix are empty; every rating of a warm movie is a training interaction.
Each user with at least one held-out movie rated >= --min-rating is then given a ranking of the held-out
movies only (``recommend(..., items=cold)``), built from their training history; recall@20 counts the
held-out movies they rated >= --min-rating found in it. Item text: title and genres, and with
--tags also the MovieLens tags (tags come from the same users' activity, so they are not truly
cold-start information; both variants are reported with --tags), and with --no-year also the titles
without their release year. Popularity has no signal on cold movies (all counts are 0: it ranks them
by index, i.e. by movieId). MiniLM is run centred (ContentKNN's default, center="auto") and not
(center=False) on one embedding of the texts; its time is reported once.

    HF_HUB_OFFLINE=1 RECSYS_DATA_HOME=/work/shared/data python benchmarks/cold_start_content.py [--tags] [--no-year]
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp


def load(folder):
    ratings = pd.read_csv(folder / "ratings.csv")
    movies = pd.read_csv(folder / "movies.csv")
    tags = pd.read_csv(folder / "tags.csv").groupby("movieId")["tag"].agg(lambda t: ", ".join(map(str, t)))
    return ratings, movies, tags


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-share", type=float, default=0.2)
    parser.add_argument("--min-rating", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tags", action="store_true", help="also report item texts with tags")
    parser.add_argument("--no-year", action="store_true", help="also report titles without their release year")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("-k", type=int, default=20)
    args = parser.parse_args(argv)

    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import FunctionTransformer

    from recsys.baselines import PopularityRecommender
    from recsys.metrics import recall_at_k
    from recsys.neural import ContentKNN, TransformerEmbedder

    if args.threads:
        torch.set_num_threads(args.threads)
    folder = Path(os.environ.get("RECSYS_DATA_HOME", "")) / "ml-latest-small"
    if not (folder / "ratings.csv").is_file():
        raise SystemExit(f"MovieLens latest-small not found under {folder}: set RECSYS_DATA_HOME.")
    ratings, movies, tags = load(folder)
    movie_index = pd.Index(movies["movieId"])
    users, user_rows = np.unique(ratings["userId"], return_inverse=True)
    columns = movie_index.get_indexer(ratings["movieId"])
    n_users, n_items = len(users), len(movies)

    rng = np.random.default_rng(args.seed)
    cold = np.sort(rng.choice(n_items, size=int(args.cold_share * n_items), replace=False))
    is_cold = np.zeros(n_items, dtype=bool)
    is_cold[cold] = True
    warm_rating = ~is_cold[columns]
    X_train = sp.csr_matrix((np.ones(warm_rating.sum(), dtype=np.float32),
                             (user_rows[warm_rating], columns[warm_rating])), shape=(n_users, n_items))
    relevant = ~warm_rating & (ratings["rating"].to_numpy() >= args.min_rating)
    y_true = sp.csr_matrix((np.ones(relevant.sum()), (user_rows[relevant], columns[relevant])),
                           shape=(n_users, n_items))
    evaluated = np.flatnonzero((y_true.getnnz(axis=1) > 0) & (X_train.getnnz(axis=1) > 0))
    print(f"{n_users} users, {n_items} movies ({len(cold)} cold, held out of training), "
          f"{X_train.nnz} training ratings; {len(evaluated)} users with a cold movie rated >= {args.min_rating}")

    base_text = movies["title"] + ". " + movies["genres"].str.replace("|", ", ")
    variants = {"title+genres": base_text.tolist()}
    if args.tags:
        variants["title+genres+tags"] = (base_text + ". " + movies["movieId"].map(tags).fillna("")).tolist()
    if args.no_year:
        no_year = movies["title"].str.replace(r"\s*\(\d{4}\)\s*$", "", regex=True)
        variants["title without year+genres"] = (no_year + ". " + movies["genres"].str.replace("|", ", ")).tolist()

    def recall(model):
        ids, _ = model.recommend(X_train[evaluated], n=args.k, items=cold)
        return recall_at_k(y_true[evaluated], ids, k=args.k)

    rows = [("popularity", "-", recall(PopularityRecommender().fit(X_train)), 0.0)]
    for name, texts in variants.items():
        start = time.perf_counter()
        model = ContentKNN(embedder=TfidfVectorizer(sublinear_tf=True), index=None).fit(X_train, item_texts=texts)
        rows.append(("TF-IDF", name, recall(model), time.perf_counter() - start))
        # One MiniLM embedding of the texts, looked up by both ContentKNN variants.
        start = time.perf_counter()
        embeddings = TransformerEmbedder().fit().transform(texts)
        seconds = time.perf_counter() - start
        row_of = {text: row for row, text in enumerate(texts)}
        lookup = FunctionTransformer(lambda batch, e=embeddings, r=row_of: e[[r[text] for text in batch]])
        for label, center in (("MiniLM-L6, centred", "auto"), ("MiniLM-L6, uncentred", False)):
            model = ContentKNN(embedder=lookup, index="flat", center=center).fit(X_train, item_texts=texts)
            rows.append((label, name, recall(model), seconds))
            seconds = 0.0
    print(f"\n| model | item text | recall@{args.k} (cold movies) | fit / embedding s |\n|---|---|---|---|")
    for label, name, value, seconds in rows:
        print(f"| {label} | {name} | {value:.4f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
