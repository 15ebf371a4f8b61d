import importlib.util
from pathlib import Path

import numpy as np
import pytest

from recsys.hashing import find_near_duplicates, pairwise_jaccard

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "near_duplicates.py"


@pytest.fixture(scope="module")
def pipeline():
    spec = importlib.util.spec_from_file_location("near_duplicates_pipeline", PIPELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pipeline_finds_every_planted_copy_in_generated_data(pipeline, capsys):
    groups, planted = pipeline.main(["--data", "generated", "--threshold", "0.8"])
    found = {(int(a), int(b)) for group in groups for a in group for b in group if a < b}
    assert planted and planted <= found
    assert "planted near-copies found: 40 of 40" in capsys.readouterr().out


def test_groups_are_components_of_pairs_above_threshold(pipeline):
    sets, _, _ = pipeline.generated_items(n_users=600, n_items=150, n_copies=10)
    groups = find_near_duplicates(sets, threshold=0.7)
    similarity = pairwise_jaccard(sets)
    np.fill_diagonal(similarity, 0)
    for group in groups:
        # Every member has a partner at or above the threshold inside its group.
        assert (similarity[np.ix_(group, group)].max(axis=1) >= 0.7).all()
    grouped = np.concatenate(groups) if groups else np.empty(0, int)
    assert len(np.unique(grouped)) == len(grouped)


def test_estimated_verification_agrees_on_clear_duplicates(pipeline):
    sets, _, planted = pipeline.generated_items(n_users=600, n_items=150, n_copies=10)
    exact = find_near_duplicates(sets, threshold=0.8, exact=True)
    estimated = find_near_duplicates(sets, threshold=0.8, exact=False)
    pairs = [{(int(a), int(b)) for g in groups for a in g for b in g if a < b}
             for groups in (exact, estimated)]
    assert planted <= pairs[0] and planted <= pairs[1]


def test_empty_sets_are_not_duplicates():
    assert find_near_duplicates([[], [], ["a"]], threshold=0.5) == []


@pytest.mark.realdata
def test_pipeline_on_movielens_100k(pipeline, real_data_home, monkeypatch, capsys):
    if not (Path(real_data_home) / "ml-100k" / "u.data").exists():
        pytest.skip("ml-100k is not under RECSYS_DATA_HOME")
    monkeypatch.setenv("RECSYS_DATA_HOME", str(real_data_home))
    groups, _ = pipeline.main(["--data", "ml-100k", "--threshold", "0.6", "--min-raters", "20"])
    assert "near-duplicates at Jaccard >= 0.6" in capsys.readouterr().out
    assert all(len(group) >= 2 for group in groups)
