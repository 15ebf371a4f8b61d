"""Features of (user, item[, timestamp]) pairs computed from training interactions."""

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from recsys.preprocessing._rank_kernels import count_greater
from recsys.utils import PersistenceMixin

# Dense score cells per block of users when models score pairs: as in
# BaseRecommender.recommend, about 2**24 floats whatever the catalogue.
_SCORE_BLOCK_CELLS = 2**24


class PairFeatures(PersistenceMixin, TransformerMixin, BaseEstimator):
    """Features of candidate (user, item) pairs, learned from the interactions given to ``fit``.

    ``fit`` takes the training interactions: a DataFrame with one event per
    row (columns ``user_col``, ``item_col`` and, optionally, ``rating_col``
    and ``time_col``; repeated pairs are repeated events) or an
    :class:`~recsys.datasets.Interactions` object. ``transform`` takes a
    DataFrame of candidate pairs with the same ``user_col`` and ``item_col``
    (and ``time_col`` when ``time=True``) and returns one row of features per
    pair, in this order:

    - ``user_stats``: ``user_count`` (events), ``user_rating_mean``,
      ``user_rating_std`` (population std; the rating features only when the
      fit data has ratings);
    - ``item_stats``: ``item_count``, ``item_rating_mean``, ``item_rating_std``,
      ``item_popularity_rank`` (1 = most events; tied items share the best rank);
    - ``time``: ``user_time_since_last`` (pair time minus the user's last
      event) and ``item_time_since_first`` (pair time minus the item's first
      event), in seconds for datetime columns, else in the timestamps' unit;
      negative when the pair precedes the event;
    - for each model ``name``: ``name_score`` and ``name_rank``.

    Every statistic comes from the fit data; nothing in the transformed pairs
    changes them (no leakage from the candidates).

    Models. Each entry of ``models`` is an estimator or a ``(name,
    estimator)`` pair (names default to the lower-cased class name). A
    recommender (an estimator with ``recommend``) is fitted on the users x
    items matrix of event counts of the fit data (an ``Interactions``'
    ``to_csr(values="auto")``); a rating predictor (``predict`` on (user,
    item) pairs) on the fit data's (user, item) pairs and ratings. ``fit``
    fits a clone, so the models see the fit data only; wrap an already fitted
    model in ``sklearn.frozen.FrozenEstimator`` to use it as it is (a frozen
    recommender must have been fitted on that same matrix: same items in
    sorted id order). A recommender scores a pair by folding in the user's
    row of the fit matrix (an empty row for a user unseen in fit), through
    its dense ``_score`` on blocks of users; a rating predictor by
    ``predict``. The rank is ``1 +`` the number of catalogue items scoring
    strictly higher for that user, among the items the user has no event
    with in the fit data when ``exclude_seen=True`` (the ranking ``recommend``
    would return, whether or not the pair's own item is seen). Cost: the full
    row of scores of every distinct user in the pairs, ``n_users x n_items``
    scores (rating predictors: that many ``predict`` calls' worth of pairs),
    sorted once per user; memory stays at about 2**24 scores per block.

    Unknown ids (documented fallbacks, never an error): a user or item unseen
    in fit gets count 0 and NaN for its rating statistics, popularity rank
    and time feature (``HistGradientBoosting*`` handle NaN natively). A
    model's score and rank are NaN for an unseen item (recommenders) and
    whatever the model's own fallback gives otherwise (rating predictors warn
    ``UnknownPairsWarning``; recommenders fold in an empty row for an unseen
    user). A missing timestamp of a pair gives NaN time features. Missing
    user or item ids, or missing timestamps in the fit data, are errors.

    Parameters
    ----------
    user_stats, item_stats, time : bool, default=True
        Which groups of features to produce (see above).
    models : sequence of estimators or (name, estimator) pairs, default=()
    user_col, item_col : str, default="user", "item"
    rating_col : str, default="rating"
        Ratings column of the fit data, used when present.
    time_col : str, default="timestamp"
        Timestamps column (numeric or datetime) of the fit data and pairs;
        required when ``time=True``.
    exclude_seen : bool, default=True
        Rank pairs among the items the user has no event with in the fit data.

    Attributes
    ----------
    user_ids_, item_ids_ : ndarray
        Users and items of the fit data, sorted.
    models_ : list of (name, fitted estimator)
    user_statistics_, item_statistics_ : ndarray of shape (n_users + 1, k), (n_items + 1, k')
        The per-user and per-item statistics, one column per name of
        ``user_statistic_names_`` / ``item_statistic_names_``; the last row
        holds the values of an id unseen in fit.
    matrix_ : csr_matrix
        The users x items matrix of the fit data, which recommender
        ``models`` were fitted on and fold in.
    feature_names_out_ : ndarray of str
    n_features_in_ : int
        Number of columns the pairs must hold (2, or 3 with ``time``).

    Examples
    --------
    >>> import pandas as pd
    >>> from recsys.preprocessing import PairFeatures
    >>> events = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "c", "a"],
    ...                        "rating": [5.0, 3.0, 4.0, 2.0, 3.0],
    ...                        "timestamp": [10, 20, 30, 40, 50]})
    >>> pairs = pd.DataFrame({"user": [1, 9], "item": ["c", "a"], "timestamp": [60, 60]})
    >>> features = PairFeatures().set_output(transform="pandas").fit(events).transform(pairs)
    >>> features[["user_count", "item_count", "item_popularity_rank", "user_time_since_last"]]
       user_count  item_count  item_popularity_rank  user_time_since_last
    0         2.0         1.0                   2.0                  40.0
    1         0.0         3.0                   1.0                   NaN
    """

    _parameter_constraints: ClassVar[dict] = {
        "user_stats": ["boolean"],
        "item_stats": ["boolean"],
        "time": ["boolean"],
        "models": [list, tuple],
        "user_col": [str],
        "item_col": [str],
        "rating_col": [str],
        "time_col": [str],
        "exclude_seen": ["boolean"],
    }
    # What load checks (save/load come from PersistenceMixin): the statistics tables have one
    # row per user or item plus the unseen one, and NaN there is the documented unknown-id value.
    _fitted_shapes: ClassVar[dict] = {
        "user_ids_": ("n_users",), "item_ids_": ("n_items",),
        "user_statistics_": ("n_users + 1", "n_user_statistics"), "user_statistic_names_": ("n_user_statistics",),
        "item_statistics_": ("n_items + 1", "n_item_statistics"), "item_statistic_names_": ("n_item_statistics",),
    }
    _fitted_unique = ("user_ids_", "item_ids_", "user_statistic_names_", "item_statistic_names_")
    _fitted_nonfinite = ("user_statistics_", "item_statistics_")

    def __init__(self, user_stats=True, item_stats=True, time=True, models=(), *, user_col="user",
                 item_col="item", rating_col="rating", time_col="timestamp", exclude_seen=True):
        self.user_stats = user_stats
        self.item_stats = item_stats
        self.time = time
        self.models = models
        self.user_col = user_col
        self.item_col = item_col
        self.rating_col = rating_col
        self.time_col = time_col
        self.exclude_seen = exclude_seen

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Learn the statistics of the interactions X and fit the models on them.

        Parameters
        ----------
        X : DataFrame or Interactions
            Training events (see the class description).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        users, items, ratings, times = self._read_events(X)
        user_codes, self.user_ids_ = pd.factorize(users, sort=True)
        item_codes, self.item_ids_ = pd.factorize(items, sort=True)
        self.user_ids_, self.item_ids_ = np.asarray(self.user_ids_), np.asarray(self.item_ids_)
        n_users, n_items = len(self.user_ids_), len(self.item_ids_)
        self.has_ratings_ = ratings is not None
        self.time_is_datetime_ = times is not None and times.dtype.kind == "M"

        # Each per-user or per-item table ends with the value of an unknown id,
        # so that indexing with code -1 (pandas' "not found") reads it.
        user_table = _group_statistics("user", user_codes, n_users, ratings) if self.user_stats else {}
        item_table = _group_statistics("item", item_codes, n_items, ratings) if self.item_stats else {}
        if self.item_stats:
            counts = item_table["item_count"][:-1]
            # Rank 1 = most events; ties share the best rank.
            rank = pd.Series(counts).rank(method="min", ascending=False).to_numpy()
            item_table["item_popularity_rank"] = np.append(rank, np.nan)
        if self.time:
            seconds = _as_float_time(times)
            user_table["user_last_time"] = _group_extreme(user_codes, n_users, seconds, np.fmax)
            item_table["item_first_time"] = _group_extreme(item_codes, n_items, seconds, np.fmin)
        self.user_statistics_, self.user_statistic_names_ = _stacked(user_table, n_users)
        self.item_statistics_, self.item_statistic_names_ = _stacked(item_table, n_items)
        self._rebuild_derived()

        self.matrix_ = self._model_matrix(X, user_codes, item_codes, n_users, n_items)
        self.models_ = self._fit_models(users, items, ratings)
        self.feature_names_out_ = np.asarray(self._feature_names(), dtype=object)
        self.n_features_in_ = 3 if self.time else 2
        return self

    def _rebuild_derived(self):
        """The statistics by name (views of the saved tables), after fit and load."""
        if "user_statistics_" not in vars(self):
            return  # unfitted: a template saved as a parameter (meta_features=PairFeatures())
        self._user_table = dict(zip(self.user_statistic_names_, self.user_statistics_.T, strict=True))
        self._item_table = dict(zip(self.item_statistic_names_, self.item_statistics_.T, strict=True))

    def _read_events(self, X):
        """(users, items, ratings or None, timestamps or None) of the fit data, validated."""
        from recsys.datasets import Interactions

        if isinstance(X, Interactions):
            ratings = X.ratings
            times = X.timestamps
            users, items = X.user_ids[X.users], X.item_ids[X.items]
            if X.counts is not None:
                # Merged duplicates: repeat each pair as many times as it occurred.
                users, items = np.repeat(users, X.counts), np.repeat(items, X.counts)
                ratings = None if ratings is None else np.repeat(ratings / X.counts, X.counts)
                times = None if times is None else np.repeat(times, X.counts)
            if self.time and times is None:
                raise ValueError(
                    "time=True needs timestamps but these Interactions have none; build them with "
                    "time_col=... or pass time=False."
                )
            return users, items, ratings, (None if times is None else pd.Series(times))
        frame = self._check_frame(X, "X", need_time=self.time)
        users, items = frame[self.user_col].to_numpy(), frame[self.item_col].to_numpy()
        ratings = None
        if self.rating_col in frame.columns:
            ratings = pd.to_numeric(frame[self.rating_col], errors="coerce").to_numpy(np.float64)
            if not np.isfinite(ratings).all():
                raise ValueError(
                    f"{int((~np.isfinite(ratings)).sum())} value(s) of {self.rating_col!r} are "
                    "missing, non-numeric or infinite; drop or impute them before fitting."
                )
        times = None
        if self.time:
            times = frame[self.time_col]
            if times.isna().any():
                raise ValueError(
                    f"{int(times.isna().sum())} event(s) of the fit data have no {self.time_col!r}; "
                    "the time features need every training timestamp: drop or impute them."
                )
        return users, items, ratings, times

    def _check_frame(self, X, name, need_time):
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"{name} must be a pandas DataFrame with columns {self.user_col!r} and "
                f"{self.item_col!r}; got {type(X).__name__}."
            )
        needed = [self.user_col, self.item_col] + ([self.time_col] if need_time else [])
        missing = [column for column in needed if column not in X.columns]
        if missing:
            hint = " (or pass time=False)" if self.time_col in missing else ""
            raise ValueError(
                f"{name} lacks the column(s) {missing}{hint}; its columns are {list(X.columns)}. "
                "Set user_col, item_col and time_col to the names your data uses."
            )
        for column in (self.user_col, self.item_col):
            n_missing = int(X[column].isna().sum())
            if n_missing:
                raise ValueError(
                    f"{n_missing} row(s) of {name} have no {column!r}; drop them first."
                )
        if len(X) == 0:
            raise ValueError(f"{name} is empty: at least one row is needed.")
        return X

    def _model_matrix(self, X, user_codes, item_codes, n_users, n_items):
        """The users x items matrix recommenders are fitted on and fold in (float32, canonical)."""
        from recsys.datasets import Interactions
        from recsys.utils import check_interaction_matrix

        if isinstance(X, Interactions):
            matrix = X.to_csr(values="auto")
        else:
            matrix = sp.csr_matrix(
                (np.ones(len(user_codes), dtype=np.float32), (user_codes, item_codes)),
                shape=(n_users, n_items),
            )
        return check_interaction_matrix(matrix)

    def _fit_models(self, users, items, ratings):
        fitted = []
        for name, model in _name_models(self.models):
            model = clone(model)
            if hasattr(model, "recommend"):
                model.fit(self.matrix_, None)
                n_items = getattr(model, "n_items_", self.matrix_.shape[1])
                if n_items != self.matrix_.shape[1]:
                    raise ValueError(
                        f"model {name!r} was fitted on {n_items} items but the fit data has "
                        f"{self.matrix_.shape[1]}; fit it on this data's matrix "
                        "(Interactions.from_pandas(df).to_csr()) or pass it unfitted."
                    )
            elif hasattr(model, "predict"):
                if ratings is None:
                    raise ValueError(
                        f"model {name!r} is a rating predictor but the fit data has no "
                        f"{self.rating_col!r} column to fit it on."
                    )
                model.fit(pd.DataFrame({self.user_col: users, self.item_col: items}), ratings)
            else:
                raise TypeError(
                    f"model {name!r} ({type(model).__name__}) is neither a recommender "
                    "(recommend) nor a rating predictor (predict)."
                )
            fitted.append((name, model))
        return fitted

    def _feature_names(self):
        rating_stats = ("rating_mean", "rating_std") if self.has_ratings_ else ()
        names = []
        if self.user_stats:
            names += ["user_count", *(f"user_{stat}" for stat in rating_stats)]
        if self.item_stats:
            names += ["item_count", *(f"item_{stat}" for stat in rating_stats), "item_popularity_rank"]
        if self.time:
            names += ["user_time_since_last", "item_time_since_first"]
        for name, _ in self.models_:
            names += [f"{name}_score", f"{name}_rank"]
        return names

    def get_feature_names_out(self, input_features=None):
        """Names of the output features, in column order.

        Parameters
        ----------
        input_features : None
            Ignored; the names depend on the fitted options only.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Compute the features of the (user, item[, timestamp]) pairs of X.

        Parameters
        ----------
        X : DataFrame
            Candidate pairs with columns ``user_col``, ``item_col`` (and
            ``time_col`` when ``time=True``); other columns are ignored.

        Returns
        -------
        ndarray of shape (n_pairs, n_features), float64
            A DataFrame with ``set_output(transform="pandas")``.
        """
        check_is_fitted(self)
        frame = self._check_frame(X, "X", need_time=self.time)
        users, items = frame[self.user_col].to_numpy(), frame[self.item_col].to_numpy()
        user_codes = pd.Index(self.user_ids_).get_indexer(users)
        item_codes = pd.Index(self.item_ids_).get_indexer(items)
        # Each feature is written into its column as soon as it is computed,
        # so the peak is the output plus one column; Fortran order keeps each
        # column contiguous.
        output = np.empty((len(frame), len(self.feature_names_out_)), dtype=np.float64, order="F")
        column = {name: position for position, name in enumerate(self.feature_names_out_)}
        for table, codes in ((self._user_table, user_codes), (self._item_table, item_codes)):
            for name, values in table.items():
                if name in column:
                    output[:, column[name]] = values[codes]
        if self.time:
            pair_times = frame[self.time_col]
            if (pair_times.dtype.kind == "M") != self.time_is_datetime_:
                raise TypeError(
                    f"the pairs' {self.time_col!r} is {pair_times.dtype} but the fit data's was "
                    f"{'datetime' if self.time_is_datetime_ else 'numeric'}; use the same kind."
                )
            seconds = _as_float_time(pair_times)
            output[:, column["user_time_since_last"]] = seconds - self._user_table["user_last_time"][user_codes]
            output[:, column["item_time_since_first"]] = seconds - self._item_table["item_first_time"][item_codes]
        for name, model in self.models_:
            if hasattr(model, "recommend"):
                scores, ranks = self._recommender_features(model, user_codes, item_codes)
            else:
                scores, ranks = self._predictor_features(model, users, items, user_codes)
            output[:, column[f"{name}_score"]], output[:, column[f"{name}_rank"]] = scores, ranks
        return output

    def _recommender_features(self, model, user_codes, item_codes):
        """Score and rank of each pair from a recommender, blocks of distinct users at a time.

        All users unseen in fit share code -1, and the empty row: they are
        scored once.
        """
        n_items = self.matrix_.shape[1]
        # One empty row at the end: code -1 selects it.
        rows = sp.vstack([self.matrix_, sp.csr_matrix((1, n_items), dtype=np.float32)], format="csr")
        scores = np.full(len(user_codes), np.nan)
        ranks = np.full(len(user_codes), np.nan)
        for block_users, pairs, local_rows in _user_blocks(user_codes, n_items):
            block_rows = rows[block_users]
            dense = _dense_scores(model, block_rows)
            items = item_codes[pairs]
            known = items >= 0
            pair_scores = np.full(len(pairs), np.nan)
            pair_scores[known] = dense[local_rows[known], items[known]]
            if self.exclude_seen:
                seen = block_rows.tocoo()
                dense[seen.row, seen.col] = -np.inf
            scores[pairs] = pair_scores
            ranks[pairs] = np.where(known, count_greater(dense, local_rows, pair_scores) + 1, np.nan)
        return scores, ranks

    def _predictor_features(self, model, users, items, user_codes):
        """Prediction of each pair, and its rank among the user's predictions for every catalogue item."""
        from recsys.base import UnknownPairsWarning

        pairs_frame = pd.DataFrame({self.user_col: users, self.item_col: items})
        scores = np.asarray(model.predict(pairs_frame), dtype=np.float64)
        ranks = np.empty(len(users))
        # Group by the original id: a frozen predictor may know users this fit data does not.
        group_of_pair = pd.factorize(users)[0]
        # first[g]: a pair of group g (factorize numbers groups by first appearance).
        first = np.unique(group_of_pair, return_index=True)[1]
        n_items = len(self.item_ids_)
        for block_groups, pairs, local_rows in _user_blocks(group_of_pair, n_items):
            block_user_ids = users[first[block_groups]]
            grid = pd.DataFrame({self.user_col: np.repeat(block_user_ids, n_items),
                                 self.item_col: np.tile(self.item_ids_, len(block_groups))})
            with warnings.catch_warnings():
                # Pair scores warned once above; the grid repeats those users.
                warnings.simplefilter("ignore", UnknownPairsWarning)
                dense = np.asarray(model.predict(grid), dtype=np.float64).reshape(len(block_groups), n_items)
            if self.exclude_seen:
                block_codes = user_codes[first[block_groups]]
                known = block_codes >= 0
                seen = self.matrix_[block_codes[known]].tocoo()
                dense[np.flatnonzero(known)[seen.row], seen.col] = -np.inf
            ranks[pairs] = count_greater(dense, local_rows, scores[pairs]) + 1
        return scores, ranks

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags


