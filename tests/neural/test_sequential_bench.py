"""recsys-bench's sequential protocols and the SASRec model rows, on tiny timestamped data."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from recsys.bench import (
    ModelEntry,
    cli,
    get_model,
    leave_last_out,
    leave_last_out_sampled,
    run_benchmark,
)
from recsys.bench._protocols import SAMPLED_NEGATIVES
from recsys.bench._runner import _restrict_to_candidates, resolve_models
from recsys.datasets import Interactions, make_interactions
from recsys.neural import SequentialRecommender

torch.set_num_threads(1)

TINY = {"hidden_size": 8, "n_layers": 1, "n_heads": 1, "intermediate_size": 8, "max_len": 8, "epochs": 1,
        "batch_size": 32}


@pytest.fixture(scope="module")
def data():
    # 300 items so that every user keeps at least SAMPLED_NEGATIVES unseen items.
    return make_interactions(40, 300, n_interactions=600, random_state=0)


def test_target_is_each_users_last_event_and_ties_go_to_the_later_event():
    events = pd.DataFrame({
        "user": ["a", "a", "a", "b", "b", "c"],
        "item": ["x", "y", "z", "y", "x", "z"],
        # a: y and z tie at the latest time; z comes later in the data, so it is the target.
        "time": [1, 5, 5, 2, 9, 3],
    })
    data = Interactions.from_pandas(events, time_col="time")
    (fold,) = leave_last_out(data)
    targets = {data.user_ids[user]: set(data.item_ids[fold.relevant[row].indices])
               for row, user in enumerate(fold.users)}
    # the later of the tied events, in the Interactions' own event order
    tied = [position for position in range(len(data))
            if data.user_ids[data.users[position]] == "a" and data.timestamps[position] == 5]
    assert targets == {"a": {data.item_ids[data.items[max(tied)]]}, "b": {"x"}}  # c has one event: not scored
    # the fold-in history is everything before the target, as a matrix and as time-stamped events
    assert fold.query.shape[0] == 2 and fold.query[0].nnz == 2 and fold.query[1].nnz == 1
    assert len(fold.train_events) == len(data) - 2
    np.testing.assert_array_equal(fold.train.toarray(), fold.train_events.to_csr(values="binary").toarray())


def test_every_evaluated_user_holds_out_exactly_their_latest_event(data):
    (fold,) = leave_last_out(data)
    assert (fold.relevant.getnnz(axis=1) == 1).all()
    assert fold.relevant.multiply(fold.query).nnz == 0
    frame = pd.DataFrame({"user": data.users, "item": data.items, "time": data.timestamps,
                          "order": np.arange(len(data))})
    latest = frame.sort_values(["user", "time", "order"]).groupby("user").tail(1).set_index("user")["item"]
    np.testing.assert_array_equal(fold.relevant.indices, latest.loc[fold.users].to_numpy())


def test_protocols_need_timestamps():
    no_time = Interactions.from_pandas(pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 1]}))
    for protocol in (leave_last_out, leave_last_out_sampled):
        with pytest.raises(ValueError, match="has no timestamps"):
            protocol(no_time)


def test_sampled_negatives_are_unseen_seeded_and_include_the_target(data):
    (fold,) = leave_last_out_sampled(data, random_state=3)
    assert (fold.candidates.getnnz(axis=1) == SAMPLED_NEGATIVES + 1).all()
    assert fold.candidates.multiply(fold.relevant).nnz == fold.relevant.nnz  # the target is a candidate
    assert fold.candidates.multiply(fold.query).nnz == 0  # never a seen item
    (again,) = leave_last_out_sampled(data, random_state=3)
    (other,) = leave_last_out_sampled(data, random_state=4)
    assert (fold.candidates != again.candidates).nnz == 0
    assert (fold.candidates != other.candidates).nnz > 0


def test_sampled_protocol_refuses_a_catalogue_too_small_for_its_negatives():
    with pytest.raises(ValueError, match="fewer than the 100 sampled negatives"):
        leave_last_out_sampled(make_interactions(30, 50, n_interactions=300, random_state=0))


def test_restrict_to_candidates_keeps_the_ranking_order():
    import scipy.sparse as sp

    ranked = np.array([[4, 2, 0, 3, 1], [1, 0, 3, -1, -1]])
    candidates = sp.csr_matrix(np.array([[1, 0, 0, 1, 1], [0, 0, 1, 1, 0]]))
    np.testing.assert_array_equal(_restrict_to_candidates(ranked, candidates, 2), [[4, 0], [3, -1]])


def test_registry_rows_build_the_variants():
    sasrec, gsasrec, rope_moe = (get_model(name) for name in ("sasrec", "gsasrec", "sasrec-rope-moe"))
    for spec in (sasrec, gsasrec, rope_moe):
        assert spec.input == "sequence" and spec.extra == "neural" and spec.available
        assert isinstance(spec.build(), SequentialRecommender)
    assert sasrec.build().loss == "bce" and sasrec.build().config.position_encoding == "learned"
    model = gsasrec.build(epochs=3)
    assert (model.loss, model.n_negatives, model.config.gbce_t, model.epochs) == ("gbce", 256, 0.75, 3)
    config = rope_moe.build().config
    assert (config.position_encoding, config.ffn) == ("rope", "moe")
    with pytest.raises(TypeError, match="unknown parameter"):
        sasrec.build(hiden_size=8)


def test_without_torch_the_rows_are_listed_unavailable_and_skipped(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "torch" else real_find_spec(name, *args))
    assert not get_model("sasrec").available
    runnable, skipped = resolve_models([ModelEntry("sasrec"), ModelEntry("pop")], "topn", "leave-last-out")
    assert [entry.name for entry, _ in runnable] == ["pop"]
    assert "recsys[neural]" in skipped["sasrec"]


def test_listing_models_imports_no_torch():
    code = ("import sys; from recsys.bench import list_models; "
            "names = {spec.name for spec in list_models()}; "
            "assert {'sasrec', 'gsasrec', 'sasrec-rope-moe'} <= names; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sequence_models_need_a_protocol_with_time_order(data):
    with pytest.raises(ValueError, match="time-ordered event sequences"):
        run_benchmark(data, [ModelEntry("sasrec", params=TINY)], protocol="strong", n_folds=2)


def test_full_and_sampled_runs_score_matrix_and_sequence_models(data):
    models = [ModelEntry("pop"), ModelEntry("sasrec", params={**TINY, "random_state": 0})]
    full = run_benchmark(data, models, protocol="leave-last-out", metrics="ndcg@10,recall@10", trace_memory=False)
    sampled = run_benchmark(data, models, protocol="leave-last-out-sampled", metrics="ndcg@10,recall@10",
                            trace_memory=False)
    assert full.metadata["metrics"] == ["ndcg@10", "recall@10"]
    assert sampled.metadata["metrics"] == ["ndcg@10-sampled100", "recall@10-sampled100"]
    for result in (full, sampled):
        assert [row["label"] for row in result.summary()] == ["pop", "sasrec"]
        for fold in result.folds:
            assert all(0.0 <= value <= 1.0 for value in fold.metrics.values())
    # ranking among 101 candidates is easier than among all items: never a lower hit rate
    for model in ("pop", "sasrec"):
        full_recall = next(r for r in full.folds if r.label == model).metrics["recall@10"]
        assert next(r for r in sampled.folds if r.label == model).metrics["recall@10-sampled100"] >= full_recall


def test_a_sequential_suite_runs_through_recsys_bench(tmp_path, monkeypatch, data):
    monkeypatch.setattr(cli, "load_data", lambda name, data_home=None, download=False: data)
    suite = tmp_path / "tiny-sequential.toml"
    suite.write_text(f"""
