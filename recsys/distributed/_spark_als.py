"""Implicit-feedback ALS fitted by Spark MLlib, served by recsys' factor-model code."""

import os
import shutil
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from recsys.factorization._als import confidence_fold_in
from recsys.factorization._implicit_common import FactorRecommender

_SPARK_EXTRA_HINT = ('pip install "recsys[distributed]" (or pip install "pyspark>=3.5"); '
                     "Spark also needs Java 17 or later (Debian: apt-get install default-jre-headless).")
#: columns of a Spark DataFrame given to fit
_FRAME_COLUMNS = ("user", "item", "rating")


def _import_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"SparkALS needs pyspark, from the 'distributed' extra: {_SPARK_EXTRA_HINT}"
        ) from error


def _java_executable():
    """The java that pyspark will start: ``$JAVA_HOME/bin/java``, else ``java`` on PATH, else None."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = os.path.join(java_home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def local_spark_session(n_cores=2, shuffle_partitions=4):
    """Get or start a local Spark session bound to 127.0.0.1, without web UI.

    Parameters
    ----------
    n_cores : int, default=2
        Cores of the local master (``local[n_cores]``).
    shuffle_partitions : int, default=4
        ``spark.sql.shuffle.partitions`` (Spark's 200 is far too many for one machine).

    Returns
    -------
    spark : pyspark.sql.SparkSession
        An already running session is returned as it is (Spark allows one per process).

    Raises
    ------
    ImportError
        pyspark is not installed.
    RuntimeError
        Spark cannot start, with the reason: no Java (``JAVA_HOME`` points to
        no java, or none on PATH), a port already in use, or the JVM's own message.
    """
    _import_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    java = _java_executable()
    if java is None:
        where = (f"JAVA_HOME={os.environ['JAVA_HOME']!r} holds no bin/java" if os.environ.get("JAVA_HOME")
                 else "JAVA_HOME is not set and there is no java on PATH")
        raise RuntimeError(f"cannot start Spark: no Java ({where}). Install Java 17 or later "
                           "(Debian: apt-get install default-jre-headless) or set JAVA_HOME.")
    builder = (SparkSession.builder.master(f"local[{int(n_cores)}]").appName("recsys")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    try:
        return builder.getOrCreate()
    except Exception as error:
        text = str(error)
        if "BindException" in text or "Address already in use" in text:
            reason = "a port it needs is already in use (set spark.driver.port / SPARK_LOCAL_IP or free it)"
        elif "JAVA_GATEWAY_EXITED" in text or "Java gateway process exited" in text:
            reason = f"the Java process ({java}) exited before it could connect (see its output above)"
        else:
            reason = "the JVM refused to start the session"
        raise RuntimeError(f"cannot start Spark: {reason}: {text}") from error


def _is_spark_frame(X):
    return type(X).__module__.startswith("pyspark.sql") and hasattr(X, "columns") and hasattr(X, "select")


def _csr_to_spark_frame(spark, X):
    """The stored entries of CSR X as a (user, item, rating) Spark DataFrame, through Arrow."""
    from pyspark.sql.types import FloatType, IntegerType, StructField, StructType

    coo = X.tocoo()
    frame = pd.DataFrame({"user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32),
                          "rating": coo.data.astype(np.float32)})
    schema = StructType([StructField("user", IntegerType(), False), StructField("item", IntegerType(), False),
                         StructField("rating", FloatType(), False)])
    arrow_key = "spark.sql.execution.arrow.pyspark.enabled"
    previous = spark.conf.get(arrow_key, "false")
    spark.conf.set(arrow_key, "true")  # columnar transfer: no Python loop over the rows
    try:
        return spark.createDataFrame(frame, schema=schema)
    finally:
        spark.conf.set(arrow_key, previous)


def _factor_matrix(factors_frame, n_rows, rank):
    """Spark's (id, features) factor frame as a dense (n_rows, rank) float32 array; absent ids are 0."""
    from pyspark.sql import functions as F

    columns = [F.col("features")[k].alias(f"f{k}") for k in range(rank)]
    frame = factors_frame.select(F.col("id"), *columns).toPandas()
    matrix = np.zeros((n_rows, rank), dtype=np.float32)
    matrix[frame["id"].to_numpy()] = frame[[f"f{k}" for k in range(rank)]].to_numpy(dtype=np.float32)
    return matrix


class SparkALS(FactorRecommender):
    """Implicit-feedback ALS fitted by Spark MLlib (``pyspark.ml.recommendation.ALS``).

    Fits Spark's implicit ALS (``implicitPrefs=True``) on a users x items
    matrix, an ``Interactions`` or a Spark DataFrame, then brings the factors
    to the driver as ``user_factors_`` / ``item_factors_``: ``recommend``,
    ``similar_items``, ``save`` and ``load`` are those of recsys' other
    factor models and need no Spark.

    Spark's model differs from :class:`~recsys.factorization.ALS` (implicit's)
    in two conventions, which the fold-in follows so that it solves Spark's own
    user step exactly:

    - confidence ``c_ui = 1 + alpha * X[u, i]`` on the positive entries
      (Hu, Koren and Volinsky's form; implicit uses ``alpha * X[u, i]``);
    - the penalty of each user is ``regularization * n_u``, n_u its number of
      positive entries (the "ALS-WR" weighting Spark applies in implicit mode
      too; implicit's penalty is ``regularization`` for everyone).

    ``recommend`` folds in each row u of X by the exact solve
    ``(Y^T C_u Y + regularization * n_u * I) x_u = Y^T C_u p_u`` on the item
    factors Y (the equations of Spark's user update), with the Cholesky solver
    recsys' ALS uses, once per distinct n_u; a row without positives gets zero
    factors. Users and items absent from the fitted data get zero factors.

    Parameters
    ----------
    n_factors : int, default=100
        Number of latent factors (Spark's ``rank``).
    regularization : float, default=0.01
        Spark's ``regParam``: the penalty per positive entry (see above).
    alpha : float, default=1.0
        Confidence scale: confidence = 1 + alpha * X on the positive entries.
    n_epochs : int, default=15
        Alternating sweeps (Spark's ``maxIter``).
    spark : SparkSession or None, default=None
        The session to fit in. None gets the active session or starts
        :func:`local_spark_session` (``local[2]``, bound to 127.0.0.1, no UI),
        left running for later fits. Not saved: set it to None before ``save``.
    num_blocks : int or None, default=None
        Spark's ``numUserBlocks`` and ``numItemBlocks``; None uses the
        session's default parallelism.
    checkpoint_dir : str or None, default=None
        When set, the Spark context checkpoints there every 10 sweeps
        (Spark's ``checkpointInterval``), which bounds the lineage of long fits.
    random_state : int, RandomState instance or None, default=None
        Seed of Spark's initial factors (an int is drawn from it).
    retrieval : None, str or FaissNearestNeighbors, default=None
        Approximate top-n over the item factors, as in
        :class:`~recsys.factorization.ALS`.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors), float32
    item_factors_ : ndarray of shape (n_items, n_factors), float32
    retrieval_index_ : FaissNearestNeighbors or None
    n_items_ : int

    Notes
    -----
    A Spark DataFrame given to ``fit`` has integer columns ``user`` and
    ``item`` (row and column indices, from 0) and a non-negative ``rating``;
    the shape is taken from the largest ids. A matrix or ``Interactions`` is
    sent to Spark through Arrow, without a Python loop over its entries.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.distributed import SparkALS
    >>> X = make_interactions(200, 60, density=0.1, random_state=0).to_csr()
    >>> model = SparkALS(n_factors=8, n_epochs=5, random_state=0).fit(X)  # doctest: +SKIP
    >>> ids, scores = model.recommend(X[:3], n=5)  # doctest: +SKIP
    >>> ids.shape  # doctest: +SKIP
    (3, 5)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "spark": "no_validation",
        "num_blocks": [None, Interval(Integral, 1, None, closed="left")],
        "checkpoint_dir": [None, str, os.PathLike],
        "random_state": ["random_state"],
        **FactorRecommender._retrieval_constraint,
    }

    def __init__(self, n_factors=100, regularization=0.01, alpha=1.0, n_epochs=15, spark=None,
                 num_blocks=None, checkpoint_dir=None, random_state=None, retrieval=None):
        self.n_factors = n_factors
        self.regularization = regularization
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.spark = spark
        self.num_blocks = num_blocks
        self.checkpoint_dir = checkpoint_dir
        self.random_state = random_state
        self.retrieval = retrieval

    def __sklearn_clone__(self):
        # A SparkSession cannot be deep-copied: the clone shares the session, the rest is cloned.
        params = self.get_params(deep=False)
        spark = params.pop("spark")
        return type(self)(**{name: clone(value, safe=False) for name, value in params.items()},
                          spark=spark)

    def __getstate__(self):
        # A session does not pickle (it lives in a JVM): a pickled model fits in a new one.
        state = dict(super().__getstate__())
        state["spark"] = None
        return state

    def fit(self, X, y=None):
        """Fit on a users x items matrix, an ``Interactions`` or a Spark DataFrame.

        Parameters
        ----------
        X : sparse matrix of shape (n_users, n_items), Interactions or pyspark DataFrame
            Non-negative interactions; a Spark DataFrame has the integer
            columns ``user`` and ``item`` and a numeric ``rating``.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        if not _is_spark_frame(X):
            return super().fit(X, y)
        self._validate_params()
        missing = [name for name in _FRAME_COLUMNS if name not in X.columns]
        if missing:
            raise ValueError(f"the Spark DataFrame lacks the column(s) {missing}: SparkALS.fit needs "
                             f"{list(_FRAME_COLUMNS)} (integer user and item indices, numeric rating).")
        n_users, n_items = self._check_spark_frame(X)
        for name in ("user_ids_", "item_ids_"):
            vars(self).pop(name, None)
        self.n_items_ = self.n_features_in_ = n_items
        self._fit_spark_frame(X.select(*_FRAME_COLUMNS), n_users, n_items)
        self._rebuild_derived()
        return self

    @staticmethod
    def _check_spark_frame(frame):
        from pyspark.sql import functions as F
        from pyspark.sql.types import IntegralType

        types = {field.name: field.dataType for field in frame.schema.fields}
        wrong = [name for name in ("user", "item") if not isinstance(types[name], IntegralType)]
        if wrong:
            raise ValueError(f"the Spark DataFrame's {wrong} column(s) must hold integer indices "
                             f"(got {[types[name].simpleString() for name in wrong]}); map ids to "
                             "0..n-1 first, e.g. with pyspark.ml.feature.StringIndexer.")
        row = frame.agg(F.min("user"), F.max("user"), F.min("item"), F.max("item"), F.min("rating"),
                        F.count(F.lit(1)),
                        F.sum(F.when(F.col("user").isNull() | F.col("item").isNull()
                                     | F.col("rating").isNull() | F.isnan("rating"), 1).otherwise(0))).first()
        min_user, max_user, min_item, max_item, min_rating, n_rows, n_missing = row
        if not n_rows:
            raise ValueError("the Spark DataFrame is empty: SparkALS needs interactions to fit.")
        if n_missing:
            raise ValueError(f"the Spark DataFrame has {n_missing} row(s) with a null or NaN user, item or "
                             "rating; drop or fill them before fitting.")
        if min_user < 0 or min_item < 0:
            raise ValueError("the Spark DataFrame's user and item indices must be >= 0.")
        if min_rating < 0:
            raise ValueError(f"ratings must be non-negative interaction weights (minimum {min_rating}).")
        return int(max_user) + 1, int(max_item) + 1

    def _fit(self, X):
        spark = self._session()
        self._fit_spark_frame(_csr_to_spark_frame(spark, X), X.shape[0], X.shape[1])

    def _session(self):
        return self.spark if self.spark is not None else local_spark_session()

    def _fit_spark_frame(self, frame, n_users, n_items):
        _import_pyspark()
        from pyspark.ml.recommendation import ALS as SparkMLlibALS

        spark = self._session()
        num_blocks = self.num_blocks or spark.sparkContext.defaultParallelism
        if self.checkpoint_dir is not None:
            spark.sparkContext.setCheckpointDir(os.fspath(self.checkpoint_dir))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        estimator = SparkMLlibALS(
            rank=self.n_factors, maxIter=self.n_epochs, regParam=float(self.regularization),
            alpha=float(self.alpha), implicitPrefs=True, numUserBlocks=num_blocks,
            numItemBlocks=num_blocks, seed=seed, userCol="user", itemCol="item", ratingCol="rating",
            checkpointInterval=10 if self.checkpoint_dir is not None else -1,
        )
        model = estimator.fit(frame)
        self.user_factors_ = _factor_matrix(model.userFactors, n_users, self.n_factors)
        self.item_factors_ = _factor_matrix(model.itemFactors, n_items, self.n_factors)

    def _fold_in(self, X):
        positives = X.copy()
        positives.eliminate_zeros()
        confidence = positives.astype(np.float32)
        confidence.data = 1.0 + np.float32(self.alpha) * confidence.data
        counts = np.diff(confidence.indptr)
        user_factors = np.zeros((X.shape[0], self.item_factors_.shape[1]), dtype=np.float32)
        # Spark's penalty grows with n_u; one batched solve per distinct n_u keeps it exact.
        for count in np.unique(counts[counts > 0]):
            rows = np.flatnonzero(counts == count)
            user_factors[rows] = confidence_fold_in(self.item_factors_, confidence[rows],
                                                    self.regularization * count)
        return user_factors