def _group_statistics(side, codes, n_groups, ratings):
    """Event count and rating mean/std per user or item, the unknown id's value appended."""
    counts = np.bincount(codes, minlength=n_groups).astype(np.float64)
    table = {f"{side}_count": np.append(counts, 0.0)}
    if ratings is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(codes, weights=ratings, minlength=n_groups) / counts
            # Two passes: the deviations from the mean, not E[r^2] - E[r]^2 (cancellation).
            spread = np.bincount(codes, weights=(ratings - mean[codes]) ** 2, minlength=n_groups)
            std = np.sqrt(spread / counts)
        table[f"{side}_rating_mean"] = np.append(mean, np.nan)
        table[f"{side}_rating_std"] = np.append(std, np.nan)
    return table


def _stacked(table, n_groups):
    """A name -> column table as one (n_groups + 1, n_columns) float64 array and its column names."""
    names = np.asarray(list(table), dtype=object)
    if not table:
        return np.empty((n_groups + 1, 0)), names
    return np.column_stack([np.asarray(column, dtype=np.float64) for column in table.values()]), names


def _group_extreme(codes, n_groups, values, reduce):
    """Per-group maximum (np.fmax) or minimum (np.fmin) of values, NaN appended for unknown ids."""
    result = np.full(n_groups + 1, np.nan)
    reduce.at(result, codes, values)
    return result


