"""Fixtures shared by the whole test suite."""

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[1]


def _real_data_home():
    configured = os.environ.get("RECSYS_DATA_HOME")
    candidates = [Path(configured)] if configured else []
    candidates.append(_REPO.parent / "shared" / "data")
    return next((path for path in candidates if path.is_dir()), None)


@pytest.fixture(scope="session")
def real_data_home():
    """Folder holding the real data sets; skips the test when there is none.

    ``RECSYS_DATA_HOME`` when set, else ``../shared/data`` beside the checkout.
    """
    home = _real_data_home()
    if home is None:
        pytest.skip("real data sets not found: set RECSYS_DATA_HOME to the folder holding them")
    return home


@pytest.fixture
def real_dataset(real_data_home):
    """Return a function that gives the path of a file under the real data home, or skips."""

    def locate(*parts):
        path = real_data_home.joinpath(*parts)
        if not path.exists():
            pytest.skip(f"{path} is absent")
        return path

    return locate
