"""ALS fitted by Spark MLlib (implicit or explicit feedback), served by recsys' factor-model code."""

import os
import re
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from recsys.distributed._handles import RuntimeHandleMixin
from recsys.factorization._als import confidence_fold_in
from recsys.factorization._implicit_common import FactorRecommender
from recsys.utils import find_program

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


#: Spark's name of a network service (in its BindException) -> the setting that chooses its port
_PORT_SETTINGS = {"sparkDriver": "spark.driver.port",
                  "NettyBlockTransferService": "spark.blockManager.port",
                  "SparkUI": "spark.ui.port"}
#: thread stack of the local JVM (its default, 1 MiB on x86-64 Linux, overflows at 15 ALS sweeps)
_DRIVER_STACK = "-Xss16m"
_RETRIES_SPENT = re.compile(r"Service '(?P<service>[^']+)' failed after (?P<retries>\d+) retries "
                            r"\(starting from (?P<port>\d+)\)")


def local_spark_session(n_cores=2, shuffle_partitions=4, config=None):
    """Get or start a local Spark session bound to 127.0.0.1, without web UI.

    Parameters
    ----------
    n_cores : int, default=2
        Cores of the local master (``local[n_cores]``).
    shuffle_partitions : int, default=4
        ``spark.sql.shuffle.partitions`` (Spark's 200 is far too many for one machine).
        The JVM also gets a 16 MiB thread stack (``-Xss16m`` in
        ``spark.driver.extraJavaOptions``): with the default 1 MiB, a fit of
        15 ALS sweeps without checkpoints overflows it.
    config : dict or None, default=None
        More Spark settings, applied after (and so over) the ones above, e.g.
        ``{"spark.driver.memory": "8g", "spark.driver.port": 7078}``.

    Returns
    -------
    spark : pyspark.sql.SparkSession
        An already running session is returned as it is (Spark allows one
        per process), ``config`` left unapplied.

    Raises
    ------
    ImportError
        pyspark is not installed.
    RuntimeError
        Spark cannot start, with the reason and what to do: no Java
        (``JAVA_HOME`` points to no java, or there is none on PATH); a port
        in use (Spark tries a port and the next ``spark.port.maxRetries``
        ones, 16 by default: the error names the service, its setting and
        the first port); an address that is not this machine's; or the
        JVM's own message.

    Examples
    --------
    >>> from recsys.distributed import local_spark_session
    >>> spark = local_spark_session(config={"spark.driver.memory": "2g"})  # doctest: +SKIP
    """
    _import_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    java = find_program("java")
    if java is None:
        where = (f"JAVA_HOME={os.environ['JAVA_HOME']!r} holds no bin/java" if os.environ.get("JAVA_HOME")
                 else "JAVA_HOME is not set and there is no java on PATH")
        raise RuntimeError(f"cannot start Spark: no Java ({where}). Install Java 17 or later "
                           "(Debian: apt-get install default-jre-headless) or set JAVA_HOME.")
    settings = {"spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.sql.shuffle.partitions": str(int(shuffle_partitions)),
                "spark.sql.execution.arrow.pyspark.enabled": "true",
                **{str(key): str(value) for key, value in (config or {}).items()}}
    # Serialising ALS's lineage recurses once per level: 15 sweeps overflow the JVM's default
    # thread stack on a fresh (not yet JIT-compiled) JVM. A JVM option given in config comes
    # later on the command line, so its own -Xss wins.
    settings["spark.driver.extraJavaOptions"] = " ".join(
        filter(None, [_DRIVER_STACK, settings.get("spark.driver.extraJavaOptions", "")]))
    builder = SparkSession.builder.master(f"local[{int(n_cores)}]").appName("recsys")
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as error:
        raise RuntimeError(f"cannot start Spark: {_start_failure_reason(str(error), java, settings)}: "
                           f"{_first_line(error)}") from error