def _as_float_time(times):
    """Timestamps as float64: seconds since the epoch for datetimes, the numbers themselves otherwise."""
    times = pd.Series(times)
    if times.dtype.kind == "M":
        # Whatever the unit (pandas 3 infers s/ms/us/ns) or time zone; NaT gives NaN.
        index = pd.DatetimeIndex(times)
        since_epoch = index - pd.Timestamp("1970-01-01", tz=index.tz)
        return np.asarray(since_epoch / pd.Timedelta(seconds=1), dtype=np.float64)
    try:
        return pd.to_numeric(times, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"timestamps must be numeric or datetime; got dtype {times.dtype}. Convert them with "
            "pd.to_datetime(...) or to numbers first."
        ) from None


def _name_models(models):
    """(name, estimator) pairs: given names kept, others the lower-cased class name (-2, -3 for repeats)."""
    named = []
    for entry in models:
        if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str):
            named.append(entry)
        else:
            inner = getattr(entry, "estimator", entry) if type(entry).__name__ == "FrozenEstimator" else entry
            named.append((type(inner).__name__.lower(), entry))
    names = [name for name, _ in named]
    seen = {}
    unique = []
    for name, model in named:
        seen[name] = seen.get(name, 0) + 1
        unique.append((name if names.count(name) == 1 else f"{name}-{seen[name]}", model))
    if len({name for name, _ in unique}) != len(unique):
        raise ValueError(f"models have repeated names {names}; give each a distinct (name, model) pair.")
    return unique


