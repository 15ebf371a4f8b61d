import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.hashing import MinHashLSH

redis = pytest.importorskip("redis")
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (apt-get install redis-server)")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_port():
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield port
    server.terminate()
    server.wait(timeout=10)


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
    import pickle

    index = MinHashLSH(n_perm=32, storage="redis",
                       storage_options={"host": "127.0.0.1", "port": redis_port}).fit([["a", "b"]])
    assert pickle.loads(pickle.dumps(index)).query([["a", "b"]]) == [[0]]


def test_server_down_gives_clear_error_naming_host_and_port():
    port = free_port()
    index = MinHashLSH(storage="redis", storage_options={"host": "127.0.0.1", "port": port})
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}.*Nothing was written"):
        index.fit([["a"]])
