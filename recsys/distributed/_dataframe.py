"""Interactions from a Dask DataFrame: ids factorised on the workers."""

import numpy as np
import pandas as pd

from recsys.datasets import Interactions


def from_dask(ddf, user_col="user", item_col="item", rating_col=None, time_col=None, weight_col=None,
              duplicates="error", *, dropna=False):
    """Build :class:`~recsys.datasets.Interactions` from a Dask DataFrame of events.

    Only the named columns are read. The sorted user and item vocabularies
    are computed first (distinct ids only); each partition then replaces its
    ids by their int32 positions in the vocabularies on the workers, so the
    client receives four bytes per id instead of the ids themselves (Python
    strings: about 50 bytes each). The rest is
    :meth:`Interactions.from_pandas` on those codes, with its checks and
    duplicate policies; the result equals ``Interactions.from_pandas`` on
    the whole frame, ``input_order`` included: the row order of ``ddf`` is
    its partitions' rows in partition order, and events of equal time keep it.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
    user_col, item_col, rating_col, time_col, weight_col, duplicates, dropna
        As in :meth:`Interactions.from_pandas`.

    Returns
    -------
    Interactions

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from recsys.distributed import from_dask
    >>> df = pd.DataFrame({"user": ["a", "b", "a"], "item": ["x", "x", "y"]})
    >>> data = from_dask(dd.from_pandas(df, npartitions=2))
    >>> data.user_ids.tolist(), data.to_csr().toarray().tolist()
    (['a', 'b'], [[1.0, 1.0], [1.0, 0.0]])
    """
    import dask.dataframe as dd

    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(f"ddf must be a dask DataFrame; got {type(ddf).__name__}. "
                        "For a pandas DataFrame use Interactions.from_pandas.")
    wanted = {"user_col": user_col, "item_col": item_col, "rating_col": rating_col,
              "time_col": time_col, "weight_col": weight_col}
    for argument, column in wanted.items():
        if column is not None and column not in ddf.columns:
            raise KeyError(f"{argument}={column!r} is not a column of ddf; its columns are {list(ddf.columns)}.")
    named = list(dict.fromkeys(column for column in wanted.values() if column is not None))
    frame = ddf[named]
    if dropna:
        frame = frame.dropna(subset=named)
    user_ids, item_ids = (_sorted_vocabulary(frame[column]) for column in (user_col, item_col))
    coded = frame.map_partitions(_encode_ids, {user_col: user_ids, item_col: item_ids},
                                 meta=_encoded_meta(frame._meta, (user_col, item_col)))
    # The codes are positions in sorted vocabularies, so from_pandas's own sorted
    # factorisation keeps their order; its vocabularies are then code -> id.
    coded_events = Interactions.from_pandas(
        coded.compute(), user_col, item_col, rating_col, time_col, weight_col, duplicates,
    )
    return Interactions(
        coded_events.users, coded_events.items,
        user_ids=user_ids[np.asarray(coded_events.user_ids, dtype=np.int64)],
        item_ids=item_ids[np.asarray(coded_events.item_ids, dtype=np.int64)],
        ratings=coded_events.ratings, timestamps=coded_events.timestamps,
        weights=coded_events.weights, counts=coded_events.counts,
        # Rows of the computed frame, which lists the partitions in order: from_pandas's input_order.
        input_order=coded_events.input_order,
    )


def _sorted_vocabulary(ids):
    """The distinct non-missing values of a Dask Series, in pandas.factorize(sort=True)'s order."""
    distinct = ids.drop_duplicates().compute()
    _, vocabulary = pd.factorize(distinct.dropna(), sort=True)
    return np.asarray(vocabulary)


def _encode_ids(partition, vocabularies):
    """Replace the id columns of a partition by int32 positions in the vocabularies (<NA> kept)."""
    partition = partition.copy()
    for column, vocabulary in vocabularies.items():
        values = partition[column]
        codes = pd.array(pd.Index(vocabulary).get_indexer(values.to_numpy()), dtype="Int32")
        codes[values.isna().to_numpy()] = pd.NA  # from_pandas reports the missing ids
        partition[column] = codes
    return partition


def _encoded_meta(meta, id_columns):
    meta = meta.copy()
    for column in id_columns:
        meta[column] = pd.Series(dtype="Int32")
    return meta
