"""Surprise's KNNBasic, KNNWithMeans, KNNBaseline and SlopeOne as scikit-learn rating predictors.

They reuse :class:`recsys.bench.peers.surprise.SurpriseRatingPredictor`, which
builds the Surprise trainset from the pairs, so the neighbourhood models are
fitted on exactly the data, in exactly the order, that recsys' own see.
"""

from typing import ClassVar

from sklearn.utils._param_validation import StrOptions

from recsys.bench.peers.surprise import SurpriseRatingPredictor

_ALGORITHMS = ("KNNBasic", "KNNWithMeans", "KNNBaseline", "SlopeOne")


class SurpriseNeighbourhoodPredictor(SurpriseRatingPredictor):
    """A Surprise neighbourhood algorithm behind ``fit(pairs, ratings)`` / ``predict(pairs)``.

    Parameters
    ----------
    algorithm : {"KNNBasic", "KNNWithMeans", "KNNBaseline", "SlopeOne"}, default="KNNBasic"
        Name of the class in the ``surprise`` package.
    params : dict, default=None
        Keyword arguments of that class, e.g. ``{"k": 40, "sim_options":
        {"name": "pearson_baseline"}, "verbose": False}``.

    Examples
    --------
    >>> from recsys.bench.peers.surprise_knn import SurpriseNeighbourhoodPredictor
    >>> X, y = [["ann", "tea"], ["ann", "cake"], ["bob", "tea"]], [5, 3, 4]
    >>> model = SurpriseNeighbourhoodPredictor("SlopeOne").fit(X, y)  # doctest: +SKIP
    >>> model.predict([["bob", "cake"]]).shape  # doctest: +SKIP
    (1,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **SurpriseRatingPredictor._parameter_constraints,
        "algorithm": [StrOptions(set(_ALGORITHMS))],
    }

    def __init__(self, algorithm="KNNBasic", params=None):
        super().__init__(algorithm=algorithm, params=params)


def _factory(algorithm):
    def build(**params):
        if algorithm != "SlopeOne":
            # Surprise's k-NN classes print progress unless told not to.
            params.setdefault("verbose", False)
        return SurpriseNeighbourhoodPredictor(algorithm, params)

    build.__name__ = f"surprise_{algorithm.lower()}"
    return build


# The factories the model table names (recsys.bench._models).
surprise_knnbasic = _factory("KNNBasic")
surprise_knnwithmeans = _factory("KNNWithMeans")
surprise_knnbaseline = _factory("KNNBaseline")
surprise_slopeone = _factory("SlopeOne")
