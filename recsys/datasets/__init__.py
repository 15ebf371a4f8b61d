"""Interaction data: the Interactions container, the dataset registry, loaders and generators."""

from recsys.datasets._catalog import DatasetInfo, get_dataset_info, list_datasets
from recsys.datasets._download import DatasetNotFoundError, fetch_dataset
from recsys.datasets._generators import make_interactions, make_ratings
from recsys.datasets._home import get_data_home
from recsys.datasets._interactions import Interactions
from recsys.datasets._loaders import (
    load_dataset,
    load_interactions,
    load_lastfm,
    load_movielens,
    load_movietweetings,
)

__all__ = [
    "DatasetInfo",
    "DatasetNotFoundError",
    "Interactions",
    "fetch_dataset",
    "get_data_home",
    "get_dataset_info",
    "list_datasets",
    "load_dataset",
    "load_interactions",
    "load_lastfm",
    "load_movielens",
    "load_movietweetings",
    "make_interactions",
    "make_ratings",
]
