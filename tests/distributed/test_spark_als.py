"""SparkALS: Spark MLlib's implicit ALS behind the recsys recommender API (local[2], 127.0.0.1)."""

import json
import os
import pickle
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

pytest.importorskip("pyspark")

from recsys.distributed import SparkALS, local_spark_session
from recsys.distributed._spark_als import explicit_fold_in
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


@pytest.fixture(scope="module")
def ratings(data):
    # Ratings 1..5 on the stored entries: explicit ALS fits these values, not their presence.
    values = data.astype(np.float32)
    values.data = 1.0 + np.random.default_rng(0).integers(0, 5, values.nnz).astype(np.float32)
    return values


@pytest.fixture(scope="module")
def fitted_explicit(spark, ratings):
    return SparkALS(**{**PARAMS, "regularization": 0.1}, implicit_prefs=False, spark=spark).fit(ratings)


def test_explicit_fold_in_solves_sparks_own_user_step(fitted_explicit, fitted, ratings):
    # Spark's explicit sweep also ends with the users, by the ridge solve on their rated items only.
    assert fitted_explicit.get_params()["implicit_prefs"] is False
    np.testing.assert_allclose(fitted_explicit.fold_in(ratings), fitted_explicit.user_factors_, atol=1e-4)
    assert not np.allclose(fitted_explicit.item_factors_, fitted.item_factors_, atol=1e-2)


def test_explicit_scores_are_predicted_ratings(fitted_explicit, ratings):
    # Fitted on ratings 1..5 by least squares, the model's predictions on the rated entries sit
    # near them (the implicit model's scores sit in [0, 1], the scale of its preferences).
    coo = ratings.tocoo()
    predicted = np.einsum("ij,ij->i", fitted_explicit.user_factors_[coo.row],
                          fitted_explicit.item_factors_[coo.col])
    assert abs(predicted.mean() - coo.data.mean()) < 0.5
    ids, scores = fitted_explicit.recommend(ratings[:5], n=3, exclude_seen=False)
    np.testing.assert_allclose(
        scores, np.take_along_axis(fitted_explicit.user_factors_[:5] @ fitted_explicit.item_factors_.T, ids, 1),
        rtol=1e-5)


@pytest.mark.parametrize("regularization", [0.1, 0.0])
def test_explicit_fold_in_equals_a_per_row_ridge_solve(ratings, regularization):
    # The batched solve (blocks of rows, as small as one row here) against one lstsq per row.
    rng = np.random.default_rng(1)
    item_factors = rng.normal(size=(ratings.shape[1], 8)).astype(np.float32)
    rows = sp.vstack([ratings[:30], sp.csr_matrix((1, ratings.shape[1])), ratings[30:40]]).tocsr()
    solved = explicit_fold_in(item_factors, rows, regularization, max_block_bytes=8 * 8 * 8 * 40)
    for row in range(rows.shape[0]):
        items, values = rows[row].indices, rows[row].data
        design = np.vstack([item_factors[items].astype(np.float64),
                            np.sqrt(regularization * len(items)) * np.eye(8)])
        target = np.concatenate([values, np.zeros(8)])
        expected = np.linalg.lstsq(design, target, rcond=None)[0] if len(items) else np.zeros(8)
        np.testing.assert_allclose(solved[row], expected, atol=1e-4)


def test_fold_in_of_a_row_without_positives_is_zero(fitted, fitted_explicit, data):
    assert not fitted.fold_in(sp.csr_matrix((1, data.shape[1]))).any()
    assert not fitted_explicit.fold_in(sp.csr_matrix((1, data.shape[1]))).any()


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


@pytest.mark.parametrize("model", ["fitted", "fitted_explicit"])
def test_save_with_a_session_set_and_load(request, spark, data, tmp_path, model):
    fitted = request.getfixturevalue(model)
    assert fitted.spark is spark  # the session is runtime state: saved as None, kept on the model
    fitted.save(tmp_path / "model")
    assert fitted.spark is spark
    loaded = SparkALS.load(tmp_path / "model.npz")
    assert loaded.spark is None
    assert loaded.get_params()["implicit_prefs"] == fitted.implicit_prefs
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


