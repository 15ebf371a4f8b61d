"""Factor-model embeddings, co-occurrence embeddings, similarity and softmax sampling."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

from recsys.datasets import Interactions, make_interactions
from recsys.embeddings import (
    CooccurrenceEmbedding,
    ItemEmbeddings,
    UserEmbeddings,
    sample_recommendations,
    similarity,
    softmax,
)
from recsys.embeddings._cooccurrence import positive_pmi

# scikit-learn checks that apply to transformers whose input is ids or an interaction matrix.
_SKLEARN_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_do_not_raise_errors_in_init_or_set_params",
)

_FACTORS = SimpleNamespace(item_factors_=np.arange(12.0).reshape(4, 3), user_factors_=-np.eye(3))


@pytest.fixture(scope="module")
def interactions():
    return make_interactions(300, 60, density=0.1, random_state=0)


@pytest.mark.parametrize("estimator", [ItemEmbeddings(_FACTORS), UserEmbeddings(_FACTORS),
                                       CooccurrenceEmbedding(n_components=4, random_state=0)],
                         ids=["item", "user", "cooccurrence"])
@pytest.mark.parametrize("check_name", _SKLEARN_CHECKS + ("check_parameters_default_constructible",))
def test_sklearn_checks(estimator, check_name):
    if check_name == "check_parameters_default_constructible" and not isinstance(estimator,
                                                                                 CooccurrenceEmbedding):
        pytest.skip("the wrapped model is a required argument, as in sklearn's meta-estimators")
    getattr(estimator_checks, check_name)(type(estimator).__name__, estimator)


def test_factor_embeddings_look_up_rows():
    items = ItemEmbeddings(_FACTORS).fit()
    np.testing.assert_array_equal(items.transform(np.array([[3], [1]])), _FACTORS.item_factors_[[3, 1]])
    np.testing.assert_array_equal(UserEmbeddings(_FACTORS).fit_transform([0, 2]), -np.eye(3)[[0, 2]])
    assert list(items.get_feature_names_out()) == ["item_embedding0", "item_embedding1", "item_embedding2"]


def test_factor_embeddings_in_a_pipeline():
    features = make_pipeline(ItemEmbeddings(_FACTORS), StandardScaler()).fit_transform([0, 1, 2, 3])
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-12)


def test_implicit_style_attribute_is_accepted():
    model = SimpleNamespace(item_factors=np.ones((2, 2)))
    np.testing.assert_array_equal(ItemEmbeddings(model).fit().transform([1]), [[1.0, 1.0]])


@pytest.mark.parametrize("bad, error, message", [
    ([4], ValueError, r"\[0, 4\)"), ([-1], ValueError, r"\[0, 4\)"), ([0.5], ValueError, "integer"),
])
def test_factor_embeddings_bad_indices(bad, error, message):
    with pytest.raises(error, match=message):
        ItemEmbeddings(_FACTORS).fit().transform(bad)


def test_factor_embeddings_need_a_fitted_model():
    with pytest.raises(NotFittedError, match="item_factors_"):
        ItemEmbeddings(SimpleNamespace()).fit()
    with pytest.raises(NotFittedError):
        UserEmbeddings(_FACTORS).transform([0])


def test_positive_pmi_by_hand():
    counts = sp.csr_matrix(np.array([[0, 2, 1], [2, 0, 0], [1, 0, 0]], dtype=float))
    # total 6; marginals 3, 2, 1: pmi(0, 1) = log(2 * 6 / 6) = log 2, pmi(0, 2) = log(6 / 3) = log 2.
    expected = np.array([[0, np.log(2), np.log(2)], [np.log(2), 0, 0], [np.log(2), 0, 0]])
    np.testing.assert_allclose(positive_pmi(counts).toarray(), expected)


def test_cooccurrence_groups_items_of_the_same_users():
    # Two disjoint communities of items: each item's nearest items come from its own community.
    rng = np.random.default_rng(0)
    rows = [rng.choice(10, 4, replace=False) + 10 * (user % 2) for user in range(200)]
    X = sp.csr_matrix((np.ones(800), (np.repeat(np.arange(200), 4), np.concatenate(rows))), shape=(200, 20))
    model = CooccurrenceEmbedding(n_components=4, random_state=0).fit(X)
    ids, scores = model.similar_items(np.arange(20), n=5)
    assert ((ids // 10) == (np.arange(20) // 10)[:, None]).all()
    assert (ids != np.arange(20)[:, None]).all()
    assert np.all(np.diff(scores, axis=1) <= 1e-12)


@pytest.mark.parametrize("method", ["ppmi-svd", "svd"])
def test_cooccurrence_transform_is_mean_item_vector(interactions, method):
    X = interactions.to_csr()
    model = CooccurrenceEmbedding(n_components=6, method=method, random_state=0).fit(X)
    row = X[5].toarray().ravel()
    np.testing.assert_allclose(model.transform(X[5])[0], model.item_factors_[row > 0].mean(axis=0))
    np.testing.assert_array_equal(model.transform(sp.csr_matrix((1, X.shape[1]))), 0.0)
    assert list(model.get_feature_names_out())[:2] == ["cooccurrenceembedding0", "cooccurrenceembedding1"]
    np.testing.assert_array_equal(ItemEmbeddings(model).fit().transform([3]), model.item_factors_[[3]])


def test_cooccurrence_is_deterministic_and_clonable(interactions):
    first = CooccurrenceEmbedding(n_components=5, random_state=1).fit(interactions).item_factors_
    second = clone(CooccurrenceEmbedding(n_components=5, random_state=1)).fit(interactions).item_factors_
    np.testing.assert_allclose(first, second)


def test_window_counts_only_nearby_events(interactions):
    model = CooccurrenceEmbedding(n_components=5, window=2, random_state=0).fit(interactions)
    assert model.item_factors_.shape == (interactions.n_items, 5)
    from recsys.embeddings._cooccurrence import _user_cooccurrence, _window_cooccurrence

    windowed = _window_cooccurrence(interactions, 2, interactions.n_items)
    whole = _user_cooccurrence(interactions.to_csr())
    assert windowed.sum() < whole.sum()
    assert (windowed.toarray() <= whole.toarray()).all()
    np.testing.assert_allclose(windowed.toarray(), windowed.toarray().T)


def test_window_follows_tied_events_in_input_order():
    # b, a, c tie in time and are given in that order: with window=1, b-a and a-c follow each other,
    # not a-b and b-c as in item order (Interactions.time_order, as sequential models read them).
    from recsys.embeddings._cooccurrence import _window_cooccurrence

    frame = pd.DataFrame({"user": [0, 0, 0], "item": ["b", "a", "c"], "timestamp": [4, 4, 4]})
    data = Interactions.from_pandas(frame, time_col="timestamp")
    counts = _window_cooccurrence(data, 1, data.n_items).toarray()
    a, b, c = data.item_index(["a", "b", "c"])
    assert counts[a, b] == counts[a, c] == 1 and counts[b, c] == 0


@pytest.mark.parametrize("params, X, error, message", [
    ({"n_components": 60}, None, ValueError, "below the number of items"),
    ({"n_components": 0}, None, ValueError, "n_components"),
    ({"method": "glove"}, None, ValueError, "method"),
    ({"window": 3}, "matrix", TypeError, "Interactions with timestamps"),
    ({}, "single", ValueError, "co-occur"),
])
def test_cooccurrence_bad_input(interactions, params, X, error, message):
    data = {None: interactions, "matrix": interactions.to_csr(), "single": sp.eye(5, format="csr")}[X]
    with pytest.raises(error, match=message):
        CooccurrenceEmbedding(**{"n_components": 2, **params}).fit(data)


def test_similarity_metrics():
    A = np.array([[3.0, 4.0], [0.0, 0.0]])
    B = np.array([[1.0, 0.0]])
    np.testing.assert_allclose(similarity(A, B, metric="dot"), [[3.0], [0.0]])
    np.testing.assert_allclose(similarity(A, B), [[0.6], [0.0]])
    np.testing.assert_allclose(np.diag(similarity(A[:1])), [1.0])
    with pytest.raises(ValueError, match="metric"):
        similarity(A, metric="euclidean")
    with pytest.raises(ValueError, match="same number of columns"):
        similarity(A, np.ones((1, 3)))


def test_softmax_properties():
    scores = np.array([[1.0, 2.0, -np.inf], [0.0, 0.0, 0.0]])
    probabilities = softmax(scores, temperature=0.5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[0, 2] == 0.0
    np.testing.assert_allclose(probabilities[0, :2], np.exp([2.0, 4.0]) / np.exp([2.0, 4.0]).sum())
    np.testing.assert_allclose(softmax([1e4, 0.0]), [1.0, 0.0])
    np.testing.assert_allclose(softmax([2.0, 2.0, 1.0], temperature=0), [0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="temperature"):
        softmax([1.0], temperature=-1)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_sampling_frequencies_match_softmax(temperature):
    scores = np.array([2.0, 1.0, 0.5, 0.0, -np.inf])
    draws = 40_000
    ids, drawn = sample_recommendations(np.tile(scores, (draws, 1)), n=2, temperature=temperature,
                                        random_state=0)
    expected = softmax(scores, temperature)
    # The first draw follows the softmax; its frequencies stay within 4 standard errors.
    frequencies = np.bincount(ids[:, 0], minlength=5) / draws
    tolerance = 4 * np.sqrt(expected * (1 - expected) / draws) + 1e-12
    assert (np.abs(frequencies - expected) <= tolerance).all()
    # The second draw follows the softmax renormalised without the first item.
    second_given_best = ids[ids[:, 0] == 0, 1]
    renormalised = expected[1:4] / expected[1:4].sum()
    observed = np.bincount(second_given_best, minlength=5)[1:4] / len(second_given_best)
    assert np.abs(observed - renormalised).max() < 4 * np.sqrt(0.25 / len(second_given_best))
    assert (ids[:, 0] != ids[:, 1]).all() and (ids != 4).all()
    np.testing.assert_array_equal(drawn, scores[ids])


def test_temperature_zero_is_the_ranking():
    scores = np.random.default_rng(0).normal(size=(6, 30))
    ids, drawn = sample_recommendations(scores, n=7, temperature=0)
    np.testing.assert_array_equal(ids, np.argsort(-scores, axis=1)[:, :7])
    np.testing.assert_array_equal(drawn, -np.sort(-scores, axis=1)[:, :7])


def test_sampling_pads_and_is_reproducible():
    scores = [[0.3, -np.inf, 1.0]]
    ids, drawn = sample_recommendations(scores, n=4, random_state=5)
    assert sorted(ids[0].tolist()) == [-1, -1, 0, 2]
    assert np.isneginf(drawn[ids == -1]).all()
    np.testing.assert_array_equal(ids, sample_recommendations(scores, n=4, random_state=5)[0])
    with pytest.raises(ValueError, match="NaN"):
        sample_recommendations([[np.nan, 1.0]], n=1)
    with pytest.raises(ValueError, match="n must be"):
        sample_recommendations([[1.0]], n=0)
