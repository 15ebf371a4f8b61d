import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.hashing import MalformedEntryError, MinHashLSH

redis = pytest.importorskip("redis")
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (apt-get install redis-server)")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server on 127.0.0.1 that this test started, controlled through its PID only."""

    def __init__(self, directory, *options, port=None):
        self.directory, self.options = str(directory), options
        self.port = port or free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.directory, *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def signal(self, number):
        os.kill(self.process.pid, number)

    def kill(self):
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"), "--save", "", "--appendonly", "no")
    yield server.start().port
    server.stop()


@pytest.fixture
def own_server(tmp_path):
    """A server for one test, which may pause, kill or restart it."""
    servers = []

    def start(*options):
        servers.append(RedisServer(tmp_path, *options).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def sets(seed=0):
    rng = np.random.default_rng(seed)
    base = rng.random((10, 80)) < 0.3
    noisy = base ^ (rng.random(base.shape) < 0.02)
    return sp.csr_matrix(np.vstack([base, noisy]).astype(np.int8))


def test_redis_index_answers_like_the_memory_index(redis_port):
    X = sets()
    options = {"host": "127.0.0.1", "port": redis_port, "name": "same-as-memory"}
    in_redis = MinHashLSH(threshold=0.5, storage="redis", storage_options=options).fit(X)
    in_memory = MinHashLSH(threshold=0.5).fit(X)
    assert [sorted(c) for c in in_redis.query(X)] == [sorted(c) for c in in_memory.query(X)]
    redis_top, redis_keys = in_redis.kneighbors(X, n_neighbors=2)
    memory_top, _ = in_memory.kneighbors(X, n_neighbors=2)
    np.testing.assert_allclose(redis_top, memory_top)
    # Each set is its own best neighbour, up to ties with an identical copy.
    assert all(row in redis_keys[row] for row in range(X.shape[0]))


def test_another_process_opens_the_index_by_name(redis_port):
    X = sets(1)
    index = MinHashLSH(threshold=0.5, storage="redis",
                       storage_options={"host": "127.0.0.1", "port": redis_port}).fit(X)
    index.remove([3])
    script = (
        "import scipy.sparse as sp, sys; from recsys.hashing import MinHashLSH;"
        f"index = MinHashLSH.open({index.storage_name_!r}, host='127.0.0.1', port={redis_port});"
        "X = sp.load_npz(sys.argv[1]); print(len(index), [sorted(c) for c in index.query(X[:4])])"
    )
    path = f"{pytest.importorskip('tempfile').mkdtemp()}/sets.npz"
    sp.save_npz(path, X)
    output = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True,
                            check=True).stdout.strip()
    expected = [sorted(c) for c in index.query(X[:4])]
    assert output == f"{X.shape[0] - 1} {expected}"
    assert 3 not in expected[3]


def test_partial_fit_and_remove_in_redis(redis_port):
    words = [f"w{i}" for i in range(40)]
    index = MinHashLSH(threshold=0.5, n_perm=64, storage="redis",
                       storage_options={"host": "127.0.0.1", "port": redis_port})
    index.partial_fit([words], keys=["first"])
    index.partial_fit([words[:38]], keys=["second"])
    assert sorted(index.query([words])[0]) == ["first", "second"]
    with pytest.raises(ValueError, match="already indexed"):
        index.partial_fit([words, words], keys=["third", "first"])
    assert len(index) == 2 and "third" not in index
    index.remove(["first"])
    assert index.query([words]) == [["second"]]


def test_pickled_redis_index_reconnects(redis_port):
    index = MinHashLSH(n_perm=32, storage="redis",
                       storage_options={"host": "127.0.0.1", "port": redis_port}).fit([["a", "b"]])
    assert pickle.loads(pickle.dumps(index)).query([["a", "b"]]) == [[0]]


def test_server_down_gives_clear_error_naming_host_and_port():
    port = free_port()
    index = MinHashLSH(storage="redis", storage_options={"host": "127.0.0.1", "port": port})
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}.*Nothing was written"):
        index.fit([["a"]])


