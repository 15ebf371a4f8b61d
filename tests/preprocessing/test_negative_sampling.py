"""NegativeSampler: never an item the user has, seeded, the distribution each strategy promises."""

import numpy as np
import pandas as pd
import pytest

from recsys.datasets import Interactions, make_interactions
from recsys.preprocessing import NegativeSampler
from recsys.preprocessing._negative_sampling import (
    _popularity_allowed,
    _uniform_allowed,
)


@pytest.fixture(scope="module")
def events():
    frame = make_interactions(300, 60, density=0.08, random_state=0).to_pandas()
    # The generator gives a few users every item; they could get no negative.
    per_user = frame.groupby("user")["item"].transform("size")
    return frame[per_user < 50].reset_index(drop=True)


def _has(events):
    return set(zip(events["user"], events["item"]))


@pytest.mark.parametrize("strategy", ["uniform", "popularity"])
def test_never_an_item_the_user_has(events, strategy):
    table = NegativeSampler(3, strategy, random_state=0).fit_sample(events)
    assert len(table) == 4 * len(events)
    negatives = table[table["label"] == 0]
    assert not any(pair in _has(events) for pair in zip(negatives["user"], negatives["item"]))
    positives = table[table["label"] == 1]
    np.testing.assert_array_equal(positives["item"].to_numpy(), events["item"].to_numpy())
    # Each positive is followed by its own user's negatives.
    np.testing.assert_array_equal(table["user"].to_numpy(), np.repeat(events["user"].to_numpy(), 4))


def test_positives_of_new_users_and_held_out_pairs_are_excluded_too(events):
    sampler = NegativeSampler(20, random_state=0).fit(events)
    held_out = pd.DataFrame({"user": [10**6, 10**6, events["user"][0]], "item": [1, 2, 3]})
    table = sampler.sample(held_out)
    negatives = table[table["label"] == 0]
    new_user = negatives[negatives["user"] == 10**6]["item"]
    assert not new_user.isin([1, 2]).any()
    assert len(new_user) == 40
    known = negatives[negatives["user"] == events["user"][0]]["item"]
    assert not known.isin(list(events.loc[events["user"] == events["user"][0], "item"]) + [3]).any()


@pytest.mark.parametrize("strategy", ["uniform", "popularity"])
def test_seeded_and_repeatable(events, strategy):
    sampler = NegativeSampler(2, strategy, random_state=7).fit(events)
    pd.testing.assert_frame_equal(sampler.sample(events), sampler.sample(events))
    other = NegativeSampler(2, strategy, random_state=8).fit_sample(events)
    assert not other.equals(sampler.sample(events))


def test_uniform_draw_is_uniform_over_the_allowed_items():
    # User 0 has items 1, 2, 5 of 8: allowed 0, 3, 4, 6, 7, each 1/5.
    n_items = 8
    has_keys = np.array([1, 2, 5, 8 + 0])
    n_has = np.array([3, 1])
    rng = np.random.default_rng(0)
    draws = _uniform_allowed(np.zeros(50_000, dtype=np.int64), has_keys, n_has, n_items, rng)
    frequencies = np.bincount(draws, minlength=n_items) / len(draws)
    np.testing.assert_allclose(frequencies, [0.2, 0, 0, 0.2, 0.2, 0, 0.2, 0.2], atol=0.01)
    draws = _uniform_allowed(np.ones(10_000, dtype=np.int64), has_keys, n_has, n_items, rng)
    assert draws.min() == 1 and draws.max() == 7


def test_popularity_draw_follows_counts_over_the_allowed_items():
    counts = np.array([1, 2, 3, 4, 90])
    # User 0 holds item 4 (90% of the mass): rejection mostly fails, the exact fallback finishes.
    draws = _popularity_allowed(np.zeros(20_000, dtype=np.int64), np.array([4]), counts,
                                np.random.default_rng(0))
    frequencies = np.bincount(draws, minlength=5) / len(draws)
    np.testing.assert_allclose(frequencies, [0.1, 0.2, 0.3, 0.4, 0.0], atol=0.015)


def test_time_column_is_copied_to_negatives(events):
    table = NegativeSampler(2, time_col="timestamp", random_state=0).fit_sample(events)
    np.testing.assert_array_equal(table["timestamp"].to_numpy(),
                                  np.repeat(events["timestamp"].to_numpy(), 3))


def test_interactions_input(events):
    data = Interactions.from_pandas(events)
    table = NegativeSampler(1, random_state=0).fit_sample(data)
    assert len(table) == 2 * len(events)


def test_user_with_every_item_is_an_error():
    events = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "a"]})
    with pytest.raises(ValueError, match="have every catalogue item"):
        NegativeSampler(random_state=0).fit_sample(events)


@pytest.mark.parametrize("bad, error, message", [
    (lambda events: events.to_numpy(), TypeError, "DataFrame"),
    (lambda events: events.drop(columns="item"), ValueError, "lacks"),
    (lambda events: events.iloc[:0], ValueError, "empty"),
    (lambda events: events.assign(user=events["user"].where(events.index != 2)), ValueError, "no 'user'"),
])
def test_bad_input(events, bad, error, message):
    with pytest.raises(error, match=message):
        NegativeSampler().fit(bad(events))


@pytest.mark.parametrize("params", [{"n_negatives": 0}, {"strategy": "hard"}])
def test_bad_parameters(events, params):
    with pytest.raises(ValueError):
        NegativeSampler(**params).fit(events)
