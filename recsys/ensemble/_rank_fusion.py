"""RankFusion: reciprocal rank fusion, Borda count, CombSUM and CombMNZ of several recommenders."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from recsys.ensemble._base import RecommenderEnsemble, normalize_scores

FUSION_METHODS = ("rrf", "borda", "combsum", "combmnz")


class RankFusion(RecommenderEnsemble):
    """Fuse the ranked lists of several recommenders into one.

    Every member is cloned and fitted on the same X. At ``recommend`` time
    each member folds in the rows of X and returns its ``depth`` best items
    (at least ``n``); an item's fused score sums what it earns in each list,
    times the member's weight:

    - ``"rrf"``: reciprocal rank fusion (Cormack, Clarke and Buettcher 2009),
      ``1 / (k + rank)`` with rank 1 at the top;
    - ``"borda"``: Borda count, ``(L - rank + 1) / L`` for a list of length L;
    - ``"combsum"``: the member's score, min-max normalised over its list
      (Fox and Shaw 1994);
    - ``"combmnz"``: CombSUM times the number of lists holding the item.

    Items in no list are never recommended, so the fused list can be shorter
    than n (padded with -1) when the members' lists together hold fewer than
    n items. Only ranks (and, for CombSUM/CombMNZ, the scores within each
    list) matter, so members whose scores live on different scales fuse
    without tuning; ``WeightedHybrid`` combines full score vectors instead.

    Parameters
    ----------
    estimators : list of (str, recommender)
        The members, as in ``sklearn.ensemble.VotingRegressor``; a member may
        be ``"drop"``; parameters exposed as ``<name>__<param>``.
    method : {"rrf", "borda", "combsum", "combmnz"}, default="rrf"
    k : float >= 0, default=60
        The rank offset of reciprocal rank fusion: larger k flattens the
        advantage of the top ranks. Used by ``"rrf"`` only.
    depth : int >= 1, default=100
        Length of each member's list (``max(depth, n)`` when recommending n).
    weights : array-like of shape (n_estimators,) or None, default=None
        Non-negative weight per member; None weighs them equally.
    n_jobs : int or None, default=None
        Members fitted in parallel threads.

    Attributes
    ----------
    estimators_ : list of recommenders
    named_estimators_ : Bunch
    weights_ : ndarray of shape (n_fitted_members,)
    n_items_ : int

    Examples
    --------
    >>> from recsys.baselines import PopularityRecommender
    >>> from recsys.datasets import make_interactions
    >>> from recsys.ensemble import RankFusion
    >>> from recsys.linear import EASE
    >>> from recsys.neighbors import ItemKNN
    >>> X = make_interactions(100, 40, density=0.1, random_state=0).to_csr()
    >>> fusion = RankFusion([("ease", EASE(l2=10.0)), ("knn", ItemKNN(k=20)),
    ...                      ("pop", PopularityRecommender())], method="rrf", k=60).fit(X)
    >>> ids, scores = fusion.recommend(X[:2], n=3)
    >>> ids.shape
    (2, 3)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimators": [list],
        "method": [StrOptions(set(FUSION_METHODS))],
        "k": [Interval(Real, 0, None, closed="left")],
        "depth": [Interval(Integral, 1, None, closed="left")],
        "weights": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimators, *, method="rrf", k=60, depth=100, weights=None, n_jobs=None):
        self.estimators = estimators
        self.method = method
        self.k = k
        self.depth = depth
        self.weights = weights
        self.n_jobs = n_jobs

    def _list_points(self, ids, scores):
        """What each place of a member's ranked list earns, shape of ids (NaN at padding)."""
        length = ids.shape[1]
        positions = np.broadcast_to(np.arange(length, dtype=np.float64), ids.shape)
        if self.method == "rrf":
            points = 1.0 / (self.k + positions + 1.0)
        elif self.method == "borda":
            points = (length - positions) / length
        else:
            points = normalize_scores(np.where(ids >= 0, scores, np.nan), "minmax")
        return np.where(ids >= 0, points, np.nan)

    def _ensemble_scores(self, rows, blocked=None, n=1, exclude_seen=True, items=None):
        length = max(self.depth, n)
        fused = np.zeros(rows.shape)
        n_lists = np.zeros(rows.shape, dtype=np.int32)
        for member, weight in zip(self.estimators_, self.weights_):
            ids, scores = member.recommend(rows, n=length, exclude_seen=exclude_seen, items=items)
            points = self._list_points(ids, scores)
            row, place = np.nonzero(ids >= 0)
            # An item appears at most once in a member's list: plain fancy-index adds are exact.
            fused[row, ids[row, place]] += weight * points[row, place]
            n_lists[row, ids[row, place]] += 1
        if self.method == "combmnz":
            fused *= n_lists
        fused[n_lists == 0] = -np.inf
        return fused

    def _score(self, X):
        return self._ensemble_scores(X, n=self.depth)