def _start_in_a_fresh_process(config):
    """The error text of local_spark_session(config=config) in a new interpreter (one session per process)."""
    code = ("import sys, json\nfrom recsys.distributed import local_spark_session\n"
            "try:\n    local_spark_session(config=json.loads(sys.argv[1]))\n"
            "except RuntimeError as error:\n    print(error)\nelse:\n    print('STARTED')\n")
    return subprocess.run([sys.executable, "-c", code, json.dumps(config)], capture_output=True, text=True,
                          env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}, check=True, timeout=180).stdout


@pytest.mark.parametrize(("setting", "service"), [("spark.driver.port", "sparkDriver"),
                                                  ("spark.blockManager.port", "NettyBlockTransferService")])
def test_port_in_use_gives_an_error_that_names_it(setting, service):
    # Spark tries the port and spark.port.maxRetries more (16 by default, which mostly hides a
    # taken port); with no retries left, the error must name the port, its setting and the fix.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        printed = _start_in_a_fresh_process({setting: port, "spark.port.maxRetries": 0})
    assert printed.startswith(f"cannot start Spark: port {port} on 127.0.0.1, wanted by Spark's ")
    assert service in printed and f"{setting}={port}" in printed and "already in use" in printed
    assert "set " + setting + " to a free port" in printed and "spark.port.maxRetries" in printed


def test_num_blocks_and_checkpoint_dir_reach_spark(spark, data, tmp_path, monkeypatch):
    from pyspark.ml.recommendation import ALS as SparkMLlibALS

    seen = {}
    original_fit = SparkMLlibALS.fit

    def recording_fit(estimator, frame, *args, **kwargs):
        seen.update(blocks=(estimator.getNumUserBlocks(), estimator.getNumItemBlocks()),
                    interval=estimator.getCheckpointInterval())
        return original_fit(estimator, frame, *args, **kwargs)

    monkeypatch.setattr(SparkMLlibALS, "fit", recording_fit)
    directory = tmp_path / "checkpoints"
    model = SparkALS(**{**PARAMS, "n_epochs": 10}, num_blocks=3, checkpoint_dir=str(directory),
                     spark=spark).fit(data)
    assert seen == {"blocks": (3, 3), "interval": 10}
    assert any(path.is_file() for path in directory.rglob("*"))  # the 10th sweep was checkpointed
    np.testing.assert_allclose(model.fold_in(data), model.user_factors_, atol=1e-4)
    SparkALS(**PARAMS, spark=spark).fit(data[:50])
    assert seen == {"blocks": (2, 2), "interval": -1}  # local[2]'s parallelism; no checkpoints


def test_local_session_has_the_stack_for_fifteen_sweeps(spark):
    assert "-Xss16m" in spark.sparkContext.getConf().get("spark.driver.extraJavaOptions")


def test_stack_overflow_of_a_long_lineage_says_to_checkpoint(spark, data, monkeypatch):
    # A JVM whose stack is too small for the lineage of many sweeps fails with Spark's
    # "Task serialization failed: java.lang.StackOverflowError" (seen with the default 1 MiB at
    # 15 sweeps on ML-100K); a real overflow may also take the JVM down, so the error is injected.
    from pyspark.ml.recommendation import ALS as SparkMLlibALS

    def overflowing_fit(estimator, frame, *args, **kwargs):
        raise RuntimeError("Job aborted due to stage failure: Task serialization failed: "
                           "java.lang.StackOverflowError")

    monkeypatch.setattr(SparkMLlibALS, "fit", overflowing_fit)
    with pytest.raises(RuntimeError, match="ran out of JVM stack serialising the lineage of 30 ALS sweeps") as raised:
        SparkALS(**{**PARAMS, "n_epochs": 30}, spark=spark).fit(data)
    assert "set checkpoint_dir=" in str(raised.value) and "-Xss16m" in str(raised.value)
