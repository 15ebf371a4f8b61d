import numpy as np
import pytest

from recsys.datasets import make_interactions, make_ratings


def _gini(counts):
    counts = np.sort(counts)
    n = len(counts)
    return float((2 * np.arange(1, n + 1) - n - 1) @ counts / (n * counts.sum()))


def test_shape_and_size():
    data = make_interactions(200, 100, n_interactions=2000, random_state=0)
    assert (data.n_users, len(data)) == (200, 2000)
    assert data.n_items <= 100
    assert data.timestamps is not None
    assert len(make_interactions(50, 40, density=0.1, random_state=0)) == 200


def test_popularity_and_activity_are_long_tailed():
    data = make_interactions(500, 300, n_interactions=10_000, random_state=0)
    item_counts = np.bincount(data.items, minlength=data.n_items)
    user_counts = np.bincount(data.users, minlength=data.n_users)
    assert _gini(item_counts) > 0.3
    assert np.mean(user_counts) > np.median(user_counts)  # right skew
    flat = make_interactions(500, 300, n_interactions=10_000, popularity_exponent=0.0,
                             affinity=0.0, random_state=0)
    assert _gini(np.bincount(flat.items)) < _gini(item_counts)


def test_same_seed_same_data_other_seed_other_data():
    assert make_interactions(100, 50, random_state=3) == make_interactions(100, 50, random_state=3)
    assert make_interactions(100, 50, random_state=3) != make_interactions(100, 50, random_state=4)
    assert make_ratings(80, 40, random_state=3) == make_ratings(80, 40, random_state=3)


def test_ratings_are_integers_in_scale():
    data = make_ratings(100, 50, n_ratings=1000, rating_scale=(1, 5), random_state=0)
    assert set(np.unique(data.ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    with pytest.raises(ValueError, match="low < high"):
        make_ratings(10, 10, rating_scale=(5, 1))


def test_rejects_both_size_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        make_interactions(10, 10, n_interactions=5, density=0.1)
