"""Interaction-level train/test splitters that keep the vocabularies."""

import numbers

import numpy as np

from recsys.datasets import Interactions
from recsys.utils import check_positive_int

_SPLIT_BY = ("interaction", "user", "time")


def _check_interactions(data, function):
    if not isinstance(data, Interactions):
        raise TypeError(
            f"{function} takes a recsys.datasets.Interactions; got {type(data).__name__}. "
            "Build one with Interactions.from_pandas(df, ...) or Interactions.from_csr(X)."
        )
    if len(data) == 0:
        raise ValueError(f"{function} got interactions without any event.")
    return data


def _check_test_size(test_size):
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a share strictly between 0 and 1; got {test_size!r}.")
    return float(test_size)


def _require_timestamps(data, function):
    if data.timestamps is None:
        raise ValueError(
            f"{function} orders events by time but these interactions have no timestamps; "
            "build them with Interactions.from_pandas(df, time_col=...), or split with "
            "train_test_split(data, by='interaction')."
        )
    return data.timestamps


def _as_split(data, test_mask):
    return data.take(~test_mask), data.take(test_mask)


def train_test_split(data, test_size=0.2, by="interaction", random_state=None):
    """Split interactions into train and test parts.

    Parameters
    ----------
    data : Interactions
    test_size : float, default=0.2
        Share of the events (``by="interaction"`` or ``"time"``) or of the
        users (``by="user"``) that go to the test part, strictly in (0, 1).
    by : {"interaction", "user", "time"}, default="interaction"
        ``"interaction"``: a random share of all events (users are in both
        parts: weak generalisation). ``"user"``: all events of a random share
        of users (held-out users: strong generalisation; fold their rows in
        with :func:`fold_in_split`). ``"time"``: the latest events overall
        (see :func:`temporal_split`).
    random_state : int, numpy Generator or None, default=None
        Seed of the random choice; unused with ``by="time"``.

    Returns
    -------
    train, test : Interactions
        Disjoint, together all events of ``data``, with its vocabularies so
        that their matrices have the same shape.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.model_selection import train_test_split
    >>> data = make_interactions(50, 20, n_interactions=300, random_state=0)
    >>> train, test = train_test_split(data, test_size=0.2, random_state=0)
    >>> len(train), len(test), train.to_csr().shape == test.to_csr().shape
    (240, 60, True)
    """
    data = _check_interactions(data, "train_test_split")
    test_size = _check_test_size(test_size)
    if by not in _SPLIT_BY:
        raise ValueError(f"by must be one of {_SPLIT_BY}; got {by!r}.")
    if by == "time":
        return temporal_split(data, test_size=test_size)
    rng = np.random.default_rng(random_state)
    if by == "user":
        present = np.unique(data.users)
        n_test = _n_test(len(present), test_size, "users")
        test_users = rng.choice(present, n_test, replace=False)
        return _as_split(data, np.isin(data.users, test_users))
    n_test = _n_test(len(data), test_size, "events")
    test_mask = np.zeros(len(data), dtype=bool)
    test_mask[rng.choice(len(data), n_test, replace=False)] = True
    return _as_split(data, test_mask)


def _n_test(n, test_size, what):
    n_test = round(test_size * n)
    if not 0 < n_test < n:
        raise ValueError(
            f"test_size={test_size} of {n} {what} leaves an empty train or test part; "
            "use more data or a test_size nearer 0.5."
        )
    return n_test


def leave_last_out(data, n=1):
    """Hold out each user's n latest events.

    Users with n events or fewer keep them all in train, so that every test
    user also has training history. Events of equal time count in the order
    they were given (:meth:`~recsys.datasets.Interactions.time_order`), so
    the held-out event is the one a sequential model reads as the last.

    Parameters
    ----------
    data : Interactions
        Must have timestamps.
    n : int, default=1

    Returns
    -------
    train, test : Interactions
        Disjoint, together all events of ``data``, same vocabularies.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.model_selection import leave_last_out
    >>> data = make_interactions(30, 20, n_interactions=200, random_state=0)
    >>> train, test = leave_last_out(data, n=1)
    >>> len(test) == len(set(test.users))
    True
    """
    data = _check_interactions(data, "leave_last_out")
    check_positive_int(n, "n")
    _require_timestamps(data, "leave_last_out")
    order = data.time_order()[::-1]  # latest first within each user
    users = data.users[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    counts = np.diff(np.r_[starts, len(users)])
    rank_from_last = np.arange(len(users)) - np.repeat(starts, counts)
    held = (rank_from_last < n) & (np.repeat(counts, counts) > n)
    test_mask = np.zeros(len(data), dtype=bool)
    test_mask[order[held]] = True
    return _as_split(data, test_mask)


def temporal_split(data, cutoff=None, test_size=None):
    """Split at a point in time: events at or after it are the test part.

    Parameters
    ----------
    data : Interactions
        Must have timestamps.
    cutoff : scalar of the timestamps' type, default=None
        Events with ``timestamp >= cutoff`` go to test.
    test_size : float, default=None
        Alternatively, the share of the latest events that go to test (of
        events with equal times, the later given are the later; see
        :meth:`~recsys.datasets.Interactions.time_order`). Give exactly one
        of the two.

    Returns
    -------
    train, test : Interactions
        Disjoint, together all events of ``data``, same vocabularies.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.model_selection import temporal_split
    >>> data = make_interactions(30, 20, n_interactions=200, random_state=0)
    >>> train, test = temporal_split(data, test_size=0.25)
    >>> len(test), bool(train.timestamps.max() < test.timestamps.min())
    (50, True)
    """
    data = _check_interactions(data, "temporal_split")
    timestamps = _require_timestamps(data, "temporal_split")
    if (cutoff is None) == (test_size is None):
        raise ValueError("give exactly one of cutoff (a time) or test_size (a share of the events).")
    if cutoff is not None:
        test_mask = timestamps >= cutoff
        if test_mask.all() or not test_mask.any():
            raise ValueError(
                f"cutoff={cutoff!r} leaves an empty train or test part; timestamps span "
                f"{timestamps.min()!r} to {timestamps.max()!r}."
            )
        return _as_split(data, test_mask)
    n_test = _n_test(len(data), _check_test_size(test_size), "events")
    latest = data.time_order(by_user=False)[len(data) - n_test:]
    test_mask = np.zeros(len(data), dtype=bool)
    test_mask[latest] = True
    return _as_split(data, test_mask)
