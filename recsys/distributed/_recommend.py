"""Batch top-n for every user as Dask tasks over row blocks."""

import glob
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from recsys.base import _item_columns, _ranking_frame
from recsys.distributed._tasks import retries_spent_error, shared_input
from recsys.utils import check_positive_int, limit_blas_threads, numba_threads

_SHARD = "part-{:05d}.parquet"


def recommend(model, X, n=10, *, client=None, block_size=10_000, exclude_seen=True, items=None,
              output=None, unknown_items="error"):
    """Recommend the n best items to every user, as Dask tasks over blocks of users.

    The fitted model is sent once to every worker; each task folds in
    ``block_size`` rows with ``model.recommend`` (one BLAS and numba thread
    per task, so that a worker's task threads do not oversubscribe its
    cores) and returns, or writes, its part of the table. The rankings are
    those of ``model.recommend`` (and ``model.recommend_ids``) on the same
    rows.

    Parameters
    ----------
    model : fitted recommender
        Any recsys recommender (``recommend(X, n, exclude_seen, items)``).
    X : Interactions or sparse matrix of shape (n_users, n_items)
        The histories of the users to recommend to. An ``Interactions`` is
        read as by ``model.recommend_ids`` (its item ids matched to the
        model's ``item_ids_``, users named by its ``user_ids``); the rows of
        a matrix are users ``0 .. n_users - 1`` and its columns the model's.
    n : int, default=10
    client : distributed.Client, default=None
        The cluster to run on; None for the current client (``get_client``).
    block_size : int, default=10_000
        Users per task.
    exclude_seen : bool, default=True
    items : array-like, default=None
        Recommend only among these items: ids of the model's ``item_ids_``
        for an ``Interactions``, column indices for a matrix.
    output : str or path, default=None
        A directory to write the table to, as one parquet shard per block
        (``part-00000.parquet``, ...). Each shard is written under a
        temporary dot-name and renamed once complete, so a task killed
        mid-write never leaves a partial shard under a shard's name (parquet
        readers skip dot-files; the temporaries of failed attempts are
        removed when the job ends). None to return the table.
    unknown_items : {"error", "drop"}, default="error"
        For an ``Interactions``: events on items the model was not fitted on
        raise, or are left out (see ``recommend_ids``).

    Returns
    -------
    pandas.DataFrame or list of str
        Columns ``user_id, rank, item_id, score`` (item ids are the model's
        ``item_ids_``, or column indices for a model fitted on a matrix), or
        with ``output``, the paths of the shards in user order.

    Raises
    ------
    RuntimeError
        When workers died on a block more often than Dask's retries allow
        (``distributed.scheduler.allowed-failures``); the shards already
        renamed are complete, the others absent.
    """
    from distributed import get_client

    check_is_fitted(model)
    check_positive_int(n, "n")
    check_positive_int(block_size, "block_size")
    matrix, user_ids, vocabulary, allowed = _table_inputs(model, X, items, unknown_items)
    directory = None if output is None else _empty_output_directory(output)
    client = get_client() if client is None else client

    # One copy of the model (and of the item ids) per worker, not one per task, recomputed if
    # every worker holding it dies (see shared_input).
    job = uuid.uuid4().hex
    model_future, vocabulary_future = (
        client.submit(shared_input, value, key=f"recsys-recommend-{name}-{job}")
        for name, value in (("model", model), ("vocabulary", vocabulary))
    )
    starts = range(0, matrix.shape[0], block_size)
    tasks = [
        client.submit(
            _recommend_block, model_future, matrix[start:start + block_size],
            user_ids[start:start + block_size], vocabulary_future, n, exclude_seen, allowed,
            None if directory is None else str(directory / _SHARD.format(number)),
            key=f"recsys-recommend-{job}-{number}",
        )
        for number, start in enumerate(starts)
    ]
    advice = ("Lower block_size if the workers ran out of memory." if directory is None else
              f"The shards under {directory} with a final name are complete; remove them and "
              "rerun, or lower block_size if the workers ran out of memory.")
    try:
        with retries_spent_error("a block of users", advice):
            parts = client.gather(tasks)
    finally:
        if directory is not None:
            for temporary in glob.glob(str(directory / ".part-*.tmp")):
                os.remove(temporary)  # left by attempts that died mid-write
    if directory is not None:
        return parts
    if not parts:
        return _ranking_frame(user_ids, np.empty((0, n), np.int64), np.empty((0, n)), vocabulary,
                              ("user_id", "item_id"))
    return pd.concat(parts, ignore_index=True)


def _table_inputs(model, X, items, unknown_items):
    """(CSR matrix, user id of each row, item id of each column, allowed columns or None)."""
    if sp.issparse(X):
        matrix = model._validate_for_recommend(X)
        known = getattr(model, "item_ids_", None)
        vocabulary = np.arange(model.n_items_) if known is None else np.asarray(known)
        return matrix, np.arange(matrix.shape[0]), vocabulary, items
    vocabulary = model._item_vocabulary(None)
    matrix = model._history_matrix(X, vocabulary, unknown_items)
    allowed = None if items is None else _item_columns(vocabulary, items, "items")
    return matrix, np.asarray(X.user_ids), vocabulary, allowed


def _empty_output_directory(output):
    directory = Path(output)
    directory.mkdir(parents=True, exist_ok=True)
    existing = sorted(directory.glob("part-*.parquet"))
    if existing:
        raise FileExistsError(
            f"{directory} already holds {len(existing)} shard(s) ({existing[0].name}, ...): "
            "remove them or choose another output directory, so that old and new shards never mix."
        )
    return directory


def _recommend_block(model, rows, user_ids, vocabulary, n, exclude_seen, allowed, path):
    """One task: the table of a block of rows, returned, or written to path and its path returned."""
    # A worker runs threads_per_worker tasks at once: one native thread each.
    with limit_blas_threads(), numba_threads(1):
        ids, scores = model.recommend(rows, n=n, exclude_seen=exclude_seen, items=allowed)
    table = _ranking_frame(user_ids, ids, scores, vocabulary, ("user_id", "item_id"))
    if path is None:
        return table
    final = Path(path)
    temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    table.to_parquet(temporary, index=False)
    os.replace(temporary, final)  # atomic: the shard's name appears only once it is complete
    return str(final)
