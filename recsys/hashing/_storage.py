"""Where a MinHash LSH index keeps its buckets and signatures: in memory or in Redis.

Both storages answer the same calls, on keys the user chose and uint64 band
keys (see :func:`recsys.hashing._buckets.band_keys`):

- ``add(keys, signatures, bands, bucketed, meta)`` / ``remove(keys, bands)``
- ``candidates(bands) -> (query_rows, keys)``: distinct pairs sharing a band
- ``signatures(keys) -> ndarray``

The Redis layout, under the index name ``N``:

- ``N:meta``, a hash: the hashing and banding parameters (so another process
  can open the index by name) and ``format``, the layout version;
- ``N:signatures``, a hash: encoded key -> signature as little-endian bytes;
- ``N:band:<i>:<band key in hex>``, one set of encoded keys per non-empty bucket;
- ``N:buckets``, a set: the names of every bucket set the index ever wrote,
  so that :meth:`RedisStorage.clear` deletes exactly the index's own keys
  (never by pattern: a pattern on ``shop`` would also match ``shop:eu``).

Nothing read from Redis is unpickled or evaluated. A key is stored as one tag
byte and a fixed encoding: ``i`` + 8-byte little-endian signed int, ``s`` +
UTF-8 text or ``b`` + raw bytes, so only int, str and bytes keys can live in
Redis. Reading anything else raises :class:`MalformedEntryError`: whoever
can write to the server can corrupt an index, but cannot run code in its
clients. Every write runs in one MULTI/EXEC transaction, so it is applied
whole or not at all.

Connections time out (``socket_connect_timeout=2``, ``socket_timeout=5``
seconds unless given) and retry once, only on connection errors (a server
restart drops pooled connections), never on timeouts: a paused or
unreachable server gives an error within about five seconds instead of
blocking. Durability is the server's: see the Notes of
:class:`~recsys.hashing.MinHashLSH` and ``wait_for_persistence``.
"""

import numbers

import numpy as np

from recsys.hashing._buckets import BucketTables

#: Version of the Redis layout; indexes of another layout are refused on open.
REDIS_FORMAT = "2"

_GLOB_CHARACTERS = "*?[]\\"
_INT_TAG, _STR_TAG, _BYTES_TAG = b"i", b"s", b"b"
_DEFAULT_TIMEOUTS = {"socket_connect_timeout": 2.0, "socket_timeout": 5.0}
_DELETE_BATCH = 10_000


class MalformedEntryError(ValueError):
    """An entry read from Redis is not one recsys wrote; nothing of it was interpreted."""


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


