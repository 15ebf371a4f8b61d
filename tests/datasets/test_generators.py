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


def _taste_and_popularity(data, seed, n_users, n_items, n_interactions):
    """Mean <p_u, q_i> of the sampled pairs and item shares, from the generator's own latent model."""
    from recsys.datasets import _generators

    rng = np.random.default_rng(seed)
    _generators._interaction_counts(n_users, n_items, n_interactions, None, rng)
    user_factors, item_factors, _ = _generators._latent_model(n_users, n_items, 8, 1.0, rng)
    users, items = np.asarray(data.user_ids)[data.users], np.asarray(data.item_ids)[data.items]
    taste = np.einsum("ij,ij->i", user_factors[users], item_factors[items]).mean()
    return taste, np.bincount(items, minlength=n_items) / len(items)


@pytest.mark.slow
def test_candidate_sampling_above_the_cell_limit_is_close_to_exact_sampling(monkeypatch):
    from recsys.datasets import _generators

    size = (3000, 2000, 30_000)
    exact = make_interactions(*size[:2], n_interactions=size[2], random_state=0)
    monkeypatch.setattr(_generators, "_EXACT_MAX_CELLS", 0)
    sampled = make_interactions(*size[:2], n_interactions=size[2], random_state=0)
    assert (sampled.n_users, len(sampled)) == (size[0], size[2])
    assert np.array_equal(np.bincount(sampled.users), np.bincount(exact.users))  # same activity
    assert len(np.unique(sampled.users.astype(np.int64) * size[1] + sampled.items)) == size[2]
    exact_taste, exact_shares = _taste_and_popularity(exact, 0, *size)
    sampled_taste, sampled_shares = _taste_and_popularity(sampled, 0, *size)
    # Pairs follow the taste signal nearly as much as exact sampling's (random pairs: 0).
    assert sampled_taste == pytest.approx(exact_taste, rel=0.05)
    assert 0.5 * np.abs(sampled_shares - exact_shares).sum() < 0.15
    assert _gini(sampled_shares) == pytest.approx(_gini(exact_shares), abs=0.03)


def test_rows_asking_for_most_items_are_sampled_exactly_beside_candidates(monkeypatch):
    from recsys.datasets import _generators

    monkeypatch.setattr(_generators, "_EXACT_MAX_CELLS", 0)
    data = make_interactions(300, 40, n_interactions=3000, random_state=1)
    pairs = data.users.astype(np.int64) * 40 + data.items
    assert len(data) == len(np.unique(pairs)) == 3000
    assert data.n_users == 300
