"""Ready-made recommender pipelines, as ``recsys-bench`` runs them."""

from recsys.factorization import ALS
from recsys.neighbors import ItemKNN
from recsys.pipeline._pipeline import RecommenderPipeline
from recsys.preprocessing import InteractionWeighter


def make_bm25_item_knn(**params):
    """BM25-weighted items, then item kNN on their dot products.

    The model of implicit's ``BM25Recommender`` (same K1=1.2 and B=0.75, items
    as documents, unnormalised similarity) with recsys' ItemKNN, except that
    the fold-in rows are BM25-weighted too.

    Parameters
    ----------
    **params
        ``set_params`` keys of the pipeline, e.g. ``bm25__K1=2.0, knn__k=50``.

    Returns
    -------
    RecommenderPipeline
        Steps ``("bm25", InteractionWeighter)`` and ``("knn", ItemKNN)``.

    Examples
    --------
    >>> from recsys.pipeline import make_bm25_item_knn
    >>> make_bm25_item_knn(knn__k=50).get_params()["knn__k"]
    50
    """
    pipeline = RecommenderPipeline([
        ("bm25", InteractionWeighter("bm25", K1=1.2, B=0.75, documents="items")),
        ("knn", ItemKNN(k=100, similarity="cosine", normalize=False)),
    ])
    return pipeline.set_params(**params)


def make_bm25_als(**params):
    """BM25-weighted interactions as the confidences of implicit-feedback ALS.

    The recipe of implicit's last.fm example (K1=100, B=0.8, items as
    documents) in front of :class:`~recsys.factorization.ALS`.

    Parameters
    ----------
    **params
        ``set_params`` keys of the pipeline, e.g. ``als__factors=64, als__random_state=0``.

    Returns
    -------
    RecommenderPipeline
        Steps ``("bm25", InteractionWeighter)`` and ``("als", ALS)``.

    Examples
    --------
    >>> from recsys.pipeline import make_bm25_als
    >>> make_bm25_als(als__factors=16).get_params()["als__factors"]
    16
    """
    pipeline = RecommenderPipeline([
        ("bm25", InteractionWeighter("bm25", K1=100.0, B=0.8, documents="items")),
        ("als", ALS()),
    ])
    return pipeline.set_params(**params)
