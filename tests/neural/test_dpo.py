"""DPO of SequentialRecommender (fit_preferences) and preference pairs from ratings."""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

import numpy as np
import pandas as pd
from peft import LoraConfig

from recsys.datasets import Interactions
from recsys.neural import (
    SASRecConfig,
    SequentialRecommender,
    preference_pairs_from_ratings,
)
from recsys.neural._dpo import dpo_loss

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def events():
    users = np.repeat(np.arange(40), 8)
    items = (np.tile(np.arange(8), 40) + 2 * (users % 7)) % 15
    return Interactions.from_pandas(pd.DataFrame({"user": users, "item": items, "time": np.tile(np.arange(8), 40)}),
                                    time_col="time")


def fitted(events, seed=0):
    config = SASRecConfig(hidden_size=16, n_layers=1, n_heads=2, intermediate_size=16, dropout=0.0, max_len=10)
    return SequentialRecommender(config, epochs=2, validation_fraction=0.0, random_state=seed).fit(events)


HISTORIES = [[0, 1, 2], [5, 6], [3], [9, 10, 11, 12]]
PAIRS = np.array([[3, 7], [7, 1], [4, 14], [13, 2]])


def log_softmax_by_hand(model, histories, items):
    scores = model.recommend(histories, n=model.n_items_, exclude_seen=False)
    full = np.empty((len(histories), model.n_items_))
    np.put_along_axis(full, scores[0], scores[1], axis=1)
    log_probs = full - np.log(np.exp(full - full.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)) \
        - full.max(axis=1, keepdims=True)
    return log_probs[np.arange(len(items)), items]


def test_loss_equals_a_hand_computation(events):
    policy, reference = fitted(events, seed=0), fitted(events, seed=1)
    beta = 0.5
    margin = ((log_softmax_by_hand(policy, HISTORIES, PAIRS[:, 0]) - log_softmax_by_hand(reference, HISTORIES, PAIRS[:, 0]))
              - (log_softmax_by_hand(policy, HISTORIES, PAIRS[:, 1]) - log_softmax_by_hand(reference, HISTORIES, PAIRS[:, 1])))
    expected = np.mean(np.log1p(np.exp(-beta * margin)))  # -log sigmoid(x) = log(1 + e^-x)
    # one batch, so the recorded loss is that of the model before its only step
    policy.fit_preferences(HISTORIES, PAIRS, beta=beta, reference=reference)
    np.testing.assert_allclose(policy.preference_history_[0]["loss"], expected, rtol=1e-5)
    torch_loss = dpo_loss(*(torch.tensor(v) for v in (1.0, 0.5, 0.2, 0.9)), beta=2.0)
    np.testing.assert_allclose(float(torch_loss), np.log1p(np.exp(-2.0 * ((1.0 - 0.2) - (0.5 - 0.9)))), rtol=1e-6)


def test_reference_is_unchanged_and_chosen_log_ratio_grows(events):
    policy, reference = fitted(events, seed=0), fitted(events, seed=0)
    frozen = {name: value.clone() for name, value in reference.model_.state_dict().items()}
    chosen_before = log_softmax_by_hand(policy, HISTORIES, PAIRS[:, 0])
    rejected_before = log_softmax_by_hand(policy, HISTORIES, PAIRS[:, 1])
    policy.set_params(lr=1e-2).fit_preferences(HISTORIES, PAIRS, beta=0.1, reference=reference, epochs=5)
    assert all(torch.equal(frozen[name], value) for name, value in reference.model_.state_dict().items())
    chosen_gain = log_softmax_by_hand(policy, HISTORIES, PAIRS[:, 0]) - chosen_before
    rejected_gain = log_softmax_by_hand(policy, HISTORIES, PAIRS[:, 1]) - rejected_before
    assert np.all(chosen_gain - rejected_gain > 0)
    losses = [record["loss"] for record in policy.preference_history_]
    assert losses[0] == pytest.approx(np.log(2), rel=1e-5)  # policy == reference at the start
    assert losses[-1] < losses[0] and policy.preference_history_[-1]["reward_accuracy"] == 1.0


def test_default_reference_is_a_frozen_copy_and_lora_policy_trains_only_adapters(events):
    policy = fitted(events)
    policy.set_params(epochs=1).fine_tune(events, lora=LoraConfig(r=2, target_modules=["qkv", "out"]))
    before = {name: value.clone() for name, value in policy.model_.state_dict().items()}
    policy.set_params(lr=1e-2).fit_preferences(HISTORIES, PAIRS, epochs=3)
    changed = [name for name, value in policy.model_.state_dict().items() if not torch.equal(before[name], value)]
    assert changed and all("lora_" in name for name in changed)
    assert policy.preference_history_[0]["loss"] == pytest.approx(np.log(2), rel=1e-5)


def test_fit_preferences_input_errors(events):
    model = fitted(events)
    with pytest.raises(ValueError, match="beta must be a positive number"):
        model.fit_preferences(HISTORIES, PAIRS, beta=0)
    with pytest.raises(ValueError, match="shape \\(n_pairs, 2\\)"):
        model.fit_preferences(HISTORIES, PAIRS[:, 0])
    with pytest.raises(ValueError, match="one sequence per pair"):
        model.fit_preferences(HISTORIES[:2], PAIRS)
    with pytest.raises(ValueError, match="outside"):
        model.fit_preferences(HISTORIES, PAIRS + 10)
    with pytest.raises(ValueError, match="to itself"):
        model.fit_preferences(HISTORIES, np.array([[1, 1]] * 4))
    with pytest.raises(ValueError, match="this model itself"):
        model.fit_preferences(HISTORIES, PAIRS, reference=model)


def test_preference_pairs_from_ratings():
    frame = pd.DataFrame({"user": ["a"] * 5 + ["b"] * 3,
                          "item": ["x", "y", "z", "w", "v", "x", "y", "z"],
                          "rating": [5, 1, 4, 2, 5, 1, 5, 5],
                          "time": [1, 2, 3, 4, 5, 1, 2, 3]})
    data = Interactions.from_pandas(frame, rating_col="rating", time_col="time")
    histories, pairs = preference_pairs_from_ratings(data)
    index = {item: i for i, item in enumerate(data.item_ids)}
    named = [([data.item_ids[i] for i in history], data.item_ids[c], data.item_ids[r])
             for history, (c, r) in zip(histories, pairs)]
    # user a: x (t=0) has no history; z (t=2) is preferred to w, the first later dislike; v has none after it.
    # user b: its only dislike comes first, so no pair.
    assert named == [(["x", "y"], "z", "w")]
    assert pairs.dtype == np.int64 and pairs.shape == (1, 2) and index["z"] == pairs[0, 0]
    with pytest.raises(ValueError, match="no ratings"):
        preference_pairs_from_ratings(Interactions.from_pandas(frame.drop(columns="rating"), time_col="time"))
    with pytest.raises(ValueError, match="below like"):
        preference_pairs_from_ratings(data, like=2, dislike=4)
