import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.datasets import Interactions, make_interactions, make_ratings
from recsys.model_selection import (
    fold_in_split,
    leave_last_out,
    temporal_split,
    train_test_split,
)


@pytest.fixture(scope="module")
def data():
    return make_ratings(60, 30, n_ratings=600, random_state=0)


def _event_keys(part):
    return set(zip(part.users.tolist(), part.items.tolist()))


def assert_partition(data, train, test):
    """Disjoint parts that together hold every event, with the vocabularies kept."""
    assert len(train) + len(test) == len(data)
    assert not _event_keys(train) & _event_keys(test)
    assert _event_keys(train) | _event_keys(test) == _event_keys(data)
    for part in (train, test):
        np.testing.assert_array_equal(part.user_ids, data.user_ids)
        np.testing.assert_array_equal(part.item_ids, data.item_ids)
    merged = train.to_csr(values="rating") + test.to_csr(values="rating")
    assert (merged != data.to_csr(values="rating")).nnz == 0


@pytest.mark.parametrize("by", ["interaction", "user", "time"])
def test_train_test_split_partitions_the_events(data, by):
    train, test = train_test_split(data, test_size=0.25, by=by, random_state=0)
    assert_partition(data, train, test)


def test_interaction_split_takes_the_share_of_events(data):
    _, test = train_test_split(data, test_size=0.25, random_state=0)
    assert len(test) == 150


def test_user_split_keeps_users_whole(data):
    train, test = train_test_split(data, test_size=0.25, by="user", random_state=1)
    assert not set(train.users.tolist()) & set(test.users.tolist())
    assert len(set(test.users.tolist())) == 15


def test_split_is_reproducible(data):
    first = train_test_split(data, random_state=3)[1]
    assert first == train_test_split(data, random_state=3)[1]
    assert first != train_test_split(data, random_state=4)[1]


def test_leave_last_out_holds_out_each_users_latest_events(data):
    train, test = leave_last_out(data, n=2)
    assert_partition(data, train, test)
    for user in np.unique(data.users):
        user_train = train.timestamps[train.users == user]
        user_test = test.timestamps[test.users == user]
        if (data.users == user).sum() > 2:
            assert len(user_test) == 2 and user_test.min() >= user_train.max()
        else:
            assert len(user_test) == 0


def test_leave_last_out_breaks_time_ties_by_event_order():
    frame = pd.DataFrame({"user": [0, 0, 0], "item": [0, 1, 2], "timestamp": [5, 9, 9]})
    data = Interactions.from_pandas(frame, time_col="timestamp")
    _, test = leave_last_out(data)
    assert test.items.tolist() == [2]


def test_leave_last_out_holds_out_the_last_given_of_tied_events():
    # Items b, c, a tie at time 9 and are given in that order: a is the last, as a sequential model
    # reads it (Interactions.time_order), though the by-item order would make c the last.
    frame = pd.DataFrame({"user": [0, 0, 0, 0, 1, 1], "item": ["d", "b", "c", "a", "c", "b"],
                          "timestamp": [5, 9, 9, 9, 3, 3]})
    data = Interactions.from_pandas(frame, time_col="timestamp")
    _, test = leave_last_out(data)
    assert sorted(zip(data.user_ids[test.users], data.item_ids[test.items])) == [(0, "a"), (1, "b")]
    _, test = leave_last_out(data, n=3)
    assert sorted(data.item_ids[test.items[test.users == 0]]) == ["a", "b", "c"]


def test_temporal_split_holds_out_the_last_given_of_tied_events():
    # Four events tie at time 9 across users, given as (1, x), (0, y), (1, z), (0, x); the latest
    # share of 2 is the last two given, not the last two of the stored (user, item) order.
    frame = pd.DataFrame({"user": [0, 1, 0, 1, 0], "item": ["a", "x", "y", "z", "x"],
                          "timestamp": [1, 9, 9, 9, 9]})
    data = Interactions.from_pandas(frame, time_col="timestamp")
    train, test = temporal_split(data, test_size=0.4)
    assert len(train) == 3 and sorted(zip(data.user_ids[test.users], data.item_ids[test.items])) == [(0, "x"), (1, "z")]


