"""Alternating least squares for explicit ratings (ALS-WR, Zhou et al. 2008)."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRatingPredictor
from recsys.factorization._rating_common import (
    RenamedRegularizationMixin,
    group_by_row,
    predict_biased_dot,
)
from recsys.factorization._sgd_kernels import als_half_step
from recsys.utils._renamed_params import DEPRECATED, renamed_param_constraint

_REGULARIZATION = [Interval(Real, 0, None, closed="neither")]


class ALSRating(RenamedRegularizationMixin, BaseRatingPredictor):
    """Biased matrix factorisation of explicit ratings by alternating least squares.

    Predicts ``r_ui = mu + b_u + b_i + <p_u, q_i>``. Each epoch solves every
    user's (b_u, p_u) exactly given the items, then every item's given the
    users, minimising the squared error on the observed ratings plus the
    weighted-lambda penalty ``regularization * (n_u (b_u^2 + |p_u|^2) +
    n_i (b_i^2 + |q_i|^2))`` of Zhou et al. (2008), where n_u and n_i count
    ratings; the weighting makes ``regularization`` hardly depend on the data size. The per-user and
    per-item (k+1) x (k+1) solves run in a numba loop.

    An unknown user gets ``mu + b_i``, an unknown item ``mu + b_u``.

    Parameters
    ----------
    n_factors : int, default=50
    regularization : float, default=0.1
        lambda of the weighted-lambda regularisation.
    n_epochs : int, default=15
        Number of (users, items) sweeps.
    random_state : int, RandomState instance or None, default=None
        Seeds the N(0, 0.1) initialisation of the item factors.
    reg : "deprecated"
        Old name of ``regularization``: accepted until the next release,
        with a FutureWarning.

    Attributes
    ----------
    user_bias_, item_bias_ : ndarray of shape (n_users_,), (n_items_,)
    user_factors_, item_factors_ : ndarray of shape (n_users_, n_factors), (n_items_, n_factors)

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.factorization import ALSRating
    >>> data = make_ratings(100, 50, n_ratings=1500, random_state=0).to_pandas()
    >>> model = ALSRating(n_factors=5, random_state=0).fit(data[["user", "item"]], data["rating"])
    >>> model.predict(data[["user", "item"]][:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "regularization": _REGULARIZATION,
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "reg": renamed_param_constraint(_REGULARIZATION),
    }

    def __init__(self, n_factors=50, regularization=0.1, n_epochs=15, random_state=None, *,
                 reg=DEPRECATED):
        self.n_factors = n_factors
        self.regularization = regularization
        self.n_epochs = n_epochs
        self.random_state = random_state
        self.reg = reg

    def _fit(self, users, items, ratings):
        rng = check_random_state(self.random_state)
        self.item_factors_ = rng.normal(0.0, 0.1, (self.n_items_, self.n_factors))
        self.user_factors_ = np.zeros((self.n_users_, self.n_factors))
        self.user_bias_ = np.zeros(self.n_users_)
        self.item_bias_ = np.zeros(self.n_items_)
        residuals = ratings - self.global_mean_
        user_indptr, by_user = group_by_row(users, self.n_users_)
        item_indptr, by_item = group_by_row(items, self.n_items_)
        regularization = self._param("regularization")
        for _ in range(self.n_epochs):
            als_half_step(user_indptr, items[by_user], residuals[by_user], self.item_factors_,
                          self.item_bias_, self.user_factors_, self.user_bias_, regularization)
            als_half_step(item_indptr, users[by_item], residuals[by_item], self.user_factors_,
                          self.user_bias_, self.item_factors_, self.item_bias_, regularization)

    def _predict(self, users, items):
        return predict_biased_dot(users, items, self.global_mean_, self.user_bias_, self.item_bias_,
                                  self.user_factors_, self.item_factors_)
