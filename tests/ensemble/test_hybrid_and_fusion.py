import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from recsys.baselines import PopularityRecommender
from recsys.datasets import make_interactions
from recsys.ensemble import RankFusion, WeightedHybrid
from recsys.ensemble._base import normalize_scores
from recsys.factorization import BiasedMF
from recsys.linear import EASE
from recsys.metrics import make_ranking_scorer
from recsys.neighbors import ItemKNN
from recsys.testing import RecommenderContract, SaveLoadChecks


def comparable_params(estimator):
    """get_params(deep=True) with each nested estimator replaced by its class and parameters."""
    return {name: (type(value), value.get_params()) if hasattr(value, "get_params") else value
            for name, value in estimator.get_params(deep=True).items()
            if name != "estimators"}


class EnsembleContract(RecommenderContract, SaveLoadChecks):
    """The recommender contract; clone compares nested members by their parameters, not identity."""

    def test_clone_keeps_params(self):
        estimator = self.make_estimator()
        cloned = clone(estimator)
        assert cloned is not estimator
        assert comparable_params(cloned) == comparable_params(estimator)


def members():
    return [("ease", EASE(l2=20.0)), ("knn", ItemKNN(k=30)), ("pop", PopularityRecommender())]


class HybridContract(EnsembleContract):
    must_beat = "popularity"
    normalize = "minmax"

    def make_estimator(self):
        return WeightedHybrid(members(), weights=[2.0, 1.0, 0.5], normalize=self.normalize)


class TestWeightedHybridMinmax(HybridContract):
    normalize = "minmax"


class TestWeightedHybridZscore(HybridContract):
    normalize = "zscore"


class TestWeightedHybridRank(HybridContract):
    normalize = "rank"


class FusionContract(EnsembleContract):
    must_beat = "popularity"
    method = "rrf"

    def make_estimator(self):
        return RankFusion(members(), method=self.method, depth=30)


class TestRankFusionRRF(FusionContract):
    method = "rrf"


class TestRankFusionBorda(FusionContract):
    method = "borda"


class TestRankFusionCombSUM(FusionContract):
    method = "combsum"


class TestRankFusionCombMNZ(FusionContract):
    method = "combmnz"


@pytest.fixture(scope="module")
def X():
    return make_interactions(200, 60, density=0.1, random_state=3).to_csr()


# ------------------------------------------------------------------ normalisation
def _reference_normalize(row, method):
    """One row, by the textbook formula, over its finite entries."""
    out = np.full(len(row), np.nan)
    valid = np.isfinite(row)
    values = row[valid]
    if method == "minmax":
        spread = values.max() - values.min()
        out[valid] = (values - values.min()) / spread if spread > 0 else 0.0
    elif method == "zscore":
        out[valid] = (values - values.mean()) / values.std() if values.std() > 0 else 0.0
    else:
        out[valid] = (rankdata(values) - 1) / max(len(values) - 1, 1)
    return out


@pytest.mark.parametrize("method", ["minmax", "zscore", "rank"])
def test_normalize_scores_matches_row_by_row_reference(method):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(6, 9))
    scores[1, [2, 5]] = np.nan
    scores[2, 0] = -np.inf
    scores[3] = 4.0  # constant row
    scores[4, 3] = scores[4, 7]  # a tie
    expected = np.vstack([_reference_normalize(row, method) for row in scores])
    np.testing.assert_allclose(normalize_scores(scores, method), expected, atol=1e-12)


def test_normalize_scores_does_not_modify_its_input():
    scores = np.array([[1.0, np.inf, 3.0]])
    normalize_scores(scores, "minmax")
    assert scores[0, 1] == np.inf


def test_normalize_scores_rejects_unknown_method():
    with pytest.raises(ValueError, match="normalize must be one of"):
        normalize_scores(np.ones((1, 2)), "softmax")


