"""ItemKNN keeps the shared similar_items contract."""

from recsys.neighbors import ItemKNN
from recsys.testing import SimilarItemsChecks


class TestItemKNNSimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return ItemKNN(k=10)


class TestItemKNNBM25SimilarItems(SimilarItemsChecks):
    def make_estimator(self):
        return ItemKNN(k=5, similarity="bm25")
