"""SemanticCache: reuse the answer to an earlier query that means the same."""

import functools
import threading
from collections import OrderedDict
from numbers import Integral, Real

import faiss
import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

_MISS = object()


class SemanticCache:
    """An LRU cache keyed by meaning: a query hits when an earlier one is similar enough.

    ``get(query)`` embeds the query, finds the most similar cached query by
    cosine similarity and returns its value when that similarity is **at
    least** ``threshold`` (``similarity >= threshold``: equal counts as a
    hit), else None. Use it in front of anything slow whose answer depends
    on what a text means rather than its exact wording (a language model,
    a search back-end).

    Parameters
    ----------
    embedder : object with ``transform(texts)``, or callable
        Maps a list of n texts to an (n, dim) array, e.g. a fitted
        :class:`TransformerEmbedder`. Embeddings are scaled to unit length
        here, so inner products are cosines.
    threshold : float in [-1, 1], default=0.9
        The least cosine similarity that counts as a hit. Similarities are
        float32 (faiss), so the threshold is rounded to float32 before the
        comparison: a similarity equal to ``float32(threshold)`` hits.
    max_size : int, default=1024
        Entries kept; putting one more evicts the least recently used (a
        hit or a put counts as a use).
    index : {"flat", "hnsw"}, default="flat"
        Exact search, or an HNSW graph (faster for large caches; it may
        miss the most similar entry). HNSW cannot delete, so evicted entries
        are skipped and the graph is rebuilt once they number max_size.

    Attributes
    ----------
    hits, misses : int
        Counts of ``get`` calls (and of calls through :meth:`cached`) that
        found, or did not find, a similar enough query.

    Notes
    -----
    Every method may be called from several threads at once. Embedding, the
    slow part, runs outside the lock; search and updates run under it.
    A cached value of None reads as a miss through ``get``; ``get(query,
    default=...)`` tells them apart.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.neural import SemanticCache
    >>> def embed(texts):  # a toy embedder: letter counts
    ...     return np.array([[text.count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for text in texts],
    ...                     dtype=np.float32)
    >>> cache = SemanticCache(embed, threshold=0.95, max_size=2)
    >>> cache.put("best space films", ["Alien", "Solaris"])
    >>> cache.get("best films space")  # same letters: cosine 1
    ['Alien', 'Solaris']
    >>> cache.get("soup recipes") is None
    True
    >>> cache.hits, cache.misses
    (1, 1)
    """

    @validate_params(
        {
            "embedder": "no_validation",  # checked below, with a clearer message
            "threshold": [Interval(Real, -1, 1, closed="both")],
            "max_size": [Interval(Integral, 1, None, closed="left")],
            "index": [StrOptions({"flat", "hnsw"})],
        },
        prefer_skip_nested_validation=True,
    )
    def __init__(self, embedder, threshold=0.9, max_size=1024, index="flat"):
        if not (hasattr(embedder, "transform") or callable(embedder)):
            raise TypeError("embedder must have a transform(texts) method or be callable on a list of texts; "
                            f"got {type(embedder).__name__}.")
        self.embedder = embedder
        self.threshold = threshold
        self.max_size = max_size
        self.index = index
        self.hits = 0
        self.misses = 0
        self._lock = threading.RLock()
        self._entries = OrderedDict()  # id -> (query, value, unit vector), least recent first
        self._ids_by_query = {}
        self._next_id = 0
        self._faiss = None
        self._evicted = set()  # ids still in an HNSW graph

    def __len__(self):
        with self._lock:
            return len(self._entries)

    def _embed(self, query):
        if not isinstance(query, str):
            raise TypeError(f"query must be a str; got {type(query).__name__}.")
        transform = getattr(self.embedder, "transform", self.embedder)
        vector = np.asarray(transform([query]), dtype=np.float32)
        if vector.ndim != 2 or vector.shape[0] != 1:
            raise ValueError(f"the embedder must return a (1, dim) array for one text; got shape {vector.shape}.")
        norm = np.linalg.norm(vector)
        if not np.isfinite(norm) or norm == 0:
            raise ValueError(f"the embedding of {query!r} has norm {norm}: its cosine similarity is undefined.")
        return np.ascontiguousarray(vector / norm)

    def _new_index(self, dim):
        if self.index == "hnsw":
            base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        else:
            base = faiss.IndexFlatIP(dim)
        return faiss.IndexIDMap2(base)

    def _nearest(self, vector):
        """(id, similarity) of the most similar live entry, or (None, -inf)."""
        if not self._entries:
            return None, -np.inf
        if vector.shape[1] != self._faiss.d:
            raise ValueError(f"the embedder returned dimension {vector.shape[1]}; the cache holds {self._faiss.d}.")
        k = min(self._faiss.ntotal, 1 + len(self._evicted))
        if self.index == "hnsw":
            faiss.downcast_index(self._faiss.index).hnsw.efSearch = max(64, k)
        similarities, ids = self._faiss.search(vector, k)
        for similarity, entry_id in zip(similarities[0], ids[0]):
            if entry_id >= 0 and entry_id not in self._evicted:
                return int(entry_id), float(similarity)
        return None, -np.inf

    def _lookup(self, vector):
        entry_id, similarity = self._nearest(vector)
        if entry_id is not None and np.float32(similarity) >= np.float32(self.threshold):
            self._entries.move_to_end(entry_id)
            self.hits += 1
            return self._entries[entry_id][1]
        self.misses += 1
        return _MISS

    def get(self, query, default=None):
        """The value cached for the most similar earlier query, if similar enough.

        Parameters
        ----------
        query : str
        default : object, default=None
            Returned on a miss.

        Returns
        -------
        object
            The cached value when the best cosine similarity is >= threshold, else ``default``.
        """
        vector = self._embed(query)
        with self._lock:
            value = self._lookup(vector)
        return default if value is _MISS else value

    def put(self, query, value):
        """Cache ``value`` for ``query`` (replacing the value of the same exact query).

        Parameters
        ----------
        query : str
        value : object
        """
        vector = self._embed(query)
        with self._lock:
            self._insert(query, value, vector)

    def _insert(self, query, value, vector):
        if self._faiss is None:
            self._faiss = self._new_index(vector.shape[1])
        elif vector.shape[1] != self._faiss.d:
            raise ValueError(f"the embedder returned dimension {vector.shape[1]}; the cache holds {self._faiss.d}.")
        if query in self._ids_by_query:
            self._remove(self._ids_by_query[query])
        entry_id = self._next_id
        self._next_id += 1
        self._faiss.add_with_ids(vector, np.array([entry_id], dtype=np.int64))
        self._entries[entry_id] = (query, value, vector)
        self._ids_by_query[query] = entry_id
        while len(self._entries) > self.max_size:
            self._remove(next(iter(self._entries)))

    def _remove(self, entry_id):
        query, _, _ = self._entries.pop(entry_id)
        del self._ids_by_query[query]
        if self.index == "flat":
            self._faiss.remove_ids(np.array([entry_id], dtype=np.int64))
            return
        self._evicted.add(entry_id)
        if len(self._evicted) >= self.max_size:
            self._rebuild()

    def _rebuild(self):
        index = self._new_index(self._faiss.d)
        if self._entries:
            ids = np.fromiter(self._entries, dtype=np.int64, count=len(self._entries))
            index.add_with_ids(np.vstack([entry[2] for entry in self._entries.values()]), ids)
        self._faiss = index
        self._evicted.clear()

    def clear(self):
        """Drop every entry and reset the counters."""
        with self._lock:
            self._entries.clear()
            self._ids_by_query.clear()
            self._evicted.clear()
            self._faiss = None
            self.hits = self.misses = 0

    def cached(self, fn):
        """Decorate ``fn(query)`` so that a similar enough earlier query returns its cached result.

        Parameters
        ----------
        fn : callable taking one str

        Returns
        -------
        callable
            Same signature; a miss calls ``fn`` and caches its result (None included).
        """

        @functools.wraps(fn)
        def wrapper(query):
            vector = self._embed(query)
            with self._lock:
                value = self._lookup(vector)
            if value is not _MISS:
                return value
            # fn runs outside the lock: two threads missing on the same query
            # both call it (the later put wins) rather than serialising every call.
            value = fn(query)
            with self._lock:
                self._insert(query, value, vector)
            return value

        return wrapper

    def __repr__(self):
        return (f"SemanticCache(threshold={self.threshold}, max_size={self.max_size}, index={self.index!r}, "
                f"size={len(self)}, hits={self.hits}, misses={self.misses})")
