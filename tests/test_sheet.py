"""Sheets: real PDFs typeset by TeX, read back with pdftotext."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derive import Network
from derive.notation.printing import latex
from derive.documents.sheet import render_sheet
from derive.documents.tex import tex_available

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "derive" / "examples"
needs_tex = pytest.mark.skipif(
    not tex_available() and not os.environ.get("CI"),
    reason="no TeX on this machine (CI installs it and runs these)",
)


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


@needs_tex
def test_sheet_from_options(cli, tmp_path):
    result = cli(
        "sheet",
        "--layers",
        "2",
        "3",
        "1",
        "--activation",
        "sigmoid",
        "--cost",
        "quadratic",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    tex, pdf = (
        tmp_path / "outputs/2-3-1-sigmoid-quadratic.tex",
        tmp_path / "outputs/2-3-1-sigmoid-quadratic.pdf",
    )
    assert result.stdout.splitlines() == [f"wrote outputs/{tex.name}", f"wrote outputs/{pdf.name}"]
    assert pdf_pages(pdf) >= 3
    text = pdf_text(pdf)
    for heading in [
        "Notation",
        "Forward equations and the cost",
        "Derivative of the logistic sigmoid",
        "Derivative of the quadratic cost",
        "Hidden-to-output weights",
        "Input-to-hidden weights",
        "Weights into hidden layer 1",
        "Summary in matrix form",
        "chain rule",
        "sum rule",
    ]:
        assert heading in text, heading
    assert "Worked example" not in text
    source = tex.read_text()
    net = Network([2, 3, 1])
    d = net.derivation()
    for layer in (1, 2):
        for form in ("chain", "classic"):
            assert latex(d.gradient(layer, form), net.notation) in source
    assert r"\begin{tikzpicture}" in source and "draw=highlight" in source


@needs_tex
def test_worked_example_matches_the_published_numbers(cli, tmp_path):
    """The 2-2-2 example is Matt Mazur's well-known one: total error 0.298371109,
    dE/dw5 = 0.082167041, dE/dw1 = 0.000438568 (his w5 is our w_00^(2), w1 is w_00^(1))."""
    result = cli("sheet", str(EXAMPLES / "two-two-two-biases.toml"), "--out", "mazur", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = pdf_text(tmp_path / "outputs/mazur.pdf")
    assert "Worked example with numbers" in text
    assert "0.298371109" in text
    assert "0.0821670406" in text and "0.000438567734" in text
    assert "central difference" in text
    assert "0.593269992" in text  # a_0^(1), the forward pass


@needs_tex
@pytest.mark.parametrize(
    "activation",
    ["sigmoid", "tanh", "relu", "leaky-relu", "softplus", "identity", "sigmoid(gain=alpha)"],
)
def test_every_activation_typesets(tmp_path, cli, activation):
    result = cli(
        "sheet",
        "--layers",
        "2",
        "2",
        "2",
        "--activation",
        activation,
        "--bias",
        "--cost",
        "half-quadratic",
        "--out",
        "s",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert pdf_pages(tmp_path / "outputs/s.pdf") >= 3


@needs_tex
def test_deep_mixed_network_typesets(tmp_path, cli):
    result = cli(
        "sheet",
        "--layers",
        "2",
        "3",
        "3",
        "2",
        "--activation",
        "tanh",
        "relu",
        "sigmoid",
        "--bias",
        "--cost",
        "cross-entropy",
        "--out",
        "deep",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    text = pdf_text(tmp_path / "outputs/deep.pdf")
    assert "Weights into hidden layer 2" in text and "Weights into hidden layer 1" in text


@needs_tex
def test_user_text_is_escaped(tmp_path, cli):
    spec = tmp_path / "evil.toml"
    spec.write_text('title = "50% of \\\\input{/etc/passwd} & $x$ #1 ~ ^_{}"\nlayers = [1, 1]\n')
    result = cli("sheet", str(spec), "--out", "evil", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    source = (tmp_path / "outputs/evil.tex").read_text()
    assert r"\input{/etc/passwd}" not in source
    assert "root:" not in pdf_text(tmp_path / "outputs/evil.pdf")
    assert "50% of \\input{/etc/passwd} & $x$ #1" in pdf_text(tmp_path / "outputs/evil.pdf")


@needs_tex
def test_tex_runs_without_shell_escape(tmp_path, cli):
    marker = tmp_path / "shell-escape-happened"
    templates = tmp_path / "tpl"
    templates.mkdir()
    (templates / "sheet.tex.j2").write_text(
        "\\documentclass{article}\\begin{document}\\immediate\\write18{touch " + str(marker) + "}"
        "\\VAR{title}\\end{document}\n"
    )
    result = cli(
        "sheet", "--layers", "1", "1", "--templates", str(templates), "--out", "t", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outputs/t.pdf").is_file()
    assert not marker.exists()


@needs_tex
def test_tex_failure_shows_log_keeps_tex_and_leaves_no_pdf(tmp_path, cli):
    templates = tmp_path / "tpl"
    templates.mkdir()
    (templates / "sheet.tex.j2").write_text(
        "\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n"
    )
    result = cli(
        "sheet",
        "--layers",
        "1",
        "1",
        "--templates",
        str(templates),
        "--out",
        "broken",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Undefined control sequence" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "outputs/broken.tex").is_file()
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["broken.tex"]


def test_without_tex_the_tex_is_written_and_the_way_to_tex_is_named(tmp_path):
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    if shutil.which("pdflatex", path=env["PATH"]):
        pytest.skip("pdflatex lives beside python here")
    result = subprocess.run(
        [sys.executable, "-m", "derive", "sheet", "--layers", "2", "1", "--out", "n"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert (tmp_path / "outputs/n.tex").is_file() and not (tmp_path / "outputs/n.pdf").exists()
    assert result.stderr.count("\n") == 1 and "apt-get install" in result.stderr


def test_tex_only(tmp_path, cli):
    result = cli("sheet", "--layers", "2", "1", "--tex-only", "--out", "only", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["only.tex"]


def test_json_and_toml_specs_give_the_same_sheet(tmp_path, cli):
    spec = {
        "layers": [2, 2, 2],
        "activation": "sigmoid",
        "cost": "half-quadratic",
        "bias": True,
        "title": "A 2-2-2 network with biases, worked with numbers",
        "values": {
            "x": [0.05, 0.10],
            "y": [0.01, 0.99],
            "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
            "biases": [[0.35, 0.35], [0.60, 0.60]],
            "learning_rate": 0.5,
        },
    }
    (tmp_path / "s.json").write_text(json.dumps(spec))
    assert (
        cli("sheet", str(tmp_path / "s.json"), "--tex-only", "--out", "j", cwd=tmp_path).returncode
        == 0
    )
    assert (
        cli(
            "sheet",
            str(EXAMPLES / "two-two-two-biases.toml"),
            "--tex-only",
            "--out",
            "t",
            cwd=tmp_path,
        ).returncode
        == 0
    )
    assert (tmp_path / "outputs/j.tex").read_text() == (tmp_path / "outputs/t.tex").read_text()


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "layers = [2, 1]\nactivaton = 'tanh'\n",
            "unknown key 'activaton'; did you mean 'activation'?",
        ),
        (
            "layers = [2, 1]\n[values]\nx = [1, 2]\ny = [1]\nweights = [[[1, 2, 3]]]\n",
            "weights[0][0] must be a list of 2",
        ),
        (
            "layers = [2, 1]\n[values]\nx = [1]\ny = [1]\nweights = [[[1, 2]]]\n",
            "values.x must be a list of 2",
        ),
        (
            "layers = [2, 1]\nbias = true\n[values]\nx = [1, 2]\ny = [1]\nweights = [[[1, 2]]]\n",
            "needs values.biases",
        ),
        (
            "layers = [2, 1]\n[values]\nx = [1, 2]\ny = [1]\nweights = [[[1, 2]]]\nbiases = [[1]]\n",
            "bias = false",
        ),
        (
            "layers = [2, 1]\n[values]\nx = [1, 'a b']\ny = [1]\nweights = [[[1, 2]]]\n",
            "must be a number",
        ),
        (
            "layers = [2, 1]\n[values]\nx = [1, inf]\ny = [1]\nweights = [[[1, 2]]]\n",
            "finite number",
        ),
        ("layers = [2, 1\n", "invalid TOML"),
        ("layers = [0, 1]\n", "layer size 0 must be a positive integer"),
    ],
)
def test_bad_spec_files(tmp_path, cli, content, message):
    (tmp_path / "bad.toml").write_text(content)
    result = cli("sheet", str(tmp_path / "bad.toml"), "--tex-only", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "outputs").exists()


def test_jupyter_shows_the_derivation_inline():
    d = Network([2, 3, 1]).derivation()
    shown = d._repr_latex_()
    assert shown.startswith("$$") and shown.endswith("$$")
    assert latex(d.gradient(1), d.network.notation) in shown
    assert r"\text{chain rule}" in shown


def test_committed_example_sheets_are_current():
    """outputs/ holds what `derive examples` writes today (regenerate with that command)."""
    from derive.documents.html import render_html
    from derive.documents.slides import render_slides
    from derive.read.spec_file import load_spec

    from derive.documents.sheet import checked_note

    for spec_path in sorted(EXAMPLES.glob("*.toml")):
        spec = load_spec(spec_path)
        net = spec.network()
        checked = checked_note(net)  # the examples are written with their steps checked, and say so
        assert checked is not None and "checked against SymPy" in checked
        committed = ROOT / "outputs" / f"{spec_path.stem}.tex"
        assert committed.is_file(), f"missing {committed}: run `derive examples`"
        fresh = render_sheet(net, spec.title, spec.values, checked=checked)
        assert committed.read_text() == fresh, f"{committed} is stale: run `derive examples`"
        assert committed.with_suffix(".pdf").is_file()
        deck = ROOT / "outputs" / f"{spec_path.stem}-slides.tex"
        assert deck.read_text() == render_slides(net, spec.title, spec.values, checked=checked), (
            f"{deck} is stale"
        )
        assert deck.with_suffix(".pdf").is_file()
        page = ROOT / "outputs" / f"{spec_path.stem}.html"
        assert page.read_text() == render_html(net, spec.title, spec.values, checked=checked), (
            f"{page} is stale"
        )


@pytest.mark.parametrize(
    "activation, cost",
    [
        ("sigmoid", "quadratic"),
        ("gelu", "cross-entropy"),
        ("silu", "quadratic"),
        ("softmax", "log-likelihood"),
        ("elu", "half-quadratic"),
    ],
)
def test_sheets_in_latin_script_need_no_unicode_engine(activation, cost):
    """The reasons' formulas ((u^n)' = n u^(n-1) u', σ'(z) = σ(z)(1 - σ(z))) are TeX math, so pdflatex
    typesets the sheet; a Greek word in a title stays text (and goes to lualatex)."""
    from derive.documents.tex import needs_unicode_engine

    output = "sigmoid" if cost == "cross-entropy" else activation
    net = Network([2, 2], activation=[output], cost=cost, l2=0.1)
    source = render_sheet(net)
    assert not needs_unicode_engine(source), [ch for ch in source if ord(ch) > 127][:10]
    assert re.search(r"\\why\{[^\n]*\$[^$\n]+\$", source)  # a reason's formula in $...$
    assert needs_unicode_engine(render_sheet(net, title="Σφάλμα"))
