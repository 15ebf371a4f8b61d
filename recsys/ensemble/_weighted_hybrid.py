"""WeightedHybrid: a weighted sum of the normalised scores of several recommenders."""

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import StrOptions

from recsys.ensemble._base import NORMALIZATIONS, RecommenderEnsemble, normalize_scores


class WeightedHybrid(RecommenderEnsemble):
    """Recommend by a weighted sum of the members' per-user normalised scores.

    Every member is cloned and fitted on the same X. For each user (a row of
    the X given to ``recommend``, folded in by every member) each member
    scores every item; the scores are normalised per user over the items that
    can be recommended (seen and filtered items are left out of the
    statistics, so they do not stretch the scale) and summed with
    ``weights``.

    Parameters
    ----------
    estimators : list of (str, recommender)
        The members, as in ``sklearn.ensemble.VotingRegressor``. A member may
        be ``"drop"``. Their parameters are exposed as ``<name>__<param>``.
    weights : array-like of shape (n_estimators,) or None, default=None
        Non-negative weight of each member (``"drop"`` members included, in
        order); None weighs them equally. A parameter like any other, so
        ``GridSearchCV(hybrid, {"weights": [[1, 0], [1, 1], [2, 1]]})`` tunes it.
    normalize : {"minmax", "zscore", "rank"}, default="minmax"
        How each member's scores are put on a common scale per user: onto
        [0, 1], to zero mean and unit variance, or to their scaled rank.
    n_jobs : int or None, default=None
        Members fitted in parallel threads (None: one at a time).

    Attributes
    ----------
    estimators_ : list of recommenders
        The fitted members that are not ``"drop"``.
    named_estimators_ : Bunch
        The same, by name.
    weights_ : ndarray of shape (n_fitted_members,)
        The weights applied to ``estimators_``.
    n_items_ : int

    See Also
    --------
    RankFusion : combines the members' ranked lists instead of their scores.

    Examples
    --------
    >>> from recsys.baselines import PopularityRecommender
    >>> from recsys.datasets import make_interactions
    >>> from recsys.ensemble import WeightedHybrid
    >>> from recsys.linear import EASE
    >>> X = make_interactions(100, 40, density=0.1, random_state=0).to_csr()
    >>> hybrid = WeightedHybrid([("ease", EASE(l2=10.0)), ("pop", PopularityRecommender())],
    ...                         weights=[0.8, 0.2]).fit(X)
    >>> ids, scores = hybrid.recommend(X[:2], n=3)
    >>> ids.shape
    (2, 3)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimators": [list],
        "weights": ["array-like", None],
        "normalize": [StrOptions(set(NORMALIZATIONS))],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimators, *, weights=None, normalize="minmax", n_jobs=None):
        self.estimators = estimators
        self.weights = weights
        self.normalize = normalize
        self.n_jobs = n_jobs

    def _ensemble_scores(self, rows, blocked=None, n=None, exclude_seen=True, items=None):
        """Weighted sum of normalised member scores; -inf where ``blocked`` (bool mask) is True."""
        combined = np.zeros((rows.shape[0], self.n_items_))
        for member, weight in zip(self.estimators_, self.weights_):
            scores = np.array(member._score(rows), dtype=np.float64)
            if blocked is not None:
                scores[blocked] = np.nan
            normalized = normalize_scores(scores, self.normalize)
            # An item a member cannot score (non-finite) counts as that member's worst.
            worst = np.nanmin(np.where(np.isnan(normalized), np.inf, normalized), axis=1, keepdims=True)
            worst = np.where(np.isfinite(worst), worst, 0.0)
            combined += weight * np.where(np.isnan(normalized), worst, normalized)
        if blocked is not None:
            combined[blocked] = -np.inf
        return combined

    def _score(self, X):
        return self._ensemble_scores(X)
