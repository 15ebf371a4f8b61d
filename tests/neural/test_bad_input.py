"""The bad inputs issue 12 lists, beyond those of test_sequential.py / test_sasrec.py / test_dpo.py.

Empty histories, sequences longer than max_len, item ids outside the vocabulary, a config (or a
reference model) whose n_items disagrees with the data, missing or unreadable timestamps: each gives
an error that says what is wrong and how to fix it, through every entry point that takes them
(fit, recommend, fine_tune, fit_preferences, preference_pairs_from_ratings, SASRecModel).
"""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
import pandas as pd

from recsys.datasets import Interactions
from recsys.neural import (
    SASRecConfig,
    SASRecModel,
    SequentialRecommender,
    preference_pairs_from_ratings,
)

torch.set_num_threads(1)


def events(n_users=12, n_items=8, length=4, offset=0):
    rows = [(f"u{user}", f"i{(user + step) % n_items}", step, 1 + (user + step) % 5)
            for user in range(offset, offset + n_users) for step in range(length)]
    return pd.DataFrame(rows, columns=["user", "item", "time", "rating"])


def small_model(**overrides):
    config = SASRecConfig(hidden_size=8, n_layers=1, n_heads=1, intermediate_size=8, max_len=5)
    return SequentialRecommender(**{"config": config, "epochs": 1, "validation_fraction": 0.0, "random_state": 0,
                                    "device": "cpu", **overrides})


@pytest.fixture(scope="module")
def data():
    return Interactions.from_pandas(events(), rating_col="rating", time_col="time")


@pytest.fixture(scope="module")
def fitted(data):
    return small_model().fit(data)


# ---------------------------------------------------------------------- missing or unreadable timestamps
@pytest.mark.parametrize("times, message", [
    (pd.to_datetime(["2024-01-01", None, "2024-01-03"]), "1 event.*missing timestamp"),
    (np.array(["monday", "tuesday", "wednesday"], dtype=object), "numbers or datetimes"),
])
def test_missing_or_unreadable_timestamps(times, message):
    data = Interactions([0, 0, 0], [0, 1, 2], user_ids=["u"], item_ids=["a", "b", "c"], timestamps=times)
    with pytest.raises(ValueError, match=message):
        small_model().fit(data)
    with pytest.raises(ValueError, match=message):
        preference_pairs_from_ratings(Interactions([0, 0, 0], [0, 1, 2], user_ids=["u"], item_ids=["a", "b", "c"],
                                                   ratings=[5.0, 1.0, 5.0], timestamps=times))


def test_datetime_and_string_dates_are_ordered_like_numbers(data):
    frame = events()
    dated = frame.assign(time=pd.Timestamp("2024-01-01") + pd.to_timedelta(frame["time"], unit="D"))
    as_text = dated.assign(time=dated["time"].dt.strftime("%Y-%m-%d"))
    expected = small_model().fit(data).recommend(data, n=3)[0]
    for variant in (dated, as_text):
        got = small_model().fit(Interactions.from_pandas(variant, rating_col="rating", time_col="time"))
        np.testing.assert_array_equal(got.recommend(data, n=3)[0], expected)


def test_fine_tune_needs_timestamps(fitted, data):
    with pytest.raises(ValueError, match="no timestamps"):
        fitted.fine_tune(Interactions.from_csr(data.to_csr(), user_ids=data.user_ids, item_ids=data.item_ids))


# ---------------------------------------------------------------------- item ids outside the vocabulary
def test_fine_tune_on_items_fit_never_saw(fitted):
    new_items = Interactions.from_pandas(events(n_items=10, offset=7), time_col="time")  # i8 and i9 are new
    with pytest.raises(ValueError, match=r"2 item id\(s\) of X are outside the vocabulary of fit"):
        fitted.fine_tune(new_items)


# ---------------------------------------------------------------------- empty histories
def test_fine_tune_without_events_or_sequences(fitted, data):
    with pytest.raises(ValueError, match="no events to fine-tune on"):
        fitted.fine_tune(data.take(np.zeros(len(data), dtype=bool)))
    single_events = data.take(np.r_[True, np.zeros(len(data) - 1, dtype=bool)])
    with pytest.raises(ValueError, match="no user of X has 2 or more events"):
        fitted.fine_tune(single_events)


def test_fit_on_no_events(data):
    with pytest.raises(ValueError, match="no user has 2 or more events"):
        small_model().fit(data.take(np.zeros(len(data), dtype=bool)))


def test_model_on_an_all_padding_batch_gives_no_nan():
    # A batch row with no real token (an empty history padded) must not make attention NaN.
    model = SASRecModel(SASRecConfig(n_items=6, hidden_size=8, n_heads=2, max_len=4, n_layers=1)).eval()
    output = model(torch.tensor([[0, 0, 0], [0, 1, 2]]), labels=torch.tensor([[0, 0, 0], [0, 2, 3]]))
    assert torch.isfinite(output.loss) and torch.isfinite(output.last_hidden_state).all()


# ---------------------------------------------------------------------- sequences longer than max_len
def test_fit_reads_the_most_recent_max_len_events():
    long = Interactions.from_pandas(events(length=8, n_items=12), time_col="time")
    model = small_model().fit(long)  # histories of 8 events, max_len 5: trained on the last 6 (5 inputs)
    assert model.model_.config.max_len == 5
    with pytest.raises(ValueError, match=r"holds 8 items, more than max_len=5.*sequence\[-5:\]"):
        model.recommend([list(range(8))])


# ---------------------------------------------------------------------- n_items disagreeing with the data
def test_dpo_reference_on_other_items(fitted, data):
    other = small_model().fit(Interactions.from_pandas(events(n_items=9), time_col="time"))
    histories, pairs = preference_pairs_from_ratings(data)
    with pytest.raises(ValueError, match="reference must be fitted on the same 8 items; it has 9"):
        fitted.fit_preferences(histories, pairs, reference=other)


def test_config_built_for_another_catalogue(data):
    with pytest.raises(ValueError, match="config.n_items is 9 but the data has 8 items.*n_items=None"):
        small_model(config=SASRecConfig(n_items=9, hidden_size=8, n_heads=1, max_len=5)).fit(data)
