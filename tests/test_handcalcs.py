"""Worked examples handcalcs style (symbolic = numbers put in = result), and values kept symbolic.

Every calculation is checked three ways: its formula evaluated by the engine's one evaluator, its
substituted line evaluated by SymPy, and its result must all agree; with symbols among the values,
each gradient also equals SymPy's own derivative of the written-out cost.
"""

import json
import os
import re
import subprocess

import pytest
import sympy as sp

from derive import Network
from derive.documents.tex import tex_available
from derive.errors import DeriveError
from derive.evaluate.exact import Model, function_values, primes_as_functions, with_function_values
from derive.model.values import Values
from derive.notation.printing import Given, numbers_latex
from derive.numeric.worked import Stage, point_from_values, worked_example
from derive.read.spec_file import spec_from_text, value_symbol
from derive.render.latex import calculation_lines

R = sp.Rational
W = sp.Symbol("w", real=True)
needs_tex = pytest.mark.skipif(
    not tex_available() and not os.environ.get("CI"),
    reason="no TeX on this machine (CI installs it and runs these)",
)

ONE_WEIGHT = """
layers = [1, 1]
activation = "identity"
[values]
x = [1.5]
y = [0.5]
weights = [[["w"]]]
"""


def rebuilt(e: sp.Expr) -> sp.Expr:
    """``e`` built again with SymPy's evaluation on (the engine writes its forms unevaluated); each given
    value in its place."""
    if isinstance(e, Given):
        return e.args[0]
    if not e.args or isinstance(e, sp.Indexed):
        return e
    return e.func(*(rebuilt(a) for a in e.args))


def evaluated(substituted: sp.Expr, net: Network) -> sp.Expr:
    """The substituted line's value: each given value in place, evaluated, the activations by their
    definitions."""
    value = with_function_values(primes_as_functions(rebuilt(substituted)), function_values(net))
    return value.doit()


def agree(a: sp.Expr, b: sp.Expr) -> bool:
    diff = rebuilt(sp.sympify(a)) - rebuilt(sp.sympify(b))
    if diff.free_symbols:
        return sp.expand(diff) == 0 or sp.simplify(diff) == 0
    if diff == 0:
        return True
    return abs(sp.N(diff, 60)) <= sp.Float(10) ** -40 * max(1, abs(sp.N(b, 60)))


def one_weight_example():
    spec = spec_from_text(ONE_WEIGHT)
    return spec.network(), spec.values, worked_example(spec.network(), spec.values)


# The one-weight case of the issue ---------------------------------------------------------------------
def test_one_weight_gradient_flows_to_4_5w_minus_1_5():
    net, values, example = one_weight_example()
    (gradient,) = example.stage(Stage.GRADIENT)
    assert gradient.result == R(9, 2) * W - R(3, 2)
    s = net.symbols
    assert sp.expand(gradient.written_out - 2 * (s.w[1, 0, 0] * s.x[0] - s.y[0]) * s.x[0]) == 0
    line = next(line for line in calculation_lines(net, example) if line.stage is Stage.GRADIENT)
    assert line.substituted == r"2 \left(1.5 w - 0.5\right) \left(1.5\right)"
    assert line.result == "4.5 w - 1.5"
    assert line.written_out == r"2 \left(w_{00}^{(1)} x_{0} - y_{0}\right) x_{0}"
    assert line.equation.endswith(r"= 2 \left(1.5 w - 0.5\right) \left(1.5\right) = 4.5 w - 1.5")


def test_one_weight_gradient_is_sympys_derivative_of_the_cost():
    net, _, example = one_weight_example()
    cost = (R(3, 2) * W - R(1, 2)) ** 2
    assert sp.expand(example.cost - cost) == 0
    (g,) = example.gradients
    assert g.gradient == sp.expand(sp.diff(cost, W)) == g.derivative
    assert g.finite_difference is None


