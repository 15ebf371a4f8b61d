"""LSH Forest over MinHash signatures for top-k Jaccard queries (Bawa et al. 2005)."""

import numbers
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from recsys.hashing._buckets import expand_ranges, unique_pairs
from recsys.hashing._jaccard import _empty_rows, jaccard_from_signatures
from recsys.hashing._minhash import set_input_tags
from recsys.hashing._persistence import IndexPersistenceMixin, check_saveable_keys
from recsys.hashing._schemes import SCHEMES, signature_dtype
from recsys.hashing._set_input import SetEncoder
from recsys.utils import check_positive_int


class MinHashLSHForest(IndexPersistenceMixin, BaseEstimator):
    """Top-k Jaccard neighbours from prefix trees over MinHash signatures.

    Each of ``n_trees`` trees orders the sets by ``n_perm // n_trees``
    signature values. A query descends all trees together, shortening the
    prefix it must share until at least ``n_neighbors`` candidates turn up,
    then ranks them by estimated Jaccard. Unlike :class:`MinHashLSH` no
    threshold is fixed in advance. Trees are sorted arrays of big-endian
    byte strings, so a prefix is a ``searchsorted`` range.

    Parameters
    ----------
    n_perm : int, default=128
    n_trees : int, default=8
        Number of trees (datasketch's ``l``); ``n_perm // n_trees`` values per tree.
    seed : int, default=1
    scheme : {"affine32", "affine64", "legacy"}, default="affine32"

    Attributes
    ----------
    depth_ : int
        Signature values per tree (maximum prefix length).
    keys_ : ndarray of object
        Key of each indexed row.

    Notes
    -----
    ``save(path)`` / ``MinHashLSHForest.load(path)`` keep the keys (int or
    str) and signatures, without pickle; the trees are rebuilt on load.

    Examples
    --------
    >>> from recsys.hashing import MinHashLSHForest
    >>> words = [f"w{i}" for i in range(20)]
    >>> forest = MinHashLSHForest(n_perm=64).fit([words, words[:15], ["x", "y"]])
    >>> similarity, keys = forest.kneighbors([words[:19]], n_neighbors=2)
    >>> keys.tolist()
    [[0, 1]]
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_perm": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_trees": [Interval(numbers.Integral, 1, None, closed="left")],
        "seed": [Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],
        "scheme": [StrOptions(set(SCHEMES))],
    }

    def __init__(self, n_perm=128, n_trees=8, seed=1, scheme="affine32"):
        self.n_perm = n_perm
        self.n_trees = n_trees
        self.seed = seed
        self.scheme = scheme

    def __sklearn_tags__(self):
        return set_input_tags(super().__sklearn_tags__())

    def fit(self, X, y=None, keys=None):
        """Index the sets (or signatures) of X; see :class:`MinHashLSH` for the input kinds.

        Returns
        -------
        self : object
        """
        self._validate_params()
        if self.n_trees > self.n_perm:
            raise ValueError(f"n_trees ({self.n_trees}) cannot exceed n_perm ({self.n_perm}); "
                             "each tree needs at least one signature value.")
        self.depth_ = self.n_perm // self.n_trees
        self._encoder = SetEncoder(self.n_perm, self.seed, self.scheme)
        signatures, _ = self._encoder.encode(X, fitting=True)
        if keys is None:
            keys = range(len(signatures))
        if len(keys) != len(signatures):
            raise ValueError(f"got {len(keys)} keys for {len(signatures)} rows; give one per row.")
        self.keys_ = np.empty(len(keys), dtype=object)
        self.keys_[:] = keys.tolist() if isinstance(keys, np.ndarray) else list(keys)
        self._build_trees(signatures)
        return self

    def _build_trees(self, signatures):
        self._signatures = signatures
        # Empty sets are left out of the trees: they are nobody's neighbour.
        self._tree_ids = np.flatnonzero(~_empty_rows(signatures))
        self._trees = []
        for tree in range(self.n_trees):
            prefixes = self._prefixes(signatures[self._tree_ids], tree)
            order = np.argsort(prefixes, kind="stable")
            self._trees.append((prefixes[order], self._tree_ids[order]))

    def _persistent_state(self):
        # Trees are sorted signatures: recomputed on load, not stored.
        check_saveable_keys(self.keys_, "this MinHashLSHForest")
        return {"signatures_": self._signatures, **self._encoder.state(with_vocabulary=False)}

    def _restore_state(self, state):
        signatures, dtype = state["signatures_"], signature_dtype(self.scheme)
        if signatures.shape != (len(self.keys_), self.n_perm) or signatures.dtype != dtype:
            raise ValueError(f"signatures_ has shape {signatures.shape} and dtype {signatures.dtype}"
                             f"; expected ({len(self.keys_)}, {self.n_perm}) {dtype}. "
                             "The file is damaged.")
        self._encoder = SetEncoder.from_state(self.n_perm, self.seed, self.scheme, state)
        self._build_trees(signatures)

    def _tree_bytes(self, signatures, tree):
        values = signatures[:, tree * self.depth_:(tree + 1) * self.depth_]
        big_endian = np.ascontiguousarray(values.astype(values.dtype.newbyteorder(">")))
        return big_endian.view(np.uint8).reshape(len(values), -1)

    def _prefixes(self, signatures, tree):
        as_bytes = self._tree_bytes(signatures, tree)
        return np.ascontiguousarray(as_bytes).view(f"S{as_bytes.shape[1]}").ravel()

    def _candidates(self, signatures, n_neighbors):
        n_queries = len(signatures)
        width = signatures.dtype.itemsize
        found_rows, found_ids = [], []
        pending = np.flatnonzero(~_empty_rows(signatures))
        query_bytes = [self._tree_bytes(signatures, tree) for tree in range(self.n_trees)]
        for depth in range(self.depth_, 0, -1):
            if not len(pending):
                break
            row_parts, id_parts = [], []
            for tree, (prefixes, ids) in enumerate(self._trees):
                # The prefix padded with the lowest and the highest bytes bounds its range.
                head, tail = query_bytes[tree][pending].copy(), query_bytes[tree][pending].copy()
                head[:, depth * width:], tail[:, depth * width:] = 0, 0xFF
                head, tail = head.view(prefixes.dtype).ravel(), tail.view(prefixes.dtype).ravel()
                rows, positions = expand_ranges(np.searchsorted(prefixes, head, side="left"),
                                                np.searchsorted(prefixes, tail, side="right"))
                row_parts.append(pending[rows])
                id_parts.append(ids[positions])
            rows, ids = unique_pairs(row_parts, id_parts)
            counts = np.bincount(rows, minlength=n_queries)
            done = (counts[pending] >= n_neighbors) if depth > 1 else np.ones(len(pending), bool)
            finished = np.isin(rows, pending[done])
            found_rows.append(rows[finished])
            found_ids.append(ids[finished])
            pending = pending[~done]
        return unique_pairs(found_rows, found_ids)

    def kneighbors(self, X, n_neighbors=5):
        """The n_neighbors sets of highest estimated Jaccard similarity to each row of X.

        Returns
        -------
        similarities : ndarray of shape (n_rows, n_neighbors)
            Best first; NaN where fewer were found.
        keys : ndarray of object, shape (n_rows, n_neighbors)
            None where fewer were found.
        """
        check_is_fitted(self)
        n_neighbors = check_positive_int(n_neighbors, "n_neighbors")
        signatures, _ = self._encoder.encode(X)
        rows, ids = self._candidates(signatures, n_neighbors)
        similarity = jaccard_from_signatures(signatures[rows], self._signatures[ids])
        order = np.lexsort((-similarity, rows))
        rows, ids, similarity = rows[order], ids[order], similarity[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
        kept = rank < n_neighbors
        similarities = np.full((len(signatures), n_neighbors), np.nan)
        neighbors = np.full((len(signatures), n_neighbors), None, dtype=object)
        similarities[rows[kept], rank[kept]] = similarity[kept]
        neighbors[rows[kept], rank[kept]] = self.keys_[ids[kept]]
        return similarities, neighbors
