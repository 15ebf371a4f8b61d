"""Transformers mapping user or item indices to the vectors of a fitted factor model."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from recsys.retrieval import make_retrieval_index, retrieve_top_n
from recsys.utils import check_similar_items


class _FactorEmbeddings(TransformerMixin, BaseEstimator):
    """Look up rows of a fitted model's ``<kind>_factors_`` (or implicit's ``<kind>_factors``)."""

    _kind = None

    def __init__(self, model):
        self.model = model

    def _factors(self):
        for attribute in (f"{self._kind}_factors_", f"{self._kind}_factors"):
            factors = getattr(self.model, attribute, None)
            if factors is not None:
                return np.asarray(factors.to_numpy() if hasattr(factors, "to_numpy") else factors)
        raise NotFittedError(
            f"{type(self.model).__name__} has no {self._kind}_factors_; pass a fitted factor model "
            f"(e.g. ALS().fit(X)) to {type(self).__name__}, wrapped in "
            "sklearn.frozen.FrozenEstimator when the pipeline is cloned (cross-validation, grid search)."
        )

    def fit(self, X=None, y=None):
        """Copy the factors of the (already fitted) model.

        Parameters
        ----------
        X, y : None
            Ignored; the model is fitted beforehand.

        Returns
        -------
        self : object
        """
        self.embeddings_ = self._factors().copy()
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        """Return the vectors of the indices in X.

        Parameters
        ----------
        X : array-like of int of shape (n_samples,) or (n_samples, 1)
            Indices into the model's users or items.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        indices = self._check_indices(X)
        return self.embeddings_[indices]

    def _check_indices(self, X):
        check_is_fitted(self)
        indices = np.asarray(X)
        if indices.ndim == 2 and indices.shape[1] == 1:
            indices = indices[:, 0]
        if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(
                f"X must be integer {self._kind} indices of shape (n_samples,) or (n_samples, 1); "
                f"got dtype {indices.dtype} and shape {np.shape(X)}. Map raw ids to indices first."
            )
        n_vectors = len(self.embeddings_)
        if indices.size and (indices.min() < 0 or indices.max() >= n_vectors):
            raise ValueError(f"{self._kind} indices must lie in [0, {n_vectors}); got "
                             f"values in [{indices.min()}, {indices.max()}].")
        return indices

    def get_feature_names_out(self, input_features=None):
        """Names ``<kind>_embedding0``, ``<kind>_embedding1``, ..."""
        check_is_fitted(self)
        return np.array([f"{self._kind}_embedding{index}" for index in range(self.embeddings_.shape[1])],
                        dtype=object)


class ItemEmbeddings(_FactorEmbeddings):
    """Map item indices to the item vectors of a fitted factor model.

    Works with any model exposing ``item_factors_`` (recsys' factor models,
    :class:`CooccurrenceEmbedding`) or implicit's ``item_factors``, so the
    vectors become features of any scikit-learn pipeline.
    :meth:`similar_items` finds the items of most similar vectors (cosine),
    exactly or, with ``retrieval`` set, through a faiss index: the
    similar-items path of catalogues too large to compare every pair.

    Parameters
    ----------
    model : estimator
        A fitted model with ``item_factors_`` of shape (n_items, n_components).
    retrieval : None, str or FaissNearestNeighbors, default=None
        None compares every item in :meth:`similar_items`. An index spec
        (``"flat"``, ``"hnsw"``, ``"ivf"``, ``"ivfpq"`` or a faiss factory
        string) or a :class:`~recsys.neighbors.FaissNearestNeighbors` of
        metric ``"cosine"`` (cloned) makes fit index the vectors and
        :meth:`similar_items` search that index.

    Attributes
    ----------
    embeddings_ : ndarray of shape (n_items, n_components)
    retrieval_index_ : FaissNearestNeighbors or None
        The fitted index over ``embeddings_`` when ``retrieval`` is set.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from recsys.embeddings import ItemEmbeddings
    >>> model = SimpleNamespace(item_factors_=np.arange(6.0).reshape(3, 2))
    >>> ItemEmbeddings(model).fit().transform([2, 0])
    array([[4., 5.],
           [0., 1.]])
    >>> ids, scores = ItemEmbeddings(model, retrieval="flat").fit().similar_items([0], n=2)
    >>> ids
    array([[1, 2]])
    """

    _kind = "item"

    def __init__(self, model, retrieval=None):
        super().__init__(model)
        self.retrieval = retrieval

    def fit(self, X=None, y=None):
        """Copy the item factors of the (already fitted) model and index them if asked.

        Parameters
        ----------
        X, y : None
            Ignored; the model is fitted beforehand.

        Returns
        -------
        self : object
        """
        super().fit(X, y)
        self.retrieval_index_ = None
        if self.retrieval is not None:
            self.retrieval_index_ = make_retrieval_index(self.retrieval, metric="cosine").fit(
                self.embeddings_)
        return self

    def similar_items(self, items, n=10):
        """The n items whose vectors have the highest cosine with each of the given items.

        The query item itself is never returned; an item of zero vector is
        similar to nothing (cosine 0).

        Parameters
        ----------
        items : int or array-like of int
            Item indices.
        n : int, default=10

        Returns
        -------
        ids : ndarray of shape (n_queries, n), int64
            Most similar first; -1 where fewer than n items were found.
        scores : ndarray of shape (n_queries, n)
            Cosine similarities; -inf where the id is -1.
        """
        check_is_fitted(self)
        queries, n = check_similar_items(items, n, len(self.embeddings_))
        vectors = np.asarray(self.embeddings_, dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        themselves = sp.csr_matrix((np.ones(len(queries)), (np.arange(len(queries)), queries)),
                                   shape=(len(queries), len(unit)))
        return retrieve_top_n(self.retrieval_index_, unit, unit[queries], n, exclude=themselves)


class UserEmbeddings(_FactorEmbeddings):
    """Map user indices to the user vectors of a fitted factor model.

    Parameters
    ----------
    model : estimator
        A fitted model with ``user_factors_`` of shape (n_users, n_components)
        (or implicit's ``user_factors``).

    Attributes
    ----------
    embeddings_ : ndarray of shape (n_users, n_components)

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from recsys.embeddings import UserEmbeddings
    >>> model = SimpleNamespace(user_factors_=np.eye(2))
    >>> UserEmbeddings(model).fit().transform([[1]])
    array([[0., 1.]])
    """

    _kind = "user"
