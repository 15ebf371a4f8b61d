"""RecommenderPipeline: the recommender contract, exclusion of untransformed seen items, grid search."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from recsys.factorization import ALS
from recsys.metrics import make_ranking_scorer
from recsys.neighbors import ItemKNN
from recsys.pipeline import (
    RecommenderPipeline,
    make_bm25_als,
    make_bm25_item_knn,
    make_recommender_pipeline,
)
from recsys.preprocessing import InteractionWeighter
from recsys.testing import (
    RecommenderContract,
    SaveLoadChecks,
    contract_data,
)
from recsys.utils import top_k


class TestWeightedItemKNNPipeline(RecommenderContract, SaveLoadChecks):
    must_beat = "random"
    def make_estimator(self):
        return RecommenderPipeline([("bm25", InteractionWeighter("bm25", K1=1.2, B=0.75)),
                                    ("knn", ItemKNN(k=30))])

    def make_sklearn_check_estimator(self):
        # The checks fit on small dense matrices where every user holds every
        # item: BM25's idf is 0 for all of them (InteractionWeighter warns), so
        # the checks run on the confidence scheme instead.
        return RecommenderPipeline([("confidence", InteractionWeighter("confidence")),
                                    ("knn", ItemKNN(k=5))])


@pytest.fixture(scope="module")
def data():
    return contract_data()


def _reference_recommend(pipeline, rows, n):
    """Scores of the transformed rows, seen items of the untransformed rows excluded."""
    transformed = pipeline[:-1].transform(rows)
    scores = pipeline[-1]._score(sp.csr_matrix(transformed, dtype=np.float32))
    return top_k(np.asarray(scores, dtype=np.float64), n, exclude=rows)


def _drop_small(X):
    """Drop the stored entries below 2: the recommender no longer sees them."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.data[X.data < 2] = 0
    X.eliminate_zeros()
    return X


def _add_everywhere(X):
    """Store an entry in every cell: the transformed rows hold unseen items too."""
    return sp.csr_matrix(np.asarray(sp.csr_matrix(X).todense()) + 0.1)


@pytest.mark.parametrize("transform", [_drop_small, _add_everywhere])
def test_exclusion_uses_untransformed_rows(data, transform):
    counts = data.copy()
    counts.data = np.arange(counts.nnz) % 3 + 1.0
    pipeline = RecommenderPipeline([
        ("change", FunctionTransformer(transform, accept_sparse=True)),
        ("knn", ItemKNN(k=20)),
    ]).fit(counts)
    rows = counts[:25]
    ids, scores = pipeline.recommend(rows, n=12)
    expected_ids, expected_scores = _reference_recommend(pipeline, rows, 12)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
    np.testing.assert_array_equal(ids[np.isfinite(scores)], expected_ids[np.isfinite(scores)])
    for row in range(rows.shape[0]):
        assert not np.isin(ids[row][ids[row] >= 0], rows[row].indices).any()


def test_clipped_weights_stay_excluded():
    # Item 0 is held by every user: tfidf weighs it 0 and ItemKNN would drop
    # the entry; the pipeline still excludes it.
    X = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]], dtype=np.float32))
    pipeline = RecommenderPipeline([("tfidf", InteractionWeighter("tfidf", documents="users")),
                                    ("knn", ItemKNN())]).fit(X)
    ids, _ = pipeline.recommend(X, n=4)
    for row in range(3):
        assert 0 not in ids[row]


def test_include_seen_and_items_pass_through(data):
    pipeline = make_bm25_item_knn(knn__k=20).fit(data)
    ids, _ = pipeline.recommend(data[:5], n=data.shape[1], exclude_seen=False)
    assert (ids >= 0).all()
    allowed = np.arange(0, data.shape[1], 4)
    ids, _ = pipeline.recommend(data[:5], n=5, items=allowed)
    assert np.isin(ids[ids >= 0], allowed).all()


def test_fit_gives_the_recommender_the_transformed_matrix(data):
    pipeline = make_bm25_item_knn().fit(data)
    weighted = InteractionWeighter("bm25", K1=1.2, B=0.75).fit_transform(data)
    alone = ItemKNN(k=100, normalize=False).fit(weighted)
    np.testing.assert_allclose(pipeline[-1].similarity_.toarray(), alone.similarity_.toarray())


def test_grid_search_over_step_parameters(data):
    search = GridSearchCV(
        make_bm25_item_knn(),
        {"bm25__K1": [1.2, 50.0], "knn__k": [10, 40]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring=make_ranking_scorer("ndcg", k=10),
    ).fit(data)
    assert search.best_params_["bm25__K1"] in (1.2, 50.0)
    assert search.best_params_["knn__k"] in (10, 40)
    assert search.best_estimator_.recommend(data[:3], n=5)[0].shape == (3, 5)


@pytest.mark.slow
def test_grid_search_over_als_factors(data):
    search = GridSearchCV(
        make_bm25_als(als__n_epochs=3, als__random_state=0),
        {"als__n_factors": [4, 8]}, cv=KFold(2),
    ).fit(data)
    assert search.best_params_["als__n_factors"] in (4, 8)
    assert np.isfinite(search.best_score_)


def test_clone_and_named_steps():
    pipeline = make_recommender_pipeline(InteractionWeighter("tfidf"), ALS(n_factors=8))
    assert [name for name, _ in pipeline.steps] == ["interactionweighter", "als"]
    cloned = clone(pipeline)
    assert isinstance(cloned, RecommenderPipeline)
    assert cloned.get_params()["als__n_factors"] == 8
    assert cloned.steps[0][1] is not pipeline.steps[0][1]


def test_score_splits_untransformed_rows(data):
    pipeline = make_bm25_item_knn().fit(data[:180])
    assert pipeline.score(data[180:]) == make_ranking_scorer("ndcg", k=10)(pipeline, data[180:])


def test_final_step_must_recommend(data):
    pipeline = RecommenderPipeline([("bm25", InteractionWeighter()),
                                    ("scale", FunctionTransformer(accept_sparse=True))])
    with pytest.raises(TypeError, match="must be a recommender"):
        pipeline.fit(data)
    assert isinstance(pipeline, Pipeline)


def test_bad_n(data):
    pipeline = RecommenderPipeline([("change", FunctionTransformer(_drop_small, accept_sparse=True)),
                                    ("knn", ItemKNN(k=20))]).fit(data * 2)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        pipeline.recommend(data[:2], n=0)


def test_registered_in_the_benchmark_table():
    from recsys.bench import get_model

    for name in ("bm25-item-knn", "bm25-als"):
        spec = get_model(name)
        assert spec.task == "topn"
        assert isinstance(spec.build(), RecommenderPipeline)


@pytest.mark.slow
def test_benchmark_runs_the_pipelines():
    from recsys.bench import ModelEntry, run_benchmark
    from recsys.datasets import make_interactions

    data = make_interactions(200, 60, density=0.1, random_state=0)
    entries = [ModelEntry("bm25-item-knn", params={"knn__k": 20}),
               ModelEntry("bm25-als", params={"als__n_factors": 8, "als__n_epochs": 3})]
    result = run_benchmark(data, entries, n_folds=2, metrics="ndcg@10", trace_memory=False)
    summary = {row["label"]: row for row in result.summary()}
    assert set(summary) == {"bm25-item-knn", "bm25-als"}
    assert all(0.0 < row["ndcg@10"] <= 1.0 for row in summary.values())
