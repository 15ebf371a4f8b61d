"""The immutable container of user-item events that every recsys module reads."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.utils._validation import check_duplicates_policy, merge_duplicate_pairs

_CSR_VALUES = ("binary", "rating", "count", "weight", "auto")


def _frozen(array):
    if array is None:
        return None
    array = np.asarray(array)
    array.setflags(write=False)
    return array


def sortable_times(timestamps):
    """Timestamps as numbers that sort like them (datetimes as int64, date strings parsed).

    Raises ValueError on a missing timestamp (NaN, NaT or None), which no
    order can place, and on values that are neither numbers, datetimes nor
    strings pandas reads as dates ("2024-1-9" must come before "2024-1-10",
    which comparing the strings would not do).
    """
    times = np.asarray(timestamps)
    if times.dtype.kind in "OUS":
        try:
            times = pd.to_datetime(pd.Series(times), format="mixed").to_numpy()
        except (TypeError, ValueError) as error:
            raise ValueError("timestamps must be numbers or datetimes (or strings pandas reads as dates); "
                             f"got values of type {type(times[0]).__name__}.") from error
    if times.dtype.kind in "mM":
        missing = np.isnat(times)
        times = times.view(np.int64)
    elif times.dtype.kind == "f":
        missing = np.isnan(times)
    elif times.dtype.kind in "iub":
        missing = np.zeros(len(times), dtype=bool)
    else:
        raise ValueError(f"timestamps must be numbers or datetimes; got dtype {times.dtype}.")
    if missing.any():
        raise ValueError(f"{int(missing.sum())} event(s) have a missing timestamp; drop or date them first.")
    return times


class Interactions:
    """User-item events with user and item vocabularies.

    Users and items are stored as contiguous indices into the vocabularies
    ``user_ids`` and ``item_ids`` (the original ids, in index order), so that
    ``to_csr()`` is a users x items matrix whose row ``u`` is user
    ``user_ids[u]``. Each (user, item) pair occurs at most once. Instances are
    immutable: every method returns a new object, and the arrays are
    read-only.

    Events built with timestamps (``from_pandas(..., time_col=...)``) also
    keep ``input_order``, the row of the input each came from: ordering by
    time breaks ties by it (:meth:`time_order`), so that events of equal
    time keep the order in which they were given.

    Splitters and :meth:`subset` keep the vocabularies, so the train and test
    parts of a split produce matrices of the same shape whose rows and columns
    line up; :meth:`filter` (k-core) drops the users and items it removes.

    Build instances with :meth:`from_pandas` or :meth:`from_csr`, or with
    the loaders of :mod:`recsys.datasets`.

    Examples
    --------
    >>> import pandas as pd
    >>> from recsys.datasets import Interactions
    >>> df = pd.DataFrame({"user": ["a", "a", "b"], "item": [10, 20, 10],
    ...                    "rating": [4.0, 3.0, 5.0]})
    >>> data = Interactions.from_pandas(df, rating_col="rating")
    >>> data.n_users, data.n_items, len(data)
    (2, 2, 3)
    >>> data.to_csr(values="rating").toarray()
    array([[4., 3.],
           [5., 0.]], dtype=float32)
    """

    def __init__(
        self,
        users,
        items,
        *,
        user_ids,
        item_ids,
        ratings=None,
        timestamps=None,
        weights=None,
        counts=None,
        user_features=None,
        item_features=None,
        input_order=None,
    ):
        users = np.asarray(users, dtype=np.int32)
        items = np.asarray(items, dtype=np.int32)
        n = users.shape[0]
        if items.shape[0] != n:
            raise ValueError(f"users has {n} entries but items has {items.shape[0]}.")
        for column_name, column in (("ratings", ratings), ("timestamps", timestamps),
                                    ("weights", weights), ("counts", counts),
                                    ("input_order", input_order)):
            if column is not None and len(column) != n:
                raise ValueError(f"{column_name} has {len(column)} entries for {n} events.")
        user_ids, item_ids = np.asarray(user_ids), np.asarray(item_ids)
        if n and (users.min() < 0 or users.max() >= len(user_ids)):
            raise ValueError("user indices fall outside the user vocabulary.")
        if n and (items.min() < 0 or items.max() >= len(item_ids)):
            raise ValueError("item indices fall outside the item vocabulary.")
        self._users = _frozen(users)
        self._items = _frozen(items)
        self._user_ids = _frozen(user_ids)
        self._item_ids = _frozen(item_ids)
        self._ratings = _frozen(None if ratings is None else np.asarray(ratings, dtype=np.float64))
        self._timestamps = _frozen(timestamps)
        self._weights = _frozen(None if weights is None else np.asarray(weights, dtype=np.float64))
        self._counts = _frozen(None if counts is None else np.asarray(counts, dtype=np.int64))
        self._input_order = _frozen(None if input_order is None else np.asarray(input_order, dtype=np.int64))
        self._user_features = user_features
        self._item_features = item_features

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_pandas(
        cls,
        df,
        user_col="user",
        item_col="item",
        rating_col=None,
        time_col=None,
        weight_col=None,
        duplicates="error",
        user_features=None,
        item_features=None,
        *,
        dropna=False,
    ):
        """Build interactions from a DataFrame with one event per row.

        Parameters
        ----------
        df : pandas.DataFrame
            The events.
        user_col, item_col : str, default="user", "item"
            Columns holding the user and item ids (any hashable values).
        rating_col, time_col, weight_col : str, default=None
            Optional columns holding explicit ratings, timestamps (numeric or
            datetime) and implicit-feedback weights.
        duplicates : {"error", "sum", "mean", "last", "first"}, default="error"
            What to do with repeated (user, item) pairs: raise, sum or average
            their ratings and weights (the count of merged events is kept for
            ``to_csr(values="count")``, the latest timestamp is kept), or keep
            the last or first event (by timestamp when ``time_col`` is given,
            else by row order). Rating predictors take the same policies in
            ``fit(X, y, duplicates=...)``.
        user_features, item_features : pandas.DataFrame, default=None
            Side tables indexed by the original user or item ids.
        dropna : bool, default=False
            Drop the rows with a missing value in any of the named columns.
            By default such a row raises: a missing id, rating, weight or
            timestamp is never dropped or replaced silently.

        Returns
        -------
        Interactions
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}.")
        check_duplicates_policy(duplicates)
        wanted = {"user_col": user_col, "item_col": item_col, "rating_col": rating_col,
                  "time_col": time_col, "weight_col": weight_col}
        for argument, column in wanted.items():
            if column is not None and column not in df.columns:
                raise KeyError(
                    f"{argument}={column!r} is not a column of df; its columns are {list(df.columns)}."
                )
        named = [column for column in wanted.values() if column is not None]
        if dropna:
            df = df.dropna(subset=named)
        for argument in ("user_col", "item_col", "time_col"):
            column = wanted[argument]
            missing = 0 if column is None else int(df[column].isna().sum())
            if missing:
                raise ValueError(
                    f"{missing} row(s) of df have no {column!r}; drop them first "
                    f"(df.dropna(subset=[{column!r}])) or pass dropna=True."
                )
        for argument in ("rating_col", "weight_col"):
            column = wanted[argument]
            if column is not None:
                values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
                bad = ~np.isfinite(values)
                if bad.any():
                    raise ValueError(
                        f"{int(bad.sum())} value(s) of {column!r} are missing, non-numeric or "
                        "infinite; drop or impute them before building Interactions."
                    )

        frame, rows = df, None
        if time_col is not None:
            # Time order: "first"/"last" then mean the earliest/latest event.
            rows = np.argsort(df[time_col].to_numpy(), kind="stable")  # the df row of each frame row
            frame = df.iloc[rows]
        user_codes, user_ids = pd.factorize(frame[user_col], sort=True)
        item_codes, item_ids = pd.factorize(frame[item_col], sort=True)
        values = {}
        if rating_col is not None:
            values["rating"] = frame[rating_col].to_numpy(dtype=np.float64)
        if weight_col is not None:
            values["weight"] = frame[weight_col].to_numpy(dtype=np.float64)
        # tolist() gives plain Python ids, so the message reads 1, not np.int64(1).
        events, values, timestamps, counts = merge_duplicate_pairs(
            user_codes, item_codes, duplicates, values=values,
            times=None if time_col is None else frame[time_col].to_numpy(),
            describe_pair=lambda event: (user_ids[[user_codes[event]]].tolist()[0],
                                         item_ids[[item_codes[event]]].tolist()[0]),
            name="df",
        )
        # Sorted by (user, item): each user's events are then contiguous.
        by_pair = np.lexsort((item_codes[events], user_codes[events]))
        events = events[by_pair]
        values = {column: merged[by_pair] for column, merged in values.items()}
        timestamps = None if timestamps is None else np.asarray(timestamps)[by_pair]
        input_order = None
        if rows is not None:
            kept = events
            if counts is not None:
                # A "sum"/"mean" pair takes the time of its last event, so it stands at that event's row.
                pair = user_codes.astype(np.int64) * len(item_ids) + item_codes
                kept = pd.Series(np.arange(len(frame))).groupby(pair).transform("max").to_numpy()[events]
            input_order = rows[kept]  # events is already in (user, item) order
        return cls(
            user_codes[events],
            item_codes[events],
            user_ids=user_ids.to_numpy(),
            item_ids=item_ids.to_numpy(),
            ratings=values.get("rating"),
            timestamps=timestamps,
            weights=values.get("weight"),
            counts=None if counts is None else counts[by_pair],
            user_features=user_features,
            item_features=item_features,
            input_order=input_order,
        )

    @classmethod
    def from_parquet(cls, path, user_col="user", item_col="item", rating_col=None, time_col=None,
                     weight_col=None, duplicates="error", *, dropna=False):
        """Build interactions from a parquet file or a directory of parquet shards.

        The files are read as one pyarrow dataset, projected on the named
        columns (the others are never read), then built as by
        :meth:`from_pandas`, whose checks and duplicate policies apply.

        Parameters
        ----------
        path : str or path
            A parquet file, or a directory whose parquet files (searched
            recursively; names starting with ``.`` or ``_`` are skipped) share
            one schema: a shard that lacks a named column, or gives it a type
            of another kind, raises a ValueError naming the shards.
        user_col, item_col, rating_col, time_col, weight_col, duplicates, dropna
            As in :meth:`from_pandas`.

        Returns
        -------
        Interactions

        Examples
        --------
        >>> import tempfile, pandas as pd
        >>> from recsys.datasets import Interactions
        >>> folder = tempfile.mkdtemp()
        >>> pd.DataFrame({"user": [1, 2], "item": ["x", "y"], "note": ["", ""]}).to_parquet(
        ...     f"{folder}/part-0.parquet")
        >>> Interactions.from_parquet(folder).n_users
        2
        """
        from recsys.datasets._parquet import read_parquet_columns

        named = list(dict.fromkeys(column for column in (user_col, item_col, rating_col, time_col, weight_col)
                                   if column is not None))
        return cls.from_pandas(read_parquet_columns(path, named).to_pandas(), user_col, item_col, rating_col,
                               time_col, weight_col, duplicates, dropna=dropna)

    @classmethod
    def from_csr(cls, X, user_ids=None, item_ids=None, values_as="weight"):
        """Build interactions from the stored entries of a users x items matrix.

        Parameters
        ----------
        X : scipy sparse matrix of shape (n_users, n_items)
            Every stored non-zero entry becomes one event.
        user_ids, item_ids : array-like, default=None
            Vocabularies; ``arange(n_users)`` and ``arange(n_items)`` by default.
        values_as : {"weight", "rating", None}, default="weight"
            Column the matrix values are kept in, or None to drop them.
        """
        if values_as not in ("weight", "rating", None):
            raise ValueError(f"values_as must be 'weight', 'rating' or None; got {values_as!r}.")
        X = sp.csr_matrix(X)
        X.sum_duplicates()
        X.eliminate_zeros()
        user_ids = np.arange(X.shape[0]) if user_ids is None else np.asarray(user_ids)
        item_ids = np.arange(X.shape[1]) if item_ids is None else np.asarray(item_ids)
        if len(user_ids) != X.shape[0] or len(item_ids) != X.shape[1]:
            raise ValueError(
                f"X has shape {X.shape} but {len(user_ids)} user ids and {len(item_ids)} item ids were given."
            )
        coo = X.tocoo()
        values = coo.data.astype(np.float64)
        return cls(
            coo.row,
            coo.col,
            user_ids=user_ids,
            item_ids=item_ids,
            ratings=values if values_as == "rating" else None,
            weights=values if values_as == "weight" else None,
        )

    # ------------------------------------------------------------------ properties
    n_users = property(lambda self: len(self._user_ids), doc="Size of the user vocabulary.")
    n_items = property(lambda self: len(self._item_ids), doc="Size of the item vocabulary.")
    users = property(lambda self: self._users, doc="User index of each event.")
    items = property(lambda self: self._items, doc="Item index of each event.")
    user_ids = property(lambda self: self._user_ids, doc="Original user id of each user index.")
    item_ids = property(lambda self: self._item_ids, doc="Original item id of each item index.")
    ratings = property(lambda self: self._ratings, doc="Explicit rating of each event, or None.")
    timestamps = property(lambda self: self._timestamps, doc="Timestamp of each event, or None.")
    weights = property(lambda self: self._weights, doc="Implicit weight of each event, or None.")
    counts = property(lambda self: self._counts, doc="Number of merged events per pair, or None.")
    input_order = property(lambda self: self._input_order,
                           doc="Row of the input each event came from (built with a time column), or None.")
    user_features = property(lambda self: self._user_features, doc="Side table of users, or None.")
    item_features = property(lambda self: self._item_features, doc="Side table of items, or None.")

    def __len__(self):
        return self._users.shape[0]

    def __repr__(self):
        columns = [c for c in ("ratings", "timestamps", "weights") if getattr(self, c) is not None]
        return (f"Interactions(n_users={self.n_users}, n_items={self.n_items}, "
                f"n_interactions={len(self)}, columns={columns})")

    def __eq__(self, other):
        # input_order is not compared: it only breaks ties in time, and the same events built from
        # another source (from_csr, a Dask frame) do not know it.
        if not isinstance(other, Interactions):
            return NotImplemented
        names = ("users", "items", "user_ids", "item_ids", "ratings", "timestamps", "weights", "counts")
        for name in names:
            mine, theirs = getattr(self, name), getattr(other, name)
            if (mine is None) != (theirs is None):
                return False
            if mine is not None and not np.array_equal(mine, theirs):
                return False
        return True

    __hash__ = None

    def item_texts(self, columns=None):
        """Return one text per item of the vocabulary, from the item side table.

        The text columns of ``item_features`` (by default every column of
        strings: a MovieLens title and its genres) joined with ``". "``, in
        item index order; ``|``-separated values (MovieLens genres) read
        ``"a, b"``. Missing values, and items absent from the table, add
        nothing. Content-based models
        (:class:`~recsys.neural.ContentKNN`) embed these texts.

        Parameters
        ----------
        columns : sequence of str, default=None
            The columns to join, in this order.

        Returns
        -------
        list of str of length n_items

        Raises
        ------
        ValueError
            When there is no item side table, or it has no text column.

        Examples
        --------
        >>> import pandas as pd
        >>> from recsys.datasets import Interactions
        >>> movies = pd.DataFrame({"title": ["Heat (1995)", "Up (2009)"], "genres": ["Crime|Thriller", None],
        ...                        "year": [1995, 2009]}, index=pd.Index([7, 9], name="item"))
        >>> data = Interactions.from_pandas(pd.DataFrame({"user": [1, 1], "item": [7, 9]}), item_features=movies)
        >>> data.item_texts()
        ['Heat (1995). Crime, Thriller', 'Up (2009)']
        """
        table = self._item_features
        if table is None:
            raise ValueError("these interactions have no item side table (item_features) to take item texts "
                             "from; build them with Interactions.from_pandas(..., item_features=table) or a "
                             "loader that provides one (MovieLens, MovieTweetings).")
        if columns is None:
            columns = [name for name in table.columns if pd.api.types.is_string_dtype(table[name])]
        if not len(columns):
            raise ValueError(f"item_features has no column of strings to make item texts of; its columns are "
                             f"{list(table.columns)}: name the ones to use with columns=.")
        aligned = table.reindex(self._item_ids)[list(columns)].astype("string")
        aligned = aligned.apply(lambda column: column.str.replace("|", ", ", regex=False))
        return [". ".join(value for value in row if value is not pd.NA and value)
                for row in aligned.itertuples(index=False)]

    def time_order(self, *, by_user=True):
        """Return the positions of the events ordered by user, then time, ties in input order.

        Events of one user with equal timestamps keep the order of the rows
        they were built from (``input_order``), or, without it, the order in
        which this object stores them (by item index). Splitters, windows and
        sequential models all read "earlier" and "later" from this order.

        Parameters
        ----------
        by_user : bool, default=True
            Group the events by user first; with False, all events in one
            time order (the latest events overall last).

        Returns
        -------
        ndarray of int64 of shape (n_events,)

        Raises
        ------
        ValueError
            When the interactions have no timestamps, some are missing (NaN,
            NaT), or they are neither numbers, datetimes nor strings that
            pandas reads as dates.

        Examples
        --------
        >>> import pandas as pd
        >>> from recsys.datasets import Interactions
        >>> df = pd.DataFrame({"user": [1, 1, 1], "item": ["c", "b", "a"], "time": [7, 5, 5]})
        >>> data = Interactions.from_pandas(df, time_col="time")
        >>> data.item_ids[data.items[data.time_order()]].tolist()  # b and a tie: input order
        ['b', 'a', 'c']
        """
        if self._timestamps is None:
            raise ValueError("these interactions have no timestamps, so they have no time order; build "
                             "them with Interactions.from_pandas(..., time_col=...).")
        times = sortable_times(self._timestamps)
        ties = np.arange(len(self)) if self._input_order is None else self._input_order
        if not by_user:
            return np.lexsort((ties, times))
        return np.lexsort((ties, times, self._users))

    def user_index(self, ids):
        """Map original user ids to user indices; -1 for ids not in the vocabulary."""
        return pd.Index(self._user_ids).get_indexer(np.asarray(ids).ravel())

    def item_index(self, ids):
        """Map original item ids to item indices; -1 for ids not in the vocabulary."""
        return pd.Index(self._item_ids).get_indexer(np.asarray(ids).ravel())

    # ------------------------------------------------------------------ conversions
    def to_csr(self, values="binary", dtype=np.float32):
        """Return the users x items matrix of the events.

        Parameters
        ----------
        values : {"binary", "rating", "count", "weight", "auto"}, default="binary"
            What the stored entries hold: 1, the rating, the number of merged
            events, the implicit weight, or ``"auto"``: the weight when there
            is one, else the count.
        dtype : numpy dtype, default=np.float32

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_users, n_items)
        """
        if values not in _CSR_VALUES:
            raise ValueError(f"values must be one of {_CSR_VALUES}; got {values!r}.")
        if values == "auto":
            values = "weight" if self._weights is not None else "count"
        if values == "rating" and self._ratings is None:
            raise ValueError("these interactions have no rating column; use values='binary'.")
        if values == "weight" and self._weights is None:
            raise ValueError("these interactions have no weight column; use values='binary'.")
        data = {
            "binary": lambda: np.ones(len(self)),
            "rating": lambda: self._ratings,
            "weight": lambda: self._weights,
            "count": lambda: np.ones(len(self)) if self._counts is None else self._counts,
        }[values]()
        matrix = sp.csr_matrix(
            (np.asarray(data, dtype=dtype), (self._users, self._items)),
            shape=(self.n_users, self.n_items),
        )
        matrix.sort_indices()
        return matrix

    def to_pandas(self):
        """Return the events as a DataFrame with the original ids.

        Columns: ``user``, ``item`` and, where present, ``rating``,
        ``timestamp``, ``weight`` and ``count``.
        """
        columns = {"user": self._user_ids[self._users], "item": self._item_ids[self._items]}
        for name, column in (("rating", self._ratings), ("timestamp", self._timestamps),
                             ("weight", self._weights), ("count", self._counts)):
            if column is not None:
                columns[name] = column
        return pd.DataFrame(columns)

    # ------------------------------------------------------------------ derived sets
    def _replace(self, mask=None, *, user_ids=None, item_ids=None, users=None, items=None, **overrides):
        """Return a copy keeping the events where mask is True (all when None)."""
        take = (lambda a: a) if mask is None else (lambda a: None if a is None else a[mask])
        fields = {
            "users": take(self._users) if users is None else users,
            "items": take(self._items) if items is None else items,
            "user_ids": self._user_ids if user_ids is None else user_ids,
            "item_ids": self._item_ids if item_ids is None else item_ids,
            "ratings": take(self._ratings),
            "timestamps": take(self._timestamps),
            "weights": take(self._weights),
            "counts": take(self._counts),
            "input_order": take(self._input_order),
            "user_features": self._user_features,
            "item_features": self._item_features,
        }
        fields.update(overrides)
        users_arg, items_arg = fields.pop("users"), fields.pop("items")
        return Interactions(users_arg, items_arg, **fields)

    def take(self, indices_or_mask):
        """Return the events selected by a boolean mask or positional indices.

        The vocabularies are kept, so matrices of the result align with this one.
        """
        return self._replace(np.asarray(indices_or_mask))

    def subset(self, users=None, items=None):
        """Return the events of the given original user and/or item ids.

        The vocabularies are kept (see the class notes); ids not in the
        vocabulary raise a ``KeyError``.
        """
        mask = np.ones(len(self), dtype=bool)
        for ids, lookup, column, kind in ((users, self.user_index, self._users, "user"),
                                          (items, self.item_index, self._items, "item")):
            if ids is None:
                continue
            indices = lookup(ids)
            if (indices < 0).any():
                unknown = np.asarray(ids).ravel()[indices < 0][:5].tolist()  # reads 0, not np.int64(0)
                raise KeyError(f"unknown {kind} id(s) {unknown}: not in this data set.")
            mask &= np.isin(column, indices)
        return self._replace(mask)

    def filter(self, min_user_interactions=1, min_item_interactions=1):
        """Return the iterated k-core: repeat dropping sparse users and items.

        Users with fewer than ``min_user_interactions`` events and items with
        fewer than ``min_item_interactions`` are removed until every remaining
        user and item meets its bound. Removed users and items leave the
        vocabularies, whose order is kept.
        """
        mask = np.ones(len(self), dtype=bool)
        while True:
            user_counts = np.bincount(self._users[mask], minlength=self.n_users)
            item_counts = np.bincount(self._items[mask], minlength=self.n_items)
            keep = (mask & (user_counts[self._users] >= min_user_interactions)
                    & (item_counts[self._items] >= min_item_interactions))
            if keep.sum() == mask.sum():
                break
            mask = keep
        return self._compact(mask)

    def _compact(self, mask):
        kept_users = np.unique(self._users[mask])
        kept_items = np.unique(self._items[mask])
        user_map = np.full(self.n_users, -1, dtype=np.int32)
        user_map[kept_users] = np.arange(len(kept_users))
        item_map = np.full(self.n_items, -1, dtype=np.int32)
        item_map[kept_items] = np.arange(len(kept_items))
        return self._replace(
            mask,
            users=user_map[self._users[mask]],
            items=item_map[self._items[mask]],
            user_ids=self._user_ids[kept_users],
            item_ids=self._item_ids[kept_items],
        )

    def binarize(self, threshold):
        """Keep the events rated at least ``threshold``, as implicit feedback.

        The rating column is dropped; vocabularies are kept.
        """
        if self._ratings is None:
            raise ValueError("binarize needs a rating column; these interactions have none.")
        return self._replace(self._ratings >= threshold, ratings=None)

    def describe(self, approximate=False, precision=14):
        """Summarise the data set.

        Parameters
        ----------
        approximate : bool, default=False
            Count the distinct users and items that have events with
            HyperLogLog++ sketches (datasketch's ``HyperLogLogPlusPlus``) of
            ``2**precision`` registers each, instead of one exact counter per
            user and per item. The per-user and per-item distributions need
            those counters, so they are left out.
        precision : int, default=14
            Precision ``p`` of the sketches, 4 to 18: relative standard error
            about ``1.04 / sqrt(2**p)`` (0.8% at 14); below about
            ``2.5 * 2**p`` distinct values the sketch counts by linear
            counting and is nearly exact.

        Returns
        -------
        dict
            ``n_users`` and ``n_items`` (the vocabularies), ``n_interactions``,
            ``density``, ``n_active_users`` and ``n_active_items`` (those with
            at least one event: fewer than the vocabularies after
            :meth:`subset` or :meth:`take`; floats when ``approximate``), the
            distributions (``pandas.Series.describe``) of interactions per
            user and per item unless ``approximate``, of ratings when present,
            and the time range when there are timestamps.

        Examples
        --------
        >>> from recsys.datasets import make_interactions
        >>> data = make_interactions(500, 200, n_interactions=5000, random_state=0)
        >>> exact = data.describe()
        >>> sketched = data.describe(approximate=True)
        >>> abs(sketched["n_active_users"] - exact["n_active_users"]) < 0.05 * exact["n_active_users"]
        True
        """
        cells = self.n_users * self.n_items
        summary = {
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_interactions": len(self),
            "density": len(self) / cells if cells else 0.0,
        }
        if approximate:
            summary["n_active_users"] = approximate_distinct_count(self._users, precision)
            summary["n_active_items"] = approximate_distinct_count(self._items, precision)
        else:
            per_user = np.bincount(self._users, minlength=self.n_users)
            per_item = np.bincount(self._items, minlength=self.n_items)
            summary["n_active_users"] = int(np.count_nonzero(per_user))
            summary["n_active_items"] = int(np.count_nonzero(per_item))
            summary["interactions_per_user"] = pd.Series(per_user).describe()
            summary["interactions_per_item"] = pd.Series(per_item).describe()
        if self._ratings is not None:
            summary["ratings"] = pd.Series(self._ratings).describe()
        if self._timestamps is not None and len(self):
            summary["time_range"] = (self._timestamps.min(), self._timestamps.max())
        return summary


