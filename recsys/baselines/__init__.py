"""Baseline recommenders: popularity and random."""

from recsys.baselines._popularity import PopularityRecommender
from recsys.baselines._random import RandomRecommender

__all__ = ["PopularityRecommender", "RandomRecommender"]
