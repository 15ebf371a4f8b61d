"""Surprise's SVD, SVDpp, NMF and BaselineOnly as scikit-learn rating predictors.

The adapter reuses :class:`recsys.base.BaseRatingPredictor`, so it validates
the input, encodes the ids, warns on unknown ids and clips predictions exactly
as recsys' own rating predictors do; only the fitting and the estimates are
Surprise's. Surprise is imported when a model is fitted, so this module
loads without it.
"""

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions

from recsys.base import BaseRatingPredictor

_ALGORITHMS = ("SVD", "SVDpp", "NMF", "BaselineOnly")


class SurpriseRatingPredictor(BaseRatingPredictor):
    """A Surprise prediction algorithm behind ``fit(pairs, ratings)`` / ``predict(pairs)``.

    ``fit`` builds a ``surprise.Dataset`` from the pairs (user and item
    codes) with ``Reader(rating_scale=(min, max))`` and ``load_from_df``, and
    fits ``surprise.<algorithm>(**params)`` on its full trainset; ``predict``
    runs ``algo.test`` on the pairs. Surprise itself gives its fallback for
    ids unseen in fit.

    Parameters
    ----------
    algorithm : {"SVD", "SVDpp", "NMF", "BaselineOnly"}, default="SVD"
        Name of the class in the ``surprise`` package.
    params : dict, default=None
        Keyword arguments of that class, e.g. ``{"n_factors": 100,
        "random_state": 0}``; Surprise's defaults otherwise.

    Attributes
    ----------
    algorithm_ : surprise.AlgoBase
        The fitted Surprise algorithm.

    Examples
    --------
    >>> from recsys.bench.peers.surprise import SurpriseRatingPredictor
    >>> X, y = [["ann", "tea"], ["ann", "cake"], ["bob", "tea"]], [5, 3, 4]
    >>> model = SurpriseRatingPredictor("BaselineOnly").fit(X, y)  # doctest: +SKIP
    >>> model.predict([["bob", "cake"]]).shape  # doctest: +SKIP
    (1,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "algorithm": [StrOptions(set(_ALGORITHMS))],
        "params": [dict, None],
    }

    def __init__(self, algorithm="SVD", params=None):
        self.algorithm = algorithm
        self.params = params

    def _fit(self, users, items, ratings):
        import surprise

        frame = pd.DataFrame({"user": users, "item": items, "rating": ratings})
        reader = surprise.Reader(rating_scale=(self.rating_min_, self.rating_max_))
        trainset = surprise.Dataset.load_from_df(frame, reader).build_full_trainset()
        params = dict(self.params or {})
        if self.algorithm == "BaselineOnly":
            params.setdefault("verbose", False)
        self.algorithm_ = getattr(surprise, self.algorithm)(**params).fit(trainset)

    def _predict(self, users, items):
        # -1 is never a code seen in fit, so Surprise applies its own unknown-id fallback.
        testset = [(int(u), int(i), 0.0) for u, i in zip(users, items)]
        return np.array([prediction.est for prediction in self.algorithm_.test(testset)])


def _factory(algorithm):
    def build(**params):
        return SurpriseRatingPredictor(algorithm, params)

    build.__name__ = f"surprise_{algorithm.lower()}"
    return build


# The factories the model table names (recsys.bench._models).
surprise_svd = _factory("SVD")
surprise_svdpp = _factory("SVDpp")
surprise_nmf = _factory("NMF")
surprise_baselineonly = _factory("BaselineOnly")
