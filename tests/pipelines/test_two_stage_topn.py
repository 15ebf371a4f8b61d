import importlib.util
from pathlib import Path

import numpy as np
import pytest

from recsys.datasets import make_interactions

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "two_stage_topn.py"


@pytest.fixture(scope="module")
def pipeline():
    spec = importlib.util.spec_from_file_location("two_stage_topn", PIPELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_stage_is_evaluated_against_each_single_model(pipeline):
    X = make_interactions(300, 120, density=0.08, random_state=0).to_csr(values="binary")
    models = {**pipeline.single_models(), "two-stage (als)": pipeline.two_stage("als", n_candidates=30, cross_fit=3)}
    table = pipeline.evaluate(models, X)
    assert list(table.index) == ["ease", "als", "item-knn-bm25", "two-stage (als)"]
    assert table[["ndcg@10", "recall@20"]].to_numpy().min() > 0
    # A reranker that had learned nothing (or the reverse order) would sit far below its members.
    assert table.loc["two-stage (als)", "ndcg@10"] > 0.7 * table["ndcg@10"].max()
    # The ranker saw the scorers' features: one of them matters to it.
    ranker_inputs = models["two-stage (als)"].feature_names_
    assert "ease_score" in ranker_inputs and "item_count" in ranker_inputs
    # Cross-fitting: the lists of (nearly) every training user, not a fifth of them.
    assert models["two-stage (als)"].training_lists_["n_users"] > 0.8 * 240


@pytest.mark.slow
def test_main_on_generated_data_prints_the_table_and_writes_the_figure(pipeline, tmp_path, capsys):
    table = pipeline.main(["--output", str(tmp_path)])
    assert table["ndcg@10 / best single"].max() >= 1.0
    np.testing.assert_allclose(table.loc[["ease", "als", "item-knn-bm25"], "ndcg@10 / best single"].max(), 1.0)
    assert (tmp_path / "two_stage_topn_ndcg.png").stat().st_size > 0
    assert (tmp_path / "two_stage_topn.csv").exists()
    assert "two-stage (ease)" in capsys.readouterr().out