@pytest.mark.parametrize("split", [lambda d: leave_last_out(d, n=2), lambda d: temporal_split(d, test_size=0.3)])
def test_input_order_changes_nothing_without_ties(split):
    # Distinct times: the splits of events given in a shuffled order equal those of the same
    # events without input_order (the stored order), event for event.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user": rng.integers(0, 15, 300), "item": rng.integers(0, 40, 300),
                          "timestamp": rng.permutation(300)}).drop_duplicates(["user", "item"])
    data = Interactions.from_pandas(frame, time_col="timestamp")
    stored = Interactions(data.users, data.items, user_ids=data.user_ids, item_ids=data.item_ids,
                          timestamps=data.timestamps)
    assert data.input_order is not None and stored.input_order is None
    for given, plain in zip(split(data), split(stored)):
        assert given == plain


def test_temporal_split_by_share_and_by_cutoff(data):
    train, test = temporal_split(data, test_size=0.2)
    assert_partition(data, train, test)
    assert len(test) == 120 and train.timestamps.max() < test.timestamps.min()
    cutoff = np.sort(data.timestamps)[300]
    train, test = temporal_split(data, cutoff=cutoff)
    assert_partition(data, train, test)
    assert (test.timestamps >= cutoff).all() and (train.timestamps < cutoff).all()


def test_time_splits_need_timestamps():
    no_time = Interactions.from_csr(sp.random(10, 10, density=0.3, random_state=0))
    for split in (lambda d: leave_last_out(d), lambda d: temporal_split(d, test_size=0.2),
                  lambda d: train_test_split(d, by="time")):
        with pytest.raises(ValueError, match="no timestamps"):
            split(no_time)


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, True, "0.2"])
def test_test_size_out_of_range(data, test_size):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(data, test_size=test_size)


def test_other_bad_arguments(data):
    with pytest.raises(ValueError, match="by must be"):
        train_test_split(data, by="item")
    with pytest.raises(TypeError, match="Interactions"):
        train_test_split(data.to_csr())
    with pytest.raises(ValueError, match="exactly one"):
        temporal_split(data)
    with pytest.raises(ValueError, match="empty"):
        temporal_split(data, cutoff=data.timestamps.max() + 1)
    with pytest.raises(ValueError, match="positive integer"):
        leave_last_out(data, n=0)


def test_fold_in_split_of_a_matrix_is_split_rows():
    X = make_interactions(40, 25, n_interactions=300, random_state=0).to_csr()
    fold_in, held_out = fold_in_split(X, fraction=0.7, random_state=0)
    assert fold_in.shape == held_out.shape == X.shape
    assert fold_in.multiply(held_out).nnz == 0
    assert ((fold_in + held_out) != X).nnz == 0
    counts = np.diff(X.indptr)
    expected = np.clip(np.rint(0.7 * counts), 1, np.maximum(counts - 1, 1))
    np.testing.assert_array_equal(np.diff(fold_in.indptr), np.where(counts < 2, counts, expected))


def test_fold_in_split_of_interactions_keeps_every_column(data):
    fold_in, held_out = fold_in_split(data, fraction=0.8, random_state=0)
    assert_partition(data, fold_in, held_out)
    expected_fold_in, _ = fold_in_split(data.to_csr(), fraction=0.8, random_state=0)
    assert (fold_in.to_csr() != expected_fold_in).nnz == 0
    merged = pd.concat([fold_in.to_pandas(), held_out.to_pandas()]).sort_values(["user", "item"])
    pd.testing.assert_frame_equal(merged.reset_index(drop=True),
                                  data.to_pandas().sort_values(["user", "item"]).reset_index(drop=True))