class WritesAFile:
    """Unpickling this creates a file: the proof that a payload ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickled_payload_in_a_band_set_never_runs(redis_port, tmp_path):
    words = [f"w{i}" for i in range(30)]
    name = "poisoned"
    MinHashLSH(n_perm=32, storage="redis",
               storage_options={"host": "127.0.0.1", "port": redis_port, "name": name}).fit([words])
    marker = tmp_path / "payload-ran"
    client = redis.Redis(host="127.0.0.1", port=redis_port)
    for bucket in client.smembers(f"{name}:buckets"):
        client.sadd(bucket, pickle.dumps(WritesAFile(str(marker))))
    opened = MinHashLSH.open(name, host="127.0.0.1", port=redis_port)
    with pytest.raises(MalformedEntryError, match=r"malformed entry .* in the Redis key 'poisoned:band"):
        opened.query([words])
    assert not marker.exists()


def test_a_malformed_signature_is_reported(redis_port):
    words = [f"w{i}" for i in range(30)]
    index = MinHashLSH(n_perm=32, storage="redis",
                       storage_options={"host": "127.0.0.1", "port": redis_port}).fit([words])
    client = redis.Redis(host="127.0.0.1", port=redis_port)
    client.hset(f"{index.storage_name_}:signatures", b"i" + (0).to_bytes(8, "little"), b"short")
    with pytest.raises(MalformedEntryError, match="a signature of 128 bytes"):
        index.kneighbors([words], n_neighbors=1)


def test_keys_of_every_supported_type_round_trip(redis_port):
    words = [f"w{i}" for i in range(30)]
    keys = [-(2**63), 2**63 - 1, np.int64(7), "ключ", b"\x00\xff"]
    index = MinHashLSH(n_perm=32, storage="redis",
                       storage_options={"host": "127.0.0.1", "port": redis_port})
    index.fit([words] * len(keys), keys=keys)
    assert sorted(index.query([words])[0], key=repr) == sorted([-(2**63), 2**63 - 1, 7, "ключ",
                                                                 b"\x00\xff"], key=repr)
    with pytest.raises(TypeError, match="int, str or bytes; got tuple"):
        index.partial_fit([words], keys=[("a", 1)])
    with pytest.raises(ValueError, match="fit in 64 bits"):
        index.partial_fit([words], keys=[2**64])
    assert len(index) == len(keys)


def test_refitting_an_index_leaves_indexes_sharing_its_prefix_alone(redis_port):
    words = [f"w{i}" for i in range(30)]
    options = {"host": "127.0.0.1", "port": redis_port}
    MinHashLSH(n_perm=32, storage="redis", storage_options={**options, "name": "shop"}).fit([words])
    eu = MinHashLSH(n_perm=32, storage="redis",
                    storage_options={**options, "name": "shop:eu"}).fit([words], keys=["eu"])
    client = redis.Redis(host="127.0.0.1", port=redis_port)
    eu_keys = sorted(client.keys("shop:eu:*"))
    MinHashLSH(n_perm=32, storage="redis", storage_options={**options, "name": "shop"}).fit([words])
    assert sorted(client.keys("shop:eu:*")) == eu_keys
    assert MinHashLSH.open("shop:eu", **options).query([words]) == [["eu"]]
    assert eu.query([words]) == [["eu"]]


@pytest.mark.parametrize("name", ["s*", "a?b", "x[1]", "back\\slash"])
def test_names_with_glob_characters_are_rejected(redis_port, name):
    options = {"host": "127.0.0.1", "port": redis_port}
    kept = MinHashLSH(n_perm=32, storage="redis",
                      storage_options={**options, "name": "survivor"}).fit([["a", "b"]])
    with pytest.raises(ValueError, match="glob character"):
        MinHashLSH(n_perm=32, storage="redis", storage_options={**options, "name": name}).fit([["a"]])
    with pytest.raises(ValueError, match="glob character"):
        MinHashLSH.open(name, **options)
    assert kept.query([["a", "b"]]) == [[0]]


# Far above the 5 s default socket_timeout: a guard against blocking forever, not a speed goal.
HANG_GUARD_S = 60


@pytest.mark.slow
def test_paused_killed_and_restarted_server(own_server):
    words = [f"w{i}" for i in range(30)]
    server = own_server("--save", "", "--appendonly", "no")
    options = {"host": "127.0.0.1", "port": server.port, "name": "faults"}
    index = MinHashLSH(n_perm=32, storage="redis", storage_options=options).fit([words])

    server.signal(signal.SIGSTOP)
    started = time.perf_counter()
    with pytest.raises(TimeoutError, match=f"127.0.0.1:{server.port} did not answer within "
                                           "socket_timeout=5.0 s"):
        index.query([words])
    assert time.perf_counter() - started < HANG_GUARD_S
    server.signal(signal.SIGCONT)
    assert index.query([words]) == [[0]]

    server.kill()
    with pytest.raises(ConnectionError, match=f"cannot reach the Redis server at 127.0.0.1:{server.port}"):
        index.query([words])
    with pytest.raises(ConnectionError, match="Nothing was written"):
        MinHashLSH.open("faults", host="127.0.0.1", port=server.port)

    server.start()
    # The restarted server kept nothing (no persistence), but the same index object works again.
    assert index.query([words]) == [[]]
    index.partial_fit([words], keys=["again"])
    assert index.query([words]) == [["again"]]


def test_acknowledged_writes_survive_a_kill_with_wait_for_persistence(own_server):
    server = own_server("--save", "", "--appendonly", "yes", "--appendfsync", "always")
    options = {"host": "127.0.0.1", "port": server.port, "name": "durable"}
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((300, 50)) < 0.2).astype(np.int8))
    index = MinHashLSH(n_perm=16, storage="redis",
                       storage_options={**options, "wait_for_persistence": True}).fit(X)
    expected = index.query(X[:5])
    server.kill()
    server.start()
    reopened = MinHashLSH.open("durable", host="127.0.0.1", port=server.port)
    assert len(reopened) == 300
    assert reopened.query(X[:5]) == expected


def test_without_persistence_a_kill_loses_the_index(own_server):
    server = own_server("--save", "", "--appendonly", "no")
    options = {"host": "127.0.0.1", "port": server.port}
    with pytest.raises(ValueError, match="appendonly='no'.*appendfsync always"):
        MinHashLSH(storage="redis", storage_options={**options, "wait_for_persistence": True}).fit(
            [["a"]])
    MinHashLSH(n_perm=16, storage="redis", storage_options={**options, "name": "gone"}).fit([["a"]])
    server.kill()
    server.start()
    with pytest.raises(KeyError, match="no MinHashLSH named 'gone'"):
        MinHashLSH.open("gone", **options)


def test_saving_a_redis_index_keeps_its_description_not_its_connection(redis_port, tmp_path):
    X = sets(2)
    options = {"host": "127.0.0.1", "port": redis_port, "name": "described"}
    index = MinHashLSH(threshold=0.5, storage="redis", storage_options=options).fit(X)
    index.save(tmp_path / "index.npz")
    assert index.storage_options == options
    with np.load(tmp_path / "index.npz", allow_pickle=False) as archive:
        header = str(archive["__header__"])
    assert "described" in header and str(redis_port) not in header and "127.0.0.1" not in header
    loaded = MinHashLSH.load(tmp_path / "index.npz", host="127.0.0.1", port=redis_port)
    assert loaded.query(X) == index.query(X)
    MinHashLSH(threshold=0.8, storage="redis", storage_options=options).fit(X)
    with pytest.raises(ValueError, match="refitted since the save"):
        MinHashLSH.load(tmp_path / "index.npz", host="127.0.0.1", port=redis_port)
