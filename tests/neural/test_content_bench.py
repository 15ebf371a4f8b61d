"""ContentKNN in recsys-bench: the runner hands it one text per item from the data set's item side table."""

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
import pandas as pd

from recsys.bench import ModelEntry, run_benchmark
from recsys.bench._neural import make_content_knn
from recsys.datasets import Interactions

GENRES = ["space opera", "romantic comedy", "crime thriller", "animated family"]


def genre_fans(n_users=80, n_items=60, per_user=10, seed=0):
    """Each user watches films of one genre only: the text (the genre) predicts the held-out films."""
    rng = np.random.default_rng(seed)
    genre_of_item = np.arange(n_items) % len(GENRES)
    rows = [(user, item) for user in range(n_users)
            for item in rng.choice(np.flatnonzero(genre_of_item == user % len(GENRES)), per_user, replace=False)]
    features = pd.DataFrame({"title": [f"Film {item} ({1990 + item % 20})" for item in range(n_items)],
                             "genres": [GENRES[g].replace(" ", "|") for g in genre_of_item],
                             "year": 1990 + np.arange(n_items) % 20},
                            index=pd.Index(np.arange(n_items), name="item"))
    return Interactions.from_pandas(pd.DataFrame(rows, columns=["user", "item"]), item_features=features)


def test_item_texts_reach_content_knn_through_the_runner():
    data = genre_fans()
    result = run_benchmark(data, [ModelEntry("content-knn", "tfidf", {"embedder": "tfidf"}), ModelEntry("random")],
                           protocol="strong", n_folds=2, metrics="ndcg@10", trace_memory=False)
    ndcg = {row["label"]: row["ndcg@10"] for row in result.summary()}
    # Only the texts tell the genres apart: a content model given them ranks its users' genre first.
    assert ndcg["tfidf"] > 0.3 and ndcg["tfidf"] > 3 * ndcg["random"]


def test_data_without_item_texts_says_so():
    data = Interactions.from_csr(genre_fans().to_csr())
    with pytest.raises(ValueError, match="no item side table"):
        run_benchmark(data, [ModelEntry("content-knn", params={"embedder": "tfidf"})], protocol="strong",
                      n_folds=2, trace_memory=False)


def test_factory_names_the_embedder():
    assert make_content_knn().index == "flat" and type(make_content_knn().embedder).__name__ == "TransformerEmbedder"
    assert make_content_knn(embedder="tfidf", index="exact").index is None
    with pytest.raises(TypeError, match="embedder='bert'"):
        make_content_knn(embedder="bert")
    with pytest.raises(ValueError, match="rejects its parameters"):
        run_benchmark(genre_fans(), [ModelEntry("content-knn", params={"index": "ivf"})], n_folds=2)
