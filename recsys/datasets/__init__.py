"""Interaction data: the Interactions container, loaders and generators."""

from recsys.datasets._generators import make_interactions, make_ratings
from recsys.datasets._interactions import Interactions

__all__ = ["Interactions", "make_interactions", "make_ratings"]
