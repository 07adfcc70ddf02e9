"""Notation presets for the courses our users learn from (issue 11, part 6).

deeplizard ("Backpropagation explained"): layers named from the output, (L), (L-1), (L-2), ...; sums up to
the summed layer's size n - 1; the activation g^{(L)}(z_j^{(L)}); the quadratic cost and the sigmoid.
Nielsen: the matrix summary's equations labelled BP1..BP4 (BP3, the bias gradient, absent without biases).
The default notation's output is held byte for byte against what it was before the presets
(tests/data/presets/, made from the commit before them).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import sympy as sp

from derive import Network
from derive.cli import main
from derive.documents.sheet import render_sheet
from derive.documents.tex import tex_available
from derive.errors import DeriveError
from derive.model.steps import SUMMARY, Equation
from derive.notation.letters import PRESETS, Notation
from derive.notation.printing import latex, text
from derive.render import latex as lr
from derive.render.display import block_text, step_text
from derive.render.terminal import render_steps, steps_data

DATA = Path(__file__).resolve().parent / "data" / "presets"
needs_tex = pytest.mark.skipif(
    not tex_available() and not os.environ.get("CI"),
    reason="no TeX on this machine (CI installs it and runs these)",
)


def steps_output(capsys, *args: str) -> str:
    assert main(["steps", *args]) == 0
    return capsys.readouterr().out


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


# deeplizard: layers named from the output ------------------------------------------------------
def test_deeplizard_terminal_output_names_layers_from_the_output(capsys):
    out = steps_output(capsys, "--layers", "2", "3", "1", "--notation", "deeplizard")
    for printed in (
        "w_jk^(L)",
        "a_k^(L-1)",
        "∂C_0/∂w_jk^(L) = 2·(a_j^(L) - y_j)·g^(L)'(z_j^(L))·a_k^(L-1)",
        "∂C_0/∂w_jk^(L-1)",
        "a_j^(L-1) = g^(L-1)(z_j^(L-1))",
        "Weights into hidden layer L-1",
    ):
        assert printed in out, printed
    assert not re.search(r"\^\((0|1|2)\)", out)  # no layer printed by its number
    assert "layer 1" not in out and "layer 2" not in out  # nor in the prose


def test_deeplizard_latex_names_layers_from_the_output():
    net = Network([2, 3, 1], notation="deeplizard")
    source = render_sheet(net)
    for printed in (
        r"w_{jk}^{(L)}",
        r"a_{k}^{(L-1)}",
        r"a_{j}^{(L)} = g^{(L)}{\left(z_{j}^{(L)} \right)}",
        r"g^{(L)\prime}\!\left(z_{j}^{(L)}\right)",
        r"\delta^{(L)} = \nabla_{a^{(L)}} C_{0}",
    ):
        assert printed in source, printed
    assert not re.search(r"\^\{\((0|1|2)\)\}", source)
    s = net.symbols
    assert latex(s.w[2, s.j, s.k], net.notation) == r"w_{jk}^{(L)}"
    assert latex(s.a[1, s.k], net.notation) == r"a_{k}^{(L-1)}"
    assert text(s.a[1, s.k], net.notation) == "a_k^(L-1)"


def test_a_three_weight_layer_network_names_layer_l_minus_2(capsys):
    out = steps_output(capsys, "--layers", "2", "2", "2", "1", "--notation", "deeplizard")
    assert "a_k^(L-2)" in out and "w_jk^(L-2)" in out and "δ_j^(L-2)" in out
    assert (
        "Σ_{k'=0..n^(L-3) - 1} [w_j,k'^(L-2)·x_k']" in out
    )  # the input layer is L-3 here, and stays x
    assert not re.search(r"\^\((0|1|2|3)\)", out)
    net = Network([2, 2, 2, 1], notation="deeplizard")
    assert [net.notation.layer_name(m) for m in range(4)] == ["L-3", "L-2", "L-1", "L"]


def test_the_input_layer_is_still_x():
    net = Network([2, 3, 1], notation="deeplizard")
    d = net.derivation()
    assert text(d.gradient(1), net.notation).endswith("·x_k")


# deeplizard: sums up to the layer's size, only when printed ----------------------------------
def test_the_cost_sums_up_to_the_output_layer_s_size():
    net = Network([2, 3, 1], notation="deeplizard")
    cost = net.derivation().block("forward").steps[-1]
    assert (
        latex(cost.rhs, net.notation)
        == r"\sum_{j'=0}^{n^{(L)} - 1} \left(a_{j'}^{(L)} - y_{j'}\right)^{2}"
    )
    assert text(cost.rhs, net.notation) == "Σ_{j'=0..n^(L) - 1} [(a_j'^(L) - y_j')^2]"
    assert cost.rhs.limits == (
        (net.symbols.j_sum, 0, 0),
    )  # the expression keeps the number the checks expand


def test_forward_sums_up_to_the_size_of_the_layer_before():
    net = Network([2, 3, 1], notation="deeplizard")
    z2 = net.derivation().block("forward").steps[2]
    assert (
        latex(z2.rhs, net.notation) == r"\sum_{k'=0}^{n^{(L-1)} - 1} w_{j,k'}^{(L)} a_{k'}^{(L-1)}"
    )
    z1 = net.derivation().block("forward").steps[0]
    assert latex(z1.rhs, net.notation) == r"\sum_{k'=0}^{n^{(L-2)} - 1} w_{j,k'}^{(L-1)} x_{k'}"


def test_a_downstream_sum_runs_over_the_next_layer():
    net = Network([2, 3, 1], notation="deeplizard")
    hidden = net.derivation().delta(1)
    assert text(hidden, net.notation).startswith("Σ_{i=0..n^(L) - 1} [w_ij^(L)·δ_i^(L)]")


def test_sizes_are_a_field_of_their_own():
    """sum_limits works in any notation, e.g. with layers by number."""
    nt = Notation(sum_limits="sizes")
    net = Network([2, 3, 1], notation=nt)
    cost = net.derivation().block("forward").steps[-1]
    assert (
        latex(cost.rhs, net.notation)
        == r"\sum_{j'=0}^{n^{(2)} - 1} \left(a_{j'}^{(2)} - y_{j'}\right)^{2}"
    )


def test_deeplizard_steps_still_check(capsys):
    assert (
        main(["steps", "--layers", "2", "2", "1", "--notation", "deeplizard", "--check", "--quiet"])
        == 0
    )


# deeplizard: the activation g^{(L)} ------------------------------------------------------------
def test_the_activation_is_g_with_the_layer_and_its_own_block_keeps_its_name(capsys):
    out = steps_output(capsys, "--layers", "2", "3", "1", "--notation", "deeplizard")
    assert "σ(z) = 1/(1 + exp(-z))" in out and "σ'(z) = d/dz [1/(1 + exp(-z))]" in out
    assert "g^(L)'(z_j^(L)) = a_j^(L)·(1 - a_j^(L))" in out
    assert "σ(z_" not in out and "σ'(z_" not in out


def test_only_the_layer_s_own_activation_becomes_g():
    """A helper function applied at a weighted input (or another layer's function) keeps its name."""
    nt = Notation(
        activation_names="layer",
        layer_names="from_output",
        output_layer=2,
        layer_activations=("tanh", "sigma"),
    )
    s, f = nt.symbols, sp.Function
    assert text(f("sigma")(s.z[2, s.j]), nt) == "g^(L)(z_j^(L))"
    assert text(f("tanh")(s.z[1, s.j]), nt) == "g^(L-1)(z_j^(L-1))"
    assert text(f("sigma")(s.z[1, s.j]), nt) == "σ(z_j^(L-1))"  # not layer L-1's activation
    assert (
        text(f("sigma")(3 * s.z[2, s.j]), nt) == "σ(3·z_j^(L))"
    )  # not at the weighted input itself
    assert text(sp.Derivative(f("tanh")(s.z[1, s.j]), s.z[1, s.j]), nt) == "g^(L-1)'(z_j^(L-1))"
    assert (
        latex(f("tanh")(s.z[1, s.j]) ** 2, nt)
        == r"\left(g^{(L-1)}{\left(z_{j}^{(L-1)} \right)}\right)^{2}"
    )


def test_mixed_activations_each_print_as_their_layer_s_g():
    net = Network([2, 3, 1], activation=["tanh", "sigmoid"], notation="deeplizard")
    d = net.derivation()
    written = text(d.gradient(1), net.notation)
    assert "g^(L)'(z_i^(L))" in written and "g^(L-1)'(z_j^(L-1))" in written
    rows = dict((str(symbol), meaning) for symbol, meaning in lr.notation_rows(net))
    assert (
        rows[r"g^{(L-1)}\!\left(z\right) = \tanh{\left(z \right)}"]
        == "activation of layer L-1: hyperbolic tangent"
    )
    assert (
        rows[r"g^{(L)}\!\left(z\right) = \sigma{\left(z \right)}"]
        == "activation of layer L: logistic sigmoid"
    )


def test_deeplizard_defaults_are_the_quadratic_cost_and_the_sigmoid():
    net = Network([2, 3, 1], notation="deeplizard")
    assert net.cost.name == "quadratic" and [a.name for a in net.activations] == [
        "sigmoid",
        "sigmoid",
    ]
    assert "2·(a_j^(L) - y_j)" in text(net.derivation().gradient(2), net.notation)  # no one half


# The notation as data ----------------------------------------------------------------------------
def test_a_network_binds_its_output_layer_only_where_the_notation_needs_it():
    assert Network([2, 3, 1]).notation is PRESETS["default"]
    assert Network([2, 3, 1], notation="nielsen").notation is PRESETS["nielsen"]
    bound = Network([2, 3, 1], notation="deeplizard").notation
    assert bound.output_layer == 2 and bound.layer_activations == ("sigma", "sigma")
    assert PRESETS["deeplizard"].output_layer is None
    assert (
        PRESETS["deeplizard"].layer_name(2) == "2"
    )  # without a network, layers keep their numbers


@pytest.mark.parametrize(
    "field, value",
    [
        ("layer_names", "relative"),
        ("sum_limits", "size"),
        ("activation_names", "g"),
        ("summary_labels", ("BP1", "BP2", "BP3")),
        ("summary_labels", ("BP1", "", "BP3", "BP4")),
        ("output_layer", 0),
        ("output_layer", True),
    ],
)
def test_bad_fields_are_one_line_errors(field, value):
    with pytest.raises(DeriveError) as caught:
        Notation(**{field: value})
    assert field in str(caught.value) and "\n" not in str(caught.value)


def test_deeplizard_is_offered_everywhere_presets_are(capsys, tmp_path):
    assert main(["completion", "bash"]) == 0
    completion = capsys.readouterr().out
    assert re.search(r'--notation\) COMPREPLY=\(\$\(compgen -W "[^"]*deeplizard', completion)
    assert main(["steps", "--help"]) == 0
    assert "deeplizard" in capsys.readouterr().out
    spec = tmp_path / "spec.toml"
    spec.write_text('layers = [2, 3, 1]\nnotation = "deeplizard"\n')
    assert main(["sheet", str(spec), "--tex-only", "--quiet", "--out-dir", str(tmp_path)]) == 0
    assert r"w_{jk}^{(L)}" in next(tmp_path.glob("*.tex")).read_text()


# Nielsen: BP1..BP4 -------------------------------------------------------------------------------
def test_nielsen_summary_is_labelled_bp1_to_bp4_in_order():
    net = Network([2, 3, 1], bias=True, notation="nielsen")
    summary = net.derivation().block(SUMMARY)
    assert [step.equation for step in summary.steps] == list(Equation)
    assert [step.tag(net.notation) for step in summary.steps] == ["BP1", "BP2", "BP3", "BP4"]


def test_without_biases_bp3_is_absent_and_bp4_stays_bp4(capsys):
    net = Network([2, 3, 1], notation="nielsen")
    summary = net.derivation().block(SUMMARY)
    assert [step.tag(net.notation) for step in summary.steps] == ["BP1", "BP2", "BP4"]
    out = steps_output(capsys, "--layers", "2", "3", "1", "--notation", "nielsen")
    tagged = re.findall(r"^\((\d)\) .* {4}\((BP\d)\)$", out, re.M)
    assert tagged == [("1", "BP1"), ("2", "BP2"), ("3", "BP4")]
    assert "(1) δ^2 = ∇_a^2 C_0 ⊙ σ'(z^2)    (BP1)" in out


def test_nielsen_labels_in_every_renderer():
    net = Network([2, 3, 1], bias=True, notation="nielsen")
    d = net.derivation()
    block = d.block(SUMMARY)
    # LaTeX sheet: the label at the right margin of its line
    lines = lr.render_block(block, d).lines
    assert [line.tag for line in lines] == ["BP1", "BP2", "BP3", "BP4"]
    source = render_sheet(net)
    assert [m for m in re.findall(r"\\taggedstepline\{(\d)\}\{(BP\d)\}", source)] == [
        ("1", "BP1"),
        ("2", "BP2"),
        ("3", "BP3"),
        ("4", "BP4"),
    ]
    # Jupyter: the label after each markdown display's equation; beside the rule in the aligned LaTeX
    markdown = block._repr_markdown_()
    assert re.findall(r"\\qquad \\text\{\((BP\d)\)\}\n\$\$", markdown) == [
        "BP1",
        "BP2",
        "BP3",
        "BP4",
    ]
    assert "**BP1**" in markdown and r"\tag" not in markdown
    assert re.findall(r"\\text\{[a-z ]+ \((BP\d)\)\}", block._repr_latex_()) == [
        "BP1",
        "BP2",
        "BP3",
        "BP4",
    ]
    plain = block_text(
        block, net.notation
    )  # IPython's plain text: as the terminal prints the block
    assert re.findall(r"^\((\d)\) .* {4}\((BP\d)\)$", plain, re.M) == [
        ("1", "BP1"),
        ("2", "BP2"),
        ("3", "BP3"),
        ("4", "BP4"),
    ]
    assert "\n      chain rule: " in plain
    assert step_text(block.steps[3], net.notation).endswith("[substitution (BP4)]")
    # JSON: a "tag" on the labelled steps only
    data = steps_data(d)
    summary = next(b for b in data["blocks"] if b["key"] == "summary")
    assert [s["tag"] for s in summary["steps"]] == ["BP1", "BP2", "BP3", "BP4"]
    assert all("tag" not in s for b in data["blocks"] if b["key"] != "summary" for s in b["steps"])


def test_other_notations_label_nothing():
    for name in ("default", "deeplizard"):
        net = Network([2, 3, 1], bias=True, notation=name)
        d = net.derivation()
        assert all(step.tag(net.notation) is None for step in d.block(SUMMARY).steps)
        assert (
            "BP" not in render_steps(d)
            and "BP" not in d._repr_markdown_()
            and "BP" not in render_sheet(net)
        )
        assert r"\taggedstepline{" not in render_sheet(net)


# The default notation is unchanged ---------------------------------------------------------------
def test_default_terminal_output_is_unchanged(capsys):
    assert (
        steps_output(capsys, "--layers", "2", "3", "1") == (DATA / "default-2-3-1.txt").read_text()
    )


def test_default_jupyter_output_is_unchanged():
    d = Network([2, 3, 1]).derivation()
    assert d._repr_markdown_() == (DATA / "default-2-3-1.md").read_text()
    assert d._repr_latex_() == (DATA / "default-2-3-1.latex").read_text()


def test_default_sheet_is_unchanged():
    """The default notation's sheet, as recorded (regenerate the fixture when the derivation itself
    changes on purpose: the presets must not change it)."""
    assert render_sheet(Network([2, 3, 1])) == (DATA / "default-2-3-1.tex").read_text()


# PDFs --------------------------------------------------------------------------------------------
@needs_tex
def test_deeplizard_pdf_builds_and_reads_with_layers_from_the_output(tmp_path):
    assert (
        main(
            [
                "sheet",
                "--layers",
                "2",
                "3",
                "1",
                "--notation",
                "deeplizard",
                "--out",
                "deeplizard",
                "--out-dir",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 0
    )
    pdf = tmp_path / "deeplizard.pdf"
    assert pdf.is_file()
    words = pdf_text(pdf)
    assert "(L" in words and "Weights into hidden layer L-1" in words
    assert "input (L-2)" in words and "output (L)" in words


@needs_tex
def test_nielsen_pdf_shows_the_bp_labels(tmp_path):
    for bias, expected in ((True, ["BP1", "BP2", "BP3", "BP4"]), (False, ["BP1", "BP2", "BP4"])):
        name = f"nielsen-{bias}"
        assert (
            main(
                [
                    "sheet",
                    "--layers",
                    "2",
                    "3",
                    "1",
                    "--notation",
                    "nielsen",
                    "--out",
                    name,
                    "--out-dir",
                    str(tmp_path),
                    "--quiet",
                    *(["--bias"] if bias else []),
                ]
            )
            == 0
        )
        assert re.findall(r"\((BP\d)\)", pdf_text(tmp_path / f"{name}.pdf")) == expected


def test_worked_tables_name_the_layers_as_the_notation_does(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'layers = [2, 2, 2]\nbias = true\nnotation = "deeplizard"\n[values]\nx = [0.05, 0.10]\n'
        "y = [0.01, 0.99]\nweights = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]\n"
        "biases = [[0.35, 0.35], [0.60, 0.60]]\n"
    )
    assert (
        main(
            [
                "sheet",
                str(spec),
                "--tex-only",
                "--quiet",
                "--out",
                "worked",
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    source = (tmp_path / "worked.tex").read_text()
    assert "\nL-1 & 0 & " in source and "\nL & 1 & " in source


def test_steps_json_in_deeplizard(capsys):
    assert main(["steps", "--layers", "2", "3", "1", "--notation", "deeplizard", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cost = next(b for b in data["blocks"] if b["key"] == "forward")["steps"][-1]
    assert cost["rhs"]["latex"].startswith(r"\sum_{j'=0}^{n^{(L)} - 1}")
