"""Item-based k-nearest-neighbours top-N recommender."""

from typing import ClassVar

from sklearn.utils.validation import check_is_fitted

from recsys.base import BaseRecommender
from recsys.neighbors._similarity import (
    SimilarityOperands,
    VectorWeighting,
    knn_parameter_constraints,
    top_n_of_rows,
)
from recsys.utils import check_similar_items


class ItemKNN(BaseRecommender):
    """Recommend the items most similar to those a user interacted with.

    Each item keeps its ``k`` most similar other items (a sparse item x item
    matrix computed in bounded-memory blocks, see
    :mod:`recsys.neighbors._similarity`); a user's score for item j is
    ``sum_i x_ui * sim(j, i)`` over the neighbours i of j.

    Parameters
    ----------
    k : int, default=100
        Neighbours kept per item. A k of at least ``n_items - 1`` keeps every
        other item with a positive similarity (k is clamped, not an error).
    similarity : {"cosine", "asymmetric", "jaccard", "tfidf", "bm25"}, default="cosine"
        "tfidf" and "bm25" reweight the user dimension (users with many
        interactions count less) and then take the cosine; "jaccard"
        binarises the interactions; "asymmetric" is the asymmetric cosine
        ``a.b / (|a|^(2 alpha) |b|^(2 (1 - alpha)))`` with a the target item.
    shrink : float, default=0.0
        Added to the similarity's denominator: damps similarities supported by
        few common users.
    alpha : float in [0, 1], default=0.5
        Asymmetry of "asymmetric" (0.5 is the cosine); unused otherwise.
    normalize : bool, default=True
        False uses the raw dot product of the (reweighted) item vectors instead
        of the cosine-type similarities; Jaccard is always normalised.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
        Row j holds item j's neighbours and their similarities; the diagonal is
        empty and an item nobody interacted with has an empty row and column.
    n_items_ : int

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.neighbors import ItemKNN
    >>> X = sp.csr_matrix([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = ItemKNN(k=2).fit(X)
    >>> ids, scores = model.recommend(sp.csr_matrix([[1, 0, 0, 0]]), n=2)
    >>> ids
    array([[1, 2]])
    >>> model.similar_items([0], n=1)[0]
    array([[1]])
    """

    _parameter_constraints = knn_parameter_constraints()
    _fitted_shapes: ClassVar[dict] = {"similarity_": ("n_items_", "n_items_")}  # checked by load

    def __init__(self, k=100, similarity="cosine", shrink=0.0, alpha=0.5, normalize=True):
        self.k = k
        self.similarity = similarity
        self.shrink = shrink
        self.alpha = alpha
        self.normalize = normalize

    def _fit(self, X):
        self.similarity_ = self._item_similarity(self._item_operands(X))

    # The two steps of the fit, apart so that recsys.distributed.ItemKNN runs the first once
    # and the second on blocks of items in other processes, stacked into the same matrix.
    def _item_operands(self, X):
        """The (reweighted) item vectors, with their norms and transposed copy: computed once."""
        item_vectors = VectorWeighting(self.similarity).fit_transform(X.T.tocsr())
        return SimilarityOperands(item_vectors, item_vectors, similarity=self.similarity, shrink=self.shrink,
                                  alpha=self.alpha, normalize=self.normalize)

    def _item_similarity(self, operands, rows=None):
        """The top-k similarity of the items (only the given rows; the others empty)."""
        return operands.top_k(self.k, exclude_self=True, rows=rows)

    def _score(self, X):
        return (X @ self.similarity_.T).toarray()

    def _explain(self, history, item):
        """Contribution of each history item i to the score of item: x_ui * sim(item, i)."""
        return history.data * self.similarity_[item].toarray().ravel()[history.indices]

    def similar_items(self, items, n=10):
        """Return the n most similar items of each of the given items, itself excluded.

        Parameters
        ----------
        items : int or array-like of int
            Item indices.
        n : int, default=10

        Returns
        -------
        ids : ndarray of shape (n_queries, n), int64
            Best first; -1 past the item's last neighbour.
        scores : ndarray of shape (n_queries, n)
            Similarities; -inf where the id is -1.
        """
        check_is_fitted(self)
        items, n = check_similar_items(items, n, self.n_items_)
        return top_n_of_rows(self.similarity_, items, n)
