"""recsys-bench ann: the recall/QPS benchmark of the retrieval indexes, on a small generated set."""

import numpy as np
import pytest

from recsys.bench import cli
from recsys.bench._ann import benchmark_vector_set, generated_set


def test_ann_command_writes_table_and_plot(tmp_path, capsys):
    table, plot = tmp_path / "ann.md", tmp_path / "ann.png"
    status = cli.main(["ann", "--sets", "generated", "--n", "3000", "--dim", "8", "--queries", "50",
                       "--repeat", "1", "--output", str(table), "--plot", str(plot)])
    assert status == 0
    lines = table.read_text().splitlines()
    assert lines[0].startswith("| vectors | index | recall@10 vs exact |")
    settings = [line.split("|")[2].strip() for line in lines[2:]]
    assert settings[0] == "flat" and any(s.startswith("ivf nprobe=") for s in settings)
    assert any(s.startswith("hnsw efSearch=") for s in settings)
    flat_recall = float(lines[2].split("|")[3])
    assert flat_recall == 1.0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_recall_grows_with_the_search_breadth():
    base, queries = generated_set(4000, 16, 100, random_state=1)
    results = benchmark_vector_set("test", base, queries, repeat=1, ivf_lists=64, log=lambda *_: None)
    by_setting = {result.setting: result for result in results}
    assert by_setting["ivf nprobe=64"].recall == pytest.approx(1.0)
    assert by_setting["ivf nprobe=1"].recall <= by_setting["ivf nprobe=16"].recall
    assert by_setting["hnsw efSearch=128"].recall >= 0.9
    assert all(np.isfinite(r.search_ratio) and r.search_ratio > 0 for r in results)


def test_ann_rejects_unknown_vector_set(capsys):
    assert cli.main(["ann", "--sets", "imagenet", "--n", "100", "--queries", "5"]) == 2
    assert "vector sets are" in capsys.readouterr().err


@pytest.mark.realdata
def test_movielens_factor_set_skips_cleanly_when_absent(tmp_path):
    from recsys.bench._ann import movielens_factor_set

    assert movielens_factor_set(10, n_factors=4, data_home=tmp_path) is None
