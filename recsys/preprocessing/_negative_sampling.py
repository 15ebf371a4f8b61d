"""Labelled (user, item, label) tables from positive interactions, for pair classifiers."""

from numbers import Integral
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

# Rounds of vectorised rejection sampling (popularity strategy) before the
# few draws still rejected are drawn exactly from their user's complement.
_REJECTION_ROUNDS = 30


class NegativeSampler(BaseEstimator):
    """Draw negative items for positive (user, item) pairs, never an item the user has.

    ``fit`` learns the catalogue (the items of the fit data), the item
    popularity (their number of events) and the items each user has;
    :meth:`sample` turns a table of positive pairs into a labelled table: each
    positive (label 1) followed by its ``n_negatives`` negatives (label 0),
    drawn from the catalogue among the items the user has neither in the fit
    data nor among the positives being sampled for. Negatives of one positive
    are drawn with replacement (they may repeat). The same ``random_state``
    gives the same table.

    - ``"uniform"``: every allowed item equally likely, drawn exactly (the
      r-th allowed item of the user is found by one search, no rejection).
    - ``"popularity"``: allowed items in proportion to their number of events
      in the fit data (rejection sampling, then exact draws for the rare
      draws still rejected).

    Parameters
    ----------
    n_negatives : int >= 1, default=1
        Negatives per positive.
    strategy : {"uniform", "popularity"}, default="uniform"
    user_col, item_col : str, default="user", "item"
    time_col : str, default=None
        A column of the positives copied to their negatives (e.g. the
        timestamp, for :class:`PairFeatures`' time features).
    label_col : str, default="label"
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    item_ids_ : ndarray
        The catalogue negatives are drawn from (the fit data's items, sorted).
    item_counts_ : ndarray of shape (n_items,)
        Events per catalogue item in the fit data.
    user_ids_ : ndarray
        Users of the fit data, sorted.

    Examples
    --------
    >>> import pandas as pd
    >>> from recsys.preprocessing import NegativeSampler
    >>> events = pd.DataFrame({"user": [1, 1, 2, 3], "item": ["a", "b", "a", "c"]})
    >>> table = NegativeSampler(n_negatives=2, random_state=0).fit_sample(events)
    >>> table.shape, table["label"].tolist()[:6]
    ((12, 3), [1, 0, 0, 1, 0, 0])
    >>> table.loc[(table["user"] == 1) & (table["label"] == 0), "item"].unique().tolist()
    ['c']
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_negatives": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"uniform", "popularity"})],
        "user_col": [str],
        "item_col": [str],
        "time_col": [str, None],
        "label_col": [str],
        "random_state": ["random_state"],
    }

    def __init__(self, n_negatives=1, strategy="uniform", *, user_col="user", item_col="item",
                 time_col=None, label_col="label", random_state=None):
        self.n_negatives = n_negatives
        self.strategy = strategy
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col
        self.label_col = label_col
        self.random_state = random_state

    def fit(self, X, y=None):
        """Learn the catalogue, item popularity and each user's items.

        Parameters
        ----------
        X : DataFrame or Interactions
            The interactions users have (columns ``user_col``, ``item_col``).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        users, items = self._read_pairs(X, need_time=False)
        user_codes, user_ids = pd.factorize(users, sort=True)
        item_codes, item_ids = pd.factorize(items, sort=True)
        self.user_ids_, self.item_ids_ = np.asarray(user_ids), np.asarray(item_ids)
        self.item_counts_ = np.bincount(item_codes, minlength=len(self.item_ids_))
        self._fit_keys = np.unique(user_codes.astype(np.int64) * len(self.item_ids_) + item_codes)
        return self

    def sample(self, X):
        """Label the positive pairs of X and add ``n_negatives`` negatives after each.

        Parameters
        ----------
        X : DataFrame or Interactions
            Positive pairs (``user_col``, ``item_col``, and ``time_col`` when set).

        Returns
        -------
        DataFrame
            Columns ``user_col``, ``item_col`` (and ``time_col``), ``label_col``;
            ``(1 + n_negatives) * len(X)`` rows, each positive followed by its
            negatives.
        """
        check_is_fitted(self)
        users, items = self._read_pairs(X, need_time=self.time_col is not None)
        n_items = len(self.item_ids_)
        # Users unseen in fit get codes after the fit users.
        user_codes = pd.Index(self.user_ids_).get_indexer(users).astype(np.int64)
        unknown = user_codes < 0
        user_codes[unknown] = len(self.user_ids_) + pd.factorize(users[unknown])[0]
        item_codes = pd.Index(self.item_ids_).get_indexer(items)
        in_catalogue = item_codes >= 0
        has_keys = np.union1d(self._fit_keys,
                              user_codes[in_catalogue] * n_items + item_codes[in_catalogue])
        n_has = np.bincount(has_keys // n_items, minlength=int(user_codes.max()) + 1)
        full = n_has[user_codes] >= n_items
        if full.any():
            raise ValueError(
                f"{len(np.unique(user_codes[full]))} user(s) of the positives have every catalogue "
                f"item (e.g. user {users[full][:1].tolist()[0]!r}); no negative can be drawn for them: drop those "
                "users or widen the catalogue."
            )
        rng = _generator(self.random_state)
        draw_users = np.repeat(user_codes, self.n_negatives)
        if self.strategy == "uniform":
            negatives = _uniform_allowed(draw_users, has_keys, n_has, n_items, rng)
        else:
            negatives = _popularity_allowed(draw_users, has_keys, self.item_counts_, rng)
        return self._table(X, users, items, negatives)

    def fit_sample(self, X):
        """``fit(X).sample(X)``: negatives for the fit data's own positives."""
        return self.fit(X).sample(X)

    def __sklearn_tags__(self):
        # X is a DataFrame of named user/item columns (ids of any type), not a
        # numeric feature matrix: scikit-learn then runs only its API checks.
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags

    def _read_pairs(self, X, need_time):
        from recsys.datasets import Interactions

        if isinstance(X, Interactions):
            if need_time:
                raise ValueError("time_col is set but Interactions are sampled: pass a DataFrame.")
            return X.user_ids[X.users], X.item_ids[X.items]
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"X must be a pandas DataFrame with columns {self.user_col!r} and {self.item_col!r}, "
                f"or Interactions; got {type(X).__name__}."
            )
        needed = [self.user_col, self.item_col] + ([self.time_col] if need_time else [])
        missing = [column for column in needed if column not in X.columns]
        if missing:
            raise ValueError(f"X lacks the column(s) {missing}; its columns are {list(X.columns)}.")
        if len(X) == 0:
            raise ValueError("X is empty: at least one positive pair is needed.")
        for column in (self.user_col, self.item_col):
            n_missing = int(X[column].isna().sum())
            if n_missing:
                raise ValueError(f"{n_missing} row(s) of X have no {column!r}; drop them first.")
        return X[self.user_col].to_numpy(), X[self.item_col].to_numpy()

    def _table(self, X, users, items, negatives):
        width = 1 + self.n_negatives
        n_positives = len(users)
        source = np.repeat(np.arange(n_positives), width)
        is_positive = np.tile(np.arange(width) == 0, n_positives)
        all_items = np.empty(n_positives * width, dtype=np.result_type(items.dtype, self.item_ids_.dtype))
        all_items[is_positive] = items
        all_items[~is_positive] = self.item_ids_[negatives]
        columns = {self.user_col: users[source], self.item_col: all_items}
        if self.time_col is not None:
            columns[self.time_col] = X[self.time_col].to_numpy()[source]
        columns[self.label_col] = is_positive.astype(np.int8)
        return pd.DataFrame(columns)


