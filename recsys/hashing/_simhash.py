"""Random-hyperplane LSH for cosine similarity (Charikar 2002)."""

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from recsys.utils import PersistenceMixin


def _check_packed(A, B):
    A, B = np.asarray(A), np.asarray(B)
    if A.dtype != np.uint64 or B.dtype != np.uint64 or A.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(
            "SimHash codes must be 2-d uint64 arrays with the same number of words, as "
            f"SimHasher.transform returns; got {A.dtype} {A.shape} and {B.dtype} {B.shape}."
        )
    return A, B


def hamming_distance(A, B):
    """Number of differing bits between paired rows of packed codes A and B.

    Returns
    -------
    distance : ndarray of shape (n_rows,), int64
    """
    A, B = _check_packed(A, B)
    return np.bitwise_count(A ^ B).sum(axis=1, dtype=np.int64)


def cosine_from_hamming(hamming, n_bits):
    """Cosine similarity estimated from the Hamming distance of two SimHash codes.

    A random hyperplane separates two vectors with probability angle / pi, so
    ``cos(pi * hamming / n_bits)`` estimates their cosine similarity.

    Examples
    --------
    >>> from recsys.hashing import cosine_from_hamming
    >>> float(cosine_from_hamming(0, 64)), float(cosine_from_hamming(32, 64)).__round__(6)
    (1.0, 0.0)
    """
    return np.cos(np.pi * np.asarray(hamming, dtype=np.float64) / n_bits)


class SimHasher(PersistenceMixin, TransformerMixin, BaseEstimator):
    """Sign bits of random projections, packed into uint64 words (SimHash).

    Bit i of a row's code is 1 when the row lies on the positive side of the
    i-th random hyperplane through the origin; two rows disagree on a bit with
    probability angle / pi, so Hamming distance estimates the angle (see
    :func:`cosine_from_hamming`).

    Parameters
    ----------
    n_bits : int, default=64
        Number of hyperplanes (bits per code).
    seed : int, RandomState instance or None, default=None
        Seeds the hyperplanes.

    Attributes
    ----------
    hyperplanes_ : ndarray of shape (n_features_in_, n_bits)
        Normals of the hyperplanes (standard Gaussian).
    n_words_ : int
        uint64 words per code, ``ceil(n_bits / 64)``; bit i lives in word
        ``i // 64`` at position ``i % 64`` and unused high bits are 0.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.hashing import SimHasher, hamming_distance
    >>> X = np.array([[1.0, 0.0], [1.0, 0.1], [-1.0, 0.0]])
    >>> codes = SimHasher(n_bits=128, seed=0).fit_transform(X)
    >>> codes.shape, codes.dtype
    ((3, 2), dtype('uint64'))
    >>> bool(hamming_distance(codes[:1], codes[1:2])[0] < hamming_distance(codes[:1], codes[2:])[0])
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_bits": [Interval(numbers.Integral, 1, None, closed="left")],
        "seed": ["random_state"],
    }

    def __init__(self, n_bits=64, seed=None):
        self.n_bits = n_bits
        self.seed = seed

    def fit(self, X, y=None):
        """Draw the hyperplanes for the n_features of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr")
        self.hyperplanes_ = check_random_state(self.seed).standard_normal((X.shape[1], self.n_bits))
        self.n_words_ = -(-self.n_bits // 64)
        return self

    def transform(self, X):
        """Return the packed SimHash codes of the rows of X.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_words_), uint64
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        projections = X @ self.hyperplanes_
        projections = projections.toarray() if sp.issparse(projections) else projections
        bits = np.zeros((X.shape[0], self.n_words_ * 64), dtype=bool)
        bits[:, :self.n_bits] = projections > 0
        packed = np.packbits(bits, axis=1, bitorder="little")
        return np.ascontiguousarray(packed).view("<u8").astype(np.uint64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # Codes are integers whatever the input's float dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags
