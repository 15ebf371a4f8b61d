"""Neighbourhood recommenders, kNN rating predictors and approximate nearest neighbours."""

from recsys.neighbors._item_knn import ItemKNN
from recsys.neighbors._knn_rating import KNNBaseline, KNNBasic, KNNWithMeans
from recsys.neighbors._rp3beta import RP3beta
from recsys.neighbors._slope_one import SlopeOne
from recsys.neighbors._user_knn import UserKNN
from recsys.retrieval import FaissNearestNeighbors

__all__ = ["FaissNearestNeighbors", "ItemKNN", "KNNBaseline", "KNNBasic", "KNNWithMeans", "RP3beta", "SlopeOne", "UserKNN"]
