import pytest

from recsys.bench import get_model, load_suite
from recsys.ensemble import (
    RankFusion,
    TwoStageRecommender,
    WeightedHybrid,
    make_hybrid,
    make_two_stage,
)
from recsys.ensemble._presets import build_member
from recsys.linear import EASE


@pytest.mark.parametrize("name, cls", [("hybrid", WeightedHybrid), ("rrf", RankFusion),
                                       ("two-stage", TwoStageRecommender),
                                       ("two-stage-lambdarank", TwoStageRecommender)])
def test_registry_builds_the_ensembles(name, cls):
    model = get_model(name).build()
    assert isinstance(model, cls)


def test_members_from_plain_parameters():
    hybrid = make_hybrid({"ease": {"model": "ease", "l2": 5.0}, "item-knn": {"model": "item-knn", "k": 3}},
                         weights=[2, 1])
    assert [name for name, _ in hybrid.estimators] == ["ease", "item_knn"]
    assert hybrid.get_params()["ease__l2"] == 5.0
    model = make_two_stage({"model": "ease", "l2": 7.0}, n_candidates=20)
    assert isinstance(model.candidates, EASE) and model.candidates.l2 == 7.0 and model.scorers == []


@pytest.mark.parametrize("spec, message", [({"l2": 1.0}, "'model' key"), ({"model": "lightfm"}, "unknown member")])
def test_bad_member_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        build_member(spec)


@pytest.mark.parametrize("suite", ["ml100k-ensembles", "ml1m-pairs-ensembles"])
def test_ensemble_suites_build_every_model(suite):
    from pathlib import Path

    loaded = load_suite(Path(__file__).resolve().parents[2] / "benchmarks" / "suites" / f"{suite}.toml")
    for entry in loaded.models:
        get_model(entry.name).build(**entry.params)
