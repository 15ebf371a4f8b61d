"""k-nearest-neighbour rating predictors with Surprise's semantics.

``KNNBasic``, ``KNNWithMeans`` and ``KNNBaseline`` predict a rating as an
offset plus the similarity-weighted mean of the neighbours' residuals, the
neighbours being the k most similar rows (users when user-based) among those
who rated the queried column, keeping only positive similarities. They differ
only in the offset: none, the row mean, or the ALS baseline.
"""

from numbers import Integral, Real
from typing import ClassVar

import numba
import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from recsys.base import BaseRatingPredictor
from recsys.neighbors._rating_similarity import SIMILARITIES, rating_similarity


@numba.njit(parallel=True, cache=True)
def _neighbour_average(indptr, neighbours, residuals, similarity, rows, cols, k):
    """Similarity-weighted mean residual of the k most similar raters of each column.

    Among the raters of ``cols[p]`` (stored in training order), the k with the
    largest similarity to ``rows[p]`` are taken, ties going to the earlier
    rater as in ``heapq.nlargest``, and only those with positive similarity
    are averaged. Returns the averages (0 where none) and their counts.
    """
    n_pairs = rows.shape[0]
    average = np.zeros(n_pairs)
    actual_k = np.zeros(n_pairs, dtype=np.int64)
    for pair in numba.prange(n_pairs):
        start, stop = indptr[cols[pair]], indptr[cols[pair] + 1]
        candidates = neighbours[start:stop]
        row_similarity = similarity[rows[pair]]
        similarities = np.empty(stop - start)
        for position in range(stop - start):
            similarities[position] = row_similarity[candidates[position]]
        if stop - start > k:
            chosen = np.argsort(-similarities, kind="mergesort")[:k]
        else:
            chosen = np.arange(stop - start)
        weighted, total, count = 0.0, 0.0, 0
        for position in chosen:
            weight = similarities[position]
            if weight > 0:
                weighted += weight * residuals[start + position]
                total += weight
                count += 1
        if count:
            average[pair] = weighted / total
        actual_k[pair] = count
    return average, actual_k


def als_baselines(users, items, ratings, n_users, n_items, global_mean, *, reg_user=15.0,
                  reg_item=10.0, n_epochs=10):
    """User and item biases by alternating least squares, as Surprise's ``baseline_als``.

    Each epoch sets every item bias, then every user bias, to its regularised
    mean residual ``sum(r - mu - other bias) / (reg + count)``.
    """
    user_counts = np.bincount(users, minlength=n_users)
    item_counts = np.bincount(items, minlength=n_items)
    user_bias, item_bias = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_epochs):
        item_bias = np.bincount(items, ratings - global_mean - user_bias[users], minlength=n_items)
        item_bias /= reg_item + item_counts
        user_bias = np.bincount(users, ratings - global_mean - item_bias[items], minlength=n_users)
        user_bias /= reg_user + user_counts
    return user_bias, item_bias


