"""A scikit-learn scorer that evaluates recommenders on held-out users."""

import numpy as np
import scipy.sparse as sp

_RANKED_LIST_METRICS = ("ndcg", "precision", "recall", "map", "mrr", "hit_rate")
_SCORER_METRICS = (*_RANKED_LIST_METRICS, "auc")


def _metric_function(name):
    from recsys import metrics

    return metrics.auc_score if name == "auc" else getattr(metrics, f"{name}_at_k")


def split_rows(X, fraction=0.8, random_state=None):
    """Split the stored entries of each row of X into fold-in and held-out parts.

    Each row with at least two interactions keeps ``round(fraction * n)``
    (at least one, at most n - 1) of its entries, chosen at random, in the
    fold-in matrix; the rest go to the held-out matrix. Rows with fewer than
    two interactions keep their single entry in the fold-in part.

    Returns
    -------
    fold_in, held_out : scipy.sparse.csr_matrix
        Matrices of the shape of X.
    """
    from recsys.utils import check_interaction_matrix

    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1; got {fraction!r}.")
    X = check_interaction_matrix(X, allow_empty=True)
    rng = np.random.default_rng(random_state)
    counts = np.diff(X.indptr)
    rows = np.repeat(np.arange(X.shape[0]), counts)
    # A random key per entry, sorted within rows, gives each row a random order.
    order = np.lexsort((rng.random(X.nnz), rows))
    rank_in_row = np.empty(X.nnz, dtype=np.int64)
    rank_in_row[order] = np.arange(X.nnz) - np.repeat(X.indptr[:-1], counts)
    n_keep = np.clip(np.rint(fraction * counts), 1, np.maximum(counts - 1, 1)).astype(np.int64)
    keep = rank_in_row < n_keep[rows]
    keep |= counts[rows] < 2
    coo = X.tocoo()
    make = lambda mask: sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=X.shape)
    return make(keep), make(~keep)


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
    metric : {"ndcg", "precision", "recall", "map", "mrr", "hit_rate", "auc"} or callable
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
