import importlib.util
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "ratings_blend.py"


@pytest.fixture(scope="module")
def pipeline():
    spec = importlib.util.spec_from_file_location("ratings_blend", PIPELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stack_on_generated_ratings_prints_its_table_and_writes_the_figure(pipeline, tmp_path, capsys):
    table = pipeline.main(["--folds", "2", "--only-folds", "0", "--cv", "2", "--blends", "stack",
                           "--output", str(tmp_path)])
    members = {name for name, _ in pipeline.surprise_members()}
    assert set(table.index) == members | {"stack"}
    # The ridge stack of six members is about as good as the best of them, and better than the worst.
    assert table.loc["stack", "mean"] <= table["mean"].drop("stack").min() + 0.01
    assert table.loc["stack", "mean"] < table["mean"].max()
    assert (tmp_path / "ratings_blend_rmse.png").stat().st_size > 0
    assert (tmp_path / "ratings_blend.csv").exists()
    assert "RMSE on generated" in capsys.readouterr().out


@pytest.mark.slow
def test_every_blend_on_generated_ratings(pipeline, tmp_path):
    table = pipeline.main(["--folds", "2", "--only-folds", "0", "--cv", "2", "--output", str(tmp_path)])
    assert {"stack", "stack+pairs", "fwls"} <= set(table.index)
    assert len(table) == len(pipeline.diverse_members()) + 3
    # Each blend is close to the best member (generated ratings come from one latent-factor model,
    # so a single BiasedMF is already near the noise floor) and better than the mean member.
    for blend in ("stack", "stack+pairs", "fwls"):
        assert table.loc[blend, "mean"] <= table["mean"].min() + 0.03
        assert table.loc[blend, "mean"] < table["mean"].mean()


def test_u1_needs_movielens(pipeline, tmp_path):
    with pytest.raises(SystemExit, match="ml-100k"):
        pipeline.main(["--split", "u1", "--output", str(tmp_path)])


@pytest.mark.realdata
@pytest.mark.slow
def test_movielens_u1_stack_beats_its_members(pipeline, real_dataset, tmp_path):
    real_dataset("ml-100k", "u1.base")
    table = pipeline.main(["--dataset", "ml-100k", "--split", "u1", "--blends", "stack", "--cv", "3",
                           "--data-home", str(real_dataset("ml-100k").parent), "--output", str(tmp_path)])
    assert table.index[0] == "stack"
