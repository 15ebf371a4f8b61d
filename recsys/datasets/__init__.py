"""Interaction data: the Interactions container, the dataset registry, loaders and generators.

The public names are imported on first use (PEP 562), as in :mod:`recsys.bench`:
``recsys-bench datasets`` reads the registry without importing pandas or scipy,
which only the loaders, generators and :class:`Interactions` need.
"""

from typing import TYPE_CHECKING

from recsys import _lazy_exports

#: public name -> the private module defining it
_EXPORTS = {
    "DatasetInfo": "_catalog",
    "get_dataset_info": "_catalog",
    "list_datasets": "_catalog",
    "DatasetNotFoundError": "_download",
    "fetch_dataset": "_download",
    "make_interactions": "_generators",
    "make_ratings": "_generators",
    "get_data_home": "_home",
    "Interactions": "_interactions",
    "load_dataset": "_loaders",
    "load_interactions": "_loaders",
    "load_lastfm": "_loaders",
    "load_movielens": "_loaders",
    "load_movietweetings": "_loaders",
}

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

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ imports on demand
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


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