def _generator(random_state):
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def _uniform_allowed(draw_users, has_keys, n_has, n_items, rng):
    """Uniform item indices, each outside its user's sorted has-keys, drawn exactly.

    The r-th allowed item of a user whose items are h_0 < h_1 < ... is
    ``r + #{j : h_j - j <= r}``; ``h_j - j`` is non-decreasing within a user,
    so with a per-user offset one ``searchsorted`` over all users finds it.
    """
    has_users, has_items = np.divmod(has_keys, n_items)
    start = np.concatenate([[0], np.cumsum(n_has)])
    position_in_user = np.arange(len(has_keys)) - start[has_users]
    stride = np.int64(n_items) + 1
    adjusted = has_users * stride + (has_items - position_in_user)
    r = rng.integers(0, n_items - n_has[draw_users])
    below = np.searchsorted(adjusted, draw_users * stride + r, side="right") - start[draw_users]
    return r + below


def _popularity_allowed(draw_users, has_keys, item_counts, rng):
    """Item indices drawn in proportion to item_counts, each outside its user's has-keys."""
    n_items = len(item_counts)
    probabilities = item_counts / item_counts.sum()
    negatives = np.empty(len(draw_users), dtype=np.int64)
    pending = np.arange(len(draw_users))
    for _ in range(_REJECTION_ROUNDS):
        if not len(pending):
            return negatives
        candidates = rng.choice(n_items, size=len(pending), p=probabilities)
        keys = draw_users[pending] * n_items + candidates
        place = np.minimum(np.searchsorted(has_keys, keys), len(has_keys) - 1)
        accepted = has_keys[place] != keys
        negatives[pending[accepted]] = candidates[accepted]
        pending = pending[~accepted]
    # Users holding most of the popularity mass: draw their last few exactly,
    # one user at a time (only users still pending after every round).
    for user in np.unique(draw_users[pending]):
        mine = pending[draw_users[pending] == user]
        held = has_keys[(has_keys >= user * n_items) & (has_keys < (user + 1) * n_items)] - user * n_items
        weights = item_counts.astype(np.float64)
        weights[held] = 0.0
        negatives[mine] = rng.choice(n_items, size=len(mine), p=weights / weights.sum())
    return negatives
