"""Weighted MinHash for weighted Jaccard similarity, through datasketch (Ioffe 2010)."""

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from recsys.utils import PersistenceMixin


def weighted_jaccard_from_signatures(A, B):
    """Weighted Jaccard similarity estimated from paired rows of weighted MinHash signatures.

    The share of samples whose (index, level) pairs agree, as
    ``datasketch.WeightedMinHash.jaccard``.

    Parameters
    ----------
    A, B : ndarray of shape (n_rows, n_perm, 2)
        Signatures from :meth:`WeightedMinHasher.transform`.

    Returns
    -------
    similarity : ndarray of shape (n_rows,)
    """
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim != 3 or A.shape != B.shape or A.shape[2] != 2:
        raise ValueError("weighted MinHash signatures must be arrays of equal shape "
                         f"(n_rows, n_perm, 2); got {A.shape} and {B.shape}.")
    return np.all(A == B, axis=2).mean(axis=1)


class WeightedMinHasher(PersistenceMixin, TransformerMixin, BaseEstimator):
    """Weighted MinHash signatures of non-negative vectors (datasketch's generator).

    For non-negative vectors x and y the weighted Jaccard similarity is
    ``sum(min(x, y)) / sum(max(x, y))`` (for 0/1 vectors, plain Jaccard);
    the share of signature samples on which two rows agree estimates it
    without bias, with standard error at most ``0.5 / sqrt(n_perm)``. Use it
    for ratings, play counts or tf-idf weights, where MinHash would only see
    which entries are non-zero.

    Parameters
    ----------
    n_perm : int, default=128
        Samples per signature (datasketch's ``sample_size``).
    seed : int, default=1
        Seed of datasketch's ``WeightedMinHashGenerator``.

    Attributes
    ----------
    n_features_in_ : int
        Dimension of the vectors (datasketch's ``dim``).

    Notes
    -----
    Signatures equal those of ``datasketch.WeightedMinHashGenerator(dim,
    sample_size=n_perm, seed=seed).minhash(row)`` value for value, so they
    move between the libraries (:meth:`to_datasketch`, or pass a list of
    ``datasketch.WeightedMinHash`` to :meth:`transform`). datasketch computes
    in float32 and draws three ``n_perm x n_features`` float32 arrays, so the
    memory is ``12 * n_perm * n_features`` bytes. An all-zero row has no
    signature and raises.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.hashing import WeightedMinHasher, weighted_jaccard_from_signatures
    >>> X = np.array([[3.0, 1.0, 0.0, 2.0], [3.0, 2.0, 0.0, 1.0]])
    >>> signatures = WeightedMinHasher(n_perm=256, seed=0).fit_transform(X)
    >>> signatures.shape
    (2, 256, 2)
    >>> exact = np.minimum(X[0], X[1]).sum() / np.maximum(X[0], X[1]).sum()
    >>> bool(abs(weighted_jaccard_from_signatures(signatures[:1], signatures[1:])[0] - exact) < 0.1)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_perm": [Interval(numbers.Integral, 1, None, closed="left")],
        "seed": [Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],
    }

    def __init__(self, n_perm=128, seed=1):
        self.n_perm = n_perm
        self.seed = seed

    def fit(self, X, y=None):
        """Draw datasketch's samples for the n_features of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), non-negative
        y : ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64)
        check_non_negative(X, "WeightedMinHasher.fit")
        self._build()
        return self

    def _rebuild_derived(self):
        # After load: datasketch's generator is a function of (n_features, n_perm, seed).
        self._build()

    def _build(self):
        from datasketch import WeightedMinHashGenerator

        self._generator = WeightedMinHashGenerator(self.n_features_in_, sample_size=self.n_perm,
                                                   seed=self.seed)

    def transform(self, X):
        """Weighted MinHash signatures of the rows of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or list of datasketch.WeightedMinHash
            Non-negative vectors with at least one positive entry each.

        Returns
        -------
        signatures : ndarray of shape (n_samples, n_perm, 2), int64
            Per sample datasketch's (index, level) pair.
        """
        check_is_fitted(self)
        if isinstance(X, (list, tuple)) and X and hasattr(X[0], "hashvalues"):
            return self._from_datasketch(X)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        check_non_negative(X, "WeightedMinHasher.transform")
        nonzero = (X.getnnz(axis=1) if sp.issparse(X) else np.count_nonzero(X, axis=1)) > 0
        if not nonzero.all():
            empty = np.flatnonzero(~nonzero)
            raise ValueError(f"{len(empty)} row(s) of X are all zero (e.g. row {empty[0]}); a "
                             "weighted MinHash needs a positive entry. Drop those rows first.")
        signatures = np.empty((X.shape[0], self.n_perm, 2), dtype=np.int64)
        for row in range(X.shape[0]):
            vector = X[row].toarray().ravel() if sp.issparse(X) else X[row]
            signatures[row] = self._generator.minhash(vector).hashvalues
        return signatures

    def _from_datasketch(self, minhashes):
        for minhash in minhashes:
            if minhash.seed != self.seed or len(minhash.hashvalues) != self.n_perm:
                raise ValueError(
                    f"a WeightedMinHash has seed={minhash.seed}, {len(minhash.hashvalues)} samples "
                    f"but this hasher has seed={self.seed}, n_perm={self.n_perm}; rebuild one to match."
                )
        return np.array([minhash.hashvalues for minhash in minhashes], dtype=np.int64)

    def to_datasketch(self, X):
        """The signatures of X as ``datasketch.WeightedMinHash`` objects.

        Parameters
        ----------
        X : {array-like, sparse matrix} or ndarray of shape (n_samples, n_perm, 2)
            Vectors, or signatures from :meth:`transform`.

        Returns
        -------
        minhashes : list of datasketch.WeightedMinHash
        """
        from datasketch import WeightedMinHash

        check_is_fitted(self)
        if isinstance(X, np.ndarray) and X.ndim == 3:
            if X.shape[1:] != (self.n_perm, 2):
                raise ValueError(f"signatures of shape {X.shape} are not this hasher's "
                                 f"(n_samples, {self.n_perm}, 2).")
            signatures = X
        else:
            signatures = self.transform(X)
        return [WeightedMinHash(self.seed, row.copy()) for row in signatures]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = []
        return tags
