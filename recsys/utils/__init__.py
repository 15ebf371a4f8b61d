"""The bottom layer: input validation and the building blocks every recsys module shares.

Nothing here imports another recsys package (see ARCHITECTURE.md).

The public names are imported on first use (PEP 562), as in :mod:`recsys.bench`:
importing one private module (``recsys.utils._toml`` for the data-set registry)
runs this file, and it must not pull in numba, scikit-learn or pandas with it.
"""

from typing import TYPE_CHECKING

from recsys import _lazy_exports

#: public name -> the private module defining it
_EXPORTS = {
    "PersistenceMixin": "_persistence",
    "find_program": "_programs",
    "check_similar_items": "_similar_items",
    "cosine_similar_items": "_similar_items",
    "split_rows": "_split",
    "idle_threads": "_threads",
    "limit_blas_threads": "_threads",
    "numba_threads": "_threads",
    "pad_ranking": "_top_k",
    "top_k": "_top_k",
    "as_int64_indices": "_validation",
    "check_interaction_matrix": "_validation",
    "check_item_indices": "_validation",
    "check_pairs": "_validation",
    "check_positive_int": "_validation",
    "check_ratings": "_validation",
}

__all__ = [
    "PersistenceMixin",
    "as_int64_indices",
    "check_interaction_matrix",
    "check_item_indices",
    "check_pairs",
    "check_positive_int",
    "check_ratings",
    "check_similar_items",
    "cosine_similar_items",
    "find_program",
    "idle_threads",
    "limit_blas_threads",
    "numba_threads",
    "pad_ranking",
    "split_rows",
    "top_k",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ imports on demand
    from recsys.utils._persistence import PersistenceMixin
    from recsys.utils._programs import find_program
    from recsys.utils._similar_items import check_similar_items, cosine_similar_items
    from recsys.utils._split import split_rows
    from recsys.utils._threads import idle_threads, limit_blas_threads, numba_threads
    from recsys.utils._top_k import pad_ranking, top_k
    from recsys.utils._validation import (
        as_int64_indices,
        check_interaction_matrix,
        check_item_indices,
        check_pairs,
        check_positive_int,
        check_ratings,
    )


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
