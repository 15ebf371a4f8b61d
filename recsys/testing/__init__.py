"""Test helpers shared by recsys' own tests and by third-party recommenders."""

from recsys.testing._contract import RecommenderContract, contract_data

__all__ = ["RecommenderContract", "contract_data"]
