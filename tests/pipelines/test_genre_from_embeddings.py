import importlib.util
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "genre_from_embeddings.py"


@pytest.fixture(scope="module")
def pipeline():
    spec = importlib.util.spec_from_file_location("genre_from_embeddings", PIPELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_embeddings_recover_the_planted_genre(pipeline, capsys):
    embedding_auc, popularity_auc = pipeline.main(["--data", "generated"])
    assert embedding_auc > 0.9
    assert popularity_auc < 0.65
    assert "ROC AUC from ALS item embeddings" in capsys.readouterr().out


@pytest.mark.realdata
def test_movielens_drama(pipeline, real_dataset):
    real_dataset("ml-100k", "u.item")
    embedding_auc, popularity_auc = pipeline.main(
        ["--data", "ml-100k", "--genre", "Drama", "--data-home", str(real_dataset("ml-100k").parent)]
    )
    assert embedding_auc > popularity_auc