[suite]
name = "tiny-sequential"
dataset = "synthetic"
protocol = "leave-last-out"
folds = 1
metrics = ["ndcg@10", "recall@10"]

[[models]]
name = "ease"
params = {{ l2 = 10.0 }}

[[models]]
name = "gsasrec"
params = {{ {", ".join(f"{key} = {value}" for key, value in TINY.items())}, n_negatives = 8, random_state = 0 }}
""")
    output = tmp_path / "result.json"
    assert cli.main(["run", str(suite), "--no-memory", "--output", str(output)]) == 0
    document = json.loads(output.read_text())
    assert document["metadata"]["protocol"] == "leave-last-out"
    assert [row["label"] for row in document["summary"]] == ["ease", "gsasrec"]


@pytest.mark.parametrize("config", [None, {"position_encoding": "rope", "ffn": "moe", "n_experts": 2, "moe_top_k": 1}])
def test_save_load_round_trip_gives_identical_recommendations(tmp_path, data, config):
    from recsys.neural import SASRecConfig

    if config is not None:
        config = SASRecConfig(hidden_size=8, n_layers=1, n_heads=1, intermediate_size=8, **config)
    model = SequentialRecommender(config, epochs=1, max_len=8, random_state=0).fit(data)
    path = model.save(tmp_path / "sasrec")
    assert "model_weights_" not in vars(model) and "model_config_" not in vars(model)
    with np.load(path, allow_pickle=False) as archive:  # arrays and JSON only
        assert "attr:model_weights_" in archive.files
    loaded = SequentialRecommender.load(path)
    for before, after in zip(model.recommend(data, n=5), loaded.recommend(data, n=5), strict=True):
        np.testing.assert_array_equal(before, after)
    assert loaded.model_.config.position_from == model.model_.config.position_from == "end"
    assert (loaded.config is None) == (config is None)
    if config is not None:
        assert loaded.config.to_dict() == config.to_dict()
    np.testing.assert_array_equal(loaded.item_ids_, model.item_ids_)
    assert loaded.history_ == model.history_
    loaded.model_.save_pretrained(tmp_path / "hf")  # the Hugging Face format stays available
    assert (tmp_path / "hf" / "config.json").is_file()


def test_load_refuses_weights_that_do_not_fit_the_config(tmp_path, data):
    model = SequentialRecommender(epochs=1, max_len=8, random_state=0,
                                  config=get_model("sasrec").build(**TINY).config).fit(data)
    path = model.save(tmp_path / "sasrec")
    with np.load(path, allow_pickle=False) as archive:
        entries = {name: archive[name] for name in archive.files}
    entries["attr:model_weights_"] = entries["attr:model_weights_"][:-3]
    np.savez(path, **entries)
    with pytest.raises(ValueError, match="model_weights_ holds"):
        SequentialRecommender.load(path)
