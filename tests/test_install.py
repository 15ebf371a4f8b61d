"""Installing recsys leaves nothing behind that breaks the next install.

numba's ``cache=True`` kernels used to write their cache into ``site-packages/recsys``;
``pip uninstall`` kept those files, and the leftover folder then shadowed a later
editable install (``cannot import name ... from 'recsys.metrics' (unknown location)``).
"""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import recsys

REPO = Path(__file__).resolve().parents[1]

# A kernel compiled with cache=True (and the ranking kernels it calls), small enough to compile in seconds.
RUN_A_KERNEL = """
import numpy as np
from recsys.metrics import mrr_at_k
assert mrr_at_k(np.array([[0, 0, 1, 1]]), np.array([[1, 3, 2]]), k=3) == 0.5
"""


def _environment(cache_home, **overrides):
    """os.environ without the settings that would decide the outcome for us, plus overrides."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("NUMBA_CACHE_DIR", "PYTHONPATH", "PYTHONHOME")}
    environment["XDG_CACHE_HOME"] = str(cache_home)  # platformdirs' per-user cache folder on Linux
    environment.update(overrides)
    return environment


def _run(command, environment, cwd):
    """Run command; fail the test with its output when it fails, else return its stdout."""
    completed = subprocess.run([str(part) for part in command], check=False, env=environment, cwd=cwd,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.strip()


def _python(executable, code, environment, cwd):
    """Run code in a fresh interpreter; cwd must be outside any source tree (python -c imports from it)."""
    return _run([executable, "-c", code], environment, cwd)


PRINT_CACHE_DIRS = """
import os
{imports}
import numba, platformdirs
print(numba.config.CACHE_DIR)
print(os.path.join(platformdirs.user_cache_dir("recsys"), "numba"))
"""


@pytest.mark.parametrize("imports", ["import recsys", "import numba; import recsys"],
                         ids=["recsys-first", "numba-first"])
def test_numba_cache_defaults_to_the_per_user_cache_folder(tmp_path, imports):
    cache_dir, expected = _python(sys.executable, PRINT_CACHE_DIRS.format(imports=imports),
                                  _environment(tmp_path / "cache"), tmp_path).splitlines()
    assert cache_dir == expected
    assert Path(cache_dir).is_relative_to(tmp_path / "cache")
    assert not Path(cache_dir).is_relative_to(Path(recsys.__file__).parent)


@pytest.mark.parametrize("chosen", ["{tmp}/numba-cache", ""], ids=["folder", "empty-means-numba-default"])
def test_a_numba_cache_dir_the_user_set_is_kept(tmp_path, chosen):
    chosen = chosen.format(tmp=tmp_path)
    environment = _environment(tmp_path / "cache", NUMBA_CACHE_DIR=chosen)
    printed = _python(sys.executable, "import recsys, numba; print(repr(numba.config.CACHE_DIR))",
                      environment, tmp_path)
    assert printed == repr(chosen)


def _clean_copy(destination):
    """The files `pip install .` reads, without build outputs or caches of this checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "*.nbi", "*.nbc")
    destination.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, destination / name)
    for name in ("recsys", "datasets"):
        shutil.copytree(REPO / name, destination / name, ignore=ignore)
    return destination


def _site_packages(python, environment, cwd):
    return Path(_python(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])", environment, cwd))


def _pip(python, *arguments, environment, cwd):
    _run([python, "-m", "pip", "--disable-pip-version-check", *arguments], environment, cwd)


@pytest.mark.slow
def test_install_run_uninstall_then_editable_install(tmp_path):
    """install -> run a numba kernel -> uninstall -> editable install -> import, in a throwaway venv.

    The venv sees this interpreter's packages (``--system-site-packages``) and recsys is
    installed with ``--no-deps``, so nothing but recsys itself is installed; building it
    needs setuptools and wheel from the index or pip's cache, as any ``pip install .`` does.
    """
    environment_folder = tmp_path / "venv"
    try:
        venv.create(environment_folder, system_site_packages=True, with_pip=True)
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot create a virtual environment with pip here: {error}")
    python = environment_folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    source = _clean_copy(tmp_path / "source")
    environment = _environment(tmp_path / "cache")
    installed = _site_packages(python, environment, tmp_path) / "recsys"

    _pip(python, "install", "--no-deps", str(source), environment=environment, cwd=tmp_path)
    _python(python, RUN_A_KERNEL, environment, tmp_path)
    assert Path(_python(python, "import recsys; print(recsys.__file__)", environment, tmp_path)).parent == installed
    in_package = sorted(str(path.relative_to(installed)) for pattern in ("*.nbi", "*.nbc")
                        for path in installed.rglob(pattern))
    assert not in_package, f"numba cache files inside the installed package: {in_package}"
    assert any((tmp_path / "cache" / "recsys" / "numba").rglob("*.nbi")), "the kernel was not cached"

    _pip(python, "uninstall", "--yes", "recsys", environment=environment, cwd=tmp_path)
    assert not installed.exists(), f"pip uninstall left {sorted(map(str, installed.rglob('*')))}"

    _pip(python, "install", "--no-deps", "--editable", str(source), environment=environment, cwd=tmp_path)
    imported_from = _python(python, "from recsys.metrics import mrr_at_k; import recsys; print(recsys.__file__)",
                            environment, tmp_path)
    assert Path(imported_from) == source / "recsys" / "__init__.py"


@pytest.mark.parametrize("chosen, expected", [
    ({}, "10000"),
    ({"GOMP_SPINCOUNT": "5"}, "5"),
    ({"OMP_WAIT_POLICY": "passive"}, None),
])
def test_openmp_threads_spin_briefly_unless_the_user_chose(chosen, expected):
    # libgomp's 300,000 spins at every barrier made two-thread BiasedMF fits 2.5x slower beside busy
    # processes (20x at load average 10); a wait policy or spin count the user set is kept.
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    environment.update(chosen)
    code = "import os, recsys; print(os.environ.get('GOMP_SPINCOUNT'))"
    completed = subprocess.run([sys.executable, "-c", code], check=True, env=environment,
                               capture_output=True, text=True)
    assert completed.stdout.strip() == str(expected)
