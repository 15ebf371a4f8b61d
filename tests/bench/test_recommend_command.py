"""recsys-bench recommend, through main(argv) in-process, on generated data."""

import re

import numpy as np
import pandas as pd
import pytest

from recsys.bench import cli
from recsys.bench._recommend_command import load_saved_model
from recsys.datasets import Interactions, make_interactions
from recsys.linear import EASE
from recsys.neighbors import ItemKNN


@pytest.fixture(scope="module")
def events():
    """Events under string ids, so that no id can pass for an index."""
    frame = make_interactions(150, 40, density=0.1, random_state=0).to_pandas()
    return pd.DataFrame({"user": "u" + frame["user"].astype(str), "item": "i" + frame["item"].astype(str)})


@pytest.fixture
def events_file(tmp_path, events):
    path = tmp_path / "events.csv"
    events.to_csv(path, index=False)
    return path


@pytest.fixture
def data(events):
    return Interactions.from_pandas(events, duplicates="sum")


def recommend(*arguments):
    return cli.main(["recommend", *arguments])


def test_fits_a_registered_model_and_writes_recommend_ids(tmp_path, events_file, data):
    output = tmp_path / "out.csv"
    assert recommend("--model", "item-knn", "--param", "k=10", "--interactions", str(events_file),
                     "--users", "u3,u7", "--n", "4", "--output", str(output)) == 0
    written = pd.read_csv(output)
    expected = ItemKNN(k=10).fit(data).recommend_ids(data, users=["u3", "u7"], n=4)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)


def test_a_saved_model_gives_the_same_table(tmp_path, events_file, data):
    model_path = tmp_path / "model.npz"
    fitted, saved = tmp_path / "fitted.parquet", tmp_path / "saved.parquet"
    common = ["--interactions", str(events_file), "--users", "u1,u2,u40", "--n", "5"]
    assert recommend("--model", "ease", "--save-model", str(model_path), *common,
                     "--output", str(fitted)) == 0
    assert recommend("--model-file", str(model_path), *common, "--output", str(saved)) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(fitted), pd.read_parquet(saved))
    assert isinstance(load_saved_model(model_path), EASE)


def test_users_file_and_dataset_and_the_default_table_on_stdout(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "load_data", lambda name, data_home=None, download=False:
                        make_interactions(100, 30, density=0.1, random_state=1))
    users = tmp_path / "users.txt"
    users.write_text("5\n\n12\n")
    assert recommend("--model", "pop", "--dataset", "synthetic", "--users-file", str(users), "--n", "2") == 0
    out = capsys.readouterr().out
    assert "2 users, 4 recommendations" in out and "user_id" in out and "score" in out


def test_explain_lists_the_history_items_behind_each_score(tmp_path, events_file, data):
    output = tmp_path / "explained.md"
    assert recommend("--model", "item-knn", "--param", "k=10", "--interactions", str(events_file),
                     "--users", "u3", "--n", "3", "--explain", "--explain-top", "2",
                     "--output", str(output)) == 0
    lines = output.read_text().splitlines()
    assert lines[0] == "| user_id | rank | item_id | score | because |"
    model = ItemKNN(k=10).fit(data)
    first = model.recommend_ids(data, users="u3", n=1)["item_id"][0]
    top = model.explain(data, "u3", first).head(2)
    expected = "; ".join(f"{item} ({value:+.3g})" for item, value in
                         zip(top["history_item_id"], top["contribution"], strict=True))
    assert lines[2].endswith(f"| {expected} |")


def test_padding_is_left_out(tmp_path, events, data):
    """A user who has seen all but one item gets one row."""
    heavy = pd.DataFrame({"user": "heavy", "item": [item for item in data.item_ids if item != "i9"]})
    path, output = tmp_path / "events.parquet", tmp_path / "out.csv"
    pd.concat([events, heavy]).to_parquet(path)
    assert recommend("--model", "ease", "--interactions", str(path), "--users", "heavy", "--n", "5",
                     "--output", str(output)) == 0
    written = pd.read_csv(output)
    assert written["item_id"].tolist() == ["i9"] and written["rank"].tolist() == [1]


@pytest.mark.parametrize("arguments, message", [
    (["--model", "pop", "--users", "u1,nobody"], r"user id\(s\) \['nobody'\] are not users"),
    (["--model", "pop", "--users", "u1", "--explain"], "cannot explain"),
    (["--model", "pop", "--users", "u1", "--n", "0"], "--n 0"),
    (["--model", "pop", "--users", "u1", "--output", "out.json"], "extension must be one of"),
    (["--model", "pop", "--users", "u1", "--output", "missing/out.csv"], "does not exist"),
    (["--model", "biased-mf", "--users", "u1"], "rating predictor"),
    (["--model", "item-knn", "--users", "u1", "--param", "kk=3"], "--param"),
    (["--model-file", "absent.npz", "--users", "u1"], "no such file"),
])
def test_mistakes_give_one_line_and_status_2(events_file, capsys, arguments, message):
    assert recommend("--interactions", str(events_file), *arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("recsys-bench: error:")
    assert re.search(message, error.replace("\n", " "))


def test_model_and_model_file_exclude_each_other(events_file, capsys):
    with pytest.raises(SystemExit):
        recommend("--model", "pop", "--model-file", "m.npz", "--interactions", str(events_file),
                  "--users", "u1")
    assert "not allowed with argument" in capsys.readouterr().err


def test_only_recsys_recommenders_are_loaded(tmp_path):
    from recsys.factorization import BaselineOnly

    ratings = make_interactions(50, 20, density=0.2, random_state=0).to_pandas()
    predictor = BaselineOnly().fit(ratings[["user", "item"]], np.arange(len(ratings)) % 5 + 1.0)
    path = predictor.save(tmp_path / "predictor")
    with pytest.raises(ValueError, match="not a recsys recommender"):
        load_saved_model(path)
