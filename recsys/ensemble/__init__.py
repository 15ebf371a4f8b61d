"""Ensembles: recommenders built from recommenders, stacked rating predictors, two-stage reranking."""

from recsys.ensemble._feature_weighted_stacking import FeatureWeightedStacking
from recsys.ensemble._presets import make_hybrid, make_rank_fusion, make_two_stage
from recsys.ensemble._rank_fusion import RankFusion
from recsys.ensemble._two_stage import TwoStageRecommender
from recsys.ensemble._weighted_hybrid import WeightedHybrid

__all__ = ["FeatureWeightedStacking", "RankFusion", "TwoStageRecommender", "WeightedHybrid",
           "make_hybrid", "make_rank_fusion", "make_two_stage"]