def check_index_name(name):
    """Return name if it can name a Redis index, else raise ValueError saying why."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a Redis index name must be a non-empty str; got {name!r}.")
    bad = sorted(set(name) & set(_GLOB_CHARACTERS))
    if bad:
        raise ValueError(
            f"the Redis index name {name!r} contains the glob character(s) {''.join(bad)!r}; "
            f"use a name without any of {_GLOB_CHARACTERS!r} (e.g. letters, digits, '-', ':')."
        )
    return name


def encode_key(key):
    """The bytes a key is stored as in Redis: a tag byte and a fixed encoding."""
    if isinstance(key, (bool, np.bool_)):
        raise TypeError(f"keys stored in Redis must be int, str or bytes; got the bool {key!r}.")
    if isinstance(key, numbers.Integral):
        value = int(key)
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"int keys stored in Redis must fit in 64 bits; got {value}.")
        return _INT_TAG + value.to_bytes(8, "little", signed=True)
    if isinstance(key, str):
        return _STR_TAG + key.encode("utf-8")
    if isinstance(key, bytes):
        return _BYTES_TAG + key
    raise TypeError(
        f"keys stored in Redis must be int, str or bytes; got {type(key).__name__} ({key!r}). "
        "Convert them (e.g. str(key)) or use storage='memory', which takes any hashable key."
    )


def _malformed(raw, where, expected):
    shown = bytes(raw[:40]) + (b"..." if len(raw) > 40 else b"")
    return MalformedEntryError(
        f"malformed entry {shown!r} ({len(raw)} bytes) in the Redis key {where!r}: expected "
        f"{expected}. It was not written by recsys (or by an older layout); nothing of it was "
        "run or used. Delete the entry, or refit the index."
    )


def decode_key(raw, where):
    """The key stored as raw (see :func:`encode_key`); MalformedEntryError otherwise."""
    tag, body = raw[:1], raw[1:]
    if tag == _INT_TAG and len(body) == 8:
        return int.from_bytes(body, "little", signed=True)
    if tag == _STR_TAG:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if tag == _BYTES_TAG:
        return bytes(body)
    raise _malformed(raw, where, "'i' and an 8-byte int, 's' and UTF-8 text, or 'b' and bytes")


class RedisStorage:
    """Buckets, signatures and parameters of an index in a Redis server.

    Parameters
    ----------
    name : str
        Prefix of every Redis key of the index; no glob characters.
    n_bands, n_perm : int
    dtype : numpy dtype of the signatures
    host, port, db : Redis connection.
    wait_for_persistence : bool, default=False
        Acknowledge a write only once the server has it on disk: with Redis
        >= 7.2 each write waits for ``WAITAOF 1 0`` (the local append-only
        file fsynced); older servers must run ``appendonly yes`` with
        ``appendfsync always`` (checked on connection), under which Redis
        fsyncs before it replies.
    **redis_kwargs
        Any other keyword of ``redis.Redis``. ``socket_connect_timeout`` (2 s),
        ``socket_timeout`` (5 s) and ``retry`` (once, on connection errors
        only) have bounded defaults.
    """

    def __init__(self, name, n_bands, n_perm, dtype, host="localhost", port=6379, db=0,
                 wait_for_persistence=False, **redis_kwargs):
        try:
            import redis
            from redis.backoff import ExponentialBackoff
            from redis.retry import Retry
        except ImportError:
            raise ImportError(
                "storage='redis' needs the redis package: pip install 'recsys[distributed]' "
                "(or pip install redis)."
            ) from None
        self.name = check_index_name(name)
        self.n_bands, self.n_perm, self.dtype = n_bands, n_perm, np.dtype(dtype)
        self.host, self.port = host, port
        self.wait_for_persistence = bool(wait_for_persistence)
        self._connection = {"host": host, "port": port, "db": db,
                            "wait_for_persistence": self.wait_for_persistence, **redis_kwargs}
        options = {**_DEFAULT_TIMEOUTS, **redis_kwargs}
        if "retry" not in options:
            # redis-py's default retries timeouts 3 times with backoff (about 25 s against a
            # paused server at socket_timeout=2); a restart only needs one reconnect.
            options["retry"] = Retry(ExponentialBackoff(cap=0.5, base=0.1), retries=1,
                                     supported_errors=(redis.exceptions.ConnectionError,))
        self.socket_timeout = options["socket_timeout"]
        self._client = redis.Redis(host=host, port=port, db=db, **options)
        self._connection_errors = redis.exceptions.ConnectionError
        self._timeout_errors = redis.exceptions.TimeoutError
        self._response_errors = redis.exceptions.ResponseError
        self._call(self._client.ping, connecting=True)
        self._waitaof = self.wait_for_persistence and self._check_persistence()

    def _call(self, function, *args, connecting=False, **kwargs):
        try:
            return function(*args, **kwargs)
        except self._timeout_errors as error:
            raise TimeoutError(
                f"the Redis server at {self.host}:{self.port} did not answer within "
                f"socket_timeout={self.socket_timeout} s ({error}): it is paused, overloaded or "
                "cut off. A write caught by this was applied whole or not at all (one "
                "transaction); check with len(index) once the server answers. Raise "
                "storage_options['socket_timeout'] for slow servers."
            ) from None
        except self._connection_errors as error:
            done = ("Nothing was written." if connecting else
                    "A write caught by this was applied whole or not at all (one transaction).")
            raise ConnectionError(
                f"cannot reach the Redis server at {self.host}:{self.port} ({error}); start it "
                "(e.g. redis-server --port PORT) or pass the right storage_options={'host': ..., "
                f"'port': ...}}. {done}"
            ) from None

    def _check_persistence(self):
        """Whether the server has WAITAOF (Redis >= 7.2); raise if writes would not reach disk."""
        version = self._call(self._client.info, "server")["redis_version"]
        has_waitaof = tuple(int(part) for part in version.split(".")[:2]) >= (7, 2)
        try:
            config = self._call(self._client.config_get, "append*")
        except self._response_errors:
            # Managed servers often disable CONFIG; WAITAOF then reports a missing AOF itself.
            if has_waitaof:
                return True
            raise ValueError(
                f"wait_for_persistence=True needs Redis >= 7.2 (WAITAOF) or CONFIG access to "
                f"check 'appendfsync always'; the Redis {version} server at {self.host}:{self.port} "
                "allows neither. Pass wait_for_persistence=False."
            ) from None
        if config.get("appendonly") != "yes" or (not has_waitaof
                                                 and config.get("appendfsync") != "always"):
            raise ValueError(
                f"wait_for_persistence=True, but the Redis {version} server at "
                f"{self.host}:{self.port} runs appendonly={config.get('appendonly')!r}, "
                f"appendfsync={config.get('appendfsync')!r}: acknowledged writes can be lost. "
                "Run it with 'appendonly yes' and 'appendfsync always' (with Redis >= 7.2 any "
                "appendfsync will do: recsys waits with WAITAOF), or pass "
                "wait_for_persistence=False."
            )
        return has_waitaof

    def _execute(self, pipe):
        self._call(pipe.execute)
        if self._waitaof:
            timeout_ms = int(1000 * (self.socket_timeout or 5.0) * 0.8)
            local, _ = self._call(self._client.execute_command, "WAITAOF", 1, 0, timeout_ms)
            if local < 1:
                raise TimeoutError(
                    f"the Redis server at {self.host}:{self.port} applied the write but did not "
                    f"fsync it to its append-only file within {timeout_ms} ms; it may be lost "
                    "if the server dies now. Is 'appendonly yes' set?"
                )

    def _bucket(self, band, band_key):
        return f"{self.name}:band:{band}:{int(band_key):016x}"

    def __getstate__(self):
        # A live connection does not pickle; the copy reconnects with the same options.
        return {"name": self.name, "n_bands": self.n_bands, "n_perm": self.n_perm,
                "dtype": self.dtype.str, **self._connection}

    def __setstate__(self, state):
        self.__init__(**state)

    def read_meta(self):
        where = f"{self.name}:meta"
        meta = self._call(self._client.hgetall, where)
        try:
            return {key.decode("utf-8"): value.decode("utf-8") for key, value in meta.items()}
        except UnicodeDecodeError:
            raise MalformedEntryError(f"the Redis hash {where!r} holds non-text entries; it was "
                                      "not written by recsys. Refit the index.") from None

    def __len__(self):
        return int(self._call(self._client.hlen, f"{self.name}:signatures"))

    def __contains__(self, key):
        return bool(self._call(self._client.hexists, f"{self.name}:signatures", encode_key(key)))

    def keys(self):
        where = f"{self.name}:signatures"
        return [decode_key(raw, where) for raw in self._call(self._client.hkeys, where)]

    def add(self, keys, signatures, bands, bucketed, meta=None):
        encoded = [encode_key(key) for key in keys]
        pipe = self._client.pipeline(transaction=True)
        if meta is not None:
            pipe.hset(f"{self.name}:meta",
                      mapping={**{k: str(v) for k, v in meta.items()}, "format": REDIS_FORMAT})
        if encoded:
            little_endian = np.ascontiguousarray(signatures, dtype=self.dtype.newbyteorder("<"))
            pipe.hset(f"{self.name}:signatures",
                      mapping=dict(zip(encoded, (row.tobytes() for row in little_endian))))
            buckets = set()
            for row in np.flatnonzero(bucketed).tolist():
                for band in range(self.n_bands):
                    bucket = self._bucket(band, bands[row, band])
                    pipe.sadd(bucket, encoded[row])
                    buckets.add(bucket)
            if buckets:
                pipe.sadd(f"{self.name}:buckets", *buckets)
        self._execute(pipe)

    def remove(self, keys, bands):
        if not keys:
            return
        pipe = self._client.pipeline(transaction=True)
        encoded = [encode_key(key) for key in keys]
        for row, key in enumerate(encoded):
            for band in range(self.n_bands):
                pipe.srem(self._bucket(band, bands[row, band]), key)
        pipe.hdel(f"{self.name}:signatures", *encoded)
        self._execute(pipe)

    def candidates(self, bands):
        pipe = self._client.pipeline(transaction=False)
        for row in range(len(bands)):
            pipe.sunion([self._bucket(band, bands[row, band]) for band in range(self.n_bands)])
        members = self._call(pipe.execute)
        query_rows = np.repeat(np.arange(len(bands), dtype=np.int64), [len(m) for m in members])
        where = f"{self.name}:band:*"
        keys = np.empty(len(query_rows), dtype=object)
        keys[:] = [decode_key(raw, where) for found in members for raw in sorted(found)]
        return query_rows, keys

    def signatures(self, keys):
        where = f"{self.name}:signatures"
        values = self._call(self._client.hmget, where, [encode_key(key) for key in keys])
        if any(value is None for value in values):
            raise KeyError("some keys are not in the index")
        size = self.n_perm * self.dtype.itemsize
        for value in values:
            if len(value) != size:
                raise _malformed(value, where, f"a signature of {size} bytes "
                                 f"({self.n_perm} little-endian {self.dtype})")
        stored = np.frombuffer(b"".join(values), dtype=self.dtype.newbyteorder("<"))
        return stored.astype(self.dtype).reshape(len(keys), self.n_perm)

    def clear(self):
        """Delete every Redis key of the index, and no other (they are listed in ``N:buckets``)."""
        registry = f"{self.name}:buckets"
        buckets = sorted(self._call(self._client.smembers, registry))
        for start in range(0, len(buckets), _DELETE_BATCH):
            self._call(self._client.delete, *buckets[start:start + _DELETE_BATCH])
        self._call(self._client.delete, f"{self.name}:meta", f"{self.name}:signatures", registry)
