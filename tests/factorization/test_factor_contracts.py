"""The shared similar_items and save/load checks, on every factor model."""

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


class TestBaselineOnlySaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return BaselineOnly()


class TestBiasedMFSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return BiasedMF(n_factors=4, n_epochs=3, random_state=0)


class TestSVDppSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return SVDpp(n_factors=4, n_epochs=3, random_state=0)


class TestNMFSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return NMF(n_factors=4, n_epochs=3, biased=True, random_state=0)


class TestALSRatingSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return ALSRating(n_factors=4, n_epochs=3, random_state=0)
