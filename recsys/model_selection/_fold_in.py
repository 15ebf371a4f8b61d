"""Fold-in / held-out split of the rows of held-out users."""

import numpy as np
import scipy.sparse as sp

from recsys.datasets import Interactions
from recsys.utils import split_rows


def fold_in_split(X, fraction=0.8, random_state=None):
    """Split each user's interactions into a fold-in part and a held-out part.

    The protocol of strong generalisation (Liang et al. 2018, VAE-CF): the
    model is given the fold-in part of new users' rows and is scored on how
    well it ranks their held-out part. Each user with at least two events
    keeps ``round(fraction * n)`` of them (at least one, at most n - 1),
    chosen at random, in the fold-in part; users with a single event keep it
    there. This is :func:`recsys.utils.split_rows`, the split that
    ``make_ranking_scorer`` uses, so both evaluate the same way.

    Parameters
    ----------
    X : Interactions or sparse matrix of shape (n_users, n_items)
    fraction : float, default=0.8
        Share of each user's events in the fold-in part, strictly in (0, 1).
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    fold_in, held_out : Interactions or scipy.sparse.csr_matrix
        Of the type of X and the same shape (vocabularies), disjoint, together
        all of X.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.model_selection import fold_in_split
    >>> X = sp.csr_matrix([[1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    >>> fold_in, held_out = fold_in_split(X, fraction=0.6, random_state=0)
    >>> fold_in.getnnz(axis=1).tolist(), held_out.getnnz(axis=1).tolist()
    ([3, 1], [2, 0])
    """
    if not isinstance(X, Interactions):
        return split_rows(X, fraction, random_state)
    fold_in, held_out = split_rows(X.to_csr(values="binary"), fraction, random_state)
    # Event number + 1 at each (user, item), so that every column of the
    # events (ratings, timestamps, ...) follows the split.
    event_of_pair = sp.csr_matrix(
        (np.arange(1, len(X) + 1, dtype=np.int64), (X.users, X.items)), shape=(X.n_users, X.n_items)
    )
    return tuple(X.take(_events_in(event_of_pair, part)) for part in (fold_in, held_out))


def _events_in(event_of_pair, part):
    events = sp.csr_matrix(event_of_pair.multiply(part.astype(bool))).data
    return np.sort(events.astype(np.int64) - 1)
