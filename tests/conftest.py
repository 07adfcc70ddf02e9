import subprocess
import sys

import pytest


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """Run the real command line as a user would (a fresh interpreter)."""
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.fixture
def cli():
    return run_cli
