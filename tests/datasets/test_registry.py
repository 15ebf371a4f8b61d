import hashlib
import importlib.resources
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from recsys.datasets import get_data_home, get_dataset_info, list_datasets
from recsys.datasets._catalog import REQUIRED_FIELDS, parse_entry, registry_folder

REGISTRY = Path(__file__).resolve().parents[2] / "datasets"
EXPECTED = {"ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-32m", "ml-latest-small",
            "movietweetings-100k", "movietweetings-latest", "lastfm-hetrec-2k", "lastfm-360k",
            "synthetic", "ml-1m-pairs", "ml-1m-partial"}


def test_registry_holds_every_expected_entry():
    assert {info.name for info in list_datasets()} == EXPECTED


@pytest.mark.parametrize("path", sorted(REGISTRY.glob("*.toml")), ids=lambda p: p.stem)
def test_every_entry_parses_with_required_fields(path):
    info = parse_entry(path.read_text(encoding="utf-8"), path.name)
    # Files are named <source>-<variant>; MovieLens entries are named ml-<variant>.
    assert path.stem in (info.name, info.name.replace("ml-", "movielens-", 1))
    for name in REQUIRED_FIELDS:
        assert getattr(info, name) is not None
    assert info.description and info.license and info.citation
    if info.format != "generated":
        assert info.folder and info.files
        assert set(info.sha256) <= set(info.files)
    for archive in info.archives:
        assert archive.url.startswith(("https://", "http://"))
        if archive.sha256:
            assert len(archive.sha256) == 64
        if archive.md5:
            assert len(archive.md5) == 32
        if archive.known_hash is None:
            assert "not verified" in info.notes or "No published checksum" in info.notes


def test_entry_without_required_field_is_rejected():
    with pytest.raises(ValueError, match="lacks the required field"):
        parse_entry('name = "x"\n', "x.toml")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(KeyError, match="ml-100k"):
        get_dataset_info("ml-100")


def test_data_home_order(monkeypatch, tmp_path):
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("RECSYS_DATA_HOME")
    assert "recsys" in str(get_data_home())


def test_presence_is_checked_in_the_data_home(tmp_path):
    info = get_dataset_info("ml-100k")
    assert not info.is_present(tmp_path)
    (tmp_path / "ml-100k").mkdir()
    for name in info.files:
        (tmp_path / "ml-100k" / name).write_text("")
    assert info.is_present(tmp_path)
    assert get_dataset_info("synthetic").is_present(tmp_path)


def test_source_checkout_reads_the_repository_folder():
    folder = registry_folder()
    try:
        installed = importlib.resources.files("recsys.datasets._registry")
    except (ModuleNotFoundError, TypeError):
        installed = None
    assert folder == installed or Path(str(folder)) == REGISTRY


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="needs the neural extra")
def test_from_the_repository_root_datasets_is_hugging_faces():
    """The registry folder datasets/ must not pass for Hugging Face's `datasets` package.

    Run from the repository root (first on sys.path, as pytest and notebooks started there put it), a
    folder without __init__.py is a namespace package only when no real package of the name is
    installed. The neural extra installs Hugging Face's datasets, which wins; without it,
    transformers' is_datasets_available() said True and Trainer.train() failed with "module
    'datasets' has no attribute 'Dataset'".
    """
    code = "import datasets; print(hasattr(datasets, 'Dataset'), datasets.__file__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=REGISTRY.parent)
    assert result.stdout.startswith("True "), (
        f"`import datasets` from the repository root gave {result.stdout.strip()!r}: install the "
        "neural extra (pip install -e '.[neural]'), which brings Hugging Face's datasets.")


@pytest.mark.realdata
@pytest.mark.parametrize("name", [info.name for info in list_datasets() if info.sha256])
def test_present_real_files_match_their_sha256(real_data_home, name):
    info = get_dataset_info(name)
    checked = 0
    for filename, expected in info.sha256.items():
        path = info.path(real_data_home) / filename
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == expected, path
            checked += 1
    if not checked:
        pytest.skip(f"no file of {name} under {real_data_home}")


def test_two_files_with_one_entry_name_are_rejected(tmp_path, monkeypatch):
    from recsys.datasets import _catalog

    text = (REGISTRY / "synthetic.toml").read_text(encoding="utf-8")
    (tmp_path / "synthetic.toml").write_text(text, encoding="utf-8")
    (tmp_path / "synthetic-copy.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(_catalog, "registry_folder", lambda: tmp_path)
    _catalog._load_registry.cache_clear()
    try:
        with pytest.raises(ValueError, match="repeats the entry 'synthetic'"):
            _catalog._load_registry()
    finally:
        _catalog._load_registry.cache_clear()
