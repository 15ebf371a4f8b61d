"""Non-negative matrix factorisation of explicit ratings (Luo et al. 2014)."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRatingPredictor, DegenerateFitError
from recsys.factorization._rating_common import predict_biased_dot
from recsys.factorization._sgd_kernels import nmf_epoch

# Surprise's NMF defaults for the biases, which only biased=True learns.
_BIAS_LEARNING_RATE = 0.005
_BIAS_REGULARISATION = 0.02


class NMF(BaseRatingPredictor):
    """Rating prediction by regularised non-negative matrix factorisation.

    Predicts ``r_ui = <p_u, q_i>`` with non-negative factors, learnt by the
    regularised multiplicative updates of Luo et al. (2014) as in Surprise's
    ``NMF`` (same defaults, factors initialised uniform in [0, 1)):
    ``p_uf <- p_uf * sum_i q_if r_ui / (sum_i q_if r^_ui + |I(u)| reg_user p_uf)``
    and symmetrically for q_i. With ``biased=True`` it predicts ``mu + b_u +
    b_i + <p_u, q_i>``, the biases taking SGD steps (learning rate 0.005,
    regularisation 0.02) as the updates accumulate; Surprise warns that this
    version overfits easily.

    The multiplicative updates start from predictions near ``n_factors / 4``;
    unbiased, ratings far larger (e.g. x20) make them oscillate, and a fit
    that ends predicting its own training ratings worse than their mean
    raises :class:`~recsys.base.DegenerateFitError` saying to rescale the
    ratings or use ``biased=True``.

    Unbiased, any pair with an unknown id gets the global mean ``mu``; biased,
    an unknown user gets ``mu + b_i`` and an unknown item ``mu + b_u``.

    Parameters
    ----------
    n_factors : int, default=15
    n_epochs : int, default=50
    reg_user : float, default=0.06
        Regularisation of the user factors.
    reg_item : float, default=0.06
        Regularisation of the item factors.
    biased : bool, default=False
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the visiting order of the ratings.

    Attributes
    ----------
    user_bias_, item_bias_ : ndarray of shape (n_users_,), (n_items_,)
        Zero unless ``biased``.
    user_factors_, item_factors_ : ndarray of shape (n_users_, n_factors), (n_items_, n_factors)

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.factorization import NMF
    >>> data = make_ratings(100, 50, n_ratings=1500, random_state=0).to_pandas()
    >>> model = NMF(n_factors=5, random_state=0).fit(data[["user", "item"]], data["rating"])
    >>> bool((model.user_factors_ >= 0).all())
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "reg_user": [Interval(Real, 0, None, closed="left")],
        "reg_item": [Interval(Real, 0, None, closed="left")],
        "biased": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_factors=15, n_epochs=50, reg_user=0.06, reg_item=0.06, biased=False,
                 random_state=None):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.biased = biased
        self.random_state = random_state

    def _fit(self, users, items, ratings):
        if self.rating_min_ < 0:
            raise ValueError(
                f"NMF needs non-negative ratings; the smallest is {self.rating_min_:g}. "
                "Shift the ratings (y - y.min()) before fitting."
            )
        rng = check_random_state(self.random_state)
        self.user_factors_ = rng.uniform(0.0, 1.0, (self.n_users_, self.n_factors))
        self.item_factors_ = rng.uniform(0.0, 1.0, (self.n_items_, self.n_factors))
        self.user_bias_ = np.zeros(self.n_users_)
        self.item_bias_ = np.zeros(self.n_items_)
        user_counts = np.bincount(users, minlength=self.n_users_)
        item_counts = np.bincount(items, minlength=self.n_items_)
        offset = self.global_mean_ if self.biased else 0.0
        for _ in range(self.n_epochs):
            nmf_epoch(users, items, ratings, rng.permutation(len(ratings)), offset, self.user_bias_,
                      self.item_bias_, self.user_factors_, self.item_factors_, self.reg_user,
                      self.reg_item, _BIAS_LEARNING_RATE, _BIAS_REGULARISATION, self.biased,
                      user_counts, item_counts)
        self._check_not_collapsed(users, items, ratings)

    def _check_not_collapsed(self, users, items, ratings):
        """Raise DegenerateFitError when the fit predicts the training ratings worse than their mean."""
        fitted = np.clip(self._predict(users, items), self.rating_min_, self.rating_max_)
        rmse, mean_rmse = np.sqrt(np.mean((ratings - fitted) ** 2)), float(ratings.std())
        if not np.isfinite(rmse) or mean_rmse == 0.0 or rmse <= mean_rmse:
            return  # non-finite factors are reported by the base class
        raise DegenerateFitError(
            f"NMF did not fit: its training RMSE ({rmse:.4g}) is worse than predicting the mean "
            f"rating ({mean_rmse:.4g}). Its multiplicative updates start from factors uniform in "
            f"[0, 1), predicting about n_factors / 4 = {self.n_factors / 4:g}; ratings far larger "
            f"(mean {self.global_mean_:.4g}) make the user and item updates overshoot together and "
            "oscillate. Divide the ratings by a constant to bring their mean near n_factors / 4 "
            "(multiplying the predictions back), or use biased=True."
        )

    def _predict(self, users, items):
        return predict_biased_dot(users, items, self.global_mean_, self.user_bias_, self.item_bias_,
                                  self.user_factors_, self.item_factors_, biased=self.biased)
