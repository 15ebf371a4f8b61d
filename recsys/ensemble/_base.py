"""What the recommender ensembles share: named members, their weights, score normalisation."""

from numbers import Integral
from typing import ClassVar

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import _BaseComposition

from recsys.base import BaseRecommender

NORMALIZATIONS = ("minmax", "zscore", "rank")


def normalize_scores(scores, method):
    """Put each row of a score matrix on a common scale; NaN marks entries to ignore.

    Statistics are taken over the finite entries of each row only, so items a
    user has already seen (or that are filtered out) do not stretch the scale.
    Ignored entries come back as NaN.

    Parameters
    ----------
    scores : ndarray of shape (n_rows, n_items), float
    method : {"minmax", "zscore", "rank"}
        ``"minmax"`` maps each row onto [0, 1]; ``"zscore"`` subtracts the
        row mean and divides by the row standard deviation; ``"rank"`` maps
        each entry to its rank in the row, scaled onto [0, 1] (ties share
        their average rank). A row whose valid scores are all equal becomes 0.

    Returns
    -------
    ndarray of the shape of scores, float64
    """
    scores = np.array(scores, dtype=np.float64)
    valid = np.isfinite(scores)
    scores[~valid] = np.nan
    count = valid.sum(axis=1, keepdims=True)
    if method == "rank":
        ranks = rankdata(scores, axis=1, nan_policy="omit")
        normalized = (ranks - 1.0) / np.maximum(count - 1, 1)
    elif method == "minmax":
        low = np.min(np.where(valid, scores, np.inf), axis=1, keepdims=True)
        high = np.max(np.where(valid, scores, -np.inf), axis=1, keepdims=True)
        spread = high - low
        with np.errstate(invalid="ignore"):
            normalized = np.where(spread > 0, (scores - low) / np.where(spread > 0, spread, 1.0), 0.0)
    elif method == "zscore":
        total = np.where(valid, scores, 0.0).sum(axis=1, keepdims=True)
        mean = total / np.maximum(count, 1)
        centred = np.where(valid, scores - mean, 0.0)
        std = np.sqrt((centred**2).sum(axis=1, keepdims=True) / np.maximum(count, 1))
        normalized = np.where(std > 0, centred / np.where(std > 0, std, 1.0), 0.0)
    else:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}; got {method!r}.")
    normalized[~valid] = np.nan
    return normalized


class RecommenderEnsemble(_BaseComposition, BaseRecommender):
    """Base class of recommenders built from named member recommenders.

    ``estimators`` is a list of ``(name, recommender)`` pairs as in
    scikit-learn's ``VotingRegressor``: members are cloned and fitted on the
    same X in ``fit`` (``estimators_``, ``named_estimators_``), a member may
    be replaced by ``"drop"``, and ``get_params(deep=True)`` exposes the
    members' parameters as ``<name>__<param>`` so that ``GridSearchCV``
    searches them.
    """

    def get_params(self, deep=True):
        """Parameters of the ensemble and, with deep=True, of its members as ``name__param``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters of the ensemble or of its members (``name__param``, or ``name`` to replace one)."""
        self._set_params("estimators", **params)
        return self

    def _active_members(self):
        """Validate ``estimators``; return the (names, estimators) not set to "drop"."""
        if not isinstance(self.estimators, (list, tuple)) or not self.estimators:
            raise ValueError(
                "estimators must be a non-empty list of (name, recommender) pairs, e.g. "
                "[('ease', EASE()), ('als', ALS())]."
            )
        try:
            names, members = zip(*self.estimators)
        except (TypeError, ValueError):
            raise ValueError(
                "estimators must be a list of (name, recommender) pairs; got "
                f"{self.estimators!r}."
            ) from None
        self._validate_names(names)
        self._check_estimators_are_instances(members)
        for name, member in zip(names, members):
            if not (isinstance(member, str) and member == "drop") and not isinstance(member, BaseRecommender):
                raise TypeError(
                    f"member {name!r} is a {type(member).__name__}, not a recsys recommender "
                    "(a BaseRecommender with recommend(X, n)); rating predictors are blended with "
                    "sklearn.ensemble.StackingRegressor or FeatureWeightedStacking instead."
                )
        active = [(name, member) for name, member in zip(names, members) if not isinstance(member, str)]
        if not active:
            raise ValueError("every member is set to 'drop'; keep at least one recommender.")
        return [name for name, _ in active], [member for _, member in active]

    def _member_weights(self, names):
        """The weights of the active members, as float64; equal weights when ``weights`` is None."""
        if self.weights is None:
            return np.ones(len(names))
        weights = np.asarray(self.weights, dtype=np.float64).ravel()
        if len(weights) != len(self.estimators):
            raise ValueError(
                f"weights has {len(weights)} entries but there are {len(self.estimators)} estimators; "
                "give one weight per (name, recommender) pair, in the same order."
            )
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(f"weights must be finite and non-negative; got {self.weights!r}.")
        all_names = [name for name, _ in self.estimators]
        weights = weights[[all_names.index(name) for name in names]]
        if not weights.sum() > 0:
            raise ValueError("the weights of the members kept (not 'drop') are all zero.")
        return weights

    def _fit(self, X):
        names, members = self._active_members()
        self.weights_ = self._member_weights(names)
        n_jobs = self.n_jobs if isinstance(self.n_jobs, Integral) else None
        fitted = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(clone(member).fit)(X) for member in members
        )
        self.estimators_ = fitted
        self._rebuild_derived()

    # A view of estimators_ by name: not saved, rebuilt after fit and load.
    _derived_attributes = ("named_estimators_",)
    _fitted_shapes: ClassVar[dict] = {"weights_": ("n_members",)}  # checked by load: one weight per fitted member

    def _fitted_dimensions(self, state):
        return {"n_members": len(state["estimators_"])}

    def _rebuild_derived(self):
        names, _ = self._active_members()
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_, strict=True)))

    def _ensemble_scores(self, rows, blocked, n, exclude_seen, items):
        """Dense (n_rows, n_items) scores of the ensemble for a block of rows, -inf where blocked."""
        raise NotImplementedError

    def _recommend_scores(self, rows, n, exclude_seen, items, allowed):
        """The ensemble scores of a block of rows; BaseRecommender.recommend ranks them.

        The members see the request: the items the user has seen and those
        outside ``items`` are left out of each member's normalisation or list.
        """
        blocked = np.zeros(rows.shape, dtype=bool)
        if exclude_seen:
            blocked[rows.nonzero()] = True
        if allowed is not None:
            blocked[:, ~allowed] = True
        return self._ensemble_scores(rows, blocked, n, exclude_seen, items)
