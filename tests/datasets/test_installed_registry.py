import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import setuptools

REPO = Path(__file__).resolve().parents[2]


def _can_build_wheels():
    # setuptools ships bdist_wheel itself from 70.1; older ones need the wheel package.
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _install(tmp_path):
    """Install recsys non-editably under tmp_path; return the python and environment to run it."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if not _can_build_wheels():
        # No way to build a wheel offline: lay the package out exactly as the wheel
        # would (setuptools build_py applies the same package_dir and package_data).
        lib = tmp_path / "lib"
        subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                        "build_py", "--build-lib", str(lib)], check=True, cwd=REPO)
        return sys.executable, {**environment, "PYTHONPATH": str(lib)}, lib
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(REPO)], check=True, cwd=tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--force-reinstall", "-q",
                    str(next(wheels.glob("recsys-*.whl")))], check=True)
    return str(python), environment, venv


@pytest.mark.slow
def test_installed_package_carries_the_registry(tmp_path):
    """Installed non-editably and run outside the checkout, recsys still lists the data sets."""
    python, environment, prefix = _install(tmp_path)
    script = ("import recsys.datasets as d, recsys.datasets._catalog as c; "
              "print(c.registry_folder()); print(len(d.list_datasets()))")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True,
                            cwd=elsewhere, env=environment)
    folder, count = result.stdout.strip().rsplit("\n", 1)
    assert str(prefix) in folder and folder.rstrip("')").endswith("_registry")
    assert int(count) == len(list((REPO / "datasets").glob("*.toml")))
