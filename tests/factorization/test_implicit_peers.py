import numpy as np
import pytest

from recsys.bench import get_model
from recsys.factorization import ALS, BPR
from recsys.testing._contract import contract_data

pytest.importorskip("implicit")

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def data():
    return contract_data()


def test_implicit_als_peer_recommends_what_recsys_als_recommends(data):
    params = {"n_factors": 8, "n_epochs": 5, "alpha": 3.0, "regularization": 0.5, "random_state": 0}
    ours = ALS(**params).fit(data)
    peer = get_model("implicit-als").build(**params).fit(data)
    np.testing.assert_array_equal(peer.item_factors_, ours.item_factors_)
    peer_ids, peer_scores = peer.recommend(data[:40], n=10)
    our_ids, our_scores = ours.recommend(data[:40], n=10)
    np.testing.assert_allclose(peer_scores, our_scores, rtol=1e-4, atol=1e-5)
    assert (peer_ids == our_ids).mean() > 0.95  # ids may swap only where scores tie


def test_implicit_bpr_peer_fits_the_same_factors(data):
    params = {"n_factors": 8, "n_epochs": 10, "random_state": 0}
    ours = BPR(**params).fit(data)
    peer = get_model("implicit-bpr").build(**params).fit(data)
    np.testing.assert_array_equal(peer.item_factors_, ours.item_factors_)
    np.testing.assert_array_equal(peer.recommend(data[:20], n=5)[0], ours.recommend(data[:20], n=5)[0])


@pytest.mark.parametrize("name", ["implicit-als", "implicit-bpr", "implicit-lmf"])
def test_peer_pads_and_excludes_seen(name, data):
    peer = get_model(name).build(n_factors=4, n_epochs=3).fit(data)
    n_items = data.shape[1]
    ids, scores = peer.recommend(data[:3], n=n_items + 2)
    assert ids.shape == (3, n_items + 2)
    for row in range(3):
        n_valid = n_items - data[row].nnz
        assert (ids[row, :n_valid] >= 0).all() and (ids[row, n_valid:] == -1).all()
        assert np.isneginf(scores[row, n_valid:]).all()
        assert not np.isin(ids[row, :n_valid], data[row].indices).any()
