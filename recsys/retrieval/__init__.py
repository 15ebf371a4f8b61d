"""Approximate nearest-neighbour search, shared by every model family with vectors.

:class:`FaissNearestNeighbors` indexes vectors (item factors, item embeddings)
in faiss; :func:`retrieve_top_n` answers a model's top-N through such an index
instead of scoring the whole catalogue, and :func:`make_retrieval_index` turns
a model's ``retrieval=`` parameter into an index. A building block below the
model packages (see ARCHITECTURE.md): of recsys it imports only ``recsys.utils``.
"""

from recsys.retrieval._faiss import FaissNearestNeighbors
from recsys.retrieval._retrieval import make_retrieval_index, retrieve_top_n

__all__ = ["FaissNearestNeighbors", "make_retrieval_index", "retrieve_top_n"]
