"""recsys.distributed on a real LocalCluster: 2 worker processes of 1 thread, on 127.0.0.1."""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

import cloudpickle
import dask.dataframe as dd
import joblib
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from recsys.datasets import Interactions, make_interactions
from recsys.distributed import from_dask, recommend
from recsys.factorization import ALS
from recsys.linear import EASE
from recsys.metrics import make_ranking_scorer
from recsys.neighbors import ItemKNN
from recsys.testing import kill_worker_once_per_marker

# The cluster must not change the client's numba: see worker_thread_limits.
CLIENT_NUMBA_THREADS = os.environ.get("NUMBA_NUM_THREADS")

# Every test here shares one cluster (conftest's client), whose start (two spawned interpreters) takes seconds.
pytestmark = pytest.mark.slow

# The worker processes cannot import this test module: its classes travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def data():
    return make_interactions(120, 40, density=0.15, random_state=0)


MODELS = [
    pytest.param(lambda: ALS(n_factors=8, n_epochs=3, random_state=0), id="ALS"),
    pytest.param(lambda: EASE(l2=50.0), id="EASE"),
    pytest.param(lambda: ItemKNN(k=10), id="ItemKNN"),
]


def test_workers_run_one_native_thread(client):
    def thread_counts():
        import numba
        from threadpoolctl import threadpool_info

        return numba.config.NUMBA_NUM_THREADS, {pool["num_threads"] for pool in threadpool_info()}

    for numba_threads, pools in client.run(thread_counts).values():
        assert numba_threads == 1
        assert pools <= {1}
    assert os.environ.get("NUMBA_NUM_THREADS") == CLIENT_NUMBA_THREADS


@pytest.mark.parametrize("make_model", MODELS)
def test_recommend_equals_recommend_ids(client, data, make_model):
    model = make_model().fit(data)
    table = recommend(model, data, n=5, client=client, block_size=25)
    expected = model.recommend_ids(data, n=5)
    pd.testing.assert_frame_equal(table, expected)


@pytest.mark.parametrize("make_model", MODELS)
def test_recommend_on_a_matrix_equals_model_recommend(client, data, make_model):
    X = data.to_csr()
    model = make_model().fit(X)
    table = recommend(model, X[10:70], n=4, client=client, block_size=16, items=np.arange(30))
    ids, scores = model.recommend(X[10:70], n=4, items=np.arange(30))
    assert (table.groupby("user_id").size() == (ids >= 0).sum(axis=1)).all()
    found = ids >= 0
    np.testing.assert_array_equal(table["item_id"], ids[found])
    np.testing.assert_array_equal(table["score"], scores[found])
    np.testing.assert_array_equal(table["user_id"], np.nonzero(found)[0])


def test_recommend_writes_complete_shards(client, data, tmp_path):
    model = EASE(l2=50.0).fit(data)
    paths = recommend(model, data, n=3, client=client, block_size=50, output=tmp_path / "out")
    assert [Path(path).name for path in paths] == ["part-00000.parquet", "part-00001.parquet",
                                                   "part-00002.parquet"]
    table = pd.read_parquet(tmp_path / "out")
    pd.testing.assert_frame_equal(table, model.recommend_ids(data, n=3))
    with pytest.raises(FileExistsError, match="already holds 3 shard"):
        recommend(model, data, n=3, client=client, output=tmp_path / "out")


class _KillsItsWorker(EASE):
    """EASE whose recommend kills its worker process once per kill marker (two: both workers die)."""

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        kill_worker_once_per_marker(self.kill_markers_, spare_pid=self.client_pid_)
        return super().recommend(X, n=n, exclude_seen=exclude_seen, items=items)