# ------------------------------------------------------------------ WeightedHybrid
@pytest.mark.parametrize("normalize", ["minmax", "zscore", "rank"])
def test_a_single_member_keeps_its_ranking(X, normalize):
    member = EASE(l2=20.0).fit(X)
    hybrid = WeightedHybrid([("ease", EASE(l2=20.0))], normalize=normalize).fit(X)
    np.testing.assert_array_equal(hybrid.recommend(X[:30], n=10)[0], member.recommend(X[:30], n=10)[0])


def test_zero_weight_and_drop_remove_a_member(X):
    alone = EASE(l2=20.0).fit(X).recommend(X[:30], n=10)[0]
    weighted = WeightedHybrid(members(), weights=[1.0, 0.0, 0.0]).fit(X)
    dropped = WeightedHybrid(members()).set_params(knn="drop", pop="drop").fit(X)
    np.testing.assert_array_equal(weighted.recommend(X[:30], n=10)[0], alone)
    np.testing.assert_array_equal(dropped.recommend(X[:30], n=10)[0], alone)
    assert list(dropped.named_estimators_) == ["ease"]


def test_hybrid_scores_are_the_weighted_sum_of_normalised_member_scores(X):
    hybrid = WeightedHybrid(members(), weights=[2.0, 1.0, 0.5]).fit(X)
    rows = X[:5]
    seen = rows.toarray() > 0
    expected = np.zeros(rows.shape)
    for weight, member in zip([2.0, 1.0, 0.5], hybrid.estimators_):
        scores = member._score(rows).astype(np.float64)
        scores[seen] = np.nan
        expected += weight * np.nan_to_num(np.vstack([_reference_normalize(r, "minmax") for r in scores]))
    expected[seen] = -np.inf
    ids, scores = hybrid.recommend(rows, n=8)
    np.testing.assert_allclose(scores, np.take_along_axis(expected, ids, axis=1), atol=1e-10)


def test_members_are_cloned_not_fitted_in_place(X):
    ease = EASE(l2=20.0)
    hybrid = WeightedHybrid([("ease", ease), ("pop", PopularityRecommender())]).fit(X)
    assert not hasattr(ease, "coef_")
    assert hybrid.named_estimators_.ease is hybrid.estimators_[0]