def _start_failure_reason(text, java, settings):
    """Why a Spark session did not start, and what to do, from the JVM's error text."""
    spent = _RETRIES_SPENT.search(text)
    if spent is not None:
        service, port = spent["service"], int(spent["port"])
        setting = next((key for name, key in _PORT_SETTINGS.items() if service.endswith(name)), None)
        retries = int(spent["retries"])
        ports = f"port {port}" if retries == 0 else f"ports {port}-{port + retries}"
        chosen = f"{setting}={settings[setting]}" if setting in settings else setting or "its port setting"
        return (f"{ports} on {settings.get('spark.driver.bindAddress', 'this host')}, wanted by Spark's "
                f"{service} service ({chosen}, spark.port.maxRetries={retries}), "
                f"{'is' if retries == 0 else 'are all'} already in use: stop what holds "
                f"{'it' if retries == 0 else 'them'}, set {setting or 'the port'} to a free port "
                "(0 lets the system pick one) or raise spark.port.maxRetries")
    if "BindException" in text and "Cannot assign requested address" in text:
        return (f"it cannot bind {settings.get('spark.driver.bindAddress')!r}, which is no address of this "
                "machine: set spark.driver.bindAddress (and SPARK_LOCAL_IP) to one of its addresses")
    if "BindException" in text or "Address already in use" in text:
        return "a port it needs is already in use (set spark.driver.port / spark.blockManager.port or free it)"
    if "JAVA_GATEWAY_EXITED" in text or "Java gateway process exited" in text:
        return f"the Java process ({java}) exited before it could connect (see its output above)"
    return "the JVM refused to start the session"


