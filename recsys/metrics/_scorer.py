"""A scikit-learn scorer that evaluates recommenders on held-out users."""

import numpy as np

from recsys.utils import split_rows

_RANKED_LIST_METRICS = ("ndcg", "precision", "recall", "f1", "map", "mrr", "hit_rate")
_SCORER_METRICS = (*_RANKED_LIST_METRICS, "auc")


def _metric_function(name):
    from recsys import metrics

    return metrics.auc_score if name == "auc" else getattr(metrics, f"{name}_at_k")


def make_ranking_scorer(metric="ndcg", k=10, fold_in=0.8, random_state=0, **metric_params):
    """Build a scorer ``(estimator, X, y=None) -> float`` for recommenders.

    Each row of X is split into a fold-in part (a ``fold_in`` share of its
    interactions) and a held-out part; the estimator recommends ``k`` unseen
    items from the fold-in rows, and the ranking is scored against the
    held-out part. Because recommenders take users as rows, scikit-learn's
    row splitters (``KFold``, ``ShuffleSplit``) then evaluate strong
    generalisation: the users of each test fold are new to the model.

    Parameters
    ----------
    metric : {"ndcg", "precision", "recall", "f1", "map", "mrr", "hit_rate", "auc"} or callable
        Name of a recsys ranking metric, or a function
        ``f(y_true, y_pred, k=k, **metric_params)``. ``"auc"`` ranks every
        unseen item (``recommend`` with ``n=n_items``) and scores that full
        ranking with :func:`auc_score`, the fold-in items excluded; it
        ignores ``k``.
    k : int, default=10
    fold_in : float, default=0.8
        Share of each user's interactions given to the model.
    random_state : int or None, default=0
        Seed of the fold-in/held-out split; fix it so that every candidate
        of a grid search is scored on the same split.

    Returns
    -------
    callable

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from recsys.baselines import PopularityRecommender
    >>> from recsys.datasets import make_interactions
    >>> from recsys.metrics import make_ranking_scorer
    >>> X = make_interactions(200, 50, density=0.1, random_state=0).to_csr()
    >>> search = GridSearchCV(PopularityRecommender(), {"count": ["users", "weights"]},
    ...                       cv=KFold(3), scoring=make_ranking_scorer("ndcg", k=10))
    >>> search.fit(X).best_params_ in ({"count": "users"}, {"count": "weights"})
    True
    """
    if callable(metric):
        function = metric
        name = getattr(metric, "__name__", "metric")
    elif metric in _SCORER_METRICS:
        function, name = _metric_function(metric), metric
    else:
        raise ValueError(f"metric must be one of {sorted(_SCORER_METRICS)} or a callable; got {metric!r}.")

    def scorer(estimator, X, y=None):
        fold_in_rows, held_out = split_rows(X, fold_in, random_state)
        evaluated = np.diff(held_out.indptr) > 0
        if not evaluated.any():
            raise ValueError(
                "no user of X has a held-out interaction: each row needs at least two "
                "interactions for the fold-in scorer."
            )
        fold_in_rows, held_out = fold_in_rows[evaluated], held_out[evaluated]
        if metric == "auc":
            return function(held_out, _full_ranking_scores(estimator, fold_in_rows), **metric_params)
        ids, _ = estimator.recommend(fold_in_rows, n=k, exclude_seen=True)
        return function(held_out, ids, k=k, **metric_params)

    scorer.__name__ = f"{name}@{k}"
    return scorer


def _full_ranking_scores(estimator, fold_in_rows):
    """Scores n_items - rank for every item the estimator ranks, NaN for the others."""
    n_items = fold_in_rows.shape[1]
    ids, _ = estimator.recommend(fold_in_rows, n=n_items, exclude_seen=True)
    scores = np.full(fold_in_rows.shape, np.nan)
    rows, ranks = np.nonzero(ids >= 0)
    scores[rows, ids[rows, ranks]] = n_items - ranks
    return scores