def test_grad_json_prints_symbolic_entries_in_sympy_syntax(cli, tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text(ONE_WEIGHT + "learning_rate = 0.1\n")
    result = cli("grad", str(spec), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["weights"] == [[["9*w/2 - 3/2"]]]
    assert data["symbols"] == ["w"]
    assert sp.parse_expr(data["cost"], local_dict={"w": W}) == sp.expand(
        (R(3, 2) * W - R(1, 2)) ** 2
    )
    # w - 0.1 (9w/2 - 3/2) = 11w/20 + 3/20, checked by the parser of the test, not derive's
    updated = sp.parse_expr(data["updated_weights"][0][0][0], local_dict={"w": W})
    assert updated == W - R(1, 10) * (R(9, 2) * W - R(3, 2))
    text = cli("grad", str(spec))
    assert text.returncode == 0 and "dC/dw^(1) = [[9*w/2 - 3/2]]" in text.stdout


def test_commands_that_need_numbers_refuse_symbols_in_one_line(cli, tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text(ONE_WEIGHT)
    result = cli("check", str(spec))
    assert result.returncode == 2
    assert (
        result.stderr.count("\n") == 1
        and "values.weights[0][0][0] is the symbol w" in result.stderr
    )


# Every calculation agrees with the engine and with its own substitution ---------------------------------
NETWORKS = [
    (
        Network((2, 2, 1), bias=True),
        Values(
            x=(R(1, 2), R(-1, 4)),
            y=(R(1, 100),),
            weights=(((R(1, 10), R(1, 5)), (R(-3, 10), R(2, 5))), ((R(1, 2), R(-3, 5)),)),
            biases=((R(1, 10), R(0)), (R(1, 5),)),
            learning_rate=R(1, 2),
        ),
    ),
    (
        Network((2, 3, 2), activation=["tanh", "sigmoid"], cost="cross-entropy"),
        Values(
            x=(R(3, 10), R(-7, 10)),
            y=(R(1), R(0)),
            weights=(
                ((R(1, 3), R(-1, 2)), (R(2, 7), R(1, 9)), (R(-1, 4), R(3, 8))),
                ((R(1, 2), R(-1, 3), R(1, 4)), (R(-2, 5), R(1, 6), R(3, 5))),
            ),
            biases=None,
        ),
    ),
    (
        Network((2, 2), activation="softmax", cost="log-likelihood"),
        Values(
            x=(R(1), R(-2)),
            y=(R(0), R(1)),
            weights=(((R(1, 2), R(1, 4)), (R(-1, 3), R(2, 3))),),
            biases=None,
        ),
    ),
    (
        Network((2, 1), activation="identity", l2=R(1, 10)),
        Values(
            x=(sp.Symbol("x_0", real=True), R(2)),
            y=(R(1, 2),),
            weights=(((W, R(-1, 2)),),),
            biases=None,
            learning_rate=sp.Symbol("eta", real=True),
        ),
    ),
]


@pytest.mark.parametrize(
    "net, values", NETWORKS, ids=["2-2-1-bias", "tanh-sigmoid-xent", "softmax", "symbols-l2"]
)
def test_every_calculation_agrees_three_ways(net, values):
    example = worked_example(net, values)
    model = Model(net, point=point_from_values(net, values))
    stages = {c.stage for c in example.calculations}
    assert {Stage.FORWARD, Stage.COST, Stage.BACKWARD, Stage.GRADIENT} <= stages
    assert (Stage.UPDATE in stages) == (values.learning_rate is not None)
    for c in example.calculations:
        assert c.substituted.has(Given) or c.formula.is_Number, c
        assert agree(evaluated(c.substituted, net), c.result), (c.lhs, c.substituted, c.result)
        if (
            c.stage is not Stage.UPDATE
        ):  # the formula by the one evaluator of checks, examples and grader
            assert agree(model.value(rebuilt(c.formula)), c.result), (c.lhs, c.formula, c.result)
        if c.written_out is not None:
            assert not any(q.base == net.symbols.delta for q in c.written_out.atoms(sp.Indexed))
            assert agree(model.value(rebuilt(c.written_out)), c.result)


@pytest.mark.parametrize("net, values", NETWORKS[:2], ids=["2-2-1-bias", "tanh-sigmoid-xent"])
def test_numbers_are_shown_to_four_digits_and_results_match_the_tables(net, values):
    example = worked_example(net, values)
    lines = calculation_lines(net, example)
    assert len(lines) == len(example.calculations)
    for line, c in zip(lines, example.calculations):
        if not c.result.free_symbols:
            shown = float(re.sub(r"\\times 10\^\{(-?\d+)\}", r"e\1", line.result))
            assert shown == pytest.approx(float(c.result), rel=5e-4, abs=1e-12)
        for given in c.substituted.atoms(Given):
            v = given.args[0]
            if v.is_number and not v.is_Rational:
                digits = re.sub(
                    r"\\times 10\^\{-?\d+\}|[-.]", "", numbers_latex(given, net.notation)
                ).lstrip("0")
                assert digits.isdigit() and len(digits) <= 4, given


def test_the_issues_delta_line_reads_as_handcalcs_writes_it():
    net, values = NETWORKS[0]
    example = worked_example(net, values)
    line = next(
        line
        for line in calculation_lines(net, example)
        if line.stage is Stage.BACKWARD and line.lhs == r"\delta_{0}^{(2)}"
    )
    assert line.symbolic == r"2 \left(a_{0}^{(2)} - y_{0}\right) \sigma'\!\left(z_{0}^{(2)}\right)"
    assert re.fullmatch(
        r"2 \\left\(0\.\d{4} - 0\.01\\right\) \\left\(0\.\d{4}\\right\)", line.substituted
    )
    assert re.fullmatch(r"0\.\d{4}", line.result)


def test_a_symbol_shared_by_two_weights_is_differentiated_per_weight():
    net = Network((2, 1), activation="identity")
    values = Values(x=(R(1), R(2)), y=(R(0),), weights=(((W, W),),), biases=None)
    example = worked_example(net, values)
    grads = [g.gradient for g in example.gradients]
    # C = (w + 2w)^2 = 9w^2: dC/dw_00 = 2(3w)(1) = 6w, dC/dw_01 = 2(3w)(2) = 12w
    assert grads == [6 * W, 12 * W]
    assert [g.derivative for g in example.gradients] == grads


def test_softmax_targets_must_be_numbers():
    with pytest.raises(DeriveError, match="numeric targets"):
        worked_example(
            Network((1, 2), activation="softmax", cost="log-likelihood"),
            Values(
                x=(R(1),), y=(sp.Symbol("p"), R(1, 2)), weights=(((R(1),), (R(2),)),), biases=None
            ),
        )


# Symbols in spec files: a small grammar, never sympified ------------------------------------------------
@pytest.mark.parametrize(
    "text, name",
    [
        ("w", "w"),
        ("x_0", "x_0"),
        ("w_{12}", "w_12"),
        ("w_12", "w_12"),
        (r"\theta", "theta"),
        ("θ", "theta"),
        (r"\theta_1", "theta_1"),
        ("w'", "w'"),
        (" w ", "w"),
        ("E", "E"),
        ("I", "I"),
        ("N", "N"),
        ("e_1", "e_1"),
    ],
)
def test_symbol_names_people_write(text, name):
    symbol = value_symbol(text, "values.x[0]")
    assert isinstance(symbol, sp.Symbol) and symbol.name == name and symbol.is_real


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "e",
        "ww",
        "2w",
        "w+1",
        "w*2",
        "w**2",
        "-w",
        "sin(w)",
        "pi",
        "oo",
        "nan",
        "1e400",
        "0x10",
        "__import__('os').system('true')",
        "w; import os",
        "lambda: 0",
        r"\input{/etc/passwd}",
        r"\foo",
        r"\Theta",
        "w_{12345}",
        "w_{1",
        "x_0}",
        "w__0",
        "w_",
        "w''",
        "ω_{αβ}",
        "w" * 10_000,
        "w\x00",
        "w\n1",
        "$w$",
        "{w}",
    ],
)
def test_anything_else_is_refused_in_one_line(text):
    with pytest.raises(DeriveError) as error:
        value_symbol(text, "spec: values.x[0]")
    message = str(error.value)
    assert "\n" not in message and len(message) < 300 and message.startswith("spec: values.x[0]")


def test_symbols_reach_the_spec_everywhere_a_value_goes():
    spec = spec_from_text("""
layers = [2, 1]
bias = true
[values]
x = ["x_0", 2]
y = ["y_0"]
weights = [[["w_1", 0.5]]]
biases = [["b"]]
learning_rate = "eta"
""")
    v = spec.values
    assert [w for w, _ in v.symbols] == [
        "values.x[0]",
        "values.y[0]",
        "values.weights[0][0][0]",
        "values.biases[0][0]",
        "values.learning_rate",
    ]
    example = worked_example(spec.network(), v)
    assert all(
        g.updated is not None and g.updated.has(sp.Symbol("eta", real=True))
        for g in example.gradients
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        ("weights = [[[true]]]", "must be a number or a symbol"),
        ('weights = [[["w w"]]]', "must be a number or a symbol"),
        ('weights = [[[["w"]]]]', "must be a number or a symbol"),
    ],
)
def test_bad_values_in_spec_files(bad, message):
    with pytest.raises(DeriveError, match=message):
        spec_from_text(f"layers = [1, 1]\n[values]\nx = [1]\ny = [0]\n{bad}\n")


# The sheet, read back ------------------------------------------------------------------------------------
@needs_tex
def test_sheet_shows_the_one_weight_case_step_by_step(cli, tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text(ONE_WEIGHT)
    result = cli("sheet", str(spec), "--out", "one", "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "one.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "=2(1.5w−0.5)(1.5)=4.5w−1.5" in flat
    assert "SymPy’s derivative" in text or "SymPy's derivative" in text
    source = (tmp_path / "one.tex").read_text()
    assert r"\calcline{" in source
