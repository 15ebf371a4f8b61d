"""recsys-bench starts without the heavy libraries: what `import recsys.bench.cli` and listing models load.

Not timed (benchmarks/cli_startup.py measures the start-up); the modules loaded are the cause of a
slow start, and they are checked here in a fresh interpreter.
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "scipy.stats", "numba", "pandas", "matplotlib", "implicit", "surprise", "faiss")
MODEL_PACKAGES = ("recsys.baselines", "recsys.factorization", "recsys.neighbors", "recsys.linear",
                  "recsys.hashing", "recsys.embeddings", "recsys.pipeline", "recsys.ensemble",
                  "recsys.retrieval", "recsys.preprocessing", "recsys.bench.peers", "recsys.utils",
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
