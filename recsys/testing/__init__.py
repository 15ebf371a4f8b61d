"""Test helpers shared by recsys' own tests and by third-party recommenders."""

from recsys.testing._contract import RecommenderContract, contract_data
from recsys.testing._rating_contract import (
    RatingPredictorContract,
    rating_contract_data,
)

__all__ = ["RatingPredictorContract", "RecommenderContract", "contract_data", "rating_contract_data"]
