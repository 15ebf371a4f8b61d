import numpy as np
import pytest
import scipy.sparse as sp

from recsys.datasets import make_interactions
from recsys.neighbors import ItemKNN, RP3beta, UserKNN, _similarity
from recsys.neighbors._similarity import (
    SIMILARITIES,
    VectorWeighting,
    top_k_product,
    top_k_similarity,
)
from recsys.testing import RecommenderContract, SaveLoadChecks


class TestItemKNNContract(RecommenderContract, SaveLoadChecks):
    must_beat = "popularity"

    def make_estimator(self):
        return ItemKNN(k=30, similarity="cosine", shrink=2.0)


class TestItemKNNBM25Contract(RecommenderContract, SaveLoadChecks):
    must_beat = "popularity"

    def make_estimator(self):
        return ItemKNN(k=80, similarity="bm25")


class TestUserKNNContract(RecommenderContract, SaveLoadChecks):
    must_beat = "popularity"

    def make_estimator(self):
        return UserKNN(k=40, similarity="cosine")


class TestRP3betaContract(RecommenderContract, SaveLoadChecks):
    must_beat = "popularity"

    def make_estimator(self):
        return RP3beta(alpha=1.0, beta=0.5, k=30)


@pytest.fixture(scope="module")
def weighted_data():
    """Small interactions with continuous weights, so similarities do not tie."""
    X = make_interactions(60, 25, density=0.2, random_state=3).to_csr().astype(np.float64)
    # float32 values: fit works in float32, so the reference sees the same data.
    X.data = np.random.default_rng(0).uniform(0.5, 3.0, X.nnz).astype(np.float32).astype(np.float64)
    return X


def reference_weighting(vectors, similarity):
    """Dense numpy version of the reweighting each similarity applies."""
    vectors = np.array(vectors, dtype=np.float64)
    present = vectors > 0
    frequency = present.sum(axis=0)
    idf = np.where(frequency > 0, np.log(len(vectors) / np.maximum(frequency, 1)), 0.0)
    if similarity == "jaccard":
        return present.astype(np.float64)
    if similarity == "tfidf":
        return vectors * idf
    if similarity == "bm25":
        lengths = vectors.sum(axis=1, keepdims=True)
        length_norm = 0.25 + 0.75 * lengths / lengths.mean()
        return np.where(present, vectors * 2.2 / (1.2 * length_norm + vectors) * idf, 0.0)
    return vectors


def reference_similarity(query, reference, similarity, shrink=0.0, alpha=0.5):
    """Dense brute-force similarity of every query row with every reference row."""
    dots = query @ reference.T
    if similarity == "jaccard":
        union = query.sum(axis=1)[:, None] + reference.sum(axis=1)[None, :] - dots + shrink
        return np.divide(dots, union, out=np.zeros_like(dots), where=union > 0)
    query_norm = np.linalg.norm(query, axis=1)
    reference_norm = np.linalg.norm(reference, axis=1)
    if similarity == "asymmetric":
        denominator = np.outer(query_norm ** (2 * alpha), reference_norm ** (2 * (1 - alpha)))
    else:
        denominator = np.outer(query_norm, reference_norm)
    denominator = np.where(denominator > 0, denominator + shrink, 0.0)
    return np.divide(dots, denominator, out=np.zeros_like(dots), where=denominator > 0)


def reference_top_k(full, k):
    """Keep the k largest positive entries of each row of a dense matrix."""
    kept = np.zeros_like(full)
    for row, values in enumerate(full):
        best = np.argsort(-values, kind="stable")[:k]
        best = best[values[best] > 0]
        kept[row, best] = values[best]
    return kept


@pytest.mark.parametrize("similarity", SIMILARITIES)
@pytest.mark.parametrize("shrink", [0.0, 3.0])
def test_item_similarity_matches_dense_reference(weighted_data, similarity, shrink):
    n_items = weighted_data.shape[1]
    model = ItemKNN(k=n_items, similarity=similarity, shrink=shrink, alpha=0.3).fit(weighted_data)
    item_vectors = reference_weighting(weighted_data.T.toarray(), similarity)
    expected = reference_similarity(item_vectors, item_vectors, similarity, shrink, alpha=0.3)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model._score(weighted_data[:10]),
                               weighted_data[:10].toarray().astype(np.float32) @ expected.T,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_top_k_keeps_the_largest_similarities(weighted_data, similarity):
    item_vectors = VectorWeighting(similarity).fit_transform(weighted_data.T.tocsr())
    kept = top_k_similarity(item_vectors, item_vectors, 4, similarity=similarity,
                            exclude_self=True).toarray()
    full = reference_similarity(*(2 * [reference_weighting(weighted_data.T.toarray(), similarity)]),
                                similarity)
    np.fill_diagonal(full, 0.0)
    # Compare the kept values, not their ids: binary similarities tie.
    np.testing.assert_allclose(-np.sort(-kept, axis=1)[:, :4], -np.sort(-reference_top_k(full, 4))[:, :4],
                               rtol=1e-10, atol=1e-12)
    assert ((kept > 0).sum(axis=1) <= 4).all()


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_block_size_does_not_change_the_result(weighted_data, similarity):
    vectors = VectorWeighting(similarity).fit_transform(weighted_data.T.tocsr())
    results = [top_k_similarity(vectors, vectors, 5, similarity=similarity, exclude_self=True,
                                block_rows=block_rows).toarray()
               for block_rows in (1, 7, None)]
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_asymmetric_with_alpha_half_is_cosine(weighted_data):
    cosine = ItemKNN(k=10, similarity="cosine").fit(weighted_data).similarity_
    asymmetric = ItemKNN(k=10, similarity="asymmetric", alpha=0.5).fit(weighted_data).similarity_
    np.testing.assert_allclose(cosine.toarray(), asymmetric.toarray(), rtol=1e-12)


def test_unnormalized_similarity_is_the_dot_product(weighted_data):
    n_items = weighted_data.shape[1]
    model = ItemKNN(k=n_items, normalize=False, shrink=5.0).fit(weighted_data)
    expected = (weighted_data.T @ weighted_data).toarray()
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-10)


def test_k_larger_than_catalogue_is_clamped(weighted_data):
    n_items = weighted_data.shape[1]
    clamped = ItemKNN(k=10 * n_items).fit(weighted_data).similarity_
    exact = ItemKNN(k=n_items - 1).fit(weighted_data).similarity_
    np.testing.assert_array_equal(clamped.toarray(), exact.toarray())
    assert clamped.diagonal().max() == 0


@pytest.mark.parametrize("model", [ItemKNN(k=5), ItemKNN(k=5, similarity="bm25"),
                                   UserKNN(k=5, similarity="tfidf"), RP3beta(k=5)],
                         ids=["itemknn", "itemknn-bm25", "userknn-tfidf", "rp3beta"])
def test_item_without_interactions_gets_no_similarity(weighted_data, model):
    X = sp.hstack([weighted_data, sp.csr_matrix((weighted_data.shape[0], 1))]).tocsr()
    model.fit(X)
    scores = model._score(X[:20])
    assert np.isfinite(scores).all()
    assert (scores[:, -1] == 0).all()
    if hasattr(model, "similarity_"):
        assert model.similarity_[-1].nnz == 0 and model.similarity_[:, -1].nnz == 0


def test_similar_items_are_the_rows_of_similarity(weighted_data):
    # Shape, padding, single queries and bad items: recsys.testing.SimilarItemsChecks
    # (tests/neighbors/test_item_knn_similar_items.py).
    model = ItemKNN(k=3).fit(weighted_data)
    ids, scores = model.similar_items([0, 4], n=5)
    for row, item in enumerate([0, 4]):
        neighbours = model.similarity_[item]
        expected_order = neighbours.indices[np.argsort(-neighbours.data, kind="stable")]
        np.testing.assert_array_equal(ids[row, :len(expected_order)], expected_order)
        np.testing.assert_allclose(scores[row, :len(expected_order)], np.sort(neighbours.data)[::-1])


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_user_knn_matches_dense_reference(weighted_data, similarity):
    train, new_users = weighted_data[:45], weighted_data[45:]
    model = UserKNN(k=6, similarity=similarity, shrink=1.0).fit(train)
    weighting = VectorWeighting(similarity).fit(train)
    expected_neighbours = reference_top_k(
        reference_similarity(weighting.transform(new_users).toarray(),
                             reference_weighting(train.toarray(), similarity), similarity, 1.0),
        6,
    )
    np.testing.assert_allclose(model._score(new_users), expected_neighbours @ train.toarray(),
                               rtol=1e-5)


def test_user_knn_weighting_uses_training_statistics(weighted_data):
    weighting = VectorWeighting("tfidf").fit(weighted_data[:45])
    np.testing.assert_allclose(
        weighting.transform(weighted_data[45:]).toarray(),
        weighted_data[45:].toarray() * reference_weighting_idf(weighted_data[:45]),
    )


def reference_weighting_idf(train):
    frequency = (train.toarray() > 0).sum(axis=0)
    return np.where(frequency > 0, np.log(train.shape[0] / np.maximum(frequency, 1)), 0.0)


@pytest.mark.parametrize("normalize_rows", [False, True])
def test_rp3beta_matches_dense_reference(weighted_data, normalize_rows):
    X = weighted_data.toarray()
    n_items = X.shape[1]
    alpha, beta = 0.8, 0.4
    user_to_item = (X / X.sum(axis=1, keepdims=True)) ** alpha
    binary = (X.T > 0).astype(np.float64)
    item_to_user = (binary / binary.sum(axis=1, keepdims=True)) ** alpha
    popularity = binary.sum(axis=1)
    expected = item_to_user @ user_to_item / popularity[None, :] ** beta
    np.fill_diagonal(expected, 0.0)
    expected = reference_top_k(expected, 6)
    if normalize_rows:
        expected /= expected.sum(axis=1, keepdims=True)
    model = RP3beta(alpha=alpha, beta=beta, k=6, normalize_rows=normalize_rows).fit(weighted_data)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-10)
    assert n_items == model.similarity_.shape[0]


@pytest.mark.parametrize("params, message", [
    ({"similarity": "pearson"}, "similarity"),
    ({"k": 0}, "'k'"),
    ({"shrink": -1.0}, "shrink"),
    ({"alpha": 1.5}, "alpha"),
])
@pytest.mark.parametrize("estimator", [ItemKNN, UserKNN])
def test_bad_parameters_are_rejected(weighted_data, estimator, params, message):
    with pytest.raises(ValueError, match=message):
        estimator(**params).fit(weighted_data)


def test_rp3beta_rejects_negative_beta(weighted_data):
    with pytest.raises(ValueError, match="beta"):
        RP3beta(beta=-0.5).fit(weighted_data)


def huge_catalogue_interactions(n_items=2_000_000):
    """Three interactions of two users over a catalogue of ``n_items`` items."""
    return sp.csr_matrix((np.ones(3), ([0, 0, 1], [5, n_items - 7, 5])), shape=(2, n_items))


def test_product_blocks_span_only_rows_and_columns_in_use():
    left = sp.csr_matrix((np.ones(4), ([3, 3, 90, 91], [0, 1, 1, 2])), shape=(100, 3))
    right = sp.csr_matrix((np.ones(3), ([0, 1, 2], [10, 500, 10])), shape=(3, 1000))
    seen = []

    def record(block, rows, columns):
        seen.append((block.shape, rows.copy(), columns.copy()))
        return block

    result = top_k_product(left, right, 5, transform_block=record)
    assert all(shape == (len(rows), len(columns)) for shape, rows, columns in seen)
    np.testing.assert_array_equal(np.concatenate([rows for _, rows, _ in seen]), [3, 90, 91])
    assert all(np.array_equal(columns, [10, 500]) for _, _, columns in seen)
    np.testing.assert_allclose(result.toarray(), (left @ right).toarray())


@pytest.mark.parametrize("model", [ItemKNN(k=10), ItemKNN(k=10, similarity="jaccard"), RP3beta(k=10),
                                   UserKNN(k=10)], ids=["itemknn", "itemknn-jaccard", "rp3beta", "userknn"])
def test_similarity_work_follows_items_in_use(model, monkeypatch):
    # The dense blocks are sized from the number of vectors they span: a
    # catalogue-sized argument here means work in proportion to the catalogue.
    widths = []
    original = _similarity.default_block_rows
    monkeypatch.setattr(_similarity, "default_block_rows",
                        lambda n_reference: widths.append(n_reference) or original(n_reference))
    X = huge_catalogue_interactions()
    ids, _ = model.fit(X).recommend(X, n=3)
    assert widths and max(widths) <= 2
    # User 1 shares item 5 with user 0, whose other item is the only candidate.
    assert ids[1, 0] == X.shape[1] - 7

