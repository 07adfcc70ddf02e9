import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

JS = Path(__file__).parent / "js"


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """Run the real command line as a user would (a fresh interpreter)."""
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.fixture
def cli():
    return run_cli


@contextlib.contextmanager
def locked(path: Path):
    """An exclusive lock on ``path`` (shared by the pytest-xdist workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/js/package.json's packages (MathJax 2.7 and 3, KaTeX, markdown-it), installed once with
    ``npm ci`` into a cache outside the checkout, keyed by the lock file."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed to render with MathJax and KaTeX")
    lock = (JS / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "derive-tests"
    target = cache / f"js-{hashlib.sha256(lock).hexdigest()[:16]}"
    with locked(cache / "js.lock"):
        if not (target / "node_modules" / ".derive-complete").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy(JS / name, target / name)
            result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                                    capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, result.stderr[-3000:]
            (target / "node_modules" / ".derive-complete").touch()
    return target / "node_modules"
