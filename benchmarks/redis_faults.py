"""Faults of a Redis-backed MinHashLSH: what each returns, how long it takes, what is lost.

Starts its own redis-server on 127.0.0.1 (a free port, a temporary directory)
and injects faults by signalling that server's PID only:

- paused (SIGSTOP) during a query and during a write, then resumed (SIGCONT);
- killed (SIGKILL) during queries and writes, then restarted;
- durability: ``--rows`` rows written in batches of 100 under three server
  configurations (Redis's default snapshots, ``appendonly yes`` with
  ``appendfsync everysec``, and ``appendfsync always`` with
  ``wait_for_persistence=True``), the server killed right after the last
  acknowledged write and restarted on the same directory; rows counted.

Times are wall seconds with recsys's default timeouts unless noted.

    python benchmarks/redis_faults.py --rows 1100
"""

import argparse
import os
import signal
import socket
import subprocess
import tempfile
import time

import numpy as np
import scipy.sparse as sp

from recsys.hashing import MinHashLSH


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, directory, *options):
        self.directory, self.options, self.port = directory, options, free_port()

    def start(self):
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             self.directory, *self.options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def signal(self, number):
        os.kill(self.process.pid, number)

    def kill(self):
        self.signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait()


def timed(function):
    start = time.perf_counter()
    try:
        result = f"returned {function()!r:.60}"
    except (ConnectionError, TimeoutError, KeyError, ValueError) as error:  # the measured outcome
        result = f"{type(error).__name__}: {str(error)[:110]}"
    return time.perf_counter() - start, result


def sets(n_rows, seed):
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((n_rows, 60)) < 0.2).astype(np.int8))


def faults(directory):
    rows = []
    server = Server(directory, "--save", "", "--appendonly", "no").start()
    options = {"host": "127.0.0.1", "port": server.port, "name": "faults"}
    X = sets(200, 0)
    index = MinHashLSH(n_perm=32, storage="redis", storage_options=options).fit(X)
    try:
        server.signal(signal.SIGSTOP)
        rows.append(("paused (SIGSTOP), query", *timed(lambda: len(index.query(X[:5])))))
        rows.append(("paused, partial_fit of 10 rows",
                     *timed(lambda: index.partial_fit(sets(10, 1), keys=range(1000, 1010)))))
        server.signal(signal.SIGCONT)
        time.sleep(0.2)
        rows.append(("resumed (SIGCONT), len(index)", *timed(lambda: len(index))))
        server.kill()
        rows.append(("killed (SIGKILL), query", *timed(lambda: len(index.query(X[:5])))))
        rows.append(("killed, partial_fit of 10 rows",
                     *timed(lambda: index.partial_fit(sets(10, 2), keys=range(2000, 2010)))))
        rows.append(("killed, MinHashLSH.open",
                     *timed(lambda: MinHashLSH.open("faults", host="127.0.0.1", port=server.port))))
        server.start()
        rows.append(("restarted (no persistence), first query",
                     *timed(lambda: len(index.query(X[:5])))))
        rows.append(("restarted, partial_fit of 10 rows",
                     *timed(lambda: len(index.partial_fit(sets(10, 3), keys=range(3000, 3010))))))
    finally:
        server.stop()
    return rows


def durability(directory, n_rows):
    results = []
    configurations = [
        ("Redis defaults (RDB snapshots)", (), False),
        ("appendonly yes, appendfsync everysec", ("--appendonly", "yes"), False),
        ("appendonly yes, appendfsync always, wait_for_persistence=True",
         ("--appendonly", "yes", "--appendfsync", "always"), True),
    ]
    for number, (label, server_options, wait) in enumerate(configurations):
        server = Server(tempfile.mkdtemp(dir=directory), *server_options).start()
        options = {"host": "127.0.0.1", "port": server.port, "name": f"durability-{number}"}
        index = MinHashLSH(n_perm=32, storage="redis",
                           storage_options={**options, "wait_for_persistence": wait})
        start = time.perf_counter()
        for batch in range(0, n_rows, 100):
            size = min(100, n_rows - batch)
            index.partial_fit(sets(size, batch), keys=range(batch, batch + size))
        write_seconds = time.perf_counter() - start
        server.kill()
        server.start()
        try:
            kept = len(MinHashLSH.open(options["name"], host="127.0.0.1", port=server.port))
        except KeyError:
            kept = 0
        finally:
            server.stop()
        results.append((label, n_rows, kept, write_seconds))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1100)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        print("| fault | outcome | time to return (s) |")
        print("|---|---|---|")
        for fault, seconds, outcome in faults(directory):
            print(f"| {fault} | {outcome} | {seconds:.2f} |")
        print()
        print("| server configuration | rows acknowledged | rows after kill -9 + restart | "
              "write time (s) |")
        print("|---|---|---|---|")
        for label, written, kept, seconds in durability(directory, arguments.rows):
            print(f"| {label} | {written} | {kept} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
