"""SequentialRecommender's training loop: the early-stopping rule, the validation slice, epoch timings.

The rule is tested on hand-made score sequences: the failure it fixes (patience
counted on a noisy NDCG@10 of ~90 validation users stopped SASRec on ml-100k at
epoch 8, its loss still falling) is a property of the rule, not of a training run.
"""

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
import pandas as pd

from recsys.datasets import Interactions
from recsys.neural import SASRecConfig, SequentialRecommender
from recsys.neural._sequential import (
    _MIN_VALIDATION_USERS,
    _SMOOTHING_EPOCHS,
    _EarlyStopping,
    _validation_slice,
)


def run_rule(scores, patience):
    """(epochs run, epochs flagged best) when the rule sees these scores one epoch at a time."""
    rule, kept = _EarlyStopping(patience), []
    for epoch, score in enumerate(scores, start=1):
        best, stop = rule.update(score)
        if best:
            kept.append(epoch)
        if stop:
            return epoch, kept
    return len(scores), kept


def test_a_lucky_epoch_neither_stops_training_nor_is_kept():
    # Epoch 2 is a noise spike; the model then improves steadily but stays below the spike for 8 epochs.
    scores = [0.05, 0.09, 0.06, 0.065, 0.07, 0.075, 0.08, 0.082, 0.084, 0.086, 0.088, 0.089]
    epochs, kept = run_rule(scores, patience=3)
    assert epochs == len(scores)  # the raw rule (best 0.09 at epoch 2, patience 3) stopped after epoch 5
    assert kept[-1] == len(scores)  # the weights kept are the latest, not the spike's


def test_a_lucky_first_epoch_is_no_window_to_beat():
    # SASRec on MovieTweetings (validation NDCG@10 of seed 1, 2026-12-06): the first epoch scored above the
    # next ten. Taken as a window of one, it stopped the training at epoch 11 and was the weights kept.
    scores = [0.0883, 0.0796, 0.0846, 0.0820, 0.0779, 0.0749, 0.0732, 0.0742, 0.0866, 0.0832, 0.0832]
    epochs, kept = run_rule(scores, patience=10)
    assert epochs == len(scores) and kept == [3, 11]  # windows only: epoch 3's, then epoch 11's (0.0843)
    assert run_rule(scores[:2], patience=1) == (2, [])  # no full window yet: neither best nor stop


