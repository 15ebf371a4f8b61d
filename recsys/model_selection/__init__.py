"""Splitters for interaction data.

``train_test_split``, ``leave_last_out`` and ``temporal_split`` split the
events of an :class:`~recsys.datasets.Interactions` into train and test
parts that keep its vocabularies, so their matrices line up.
``fold_in_split`` splits the rows of held-out users into the part a
recommender folds in and the part it is scored on.
"""

from recsys.model_selection._fold_in import fold_in_split
from recsys.model_selection._split import (
    leave_last_out,
    temporal_split,
    train_test_split,
)

__all__ = ["fold_in_split", "leave_last_out", "temporal_split", "train_test_split"]
