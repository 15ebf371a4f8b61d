import importlib.util
from pathlib import Path

import numpy as np
import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "rating_classifier.py"


@pytest.fixture(scope="module")
def pipeline():
    spec = importlib.util.spec_from_file_location("rating_classifier", PIPELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gradient_boosting_on_generated_ratings_reports_and_draws(pipeline, tmp_path, capsys):
    table = pipeline.main(["--classifiers", "hist_gradient_boosting", "--output", str(tmp_path)])
    assert list(table.index) == ["hist_gradient_boosting"]
    assert list(table.columns) == ["precision", "recall", "f1", "roc_auc", "average_precision"]
    # Well above chance (0.5 ROC-AUC; average precision about the 46 % positive rate).
    assert (table["roc_auc"] > 0.8).all() and (table["average_precision"] > 0.7).all()
    for figure in ("roc.png", "precision_recall.png"):
        assert (tmp_path / figure).stat().st_size > 0
    assert "average_precision" in capsys.readouterr().out


@pytest.mark.slow
def test_forest_and_stacking_on_generated_ratings(pipeline, tmp_path):
    table = pipeline.main(["--output", str(tmp_path)])
    assert list(table.index) == ["hist_gradient_boosting", "random_forest", "stacking"]
    assert (table["roc_auc"] > 0.8).all()
    # The stack of both is at least about as good as the better of them.
    assert table.loc["stacking", "roc_auc"] >= table["roc_auc"].iloc[:2].max() - 0.01


def test_training_features_never_use_the_pair_own_rating(pipeline):
    events, genres = pipeline.generated_events(0)
    train = events.iloc[:3000]
    features = pipeline.out_of_fold_features(train, genres, folds=5)
    assert features.index.equals(train.index)
    # A user with one training event has no other event to learn from: count 0, no rating mean.
    single = train["user"].map(train["user"].value_counts()) == 1
    assert single.any()
    assert (features.loc[single, "user_count"] == 0).all()
    assert features.loc[single, "user_rating_mean"].isna().all()
    # Out-of-fold counts are the other folds' events: at most the user's training count less one.
    assert (features["user_count"] <= train["user"].map(train["user"].value_counts()) - 1).all()


def test_generated_genres_shift_the_ratings(pipeline):
    events, genres = pipeline.generated_events(0)
    mean_by_item = events.groupby("item")["rating"].mean()
    bright = genres["bright"].astype(bool) & ~genres["grim"].astype(bool)
    grim = genres["grim"].astype(bool) & ~genres["bright"].astype(bool)
    assert mean_by_item[bright[bright].index].mean() > mean_by_item[grim[grim].index].mean() + 0.8


@pytest.mark.realdata
@pytest.mark.slow
def test_movielens_genres_and_classifiers(pipeline, real_dataset, tmp_path):
    real_dataset("ml-100k", "u.item")
    data_home = str(real_dataset("ml-100k").parent)
    _, genres = pipeline.movielens_events(data_home)
    assert {"Drama", "Comedy", "Film-Noir"} <= set(genres.columns) and len(genres) == 1682
    table = pipeline.main(["--dataset", "ml-100k", "--data-home", data_home,
                           "--classifiers", "hist_gradient_boosting", "--output", str(tmp_path)])
    assert np.all(table["roc_auc"] > 0.7)
