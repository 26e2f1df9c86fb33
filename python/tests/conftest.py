import os
import sys
from pathlib import Path

import pytest

# The package from this checkout (also when it is not pip-installed).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gradflow  # noqa: E402

SMALL = dict(depth=3, widths=4, samples=20, input_dim=3)


@pytest.fixture(scope="session")
def small():
    return dict(SMALL)


@pytest.fixture(scope="session", autouse=True)
def binary_found():
    # Fails (not skips) when there is no binary: these tests are part of `make test`.
    path = gradflow.binary()
    assert os.access(path, os.X_OK)
    return path
