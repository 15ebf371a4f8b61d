"""recsys.distributed.ItemKNN on a real LocalCluster (conftest's client: 2 worker processes of 1 thread).

The similarity computed in blocks of items on the workers must be the matrix the
in-memory recsys.neighbors.ItemKNN computes, entry for entry, for every similarity.
"""

import os
import pickle
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

import cloudpickle
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from recsys.datasets import make_interactions
from recsys.distributed import ItemKNN
from recsys.neighbors import ItemKNN as InMemoryItemKNN
from recsys.neighbors._similarity import SIMILARITIES
from recsys.testing import kill_worker_once_per_marker

# The cluster's start (two spawned interpreters) takes seconds.
pytestmark = pytest.mark.slow

# The worker processes cannot import this test module: its classes travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def data():
    return make_interactions(150, 60, density=0.12, random_state=0)


@pytest.fixture(scope="module")
def counts(data):
    """The same pattern with counts 1..4, so that the weightings and cosines differ from Jaccard's."""
    X = data.to_csr().astype(np.float32)
    X.data = np.random.default_rng(0).integers(1, 5, X.nnz).astype(np.float32)
    return X


def assert_same_matrix(left, right):
    assert left.shape == right.shape and left.format == right.format == "csr"
    np.testing.assert_array_equal(left.indptr, right.indptr)
    np.testing.assert_array_equal(left.indices, right.indices)
    np.testing.assert_array_equal(left.data, right.data)  # bit for bit, not approximately


PARAMS = [pytest.param({"similarity": similarity, "shrink": 2.0}, id=similarity) for similarity in SIMILARITIES]
PARAMS += [pytest.param({"similarity": "asymmetric", "alpha": 0.2}, id="asymmetric-alpha-0.2"),
           pytest.param({"similarity": "cosine", "normalize": False}, id="dot-product"),
           pytest.param({"similarity": "bm25", "normalize": False}, id="bm25-dot-product")]


@pytest.mark.parametrize("params", PARAMS)
def test_same_similarity_and_recommendations_as_in_memory(client, counts, params):
    # 7 items per block: 9 blocks, the last one short; k=6 cuts through ties.
    model = ItemKNN(k=6, client=client, block_size=7, **params).fit(counts)
    expected = InMemoryItemKNN(k=6, **params).fit(counts)
    assert_same_matrix(model.similarity_, expected.similarity_)
    for got, want in zip(model.recommend(counts[:40], n=8), expected.recommend(counts[:40], n=8)):
        np.testing.assert_array_equal(got, want)


def test_ties_at_the_kth_neighbour_go_to_the_lower_item_as_in_memory(client, data):
    # Binary data and Jaccard give many equal similarities; k=3 cuts through them.
    X = data.to_csr()
    model = ItemKNN(k=3, similarity="jaccard", client=client, block_size=11).fit(X)
    expected = InMemoryItemKNN(k=3, similarity="jaccard").fit(X)
    full = InMemoryItemKNN(k=60, similarity="jaccard").fit(X).similarity_.toarray()
    third = np.sort(full, axis=1)[:, -3]
    assert ((full == third[:, None]).sum(axis=1) > 1).any()  # the data do have ties at the cut
    assert_same_matrix(model.similarity_, expected.similarity_)


@pytest.mark.parametrize(("k", "block_size"), [(500, 1000), (1, 1)], ids=["one-block-k-clamped", "one-item-blocks"])
def test_block_and_k_extremes(client, counts, k, block_size):
    model = ItemKNN(k=k, client=client, block_size=block_size).fit(counts)
    assert_same_matrix(model.similarity_, InMemoryItemKNN(k=k).fit(counts).similarity_)


def test_interactions_give_the_same_table_as_in_memory(client, data):
    model = ItemKNN(k=10, client=client, block_size=16).fit(data)
    expected = InMemoryItemKNN(k=10).fit(data)
    np.testing.assert_array_equal(model.item_ids_, expected.item_ids_)
    pd.testing.assert_frame_equal(model.recommend_ids(data, n=5), expected.recommend_ids(data, n=5))


def test_current_client_is_used_when_none_is_given(client, counts):
    # The fixture's client is the default one (Client sets itself as default).
    model = ItemKNN(k=5, block_size=20).fit(counts)
    assert_same_matrix(model.similarity_, InMemoryItemKNN(k=5).fit(counts).similarity_)


def test_save_load_clone_and_pickle_leave_the_client_out(client, counts, tmp_path):
    model = ItemKNN(k=5, shrink=1.0, client=client, block_size=20).fit(counts)
    assert model.get_params() == {"k": 5, "similarity": "cosine", "shrink": 1.0, "alpha": 0.5,
                                  "normalize": True, "client": client, "block_size": 20}
    path = model.save(tmp_path / "knn")  # the client stays on the model, out of the file
    assert model.client is client
    loaded = ItemKNN.load(path)
    assert loaded.client is None and loaded.block_size == 20
    assert_same_matrix(loaded.similarity_, model.similarity_)
    cloned = clone(model)
    assert cloned.client is client and cloned.get_params()["k"] == 5 and not hasattr(cloned, "similarity_")
    restored = pickle.loads(pickle.dumps(model))
    assert restored.client is None and model.client is client
    for got, want in zip(restored.recommend(counts[:10], n=5), model.recommend(counts[:10], n=5)):
        np.testing.assert_array_equal(got, want)


def test_bad_parameters_and_input_are_rejected(client, counts):
    with pytest.raises(InvalidParameterError, match="'block_size' parameter"):
        ItemKNN(client=client, block_size=0).fit(counts)
    with pytest.raises(InvalidParameterError, match="'client' parameter"):
        ItemKNN(client="tcp://127.0.0.1:8786").fit(counts)  # an address, not a Client
    with pytest.raises(InvalidParameterError, match="'similarity' parameter"):
        ItemKNN(similarity="pearson", client=client).fit(counts)
    negative = counts.copy()
    negative.data[0] = -1.0
    with pytest.raises(ValueError, match="negative"):
        ItemKNN(client=client).fit(negative)


class _KillsItsWorker(ItemKNN):
    """ItemKNN whose block tasks kill their worker process (SIGKILL) once per marker file.

    A worker claims a marker by creating it exclusively: with two markers both workers die,
    and with them the operands every block needs, which Dask must then recompute.
    """

    markers = ()
    client_pid = None

    def _item_similarity(self, item_vectors, rows=None):
        kill_worker_once_per_marker(self.markers, spare_pid=self.client_pid)
        return super()._item_similarity(item_vectors, rows)


def test_every_worker_killed_mid_fit_gives_the_same_matrix(client, counts, tmp_path):
    markers = [str(tmp_path / f"killed-{number}") for number in range(2)]
    # Class attributes, not instance ones: the tasks get a clone, which keeps only the parameters.
    killer = type("KillsBothWorkers", (_KillsItsWorker,), {"markers": markers, "client_pid": os.getpid()})
    model = killer(k=6, similarity="bm25", client=client, block_size=10).fit(counts)
    assert all(os.path.exists(marker) for marker in markers)  # both workers did die
    assert_same_matrix(model.similarity_, InMemoryItemKNN(k=6, similarity="bm25").fit(counts).similarity_)
    client.wait_for_workers(2, timeout=60)  # the nannies restart them for the next tests
