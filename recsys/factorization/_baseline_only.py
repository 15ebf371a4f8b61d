"""The baseline estimates of Koren (2010): global mean plus user and item biases."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from recsys.base import BaseRatingPredictor
from recsys.factorization._rating_common import predict_biased_dot
from recsys.factorization._sgd_kernels import biased_mf_sgd


class BaselineOnly(BaseRatingPredictor):
    """Predict ``mu + b_u + b_i`` with regularised user and item biases.

    The biases minimise ``sum (r_ui - mu - b_u - b_i)^2 + reg_user * sum b_u^2
    + reg_item * sum b_i^2`` (Koren 2010, section 2.1), as Surprise's
    ``BaselineOnly``:

    - ``method="als"`` (the default) alternates the closed-form solutions
      ``b_i = sum_u (r_ui - mu - b_u) / (reg_item + |U(i)|)`` and
      ``b_u = sum_i (r_ui - mu - b_i) / (reg_user + |I(u)|)``, ``n_epochs``
      times, vectorised. The defaults (``reg_user=15``, ``reg_item=10``,
      ``n_epochs=10``) are Surprise's ALS defaults.
    - ``method="sgd"`` takes SGD steps ``b <- b + lr * (e_ui - reg * b)`` over
      the ratings in a random order drawn from ``random_state``. Surprise's
      SGD defaults are ``reg_user=reg_item=0.02``, ``n_epochs=20``,
      ``lr=0.005``: set them explicitly, the regularisations of the ALS
      defaults are far too strong for SGD.

    An unknown user gets ``mu + b_i``, an unknown item ``mu + b_u``.

    Parameters
    ----------
    method : {"als", "sgd"}, default="als"
    reg_user : float, default=15
        Regularisation of the user biases.
    reg_item : float, default=10
        Regularisation of the item biases.
    n_epochs : int, default=10
    lr : float, default=0.005
        Learning rate, used by ``method="sgd"`` only.
    random_state : int, RandomState instance or None, default=None
        Seeds the visiting order of ``method="sgd"``; ALS is deterministic.

    Attributes
    ----------
    user_bias_ : ndarray of shape (n_users_,)
    item_bias_ : ndarray of shape (n_items_,)

    Examples
    --------
    >>> from recsys.factorization import BaselineOnly
    >>> X = [["ann", "tea"], ["ann", "cake"], ["bob", "tea"]]
    >>> model = BaselineOnly(reg_user=0, reg_item=0).fit(X, [5, 3, 4])
    >>> bool(model.predict([["bob", "cake"]])[0] < model.predict([["bob", "tea"]])[0])
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "method": [StrOptions({"als", "sgd"})],
        "reg_user": [Interval(Real, 0, None, closed="left")],
        "reg_item": [Interval(Real, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, method="als", reg_user=15, reg_item=10, n_epochs=10, lr=0.005,
                 random_state=None):
        self.method = method
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_epochs = n_epochs
        self.lr = lr
        self.random_state = random_state

    def _fit(self, users, items, ratings):
        self.user_bias_ = np.zeros(self.n_users_)
        self.item_bias_ = np.zeros(self.n_items_)
        residuals = ratings - self.global_mean_
        if self.method == "als":
            user_counts = np.bincount(users, minlength=self.n_users_)
            item_counts = np.bincount(items, minlength=self.n_items_)
            for _ in range(self.n_epochs):
                self.item_bias_ = (np.bincount(items, residuals - self.user_bias_[users], self.n_items_)
                                   / (self.reg_item + item_counts))
                self.user_bias_ = (np.bincount(users, residuals - self.item_bias_[items], self.n_users_)
                                   / (self.reg_user + user_counts))
            return
        rng = check_random_state(self.random_state)
        # Zero-width factor matrices make the biased-MF SGD step the baseline step.
        no_factors_users, no_factors_items = np.zeros((self.n_users_, 0)), np.zeros((self.n_items_, 0))
        for _ in range(self.n_epochs):
            order = rng.permutation(len(ratings))
            biased_mf_sgd(users[order], items[order], ratings[order], 0, len(ratings), self.global_mean_,
                          self.user_bias_, self.item_bias_, no_factors_users, no_factors_items,
                          self.lr, self.reg_user, self.reg_item, True)

    def _predict(self, users, items):
        return predict_biased_dot(users, items, self.global_mean_, self.user_bias_, self.item_bias_,
                                  np.empty((self.n_users_, 0)), np.empty((self.n_items_, 0)))
