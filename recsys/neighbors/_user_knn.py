"""User-based k-nearest-neighbours top-N recommender."""

from typing import ClassVar

import scipy.sparse as sp

from recsys.base import BaseRecommender
from recsys.neighbors._similarity import (
    VectorWeighting,
    knn_parameter_constraints,
    top_k_similarity,
)


class UserKNN(BaseRecommender):
    """Recommend what the most similar training users interacted with.

    A user to recommend for (a row of the matrix given to ``recommend``, seen
    in ``fit`` or not) is compared with every training user; the ``k`` most
    similar ones are kept and their rows summed, weighted by similarity. New
    users are thus folded in without refitting.

    Parameters
    ----------
    k : int, default=100
        Neighbours per user; clamped to the number of training users.
    similarity : {"cosine", "asymmetric", "jaccard", "tfidf", "bm25"}, default="cosine"
        "tfidf" and "bm25" reweight the items (popular items count less) with
        statistics of the training users, then take the cosine; "jaccard"
        binarises; "asymmetric" is ``a.b / (|a|^(2 alpha) |b|^(2 (1 - alpha)))``
        with a the user recommended to and b a training user.
    shrink : float, default=0.0
        Added to the similarity's denominator.
    alpha : float in [0, 1], default=0.5
        Asymmetry of "asymmetric"; unused otherwise.
    normalize : bool, default=True
        False uses the raw dot product instead of the cosine-type similarities.

    Attributes
    ----------
    user_items_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
        The training interactions whose weighted sums are the scores.
    weighting_ : VectorWeighting
        Reweighting fitted on the training users and applied to new ones.
    user_vectors_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
        The reweighted training users the similarities are computed against.
    n_items_ : int

    Notes
    -----
    A training user recommended to as a fold-in row finds itself as its most
    similar neighbour; it only adds weight to items it has seen, which
    ``exclude_seen`` removes, but it takes one of the k places.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.neighbors import UserKNN
    >>> X = sp.csr_matrix([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = UserKNN(k=1).fit(X)
    >>> model.recommend(sp.csr_matrix([[1, 1, 0, 0]]), n=1)[0]
    array([[2]])
    """

    _parameter_constraints = knn_parameter_constraints()
    _fitted_shapes: ClassVar[dict] = {"user_items_": ("n_users", "n_items_")}  # checked by load
    # Recomputed from user_items_ rather than saved (the weighting is no array).
    _derived_attributes = ("weighting_", "user_vectors_")

    def __init__(self, k=100, similarity="cosine", shrink=0.0, alpha=0.5, normalize=True):
        self.k = k
        self.similarity = similarity
        self.shrink = shrink
        self.alpha = alpha
        self.normalize = normalize

    def _fit(self, X):
        self.user_items_ = X
        self._rebuild_derived()

    def _rebuild_derived(self):
        self.weighting_ = VectorWeighting(self.similarity).fit(self.user_items_)
        self.user_vectors_ = self.weighting_.transform(self.user_items_)

    def _score(self, X):
        neighbours = top_k_similarity(
            self.weighting_.transform(X), self.user_vectors_, self.k,
            similarity=self.similarity, shrink=self.shrink, alpha=self.alpha,
            normalize=self.normalize,
        )
        return sp.csr_matrix(neighbours @ self.user_items_).toarray()
