"""Exponential-gain NDCG stays finite and exact for grades past float64's 2**1023."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.metrics import ndcg_at_k


def _exponential_ndcg_by_hand(grades_of_ranked, all_grades, k):
    """The ratio with every gain 2**grade - 1 scaled by 2**-(top grade), exactly (ldexp)."""
    top = max(all_grades)

    def dcg(grades):
        return sum((math.ldexp(1.0, grade - top) - math.ldexp(1.0, -top)) / math.log2(rank + 2)
                   for rank, grade in enumerate(grades[:k]))

    return dcg(grades_of_ranked) / dcg(sorted(all_grades, reverse=True))


def test_grade_2000_gives_the_exact_ratio():
    y_true = np.array([[2000.0, 1999.0, 0.0, 3.0]])
    y_pred = np.array([[1, 0, 3]])
    value = ndcg_at_k(y_true, y_pred, k=3, gain="exponential")
    assert np.isfinite(value)
    assert value == pytest.approx(_exponential_ndcg_by_hand([1999, 2000, 3], [2000, 1999, 3], 3), rel=1e-12)


def test_large_and_small_grades_side_by_side():
    y_true = sp.csr_matrix(np.array([[2000.0, 0.0, 5.0], [2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    y_pred = np.array([[2, 0, 1], [1, 0, 2], [0, 1, 2]])
    per_user = ndcg_at_k(y_true, y_pred, k=2, gain="exponential", average=False)
    assert per_user[0] == pytest.approx(_exponential_ndcg_by_hand([5, 2000], [2000, 5], 2), rel=1e-12)
    # The small-grade user is computed exactly as before the scaling existed.
    assert per_user[1] == ((2**1 - 1) + (2**2 - 1) / np.log2(3)) / ((2**2 - 1) + (2**1 - 1) / np.log2(3))
    assert np.isnan(per_user[2])


def test_one_large_grade_for_every_relevant_item():
    y_true = np.array([[1500.0, 1500.0, 0.0]])
    assert ndcg_at_k(y_true, np.array([[2, 0]]), k=2, gain="exponential") == pytest.approx(
        (1 / np.log2(3)) / (1 + 1 / np.log2(3)))
