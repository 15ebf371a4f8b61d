import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from recsys.baselines import PopularityRecommender
from recsys.datasets import make_interactions
from recsys.metrics import make_ranking_scorer, ndcg_at_k, split_rows


@pytest.fixture(scope="module")
def X():
    return make_interactions(150, 40, density=0.12, random_state=0).to_csr()


def test_grid_search_over_count_with_ndcg_scorer(X):
    search = GridSearchCV(PopularityRecommender(), {"count": ["users", "weights"]},
                          cv=KFold(3), scoring=make_ranking_scorer("ndcg", k=10)).fit(X)
    assert search.best_params_ in ({"count": "users"}, {"count": "weights"})
    assert 0 < search.best_score_ <= 1


def test_cross_val_score_with_ndcg_scorer(X):
    scores = cross_val_score(PopularityRecommender(), X, cv=KFold(3), scoring=make_ranking_scorer("ndcg", k=10))
    assert scores.shape == (3,)
    assert ((scores > 0) & (scores <= 1)).all()


@pytest.mark.parametrize("metric", ["ndcg", "precision", "recall", "map", "mrr", "hit_rate", "auc"])
def test_every_metric_name_scores_in_unit_interval(X, metric):
    model = PopularityRecommender().fit(X[:100])
    value = make_ranking_scorer(metric, k=5)(model, X[100:])
    assert 0 <= value <= 1


def test_scorer_equals_manual_evaluation(X):
    model = PopularityRecommender().fit(X[:100])
    fold_in, held_out = split_rows(X[100:], 0.8, random_state=0)
    evaluated = np.diff(held_out.indptr) > 0
    ids, _ = model.recommend(fold_in[evaluated], n=10)
    expected = ndcg_at_k(held_out[evaluated], ids, k=10)
    assert make_ranking_scorer("ndcg", k=10)(model, X[100:]) == pytest.approx(expected)


def test_popularity_auc_beats_chance(X):
    model = PopularityRecommender().fit(X[:100])
    assert make_ranking_scorer("auc")(model, X[100:]) > 0.5


def test_unknown_metric_name_lists_the_choices():
    with pytest.raises(ValueError, match="hit_rate"):
        make_ranking_scorer("ndcg10")
