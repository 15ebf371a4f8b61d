"""Evaluation protocols: how a data set is cut into the folds a model is scored on.

Each protocol turns an :class:`~recsys.datasets.Interactions` object into a
list of folds. A top-N fold (:class:`TopNFold`) holds the matrix to fit on,
the fold-in rows to recommend from and the held-out relevance of those rows;
a rating fold (:class:`RatingFold`) holds train and test (user, item) pairs
with their ratings. The harness only fits, recommends or predicts, and scores:
every split is made here, with scikit-learn's splitters and recsys'
``split_rows`` and ``model_selection`` functions, never re-implemented.

scikit-learn, pandas and recsys.utils (numba) are imported when folds are
made, not with this module: the command line imports it to list the protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

#: Share of each test user's interactions given to the model in the strong protocol.
FOLD_IN_FRACTION = 0.8


@dataclass(frozen=True)
class TopNFold:
    """One fold of a top-N protocol.

    Attributes
    ----------
    index : int
        Position of the fold in the protocol.
    train : scipy.sparse.csr_matrix of shape (n_train_users, n_items)
        What the model is fitted on.
    query : scipy.sparse.csr_matrix of shape (n_evaluated, n_items)
        The interactions the model recommends from (fold-in rows).
    relevant : scipy.sparse.csr_matrix of shape (n_evaluated, n_items)
        The held-out interactions the recommendations are scored against.
    users : ndarray of shape (n_evaluated,)
        User index (in the data set) of each evaluated row.
    train_events : Interactions or None
        The training events with their timestamps, for models that read
        sequences (``input="sequence"`` in the model table): fitted on
        ``train_events`` and served the histories of ``users`` in it. None
        for protocols whose split has no time order.
    candidates : scipy.sparse.csr_matrix of shape (n_evaluated, n_items) or None
        Sampled-metrics protocols: the items each row is ranked among (its
        held-out items plus sampled negatives); None ranks all items.
    item_texts : list of str or None
        One text per item (:meth:`Interactions.item_texts`), set by the
        runner for models that read them (``input="item_texts"``); None
        otherwise.
    """

    index: int
    train: sp.csr_matrix
    query: sp.csr_matrix
    relevant: sp.csr_matrix
    users: np.ndarray
    train_events: object = None
    candidates: sp.csr_matrix = None
    item_texts: list = None


@dataclass(frozen=True)
class RatingFold:
    """One fold of a rating protocol: DataFrames of (user, item) pairs and their ratings."""

    index: int
    train_pairs: pd.DataFrame
    train_ratings: np.ndarray
    test_pairs: pd.DataFrame
    test_ratings: np.ndarray


def _topn_fold(index, train, query, relevant, users, train_events=None):
    """Keep the rows that have something held out: the others cannot be scored."""
    evaluated = np.diff(relevant.indptr) > 0
    if not evaluated.any():
        raise ValueError(
            f"fold {index} has no user with a held-out interaction; use a data set whose users "
            "have at least two interactions (e.g. a k-core filter: min_user_interactions = 5)."
        )
    return TopNFold(index, train, query[evaluated], relevant[evaluated], users[evaluated], train_events)


def strong_generalization(data, n_folds=5, random_state=0, fold_in=FOLD_IN_FRACTION):
    """Folds over users: test users are unseen in fit and folded in at recommend time.

    Users are split by ``KFold(n_folds, shuffle=True, random_state=random_state)``
    over the rows of the binary users x items matrix. The model is fitted on the
    train users' rows; each test user's row is split by
    :func:`recsys.utils.split_rows` (``fold_in`` share kept, seed
    ``random_state + fold index``) into the fold-in part the model recommends
    from and the held-out part it is scored against.

    Parameters
    ----------
    data : Interactions
    n_folds : int, default=5
    random_state : int, default=0
    fold_in : float, default=0.8

    Returns
    -------
    list of TopNFold

    Examples
    --------
    >>> from recsys.bench import strong_generalization
    >>> from recsys.datasets import make_interactions
    >>> folds = strong_generalization(make_interactions(100, 40, density=0.2, random_state=0), 2)
    >>> len(folds), folds[0].query.shape == folds[0].relevant.shape
    (2, True)
    """
    from sklearn.model_selection import KFold

    from recsys.utils import split_rows
    from recsys.utils._validation import check_positive_int

    n_folds = check_positive_int(n_folds, "folds", minimum=2)
    X = data.to_csr(values="binary")
    if X.shape[0] < n_folds:
        raise ValueError(f"folds={n_folds} exceeds the {X.shape[0]} users of the data set.")
    splitter = KFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    folds = []
    for index, (train_users, test_users) in enumerate(splitter.split(np.arange(X.shape[0]))):
        query, relevant = split_rows(X[test_users], fold_in, random_state=random_state + index)
        folds.append(_topn_fold(index, X[train_users], query, relevant, test_users))
    return folds


def _model_selection(name):
    from recsys import model_selection

    function = getattr(model_selection, name, None)
    if function is None:
        raise ImportError(
            f"recsys.model_selection.{name} is not available in this installation; the protocol "
            "needs it. Update recsys, or use --protocol strong."
        )
    return function


def _weak_fold(index, train, test, keep_events=False):
    """Recommend from each test user's training row and score against its test items.

    ``keep_events`` keeps the training ``Interactions`` in the fold for the
    models that read time-ordered sequences.
    """
    train_matrix, test_matrix = train.to_csr(values="binary"), test.to_csr(values="binary")
    users = np.arange(train_matrix.shape[0])
    return _topn_fold(index, train_matrix, train_matrix, test_matrix, users, train if keep_events else None)


def holdout(data, n_folds=1, random_state=0, test_size=0.2):
    """Random holdout of interactions, repeated ``n_folds`` times with seeds ``random_state + i``.

    Each repetition splits the interactions with
    :func:`recsys.model_selection.train_test_split`; the model is fitted on
    the train matrix and recommends, for every user with test items, from
    that user's train row.

    Returns
    -------
    list of TopNFold
    """
    from recsys.utils._validation import check_positive_int

    n_folds = check_positive_int(n_folds, "folds")
    train_test_split = _model_selection("train_test_split")
    return [_weak_fold(index, *train_test_split(data, test_size=test_size, by="interaction",
                                                       random_state=random_state + index))
            for index in range(n_folds)]


def leave_last_out(data, n_folds=1, random_state=0):
    """Each user's last event by time is the target; everything before it is training data.

    The replicability protocol of SASRec, BERT4Rec and gSASRec (Petrov &
    Macdonald 2022, 2023): :func:`recsys.model_selection.leave_last_out`
    holds out each user's latest event (of events with equal times, the
    later given, as :meth:`~recsys.datasets.Interactions.time_order` and the
    sequential models order them); users with a single event keep it in
    training and are not evaluated. Every model is fitted on all users'
    earlier events (the users x items matrix of them, or, for models that
    read sequences, the time-stamped ``Interactions`` in
    :attr:`TopNFold.train_events`) and ranks all items for each evaluated
    user from that user's history, the history's items excluded. The split
    is deterministic, so there is a single fold whatever ``n_folds``.

    Returns
    -------
    list of TopNFold

    Examples
    --------
    >>> from recsys.bench import leave_last_out
    >>> from recsys.datasets import make_interactions
    >>> (fold,) = leave_last_out(make_interactions(50, 30, n_interactions=400, random_state=0))
    >>> bool((fold.relevant.getnnz(axis=1) == 1).all()), fold.train_events is not None
    (True, True)
    """
    split = _model_selection("leave_last_out")
    train, test = split(_check_timestamps(data, "leave-last-out"))
    return [_weak_fold(0, train, test, keep_events=True)]


#: negatives ranked with each target by the leave-last-out-sampled protocol
SAMPLED_NEGATIVES = 100


def leave_last_out_sampled(data, n_folds=1, random_state=0, n_negatives=SAMPLED_NEGATIVES):
    """:func:`leave_last_out`, each target ranked among 100 sampled negatives only.

    For every evaluated user, ``n_negatives`` items are drawn uniformly
    without replacement (seed ``random_state``) among the items that are
    neither in the user's history nor the target; the model's full ranking
    is restricted to those items and the target. Sampled metrics are not
    full-ranking metrics and can order models differently (Krichene &
    Rendle 2020): the harness labels them ``<metric>-sampled<n>``. Kept for
    comparison with papers that report them.

    Returns
    -------
    list of TopNFold
    """
    (fold,) = leave_last_out(data)
    seen = (fold.query + fold.relevant).tocsr()
    n_rows, n_items = seen.shape
    allowed_counts = n_items - seen.getnnz(axis=1)
    if allowed_counts.min() < n_negatives:
        raise ValueError(
            f"a user has only {allowed_counts.min()} items outside their history and target, fewer than the "
            f"{n_negatives} sampled negatives; use the full-ranking leave-last-out protocol for this data set."
        )
    rng = np.random.default_rng(random_state)
    negatives = np.empty((n_rows, n_negatives), dtype=np.int64)
    block = max(1, 2**22 // n_items)  # random keys for a block of rows at a time: about 32 MB
    for start in range(0, n_rows, block):
        rows = seen[start:start + block]
        keys = rng.random(rows.shape)
        keys[rows.nonzero()] = np.inf  # never a seen item or the target
        negatives[start:start + rows.shape[0]] = np.argpartition(keys, n_negatives - 1, axis=1)[:, :n_negatives]
    import scipy.sparse as sp

    sampled = sp.csr_matrix((np.ones(negatives.size, dtype=fold.relevant.dtype), negatives.ravel(),
                             np.arange(0, negatives.size + 1, n_negatives)), shape=seen.shape)
    candidates = (sampled + fold.relevant).tocsr()
    candidates.data[:] = 1
    return [TopNFold(fold.index, fold.train, fold.query, fold.relevant, fold.users, fold.train_events, candidates)]


def _check_timestamps(data, protocol):
    if getattr(data, "timestamps", None) is None:
        raise ValueError(
            f"the {protocol} protocol orders each user's events by time, and this data set has no timestamps. "
            "Use a data set with timestamps (e.g. ml-100k, ml-1m-partial) or a protocol without time order "
            "(--protocol strong or holdout)."
        )
    return data


def ratings_kfold(data, n_folds=5, random_state=0):
    """Folds over rating events: ``KFold(n_folds, shuffle=True)`` over (user, item, rating) rows.

    Returns
    -------
    list of RatingFold
    """
    import pandas as pd
    from sklearn.model_selection import KFold

    from recsys.utils._validation import check_positive_int

    n_folds = check_positive_int(n_folds, "folds", minimum=2)
    if data.ratings is None:
        raise ValueError(
            "the ratings-kfold protocol needs explicit ratings; this data set has none. "
            "Use a rating data set (e.g. ml-100k) or a top-N protocol (--protocol strong)."
        )
    pairs = pd.DataFrame({"user": data.user_ids[data.users], "item": data.item_ids[data.items]})
    ratings = np.asarray(data.ratings, dtype=np.float64)
    splitter = KFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    return [
        RatingFold(index, pairs.iloc[train].reset_index(drop=True), ratings[train],
                   pairs.iloc[test].reset_index(drop=True), ratings[test])
        for index, (train, test) in enumerate(splitter.split(pairs))
    ]


#: protocols whose folds are a KFold, which needs two folds at least
MIN_FOLDS = {"strong": 2, "ratings-kfold": 2}

#: protocol name -> (task of the models it runs, function building its folds)
PROTOCOLS = {
    "strong": ("topn", strong_generalization),
    "holdout": ("topn", holdout),
    "leave-last-out": ("topn", leave_last_out),
    "ratings-kfold": ("rating", ratings_kfold),
    "leave-last-out-sampled": ("topn", leave_last_out_sampled),
}

#: protocols whose folds carry time-ordered training events for the models that read sequences
SEQUENCE_PROTOCOLS = ("leave-last-out", "leave-last-out-sampled")


def make_folds(protocol, data, n_folds, random_state):
    """Return the folds of a named protocol (a key of :data:`PROTOCOLS`)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}.")
    return PROTOCOLS[protocol][1](data, n_folds=n_folds, random_state=random_state)
