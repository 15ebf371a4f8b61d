"""The packaging metadata stays in step with the source tree."""

import ast
import configparser
import re
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


def _readme_commands():
    """The command of each ```bash block of the README's install section, before its first heading."""
    install_section = (REPO / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    blocks = re.findall(r"```bash\n(.*?)```", install_section, flags=re.DOTALL)
    return [block.strip() for block in blocks]


def test_ci_runs_the_readme_commands_verbatim():
    commands = _readme_commands()
    assert len(commands) == 2, f"the README's install section should hold two commands, not {commands}"
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
                if not line.lstrip().startswith("#")]
    for command in commands:
        assert any(line.startswith(command) for line in ci_lines), f".ci/run does not run {command!r}"


def test_tomllib_is_imported_from_recsys_utils_toml_only():
    # tomllib is Python 3.11+; recsys.utils._toml falls back to tomli on 3.10, which python_requires allows.
    shim = REPO / "recsys" / "utils" / "_toml.py"
    direct = []
    for path in [*(REPO / "recsys").rglob("*.py"), *(REPO / "benchmarks").rglob("*.py")]:
        if path == shim:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) else []
            if "tomllib" in names:
                direct.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not direct, f"import tomllib from recsys.utils._toml instead: {direct}"
