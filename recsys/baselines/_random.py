"""The uniformly random recommender, the floor every model must beat."""

import threading

import numpy as np
from sklearn.utils import check_random_state

from recsys.base import BaseRecommender

# The generator of the recommend call in progress, one per thread: kept on
# the model, two threads recommending at once would draw from each other's.
_CALL = threading.local()


class RandomRecommender(BaseRecommender):
    """Recommend items in a random order.

    The order is drawn anew for each call of ``recommend``, from
    ``random_state``: an integer seed makes every call return the same
    recommendations for the same X.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    n_items_ : int
        Number of items (columns) seen in ``fit``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.baselines import RandomRecommender
    >>> X = sp.csr_matrix([[1, 0, 0, 1], [0, 1, 0, 0]])
    >>> ids, _ = RandomRecommender(random_state=0).fit(X).recommend(X, n=2)
    >>> ids.shape
    (2, 2)
    """

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, X):
        """Random needs nothing beyond the number of items, which fit stores."""

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        _CALL.rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31))
        try:
            return super().recommend(X, n=n, exclude_seen=exclude_seen, items=items)
        finally:
            del _CALL.rng

    recommend.__doc__ = BaseRecommender.recommend.__doc__

    def _score(self, X):
        return _CALL.rng.random((X.shape[0], self.n_items_))
