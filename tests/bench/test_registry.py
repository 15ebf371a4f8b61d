"""The model table: data inside the harness, imported only when a model is built."""

import importlib
import json
import subprocess
import sys

import pytest

from recsys.bench import _registry, get_model, list_models, register_model
from recsys.bench._models import PEER_MODELS, RECSYS_MODELS


def _modules_loaded_by(code):
    """The recsys modules and whether pytest is loaded after running code in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith(('recsys', 'pytest', 'implicit', 'surprise')))))"
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(json.loads(output.splitlines()[-1]))


def test_listing_models_imports_no_model_package_nor_pytest():
    loaded = _modules_loaded_by("from recsys.bench import list_models\nassert len(list_models()) > 30")
    model_packages = {"recsys.baselines", "recsys.factorization", "recsys.neighbors", "recsys.linear",
                      "recsys.hashing", "recsys.embeddings", "recsys.testing", "recsys.bench.peers"}
    assert not loaded & model_packages
    assert not {module for module in loaded if module.startswith(("pytest", "implicit", "surprise"))}


def test_importing_recsys_testing_does_not_import_pytest():
    assert "pytest" not in _modules_loaded_by("import recsys.testing")


def test_recsys_testing_names_the_dev_extra_without_pytest(monkeypatch):
    import recsys.testing

    monkeypatch.delitem(recsys.testing.__dict__, "RecommenderContract", raising=False)
    monkeypatch.setitem(sys.modules, "pytest", None)  # makes "import pytest" fail
    monkeypatch.delitem(sys.modules, "recsys.testing._contract", raising=False)
    with pytest.raises(ImportError, match=r"recsys\[dev\]"):
        recsys.testing.RecommenderContract  # noqa: B018


def test_every_row_names_an_importable_factory():
    for name, factory, *_ in (*RECSYS_MODELS, *PEER_MODELS):
        module, _, attribute = factory.partition(":")
        assert callable(getattr(importlib.import_module(module), attribute)), name


def test_table_names_are_unique_and_listed():
    names = [row[0] for row in (*RECSYS_MODELS, *PEER_MODELS)]
    assert len(names) == len(set(names))
    assert set(names) <= {spec.name for spec in list_models()}


def test_peer_rows_require_their_library():
    for name, *_, peer in PEER_MODELS:
        spec = get_model(name)
        assert spec.peer == peer and spec.requires == (peer,)


def test_default_parameters_are_not_shared_between_builds():
    first = get_model("als")
    first.default_params["factors"] = 3
    try:
        assert "factors" not in get_model("bpr").default_params
    finally:
        del first.default_params["factors"]


def test_register_model_takes_a_qualified_name():
    spec = register_model("test-qualified-pop", "recsys.baselines:PopularityRecommender", task="topn")
    try:
        from recsys.baselines import PopularityRecommender

        assert isinstance(get_model("test-qualified-pop").build(), PopularityRecommender)
        assert spec.available
    finally:
        _registry._MODELS.pop("test-qualified-pop")


def test_register_model_rejects_a_malformed_qualified_name():
    with pytest.raises(ValueError, match="module:attribute"):
        register_model("test-bad", "recsys.baselines.PopularityRecommender", task="topn")


def test_listing_survives_an_import_hook_that_refuses_a_peer(monkeypatch):
    # find_spec raises (instead of returning None) when a hook refuses a module or its parent is
    # missing; the listing must show the model as unavailable rather than fail.
    import importlib.abc
    import sys

    from recsys.bench import list_models
    from recsys.bench._registry import is_importable

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "surprise":
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None  # noqa: RET501, PLR1711 (the finder protocol: None lets the next finder look)

    monkeypatch.setattr(sys, "meta_path", [Refuse(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, "surprise", raising=False)
    assert not is_importable("surprise")
    assert not is_importable("no_such_parent.child")
    surprise_rows = [spec for spec in list_models() if spec.name.startswith("surprise-")]
    assert surprise_rows and not any(spec.available for spec in surprise_rows)
