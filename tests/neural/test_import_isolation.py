"""Only recsys.neural needs torch: the rest of recsys never imports it, and without the extra
recsys.neural says which extra to install. Both run in a fresh interpreter."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: A meta-path finder that makes the neural extra look uninstalled.
HIDE_THE_EXTRA = """
import sys

class HideTheNeuralExtra:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "peft", "safetensors"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideTheNeuralExtra())
"""


def run_python(code):
    # Run from the repository root so that the checkout's recsys is the one imported.
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False,
                          cwd=REPO, timeout=600)


def test_no_module_outside_recsys_neural_imports_torch():
    result = run_python("""
        import importlib, sys
        from pathlib import Path
        import recsys

        root = Path(recsys.__file__).parent
        # Module names from the files: pkgutil.walk_packages would import recsys.neural to look inside.
        names = sorted(".".join(("recsys", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
                       for path in root.rglob("*.py"))
        skipped = []
        for name in names:
            if name.startswith("recsys.neural"):
                continue
            try:
                importlib.import_module(name)
            except ImportError as error:  # an optional extra (peers, ltr, ...) that is not installed
                skipped.append(f"{name}: {error}")
        heavy = sorted(name for name in ("torch", "transformers", "peft", "safetensors") if name in sys.modules)
        print("IMPORTED", heavy)
        print("CHECKED", len(names) - len(skipped))
        print("SKIPPED", skipped)
    """)
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stdout, result.stdout
    assert int(result.stdout.split("CHECKED ")[1].split()[0]) > 50, result.stdout


def test_recsys_neural_without_the_extra_names_it():
    result = run_python(HIDE_THE_EXTRA + """
import recsys  # the rest of recsys works without the extra
try:
    import recsys.neural
except ImportError as error:
    print("ERROR:", error)
""")
    assert result.returncode == 0, result.stderr
    assert "ERROR: recsys.neural needs 'torch'" in result.stdout
    assert "'neural' extra" in result.stdout and 'pip install "recsys[neural]"' in result.stdout
