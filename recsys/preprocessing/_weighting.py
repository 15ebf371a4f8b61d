"""Re-weighting of a users x items interaction matrix (BM25, TF-IDF, confidence)."""

import warnings
from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from recsys.utils import PersistenceMixin, check_interaction_matrix

SCHEMES = ("bm25", "tfidf", "log", "confidence")


class InteractionWeighter(PersistenceMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Re-weight the stored entries of a users x items matrix.

    The matrix is read as a corpus, as in implicit's ``bm25_weight`` and
    ``tfidf_weight``: with ``documents="items"`` each item is a document whose
    terms are the users who interacted with it (implicit's usage before ALS and
    in its ``BM25Recommender``: ``bm25_weight(X.T).T``); with
    ``documents="users"`` each user is a document whose terms are items
    (``bm25_weight(X)``). With N documents, df(t) the number of documents
    holding term t and ``length(d)`` the sum of document d's values:

    - ``"bm25"``: ``x (K1 + 1) / (K1 ((1 - B) + B length(d) / mean_length) + x) * idf(t)``
    - ``"tfidf"``: ``sqrt(x) * idf(t)``, with ``idf(t) = log(N) - log1p(df(t))``
    - ``"log"``: ``1 + alpha log1p(x)`` and ``"confidence"``: ``1 + alpha x``, the
      confidences of Hu, Koren and Volinsky (2008), on stored entries only.

    Every statistic comes from the matrix given to ``fit``: the item idf and
    the mean user length (``documents="users"``), the item lengths and their
    mean (``documents="items"``). ``transform`` applies them to any rows, so a
    fold-in user is weighted like a training user and nothing of the
    transformed rows leaks into the statistics. A fold-in user's own row gives
    only what describes that row (its length, or its df as a term).

    Where implicit's idf ``log(N / (df + 1))`` is negative (a term held by
    every document), the weight is clipped to 0 so that the output stays a
    valid non-negative interaction matrix; elsewhere the values equal
    implicit's. The sparsity pattern of the input is kept (clipped entries are
    stored zeros), so ``RecommenderPipeline`` still knows which items a user has.

    Parameters
    ----------
    scheme : {"bm25", "tfidf", "log", "confidence"}, default="bm25"
    K1 : float >= 0, default=100.0
        BM25 term-frequency saturation (implicit's default).
    B : float in [0, 1], default=0.8
        BM25 length normalisation (implicit's default).
    alpha : float > 0, default=1.0
        Confidence scale of "log" and "confidence" (Hu et al. use 40 for
        "confidence").
    documents : {"items", "users"}, default="items"
        Which side of the matrix is the document (see above).

    Attributes
    ----------
    n_features_in_ : int
        Number of items.
    n_users_fit_ : int
        Number of rows of the fit matrix.
    item_idf_ : ndarray of shape (n_items,)
        ``log(n_users_fit_) - log1p(df(item))``, clipped at 0 (documents="users").
    mean_user_length_ : float
        Mean row sum of the fit matrix (documents="users").
    item_length_ : ndarray of shape (n_items,)
        Column sums of the fit matrix (documents="items").
    mean_item_length_ : float
        Their mean over all items (documents="items").

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from recsys.preprocessing import InteractionWeighter
    >>> X = sp.csr_matrix(np.array([[3, 0, 1], [1, 1, 0], [0, 2, 0], [1, 0, 0]]))
    >>> weighter = InteractionWeighter("bm25", K1=1.2, B=0.75, documents="users").fit(X)
    >>> weighter.transform(sp.csr_matrix([[0, 1, 1]])).toarray().round(3)
    array([[0.   , 0.301, 0.726]])
    >>> InteractionWeighter("confidence", alpha=40).fit_transform(X).toarray()[0]
    array([121.,   0.,  41.])
    """

    _fitted_shapes: ClassVar[dict] = {"item_idf_": ("n_features_in_",),  # checked by load
                                      "item_length_": ("n_features_in_",)}
    _parameter_constraints: ClassVar[dict] = {
        "scheme": [StrOptions(set(SCHEMES))],
        "K1": [Interval(Real, 0, None, closed="left")],
        "B": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "documents": [StrOptions({"items", "users"})],
    }

    def __init__(self, scheme="bm25", K1=100.0, B=0.8, alpha=1.0, documents="items"):
        self.scheme = scheme
        self.K1 = K1
        self.B = B
        self.alpha = alpha
        self.documents = documents

    def fit(self, X, y=None):
        """Learn the corpus statistics of X.

        Parameters
        ----------
        X : sparse matrix of shape (n_users, n_items), ndarray or Interactions
            Non-negative interaction counts or weights.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = check_interaction_matrix(X, dtype=np.float64)
        n_users, n_items = X.shape
        self.n_features_in_ = n_items
        self.n_users_fit_ = n_users
        document_frequency = np.bincount(X.indices, minlength=n_items)
        self.item_idf_ = _idf(n_users, document_frequency)
        self.mean_user_length_ = float(X.sum() / n_users)
        self.item_length_ = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
        self.mean_item_length_ = float(self.item_length_.mean())
        if self.scheme in ("bm25", "tfidf"):
            if self.documents == "users":
                term_idf = self.item_idf_[X.indices]
            else:
                term_idf = _idf(n_items, np.diff(X.indptr))[np.diff(X.indptr) > 0]
            if not term_idf.any():
                warnings.warn(
                    f"every {self.scheme} weight of the fit matrix is 0: each term is held by (nearly) "
                    f"every document (documents={self.documents!r}), so its idf is 0. The matrix is "
                    "too dense for this weighting; use scheme='confidence' or 'log'.",
                    UserWarning, stacklevel=2,
                )
        return self

    def transform(self, X):
        """Weight the rows of X with the statistics learned in ``fit``.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items), ndarray or Interactions

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_rows, n_items), float64
            The same stored positions as X (after summing duplicates and
            dropping stored zeros), re-weighted.
        """
        check_is_fitted(self)
        X = check_interaction_matrix(X, n_items=self.n_features_in_, dtype=np.float64,
                                     allow_empty=True, estimator=self)
        weighted = X.copy()
        values = weighted.data
        row_of_entry = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        if self.scheme == "log":
            weighted.data = 1.0 + self.alpha * np.log1p(values)
        elif self.scheme == "confidence":
            weighted.data = 1.0 + self.alpha * values
        else:
            if self.documents == "users":
                idf = self.item_idf_[X.indices]
                length_norm = self._length_norm(np.asarray(X.sum(axis=1)).ravel(),
                                                self.mean_user_length_)[row_of_entry]
            else:
                # A user is a term: its df is the number of items it holds.
                idf = _idf(self.n_features_in_, np.diff(X.indptr))[row_of_entry]
                length_norm = self._length_norm(self.item_length_, self.mean_item_length_)[X.indices]
            if self.scheme == "tfidf":
                weighted.data = np.sqrt(values) * idf
            else:
                weighted.data = values * (self.K1 + 1.0) / (self.K1 * length_norm + values) * idf
        return weighted

    def _length_norm(self, lengths, mean_length):
        # An all-zero fit corpus cannot happen (fit rejects it); guard the
        # division for mean 0 anyway, where every length is 0 too.
        return (1.0 - self.B) + self.B * lengths / (mean_length if mean_length > 0 else 1.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.requires_fit = True
        return tags


def _idf(n_documents, document_frequency):
    """implicit's ``log(N) - log1p(df)``, clipped at 0 for terms in every document."""
    return np.maximum(np.log(n_documents) - np.log1p(document_frequency), 0.0)
