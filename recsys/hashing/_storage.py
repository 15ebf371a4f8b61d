"""Where a MinHash LSH index keeps its buckets and signatures: in memory or in Redis.

Both storages answer the same four calls, on keys the user chose and uint64
band keys (see :func:`recsys.hashing._buckets.band_keys`):

- ``add(keys, signatures, bands, bucketed, meta)`` / ``remove(keys, bands)``
- ``candidates(bands) -> (query_rows, keys)``: distinct pairs sharing a band
- ``signatures(keys) -> ndarray``

The Redis layout, under the index name ``N``: the hash ``N:meta`` (the
hashing and banding parameters, so another process can open the index by
name), the hash ``N:signatures`` (pickled key -> signature bytes) and one set
``N:band:<i>:<band key>`` of pickled keys per non-empty bucket. Every write
runs in one MULTI/EXEC transaction, so a failure leaves nothing half-written.
"""

import pickle

import numpy as np

from recsys.hashing._buckets import BucketTables


class MemoryStorage:
    """Buckets as sorted arrays and signatures in one growing array."""

    def __init__(self, n_bands, n_perm, dtype):
        self._tables = BucketTables(n_bands)
        self._signatures = np.empty((0, n_perm), dtype=dtype)
        self._keys = []
        self._ids = {}

    def __len__(self):
        return len(self._ids)

    def __contains__(self, key):
        return key in self._ids

    def keys(self):
        return list(self._ids)

    def add(self, keys, signatures, bands, bucketed, meta=None):
        ids = np.arange(len(self._keys), len(self._keys) + len(keys))
        self._keys.extend(keys)
        self._ids.update(zip(keys, ids.tolist()))
        self._signatures = np.concatenate([self._signatures, signatures])
        self._tables.add(bands[bucketed], ids[bucketed])

    def remove(self, keys, bands=None):
        ids = [self._ids.pop(key) for key in keys]
        self._tables.remove(np.asarray(ids, dtype=np.int64))

    def ids_of(self, keys):
        """Internal row ids (positions in insertion order) of keys."""
        return np.array([self._ids[key] for key in keys], dtype=np.int64)

    def candidates(self, bands):
        query_rows, ids = self._tables.candidate_pairs(bands)
        keys = np.empty(len(ids), dtype=object)
        keys[:] = [self._keys[i] for i in ids.tolist()]
        return query_rows, keys

    def signatures(self, keys):
        return self._signatures[self.ids_of(keys)]


class RedisStorage:
    """Buckets, signatures and parameters of an index in a Redis server.

    Parameters
    ----------
    name : str
        Prefix of every Redis key of the index.
    n_bands, n_perm : int
    dtype : numpy dtype of the signatures
    host, port, db : Redis connection; ``redis_kwargs`` go to ``redis.Redis``.
    """

    def __init__(self, name, n_bands, n_perm, dtype, host="localhost", port=6379, db=0,
                 **redis_kwargs):
        try:
            import redis
        except ImportError:
            raise ImportError(
                "storage='redis' needs the redis package: pip install 'recsys[distributed]' "
                "(or pip install redis)."
            ) from None
        self.name, self.n_bands, self.n_perm, self.dtype = name, n_bands, n_perm, np.dtype(dtype)
        self.host, self.port = host, port
        self._connection = {"host": host, "port": port, "db": db, **redis_kwargs}
        self._client = redis.Redis(host=host, port=port, db=db, **redis_kwargs)
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._call(self._client.ping)

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except self._errors as error:
            raise ConnectionError(
                f"cannot reach the Redis server at {self.host}:{self.port} ({error}); start it "
                "(e.g. redis-server --port PORT) or pass the right storage_options={'host': ..., "
                "'port': ...}. Nothing was written."
            ) from None

    def _bucket(self, band, band_key):
        return f"{self.name}:band:{band}:{int(band_key):016x}"

    def __getstate__(self):
        # A live connection does not pickle; the copy reconnects with the same options.
        return {"name": self.name, "n_bands": self.n_bands, "n_perm": self.n_perm,
                "dtype": self.dtype.str, **self._connection}

    def __setstate__(self, state):
        self.__init__(**state)

    def read_meta(self):
        meta = self._call(self._client.hgetall, f"{self.name}:meta")
        return {key.decode(): value.decode() for key, value in meta.items()}

    def __len__(self):
        return int(self._call(self._client.hlen, f"{self.name}:signatures"))

    def __contains__(self, key):
        return bool(self._call(self._client.hexists, f"{self.name}:signatures", pickle.dumps(key)))

    def keys(self):
        return [pickle.loads(k) for k in self._call(self._client.hkeys, f"{self.name}:signatures")]

    def add(self, keys, signatures, bands, bucketed, meta=None):
        pipe = self._client.pipeline(transaction=True)
        if meta is not None:
            pipe.hset(f"{self.name}:meta", mapping={k: str(v) for k, v in meta.items()})
        if not keys:
            self._call(pipe.execute)
            return
        pickled = [pickle.dumps(key) for key in keys]
        pipe.hset(f"{self.name}:signatures",
                  mapping=dict(zip(pickled, (row.tobytes() for row in signatures))))
        for row in np.flatnonzero(bucketed).tolist():
            for band in range(self.n_bands):
                pipe.sadd(self._bucket(band, bands[row, band]), pickled[row])
        self._call(pipe.execute)

    def remove(self, keys, bands):
        if not keys:
            return
        pipe = self._client.pipeline(transaction=True)
        pickled = [pickle.dumps(key) for key in keys]
        for row, key in enumerate(pickled):
            for band in range(self.n_bands):
                pipe.srem(self._bucket(band, bands[row, band]), key)
        pipe.hdel(f"{self.name}:signatures", *pickled)
        self._call(pipe.execute)

    def candidates(self, bands):
        pipe = self._client.pipeline(transaction=False)
        for row in range(len(bands)):
            pipe.sunion([self._bucket(band, bands[row, band]) for band in range(self.n_bands)])
        members = self._call(pipe.execute)
        query_rows = np.repeat(np.arange(len(bands), dtype=np.int64), [len(m) for m in members])
        keys = np.empty(len(query_rows), dtype=object)
        keys[:] = [pickle.loads(key) for found in members for key in sorted(found)]
        return query_rows, keys

    def signatures(self, keys):
        values = self._call(self._client.hmget, f"{self.name}:signatures",
                            [pickle.dumps(key) for key in keys])
        if any(value is None for value in values):
            raise KeyError("some keys are not in the index")
        return np.frombuffer(b"".join(values), dtype=self.dtype).reshape(len(keys), self.n_perm)

    def clear(self):
        """Delete every Redis key of the index."""
        names = self._call(lambda: list(self._client.scan_iter(f"{self.name}:*")))
        if names:
            self._call(self._client.delete, *names)
