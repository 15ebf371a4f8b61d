"""SparkALS: Spark MLlib's implicit ALS behind the recsys recommender API (local[2], 127.0.0.1)."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

pytest.importorskip("pyspark")

from recsys.distributed import SparkALS, local_spark_session
from recsys.factorization import ALS
from recsys.metrics import ndcg_at_k
from recsys.testing import contract_data
from recsys.utils import split_rows

pytestmark = pytest.mark.slow

PARAMS = {"n_factors": 8, "n_epochs": 6, "regularization": 0.05, "alpha": 4.0, "random_state": 0}


@pytest.fixture(scope="module")
def spark():
    previous = os.environ.get("SPARK_LOCAL_IP")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # never bind another address
    session = local_spark_session(n_cores=2, shuffle_partitions=4)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("SPARK_LOCAL_IP", None)
    else:
        os.environ["SPARK_LOCAL_IP"] = previous


@pytest.fixture(scope="module")
def data():
    return contract_data()


@pytest.fixture(scope="module")
def fitted(spark, data):
    return SparkALS(**PARAMS, spark=spark).fit(data)


def test_factors_shapes(fitted, data):
    assert fitted.user_factors_.shape == (data.shape[0], 8)
    assert fitted.item_factors_.shape == (data.shape[1], 8)
    assert fitted.user_factors_.dtype == np.float32 and np.isfinite(fitted.item_factors_).all()


def test_fold_in_solves_sparks_own_user_step(fitted, data):
    # Spark's last half-sweep solves the users against the final item factors with
    # confidence 1 + alpha r and penalty regularization * n_u: the fold-in must give them back.
    np.testing.assert_allclose(fitted.fold_in(data), fitted.user_factors_, atol=1e-4)


def test_fold_in_of_a_row_without_positives_is_zero(fitted, data):
    assert not fitted.fold_in(sp.csr_matrix((1, data.shape[1]))).any()


def test_recommend_shapes_exclusion_and_items(fitted, data):
    ids, scores = fitted.recommend(data[:7], n=6)
    assert ids.shape == scores.shape == (7, 6) and np.issubdtype(ids.dtype, np.integer)
    assert (np.diff(scores, axis=1) <= 1e-6).all()
    for row, seen in zip(ids, np.split(data.indices, data.indptr[1:-1])[:7]):
        assert not np.isin(row, seen).any()
    allowed = np.arange(0, data.shape[1], 3)
    restricted, _ = fitted.recommend(data[:7], n=5, items=allowed)
    assert np.isin(restricted[restricted >= 0], allowed).all()
    # as many scores as the model has: one row scored in full equals its factor product
    scores_all = fitted.fold_in(data[:1]) @ fitted.item_factors_.T
    _top, top_scores = fitted.recommend(data[:1], n=3, exclude_seen=False)
    np.testing.assert_allclose(top_scores[0], np.sort(scores_all[0])[::-1][:3], rtol=1e-5)


def test_similar_items(fitted):
    ids, scores = fitted.similar_items([0, 1], n=4)
    assert ids.shape == (2, 4) and (ids != np.array([[0], [1]])).all()
    assert (np.diff(scores, axis=1) <= 1e-6).all() and (scores <= 1 + 1e-6).all()


def test_fit_on_a_spark_dataframe_equals_fit_on_the_matrix(spark, fitted, data):
    coo = data.tocoo()
    frame = spark.createDataFrame(pd.DataFrame({"user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32),
                                                "rating": coo.data.astype(np.float32)}))
    model = SparkALS(**PARAMS, spark=spark).fit(frame)
    assert model.n_items_ == data.shape[1] and model.user_factors_.shape[0] == data.shape[0]
    np.testing.assert_allclose(model.item_factors_, fitted.item_factors_, atol=1e-4)
    with pytest.raises(ValueError, match="lacks the column"):
        SparkALS(**PARAMS, spark=spark).fit(frame.drop("rating"))
    with pytest.raises(ValueError, match="integer indices"):
        SparkALS(**PARAMS, spark=spark).fit(frame.withColumn("user", frame["user"].cast("string")))


def test_save_load_round_trip(fitted, data, tmp_path):
    with pytest.raises(ValueError, match="parameter spark="):
        fitted.save(tmp_path / "with-session.npz")  # a session is no JSON value
    model = pickle.loads(pickle.dumps(fitted))  # the fitted model, its session left out
    model.save(tmp_path / "model.npz")
    loaded = SparkALS.load(tmp_path / "model.npz")
    for left, right in zip(fitted.recommend(data[:20], n=5), loaded.recommend(data[:20], n=5)):
        np.testing.assert_array_equal(left, right)


def test_clone_and_pickle_keep_working_with_a_session(spark, fitted, data):
    cloned = clone(fitted)
    assert cloned.spark is spark and cloned.get_params()["n_factors"] == 8
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.spark is None and fitted.spark is spark
    np.testing.assert_array_equal(restored.recommend(data[:5], n=5)[0], fitted.recommend(data[:5], n=5)[0])


def test_bad_matrix_rejected(spark, data):
    bad = data.astype(np.float64)
    bad.data[0] = -1.0
    with pytest.raises(ValueError, match="negative"):
        SparkALS(**PARAMS, spark=spark).fit(bad)


def test_quality_close_to_recsys_als(spark, data):
    # Same data and confidence (1 + 4 = 5 on every binary positive); penalties differ by design
    # (Spark's grows with n_u), so the bar is closeness of NDCG@10, not equal factors.
    binary = (data > 0).astype(np.float32)
    train, test = binary[:180], binary[180:]
    fold_in, held_out = split_rows(test, 0.8, random_state=0)
    spark_ids, _ = SparkALS(**PARAMS, spark=spark).fit(train).recommend(fold_in, n=10)
    als_ids, _ = ALS(n_factors=8, n_epochs=6, alpha=5.0, regularization=1.0, use_cg=False,
                     random_state=0).fit(train).recommend(fold_in, n=10)
    spark_ndcg, als_ndcg = ndcg_at_k(held_out, spark_ids, k=10), ndcg_at_k(held_out, als_ids, k=10)
    assert spark_ndcg > als_ndcg - 0.05, (spark_ndcg, als_ndcg)


@pytest.mark.parametrize("environment", [{"PATH": ""}, {"PATH": "", "JAVA_HOME": "/nonexistent"}])
def test_no_java_gives_an_error_that_says_so(environment):
    env = {key: value for key, value in os.environ.items() if key != "JAVA_HOME"}
    env.update(environment, SPARK_LOCAL_IP="127.0.0.1")
    code = ("from recsys.distributed import local_spark_session\n"
            "try:\n    local_spark_session()\n"
            "except RuntimeError as error:\n    print(error)\n")
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                             check=True, timeout=120).stdout
    assert "cannot start Spark: no Java" in printed
    assert ("JAVA_HOME='/nonexistent' holds no bin/java" in printed if "JAVA_HOME" in environment
            else "no java on PATH" in printed)
