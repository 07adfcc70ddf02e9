"""Packaging: a wheel built from the repository, installed in a fresh virtual environment outside the
checkout, makes sheets and homework from an empty directory (templates and examples are package data).

CI builds the wheel once (``python tests/test_packaging.py build DIR``) and passes it in
``DERIVE_WHEEL``; without it the test builds its own. Skipped only where a virtual environment
cannot be made (no ``venv``/``ensurepip``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(
    ".git",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "outputs",
    "*.pyc",
)
PIP = ["-m", "pip", "--disable-pip-version-check", "--no-input"]
TIMEOUT = 900

pytestmark = pytest.mark.packaging


def build_wheel(dest: Path) -> Path:
    """Build the wheel from a clean copy of the checkout (no build/ or egg-info of the work tree leaks in)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="derive-src-") as scratch:
        source = Path(scratch) / "derive-src"
        shutil.copytree(ROOT, source, ignore=IGNORE)
        subprocess.run(
            [sys.executable, *PIP, "wheel", "--quiet", "--no-deps", "-w", str(dest), str(source)],
            check=True,
            timeout=TIMEOUT,
        )
    wheels = sorted(dest.glob("derive-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def make_venv(where: Path, python: str = sys.executable) -> Path:
    """A fresh virtual environment (with pip) for ``python``; returns its interpreter."""
    subprocess.run(
        [python, "-m", "venv", str(where)], check=True, capture_output=True, timeout=TIMEOUT
    )
    return where / "bin" / "python"


def _venv_possible() -> bool:
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    given = os.environ.get("DERIVE_WHEEL")
    if given:
        return Path(given)
    return build_wheel(tmp_path_factory.mktemp("dist"))


def test_the_wheel_holds_templates_and_examples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ["sheet.tex.j2", "homework.tex.j2", "preamble.tex.j2", "macros.tex.j2"]:
        assert f"derive/templates/{name}" in names
    assert {
        f"derive/examples/{p.name}" for p in (ROOT / "derive" / "examples").glob("*.toml")
    } <= names
    assert "derive/templates/page.html.j2" in names
    katex = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "derive" / "assets" / "katex").rglob("*")
        if p.is_file()
    }
    assert (
        len(katex) == 23 and katex <= names
    )  # katex.min.js, katex.min.css, LICENSE, 20 woff2 fonts
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "derive").rglob("*.py")}
    assert (
        "derive/documents/files.py" in modules and modules <= names
    )  # every subpackage, every module
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    headers = zipfile.ZipFile(wheel).read(metadata).decode().split("\n\n", 1)[0].splitlines()
    assert "Requires-Python: >=3.10" in headers
    requires = [line for line in headers if line.startswith("Requires-Dist:")]
    assert 'Requires-Dist: tomli>=1.1; python_version < "3.11"' in requires
    assert not [line for line in requires if "latex2sympy" in line or "antlr4" in line], requires


@pytest.mark.skipif(
    not _venv_possible(),
    reason="no venv/ensurepip for this Python: cannot make a fresh environment",
)
def test_the_installed_wheel_makes_sheets_and_homework_from_an_empty_directory(wheel, tmp_path):
    try:
        python = make_venv(tmp_path / "venv")
    except subprocess.CalledProcessError as error:
        pytest.skip(
            f"cannot create a virtual environment here: {error.stderr.decode(errors='replace')[-300:]}"
        )
    subprocess.run(
        [str(python), *PIP, "install", "--quiet", str(wheel)], check=True, timeout=TIMEOUT
    )
    empty = tmp_path / "work"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONNOUSERSITE"] = "1"

    def run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            args, cwd=empty, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    where = run(str(python), "-c", "import derive; print(derive.__file__)").stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv") and not Path(where).is_relative_to(ROOT), (
        where
    )
    derive = str(python.parent / "derive")
    run(derive, "sheet", "--layers", "2", "3", "1")
    sheet = empty / "outputs" / "2-3-1-sigmoid-quadratic.pdf"
    assert sheet.read_bytes().startswith(b"%PDF")
    run(derive, "homework", "--seed", "1", "--count", "1", "--out", "hw")
    for name in ["exercises.pdf", "solutions.pdf"]:
        assert (empty / "hw" / "version-1" / name).read_bytes().startswith(b"%PDF")
    assert (empty / "hw" / "version-1" / "key.json").is_file() and (
        empty / "hw" / "moodle.xml"
    ).is_file()
    run(derive, "html", "--layers", "2", "3", "1", "--out", "page")
    page = (empty / "outputs" / "page.html").read_text(encoding="utf-8")
    assert "data:font/woff2;base64," in page and "katex" in page
    run(derive, "examples", "--tex-only", "--out-dir", "examples")
    assert sorted(
        p.name for p in (empty / "examples").iterdir()
    ) == sorted(  # sheet, deck and page of each
        f"{p.stem}{kind}"
        for p in (ROOT / "derive" / "examples").glob("*.toml")
        for kind in (".tex", "-slides.tex", ".html")
    )


if __name__ == "__main__":  # python tests/test_packaging.py build DIR: what CI installs everywhere
    if len(sys.argv) != 3 or sys.argv[1] != "build":
        sys.exit("usage: python tests/test_packaging.py build DIR")
    print(build_wheel(Path(sys.argv[2])))
