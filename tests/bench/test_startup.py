"""recsys-bench starts without the heavy libraries: what `import recsys.bench.cli` and listing models
or data sets load.

Not timed (benchmarks/cli_startup.py measures the start-up); the modules loaded are the cause of a
slow start, and they are checked here in a fresh interpreter.
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "scipy.stats", "numba", "pandas", "matplotlib", "implicit", "surprise", "faiss")
# recsys.utils is not listed: its __init__ imports its modules on first use (PEP 562), and the
# registry reads two light ones (the TOML reader, find_program); HEAVY catches any heavier one.
MODEL_PACKAGES = ("recsys.baselines", "recsys.factorization", "recsys.neighbors", "recsys.linear",
                  "recsys.hashing", "recsys.embeddings", "recsys.pipeline", "recsys.ensemble",
                  "recsys.retrieval", "recsys.preprocessing", "recsys.bench.peers",
                  "recsys.metrics", "recsys.testing")


def _loaded_after(code):
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


def _heavy(loaded):
    return sorted(module for module in loaded
                  if module in HEAVY + MODEL_PACKAGES or module.startswith(tuple(f"{m}." for m in HEAVY)))


@pytest.mark.parametrize("code", [
    "import recsys.bench.cli",
    "import recsys.bench",
    "from recsys.bench.cli import main\nmain(['models'])",
])
def test_start_up_imports_no_heavy_library_nor_model_package(code):
    assert _heavy(_loaded_after(code)) == []


def test_help_exits_cleanly_without_heavy_imports():
    code = "from recsys.bench.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit as exit:\n    assert exit.code == 0"
    assert _heavy(_loaded_after(code)) == []


def test_lazy_exports_resolve_to_their_modules():
    import recsys.bench
    from recsys.bench import _runner, _significance

    assert recsys.bench.run_benchmark is _runner.run_benchmark
    assert recsys.bench.compare_to_baseline is _significance.compare_to_baseline
    assert set(recsys.bench.__all__) <= set(dir(recsys.bench))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        recsys.bench.nothing_here  # noqa: B018


def test_listing_datasets_reads_the_registry_without_pandas_scipy_nor_numba():
    # The registry's TOML reader lives in recsys.utils._toml: importing it runs
    # recsys/utils/__init__.py, which must stay lazy (no numba, no pandas).
    code = "from recsys.bench.cli import main\nmain(['datasets'])"
    loaded = _loaded_after(code)
    heavy = [module for module in _heavy(loaded) if module != "recsys.utils"]
    assert heavy == []
    assert not {"scipy", "pandas", "numba"} & loaded
    assert sorted(m for m in loaded if m.startswith("recsys.utils.")) == ["recsys.utils._toml"]
    assert sorted(m for m in loaded if m.startswith("recsys.datasets.")) == [
        "recsys.datasets._catalog", "recsys.datasets._home"]


@pytest.mark.parametrize("package", ["recsys.datasets", "recsys.utils"])
def test_importing_a_lazy_package_loads_none_of_its_modules(package):
    loaded = _loaded_after(f"import {package}")
    assert not {"scipy", "pandas", "numba", "sklearn"} & loaded
    assert [m for m in loaded if m.startswith(f"{package}.")] == []


@pytest.mark.parametrize("package", ["recsys.datasets", "recsys.utils"])
def test_every_public_name_of_a_lazy_package_resolves_to_its_module(package):
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        defining_module = importlib.import_module(f"{package}.{module._EXPORTS[name]}")
        assert getattr(module, name) is getattr(defining_module, name)
    assert sorted(module.__all__) == sorted(module._EXPORTS)
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


@pytest.mark.parametrize("package", ["recsys.datasets", "recsys.utils"])
def test_from_import_of_every_public_name_works_in_a_fresh_interpreter(package):
    import importlib

    module = importlib.import_module(package)
    loaded = _loaded_after(f"from {package} import {', '.join(module.__all__)}\nfrom {package} import *")
    assert {f"{package}.{defining}" for defining in module._EXPORTS.values()} <= loaded
