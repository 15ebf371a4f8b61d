"""The shared similar_items and save/load checks, on the implicit-feedback factor models."""

from recsys.factorization import (
    ALS,
    BPR,
    LMF,
    PureSVD,
)
from recsys.testing import SaveLoadChecks, SimilarItemsChecks


class TestALSSimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return ALS(n_factors=6, n_epochs=5, random_state=0)


class TestBPRSimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return BPR(n_factors=6, n_epochs=10, random_state=0)


class TestLMFSimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return LMF(n_factors=6, n_epochs=5, random_state=0)


class TestPureSVDSimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return PureSVD(n_factors=6, random_state=0)


class TestALSSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return ALS(n_factors=6, n_epochs=5, random_state=0)


class TestBPRSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return BPR(n_factors=6, n_epochs=10, random_state=0)


class TestLMFSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return LMF(n_factors=6, n_epochs=5, random_state=0)


class TestPureSVDWithRetrievalSaveLoad(SaveLoadChecks):
    """The faiss index is not saved: load rebuilds it, and recommends the same."""

    def make_estimator(self):
        return PureSVD(n_factors=6, random_state=0, retrieval="flat")


# The rating predictors run SaveLoadChecks in tests/factorization/test_rating_models.py,
# on each of their configurations.