class _KNNRatingBase(BaseRatingPredictor):
    """Shared fit and neighbour search; subclasses define the offsets."""

    _parameter_constraints: ClassVar[dict] = {
        "k": [Interval(Integral, 1, None, closed="left")],
        "min_k": [Interval(Integral, 1, None, closed="left")],
        "sim": [StrOptions(set(SIMILARITIES))],
        "user_based": ["boolean"],
        "min_support": [Interval(Integral, 0, None, closed="left")],
        "shrinkage": [Interval(Real, 0, None, closed="left")],
    }

    # Checked by load. Rows are users (columns items) when user_based, else the
    # reverse; neighbours_ lists each column's raters, delimited by neighbour_indptr_.
    _fitted_shapes: ClassVar[dict] = {
        "similarity_": ("n_rows", "n_rows"), "neighbour_indptr_": ("n_columns + 1",),
        "neighbours_": ("n_neighbours",), "neighbour_residuals_": ("n_neighbours",),
    }
    _fitted_indices: ClassVar[dict] = {"neighbours_": "n_rows"}
    _fitted_indptrs: ClassVar[dict] = {"neighbour_indptr_": "neighbours_"}

    def _fitted_dimensions(self, state):
        return dict(zip(("n_rows", "n_columns"),
                        self._switch(state["n_users_"], state["n_items_"]), strict=True))

    # ALS settings of the baselines behind pearson_baseline (Surprise's defaults).
    _baseline_options: ClassVar[dict] = {"reg_user": 15.0, "reg_item": 10.0, "n_epochs": 10}

    def __init__(self, k=40, min_k=1, sim="msd", user_based=True, min_support=1, shrinkage=100.0):
        self.k = k
        self.min_k = min_k
        self.sim = sim
        self.user_based = user_based
        self.min_support = min_support
        self.shrinkage = shrinkage

    def _switch(self, users, items):
        return (users, items) if self.user_based else (items, users)

    def _needs_baselines(self):
        return self.sim == "pearson_baseline"

    def _fit(self, users, items, ratings):
        if self._needs_baselines():
            self.user_bias_, self.item_bias_ = als_baselines(
                users, items, ratings, self.n_users_, self.n_items_, self.global_mean_,
                **self._baseline_options)
        rows, cols = self._switch(users, items)
        n_rows, n_cols = self._switch(self.n_users_, self.n_items_)
        baselines = None
        if self.sim == "pearson_baseline":
            baselines = (self.global_mean_, *self._switch(self.user_bias_, self.item_bias_))
        self.similarity_ = rating_similarity(rows, cols, ratings, (n_rows, n_cols), self.sim,
                                             min_support=self.min_support,
                                             shrinkage=self.shrinkage, baselines=baselines)
        self._fit_offsets(users, items, ratings)
        # The raters of each column in training order: the order breaks ties
        # between equally similar neighbours, as Surprise's does.
        order = np.argsort(cols, kind="stable")
        self.neighbour_indptr_ = np.concatenate(
            [[0], np.cumsum(np.bincount(cols, minlength=n_cols))]).astype(np.int64)
        self.neighbours_ = rows[order].astype(np.int32)
        self.neighbour_residuals_ = (ratings - self._offsets(users, items))[order]

    def _neighbourhood(self, users, items):
        """Return (known, average residual, actual k) for the pairs."""
        known = (users >= 0) & (items >= 0)
        average = np.zeros(len(users))
        actual_k = np.zeros(len(users), dtype=np.int64)
        rows, cols = self._switch(users[known], items[known])
        average[known], actual_k[known] = _neighbour_average(
            self.neighbour_indptr_, self.neighbours_, self.neighbour_residuals_, self.similarity_,
            rows.astype(np.int64), cols.astype(np.int64), self.k)
        return known, average, actual_k

    def _fit_offsets(self, users, items, ratings):
        """Fit what ``_offsets`` needs."""

    def _offsets(self, users, items):
        """Offset of each (known) pair's rating that the neighbours' residuals correct."""
        return np.zeros(len(users))


class KNNBasic(_KNNRatingBase):
    """Similarity-weighted mean of the k nearest neighbours' ratings (Surprise's KNNBasic).

    User-based, ``r(u, i) = sum_v sim(u, v) r(v, i) / sum_v sim(u, v)`` over the
    (at most) k users most similar to u among those who rated i, keeping only
    positive similarities. With fewer than ``min_k`` such neighbours, or an
    unknown user or item, the prediction is the global mean.

    Parameters
    ----------
    k : int, default=40
        Maximum number of neighbours.
    min_k : int, default=1
        Minimum number of neighbours for a neighbourhood prediction.
    sim : {"msd", "cosine", "pearson", "pearson_baseline"}, default="msd"
        Similarity over co-rated items (users when item-based); see
        :func:`~recsys.neighbors._rating_similarity.rating_similarity`.
    user_based : bool, default=True
        Neighbours are users (True) or items (False).
    min_support : int, default=1
        Minimum number of co-rated items for a non-zero similarity.
    shrinkage : float, default=100.0
        Shrinkage of the ``pearson_baseline`` similarity.

    Attributes
    ----------
    similarity_ : ndarray of shape (n_users_, n_users_) or (n_items_, n_items_)
    neighbour_indptr_, neighbours_, neighbour_residuals_ : ndarray
        The raters of each item (user when item-based) and their residuals.
    user_bias_, item_bias_ : ndarray
        ALS baselines, only with ``sim="pearson_baseline"``.

    Notes
    -----
    Like Surprise, the similarity matrix is dense: ``8 n^2`` bytes for n users
    (items when item-based), about 290 MB for MovieLens 1M's 6,040 users.
    Ties between equally similar neighbours go to the earlier rating in the
    training data, as in Surprise, so predictions match Surprise's exactly.

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.neighbors import KNNBasic
    >>> data = make_ratings(60, 30, density=0.3, random_state=0).to_pandas()
    >>> model = KNNBasic(k=20).fit(data[["user", "item"]], data["rating"])
    >>> model.predict(data[["user", "item"]][:3]).shape
    (3,)
    """

    def _predict(self, users, items):
        known, average, actual_k = self._neighbourhood(users, items)
        return np.where(known & (actual_k >= self.min_k), average, self.global_mean_)


