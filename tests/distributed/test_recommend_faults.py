"""recsys.distributed.recommend when Dask's retries run out: a worker that dies on every attempt at a block."""

import os
import signal
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")

import cloudpickle
from distributed import Client

from recsys.datasets import make_interactions
from recsys.distributed import recommend
from recsys.linear import EASE

pytestmark = pytest.mark.slow

# The worker processes cannot import this test module: its classes travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

#: a block that fails this many times more than Dask allows ends the job (scheduler setting)
ALLOWED_FAILURES = 1
N_USERS, BLOCK_SIZE, DOOMED_ROWS = 120, 50, 20  # blocks of 50, 50 and the last one of 20 rows


@pytest.fixture(scope="module")
def client(two_worker_cluster):
    # A cluster of its own: the scheduler reads allowed-failures when it starts, and the other
    # tests' cluster keeps Dask's default of 3 retries.
    with two_worker_cluster({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}) as cluster, \
            Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    return make_interactions(N_USERS, 40, density=0.15, random_state=0)


class _DiesOnTheLastBlock(EASE):
    """EASE whose recommend kills its worker (SIGKILL by PID) on every attempt at the block of 20 rows.

    Each attempt first leaves a marker file of its own, so the test can count the attempts.
    """

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        if os.getpid() != self.client_pid_ and X.shape[0] == DOOMED_ROWS:
            Path(self.attempts_dir_, f"attempt-{os.getpid()}-{time.monotonic_ns()}").touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().recommend(X, n=n, exclude_seen=exclude_seen, items=items)


def _doomed_model(data, tmp_path):
    model = _DiesOnTheLastBlock(l2=50.0).fit(data)
    model.client_pid_ = os.getpid()
    model.attempts_dir_ = str(tmp_path / "attempts")
    os.mkdir(model.attempts_dir_)
    return model


def _wait_until_idle(client, timeout=60):
    """Wait for the tasks the failed job left running: they may still write their shards."""
    deadline = time.monotonic() + timeout
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.parametrize("written", [False, True], ids=["returned", "written"])
def test_retries_spent_raise_a_clear_error_and_leave_only_complete_shards(client, data, tmp_path, written):
    model = _doomed_model(data, tmp_path)
    output = tmp_path / "out" if written else None
    with pytest.raises(RuntimeError) as raised:
        recommend(model, data, n=3, client=client, block_size=BLOCK_SIZE, output=output)
    message = str(raised.value)
    assert "a Dask worker died on every attempt at a block of users" in message
    assert "distributed.scheduler.allowed-failures" in message
    assert type(raised.value.__cause__).__name__ == "KilledWorker"
    # Dask ran the block once, then retried it allowed-failures times, each attempt killing its worker.
    assert len(os.listdir(model.attempts_dir_)) == ALLOWED_FAILURES + 1
    if written:
        assert f"The shards under {output} with a final name are complete" in message
        assert "lower block_size" in message
        _wait_until_idle(client)
        names = sorted(os.listdir(output))
        # No temporary left, and never the doomed block's shard; the other blocks' shards,
        # where written, hold their complete rankings.
        assert "part-00002.parquet" not in names
        assert set(names) <= {"part-00000.parquet", "part-00001.parquet"}
        expected = EASE(l2=50.0).fit(data).recommend_ids(data, n=3)
        for name in names:
            number = int(name[len("part-"):-len(".parquet")])
            users = expected["user_id"].isin(data.user_ids[number * BLOCK_SIZE:(number + 1) * BLOCK_SIZE])
            pd.testing.assert_frame_equal(pd.read_parquet(output / name),
                                          expected[users].reset_index(drop=True))
    client.wait_for_workers(2, timeout=60)  # the nannies restart the killed workers


def test_the_cluster_still_serves_a_healthy_job_afterwards(client, data):
    model = EASE(l2=50.0).fit(data)
    pd.testing.assert_frame_equal(recommend(model, data, n=3, client=client, block_size=BLOCK_SIZE),
                                  model.recommend_ids(data, n=3))
