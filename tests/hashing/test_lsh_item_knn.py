import numpy as np
import pytest

from recsys.hashing import LSHItemKNN, pairwise_jaccard
from recsys.testing import RecommenderContract, SaveLoadChecks
from recsys.testing._contract import contract_data


class TestLSHItemKNNContract(RecommenderContract, SaveLoadChecks):
    must_beat = "random"

    def make_estimator(self):
        return LSHItemKNN(threshold=0.1, n_perm=128, k=20)


def test_similarities_are_exact_jaccard_of_candidates():
    X = contract_data()
    model = LSHItemKNN(threshold=0.1, k=200).fit(X)
    truth = pairwise_jaccard(X.T)
    rows, columns = model.similarity_.nonzero()
    np.testing.assert_allclose(model.similarity_[rows, columns].A1, truth[rows, columns])
    assert (rows != columns).all()


def test_low_threshold_recovers_exact_item_knn_neighbours():
    neighbors = pytest.importorskip("recsys.neighbors")
    X = contract_data()
    exact = neighbors.ItemKNN(similarity="jaccard", k=10).fit(X)
    approximate = LSHItemKNN(threshold=0.05, n_perm=256, k=10).fit(X)
    exact_pairs = set(zip(*exact.similarity_.nonzero()))
    found = set(zip(*approximate.similarity_.nonzero()))
    assert len(exact_pairs & found) / len(exact_pairs) > 0.8


def test_higher_threshold_proposes_fewer_pairs():
    X = contract_data()
    low = LSHItemKNN(threshold=0.1).fit(X).n_candidate_pairs_
    high = LSHItemKNN(threshold=0.6).fit(X).n_candidate_pairs_
    assert high < low <= X.shape[1] * (X.shape[1] - 1) // 2


def test_registered_with_recsys_bench():
    from recsys.bench import get_model

    spec = get_model("lsh-item-knn")
    assert isinstance(spec.build(), LSHItemKNN)