@pytest.mark.parametrize("kills", [1, 2], ids=["one-worker", "every-worker"])
def test_killed_workers_mid_job_leave_only_complete_shards(client, data, tmp_path, kills):
    model = _KillsItsWorker(l2=50.0).fit(data)
    model.kill_markers_ = [str(tmp_path / f"killed-{number}") for number in range(kills)]
    model.client_pid_ = os.getpid()
    paths = recommend(model, data, n=3, client=client, block_size=30, output=tmp_path / "out")
    assert all(os.path.exists(marker) for marker in model.kill_markers_)  # the workers did die
    assert sorted(os.listdir(tmp_path / "out")) == [Path(path).name for path in paths]
    expected = EASE(l2=50.0).fit(data).recommend_ids(data, n=3)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out"), expected)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts them for the next tests


def test_grid_search_on_the_dask_joblib_backend(client, data):
    X = data.to_csr()
    search = GridSearchCV(ItemKNN(), {"k": [5, 20]}, cv=KFold(2),
                          scoring=make_ranking_scorer("ndcg", k=5), n_jobs=-1)
    with joblib.parallel_backend("dask"):
        on_dask = search.fit(X).cv_results_["mean_test_score"]
    local = search.set_params(n_jobs=1).fit(X).cv_results_["mean_test_score"]
    np.testing.assert_allclose(on_dask, local)


def test_cross_validate_als_on_the_dask_joblib_backend(client, data):
    X = data.to_csr()
    model = ALS(n_factors=8, n_epochs=3, random_state=0)
    scoring = make_ranking_scorer("recall", k=5)
    with joblib.parallel_backend("dask"):
        on_dask = cross_validate(model, X, cv=KFold(3), scoring=scoring, n_jobs=-1)["test_score"]
    local = cross_validate(model, X, cv=KFold(3), scoring=scoring)["test_score"]
    np.testing.assert_allclose(on_dask, local, rtol=1e-5)


def test_from_dask_equals_from_pandas(client):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "user": rng.choice(["ann", "bob", "cy", "dee"], 60), "item": rng.integers(0, 15, 60),
        "rating": rng.integers(1, 6, 60).astype(float), "time": rng.permutation(60), "note": "x",
    })
    for duplicates in ("sum", "last"):
        built = from_dask(dd.from_pandas(df, npartitions=3), rating_col="rating", time_col="time",
                          duplicates=duplicates)
        assert built == Interactions.from_pandas(df, rating_col="rating", time_col="time",
                                                 duplicates=duplicates)


def test_from_dask_keeps_the_row_order_of_tied_events(client):
    # Times in 0..3 for 80 rows: most events tie. The rows of a Dask DataFrame are its partitions' rows
    # in partition order (ddf.compute()), so from_dask breaks ties as from_pandas does on those rows.
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"user": rng.choice(["ann", "bob", "cy", None], 80), "item": rng.integers(0, 12, 80),
                       "rating": rng.integers(1, 6, 80).astype(float), "time": rng.integers(0, 4, 80)})
    ddf = dd.from_pandas(df, npartitions=4)
    for duplicates in ("sum", "last", "first"):
        built = from_dask(ddf, rating_col="rating", time_col="time", duplicates=duplicates, dropna=True)
        expected = Interactions.from_pandas(ddf.compute(), rating_col="rating", time_col="time",
                                            duplicates=duplicates, dropna=True)
        assert built == expected
        np.testing.assert_array_equal(built.input_order, expected.input_order)
        np.testing.assert_array_equal(built.time_order(), expected.time_order())
        # ...which differs from the stored (user, item) order on ties: the order is really used.
        assert not np.array_equal(built.time_order(), np.lexsort((built.timestamps, built.users)))


def test_from_dask_keeps_from_pandas_checks(client):
    df = pd.DataFrame({"user": ["a", None, "b"], "item": [1, 2, 1]})
    with pytest.raises(ValueError, match="1 row.*no 'user'"):
        from_dask(dd.from_pandas(df, npartitions=2))
    assert len(from_dask(dd.from_pandas(df, npartitions=2), dropna=True)) == 2
    with pytest.raises(ValueError, match="repeated|duplicate"):
        from_dask(dd.from_pandas(pd.DataFrame({"user": [1, 1], "item": [2, 2]}), npartitions=1))
    with pytest.raises(KeyError, match="rating_col='r'"):
        from_dask(dd.from_pandas(df, npartitions=1), rating_col="r")
