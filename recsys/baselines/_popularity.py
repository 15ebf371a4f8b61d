"""The most-popular-items recommender."""

from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import StrOptions

from recsys.base import BaseRecommender


class PopularityRecommender(BaseRecommender):
    """Recommend the items with the most interactions, the same for every user.

    Parameters
    ----------
    count : {"users", "weights"}, default="users"
        Popularity of an item: the number of distinct users who interacted
        with it, or the sum of its interaction weights.

    Attributes
    ----------
    item_popularity_ : ndarray of shape (n_items,)
        Popularity of each item in the training matrix.
    n_items_ : int
        Number of items (columns) seen in ``fit``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.baselines import PopularityRecommender
    >>> X = sp.csr_matrix([[1, 1, 0], [0, 1, 0], [0, 1, 1]])
    >>> model = PopularityRecommender().fit(X)
    >>> ids, scores = model.recommend(sp.csr_matrix([[0, 1, 0]]), n=2)
    >>> ids
    array([[0, 2]])
    """

    _fitted_shapes: ClassVar[dict] = {"item_popularity_": ("n_items_",)}
    _parameter_constraints: ClassVar[dict] = {"count": [StrOptions({"users", "weights"})]}

    def __init__(self, count="users"):
        self.count = count

    def _fit(self, X):
        values = X.astype(bool) if self.count == "users" else X
        self.item_popularity_ = np.asarray(values.sum(axis=0), dtype=np.float64).ravel()

    def _score(self, X):
        return np.broadcast_to(self.item_popularity_, (X.shape[0], self.n_items_)).copy()