class KNNWithMeans(_KNNRatingBase):
    """Row mean plus the k nearest neighbours' mean-centred ratings (Surprise's KNNWithMeans).

    User-based, ``r(u, i) = mu_u + sum_v sim(u, v) (r(v, i) - mu_v) / sum_v sim(u, v)``
    over the neighbours of :class:`KNNBasic`. With fewer than ``min_k``
    neighbours the prediction is ``mu_u``; with an unknown user or item, the
    global mean.

    Parameters
    ----------
    k : int, default=40
    min_k : int, default=1
    sim : {"msd", "cosine", "pearson", "pearson_baseline"}, default="msd"
    user_based : bool, default=True
    min_support : int, default=1
    shrinkage : float, default=100.0
        See :class:`KNNBasic`.

    Attributes
    ----------
    means_ : ndarray
        Mean rating of each user (item when item-based).
    similarity_ : ndarray
        See :class:`KNNBasic`.

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.neighbors import KNNWithMeans
    >>> data = make_ratings(60, 30, density=0.3, random_state=0).to_pandas()
    >>> model = KNNWithMeans(sim="pearson").fit(data[["user", "item"]], data["rating"])
    >>> model.predict(data[["user", "item"]][:3]).shape
    (3,)
    """

    _fitted_shapes: ClassVar[dict] = {"means_": ("n_rows",)}

    def _fit_offsets(self, users, items, ratings):
        rows, _ = self._switch(users, items)
        n_rows = self.n_users_ if self.user_based else self.n_items_
        self.means_ = np.bincount(rows, ratings, minlength=n_rows) / np.bincount(rows, minlength=n_rows)

    def _offsets(self, users, items):
        return self.means_[self._switch(users, items)[0]]

    def _predict(self, users, items):
        known, average, actual_k = self._neighbourhood(users, items)
        correction = np.where(actual_k >= self.min_k, average, 0.0)
        rows = self._switch(users, items)[0]
        return np.where(known, self.means_[np.maximum(rows, 0)] + correction, self.global_mean_)


class KNNBaseline(_KNNRatingBase):
    """Baseline plus the k nearest neighbours' baseline residuals (Surprise's KNNBaseline).

    ``r(u, i) = b(u, i) + sum_v sim(u, v) (r(v, i) - b(v, i)) / sum_v sim(u, v)``
    with ``b(u, i) = mu + b_u + b_i`` fitted by alternating least squares, over
    the neighbours of :class:`KNNBasic`. With fewer than ``min_k`` neighbours
    the prediction is ``b(u, i)``; an unknown user or item contributes a zero
    bias. Pair it with ``sim="pearson_baseline"`` for the best accuracy.

    Parameters
    ----------
    k : int, default=40
    min_k : int, default=1
    sim : {"msd", "cosine", "pearson", "pearson_baseline"}, default="msd"
    user_based : bool, default=True
    min_support : int, default=1
    shrinkage : float, default=100.0
        See :class:`KNNBasic`.
    reg_user : float, default=15.0
        Regularisation of the user biases (Surprise's ``bsl_options["reg_u"]``).
    reg_item : float, default=10.0
        Regularisation of the item biases (``bsl_options["reg_i"]``).
    n_epochs : int, default=10
        ALS epochs of the baselines.

    Attributes
    ----------
    user_bias_, item_bias_ : ndarray
        The baselines.
    similarity_ : ndarray
        See :class:`KNNBasic`.

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.neighbors import KNNBaseline
    >>> data = make_ratings(60, 30, density=0.3, random_state=0).to_pandas()
    >>> model = KNNBaseline(sim="pearson_baseline").fit(data[["user", "item"]], data["rating"])
    >>> model.predict(data[["user", "item"]][:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_KNNRatingBase._parameter_constraints,
        "reg_user": [Interval(Real, 0, None, closed="left")],
        "reg_item": [Interval(Real, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, k=40, min_k=1, sim="msd", user_based=True, min_support=1, shrinkage=100.0,
                 reg_user=15.0, reg_item=10.0, n_epochs=10):
        super().__init__(k=k, min_k=min_k, sim=sim, user_based=user_based,
                         min_support=min_support, shrinkage=shrinkage)
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_epochs = n_epochs

    @property
    def _baseline_options(self):
        return {"reg_user": self.reg_user, "reg_item": self.reg_item, "n_epochs": self.n_epochs}

    def _needs_baselines(self):
        return True

    def _offsets(self, users, items):
        user_bias = np.where(users >= 0, self.user_bias_[np.maximum(users, 0)], 0.0)
        item_bias = np.where(items >= 0, self.item_bias_[np.maximum(items, 0)], 0.0)
        return self.global_mean_ + user_bias + item_bias

    def _predict(self, users, items):
        _, average, actual_k = self._neighbourhood(users, items)
        return self._offsets(users, items) + np.where(actual_k >= self.min_k, average, 0.0)
