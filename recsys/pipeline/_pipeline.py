"""A scikit-learn Pipeline whose final step is a top-N recommender."""

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from recsys.utils import PersistenceMixin, check_interaction_matrix, check_positive_int


class RecommenderPipeline(PersistenceMixin, Pipeline):
    """Transformers of the interaction matrix followed by a recommender.

    ``fit(X)`` fits each transformer and gives the recommender the transformed
    users x items matrix, as any ``Pipeline`` does. :meth:`recommend` passes
    the rows of X through the fitted transformers and asks the recommender for
    their top n, so for example BM25 weights learned on the training users are
    applied to fold-in users.

    Seen items are the stored entries of the *untransformed* rows: a
    transformer may zero, drop or add entries (a weighting that clips a
    weight to 0, a smoothing), and an item the user interacted with must stay
    excluded all the same. When the transformed rows store exactly the
    entries of the untransformed ones (:class:`~recsys.preprocessing.InteractionWeighter`
    keeps its input's pattern), the recommender excludes them itself;
    otherwise the pipeline asks for ``n`` plus the largest number of seen
    items of a row with ``exclude_seen=False`` and removes the seen items
    from that longer list, which gives the same top n.

    Everything else is ``sklearn.pipeline.Pipeline``: ``clone``,
    ``get_params``/``set_params`` with ``step__param`` names, and
    ``GridSearchCV`` over them. :meth:`score` is the NDCG@10 of
    :func:`~recsys.metrics.make_ranking_scorer` on the untransformed rows.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        Transformers of users x items matrices, then a recommender (an
        estimator with ``recommend(X, n, exclude_seen, items)``).
    transform_input, memory, verbose
        As in ``sklearn.pipeline.Pipeline``.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from recsys.datasets import make_interactions
    >>> from recsys.neighbors import ItemKNN
    >>> from recsys.pipeline import RecommenderPipeline
    >>> from recsys.preprocessing import InteractionWeighter
    >>> X = make_interactions(150, 40, density=0.1, random_state=0).to_csr()
    >>> pipeline = RecommenderPipeline([("bm25", InteractionWeighter("bm25")),
    ...                                 ("knn", ItemKNN(k=20))])
    >>> ids, scores = pipeline.fit(X).recommend(X[:2], n=3)
    >>> ids.shape
    (2, 3)
    >>> search = GridSearchCV(pipeline, {"bm25__K1": [1.2, 100.0]}, cv=KFold(3)).fit(X)
    >>> sorted(search.best_params_)
    ['bm25__K1']
    """

    def _validate_steps(self):
        super()._validate_steps()
        recommender = self.steps[-1][1]
        if not hasattr(recommender, "recommend"):
            raise TypeError(
                f"the last step of a RecommenderPipeline must be a recommender (an estimator "
                f"with a recommend method); got {type(recommender).__name__}. Use "
                "sklearn.pipeline.Pipeline for other final estimators."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # What the rows must be is decided by the first step that reads them;
        # like any recommender, the pipeline needs no target and must be fitted.
        try:
            first = next(step for _, step in self.steps if step is not None and step != "passthrough")
            tags.input_tags.positive_only = get_tags(first).input_tags.positive_only
        except (StopIteration, TypeError, ValueError, AttributeError):
            pass  # steps not validated yet: fit reports them
        tags.requires_fit = True
        tags.target_tags.required = False
        return tags

    def _transform_rows(self, X):
        for _, _, transformer in self._iter(with_final=False):
            X = transformer.transform(X)
        return X

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        """Recommend the n best items for each user whose interactions are a row of X.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items) or Interactions
            Untransformed interactions of the users to recommend to (fold-in).
        n : int, default=10
        exclude_seen : bool, default=True
            Never recommend an item stored in the user's untransformed row.
        items : array-like of int, default=None
            Restrict recommendations to these item indices.

        Returns
        -------
        ids : ndarray of shape (n_rows, n), int64
            Item indices, best first; -1 where fewer than n items could be
            recommended.
        scores : ndarray of shape (n_rows, n)
            The recommender's scores; -inf where the id is -1.
        """
        recommender = self._final_estimator
        transformed = self._transform_rows(X)
        if not exclude_seen:
            return recommender.recommend(transformed, n=n, exclude_seen=False, items=items)
        seen = check_interaction_matrix(X, allow_empty=True)
        if _same_entries(seen, transformed):
            return recommender.recommend(transformed, n=n, exclude_seen=True, items=items)
        check_positive_int(n, "n")
        extra = int(np.diff(seen.indptr).max(initial=0))
        ids, scores = recommender.recommend(transformed, n=n + extra, exclude_seen=False, items=items)
        return _drop_seen(ids, scores, seen, n)

    def score(self, X, y=None):
        """NDCG@10 of :func:`~recsys.metrics.make_ranking_scorer` on the rows of X (untransformed)."""
        from recsys.metrics import make_ranking_scorer

        check_is_fitted(self)
        # Checked before the scorer splits X, so that a matrix of another width
        # gets the width error rather than one about its held-out rows.
        X = check_interaction_matrix(X, n_items=self.n_features_in_, allow_empty=True, estimator=self)
        return make_ranking_scorer("ndcg", k=10)(self, X)


def make_recommender_pipeline(*steps, memory=None, verbose=False):
    """Build a :class:`RecommenderPipeline` from estimators, naming the steps automatically.

    Steps are named after their lower-cased class names, as by
    ``sklearn.pipeline.make_pipeline``.

    Parameters
    ----------
    *steps : estimators
        Transformers, then a recommender.
    memory, verbose
        As in ``sklearn.pipeline.make_pipeline``.

    Returns
    -------
    RecommenderPipeline

    Examples
    --------
    >>> from recsys.factorization import ALS
    >>> from recsys.pipeline import make_recommender_pipeline
    >>> from recsys.preprocessing import InteractionWeighter
    >>> pipeline = make_recommender_pipeline(InteractionWeighter(), ALS(n_factors=8))
    >>> [name for name, _ in pipeline.steps]
    ['interactionweighter', 'als']
    """
    named = make_pipeline(*steps, memory=memory, verbose=verbose)
    return RecommenderPipeline(named.steps, memory=memory, verbose=verbose)


def _same_entries(seen, transformed):
    """Whether the transformed rows store exactly the (row, item) entries of the seen rows.

    Stored zeros do not count: recommenders drop them when they validate
    their input, so a seen item weighted 0 would no longer be excluded.
    """
    if not sp.issparse(transformed) or transformed.shape != seen.shape:
        return False
    transformed = sp.csr_matrix(transformed)
    return (transformed.has_canonical_format
            and np.array_equal(transformed.indptr, seen.indptr)
            and np.array_equal(transformed.indices, seen.indices)
            and bool(np.all(transformed.data != 0)))


def _drop_seen(ids, scores, seen, n):
    """Keep, in order, the first n recommended ids of each row that its seen row does not hold."""
    rows = np.broadcast_to(np.arange(ids.shape[0])[:, None], ids.shape)
    # Sorted (row, item) keys of the seen entries; searchsorted finds each recommended pair.
    n_items = np.int64(seen.shape[1])
    seen_keys = np.repeat(np.arange(seen.shape[0], dtype=np.int64), np.diff(seen.indptr)) * n_items
    seen_keys += seen.indices
    keys = rows * n_items + ids
    if len(seen_keys):
        position = np.minimum(np.searchsorted(seen_keys, keys), len(seen_keys) - 1)
        is_seen = seen_keys[position] == keys
    else:
        is_seen = np.zeros(ids.shape, dtype=bool)
    # The -1 padding would make keys of the previous row: never keep it.
    keep = (ids >= 0) & ~is_seen
    # A stable sort on "not kept" moves the kept places to the front, in order.
    order = np.argsort(~keep, axis=1, kind="stable")[:, :n]
    kept = np.take_along_axis(keep, order, axis=1)
    out_ids = np.where(kept, np.take_along_axis(ids, order, axis=1), -1)
    out_scores = np.where(kept, np.take_along_axis(scores, order, axis=1), -np.inf)
    if out_ids.shape[1] < n:
        pad = n - out_ids.shape[1]
        out_ids = np.hstack([out_ids, np.full((len(out_ids), pad), -1, dtype=out_ids.dtype)])
        out_scores = np.hstack([out_scores, np.full((len(out_scores), pad), -np.inf)])
    return out_ids, out_scores
