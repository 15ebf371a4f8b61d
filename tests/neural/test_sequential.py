"""SequentialRecommender: fit on time-ordered Interactions, recommend after histories.

recsys.testing.RecommenderContract feeds users x items matrices, which a
sequential model refuses (they hold no order); the parts of it that apply are
restated here on histories: shapes, sorted scores, exclude_seen, padding,
item restriction, empty batch, batch consistency, determinism, pickling,
cloning, thread sharing, unfitted use, bad n and bad items.
"""

import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from recsys.baselines import PopularityRecommender
from recsys.datasets import Interactions
from recsys.metrics import ndcg_at_k
from recsys.neural import SASRecConfig, SequentialRecommender
from recsys.neural._sequential import _time_ordered_histories

torch.set_num_threads(1)

N_ITEMS = 24


def successor_events(n_users=120, seed=0):
    """Each user walks i, i+1, i+2, ... (mod N_ITEMS) from a random start: a pattern only order reveals."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        start, length = rng.integers(N_ITEMS), rng.integers(4, 9)
        for step in range(length):
            rows.append((f"u{user}", f"i{(start + step) % N_ITEMS:02d}", 1000 * user + step))
    frame = pd.DataFrame(rows, columns=["user", "item", "time"])
    # Shuffle the rows: the order must come from the timestamps.
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def tiny_config(**overrides):
    settings = {"hidden_size": 16, "n_layers": 1, "n_heads": 2, "intermediate_size": 32, "dropout": 0.0,
                "max_len": 10}
    return SASRecConfig(**{**settings, **overrides})


def make_model(**overrides):
    settings = {"config": tiny_config(), "epochs": 30, "batch_size": 32, "lr": 1e-2, "random_state": 0,
                "validation_fraction": 0.0, "device": "cpu"}
    return SequentialRecommender(**{**settings, **overrides})


@pytest.fixture(scope="module")
def data():
    return Interactions.from_pandas(successor_events(), time_col="time")


@pytest.fixture(scope="module")
def fitted(data):
    return make_model().fit(data)


def item_index(data, labels):
    return data.item_index([f"i{label % N_ITEMS:02d}" for label in labels])


# ---------------------------------------------------------------------- learning
def test_learns_the_successor_pattern_and_beats_popularity(data, fitted):
    test = Interactions.from_pandas(successor_events(60, seed=1), time_col="time")
    histories = _time_ordered_histories(test)
    # Serve each test user its history less the last event, which is held out.
    fold_in = [test_history[:-1] for test_history in histories]
    held_out = sp.csr_matrix((np.ones(len(histories)), (np.arange(len(histories)),
                                                         [history[-1] for history in histories])),
                             shape=(len(histories), N_ITEMS))
    # The test data sees every item, so its vocabulary is the training one.
    assert list(test.item_ids) == list(data.item_ids)
    ids, _ = fitted.recommend(fold_in, n=10)
    sequential = ndcg_at_k(held_out, ids, k=10)
    fold_in_matrix = sp.csr_matrix((np.ones(sum(map(len, fold_in))),
                                    (np.repeat(np.arange(len(fold_in)), list(map(len, fold_in))),
                                     np.concatenate(fold_in))), shape=(len(fold_in), N_ITEMS))
    popularity_ids, _ = PopularityRecommender().fit(data.to_csr()).recommend(fold_in_matrix, n=10)
    popular = ndcg_at_k(held_out, popularity_ids, k=10)
    assert sequential > popular + 0.3, (sequential, popular)
    # The successor of the last item is the top recommendation for most users.
    top = ids[:, 0]
    expected = [(history[-1] + 1) % N_ITEMS for history in fold_in]
    assert np.mean(top == np.asarray(expected)) > 0.8


def test_interactions_and_sequences_give_the_same_recommendations(data, fitted):
    users = data.user_ids[:5]
    from_interactions = fitted.recommend(data, users=users, n=5)
    sequences = [_time_ordered_histories(data)[row] for row in data.user_index(users)]
    from_sequences = fitted.recommend(sequences, n=5)
    np.testing.assert_array_equal(from_interactions[0], from_sequences[0])
    np.testing.assert_allclose(from_interactions[1], from_sequences[1], rtol=1e-6)


def test_histories_are_in_time_order_ties_in_input_order():
    frame = pd.DataFrame({"user": ["a", "a", "a", "a", "b"], "item": [3, 1, 2, 0, 1], "time": [5, 1, 5, 0, 9]})
    data = Interactions.from_pandas(frame, time_col="time")
    histories = _time_ordered_histories(data)
    # user a: item 0 (t=0), item 1 (t=1), then items 3 and 2 tie at t=5: in the rows' order, not by item.
    np.testing.assert_array_equal(histories[0], data.item_index([0, 1, 3, 2]))
    np.testing.assert_array_equal(histories[1], data.item_index([1]))
    # Reversing the tied rows reverses them in the history; subsets keep the input order.
    swapped = Interactions.from_pandas(frame.iloc[[2, 1, 0, 3, 4]], time_col="time")
    np.testing.assert_array_equal(_time_ordered_histories(swapped)[0], data.item_index([0, 1, 2, 3]))
    np.testing.assert_array_equal(_time_ordered_histories(data.subset(items=[3, 2, 1]))[0],
                                  data.item_index([1, 3, 2]))


def test_fit_reads_ties_in_input_order():
    """Every user gives items 0, 2, 1, 3 in this row order, with 2 and 1 at the same time: 2 -> 1 -> 3."""
    rows = np.tile([0, 2, 1, 3], 40)
    frame = pd.DataFrame({"user": np.repeat(np.arange(40), 4), "item": rows, "time": np.tile([0, 1, 1, 2], 40)})
    data = Interactions.from_pandas(frame, time_col="time")
    config = SASRecConfig(hidden_size=16, n_layers=1, n_heads=1, intermediate_size=16, dropout=0.0)
    model = SequentialRecommender(config, epochs=60, lr=1e-2, validation_fraction=0.0, random_state=0).fit(data)
    # By item index (the storage order) the tie would read 1 -> 2 and 3 would follow [0, 2].
    ids, _ = model.recommend([[0, 2]], n=1)
    assert ids[0, 0] == data.item_index([1])[0]


def test_order_matters(fitted):
    forward, _ = fitted.recommend([[3, 4, 5]], n=1, exclude_seen=False)
    backward, _ = fitted.recommend([[5, 4, 3]], n=1, exclude_seen=False)
    assert forward[0, 0] == 6 and backward[0, 0] != forward[0, 0]


# ---------------------------------------------------------------------- recommend's contract
def test_shapes_types_and_sorted_scores(fitted):
    ids, scores = fitted.recommend([[1, 2], [7], [3, 9, 4]], n=6)
    assert ids.shape == scores.shape == (3, 6) and ids.dtype == np.int64
    assert ((ids >= 0) & (ids < N_ITEMS)).all() and np.isfinite(scores).all()
    assert (np.diff(scores, axis=1) <= 0).all()


def test_exclude_seen(fitted):
    histories = [[1, 2, 3], [5, 6, 7, 8]]
    ids, _ = fitted.recommend(histories, n=10)
    for row, history in enumerate(histories):
        assert not np.isin(ids[row], history).any() and len(np.unique(ids[row])) == 10
    included, _ = fitted.recommend([[3, 4, 5]], n=1, exclude_seen=False)
    assert included.shape == (1, 1)


def test_pads_when_too_few_items(fitted):
    ids, scores = fitted.recommend([[1, 2, 3]], n=N_ITEMS + 2)
    assert (ids[0, :N_ITEMS - 3] >= 0).all() and (ids[0, N_ITEMS - 3:] == -1).all()
    assert np.isneginf(scores[0, N_ITEMS - 3:]).all()
    full, _ = fitted.recommend([[1, 2, 3]], n=N_ITEMS, exclude_seen=False)
    assert sorted(full[0]) == list(range(N_ITEMS))


def test_items_restriction(fitted):
    allowed = np.arange(0, N_ITEMS, 3)
    ids, _ = fitted.recommend([[1, 2], [4]], n=20, items=allowed)
    assert np.isin(ids[ids >= 0], allowed).all() and (ids[:, len(allowed):] == -1).all()


def test_empty_batch(fitted):
    ids, scores = fitted.recommend([], n=3)
    assert ids.shape == scores.shape == (0, 3)


def test_batch_and_single_histories_agree(fitted):
    histories = [[1, 2], [7], [3, 9, 4, 10, 11], [0]]
    ids, scores = fitted.recommend(histories, n=5)
    for row, history in enumerate(histories):
        single_ids, single_scores = fitted.recommend([history], n=5)
        np.testing.assert_array_equal(single_ids[0], ids[row])
        np.testing.assert_allclose(single_scores[0], scores[row], rtol=1e-5, atol=1e-5)


def test_deterministic_with_random_state_and_pickle(data, fitted):
    histories = [[1, 2, 3], [8]]
    first, second = make_model(epochs=3).fit(data), make_model(epochs=3).fit(data)
    np.testing.assert_allclose(first.recommend(histories)[1], second.recommend(histories)[1], rtol=1e-5)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.recommend(histories)[0], fitted.recommend(histories)[0])


def test_fit_leaves_torch_global_random_state_alone(data):
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    make_model(epochs=1).fit(data)
    assert torch.equal(torch.rand(1), expected)


def test_clone_keeps_params_and_config_is_not_modified(data):
    config = tiny_config()
    model = make_model(config=config, epochs=1, max_len=6, loss="bce")
    cloned = clone(model)
    assert cloned.get_params().keys() == model.get_params().keys()
    model.fit(data)
    assert config.n_items is None and config.max_len == 10 and config.loss == "ce"
    assert (model.model_.config.n_items, model.model_.config.max_len, model.model_.config.loss) == (N_ITEMS, 6, "bce")


def test_threads_sharing_a_fitted_model_agree(fitted):
    batches = [[[1, 2, 3], [4]], [[7, 8], [9, 10, 11]]]
    expected = [fitted.recommend(batch, n=5) for batch in batches]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda slot: [fitted.recommend(batches[slot], n=5) for _ in range(5)], range(2)))
    for slot, slot_answers in enumerate(answers):
        for ids, _ in slot_answers:
            np.testing.assert_array_equal(ids, expected[slot][0])


def test_temperature_sampling_is_seeded_and_diverse(fitted):
    histories = [[1, 2, 3]] * 20
    first = fitted.recommend(histories, n=5, temperature=2.0, random_state=0)
    second = fitted.recommend(histories, n=5, temperature=2.0, random_state=0)
    np.testing.assert_array_equal(first[0], second[0])
    ids, scores = first
    assert len({tuple(row) for row in ids}) > 1  # different lists for the same history
    assert not np.isin(ids, [1, 2, 3]).any()
    for row in ids:
        assert len(np.unique(row)) == 5
    # The scores are the model's scores of the sampled items.
    full_ids, full_scores = fitted.recommend([[1, 2, 3]], n=N_ITEMS, exclude_seen=False)
    lookup = dict(zip(full_ids[0], full_scores[0]))
    np.testing.assert_allclose(scores[0], [lookup[item] for item in ids[0]], rtol=1e-5)
    # A very low temperature is the arg-max ranking.
    cold, _ = fitted.recommend([[1, 2, 3]], n=5, temperature=1e-6, random_state=1)
    np.testing.assert_array_equal(cold, fitted.recommend([[1, 2, 3]], n=5)[0])


def test_sampling_pads_like_ranking(fitted):
    ids, scores = fitted.recommend([[1, 2]], n=5, items=[1, 2, 3, 4], temperature=1.0, random_state=0)
    assert sorted(ids[0, :2]) == [3, 4] and (ids[0, 2:] == -1).all() and np.isneginf(scores[0, 2:]).all()


# ---------------------------------------------------------------------- training options
@pytest.mark.parametrize("loss", ["bce", "gbce"])
def test_sampled_losses_train(data, loss):
    model = make_model(loss=loss, n_negatives=4, epochs=3).fit(data)
    losses = [record["loss"] for record in model.history_]
    assert losses[-1] < losses[0]


def test_moe_reports_expert_utilisation(data, capsys):
    model = make_model(config=tiny_config(ffn="moe", n_experts=3, moe_top_k=1), epochs=2, verbose=1).fit(data)
    assert model.expert_utilization_.shape == (1, 3)
    np.testing.assert_allclose(model.expert_utilization_.sum(axis=1), 1.0)
    printed = capsys.readouterr().out
    assert "epoch 2/2: loss" in printed and "expert utilisation" in printed
    assert make_model(epochs=1).fit(data).expert_utilization_ is None


def test_validation_slice_and_early_stopping(data, capsys):
    model = make_model(validation_fraction=0.3, epochs=40, patience=2, verbose=1).fit(data)
    ndcgs = [record["val_ndcg"] for record in model.history_]
    assert all(0.0 <= value <= 1.0 for value in ndcgs)
    # The weights kept end the best 3-epoch window of validation NDCG@10 (see test_sequential_training.py).
    smoothed = [np.mean(ndcgs[end - 2:end + 1]) for end in range(2, len(ndcgs))]
    assert model.best_epoch_ == int(np.argmax(smoothed)) + 3
    stopped_early = len(model.history_) < 40
    if stopped_early:  # the last `patience` epochs did not beat the best window
        assert model.best_epoch_ == len(ndcgs) - 2
    assert "validation NDCG@10" in capsys.readouterr().out


def test_long_histories_train_on_their_last_window_and_recommend_reads_the_last_max_len(data, fitted):
    long_frame = pd.DataFrame({"user": "z", "item": [f"i{i % N_ITEMS:02d}" for i in range(15)],
                               "time": np.arange(15)})
    long_user = Interactions.from_pandas(long_frame, time_col="time")
    # Its items are a subset of the training vocabulary: a 15-event history served as its last 10.
    remapped = Interactions(long_user.users, data.item_index(long_user.item_ids)[long_user.items],
                            user_ids=long_user.user_ids, item_ids=data.item_ids, timestamps=long_user.timestamps)
    ids, _ = fitted.recommend(remapped, n=3, exclude_seen=False)
    last_ten = data.item_index([f"i{i % N_ITEMS:02d}" for i in range(5, 15)])
    np.testing.assert_array_equal(ids, fitted.recommend([last_ten], n=3, exclude_seen=False)[0])
    # exclude_seen covers the whole history, older than the window too.
    unseen, _ = fitted.recommend(remapped, n=N_ITEMS)
    assert set(unseen[0][unseen[0] >= 0]) == set(range(N_ITEMS)) - set(data.item_index(long_user.item_ids))


# ---------------------------------------------------------------------- bad input
def test_matrix_input_refused_with_the_reason(data, fitted):
    with pytest.raises(TypeError, match="does not hold"):
        make_model().fit(data.to_csr())
    with pytest.raises(TypeError, match="list of item-index sequences"):
        fitted.recommend(data.to_csr()[:3])
    with pytest.raises(TypeError, match="list of item-index sequences"):
        fitted.recommend(np.array([[1, 2, 3]]))


def test_missing_timestamps(data):
    with pytest.raises(ValueError, match="no timestamps"):
        make_model().fit(Interactions.from_csr(data.to_csr()))
    nan_times = Interactions(data.users, data.items, user_ids=data.user_ids, item_ids=data.item_ids,
                             timestamps=np.where(np.arange(len(data)) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match="1 event.*missing timestamp"):
        make_model().fit(nan_times)


def test_config_n_items_must_match_the_data(data):
    with pytest.raises(ValueError, match="config.n_items is 99 but the data has 24 items"):
        make_model(config=tiny_config(n_items=99)).fit(data)


def test_no_sequence_to_learn_from():
    single = Interactions.from_pandas(pd.DataFrame({"user": [1, 2], "item": [1, 2], "time": [0, 0]}),
                                      time_col="time")
    with pytest.raises(ValueError, match="no user has 2 or more events"):
        make_model().fit(single)


@pytest.mark.parametrize("histories, error, message", [
    ([[]], ValueError, "sequence 0 is empty"),
    ([[1], list(range(11))], ValueError, r"sequence 1 holds 11 items, more than max_len=10.*sequence\[-10:\]"),
    ([[1, N_ITEMS]], ValueError, r"outside the vocabulary \[0, 24\): \[24\]"),
    ([[-1]], ValueError, "outside the vocabulary"),
    ([[1.5]], TypeError, "integer item indices"),
    ([[[1, 2]]], ValueError, "1-d sequence"),
])
def test_bad_histories_rejected(fitted, histories, error, message):
    with pytest.raises(error, match=message):
        fitted.recommend(histories)


def test_interactions_with_unknown_items_or_empty_histories_rejected(data, fitted):
    frame = pd.DataFrame({"user": ["x", "x"], "item": ["i01", "new"], "time": [0, 1]})
    with pytest.raises(ValueError, match=r"1 item id\(s\) of X are outside the vocabulary of fit, e.g. \['new'\]"):
        fitted.recommend(Interactions.from_pandas(frame, time_col="time"))
    some_users = data.take(data.users < 3)  # keeps the whole user vocabulary
    with pytest.raises(ValueError, match="have an empty history.*users="):
        fitted.recommend(some_users)
    ids, _ = fitted.recommend(some_users, users=data.user_ids[:3])
    assert ids.shape == (3, 10)
    with pytest.raises(KeyError, match="not in X"):
        fitted.recommend(data, users=["nobody"])


def test_unfitted_and_bad_arguments(fitted):
    with pytest.raises(NotFittedError):
        make_model().recommend([[1]])
    for n in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            fitted.recommend([[1]], n=n)
    with pytest.raises(ValueError, match="item indices in"):
        fitted.recommend([[1]], items=[N_ITEMS])
    for temperature in (0, -1.0, float("nan"), "hot"):
        with pytest.raises(ValueError, match="temperature must be a positive number"):
            fitted.recommend([[1]], temperature=temperature)
    with pytest.raises(ValueError, match="users= selects users"):
        fitted.recommend([[1]], users=["u1"])


@pytest.mark.parametrize("params, message", [
    ({"epochs": 0}, "epochs"),
    ({"loss": "bpr"}, "loss"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"device": "tpu"}, "device must be"),
    ({"device": "cuda:0"} if not torch.cuda.is_available() else {"device": "nonsense"}, "device"),
])
def test_bad_parameters_rejected(data, params, message):
    with pytest.raises(ValueError, match=message):
        make_model(**params).fit(data)
