"""load_interactions on parquet: a directory of shards or one file, read as Interactions.from_parquet reads them."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recsys.datasets import Interactions, load_interactions


@pytest.fixture
def events():
    """Generated events: string users, int items, ratings, times and a column no one asks for."""
    rng = np.random.default_rng(3)
    n = 300
    return pd.DataFrame({
        "user": rng.choice([f"u{i:03d}" for i in range(40)], n), "item": rng.integers(0, 60, n),
        "rating": rng.integers(1, 6, n).astype(float), "time": rng.permutation(n),
        "note": ["not read"] * n,
    })


def _write_shards(frame, folder, n_shards):
    """Shards as Spark and Dask write them: nested parts plus marker and checksum files to skip."""
    for number, part in enumerate(np.array_split(np.arange(len(frame)), n_shards)):
        sub = folder / f"day={number % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        frame.iloc[part].to_parquet(sub / f"part-{number:05d}.parquet", index=False)
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-00000.parquet.crc").write_text("not parquet")


def test_directory_of_shards_equals_from_pandas_and_from_parquet(events, tmp_path):
    _write_shards(events, tmp_path, 5)
    options = {"rating_col": "rating", "time_col": "time", "duplicates": "last"}
    loaded = load_interactions(tmp_path, **options)
    assert loaded == Interactions.from_pandas(events, **options)
    assert loaded == Interactions.from_parquet(tmp_path, **options)
    assert list(loaded.user_ids) == sorted(set(events["user"]))


def test_single_parquet_file_with_and_without_suffix(events, tmp_path):
    events.to_parquet(tmp_path / "events.parquet", index=False)
    expected = Interactions.from_pandas(events, duplicates="sum", weight_col="rating")
    assert load_interactions(tmp_path / "events.parquet", duplicates="sum", weight_col="rating") == expected
    # A file without the suffix is read as text unless it sits in a directory read as shards.
    (tmp_path / "only").mkdir()
    events.to_parquet(tmp_path / "only" / "part-0", index=False)
    assert load_interactions(tmp_path / "only", duplicates="sum", weight_col="rating") == expected


def test_only_named_columns_are_read(events, tmp_path):
    # The unused column has another type in each shard: it would not concatenate if it were read.
    first, second = events.iloc[:150], events.iloc[150:].assign(note=1.5)
    first.to_parquet(tmp_path / "a.parquet", index=False)
    second.to_parquet(tmp_path / "b.parquet", index=False)
    assert len(load_interactions(tmp_path, duplicates="first")) == len(events[["user", "item"]].drop_duplicates())


def test_integer_widths_widen_across_shards(tmp_path):
    small = pa.table({"user": pa.array([1, 2], pa.int32()), "item": pa.array([7, 8], pa.int32())})
    large = pa.table({"user": pa.array([3, 2**40], pa.int64()), "item": pa.array([7, 9], pa.int64())})
    pq.write_table(small, tmp_path / "a.parquet")
    pq.write_table(large, tmp_path / "b.parquet")
    data = load_interactions(tmp_path)
    assert list(data.user_ids) == [1, 2, 3, 2**40] and data.user_ids.dtype == np.int64


def test_shards_that_disagree_on_a_column_are_named(events, tmp_path):
    events.iloc[:100].to_parquet(tmp_path / "a.parquet", index=False)
    events.iloc[100:200].assign(item=lambda f: f["item"].astype(str)).to_parquet(tmp_path / "b.parquet",
                                                                                   index=False)
    with pytest.raises(ValueError, match=r"disagree on column 'item': int64 in 1 shard\(s\) \(a.parquet\); "
                                         r"large_string in 1 shard\(s\) \(b.parquet\)\. Rewrite them"):
        load_interactions(tmp_path, duplicates="last")
    (tmp_path / "b.parquet").unlink()
    events.iloc[100:].drop(columns="rating").to_parquet(tmp_path / "c.parquet", index=False)
    with pytest.raises(ValueError, match=r"disagree on column 'rating': .*absent in 1 shard\(s\) \(c.parquet\)"):
        load_interactions(tmp_path, rating_col="rating", duplicates="last")
    # The shards do agree on the columns asked for.
    assert len(load_interactions(tmp_path, duplicates="last")) > 0


def test_missing_column_names_the_columns_there_are(events, tmp_path):
    _write_shards(events, tmp_path, 3)
    with pytest.raises(KeyError, match=r"\['score'\] are not in the parquet data .*its columns are "
                                       r"\['user', 'item', 'rating', 'time', 'note'\]\. Pass user_col="):
        load_interactions(tmp_path, rating_col="score")
    with pytest.raises(KeyError, match=r"\['user_id'\] are not in the parquet data"):
        load_interactions(tmp_path / "day=0" / "part-00000.parquet", user_col="user_id")


def test_empty_and_unreadable_directories_say_what_to_do(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    with pytest.raises(ValueError, match=r"holds no parquet file .*Point to the directory"):
        load_interactions(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "events.csv").write_text("user,item\n1,2\n")
    with pytest.raises(ValueError, match=r"cannot read .*text as parquet .*parquet files only"):
        load_interactions(tmp_path / "text")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_interactions(tmp_path / "absent")


def test_names_is_refused_for_parquet(events, tmp_path):
    events.to_parquet(tmp_path / "events.parquet", index=False)
    with pytest.raises(ValueError, match="pass user_col=, item_col="):
        load_interactions(tmp_path / "events.parquet", names=["a", "b"])
