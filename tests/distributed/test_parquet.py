"""Interactions.from_parquet (core: pyarrow) and the ImportError of recsys.distributed without its extra."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recsys.datasets import Interactions


@pytest.fixture
def events():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "user": rng.choice(["ann", "bob", "cy", "dee", "eve"], 80), "item": rng.integers(0, 20, 80),
        "rating": rng.integers(1, 6, 80).astype(float), "time": rng.permutation(80),
        "comment": ["unused"] * 80,
    })


def test_from_parquet_on_shards_equals_from_pandas(events, tmp_path):
    for number, start in enumerate(range(0, 80, 30)):
        events.iloc[start:start + 30].to_parquet(tmp_path / f"part-{number}.parquet", index=False)
    # A temporary of an unfinished writer is skipped, as by every parquet reader.
    events.iloc[:5].to_parquet(tmp_path / ".part-9.parquet.tmp", index=False)
    for duplicates in ("sum", "first"):
        built = Interactions.from_parquet(tmp_path, rating_col="rating", time_col="time",
                                          duplicates=duplicates)
        assert built == Interactions.from_pandas(events, rating_col="rating", time_col="time",
                                                 duplicates=duplicates)


def test_from_parquet_reads_one_file_and_keeps_from_pandas_checks(events, tmp_path):
    path = tmp_path / "events.parquet"
    events.to_parquet(path, index=False)
    with pytest.raises(ValueError, match="repeated|duplicate"):
        Interactions.from_parquet(path)
    assert len(Interactions.from_parquet(path, duplicates="last")) == len(events[["user", "item"]].drop_duplicates())
    with pytest.raises(KeyError, match=r"\['score'\] are not in the parquet data"):
        Interactions.from_parquet(path, rating_col="score")


def test_import_without_the_extra_names_it():
    # A None entry in sys.modules makes the import raise, as an absent package does.
    code = ("import sys; sys.modules['distributed'] = None\n"
            "try:\n    from recsys.distributed import recommend\n"
            "except ImportError as error:\n    print(error)\n")
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'distributed' extra" in printed and 'pip install "recsys[distributed]"' in printed