def _first_line(error):
    """The JVM exception's own line of a Py4J error (its message without the Java stack)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    exception = next((line for line in lines if "Exception" in line or "Error:" in line), None)
    return (exception or (lines[0] if lines else type(error).__name__)).lstrip(": ")


def _is_spark_frame(X):
    return type(X).__module__.startswith("pyspark.sql") and hasattr(X, "columns") and hasattr(X, "select")


def _csr_to_spark_frame(spark, X):
    """The non-zero entries of CSR X as a (user, item, rating) Spark DataFrame, through Arrow."""
    from pyspark.sql.types import FloatType, IntegerType, StructField, StructType

    coo = X.tocoo()
    if not coo.data.all():
        # A stored zero would be a rating of 0 to explicit ALS, but the fold-in (like a
        # sparse matrix) reads it as absent; to implicit ALS it weighs nothing either way.
        kept = coo.data != 0
        coo = sp.coo_matrix((coo.data[kept], (coo.row[kept], coo.col[kept])), shape=coo.shape)
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


class SparkALS(RuntimeHandleMixin, FactorRecommender):
    """ALS fitted by Spark MLlib (``pyspark.ml.recommendation.ALS``), served by recsys.

    Fits Spark's ALS, implicit (``implicitPrefs=True``, the default) or
    explicit, on a users x items matrix, an ``Interactions`` or a Spark
    DataFrame, then brings the factors to the driver as ``user_factors_`` /
    ``item_factors_``: ``recommend``, ``similar_items``, ``save`` and
    ``load`` are those of recsys' other factor models and need no Spark.

    Implicit feedback (``implicit_prefs=True``): Spark's model differs from
    :class:`~recsys.factorization.ALS` (implicit's) in two conventions, which
    the fold-in follows so that it solves Spark's own user step exactly:

    - confidence ``c_ui = 1 + alpha * X[u, i]`` on the positive entries
      (Hu, Koren and Volinsky's form; implicit uses ``alpha * X[u, i]``);
    - the penalty of each user is ``regularization * n_u``, n_u its number of
      positive entries (the "ALS-WR" weighting Spark applies in implicit mode
      too; implicit's penalty is ``regularization`` for everyone).

    ``recommend`` folds in each row u of X by the exact solve
    ``(Y^T C_u Y + regularization * n_u * I) x_u = Y^T C_u p_u`` on the item
    factors Y (the equations of Spark's user update), with the Cholesky solver
    recsys' ALS uses, once per distinct n_u.

    Explicit feedback (``implicit_prefs=False``): the stored entries of X are
    ratings, fitted by least squares on those entries alone (``alpha`` is
    unused), and the scores ``recommend`` ranks by are predicted ratings.
    The fold-in is Spark's explicit user step: the ridge regression of the
    row's ratings r_u on the factors Y_u of its rated items,
    ``(Y_u^T Y_u + regularization * n_u * I) x_u = Y_u^T r_u``, solved for
    all rows at once.

    In both modes a row without stored entries gets zero factors, and users
    and items absent from the fitted data get zero factors.

    Parameters
    ----------
    n_factors : int, default=100
        Number of latent factors (Spark's ``rank``).
    regularization : float, default=0.01
        Spark's ``regParam``: the penalty per positive entry (see above).
    alpha : float, default=1.0
        Confidence scale: confidence = 1 + alpha * X on the positive entries
        (implicit feedback only).
    n_epochs : int, default=15
        Alternating sweeps (Spark's ``maxIter``).
    implicit_prefs : bool, default=True
        Spark's ``implicitPrefs``: True fits implicit-feedback ALS on
        interaction weights, False explicit ALS on ratings (see above).
    spark : SparkSession or None, default=None
        The session to fit in. None gets the active session or starts
        :func:`local_spark_session` (``local[2]``, bound to 127.0.0.1, no UI),
        left running for later fits. Runtime state, not a hyper-parameter:
        ``save`` writes it as None (a loaded model, refitted, uses the
        active session or starts one), ``clone`` shares it, pickling drops it.
    num_blocks : int or None, default=None
        Spark's ``numUserBlocks`` and ``numItemBlocks``: the partitions the
        users and the items are split into, each solved by one task per
        sweep. None uses the session's default parallelism (the cores of
        ``local[n]``); on a cluster, a few blocks per executor core.
    checkpoint_dir : str or None, default=None
        When set, the Spark context checkpoints the factors there every 10
        sweeps (Spark's ``checkpointInterval``, and the context's
        ``setCheckpointDir``), which bounds the lineage of long fits (without
        it, a fit of many sweeps can overflow the JVM's stack when a lost
        partition is recomputed). On a cluster, a directory every executor
        can write (HDFS, S3, a shared file system). A fit whose lineage
        overflows the JVM's stack raises a RuntimeError that says to set it.
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

    The fitted factors come to the driver: ``n_users x n_factors x 4``
    bytes of user factors (25.6 GB for 100 million users and 64 factors),
    about three times that while Spark's rows are converted. At that size
    give the driver the memory (``spark.driver.memory``,
    ``spark.driver.maxResultSize``) or fit on fewer users and fold the
    others in at serving time (``recsys.distributed.recommend``); see
    ``benchmarks/SCALING.md``.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.distributed import SparkALS
    >>> X = make_interactions(200, 60, density=0.1, random_state=0).to_csr()
    >>> model = SparkALS(n_factors=8, n_epochs=5, random_state=0).fit(X)  # doctest: +SKIP
    >>> ids, scores = model.recommend(X[:3], n=5)  # doctest: +SKIP
    >>> ids.shape  # doctest: +SKIP
    (3, 5)
    >>> ratings = SparkALS(n_factors=8, implicit_prefs=False, regularization=0.1).fit(X)  # doctest: +SKIP
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "implicit_prefs": ["boolean"],
        "spark": "no_validation",
        "num_blocks": [None, Interval(Integral, 1, None, closed="left")],
        "checkpoint_dir": [None, str, os.PathLike],
        "random_state": ["random_state"],
        **FactorRecommender._retrieval_constraint,
    }
    # The session is runtime state (a JVM): clone shares it, pickle and save write None.
    _handle_parameter = "spark"

    def __init__(self, n_factors=100, regularization=0.01, alpha=1.0, n_epochs=15, implicit_prefs=True,
                 spark=None, num_blocks=None, checkpoint_dir=None, random_state=None, retrieval=None):
        self.n_factors = n_factors
        self.regularization = regularization
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.implicit_prefs = implicit_prefs
        self.spark = spark
        self.num_blocks = num_blocks
        self.checkpoint_dir = checkpoint_dir
        self.random_state = random_state
        self.retrieval = retrieval

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
            alpha=float(self.alpha), implicitPrefs=bool(self.implicit_prefs), numUserBlocks=num_blocks,
            numItemBlocks=num_blocks, seed=seed, userCol="user", itemCol="item", ratingCol="rating",
            checkpointInterval=10 if self.checkpoint_dir is not None else -1,
        )
        try:
            model = estimator.fit(frame)
            self.user_factors_ = _factor_matrix(model.userFactors, n_users, self.n_factors)
            self.item_factors_ = _factor_matrix(model.itemFactors, n_items, self.n_factors)
        except Exception as error:
            if "StackOverflowError" not in str(error):
                raise
            raise RuntimeError(
                f"Spark ran out of JVM stack serialising the lineage of {self.n_epochs} ALS sweeps: set "
                "checkpoint_dir= (a directory every executor can write) so that Spark cuts the lineage "
                "every 10 sweeps, or start the session with a larger thread stack "
                f"(spark.driver.extraJavaOptions / spark.executor.extraJavaOptions={_DRIVER_STACK}, as "
                "local_spark_session does)."
            ) from error

    def _fold_in(self, X):
        entries = X.astype(np.float32)  # a copy: X is the caller's
        entries.eliminate_zeros()
        if not self.implicit_prefs:
            return explicit_fold_in(self.item_factors_, entries, self.regularization)
        entries.data = 1.0 + np.float32(self.alpha) * entries.data
        counts = np.diff(entries.indptr)
        user_factors = np.zeros((X.shape[0], self.item_factors_.shape[1]), dtype=np.float32)
        # Spark's penalty grows with n_u; one batched solve per distinct n_u keeps it exact.
        for count in np.unique(counts[counts > 0]):
            rows = np.flatnonzero(counts == count)
            user_factors[rows] = confidence_fold_in(self.item_factors_, entries[rows],
                                                    self.regularization * count)
        return user_factors


def explicit_fold_in(item_factors, ratings, regularization, max_block_bytes=64 * 2**20):
    """User factors of the rows of ``ratings`` by Spark's explicit ALS-WR user step.

    For every row u with ratings r_u on the items whose factors are Y_u,
    solves ``(Y_u^T Y_u + regularization * n_u * I) x_u = Y_u^T r_u``, n_u
    the row's number of stored entries, in float64; rows without entries get
    zeros. The rows' Gram matrices are built from the outer products of
    their items' factors, a block of rows at a time so that those products
    take at most ``max_block_bytes``; with ``regularization=0`` a row with
    fewer ratings than factors gets the minimum-norm solution.

    Parameters
    ----------
    item_factors : ndarray of shape (n_items, n_factors)
    ratings : csr_matrix of shape (n_rows, n_items)
        The ratings, zeros eliminated.
    regularization : float
    max_block_bytes : int, default=64 MiB

    Returns
    -------
    user_factors : ndarray of shape (n_rows, n_factors), float32
    """
    factors = np.asarray(item_factors, dtype=np.float64)
    rank = factors.shape[1]
    counts = np.diff(ratings.indptr)
    user_factors = np.zeros((ratings.shape[0], rank), dtype=np.float32)
    rows = np.flatnonzero(counts)
    # Blocks of consecutive non-empty rows whose entries' outer products fit the budget.
    entries_per_block = max(1, max_block_bytes // (8 * rank * rank))
    ends = np.cumsum(counts[rows])
    start = 0
    while start < len(rows):
        stop = max(start + 1, int(np.searchsorted(ends, (ends[start - 1] if start else 0) + entries_per_block,
                                                  side="right")))
        block = rows[start:stop]
        first, last = ratings.indptr[block[0]], ratings.indptr[block[-1] + 1]
        # Empty rows inside [block[0], block[-1]] hold no entries, so the offsets stay increasing.
        offsets = ratings.indptr[block] - first
        rated = factors[ratings.indices[first:last]]
        values = ratings.data[first:last].astype(np.float64)
        grams = np.add.reduceat(rated[:, :, None] * rated[:, None, :], offsets, axis=0)
        targets = np.add.reduceat(rated * values[:, None], offsets, axis=0)
        penalty = regularization * counts[block]
        if regularization > 0:
            grams[:, np.arange(rank), np.arange(rank)] += penalty[:, None]
            user_factors[block] = np.linalg.solve(grams, targets[:, :, None])[:, :, 0]
        else:
            user_factors[block] = (np.linalg.pinv(grams) @ targets[:, :, None])[:, :, 0]
        start = stop
    return user_factors