def test_stops_after_patience_epochs_on_a_plateau():
    scores = [0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    # Means of the last 3: 0.1, 0.15, 0.2, 0.267, 0.3 (epoch 5, best), then 0.3 never beaten.
    epochs, kept = run_rule(scores, patience=2)
    assert kept[-1] == 5 and epochs == 7


def test_a_falling_score_stops_and_keeps_the_end_of_the_best_window():
    scores = [0.2, 0.25, 0.3, 0.1, 0.05, 0.0, 0.0]
    epochs, kept = run_rule(scores, patience=3)
    assert kept[-1] == 3 and epochs == 6


def test_smoothing_window_is_documented_value():
    assert _SMOOTHING_EPOCHS == 3 and _MIN_VALIDATION_USERS == 256


@pytest.mark.parametrize(("n_users", "fraction", "expected"), [
    (120, 0.1, 60),      # 12 asked; 256 not available: half the eligible users
    (2000, 0.1, 256),    # 200 asked: raised to the floor
    (2000, 0.5, 1000),   # above the floor: as asked
    (2000, 0.0, 0),      # no validation
])
def test_validation_slice_has_a_floor(n_users, fraction, expected):
    rng = np.random.default_rng(0)
    sequences = [np.arange(5) + user % 7 for user in range(n_users)] + [np.arange(2)]  # the last: too short
    training, histories, targets = _validation_slice(sequences, fraction, 20, rng)
    if expected == 0:
        assert histories is None and targets is None and training is sequences
        return
    assert len(histories) == targets.shape[0] == expected
    shortened = [user for user in range(len(sequences)) if len(training[user]) < len(sequences[user])]
    assert len(shortened) == expected and len(training[-1]) == 2  # only eligible users lend their last event
    for user in shortened:
        np.testing.assert_array_equal(training[user], sequences[user][:-1])
    # Each held-out history is a shortened user's, its target that user's last event.
    held_out = sorted((*history.tolist(), target) for history, target in zip(histories, targets.indices, strict=True))
    assert held_out == sorted(tuple(sequences[user].tolist()) for user in shortened)


def fit_tiny(**params):
    """A one-block SASRec fitted on 30 users of 4 events each."""
    events = pd.DataFrame({"user": np.repeat(np.arange(30), 4), "item": np.arange(120) % 9,
                           "time": np.tile(np.arange(4), 30)})
    config = SASRecConfig(hidden_size=8, n_layers=1, n_heads=1, intermediate_size=8, max_len=5)
    model = SequentialRecommender(config, random_state=0, device="cpu", **params)
    return model.fit(Interactions.from_pandas(events, time_col="time"))


def test_history_records_epoch_seconds():
    model = fit_tiny(epochs=2, validation_fraction=0.2)
    assert [record["epoch"] for record in model.history_] == [1, 2]
    assert all(isinstance(record["seconds"], float) and record["seconds"] > 0 for record in model.history_)


@pytest.mark.parametrize(("schedule", "expected"), [
    # 4 epochs of 2 steps each (30 users, batch 16); the rate at each epoch's first step, of lr = 0.01.
    ("constant", [0.01, 0.01, 0.01, 0.01]),
    ("linear", [0.01, 0.0075, 0.005, 0.0025]),
    ("cosine", [0.01, 0.01 * (1 + np.cos(np.pi / 4)) / 2, 0.005, 0.01 * (1 + np.cos(3 * np.pi / 4)) / 2]),
])
def test_each_epoch_records_the_rate_its_schedule_gives(schedule, expected):
    model = fit_tiny(epochs=4, batch_size=16, lr=0.01, lr_schedule=schedule, validation_fraction=0)
    np.testing.assert_allclose([record["lr"] for record in model.history_], expected)


def test_an_unknown_schedule_is_refused_with_the_choices():
    events = pd.DataFrame({"user": [0, 0, 1, 1], "item": [0, 1, 1, 2], "time": [0, 1, 0, 1]})
    with pytest.raises(ValueError, match="lr_schedule.*cosine"):
        SequentialRecommender(lr_schedule="step").fit(Interactions.from_pandas(events, time_col="time"))


def test_settings_after_config_are_keyword_only():
    """A positional call cannot silently bind a setting to the parameter a later addition put in its place."""
    with pytest.raises(TypeError, match="positional"):
        SequentialRecommender(None, 50)
    assert SequentialRecommender(None, max_len=50).max_len == 50


@pytest.mark.parametrize("loss", ["bce", "gbce"])
def test_sampled_loss_scores_all_items_or_gathers_with_the_same_result(loss, monkeypatch):
    """The two ways recommendation_loss scores sampled negatives agree in loss and gradients."""
    import torch

    from recsys.neural import _sasrec
    from recsys.neural._sasrec import SASRecModel

    config = SASRecConfig(n_items=40, hidden_size=8, n_layers=1, n_heads=1, intermediate_size=8, max_len=6,
                          dropout=0.0, loss=loss, n_negatives=4)
    torch.manual_seed(0)
    model = SASRecModel(config)
    ids = torch.randint(0, 41, (3, 6), generator=torch.Generator().manual_seed(1))
    labels = torch.randint(1, 41, (3, 6), generator=torch.Generator().manual_seed(2))
    negatives = torch.randint(1, 41, (3, 6, 1 if loss == "bce" else 4), generator=torch.Generator().manual_seed(3))
    results = []
    for per_negative in (0, 10**6):  # 0: always gather; 10**6: always score every item
        monkeypatch.setattr(_sasrec, "_FULL_SCORES_PER_NEGATIVE", per_negative)
        model.zero_grad()
        output = model(ids, labels=labels, negative_ids=negatives)
        output.loss.backward()
        results.append((output.loss.detach(), model.item_embeddings.weight.grad.clone()))
    torch.testing.assert_close(results[0][0], results[1][0])
    torch.testing.assert_close(results[0][1], results[1][1])


def test_recommend_in_blocks_gives_what_one_block_gives(monkeypatch):
    """recommend ranks a block of histories at a time (bounded memory); blocks change nothing."""
    from recsys.neural import _sequential

    rng = np.random.default_rng(0)
    items = np.concatenate([rng.choice(30, size=6, replace=False) for _ in range(50)])
    events = pd.DataFrame({"user": np.repeat(np.arange(50), 6), "item": items,
                           "time": np.tile(np.arange(6), 50)})
    data = Interactions.from_pandas(events, time_col="time")
    config = SASRecConfig(hidden_size=8, n_layers=1, n_heads=1, intermediate_size=8, max_len=8)
    model = SequentialRecommender(config, epochs=1, batch_size=8, validation_fraction=0.0, random_state=0,
                                  device="cpu").fit(data)
    results = []
    for block_values in (1, 2**22):  # 1: blocks of batch_size (8) histories; 2**22: one block of all 50
        monkeypatch.setattr(_sequential, "_SCORE_BLOCK_VALUES", block_values)
        results.append((model.recommend(data, n=5), model.recommend(data, n=5, temperature=1.0, random_state=3)))
    for (ids_a, scores_a), (ids_b, scores_b) in zip(*results, strict=True):
        np.testing.assert_array_equal(ids_a, ids_b)
        np.testing.assert_allclose(scores_a, scores_b)
