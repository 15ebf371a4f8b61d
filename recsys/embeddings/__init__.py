"""Item and user embeddings, similarities and softmax sampling."""

from recsys.embeddings._cooccurrence import CooccurrenceEmbedding
from recsys.embeddings._factor_embeddings import ItemEmbeddings, UserEmbeddings
from recsys.embeddings._sampling import sample_recommendations, softmax
from recsys.embeddings._similarity import similarity

__all__ = [
    "CooccurrenceEmbedding",
    "ItemEmbeddings",
    "UserEmbeddings",
    "sample_recommendations",
    "similarity",
    "softmax",
]