def _user_blocks(group_of_pair, n_items):
    """Yield (group ids, pair indices, row of each pair in the block) for blocks of distinct groups.

    A block holds about 2**24 / n_items groups, so that one dense block of
    scores stays near 2**24 cells; pairs are visited grouped, by one sort.
    """
    groups, inverse = np.unique(group_of_pair, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    sorted_inverse = inverse[order]
    block = max(1, _SCORE_BLOCK_CELLS // max(n_items, 1))
    for start in range(0, len(groups), block):
        stop = min(start + block, len(groups))
        low, high = np.searchsorted(sorted_inverse, [start, stop])
        pairs = order[low:high]
        yield groups[start:stop], pairs, inverse[pairs] - start


def _dense_scores(model, rows):
    """Dense (n_rows, n_items) float64 scores of a recommender for the rows.

    Through its ``_score`` (every recsys recommender has one); otherwise
    through ``recommend`` of every item, unranked items at -inf.
    """
    if hasattr(model, "_score"):
        return np.array(model._score(rows), dtype=np.float64)
    n_items = rows.shape[1]
    ids, top = model.recommend(rows, n=n_items, exclude_seen=False)
    dense = np.full(rows.shape, -np.inf)
    row_index, place = np.nonzero(ids >= 0)
    dense[row_index, ids[row_index, place]] = top[row_index, place]
    return dense
