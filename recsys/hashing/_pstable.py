"""p-stable LSH for Euclidean distance (Datar, Immorlica, Indyk and Mirrokni 2004)."""

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from recsys.utils import PersistenceMixin


class PStableHasher(PersistenceMixin, TransformerMixin, BaseEstimator):
    """Quantised Gaussian projections: ``floor((x . a + b) / width)``.

    Gaussian projections are 2-stable, so two points at Euclidean distance d
    get the same hash with a probability that falls with d / width.

    Parameters
    ----------
    n_hashes : int, default=8
        Number of hash functions (output columns).
    width : float, default=4.0
        Bucket width w, in the units of the data; pick it near the distance
        under which points should collide.
    seed : int, RandomState instance or None, default=None
        Seeds the projections and offsets.

    Attributes
    ----------
    projections_ : ndarray of shape (n_features_in_, n_hashes)
        Standard Gaussian projection vectors.
    offsets_ : ndarray of shape (n_hashes,)
        Offsets b drawn uniformly from [0, width).

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.hashing import PStableHasher
    >>> X = np.array([[0.0, 0.0], [0.01, 0.0], [50.0, 50.0]])
    >>> hashes = PStableHasher(n_hashes=4, width=1.0, seed=0).fit_transform(X)
    >>> hashes.shape, hashes.dtype
    ((3, 4), dtype('int64'))
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_hashes": [Interval(numbers.Integral, 1, None, closed="left")],
        "width": [Interval(numbers.Real, 0, None, closed="neither")],
        "seed": ["random_state"],
    }

    def __init__(self, n_hashes=8, width=4.0, seed=None):
        self.n_hashes = n_hashes
        self.width = width
        self.seed = seed

    def fit(self, X, y=None):
        """Draw the projections for the n_features of X.

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
        random_state = check_random_state(self.seed)
        self.projections_ = random_state.standard_normal((X.shape[1], self.n_hashes))
        self.offsets_ = random_state.uniform(0.0, self.width, self.n_hashes)
        return self

    def transform(self, X):
        """Return the integer bucket of each row under each hash function.

        Returns
        -------
        hashes : ndarray of shape (n_samples, n_hashes), int64
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        projections = X @ self.projections_
        projections = projections.toarray() if sp.issparse(projections) else projections
        return np.floor((projections + self.offsets_) / self.width).astype(np.int64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # Codes are integers whatever the input's float dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags
