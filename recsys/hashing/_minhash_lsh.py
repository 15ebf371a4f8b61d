"""Banded MinHash LSH index for Jaccard similarity, in memory or in Redis."""

import numbers
import uuid
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from recsys.hashing._bands import optimal_bands_rows
from recsys.hashing._buckets import band_keys
from recsys.hashing._jaccard import _empty_rows, jaccard_from_signatures, jaccard_pairs
from recsys.hashing._minhash import set_input_tags, to_lean_minhashes
from recsys.hashing._persistence import (
    IndexPersistenceMixin,
    check_saveable_keys,
    csr_from_state,
    csr_state,
    object_array,
)
from recsys.hashing._schemes import SCHEMES, signature_dtype
from recsys.hashing._set_input import SetEncoder, resize_columns
from recsys.hashing._storage import (
    REDIS_FORMAT,
    MemoryStorage,
    RedisStorage,
    check_index_name,
)
from recsys.utils import check_positive_int


def _check_weights(weights):
    weights = tuple(float(w) for w in weights)
    if len(weights) != 2 or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(
            f"weights must be two non-negative numbers (false-positive weight, false-negative "
            f"weight), not both 0; got {weights!r}."
        )
    return weights


def group_by_query(query_rows, n_queries, *arrays):
    """Split arrays aligned with sorted query_rows into one piece per query."""
    bounds = np.searchsorted(query_rows, np.arange(n_queries + 1))
    return [[array[bounds[q]:bounds[q + 1]] for array in arrays] for q in range(n_queries)]


