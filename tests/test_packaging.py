"""The packaging metadata stays in step with the source tree."""

import configparser
from pathlib import Path

import recsys

REPO = Path(__file__).resolve().parents[1]


def _declared_packages():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    return set(config["options"]["packages"].split())


def test_every_subpackage_is_declared_in_setup_cfg():
    source = Path(recsys.__file__).parent
    found = {"recsys"} | {
        "recsys." + ".".join(init.parent.relative_to(source).parts)
        for init in source.rglob("__init__.py") if init.parent != source
    }
    missing = found - _declared_packages()
    assert not missing, f"add these packages to setup.cfg [options] packages: {sorted(missing)}"


def test_registry_package_maps_to_the_datasets_folder():
    assert "recsys.datasets._registry" in _declared_packages()
    assert any((REPO / "datasets").glob("*.toml")), "the dataset registry (datasets/*.toml) is missing"
