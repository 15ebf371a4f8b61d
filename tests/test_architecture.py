"""The layers of ARCHITECTURE.md: a package imports only packages of lower layers.

Every import of every module under recsys/ counts, including the ones inside
functions (a lazy import is still a dependency), read with ``ast``, so the
test needs no import of the package itself.
"""

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "recsys"

# Lower number, lower layer. Packages of one layer do not import each other
# either: model families stay independent of one another.
LAYERS = {
    "utils": 0,
    "datasets": 1,
    "metrics": 1,
    "retrieval": 1,
    "base": 2,
    "model_selection": 2,
    "preprocessing": 3,
    "baselines": 4,
    "embeddings": 4,
    "ensemble": 4,
    "factorization": 4,
    "hashing": 4,
    "linear": 4,
    "neighbors": 4,
    "neural": 4,
    "pipeline": 5,
    "testing": 6,
    # scale-out on Dask: may import every model package; only the harness imports it
    "distributed": 6,
    # above distributed: `recsys-bench run --backend dask` runs its jobs with recsys.distributed
    "bench": 7,
}

# recsys/__init__.py itself: any module may import it (it imports no subpackage).
ROOT = "recsys"


def imported_packages(source, module_name):
    """The recsys packages (keys of LAYERS, or ROOT) imported anywhere in source."""
    package_parts = module_name.split(".")
    targets = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # A relative import: resolve it against the importing module's package.
                base = package_parts[: len(package_parts) - node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module == ROOT:
                modules = [f"{ROOT}.{alias.name}" for alias in node.names]
            else:
                modules = [module]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] != ROOT:
                continue
            targets.add(parts[1] if len(parts) > 1 and parts[1] in LAYERS else ROOT)
    return targets


def _package_of(path):
    parts = path.relative_to(PACKAGE_ROOT).with_suffix("").parts
    return parts[0] if len(parts) > 1 else (ROOT if parts[0] == "__init__" else parts[0])


def _module_name(path):
    # A package's __init__ keeps its name part, so that "from . import x" resolves to the package.
    return ".".join(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)


def layering_violations(package, targets):
    """Messages for the imports of package that go sideways or upwards."""
    if package == ROOT:
        return [f"recsys/__init__.py imports {target}" for target in targets if target != ROOT]
    return [
        f"{package} (layer {LAYERS[package]}) imports {target} (layer {LAYERS[target]})"
        for target in sorted(targets - {package, ROOT})
        if LAYERS[target] >= LAYERS[package]
    ]


MODULES = sorted(PACKAGE_ROOT.rglob("*.py"))


def test_every_package_has_a_layer():
    packages = {_package_of(path) for path in MODULES} - {ROOT}
    unplaced = packages - set(LAYERS)
    assert not unplaced, (
        f"give {sorted(unplaced)} a layer in tests/test_architecture.py LAYERS and in ARCHITECTURE.md"
    )


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE_ROOT)))
def test_no_module_imports_a_higher_layer(path):
    package = _package_of(path)
    if package not in LAYERS and package != ROOT:
        pytest.skip(f"{package} has no layer yet (test_every_package_has_a_layer fails)")
    targets = imported_packages(path.read_text(encoding="utf-8"), _module_name(path))
    violations = layering_violations(package, targets)
    assert not violations, f"{path.relative_to(PACKAGE_ROOT.parent)}: " + "; ".join(violations)


def test_a_lazy_import_of_a_higher_layer_is_caught():
    source = "def fit(self):\n    from recsys.bench import register_model\n"
    targets = imported_packages(source, "recsys.factorization._als")
    assert targets == {"bench"}
    assert layering_violations("factorization", targets) == ["factorization (layer 4) imports bench (layer 7)"]


def test_sibling_model_families_and_relative_imports_are_caught():
    source = "from ..neighbors import ItemKNN\nfrom recsys import metrics, __version__\nimport recsys.utils._top_k\n"
    targets = imported_packages(source, "recsys.factorization._als")
    assert targets == {"neighbors", "metrics", "utils", ROOT}
    assert layering_violations("factorization", targets) == ["factorization (layer 4) imports neighbors (layer 4)"]


def test_imports_of_lower_layers_pass():
    targets = imported_packages("from recsys.base import BaseRecommender\nfrom recsys.utils import top_k\n",
                                "recsys.linear._ease")
    assert layering_violations("linear", targets) == []


def test_relative_imports_in_a_package_init_resolve_to_the_package():
    targets = imported_packages("from . import _ease\nfrom .. import base\n", "recsys.linear.__init__")
    assert targets == {"linear", "base"}
