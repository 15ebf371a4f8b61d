"""Recommender pipelines: transformers of the interaction matrix, then a recommender.

:class:`RecommenderPipeline` is a ``sklearn.pipeline.Pipeline`` with a
``recommend`` method; :func:`make_bm25_item_knn` and :func:`make_bm25_als` build
the two pipelines ``recsys-bench`` knows as ``bm25-item-knn`` and ``bm25-als``.
"""

from recsys.pipeline._pipeline import RecommenderPipeline, make_recommender_pipeline
from recsys.pipeline._presets import make_bm25_als, make_bm25_item_knn

__all__ = ["RecommenderPipeline", "make_bm25_als", "make_bm25_item_knn", "make_recommender_pipeline"]
