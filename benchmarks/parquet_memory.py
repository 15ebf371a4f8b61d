"""Time and peak memory of reading a directory of parquet shards into Interactions, three ways.

Usage: python benchmarks/parquet_memory.py [--events 1000000] [--shards 8]

Writes generated events (string ids and an unused text column) as parquet
shards in a temporary directory, then reads them in a fresh process per
reader, so each peak RSS (VmHWM: ru_maxrss would keep the parent's, which
survives fork and exec) is its own, reported over the RSS after
the imports: ``Interactions.from_parquet``, ``load_interactions`` (the same
pyarrow path plus the per-shard schema check) and the peer that reads every
column with pandas then calls ``from_pandas``.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

_READERS = {
    "Interactions.from_parquet": "Interactions.from_parquet(folder, 'user', 'item', duplicates='sum')",
    "load_interactions": "load_interactions(folder, user_col='user', item_col='item', duplicates='sum')",
    "pd.read_parquet + from_pandas": (
        "Interactions.from_pandas(pd.read_parquet(folder), 'user', 'item', duplicates='sum')"),
}

_CHILD = """
import json, sys, time
import pandas as pd
from recsys.datasets import Interactions, load_interactions
folder = sys.argv[1]
def status_mib(field):
    with open('/proc/self/status') as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024
before = status_mib('VmRSS')
start = time.perf_counter()
data = {reader}
seconds = time.perf_counter() - start
peak = status_mib('VmHWM')
print(json.dumps({{"seconds": seconds, "peak_over_imports_mib": peak - before, "events": len(data)}}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "user": np.char.add("user-", rng.integers(0, 50_000, args.events).astype(str)),
        "item": np.char.add("item-", rng.integers(0, 5_000, args.events).astype(str)),
        "comment": np.full(args.events, "a free-text column that no reader here asks for"),
    })
    with tempfile.TemporaryDirectory() as folder:
        for number, rows in enumerate(np.array_split(np.arange(args.events), args.shards)):
            frame.iloc[rows].to_parquet(Path(folder) / f"part-{number:05d}.parquet", index=False)
        del frame
        for name, reader in _READERS.items():
            started = time.perf_counter()
            output = subprocess.run([sys.executable, "-c", _CHILD.format(reader=reader), folder],
                                    capture_output=True, text=True, check=True).stdout
            result = json.loads(output)
            print(f"{name}: {result['seconds']:.2f} s, +{result['peak_over_imports_mib']:.0f} MiB peak RSS "
                  f"over the imports, {result['events']} pairs (process {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
