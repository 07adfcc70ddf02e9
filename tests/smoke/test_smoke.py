"""Smoke suite: the main paths end to end, quickly. CI runs it on every other Python the machine has
(3.10, 3.12, 3.13), each in a fresh virtual environment with the built wheel installed, and it is part
of the full suite too. Self-contained on purpose (no conftest fixtures): CI copies this file out of the
checkout so that the installed package, not the checkout, is what gets imported.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.smoke

HAVE_TEX = shutil.which("pdflatex") is not None


def derive(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_the_package_under_test():
    import derive as package

    where = Path(package.__file__).resolve()
    print(f"derive {package.__version__} from {where} on Python {sys.version.split()[0]}")
    outside = os.environ.get("DERIVE_SMOKE_INSTALLED")
    if outside:  # CI: the wheel installed in a venv, never the checkout
        assert Path(sys.prefix).resolve() in where.parents, where
        assert Path(outside).resolve() not in where.parents, where


def test_steps(tmp_path):
    result = derive("steps", "--layers", "2", "3", "1", "--activation", "sigmoid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "chain rule" in result.stdout and "σ'" in result.stdout


@pytest.mark.skipif(not HAVE_TEX and not os.environ.get("CI"), reason="no TeX on this machine")
def test_sheet_pdf(tmp_path):
    result = derive("sheet", "--layers", "2", "3", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "outputs" / "2-3-1-sigmoid-quadratic.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Hidden-to-output weights" in text


def test_numeric_code_and_gradient_check(tmp_path):
    import numpy as np

    from derive import Network
    from derive.checks.gradcheck import check_gradient

    net = Network([3, 4, 2], activation=["tanh", "sigmoid"], cost="cross-entropy", bias=True)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    biases = [rng.normal(size=4), rng.normal(size=2)]
    X, Y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    report = check_gradient(net, weights, biases, X, Y)
    assert report.passed, report.table()

    # The standalone source from `derive code` computes the same gradient.
    result = derive(
        "code",
        "--layers",
        "3",
        "4",
        "2",
        "--activation",
        "tanh",
        "sigmoid",
        "--cost",
        "cross-entropy",
        "--bias",
        "--out",
        "grad.py",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    namespace: dict = {}
    exec(compile((tmp_path / "grad.py").read_text(), "grad.py", "exec"), namespace)
    grad_w, grad_b = net.numeric().gradient(weights, biases, X, Y)
    generated = namespace["gradient"](weights, biases, X, Y)
    for ours, theirs in zip([*grad_w, *grad_b], [*generated[0], *generated[1]]):
        np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-14)


def test_check_answer_on_a_generated_key(tmp_path):
    result = derive(
        "homework", "--seed", "1", "--count", "1", "--tex-only", "--out", "hw", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    key = tmp_path / "hw" / "version-1" / "key.json"
    questions = json.loads(key.read_text())["questions"]
    assert questions
    for question in questions:
        answer = question["answer_latex"]
        verdict = derive("check-answer", str(key), question["id"], "--", answer, cwd=tmp_path)
        assert verdict.returncode == 0, (question["id"], answer, verdict.stdout, verdict.stderr)
    wrong = derive("check-answer", str(key), questions[0]["id"], "--", "12345", cwd=tmp_path)
    assert wrong.returncode == 1, (wrong.stdout, wrong.stderr)


ONE_WEIGHT = 'layers = [1, 1]\nactivation = "identity"\n[values]\nx = [1.5]\ny = [0.5]\nweights = [[["w"]]]\n'


def test_values_kept_symbolic(tmp_path):
    (tmp_path / "one.toml").write_text(ONE_WEIGHT)
    result = derive("grad", "one.toml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["weights"] == [[["9*w/2 - 3/2"]]]


def test_slides_and_graph_source(tmp_path):
    """The Beamer template ships in the wheel; --graph draws the worked example's operations."""
    (tmp_path / "one.toml").write_text(ONE_WEIGHT.replace('"w"', "1"))
    result = derive("slides", "one.toml", "--graph", "--tex-only", "--out", "one", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    source = (tmp_path / "outputs" / "one-slides.tex").read_text()
    assert r"\documentclass[aspectratio=169" in source and "computational graph" in source


def test_html_page_is_one_file(tmp_path):
    """The page template and KaTeX ship in the wheel; the page refers to nothing outside itself."""
    result = derive("html", "--layers", "2", "2", "1", "--out", "page", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "outputs" / "page.html").read_text()
    assert "katex" in text and 'src="http' not in text and 'href="http' not in text
