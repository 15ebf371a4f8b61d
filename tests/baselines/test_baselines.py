import numpy as np
import scipy.sparse as sp

from recsys.baselines import PopularityRecommender, RandomRecommender
from recsys.testing import RecommenderContract, SaveLoadChecks


class TestPopularityContract(RecommenderContract, SaveLoadChecks):
    must_beat = "random"

    def make_estimator(self):
        return PopularityRecommender()


class TestRandomContract(RecommenderContract, SaveLoadChecks):
    batch_consistent = False

    def make_estimator(self):
        return RandomRecommender(random_state=0)


def test_popularity_ranks_by_distinct_users_by_default():
    X = sp.csr_matrix(np.array([[5, 1, 0], [0, 1, 0], [0, 1, 1]], dtype=float))
    model = PopularityRecommender().fit(X)
    np.testing.assert_array_equal(model.item_popularity_, [1, 3, 1])
    ids, scores = model.recommend(sp.csr_matrix((1, 3)), n=3)
    np.testing.assert_array_equal(ids, [[1, 0, 2]])
    np.testing.assert_array_equal(scores, [[3, 1, 1]])


def test_popularity_by_weights():
    X = sp.csr_matrix(np.array([[5, 1, 0], [0, 1, 0], [0, 1, 1]], dtype=float))
    model = PopularityRecommender(count="weights").fit(X)
    np.testing.assert_array_equal(model.item_popularity_, [5, 3, 1])


def test_popularity_rejects_unknown_count():
    import pytest

    with pytest.raises(ValueError, match="count"):
        PopularityRecommender(count="views").fit(sp.eye(3, format="csr"))


def test_random_is_uniform_over_items():
    model = RandomRecommender(random_state=0).fit(sp.csr_matrix(np.ones((1, 4))))
    ids, _ = model.recommend(sp.csr_matrix((2000, 4)), n=1)
    shares = np.bincount(ids.ravel(), minlength=4) / 2000
    np.testing.assert_allclose(shares, 0.25, atol=0.04)
