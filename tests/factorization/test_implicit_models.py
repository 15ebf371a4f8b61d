import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys.factorization import ALS, BPR, LMF, PureSVD
from recsys.factorization._implicit_common import ridge_fold_in
from recsys.factorization._sgd_fold_in import bpr_fold_in, bpr_fold_in_reference
from recsys.testing import RecommenderContract
from recsys.testing._contract import contract_data


class TestALSContract(RecommenderContract):
    must_beat = "popularity"

    def make_estimator(self):
        return ALS(n_factors=8, n_epochs=10, regularization=10.0, alpha=5.0, random_state=0)

    def make_sklearn_check_estimator(self):
        return ALS(n_factors=4, n_epochs=2, random_state=0)


class TestBPRContract(RecommenderContract):
    must_beat = "random"

    def make_estimator(self):
        return BPR(n_factors=8, n_epochs=30, learning_rate=0.05, random_state=0)


class TestLMFContract(RecommenderContract):
    must_beat = "random"

    def make_estimator(self):
        return LMF(n_factors=8, n_epochs=10, random_state=0)


class TestPureSVDContract(RecommenderContract):
    must_beat = "popularity"

    def make_estimator(self):
        return PureSVD(n_factors=8, random_state=0)

    def make_sklearn_check_estimator(self):
        # The checks fit on as few as two items: more factors than that are refused.
        return PureSVD(n_factors=2, random_state=0)


ALL_MODELS = [
    pytest.param(lambda: ALS(n_factors=6, n_epochs=5, random_state=0), id="ALS"),
    pytest.param(lambda: BPR(n_factors=6, n_epochs=10, random_state=0), id="BPR"),
    pytest.param(lambda: LMF(n_factors=6, n_epochs=5, random_state=0), id="LMF"),
    pytest.param(lambda: PureSVD(n_factors=6, random_state=0), id="PureSVD"),
]


@pytest.fixture(scope="module")
def data():
    return contract_data()


def test_als_fold_in_reproduces_fitted_user_factors(data):
    # Exact solves, run to convergence: the last user sweep then solves
    # against (numerically) the final item factors, as fold-in does.
    model = ALS(n_factors=8, use_cg=False, n_epochs=200, regularization=1.0, alpha=5.0,
                random_state=0).fit(data)
    np.testing.assert_allclose(model.fold_in(data), model.user_factors_, atol=1e-4)


