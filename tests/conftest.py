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
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


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
            result = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=target,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            (target / "node_modules" / ".derive-complete").touch()
    return target / "node_modules"


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _have_chromium() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


@contextlib.contextmanager
def chromium_driver(extra_flags: list[str], script_timeout: int):
    """Headless Chromium driven by selenium, with its browser log kept; Debian's chromium and
    chromium-driver are installed first when missing (as root), else the test skips."""
    import tempfile

    with locked(Path(tempfile.gettempdir()) / "derive-chromium-install.lock"):
        if not _have_chromium() and shutil.which("apt-get") and os.geteuid() == 0:
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env, timeout=600)
            subprocess.run(
                [
                    "apt-get",
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    "chromium",
                    "chromium-driver",
                ],
                capture_output=True,
                env=env,
                timeout=900,
            )
    if not _have_chromium():
        pytest.skip(
            "Chromium and chromium-driver could not be installed (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="derive-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS + extra_flags + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_script_timeout(script_timeout)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
