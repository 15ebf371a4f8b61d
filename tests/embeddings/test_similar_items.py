"""Item embeddings keep the shared similar_items contract."""

from recsys.embeddings import CooccurrenceEmbedding, ItemEmbeddings
from recsys.factorization import PureSVD
from recsys.testing import SimilarItemsChecks


class TestCooccurrenceSimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return CooccurrenceEmbedding(n_components=6, random_state=0)


class TestItemEmbeddingsSimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return ItemEmbeddings(PureSVD(n_factors=6, random_state=0))

    def fit_estimator(self, estimator, X):
        estimator.model.fit(X)
        return estimator.fit()


class TestItemEmbeddingsThroughAnIndexSimilarItems(TestItemEmbeddingsSimilarItems):
    def make_estimator(self):
        return ItemEmbeddings(PureSVD(n_factors=6, random_state=0), retrieval="flat")