# ---------------------------------------------------------------------- HyperLogLog++
# Values hashed at once: bounds the temporaries to a few MiB whatever the data size.
_HLL_CHUNK = 1 << 18


def _splitmix64(values):
    """splitmix64's finaliser: a well-mixed 64-bit hash of each integer, vectorised."""
    z = values.astype(np.uint64)
    z += np.uint64(0x9E3779B97F4A7C15)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _bit_length(values):
    """Number of bits of each uint64 (0 for 0), as Python's ``int.bit_length``.

    The float64 exponent gives it, except where rounding to 53 bits carries
    into the next power of two (2**60 - 1 becomes 2**60): those are undone.
    """
    length = np.frexp(values.astype(np.float64))[1].astype(np.int64)
    carried = (length > 0) & ((values >> np.maximum(length - 1, 0).astype(np.uint64)) == 0)
    return length - carried


def hll_registers(values, precision):
    """The HyperLogLog++ registers of integer ``values``, as datasketch's ``update`` sets them.

    Each value is hashed by :func:`_splitmix64`; its low ``precision`` bits
    pick a register, which keeps the largest rank (one plus the number of
    leading zeros of the other 64 - precision bits) seen. Computed a chunk
    of values at a time instead of one ``update`` call per value.
    """
    values = np.asarray(values).ravel()
    n_registers = 1 << precision
    registers = np.zeros(n_registers, dtype=np.int8)
    for start in range(0, len(values), _HLL_CHUNK):
        hashes = _splitmix64(values[start:start + _HLL_CHUNK])
        index = (hashes & np.uint64(n_registers - 1)).astype(np.intp)
        rank = (64 - precision + 1) - _bit_length(hashes >> np.uint64(precision))
        np.maximum.at(registers, index, rank.astype(np.int8))
    return registers


def approximate_distinct_count(values, precision=14):
    """Estimate the number of distinct integers in ``values`` with HyperLogLog++.

    Parameters
    ----------
    values : array-like of int
    precision : int, default=14
        4 to 18; the sketch has ``2**precision`` one-byte registers.

    Returns
    -------
    float
        datasketch's ``HyperLogLogPlusPlus.count()`` of the sketch.
    """
    from datasketch import HyperLogLogPlusPlus

    if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)) \
            or not 4 <= precision <= 18:
        raise ValueError(f"precision must be an integer from 4 to 18; got {precision!r}.")
    sketch = HyperLogLogPlusPlus(reg=hll_registers(values, int(precision)),
                                 hashfunc=lambda value: int(_splitmix64(np.array([value]))[0]))
    return float(sketch.count())
