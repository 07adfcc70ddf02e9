"""Weight changes (issue 11, part 1): Delta w = -eta dC_0/dw derived step by step for every layer,
one step of gradient descent in the worked example, `--learning-rate` on `sheet` and `grad`.

The reference numbers are the published 2-2-2 worked example (inputs 0.05, 0.10; targets 0.01,
0.99; learning rate 0.5), whose updated weights after one step are printed in the tutorial to
8-9 digits: w5..w8 = 0.35891648, 0.408666186, 0.511301270, 0.561370121 (our w^(2)) and
w1..w4 = 0.149780716, 0.19956143, 0.24975114, 0.29950229 (our w^(1)).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from derive import Network
from derive.checks.steps import check_steps
from derive.cli import main
from derive.model.steps import UPDATE, Rule
from derive.notation.printing import latex, text
from derive.numeric.worked import worked_example
from derive.read.spec_file import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "derive" / "examples" / "two-two-two-biases.toml"
PUBLISHED_W2 = [[0.35891648, 0.408666186], [0.511301270, 0.561370121]]
PUBLISHED_W1 = [[0.149780716, 0.19956143], [0.24975114, 0.29950229]]


def _grad_json(*args: str, capsys) -> dict:
    assert main(["grad", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_one_step_reproduces_the_published_updated_weights(capsys):
    result = _grad_json(str(EXAMPLE), capsys=capsys)
    assert result["learning_rate"] == 0.5
    for got, published in (
        (result["updated_weights"][1], PUBLISHED_W2),
        (result["updated_weights"][0], PUBLISHED_W1),
    ):
        for row, row_published in zip(got, published):
            for value, expected in zip(row, row_published):
                digits = len(str(expected).split(".")[1])
                assert round(value, digits) == pytest.approx(expected, abs=10**-digits)


def test_updated_parameters_are_old_minus_eta_times_gradient_and_shaped_alike(capsys):
    result = _grad_json(str(EXAMPLE), "--learning-rate", "0.25", capsys=capsys)
    spec = load_spec(EXAMPLE)
    weights, biases, _, _ = spec.arrays()
    assert result["learning_rate"] == 0.25
    for w, g, new in zip(weights, result["weights"], result["updated_weights"]):
        assert len(new) == len(g) and all(len(r) == len(gr) for r, gr in zip(new, g))
        assert (w - 0.25 * sp.Matrix(g).__array__().astype(float) - new == 0).all()
    for b, g, new in zip(biases, result["biases"], result["updated_biases"]):
        assert [bi - 0.25 * gi for bi, gi in zip(b, g)] == new


def test_without_a_learning_rate_grad_prints_no_update(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(
        "\n".join(line for line in EXAMPLE.read_text().splitlines() if "learning_rate" not in line)
    )
    result = _grad_json(str(spec), capsys=capsys)
    assert "updated_weights" not in result and "learning_rate" not in result


def test_worked_example_changes_are_exact_and_cover_every_parameter():
    spec = load_spec(EXAMPLE)
    example = worked_example(spec.network(), spec.values)
    assert example.learning_rate == sp.Rational(1, 2)
    assert len(example.gradients) == 12  # 8 weights and 4 biases
    for g in example.gradients:
        assert g.change == -example.learning_rate * g.gradient
        assert g.updated == g.value + g.change


@pytest.mark.parametrize(
    "sizes, bias, activation",
    [
        ([2, 2, 1], False, "sigmoid"),
        ([2, 3, 2, 1], True, "tanh"),
        ([1, 1], True, "relu"),
        ([2, 2, 2, 2, 2], False, "softplus"),
    ],
)
def test_every_weight_change_step_holds_against_sympy(sizes, bias, activation):
    net = Network(sizes, activation=activation, bias=bias)
    block = net.derivation().block(UPDATE)
    s = net.symbols
    changed = {st.lhs.base for st in block.steps}
    assert changed == ({s.dw, s.db} if bias else {s.dw})
    layers = {int(st.lhs.indices[0]) for st in block.steps}
    assert layers == set(
        range(1, net.L + 1)
    )  # hidden-to-output, input-to-hidden and every layer between
    assert [st.rule for st in block.steps[:2]] == [Rule.DEFINITION, Rule.SUBSTITUTION]
    assert check_steps(net) == []  # every step of the derivation, the weight changes included


def test_a_wrong_weight_change_is_caught_by_the_check():
    import dataclasses

    from derive.checks.steps import check_step
    from derive.evaluate.exact import Model

    net = Network([2, 2, 1])
    step = net.derivation().block(UPDATE).steps[1]  # Delta w = -eta delta_j a_k
    wrong = dataclasses.replace(step, rhs=-step.rhs)  # the sign slip: gradient ascent
    assert check_step(wrong, Model(net)) != []


def test_weight_changes_print_as_delta_w():
    net = Network([2, 2, 1])
    s = net.symbols
    assert latex(s.dw[2, s.j, s.k], net.notation) == r"\Delta w_{jk}^{(2)}"
    assert text(s.db[1, s.j], net.notation) == "Δb_j^(1)"
    assert latex(s.eta, net.notation) == r"\eta"
    nielsen = Network([2, 2, 1], notation="nielsen")
    assert latex(nielsen.symbols.dw[2, s.j, s.k], nielsen.notation) == r"\Delta w_{jk}^{2}"


@pytest.mark.parametrize(
    "value, words",
    [
        ("0", "positive"),
        ("-0.5", "positive"),
        ("abc", "must be a number"),
        ("1e9", "at most"),
        ("nan", "finite"),
        ("", "must be a number"),
        ("0,5", "must be a number"),
        ("101", "at most 100"),
    ],
)
def test_bad_learning_rates_are_one_line_errors(value, words, capsys):
    assert main(["grad", str(EXAMPLE), "--learning-rate", value]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("derive: error:") and words in err, err


@pytest.mark.parametrize(
    "line, words",
    [
        ("learning_rate = true", "must be a number"),
        ('learning_rate = "0.5"', "must be a number"),
        ("learning_rate = 0", "positive"),
        ("learning_rate = -1", "positive"),
    ],
)
def test_bad_learning_rates_in_a_spec_are_refused(tmp_path, line, words, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(EXAMPLE.read_text().replace("learning_rate = 0.5", line))
    assert main(["grad", str(spec)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "values.learning_rate" in err and words in err, err


def test_a_learning_rate_without_numbers_is_refused(capsys):
    assert (
        main(
            ["sheet", "--layers", "2", "2", "1", "--learning-rate", "0.5", "--tex-only", "--quiet"]
        )
        == 2
    )
    assert "needs numbers" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX here")
def test_the_sheet_shows_the_weight_changes_and_the_update_table(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "derive",
            "sheet",
            str(EXAMPLE),
            "--out-dir",
            str(tmp_path),
            "--learning-rate",
            "0.5",
            "--out",
            "eta",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        ["pdftotext", str(tmp_path / "eta.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "Weight changes" in shown and "One step of gradient descent" in shown
    assert (
        "hidden-to-output weights (layer 2)" in shown
        and "input-to-hidden weights (layer 1)" in shown
    )
    for row in PUBLISHED_W2 + PUBLISHED_W1:
        for value in row:
            assert f"{value:.8f}".rstrip("0")[:9] in shown.replace("\n", " ")
