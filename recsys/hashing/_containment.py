"""Containment search over sets with datasketch's LSH Ensemble (Zhu et al. 2016)."""

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from recsys.hashing._minhash import (
    MinHasher,
    check_set_matrix,
    set_input_tags,
    to_lean_minhashes,
    tokens_to_csr,
)
from recsys.hashing._persistence import IndexPersistenceMixin, check_saveable_keys
from recsys.hashing._schemes import SCHEMES


def set_sizes(X):
    """Number of distinct elements of each set of X (binary matrix or token sets)."""
    if sp.issparse(X) or (isinstance(X, np.ndarray) and X.dtype != object):
        return check_set_matrix(X).getnnz(axis=1).astype(np.int64)
    matrix, _ = tokens_to_csr(X)
    return matrix.getnnz(axis=1).astype(np.int64)


class ContainmentLSH(IndexPersistenceMixin, BaseEstimator):
    """Indexed sets that contain most of a query set: LSH Ensemble over MinHash.

    The containment of a query set Q in an indexed set S is ``|Q & S| / |Q|``
    (1 when S holds all of Q). Jaccard similarity punishes S for being much
    larger than Q; containment does not, which is what "which baskets / item
    lists include this set" asks. The index is datasketch's
    ``MinHashLSHEnsemble``: it partitions the sets by size and, per partition,
    banded MinHash LSH tuned to the containment threshold given the sizes.
    The result is approximate: a set above the threshold can be missed and one
    below can be returned, less often the further it is from the threshold.

    Parameters
    ----------
    threshold : float in (0, 1], default=0.8
        Containment of the query in an indexed set that makes it a result.
    n_perm : int, default=128
        MinHash signature length.
    n_partitions : int, default=16
        Size partitions (datasketch's ``num_part``): more is more accurate
        and slower to query.
    m : int, default=8
        Memory factor (datasketch's ``m``, at most ``n_perm``): the ensemble
        takes about m times the memory of one MinHash LSH; higher is more accurate.
    weights : (float, float), default=(0.5, 0.5)
        Weights of false positives and false negatives in the tuning; they sum to 1.
    seed : int, default=1
        Seed of the MinHash permutations.
    scheme : {"affine32", "affine64", "legacy"}, default="affine32"
        datasketch's permutation scheme (see :class:`MinHasher`).

    Attributes
    ----------
    keys_ : ndarray of object
        Key of each indexed set.
    signatures_ : ndarray of shape (n_sets, n_perm)
        MinHash signatures of the indexed sets.
    set_sizes_ : ndarray of shape (n_sets,), int64
        Number of distinct elements of each indexed set; empty sets (size 0)
        are stored but never returned.

    Notes
    -----
    Input is a binary set matrix or an iterable of token sets, as for
    :class:`MinHasher` (sizes are needed, so signatures alone do not do).

    ``save(path)`` / ``ContainmentLSH.load(path)`` keep keys (int or str),
    signatures and sizes, without pickle; the ensemble is rebuilt on load.

    Misses concentrate on small queries against much larger sets, whose
    Jaccard similarity is a few percent whatever the containment: on
    generated sets of 20-400 elements and queries of 10-60 (threshold 0.7,
    ``n_perm=256``), the default weights returned 81% of the pairs with
    containment >= 0.8 and 0.5% of those <= 0.4; ``weights=(0.2, 0.8)``
    returned 100% and 15% (see ``tests/hashing/test_datasketch_interop.py``).

    Examples
    --------
    >>> from recsys.hashing import ContainmentLSH
    >>> words = [f"w{i}" for i in range(40)]
    >>> index = ContainmentLSH(threshold=0.8).fit(
    ...     [words, words[:10], ["x", "y", "z"]], keys=["all", "first ten", "xyz"])
    >>> index.query([words[:8]])
    [['all', 'first ten']]
    """

    _parameter_constraints: ClassVar[dict] = {
        "threshold": [Interval(numbers.Real, 0, 1, closed="right")],
        "n_perm": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_partitions": [Interval(numbers.Integral, 1, None, closed="left")],
        "m": [Interval(numbers.Integral, 2, None, closed="left")],
        "weights": [tuple, list],
        "seed": [Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],
        "scheme": [StrOptions(set(SCHEMES))],
    }

    def __init__(self, threshold=0.8, n_perm=128, n_partitions=16, m=8, weights=(0.5, 0.5),
                 seed=1, scheme="affine32"):
        self.threshold = threshold
        self.n_perm = n_perm
        self.n_partitions = n_partitions
        self.m = m
        self.weights = weights
        self.seed = seed
        self.scheme = scheme

    def _hasher(self):
        return MinHasher(n_perm=self.n_perm, seed=self.seed, scheme=self.scheme).fit()

    def __sklearn_tags__(self):
        return set_input_tags(super().__sklearn_tags__())

    def fit(self, X, y=None, keys=None):
        """Index the sets of X.

        Parameters
        ----------
        X : binary matrix of shape (n_sets, n_elements) or iterable of token sets
        y : ignored
        keys : sequence of hashable, default=None
            One key per set; defaults to the row numbers.

        Returns
        -------
        self : object
        """
        self._validate_params()
        weights = tuple(float(w) for w in self.weights)
        if len(weights) != 2 or min(weights) < 0 or abs(sum(weights) - 1) > 1e-9:
            raise ValueError(f"weights must be two non-negative numbers summing to 1 "
                             f"(false-positive weight, false-negative weight); got {weights!r}.")
        if self.m > self.n_perm:
            raise ValueError(f"m ({self.m}) cannot exceed n_perm ({self.n_perm}).")
        X = X if sp.issparse(X) or isinstance(X, np.ndarray) else list(X)
        sizes = set_sizes(X)
        if keys is None:
            keys = range(len(sizes))
        keys = keys.tolist() if isinstance(keys, np.ndarray) else list(keys)
        if len(keys) != len(sizes):
            raise ValueError(f"got {len(keys)} keys for {len(sizes)} sets; give one per set.")
        if not sizes.any():
            raise ValueError("every set of X is empty; containment needs at least one element.")
        self.keys_ = np.empty(len(keys), dtype=object)
        self.keys_[:] = keys
        self.signatures_ = self._hasher().transform(X)
        self.set_sizes_ = sizes
        self._build()
        return self

    def _build(self):
        """The datasketch ensemble over signatures_ and set_sizes_ (after fit and load)."""
        from datasketch import MinHashLSHEnsemble

        weights = tuple(float(w) for w in self.weights)
        self._ensemble = MinHashLSHEnsemble(
            threshold=self.threshold, num_perm=self.n_perm, num_part=self.n_partitions, m=self.m,
            weights=(weights[0], 1.0 - weights[0]))
        stored = np.flatnonzero(self.set_sizes_ > 0)
        # Row numbers are the ensemble's keys, so any hashable key works and queries sort by row.
        minhashes = to_lean_minhashes(self.signatures_[stored], self.seed, self.scheme)
        self._ensemble.index(list(zip(stored.tolist(), minhashes,
                                      self.set_sizes_[stored].tolist())))

    def _persistent_state(self):
        # keys_, signatures_ and set_sizes_ are saved as they are; the ensemble is rebuilt.
        check_saveable_keys(self.keys_, "this ContainmentLSH")
        return {}

    def _restore_state(self, state):
        n_sets = len(self.keys_)
        if self.signatures_.shape != (n_sets, self.n_perm) or self.set_sizes_.shape != (n_sets,) \
                or (self.set_sizes_ < 0).any():
            raise ValueError(f"signatures_ {self.signatures_.shape} or set_sizes_ "
                             f"{self.set_sizes_.shape} do not fit {n_sets} keys and "
                             f"n_perm={self.n_perm}; the file is damaged.")
        self._build()

    def query(self, X):
        """Keys of the indexed sets estimated to contain at least ``threshold`` of each set of X.

        Parameters
        ----------
        X : binary matrix or iterable of token sets
            The query sets, of the kind given to fit.

        Returns
        -------
        results : list of lists
            One list of keys per query set, in order of indexing; empty for an
            empty query set.
        """
        check_is_fitted(self)
        X = X if sp.issparse(X) or isinstance(X, np.ndarray) else list(X)
        sizes = set_sizes(X)
        minhashes = to_lean_minhashes(self._hasher().transform(X), self.seed, self.scheme)
        results = []
        for minhash, size in zip(minhashes, sizes.tolist()):
            rows = sorted(self._ensemble.query(minhash, size)) if size else []
            results.append(self.keys_[rows].tolist())
        return results
