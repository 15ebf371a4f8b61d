"""Input validation and small helpers shared by every recsys module."""

from recsys.utils._validation import (
    check_interaction_matrix,
    check_pairs,
    check_positive_int,
    check_ratings,
)

__all__ = ["check_interaction_matrix", "check_pairs", "check_positive_int", "check_ratings"]