def test_nested_parameters_and_weights_are_tunable_by_grid_search(X):
    search = GridSearchCV(
        WeightedHybrid([("ease", EASE()), ("pop", PopularityRecommender())]),
        {"weights": [[1, 0], [1, 1]], "ease__l2": [5.0, 200.0]},
        cv=KFold(3), scoring=make_ranking_scorer("ndcg", k=10),
    ).fit(X)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.named_estimators_.ease.l2 == search.best_params_["ease__l2"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_ensemble_fits_do_not_modify_the_input(X):
    original = X.copy()
    WeightedHybrid(members()).fit(X).recommend(X[:5])
    RankFusion(members()).fit(X).recommend(X[:5])
    assert (X != original).nnz == 0


def test_parallel_member_fits_give_the_same_model(X):
    serial = WeightedHybrid(members()).fit(X).recommend(X[:20], n=10)
    parallel = WeightedHybrid(members(), n_jobs=2).fit(X).recommend(X[:20], n=10)
    np.testing.assert_array_equal(serial[0], parallel[0])


# ------------------------------------------------------------------ RankFusion
def _reference_fusion(lists, method, k=60):
    """Fused scores of one user from dicts {item: (place, score)}, by the textbook formulas."""
    fused, counts = {}, {}
    for ranked in lists:
        valid = [(item, score) for item, score in ranked if item >= 0]
        length = len(ranked)
        scores = np.array([score for _, score in valid])
        low, high = scores.min(), scores.max()
        for place, (item, score) in enumerate(valid):
            points = {"rrf": 1 / (k + place + 1), "borda": (length - place) / length}.get(
                method, (score - low) / (high - low) if high > low else 0.0)
            fused[item] = fused.get(item, 0.0) + points
            counts[item] = counts.get(item, 0) + 1
    if method == "combmnz":
        fused = {item: value * counts[item] for item, value in fused.items()}
    return fused


@pytest.mark.parametrize("method", ["rrf", "borda", "combsum", "combmnz"])
def test_fusion_matches_the_textbook_formulas(X, method):
    fusion = RankFusion(members(), method=method, k=60, depth=15).fit(X)
    ids, scores = fusion.recommend(X[:6], n=10)
    for row in range(6):
        lists = [list(zip(*(a.ravel() for a in member.recommend(X[row:row + 1], n=15))))
                 for member in fusion.estimators_]
        expected = _reference_fusion(lists, method)
        for item, score in zip(ids[row], scores[row]):
            assert score == pytest.approx(expected[int(item)])
        best = sorted(expected.values(), reverse=True)[:10]
        np.testing.assert_allclose(scores[row], best)


def test_fusion_of_identical_members_keeps_their_ranking(X):
    single = EASE(l2=20.0).fit(X).recommend(X[:30], n=10)[0]
    fusion = RankFusion([("a", EASE(l2=20.0)), ("b", EASE(l2=20.0))], method="rrf").fit(X)
    np.testing.assert_array_equal(fusion.recommend(X[:30], n=10)[0], single)


def test_fusion_weights_scale_each_list(X):
    fusion = RankFusion(members(), method="rrf", k=0, depth=5, weights=[3, 0, 0]).fit(X)
    _, scores = fusion.recommend(X[:4], n=5)
    np.testing.assert_allclose(scores, np.tile(3 / np.arange(1, 6), (4, 1)))


def test_fused_list_is_padded_when_members_hold_fewer_items(X):
    fusion = RankFusion([("pop", PopularityRecommender())], depth=3).fit(X)
    ids, scores = fusion.recommend(X[:2], n=10, items=[0, 1, 2, 3])
    assert ((ids >= 0).sum(axis=1) <= 4).all()
    assert (np.isneginf(scores) == (ids < 0)).all()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("Ensemble", [WeightedHybrid, RankFusion])
@pytest.mark.parametrize("estimators, error, message", [
    ([], ValueError, "non-empty list"),
    ([("a", EASE()), ("a", EASE())], ValueError, "not unique"),
    ([("a", EASE)], TypeError, "instance"),
    ([("a", BiasedMF())], TypeError, "not a recsys recommender"),
    ([("a", "drop")], ValueError, "keep at least one"),
    ([("weights", EASE())], ValueError, "conflict"),
])
def test_bad_members_are_rejected(X, Ensemble, estimators, error, message):
    with pytest.raises(error, match=message):
        Ensemble(estimators).fit(X)


@pytest.mark.parametrize("Ensemble", [WeightedHybrid, RankFusion])
@pytest.mark.parametrize("weights, message", [
    ([1.0], "one weight per"), ([1.0, -1.0, 1.0], "non-negative"), ([0, 0, 0], "all zero"),
    ([1.0, np.nan, 1.0], "finite"),
])
def test_bad_weights_are_rejected(X, Ensemble, weights, message):
    with pytest.raises(ValueError, match=message):
        Ensemble(members(), weights=weights).fit(X)


def test_bad_options_are_rejected(X):
    with pytest.raises(ValueError, match="normalize"):
        WeightedHybrid(members(), normalize="softmax").fit(X)
    with pytest.raises(ValueError, match="method"):
        RankFusion(members(), method="median").fit(X)
    with pytest.raises(ValueError, match="depth"):
        RankFusion(members(), depth=0).fit(X)


def test_new_users_are_folded_in_by_every_member(X):
    hybrid = WeightedHybrid(members()).fit(X[:150])
    new_rows = sp.csr_matrix(X[150:])
    ids, _ = hybrid.recommend(new_rows, n=5)
    assert ids.shape == (50, 5) and (ids >= 0).all()
