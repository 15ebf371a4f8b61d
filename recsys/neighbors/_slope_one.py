"""The Slope One rating predictor."""

from numbers import Integral
from typing import ClassVar

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRatingPredictor


@numba.njit(parallel=True, cache=True)
def _mean_deviation(user_indptr, user_items, deviation, support, min_support, users, items):
    """Mean of ``deviation[i, j]`` over the items j the user rated with min_support common raters."""
    result = np.zeros(users.shape[0])
    for pair in numba.prange(users.shape[0]):
        item = items[pair]
        total, count = 0.0, 0
        for position in range(user_indptr[users[pair]], user_indptr[users[pair] + 1]):
            other = user_items[position]
            if support[item, other] >= min_support:
                total += deviation[item, other]
                count += 1
        if count:
            result[pair] = total / count
    return result


class SlopeOne(BaseRatingPredictor):
    """Slope One (Lemire and Maclachlan, 2005) with Surprise's semantics.

    ``r(u, i) = mu_u + mean_j dev(i, j)`` over the items j rated by u that
    share at least one rater with i, where ``dev(i, j)`` is the mean of
    ``r(v, i) - r(v, j)`` over the users v who rated both. An unknown user or
    item gets the global mean. Unlike Surprise, which truncates ratings to
    integers here, fractional ratings (half stars) are used as they are.

    Parameters
    ----------
    min_support : int, default=1
        Least number of common raters for an item j to count in a prediction
        for i. The default 1 is Slope One as published (and as Surprise);
        larger values ignore deviations estimated from too few users.

    Attributes
    ----------
    deviation_ : ndarray of shape (n_items_, n_items_)
        ``dev(i, j)``; 0 where no user rated both.
    support_ : ndarray of shape (n_items_, n_items_), int32
        Number of users who rated both items.
    user_means_ : ndarray of shape (n_users_,)

    Examples
    --------
    >>> from recsys.neighbors import SlopeOne
    >>> X = [["ann", "tea"], ["ann", "jam"], ["bob", "tea"]]
    >>> model = SlopeOne().fit(X, [4, 2, 5])
    >>> float(model.predict([["bob", "jam"]])[0])
    3.0
    """

    # Checked by load: user_items_ lists each user's rated items, delimited by user_indptr_.
    _fitted_shapes: ClassVar[dict] = {
        "deviation_": ("n_items_", "n_items_"), "support_": ("n_items_", "n_items_"),
        "user_means_": ("n_users_",), "user_indptr_": ("n_users_ + 1",),
        "user_items_": ("n_ratings",),
    }
    _fitted_indices: ClassVar[dict] = {"user_items_": "n_items_"}
    _fitted_indptrs: ClassVar[dict] = {"user_indptr_": "user_items_"}
    _parameter_constraints: ClassVar[dict] = {"min_support": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, min_support=1):
        self.min_support = min_support

    def _fit(self, users, items, ratings):
        shape = (self.n_users_, self.n_items_)
        rated = sp.csr_matrix((ratings, (users, items)), shape=shape)
        pattern = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=shape)
        # co_rated_sum[i, j]: sum of r(v, i) over the users v who rated both i and j.
        co_rated_sum = (rated.T @ pattern).toarray()
        support = (pattern.T @ pattern).toarray()
        with np.errstate(divide="ignore", invalid="ignore"):
            deviation = (co_rated_sum - co_rated_sum.T) / support
        deviation[support == 0] = 0.0
        self.deviation_ = deviation
        self.support_ = support.astype(np.int32)
        self.user_means_ = np.bincount(users, ratings, minlength=self.n_users_) / np.bincount(users)
        self.user_indptr_ = pattern.indptr.astype(np.int64)
        self.user_items_ = pattern.indices.astype(np.int64)

    def _predict(self, users, items):
        known = (users >= 0) & (items >= 0)
        predictions = np.full(len(users), self.global_mean_)
        known_users = users[known].astype(np.int64)
        predictions[known] = self.user_means_[known_users] + _mean_deviation(
            self.user_indptr_, self.user_items_, self.deviation_, self.support_, self.min_support,
            known_users, items[known].astype(np.int64))
        return predictions
