"""Multi-table LSH with exact re-ranking: CosineLSH (SimHash) and EuclideanLSH (p-stable)."""

import numbers
from abc import abstractmethod
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from recsys.hashing._buckets import BucketTables, combine_columns
from recsys.hashing._persistence import IndexPersistenceMixin, csr_from_state, csr_state
from recsys.hashing._pstable import PStableHasher
from recsys.hashing._simhash import SimHasher
from recsys.utils import check_positive_int


def _rows_dot(A, B):
    """Row-wise dot products of two equally long stacks of rows (dense or sparse)."""
    if sp.issparse(A):
        return np.asarray(A.multiply(B).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", A, B)


class _MultiTableLSH(IndexPersistenceMixin, BaseEstimator):
    """Candidates from ``n_tables`` hash tables, then exact scores of the candidates only."""

    higher_is_better = True
    # Rebuilt from the tables' seeds on load (see _restore_state).
    _derived_attributes = ("hashers_",)

    def fit(self, X, y=None):
        """Hash and store the rows of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64)
        random_state = check_random_state(self.seed)
        self._table_seeds = random_state.randint(2**31 - 1, size=self.n_tables)
        self._build(X)
        return self

    def _build(self, X):
        # A hasher draws its projections from its seed and the number of features alone.
        features = np.zeros((1, self.n_features_in_))
        self.hashers_ = [self._make_hasher(int(seed)).fit(features) for seed in self._table_seeds]
        self._X = X
        self._tables = BucketTables(self.n_tables)
        self._tables.add(self._keys(X), np.arange(X.shape[0]))

    def _persistent_state(self):
        # The bucket tables are the stored rows hashed again: recomputed on load.
        data = csr_state("fit_data", self._X) if sp.issparse(self._X) else {"fit_data_": self._X}
        return {"table_seeds_": self._table_seeds, **data}

    def _restore_state(self, state):
        self._table_seeds = state["table_seeds_"]
        X = state["fit_data_"] if "fit_data_" in state else csr_from_state("fit_data", state)
        if len(self._table_seeds) != self.n_tables or X.ndim != 2 \
                or X.shape[1] != self.n_features_in_:
            raise ValueError(f"the saved tables or data do not fit n_tables={self.n_tables}, "
                             f"n_features_in_={self.n_features_in_}; the file is damaged.")
        self._build(X)

    def _keys(self, X):
        return np.column_stack([combine_columns(hasher.transform(X)) for hasher in self.hashers_])

    @abstractmethod
    def _make_hasher(self, seed):
        """One table's hasher."""

    @abstractmethod
    def _exact(self, queries, stored):
        """Exact scores of paired rows of queries and stored."""

    def query(self, X):
        """Indices of the stored rows sharing a bucket with each row of X (list of arrays)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        rows, ids = self._tables.candidate_pairs(self._keys(X))
        bounds = np.searchsorted(rows, np.arange(X.shape[0] + 1))
        return [ids[bounds[q]:bounds[q + 1]] for q in range(X.shape[0])]

    def kneighbors(self, X, n_neighbors=5):
        """The n_neighbors best candidates of each row of X, by exact score.

        Returns
        -------
        scores : ndarray of shape (n_rows, n_neighbors)
            Best first; NaN where fewer candidates were found.
        indices : ndarray of shape (n_rows, n_neighbors), int64
            Row indices of the fitted data; -1 where fewer candidates were found.
        """
        check_is_fitted(self)
        n_neighbors = check_positive_int(n_neighbors, "n_neighbors")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        rows, ids = self._tables.candidate_pairs(self._keys(X))
        scores = self._exact(X[rows], self._X[ids])
        order = np.lexsort((-scores if self.higher_is_better else scores, rows))
        rows, ids, scores = rows[order], ids[order], scores[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
        kept = rank < n_neighbors
        best = np.full((X.shape[0], n_neighbors), np.nan)
        indices = np.full((X.shape[0], n_neighbors), -1, dtype=np.int64)
        best[rows[kept], rank[kept]] = scores[kept]
        indices[rows[kept], rank[kept]] = ids[kept]
        return best, indices

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class CosineLSH(_MultiTableLSH):
    """Cosine-similarity neighbours: SimHash tables, exact cosine re-ranking.

    Two rows fall in the same bucket of a table when all ``n_bits`` of their
    SimHash codes agree, with probability ``(1 - angle / pi) ** n_bits``;
    ``n_tables`` tables raise the chance of meeting in at least one.

    Parameters
    ----------
    n_bits : int, default=16
        Bits per table's code (at most 64).
    n_tables : int, default=8
    seed : int, RandomState instance or None, default=None

    Attributes
    ----------
    hashers_ : list of SimHasher
        One per table.

    Notes
    -----
    ``save(path)`` / ``CosineLSH.load(path)`` keep the fitted rows and the
    tables' seeds, without pickle; hashers and tables are rebuilt on load.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.hashing import CosineLSH
    >>> X = np.random.default_rng(0).standard_normal((100, 8))
    >>> index = CosineLSH(n_bits=8, n_tables=8, seed=0).fit(X)
    >>> similarity, indices = index.kneighbors(X[:2], n_neighbors=1)
    >>> indices.tolist(), similarity.round(6).tolist()
    ([[0], [1]], [[1.0], [1.0]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_bits": [Interval(numbers.Integral, 1, 64, closed="both")],
        "n_tables": [Interval(numbers.Integral, 1, None, closed="left")],
        "seed": ["random_state"],
    }

    def __init__(self, n_bits=16, n_tables=8, seed=None):
        self.n_bits = n_bits
        self.n_tables = n_tables
        self.seed = seed

    def _make_hasher(self, seed):
        return SimHasher(n_bits=self.n_bits, seed=seed)

    def _exact(self, queries, stored):
        norms = np.sqrt(_rows_dot(queries, queries) * _rows_dot(stored, stored))
        return np.divide(_rows_dot(queries, stored), norms, out=np.zeros(len(norms)), where=norms > 0)


class EuclideanLSH(_MultiTableLSH):
    """Euclidean neighbours: p-stable hash tables, exact distance re-ranking.

    Parameters
    ----------
    n_hashes : int, default=4
        p-stable hashes concatenated per table (all must agree for a collision).
    width : float, default=4.0
        Bucket width of the hashes, in the units of the data.
    n_tables : int, default=8
    seed : int, RandomState instance or None, default=None

    Attributes
    ----------
    hashers_ : list of PStableHasher
        One per table.

    Notes
    -----
    ``save(path)`` / ``EuclideanLSH.load(path)`` keep the fitted rows and the
    tables' seeds, without pickle; hashers and tables are rebuilt on load.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.hashing import EuclideanLSH
    >>> X = np.random.default_rng(0).standard_normal((100, 4))
    >>> index = EuclideanLSH(n_hashes=2, width=2.0, seed=0).fit(X)
    >>> distance, indices = index.kneighbors(X[:2] + 0.01, n_neighbors=1)
    >>> indices.tolist()
    [[0], [1]]
    """

    higher_is_better = False

    _parameter_constraints: ClassVar[dict] = {
        "n_hashes": [Interval(numbers.Integral, 1, None, closed="left")],
        "width": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_tables": [Interval(numbers.Integral, 1, None, closed="left")],
        "seed": ["random_state"],
    }

    def __init__(self, n_hashes=4, width=4.0, n_tables=8, seed=None):
        self.n_hashes = n_hashes
        self.width = width
        self.n_tables = n_tables
        self.seed = seed

    def _make_hasher(self, seed):
        return PStableHasher(n_hashes=self.n_hashes, width=self.width, seed=seed)

    def _exact(self, queries, stored):
        difference = queries - stored
        return np.sqrt(_rows_dot(difference, difference))