def test_als_fold_in_matches_implicit_recalculate_user(data):
    from implicit.cpu.als import AlternatingLeastSquares

    model = ALS(n_factors=8, n_epochs=5, alpha=3.0, regularization=0.5, random_state=0).fit(data)
    with threadpool_limits(1, "blas"):
        reference = AlternatingLeastSquares(factors=8, alpha=3.0, regularization=0.5)
        reference.item_factors = model.item_factors_
        expected = reference.recalculate_user(np.arange(30), data[:30])
    np.testing.assert_allclose(model.fold_in(data[:30]), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_cg", [True, False])
def test_als_factors_identical_to_implicit(data, use_cg):
    from implicit.cpu.als import AlternatingLeastSquares

    params = {"regularization": 0.05, "alpha": 2.0, "use_cg": use_cg}
    model = ALS(n_factors=8, n_epochs=4, random_state=42, **params).fit(data)
    with threadpool_limits(1, "blas"):
        reference = AlternatingLeastSquares(factors=8, iterations=4, random_state=42, **params)
        reference.fit(data, show_progress=False)
    np.testing.assert_array_equal(model.user_factors_, reference.user_factors)
    np.testing.assert_array_equal(model.item_factors_, reference.item_factors)
    assert model.user_factors_.dtype == np.float32


def test_bpr_repeatable_with_a_seed(data):
    first = BPR(n_factors=8, n_epochs=10, random_state=3).fit(data)
    second = BPR(n_factors=8, n_epochs=10, random_state=3).fit(data)
    other_seed = BPR(n_factors=8, n_epochs=10, random_state=4).fit(data)
    np.testing.assert_array_equal(first.item_factors_, second.item_factors_)
    np.testing.assert_array_equal(first.user_factors_, second.user_factors_)
    assert not np.array_equal(first.item_factors_, other_seed.item_factors_)


def test_bpr_bias_column_is_handled_by_fold_in(data):
    model = BPR(n_factors=5, n_epochs=5, random_state=0).fit(data)
    assert model.item_factors_.shape == (data.shape[1], 6)
    user_factors = model.fold_in(data[:10])
    np.testing.assert_array_equal(user_factors[:, -1], 1.0)
    np.testing.assert_allclose(model._score(data[:10]), user_factors @ model.item_factors_.T,
                               rtol=1e-6)


def test_bpr_fold_in_kernel_matches_python_reference():
    rng = np.random.default_rng(0)
    item_factors = rng.normal(0, 0.3, size=(25, 5)).astype(np.float32)
    dense = rng.random((6, 25)) < 0.3
    dense[4] = False  # a row without positives keeps the zero vector
    rows = sp.csr_matrix(dense, dtype=np.float32)
    user_factors = np.empty((6, 5))
    bpr_fold_in(rows.indptr, rows.indices, item_factors, user_factors, 0.05, 0.01, 7, 11)
    expected = bpr_fold_in_reference(rows.indptr, rows.indices, item_factors.astype(np.float64),
                                     0.05, 0.01, 7, 11)
    np.testing.assert_allclose(user_factors, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(user_factors[4], [0, 0, 0, 0, 1])
    assert np.abs(user_factors[:4, :4]).min() > 0


def test_bpr_fold_in_of_a_row_does_not_depend_on_the_batch(data):
    model = BPR(n_factors=6, n_epochs=10, random_state=0).fit(data)
    batch = model.fold_in(data[:12])
    np.testing.assert_array_equal(model.fold_in(data[7:8])[0], batch[7])
    np.testing.assert_array_equal(model.fold_in(data[[7, 7, 2]])[0], batch[7])


def test_bpr_fold_in_ranks_better_than_a_ridge_fold_in_and_popularity():
    # Strong generalisation on generated data with latent structure: users unseen in fit.
    from recsys.datasets import make_interactions
    from recsys.metrics import ndcg_at_k, split_rows

    X = make_interactions(400, 120, density=0.08, random_state=0).to_csr()
    query, relevant = split_rows(X[300:], 0.8, random_state=0)
    model = BPR(n_factors=16, n_epochs=60, learning_rate=0.05, random_state=0).fit(X[:300])

    def ndcg_of(scores):
        scores[query.nonzero()] = -np.inf
        return ndcg_at_k(relevant, np.argsort(-scores, axis=1)[:, :10], k=10)

    folded = ndcg_at_k(relevant, model.recommend(query, n=10)[0], k=10)
    ridge = ndcg_of(ridge_fold_in(query, model.item_factors_, (16,)) @ model.item_factors_.T)
    popularity = ndcg_of(np.tile(np.asarray(X[:300].sum(axis=0), dtype=float), (100, 1)))
    assert folded > ridge and folded > popularity


def test_lmf_fold_in_keeps_the_item_bias_multiplier(data):
    model = LMF(n_factors=5, n_epochs=5, random_state=0).fit(data)
    assert model.item_factors_.shape == (data.shape[1], 7)
    np.testing.assert_array_equal(model.fold_in(data[:10])[:, -2], 1.0)


def test_ridge_fold_in_matches_least_squares():
    rng = np.random.default_rng(0)
    item_factors = rng.normal(size=(30, 4))
    rows = sp.csr_matrix(rng.random((5, 30)) < 0.3, dtype=np.float32)
    regularization = 0.5
    user_factors = ridge_fold_in(rows, item_factors, fixed_user_columns=(3,),
                                 penalty=regularization)
    free = item_factors[:, :3]
    for row in range(5):
        target = rows[row].toarray().ravel() - item_factors[:, 3]
        # Augmented least squares: the penalty as extra rows.
        design = np.vstack([free, np.sqrt(regularization) * np.eye(3)])
        expected, *_ = np.linalg.lstsq(design, np.concatenate([target, np.zeros(3)]), rcond=None)
        np.testing.assert_allclose(user_factors[row, :3], expected, rtol=1e-5, atol=1e-6)
        assert user_factors[row, 3] == 1.0


def test_pure_svd_scores_are_the_projection_on_item_space(data):
    model = PureSVD(n_factors=6, random_state=0).fit(data)
    items = model.item_factors_.astype(np.float64)
    np.testing.assert_allclose(items.T @ items, np.eye(6), atol=1e-5)
    expected = data[:8].toarray() @ items @ items.T
    np.testing.assert_allclose(model._score(data[:8]), expected, rtol=1e-4, atol=1e-5)


def test_pure_svd_rejects_more_factors_than_the_matrix_has(data):
    with pytest.raises(ValueError, match="n_factors=100 exceeds"):
        PureSVD(n_factors=100).fit(data)


# Round trip, class and header checks: recsys.testing.SaveLoadChecks in test_factor_contracts.py.
@pytest.mark.parametrize("make_model", ALL_MODELS)
def test_save_keeps_the_factors_themselves(make_model, data, tmp_path):
    model = make_model().fit(data)
    path = model.save(tmp_path / "model.npz")
    restored = type(model).load(path)
    np.testing.assert_array_equal(restored.item_factors_, model.item_factors_)
    assert restored.n_items_ == model.n_items_
    with np.load(path, allow_pickle=False) as archive:
        assert "attr:user_factors_" in archive.files


def test_save_refuses_non_json_params(data, tmp_path):
    model = ALS(n_factors=4, n_epochs=2, random_state=np.random.RandomState(0)).fit(data)
    with pytest.raises(ValueError, match="random_state"):
        model.save(tmp_path / "model.npz")


@pytest.mark.parametrize("make_model", ALL_MODELS)
def test_similar_items_by_cosine(make_model, data):
    model = make_model().fit(data)
    # Shape, order, padding and bad items: recsys.testing.SimilarItemsChecks.
    ids, scores = model.similar_items([0, 5], n=4)
    factors = model.item_factors_.astype(np.float64)
    unit = factors / np.linalg.norm(factors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    for row, item in enumerate((0, 5)):
        np.testing.assert_allclose(scores[row], cosine[item, ids[row]], rtol=1e-6)
        others = np.delete(cosine[item], item)
        np.testing.assert_allclose(scores[row, 0], others.max(), rtol=1e-6)


@pytest.mark.parametrize("model, name", [
    (ALS(n_factors=0), "n_factors"), (BPR(n_factors=0), "n_factors"), (LMF(n_factors=0), "n_factors"),
    (PureSVD(n_factors=0), "n_factors"),
])
def test_rejects_fewer_than_one_factor(model, name, data):
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        model.fit(data)


@pytest.mark.parametrize("make_model", ALL_MODELS)
@pytest.mark.parametrize("empty", [sp.csr_matrix((0, 10)), sp.csr_matrix((5, 10))],
                         ids=["no-rows", "no-interactions"])
def test_rejects_empty_training_set(make_model, empty):
    with pytest.raises(ValueError, match="interaction"):
        make_model().fit(empty)


@pytest.mark.parametrize("make_model", ALL_MODELS)
def test_rejects_negative_weights(make_model, data):
    bad = data.copy()
    bad.data[3] = -2.0
    with pytest.raises(ValueError, match="negative"):
        make_model().fit(bad)


@pytest.mark.parametrize("make_model", ALL_MODELS)
@pytest.mark.parametrize("exclude_seen, items", [(True, None), (False, None), (True, range(0, 80, 3))])
def test_topk_recommend_matches_dense_scoring(make_model, data, exclude_seen, items):
    from recsys.base import BaseRecommender

    model = make_model().fit(data)
    fast = model.recommend(data[:30], n=12, exclude_seen=exclude_seen, items=items)
    dense = BaseRecommender.recommend(model, data[:30], n=12, exclude_seen=exclude_seen,
                                      items=items)
    np.testing.assert_allclose(fast[1], dense[1], rtol=1e-5, atol=1e-6)
    assert (fast[0] == dense[0]).mean() > 0.99  # ids may swap only where scores tie
