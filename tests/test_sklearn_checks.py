"""scikit-learn's estimator checks on every public recsys estimator.

Every check runs on every estimator; the ones an estimator is expected to fail
are listed, with the reason, in one place (``recsys.testing.expected_failed_checks``),
which the recommender and rating-predictor contracts reuse. xfail is strict: a
listed check that starts passing fails here until it is taken off the list.
"""

import importlib
import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

from recsys.baselines import PopularityRecommender, RandomRecommender
from recsys.embeddings import CooccurrenceEmbedding, ItemEmbeddings, UserEmbeddings
from recsys.ensemble import (
    FeatureWeightedStacking,
    RankFusion,
    TwoStageRecommender,
    WeightedHybrid,
)
from recsys.factorization import (
    ALS,
    BPR,
    LMF,
    NMF,
    ALSRating,
    BaselineOnly,
    BiasedMF,
    PureSVD,
    SVDpp,
)
from recsys.hashing import (
    ContainmentLSH,
    CosineLSH,
    EuclideanLSH,
    LSHItemKNN,
    MinHasher,
    MinHashLSH,
    MinHashLSHForest,
    PStableHasher,
    SimHasher,
    WeightedMinHasher,
)
from recsys.linear import EASE, SLIM
from recsys.neighbors import (
    FaissNearestNeighbors,
    ItemKNN,
    KNNBaseline,
    KNNBasic,
    KNNWithMeans,
    RP3beta,
    SlopeOne,
    UserKNN,
)
from recsys.pipeline import RecommenderPipeline
from recsys.preprocessing import InteractionWeighter, NegativeSampler, PairFeatures
from recsys.testing import expected_failed_checks

# Small, seeded instances: the checks fit each estimator dozens of times.
ESTIMATORS = [
    PopularityRecommender(), RandomRecommender(random_state=0),
    ALS(n_factors=4, n_epochs=2, random_state=0), BPR(n_factors=4, n_epochs=2, random_state=0),
    LMF(n_factors=4, n_epochs=2, random_state=0), PureSVD(n_factors=2, random_state=0),
    ItemKNN(k=5), UserKNN(k=5), RP3beta(k=5), EASE(), SLIM(), LSHItemKNN(),
    NMF(n_factors=2, n_epochs=2, random_state=0), ALSRating(n_factors=2, n_epochs=2, random_state=0),
    BaselineOnly(), BiasedMF(n_factors=2, n_epochs=2, random_state=0),
    SVDpp(n_factors=2, n_epochs=2, random_state=0), KNNBasic(), KNNWithMeans(), KNNBaseline(), SlopeOne(),
    FaissNearestNeighbors(), CosineLSH(seed=0), EuclideanLSH(seed=0), MinHashLSH(), MinHashLSHForest(),
    ContainmentLSH(), MinHasher(), WeightedMinHasher(), PStableHasher(seed=0), SimHasher(seed=0),
    CooccurrenceEmbedding(n_components=1, random_state=0),
    # bm25 weighs every entry 0 on the checks' dense matrices (each user holds
    # every item, idf 0) and warns; tfidf by users and confidence still run.
    InteractionWeighter("confidence"), InteractionWeighter("tfidf", documents="users"),
    PairFeatures(), NegativeSampler(random_state=0),
    RecommenderPipeline([("confidence", InteractionWeighter("confidence")), ("knn", ItemKNN(k=5))]),
    WeightedHybrid([("pop", PopularityRecommender()), ("knn", ItemKNN(k=5))]),
    RankFusion([("pop", PopularityRecommender()), ("knn", ItemKNN(k=5))]),
    FeatureWeightedStacking([("baseline", BaselineOnly()), ("slope", SlopeOne())], cv=2),
    TwoStageRecommender(candidates=PopularityRecommender(), n_candidates=5, scorers=[("knn", ItemKNN(k=5))],
                        random_state=0, n_threads=1),
]

# Estimators built around another fitted model: the checks construct them with
# default parameters, which they do not have.
WRAPPERS = {ItemEmbeddings, UserEmbeddings}

PACKAGES = ["recsys.baselines", "recsys.embeddings", "recsys.ensemble", "recsys.factorization",
            "recsys.hashing", "recsys.linear", "recsys.neighbors", "recsys.pipeline", "recsys.preprocessing"]


def test_every_public_estimator_is_checked():
    public = {
        obj for package in PACKAGES for name in importlib.import_module(package).__all__
        if inspect.isclass(obj := getattr(importlib.import_module(package), name))
        and issubclass(obj, BaseEstimator) and not inspect.isabstract(obj)
    }
    assert public - WRAPPERS == {type(estimator) for estimator in ESTIMATORS}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda estimator: type(estimator).__name__)
def test_every_expected_failure_has_a_reason(estimator):
    for name, reason in expected_failed_checks(estimator).items():
        assert name.startswith("check_") and len(reason) > 20, (name, reason)