class MinHashLSH(IndexPersistenceMixin, BaseEstimator):
    """Banded MinHash LSH: candidates for sets whose Jaccard similarity passes a threshold.

    Signatures of ``n_perm`` MinHash values are cut into ``bands_`` bands of
    ``rows_`` values; two sets become candidates when they agree on a whole
    band, which happens with probability ``1 - (1 - s**rows_)**bands_`` for
    Jaccard similarity s. The bands and rows minimise the weighted areas of
    false positives below the threshold and false negatives above it (the
    criterion of datasketch, which gives the same choice).

    Parameters
    ----------
    threshold : float in (0, 1), default=0.5
        Jaccard similarity the index is tuned for; default radius of
        :meth:`radius_neighbors`.
    n_perm : int, default=128
        Signature length.
    weights : (float, float), default=(0.5, 0.5)
        Weights of the false-positive and false-negative areas.
    seed : int, default=1
        Seed of the MinHash permutations.
    scheme : {"affine32", "affine64", "legacy"}, default="affine32"
        datasketch's permutation scheme (see :class:`MinHasher`).
    storage : {"memory", "redis"}, default="memory"
        Where buckets and signatures live. With ``"redis"`` the index lives in
        a Redis server and another process opens it with :meth:`open`.
    storage_options : dict, default=None
        For ``"redis"``: ``name`` (prefix of the index's Redis keys, without
        glob characters ``*?[]\\``; a random one when absent, see
        ``storage_name_``), ``host``, ``port``, ``db``,
        ``wait_for_persistence`` (see Notes) and any other keyword of
        ``redis.Redis``. ``socket_connect_timeout`` (2 s) and
        ``socket_timeout`` (5 s) default to finite values and ``retry`` to
        one reconnection on connection errors, so a dead or paused server
        gives a ``ConnectionError`` or ``TimeoutError`` within seconds.

    Attributes
    ----------
    bands_, rows_ : int
        The banding (``bands_ * rows_ <= n_perm``).
    storage_name_ : str or None
        Name of the index in Redis.

    Notes
    -----
    Input (to fit, partial_fit and every query, of one kind throughout) is a
    binary set matrix, token sets, MinHash signatures or a list of
    ``datasketch.MinHash`` (see :mod:`recsys.hashing._set_input`). Keys are
    the row numbers in order of insertion unless given. Empty sets are stored
    but never bucketed: they are nobody's candidate. ``exact=True`` needs set
    input and in-memory storage.

    ``save(path)`` / ``MinHashLSH.load(path)`` write and read an ``.npz``
    file without pickle. An in-memory index saves its keys (int or str),
    signatures and, for exact queries, its sets; the bucket tables are
    recomputed on load. A Redis index saves only its parameters and
    ``storage_name_``, never a host, port or password: load it with
    ``MinHashLSH.load(path, host=..., port=...)``, which opens the index in
    that server (see :meth:`open`) and checks it has the saved parameters.

    In Redis, keys must be int (64-bit), str or bytes; they are stored in a
    fixed binary encoding, never pickled, and an entry that is not in that
    encoding raises :class:`~recsys.hashing.MalformedEntryError`. Refitting
    deletes exactly the keys the index wrote (listed in ``<name>:buckets``),
    never other indexes sharing a prefix.

    Durability is the Redis server's. With the default configuration (RDB
    snapshots only) every write since the last snapshot is lost when the
    server dies, acknowledged or not. For writes that survive a crash run the
    server with ``appendonly yes``: ``appendfsync always`` fsyncs each write
    before Redis replies (survives power loss), ``everysec`` may lose the
    last second on an OS crash or power loss but not on a process kill.
    ``storage_options={"wait_for_persistence": True}`` makes each fit,
    partial_fit and remove return only once the write is on disk: with
    Redis >= 7.2 through ``WAITAOF``, on older servers by refusing to
    connect unless ``appendonly yes`` and ``appendfsync always`` are set.

    Examples
    --------
    >>> from recsys.hashing import MinHashLSH
    >>> words = [f"w{i}" for i in range(20)]
    >>> sets = [words, words[:18], ["x", "y"]]
    >>> index = MinHashLSH(threshold=0.5, n_perm=64).fit(sets, keys=["p", "q", "r"])
    >>> index.query([words])
    [['p', 'q']]
    >>> similarity, keys = index.kneighbors([words[:19]], n_neighbors=2, exact=True)
    >>> keys.tolist(), similarity.tolist()
    ([['p', 'q']], [[0.95, 0.9473684210526315]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "threshold": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_perm": [Interval(numbers.Integral, 1, None, closed="left")],
        "weights": [tuple, list],
        "seed": [Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],
        "scheme": [StrOptions(set(SCHEMES))],
        "storage": [StrOptions({"memory", "redis"})],
        "storage_options": [dict, None],
    }

    def __init__(self, threshold=0.5, n_perm=128, weights=(0.5, 0.5), seed=1, scheme="affine32",
                 storage="memory", storage_options=None):
        self.threshold = threshold
        self.n_perm = n_perm
        self.weights = weights
        self.seed = seed
        self.scheme = scheme
        self.storage = storage
        self.storage_options = storage_options

    # ------------------------------------------------------------------ building
    def __sklearn_tags__(self):
        return set_input_tags(super().__sklearn_tags__())

    def fit(self, X, y=None, keys=None):
        """Index the sets of X, replacing anything indexed before.

        Parameters
        ----------
        X : sets or signatures (see Notes)
        y : ignored
        keys : sequence of hashable, default=None
            One key per row; defaults to the row numbers.

        Returns
        -------
        self : object
        """
        self._validate_params()
        weights = _check_weights(self.weights)
        self.bands_, self.rows_ = optimal_bands_rows(self.threshold, self.n_perm, weights)
        self._encoder = SetEncoder(self.n_perm, self.seed, self.scheme)
        self._sets = None
        self.n_added_ = 0
        self.storage_name_ = None
        if self.storage == "redis":
            options = dict(self.storage_options or {})
            self.storage_name_ = check_index_name(
                options.pop("name", None) or f"recsys-lsh-{uuid.uuid4().hex}")
            self._storage = RedisStorage(self.storage_name_, self.bands_, self.n_perm,
                                         signature_dtype(self.scheme), **options)
            self._storage.clear()
        else:
            self._storage = MemoryStorage(self.bands_, self.n_perm, signature_dtype(self.scheme))
        return self._add(X, keys)

    def partial_fit(self, X, y=None, keys=None):
        """Add the sets of X to the index (fitting it first if needed).

        Parameters
        ----------
        X : sets or signatures (see Notes)
        y : ignored
        keys : sequence of hashable, default=None
            One key per row, none already indexed; defaults to the number of
            rows added so far plus the row number.

        Returns
        -------
        self : object
        """
        if not hasattr(self, "bands_"):
            return self.fit(X, keys=keys)
        return self._add(X, keys)

    def _add(self, X, keys):
        signatures, sets = self._encoder.encode(X, fitting=True)
        n_rows = len(signatures)
        keys = list(range(self.n_added_, self.n_added_ + n_rows)) if keys is None else \
            (keys.tolist() if isinstance(keys, np.ndarray) else list(keys))
        if len(keys) != n_rows:
            raise ValueError(f"got {len(keys)} keys for {n_rows} rows; give one key per row.")
        if len(set(keys)) != n_rows:
            raise ValueError("keys must be unique; some key is given twice.")
        present = [key for key in keys if key in self._storage]
        if present:
            raise ValueError(
                f"{len(present)} key(s) are already indexed (e.g. {present[0]!r}); "
                "remove them first or give new keys."
            )
        bands = band_keys(signatures, self.bands_, self.rows_)
        # The parameters travel with the rows, in the same transaction, so
        # another process always sees an index it can open.
        self._storage.add(keys, signatures, bands, ~_empty_rows(signatures),
                          meta=self._meta(self.n_added_ + n_rows))
        if sets is not None and self.storage == "memory":
            self._append_sets(sets)
        self.n_added_ += n_rows
        return self

    def _append_sets(self, sets):
        if self._sets is None:
            self._sets = sets
            return
        n_columns = max(self._sets.shape[1], sets.shape[1])
        self._sets = sp.vstack([resize_columns(self._sets, n_columns),
                                resize_columns(sets, n_columns)], format="csr")

    def remove(self, keys):
        """Remove keys from the index; queries never return them again.

        Raises KeyError, removing nothing, when a key is not indexed.
        """
        check_is_fitted(self)
        keys = keys.tolist() if isinstance(keys, np.ndarray) else list(keys)
        missing = [key for key in keys if key not in self._storage]
        if missing:
            raise KeyError(f"{len(missing)} key(s) are not in the index (e.g. {missing[0]!r}); "
                           "nothing was removed.")
        bands = band_keys(self._storage.signatures(keys), self.bands_, self.rows_)
        self._storage.remove(keys, bands)
        return self

    def __len__(self):
        check_is_fitted(self)
        return len(self._storage)

    def __contains__(self, key):
        check_is_fitted(self)
        return key in self._storage

    def to_datasketch(self, keys=None):
        """The stored signatures of keys as ``datasketch.LeanMinHash`` objects.

        Parameters
        ----------
        keys : sequence of hashable, default=None
            Indexed keys; all of them, in order of insertion, when None.

        Returns
        -------
        keys : list
            The keys, aligned with minhashes.
        minhashes : list of datasketch.LeanMinHash
            Ready for ``datasketch.MinHashLSH.insert`` or ``MinHash.jaccard``.

        Examples
        --------
        >>> from recsys.hashing import MinHashLSH
        >>> index = MinHashLSH(n_perm=32).fit([["a", "b"], ["c"]], keys=["ab", "c"])
        >>> keys, minhashes = index.to_datasketch()
        >>> keys, len(minhashes[0].hashvalues)
        (['ab', 'c'], 32)
        """
        check_is_fitted(self)
        keys = self._storage.keys() if keys is None else \
            (keys.tolist() if isinstance(keys, np.ndarray) else list(keys))
        missing = [key for key in keys if key not in self._storage]
        if missing:
            raise KeyError(f"{len(missing)} key(s) are not in the index (e.g. {missing[0]!r}).")
        signatures = (self._storage.signatures(keys) if keys
                      else np.empty((0, self.n_perm), signature_dtype(self.scheme)))
        return keys, to_lean_minhashes(signatures, self.seed, self.scheme)

    # ------------------------------------------------------------------ save / load
    def _persistent_state(self):
        if self.storage == "redis":
            # The index lives in the server: its parameters and name describe it.
            return {}
        keys = check_saveable_keys(self._storage.keys(), "this MinHashLSH")
        ids = self._storage.ids_of(keys)
        state = {"indexed_keys_": object_array(keys),
                 "signatures_": self._storage.signatures(keys),
                 **self._encoder.state(with_vocabulary=self._sets is not None)}
        if self._sets is not None:
            state.update(csr_state("sets", self._sets[ids]))
        return state

    def _restore_state(self, state):
        if self.storage == "redis":
            return
        self._encoder = SetEncoder.from_state(self.n_perm, self.seed, self.scheme, state)
        keys, signatures = state["indexed_keys_"].tolist(), state["signatures_"]
        dtype = signature_dtype(self.scheme)
        if signatures.shape != (len(keys), self.n_perm) or signatures.dtype != dtype:
            raise ValueError(f"signatures_ has shape {signatures.shape} and dtype {signatures.dtype}"
                             f"; expected ({len(keys)}, {self.n_perm}) {dtype}. The file is damaged.")
        self._storage = MemoryStorage(self.bands_, self.n_perm, dtype)
        self._storage.add(keys, signatures, band_keys(signatures, self.bands_, self.rows_),
                          ~_empty_rows(signatures))
        self._sets = csr_from_state("sets", state) if "sets_shape_" in state else None

    def save(self, path):
        """Save the index to path (numpy adds ``.npz`` when it is missing); see Notes.

        Parameters
        ----------
        path : str or path-like
        """
        check_is_fitted(self)
        if self.storage != "redis":
            return super().save(path)
        # Connection options (host, port, password) stay out of the file.
        options = self.storage_options
        self.storage_options = {"name": self.storage_name_}
        try:
            return super().save(path)
        finally:
            self.storage_options = options

    @classmethod
    def load(cls, path, **storage_options):
        """Load an index written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        **storage_options
            For an index saved with ``storage="redis"``: ``host``, ``port``,
            ``db``... of the server that holds it (see :meth:`open`).

        Returns
        -------
        index : MinHashLSH
        """
        index = super().load(path)
        if index.storage != "redis":
            if storage_options:
                raise ValueError("storage_options are for an index saved with storage='redis'; "
                                 f"{path} holds an in-memory index, which needs none.")
            return index
        opened = cls.open(index.storage_name_, **storage_options)
        saved = {name: getattr(index, name) for name in
                 ("n_perm", "seed", "scheme", "threshold", "bands_", "rows_")}
        found = {name: getattr(opened, name) for name in saved}
        if found != saved:
            raise ValueError(f"the Redis index {index.storage_name_!r} has {found}, but {path} "
                             f"describes {saved}; it was refitted since the save.")
        return opened

    # ------------------------------------------------------------------ Redis
    def _meta(self, n_added):
        return {"threshold": self.threshold, "n_perm": self.n_perm, "weights": list(self.weights),
                "seed": self.seed, "scheme": self.scheme, "bands": self.bands_,
                "rows": self.rows_, "n_added": n_added, "kind": self._encoder.kind,
                "n_columns": self._encoder.n_columns}

    @classmethod
    def open(cls, name, **storage_options):
        """Open an index that another process built with ``storage="redis"``.

        Parameters
        ----------
        name : str
            The index's ``storage_name_``.
        **storage_options
            ``host``, ``port``, ``db``... of the Redis server.

        Returns
        -------
        index : MinHashLSH
            Fitted; queries, partial_fit and remove act on the shared index.
        """
        probe = RedisStorage(check_index_name(name), 1, 1, np.uint32, **storage_options)
        meta = probe.read_meta()
        if not meta:
            raise KeyError(f"no MinHashLSH named {name!r} in the Redis server at "
                           f"{probe.host}:{probe.port}; check the name (storage_name_).")
        if meta.get("format") != REDIS_FORMAT:
            raise ValueError(
                f"the index {name!r} has Redis layout {meta.get('format', '1 (pickled keys)')}; "
                f"this recsys reads layout {REDIS_FORMAT} only. Refit it with this version."
            )
        index = cls(threshold=float(meta["threshold"]), n_perm=int(meta["n_perm"]),
                    weights=tuple(float(w) for w in meta["weights"].strip("[]").split(",")),
                    seed=int(meta["seed"]), scheme=meta["scheme"], storage="redis",
                    storage_options={"name": name, **storage_options})
        index.bands_, index.rows_ = int(meta["bands"]), int(meta["rows"])
        index.n_added_, index.storage_name_, index._sets = int(meta["n_added"]), name, None
        index._encoder = SetEncoder(index.n_perm, index.seed, index.scheme)
        index._encoder.kind = meta["kind"]
        index._encoder.n_columns = None if meta["n_columns"] == "None" else int(meta["n_columns"])
        index._storage = RedisStorage(name, index.bands_, index.n_perm,
                                      signature_dtype(index.scheme), **storage_options)
        return index

    # ------------------------------------------------------------------ queries
    def _candidates(self, X):
        check_is_fitted(self)
        signatures, sets = self._encoder.encode(X)
        bands = band_keys(signatures, self.bands_, self.rows_)
        searchable = np.flatnonzero(~_empty_rows(signatures))
        query_rows, keys = self._storage.candidates(bands[searchable])
        return signatures, sets, searchable[query_rows], keys

    def candidate_pairs(self):
        """Every pair of indexed keys sharing at least one band, each unordered pair once.

        Returns
        -------
        first, second : ndarray of object
            Aligned keys; ``first`` was indexed before ``second``.
        """
        check_is_fitted(self)
        keys = self._storage.keys()
        signatures = self._storage.signatures(keys)
        searchable = np.flatnonzero(~_empty_rows(signatures))
        query_rows, found = self._storage.candidates(
            band_keys(signatures[searchable], self.bands_, self.rows_))
        position = {key: i for i, key in enumerate(keys)}
        first = searchable[query_rows]
        second = np.fromiter((position[key] for key in found), dtype=np.int64, count=len(found))
        later = first < second
        key_array = np.empty(len(keys), dtype=object)
        key_array[:] = keys
        return key_array[first[later]], key_array[second[later]]

    def query(self, X):
        """Candidate keys of each row of X: those sharing at least one band.

        Returns
        -------
        candidates : list of lists
            One list of keys per row of X.
        """
        signatures, _, query_rows, keys = self._candidates(X)
        return [part.tolist() for (part,) in group_by_query(query_rows, len(signatures), keys)]

    def _scored_candidates(self, X, exact):
        signatures, sets, query_rows, keys = self._candidates(X)
        if exact:
            if sets is None or self.storage != "memory":
                raise ValueError("exact=True needs the index fitted on sets (a binary matrix or "
                                 "token sets) with storage='memory'; use exact=False.")
            n_columns = max(self._sets.shape[1], sets.shape[1])
            similarity = jaccard_pairs(resize_columns(sets, n_columns),
                                       resize_columns(self._sets, n_columns),
                                       query_rows, self._storage.ids_of(keys.tolist()))
        else:
            candidate_signatures = (self._storage.signatures(keys.tolist()) if len(keys)
                                    else np.empty((0, self.n_perm), signatures.dtype))
            similarity = jaccard_from_signatures(signatures[query_rows], candidate_signatures)
        # Best first within each query; query_rows stays sorted.
        order = np.lexsort((-similarity, query_rows))
        return len(signatures), query_rows[order], keys[order], similarity[order]

    def radius_neighbors(self, X, threshold=None, exact=False):
        """Candidates of each row of X whose Jaccard similarity is at least threshold.

        Parameters
        ----------
        X : sets or signatures
        threshold : float, default=None
            Defaults to the index's threshold.
        exact : bool, default=False
            Exact Jaccard of the sets instead of the signature estimate.

        Returns
        -------
        similarities : ndarray of object, shape (n_rows,)
            Per row a float array, best first.
        keys : ndarray of object, shape (n_rows,)
            Per row an object array of keys, aligned with similarities.
        """
        threshold = self.threshold if threshold is None else threshold
        n_rows, query_rows, keys, similarity = self._scored_candidates(X, exact)
        passed = similarity >= threshold
        groups = group_by_query(query_rows[passed], n_rows, similarity[passed], keys[passed])
        similarities, neighbors = np.empty(n_rows, dtype=object), np.empty(n_rows, dtype=object)
        for row, (row_similarity, row_keys) in enumerate(groups):
            similarities[row], neighbors[row] = row_similarity, row_keys
        return similarities, neighbors

    def kneighbors(self, X, n_neighbors=5, exact=False):
        """The n_neighbors most similar candidates of each row of X.

        Only candidates (sets sharing a band) are ranked, so rows far below
        the threshold may get fewer than n_neighbors.

        Returns
        -------
        similarities : ndarray of shape (n_rows, n_neighbors)
            Jaccard similarity, best first; NaN where there are fewer candidates.
        keys : ndarray of object, shape (n_rows, n_neighbors)
            Their keys; None where there are fewer candidates.
        """
        n_neighbors = check_positive_int(n_neighbors, "n_neighbors")
        n_rows, query_rows, keys, similarity = self._scored_candidates(X, exact)
        rank = np.arange(len(query_rows)) - np.searchsorted(query_rows, query_rows)
        kept = rank < n_neighbors
        similarities = np.full((n_rows, n_neighbors), np.nan)
        neighbors = np.full((n_rows, n_neighbors), None, dtype=object)
        similarities[query_rows[kept], rank[kept]] = similarity[kept]
        neighbors[query_rows[kept], rank[kept]] = keys[kept]
        return similarities, neighbors
