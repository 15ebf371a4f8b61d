"""SVD++: biased matrix factorisation with implicit feedback (Koren 2008)."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRatingPredictor
from recsys.factorization._rating_common import (
    RenamedRegularizationMixin,
    check_sgd_not_diverging,
    group_by_row,
    predict_biased_dot,
)
from recsys.factorization._sgd_kernels import svdpp_epoch
from recsys.utils._renamed_params import DEPRECATED, renamed_param_constraint

_REGULARIZATION = [Interval(Real, 0, None, closed="left")]


class SVDpp(RenamedRegularizationMixin, BaseRatingPredictor):
    """SVD++ trained by SGD, batched per user.

    Predicts ``r_ui = mu + b_u + b_i + <q_i, p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j>``
    where N(u) is the set of items u rated in fit (its implicit feedback).
    The equations, initialisation and defaults are those of Surprise's
    ``SVDpp``, and ratings are visited grouped by user as Surprise does, in a
    user order drawn from ``random_state`` at each epoch.

    The SGD is the standard "batched per user" variant: the implicit sum is
    computed once per user per epoch, kept up to date in O(k) per rating, and
    the accumulated y_j gradient is applied once per user in closed form. As
    only that sum reads the y_j inside a user's block, this gives Surprise's
    per-rating result up to rounding, in O(|R| k) per epoch instead of
    O(sum_u |N(u)|^2 k).

    An unknown user gets ``mu + b_i``, an unknown item ``mu + b_u``, a pair
    of unknown ids ``mu``.

    SGD steps grow with the ratings: with the default ``lr``, ratings on a
    scale of hundreds diverge. A fit whose training RMSE turns NaN or grows
    tenfold over the first epoch's stops at once with
    :class:`~recsys.base.DegenerateFitError`, saying to rescale the ratings
    or lower ``lr``.

    Parameters
    ----------
    n_factors : int, default=20
    n_epochs : int, default=20
    lr : float, default=0.007
        Learning rate of every parameter.
    regularization : float, default=0.02
        L2 regularisation of every parameter (Surprise's ``reg``).
    init_std : float, default=0.1
        Standard deviation of the normal initialisation of p, q and y.
    random_state : int, RandomState instance or None, default=None
    reg : "deprecated"
        Old name of ``regularization``: accepted until the next release,
        with a FutureWarning.

    Attributes
    ----------
    user_bias_, item_bias_ : ndarray of shape (n_users_,), (n_items_,)
    user_factors_ : ndarray of shape (n_users_, n_factors)
        The explicit user factors p_u.
    item_factors_, implicit_factors_ : ndarray of shape (n_items_, n_factors)
        q_i and y_j.
    user_vectors_ : ndarray of shape (n_users_, n_factors)
        ``p_u + |N(u)|^-1/2 sum_j y_j``, what predictions multiply q_i by.
    train_rmse_ : list of float

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.factorization import SVDpp
    >>> data = make_ratings(100, 50, n_ratings=1500, random_state=0).to_pandas()
    >>> model = SVDpp(n_factors=5, random_state=0).fit(data[["user", "item"]], data["rating"])
    >>> model.predict(data[["user", "item"]][:3]).shape
    (3,)
    """

    _fitted_shapes: ClassVar[dict] = {"implicit_factors_": ("n_items_", "n_components"),
                                      "user_vectors_": ("n_users_", "n_components")}
    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "regularization": _REGULARIZATION,
        "init_std": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "reg": renamed_param_constraint(_REGULARIZATION),
    }

    def __init__(self, n_factors=20, n_epochs=20, lr=0.007, regularization=0.02, init_std=0.1,
                 random_state=None, *, reg=DEPRECATED):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.lr = lr
        self.regularization = regularization
        self.init_std = init_std
        self.random_state = random_state
        self.reg = reg

    def _fit(self, users, items, ratings):
        rng = check_random_state(self.random_state)
        shape_users, shape_items = (self.n_users_, self.n_factors), (self.n_items_, self.n_factors)
        self.user_factors_ = rng.normal(0.0, self.init_std, shape_users)
        self.item_factors_ = rng.normal(0.0, self.init_std, shape_items)
        self.implicit_factors_ = rng.normal(0.0, self.init_std, shape_items)
        self.user_bias_ = np.zeros(self.n_users_)
        self.item_bias_ = np.zeros(self.n_items_)
        indptr, by_user = group_by_row(users, self.n_users_)
        rated_items, rated_values = items[by_user], ratings[by_user]
        self.train_rmse_ = []
        regularization = self._param("regularization")
        for _ in range(self.n_epochs):
            squared_error = svdpp_epoch(
                indptr, rated_items, rated_values, rng.permutation(self.n_users_), self.global_mean_,
                self.user_bias_, self.item_bias_, self.user_factors_, self.item_factors_,
                self.implicit_factors_, self.lr, regularization,
            )
            self.train_rmse_.append(float(np.sqrt(squared_error / len(ratings))))
            check_sgd_not_diverging(self, self.train_rmse_)
        implicit_sums = np.add.reduceat(self.implicit_factors_[rated_items], indptr[:-1], axis=0)
        counts = np.diff(indptr)[:, None]
        # Every user rated at least one item in fit, so reduceat never sees an empty row.
        self.user_vectors_ = self.user_factors_ + implicit_sums / np.sqrt(counts)

    def _predict(self, users, items):
        return predict_biased_dot(users, items, self.global_mean_, self.user_bias_, self.item_bias_,
                                  self.user_vectors_, self.item_factors_)
