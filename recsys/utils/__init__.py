"""The bottom layer: input validation and the building blocks every recsys module shares.

Nothing here imports another recsys package (see ARCHITECTURE.md).
"""

from recsys.utils._persistence import PersistenceMixin
from recsys.utils._similar_items import check_similar_items, cosine_similar_items
from recsys.utils._split import split_rows
from recsys.utils._threads import idle_threads, limit_blas_threads, numba_threads
from recsys.utils._top_k import pad_ranking, top_k
from recsys.utils._validation import (
    check_interaction_matrix,
    check_item_indices,
    check_pairs,
    check_positive_int,
    check_ratings,
)

__all__ = [
    "PersistenceMixin",
    "check_interaction_matrix",
    "check_item_indices",
    "check_pairs",
    "check_positive_int",
    "check_ratings",
    "check_similar_items",
    "cosine_similar_items",
    "idle_threads",
    "limit_blas_threads",
    "numba_threads",
    "pad_ranking",
    "split_rows",
    "top_k",
]
