"""Item embeddings from the positive PMI of item co-occurrence, factorised by truncated SVD."""

from numbers import Integral
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted

from recsys.utils import (
    check_interaction_matrix,
    check_similar_items,
    cosine_similar_items,
)


def _user_cooccurrence(X):
    """Number of users who interacted with both items, for every pair of distinct items."""
    pattern = X.astype(bool).astype(np.float64)
    counts = (pattern.T @ pattern).tocsr()
    counts.setdiag(0)
    counts.eliminate_zeros()
    return counts


def _window_cooccurrence(interactions, window, n_items):
    """Times two items follow each other within ``window`` events of a user's history."""
    if interactions.timestamps is None:
        raise ValueError("window needs event times: pass an Interactions with timestamps, "
                         "or set window=None to count co-occurrence over whole histories.")
    order = interactions.time_order()  # by user, then time, ties in input order
    users, items = interactions.users[order], interactions.items[order]
    first, second = [], []
    for offset in range(1, window + 1):
        same_user = users[offset:] == users[:-offset]
        first.append(items[:-offset][same_user])
        second.append(items[offset:][same_user])
    first, second = np.concatenate(first), np.concatenate(second)
    rows, cols = np.concatenate([first, second]), np.concatenate([second, first])
    counts = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_items, n_items))
    counts.setdiag(0)
    counts.eliminate_zeros()
    return counts


def positive_pmi(counts):
    """``max(0, log(c_ij * total / (c_i * c_j)))`` on the stored entries of a co-occurrence matrix."""
    counts = sp.coo_matrix(counts, dtype=np.float64)
    marginals = np.asarray(counts.sum(axis=1)).ravel()
    pmi = np.log(counts.data * counts.sum() / (marginals[counts.row] * marginals[counts.col]))
    keep = pmi > 0
    return sp.csr_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape=counts.shape)


class CooccurrenceEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Item vectors from the truncated SVD of item co-occurrence (Levy and Goldberg, 2014).

    Two items co-occur when the same user interacted with both (anywhere in
    the history, or within ``window`` consecutive events). With
    ``method="ppmi-svd"`` the counts become positive pointwise mutual
    information, which discounts popular items; ``method="svd"`` factorises
    ``log(1 + count)`` instead. The item vectors are ``U sqrt(S)``.

    ``transform`` maps users (rows of an interaction matrix) to the mean
    vector of their items, so the embedding serves as features; the item
    vectors are ``item_factors_``, so :class:`ItemEmbeddings` and
    :meth:`similar_items` use them directly.

    Parameters
    ----------
    n_components : int, default=64
        Dimension of the vectors; must be below the number of items.
    method : {"ppmi-svd", "svd"}, default="ppmi-svd"
    window : int, default=None
        Count only pairs at most this many events apart in a user's
        time-ordered history (needs an Interactions with timestamps); None
        counts every pair of items of a user.
    random_state : int, numpy RandomState or None, default=None
        Seed of the randomised SVD.

    Attributes
    ----------
    item_factors_ : ndarray of shape (n_items, n_components)
    singular_values_ : ndarray of shape (n_components,)
    n_items_ : int
    n_features_in_ : int
        ``n_items_``, under scikit-learn's name.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.embeddings import CooccurrenceEmbedding
    >>> X = make_interactions(200, 50, density=0.1, random_state=0).to_csr()
    >>> model = CooccurrenceEmbedding(n_components=8, random_state=0).fit(X)
    >>> model.item_factors_.shape, model.transform(X[:3]).shape
    ((50, 8), (3, 8))
    >>> ids, scores = model.similar_items([0, 1], n=5)
    >>> ids.shape
    (2, 5)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"ppmi-svd", "svd"})],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=64, method="ppmi-svd", window=None, random_state=None):
        self.n_components = n_components
        self.method = method
        self.window = window
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the item vectors on the co-occurrence of items in X.

        Parameters
        ----------
        X : sparse matrix of shape (n_users, n_items) or Interactions
            Interactions; an Interactions with timestamps when ``window`` is set.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        from recsys.datasets import Interactions

        self._validate_params()
        if self.window is not None and not isinstance(X, Interactions):
            raise TypeError("window needs event order: pass an Interactions with timestamps, "
                            "not a matrix, or set window=None.")
        matrix = check_interaction_matrix(X)
        self.n_items_ = self.n_features_in_ = matrix.shape[1]
        if self.n_components >= self.n_items_:
            raise ValueError(f"n_components={self.n_components} must be below the number of items "
                             f"({self.n_items_}); lower n_components.")
        if self.window is None:
            counts = _user_cooccurrence(matrix)
        else:
            counts = _window_cooccurrence(X, self.window, self.n_items_)
        if counts.nnz == 0:
            raise ValueError("no two items co-occur in X (every user has a single item); "
                             "co-occurrence embeddings need users with several items.")
        if self.method == "ppmi-svd":
            target = positive_pmi(counts)
        else:
            target = counts.copy()
            target.data = np.log1p(target.data)
        left, singular_values, _ = randomized_svd(target, self.n_components,
                                                  random_state=self.random_state)
        self.item_factors_ = left * np.sqrt(singular_values)
        self.singular_values_ = singular_values
        self._n_features_out = self.n_components
        return self

    def transform(self, X):
        """Mean item vector of each row (user) of X, weighted by its interaction values.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items) or Interactions

        Returns
        -------
        ndarray of shape (n_rows, n_components)
            Zero for a row without interactions.
        """
        check_is_fitted(self)
        X = check_interaction_matrix(X, n_items=self.n_items_, allow_empty=True, dtype=np.float64,
                                     estimator=self)
        totals = np.asarray(X.sum(axis=1))
        summed = np.asarray(X @ self.item_factors_)
        return np.divide(summed, totals, out=np.zeros_like(summed), where=totals > 0)

    def similar_items(self, items, n=10):
        """The n items whose vectors have the highest cosine with each of the given items.

        Parameters
        ----------
        items : int or array-like of int
            Item indices.
        n : int, default=10

        Returns
        -------
        ids : ndarray of shape (n_queries, n), int64
            Best first, never the item itself; -1 past the last item.
        scores : ndarray of shape (len(items), n)
            Cosine similarities; -inf where the id is -1.
        """
        check_is_fitted(self)
        items, n = check_similar_items(items, n, self.n_items_)
        return cosine_similar_items(self.item_factors_, items, n)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        return tags
