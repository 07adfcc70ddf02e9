"""LaTeX in: the notation is read as indexed quantities, every character is consumed or refused
with the place quoted, nothing is eval'd, and definitions read like built-ins."""

import time

import pytest
import sympy as sp

from derive.notation.sums import IndexSum

from derive import DeriveError, Network
from derive.model.activations import SIGMA, Z
from derive.checks.steps import check_gradients, check_steps
from derive.evaluate.exact import prime_function
from derive.read.latex import Context, LatexInputError, parse_answer, read_chain, significant_digits
from derive.limits import TimeLimitExceeded, run_limited

NET = Network([2, 3, 2], activation=["tanh", "sigmoid"], bias=True)
S = NET.symbols
CTX = Context(NET, layer=1)
I, J, K = S.downstream[0], S.j, S.k
TANH = NET.activation(1).function


def read(text, ctx=CTX):
    (member,) = read_chain(text, ctx)
    return member.expr


@pytest.mark.parametrize(
    "text, expected",
    [
        (r"a_j^{(L)}", S.a[2, J]),
        (r"a^{(L)}_j", S.a[2, J]),
        (r"a_{j}^{(2)}", S.a[2, J]),
        (r"a_j^{2}", None),  # a power of a_j, which has no layer: refused (see below)
        (r"a^2_j", S.a[2, J]),  # a superscript before the subscript is a layer
        (r"a_j^L", S.a[2, J]),
        (r"a_j^{L-1}", S.a[1, J]),
        (r"a_k^{(0)}", S.x[K]),
        (r"a_k^{(L-1)}", S.a[1, K]),
        (r"z_j^{(l)}", S.z[1, J]),
        (r"w_{jk}^{(l+1)}", S.w[2, J, K]),
        (r"w_{j,k}^{(2)}", S.w[2, J, K]),
        (r"w_jk^{(2)}", S.w[2, J, K]),  # typed without braces: both indices
        (r"w_{10}^{(1)}", S.w[1, 1, 0]),
        (r"b_j^{(1)}", S.b[1, J]),
        (r"\delta_i^{(2)}", S.delta[2, I]),
        (r"δ_i^{(2)}", S.delta[2, I]),
        (r"x_k y_j", S.x[K] * S.y[J]),
        (r"y_ja_k^{(1)}", S.y[J] * S.a[1, K]),  # implicit product without a space
        (r"C_0", S.cost),
        (r"a_j^{(2)}^2", S.a[2, J] ** 2),
    ],
)
def test_quantities_are_indexed_not_powers(text, expected):
    if expected is None:
        with pytest.raises(LatexInputError, match="needs a node index and a layer"):
            read(text)
    else:
        assert read(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (r"\sigma'(z_j^{(2)})", prime_function(SIGMA)(S.z[2, J])),
        (r"\sigma^{\prime}(z_j^{(2)})", prime_function(SIGMA)(S.z[2, J])),
        ("σ′(z_j^{(2)})", prime_function(SIGMA)(S.z[2, J])),
        (r"g'(z_j^{(1)})", prime_function(TANH)(S.z[1, J])),  # g at layer 1 is the network's tanh
        (r"\tanh'(z_j^{(1)})", prime_function(TANH)(S.z[1, J])),
        (
            r"\sigma\left(z_j^{(2)}\right)(1 - \sigma(z_j^{(2)}))",
            SIGMA(S.z[2, J]) * (1 - SIGMA(S.z[2, J])),
        ),
        (r"\sigma^2(z_j^{(2)})", SIGMA(S.z[2, J]) ** 2),
        (r"\operatorname{sech}^2 z_j^{(1)}", sp.sech(S.z[1, J]) ** 2),
        (r"\tanh^2 z_j^{(1)}", sp.tanh(S.z[1, J]) ** 2),
        (r"1-\tanh^{2}(z_j^{(1)})", 1 - sp.tanh(S.z[1, J]) ** 2),
        (r"\frac{\partial C_0}{\partial a_j^{(2)}}", sp.Derivative(S.cost, S.a[2, J])),
        (r"\partial C_0/\partial a_j^{(2)}", sp.Derivative(S.cost, S.a[2, J])),
        (r"\frac{d C_0}{d a_j^{(2)}}", sp.Derivative(S.cost, S.a[2, J])),
        (r"\sum_i w_{ij}^{(2)} \delta_i^{(2)}", IndexSum(S.w[2, I, J] * S.delta[2, I], (I, 0, 1))),
        (r"\sum_{i=0}^{n^{(2)}-1} w_{ij}^{(2)}", IndexSum(S.w[2, I, J], (I, 0, 1))),
        (r"\sum_{i=0}^{n-1} w_{ij}^{(2)}", IndexSum(S.w[2, I, J], (I, 0, 1))),
        (
            r"\sum_{i=1}^{n} w_{ij}^{(2)}",
            IndexSum(S.w[2, I, J], (I, 0, 1)),
        ),  # counted from 1 to n: every node
        (
            r"\sum_{i=1}^{2} w_{ij}^{(2)}",
            IndexSum(S.w[2, I, J], (I, 1, 2)),
        ),  # numbers are taken literally
        (r"\sum\limits_{i} w_{ij}^{(2)}", IndexSum(S.w[2, I, J], (I, 0, 1))),
        (r"\max(0, z_j^{(1)})", sp.Max(0, S.z[1, J])),
        (r"\mathbb{1}(z_j^{(1)} > 0)", sp.Piecewise((1, S.z[1, J] > 0), (0, True))),
        (r"\mathbb{1}_{z_j^{(1)}>0}", sp.Piecewise((1, S.z[1, J] > 0), (0, True))),
        (r"\mathbb{1}_{\{z_j^{(1)}>0\}}", sp.Piecewise((1, S.z[1, J] > 0), (0, True))),
        (r"H(z_j^{(1)})", sp.Heaviside(S.z[1, J])),
        (r"\operatorname{ReLU}'(z_j^{(1)})", None),  # a ReLU' of the built-in ReLU (checked below)
        (r"2\big(a_j^{(2)}-y_j\big)", 2 * (S.a[2, J] - S.y[J])),
        (r"2\Bigl[a_j^{(2)}-y_j\Bigr]", 2 * (S.a[2, J] - S.y[J])),
        (r"\boxed{2(a_j^{(2)} - y_j)}", 2 * (S.a[2, J] - S.y[J])),
        (r"$2(a_j^{(2)} - y_j)$", 2 * (S.a[2, J] - S.y[J])),
        ("2(a_j^{(2)} − y_j)·x_k", sp.expand(2 * (S.a[2, J] - S.y[J]) * S.x[K])),
        (r"e^{-z_j^{(1)}}", sp.exp(-S.z[1, J])),
        (r"\mathrm{e}^{-z_j^{(1)}}", sp.exp(-S.z[1, J])),
        (r"\exp(-z_j^{(1)})", sp.exp(-S.z[1, J])),
        (r"tanh(z_j^{(1)})", sp.tanh(S.z[1, J])),  # a function name typed without its backslash
        (r"\frac12 x_k", x_half := S.x[K] / 2),
        (r"\dfrac{1}{2} x_k", x_half),
    ],
)
def test_functions_derivatives_sums_and_brackets(text, expected):
    got = read(text)
    if expected is not None:
        assert got == expected or sp.expand(got - expected) == 0
    else:
        assert type(got).__name__ == "ReLU__prime"


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.0713", sp.Rational(713, 10000)),
        (".0713", sp.Rational(713, 10000)),
        ("0,0713", sp.Rational(713, 10000)),
        ("0{,}0713", sp.Rational(713, 10000)),
        ("-7.13\\times 10^{-2}", sp.Rational(-713, 10000)),
        ("7.13 \\cdot 10^{-2}", sp.Rational(713, 10000)),
        ("7.13e-2", sp.Rational(713, 10000)),
        ("1.5e-3", sp.Rational(3, 2000)),
        ("−0.5", sp.Rational(-1, 2)),
        ("\\frac{3}{4}", sp.Rational(3, 4)),
    ],
)
def test_numbers_are_exact_and_decimal_commas_are_read(text, value):
    assert read(text) == value


@pytest.mark.parametrize(
    "mantissa, digits", [("0.07130", 4), ("0.0713", 3), ("12", 2), ("7.127", 4), ("0,5", 1)]
)
def test_significant_digits_as_written(mantissa, digits):
    assert significant_digits(mantissa) == digits


def test_chains_keep_each_member_and_its_relation():
    members = read_chain(
        r"\frac{\partial C_0}{\partial w_{jk}^{(2)}} = 2(a_j^{(2)} - y_j) \approx 0.0713",
        CTX,
        numbers=True,
    )
    assert [m.relation for m in members] == [None, "=", "approx"]
    assert members[0].expr == sp.Derivative(S.cost, S.w[2, J, K])
    assert members[2].digits == 3 and members[2].source == "0.0713"


def test_activation_questions_read_z_a_and_g():
    net = Network([1, 1], activation="sigmoid(gain=3)")
    g = net.activations[0].function
    ctx = Context(net, variable_z=True, bare_a=g(Z))
    assert read(r"3\sigma(3z)", ctx) == 3 * SIGMA(3 * Z)
    assert read(r"3\sigma'(3z)", ctx) == 3 * prime_function(SIGMA)(3 * Z)
    assert read(r"3a(1-a)", ctx) == 3 * g(Z) * (1 - g(Z))
    assert read(r"3g(1-g)", ctx) == 3 * g(Z) * (
        1 - g(Z)
    )  # g(1-g): g times (1 - g) in an activation question
    assert read(r"g^2(z)", ctx) == g(Z) ** 2
    members = read_chain(r"\frac{dg}{dz} = 3g(z)(1-g(z))", ctx)
    assert members[0].expr == sp.Derivative(g(Z), Z)


@pytest.mark.parametrize(
    "text, message",
    [
        (r"(a_j^{(L)}", "never closed"),
        (r"2(a_j^{(2)} - y_j)) \cdot 0", "closes a bracket that was never opened"),
        (r"a_j^{(2)} }", "closes a bracket that was never opened"),
        (r"m\, a_j^{(2)}", "unknown symbol m"),
        (r"q\, a_j^{(2)}", "the index q cannot stand on its own"),
        (r"a_j", "needs a node index and a layer"),
        (r"a_j^{(7)}", "layer 7 does not exist"),
        (r"w_{j}^{(2)}", "needs 2 node indices"),
        (r"f(z_j^{(1)})", "unknown symbol f"),
        (r"\foo(z_j^{(1)})", "unknown command"),
        (r"2^{10^{10^{10}}}", "exponents must be numbers up to"),
        (r"10^{10^{4}}", "exponents must be numbers up to"),
        (r"(10^{100})^{100}", "too large"),
        (r"x_k!", "factorials"),
        ("a" * 700, "at most 600"),
        ("a_j^{(2)}\x00", "control character"),
        ("", "empty"),
        ("2 3", "two numbers side by side"),
        (r"a_j^{(2)} =", "nothing after"),
        (r"= a_j^{(2)}", "nothing before"),
        (r"\sigma^{-1}(z_j^{(2)})", "power of a function"),
        (r"\sigma z_j^{(2)}", "in parentheses"),
        ("(" * 60 + "x_k" + ")" * 60, "nested more than"),
        (r"\sum_{i=0}^{10^{9}} x_k", "more than 100 terms"),
        (r"\sum_i 1", "cannot tell which nodes"),
        (r"a_j^{(2)} > 0", "an inequality is not an answer"),
        (r"x^{23}_k", "needs one node index"),
        (r"a^{23}_k", "needs a node index and a layer"),
        (r"\sigma''(z_j^{(2)})", "second derivative"),
        ("a**2", "needs a node index"),
        (r"0.5.5", "two decimal points"),
    ],
)
def test_bad_input_gets_one_line_that_says_what_and_where(text, message):
    with pytest.raises(LatexInputError, match=message) as caught:
        read(text)
    assert "\n" not in str(caught.value)


def test_errors_quote_the_students_own_text_at_the_place():
    with pytest.raises(LatexInputError) as caught:
        read("2(a_j^{(2)} − y_j)) · x_k")
    message = str(caught.value)
    assert (
        "column 19" in message and "y_j)) · x_k" in message
    )  # the original Unicode, not our rewriting


def test_python_in_the_answer_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    for attack in (
        f"__import__('os').system('touch {marker}')",
        "exec('import os')",
        "lambda: 0",
        r"\input{/etc/passwd}",
        r"\write18{ls}",
        "`ls`",
    ):
        with pytest.raises(LatexInputError):
            read(attack)
    assert not marker.exists()


def test_parse_answer_is_time_limited_and_refuses_equations():
    assert parse_answer(r"2 x_k", CTX) == 2 * S.x[K]
    with pytest.raises(LatexInputError, match="not an equation"):
        parse_answer(r"a_j^{(2)} = 3", CTX)


def _sleep_forever():
    time.sleep(60)


def test_time_limit_kills_the_work():
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded, match="longer than 0.5 s"):
        run_limited(_sleep_forever, seconds=0.5)
    assert time.perf_counter() - start < 5


# User definitions ------------------------------------------------------------------------
def test_activation_defined_in_latex_is_derived_and_checked_like_a_builtin():
    net = Network(
        [2, 3, 1],
        activation=[r"g(z) = \frac{z}{1+|z|}", r"h(z) = z\sigma(z)"],
        cost=r"C_0 = \frac{1}{2}\sum_j (a_j^{(L)} - y_j)^2",
        bias=True,
    )
    g = net.activation(1)
    assert g.definition(Z) == Z / (1 + sp.Abs(Z)) and not g.analytic
    assert net.activation(2).analytic
    assert check_steps(net) == []
    assert check_gradients(net, mode="numeric") == []
    assert sp.expand(net.cost.term_at(S.a[1, 0], S.y[0]) - (S.a[1, 0] - S.y[0]) ** 2 / 2) == 0


def test_custom_activation_numbers_pass_the_gradient_check():
    import numpy as np

    from derive.checks.gradcheck import check_gradient

    net = Network(
        [3, 4, 2],
        activation=[r"g(z) = z\sigma(z)", "tanh"],
        cost=r"C_0 = \sum_j (a_j^{(L)} - y_j)^4",
    )
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    report = check_gradient(net, weights, None, rng.normal(size=(5, 3)), rng.uniform(size=(5, 2)))
    assert report.passed and report.analytic, report.table()


@pytest.mark.parametrize(
    "spec, message",
    [
        (r"g(x) = x^2", "cannot read activation"),
        (r"g(z) = m z", "unknown symbol m"),
        (r"g(z) = 3", "does not depend on z"),
        (r"g(z) = a_j^{(1)}", "only z"),
    ],
)
def test_bad_activation_definitions(spec, message):
    with pytest.raises(DeriveError, match=message):
        Network([1, 1], activation=spec)


@pytest.mark.parametrize(
    "spec, message",
    [
        (r"C_0 = (a_j^{(L)} - y_j)^2", "one sum over the output nodes"),
        (r"L = \sum_j a_j^{(L)}", "left-hand side must be C_0"),
        (r"C_0 = \sum_j (a_j^{(L)} - y_j)^2 w_{jk}^{(1)}", "may use only a_j"),
    ],
)
def test_bad_cost_definitions(spec, message):
    with pytest.raises(DeriveError, match=message):
        Network([1, 1], cost=spec)


def test_cli_takes_latex_definitions(cli, tmp_path):
    result = cli(
        "steps",
        "--layers",
        "2",
        "2",
        "1",
        "--activation",
        r"g(z) = \frac{z}{1+|z|}",
        "sigmoid",
        "--cost",
        r"C_0 = \frac{1}{2}\sum_j (a_j^{(L)} - y_j)^2",
        "--check",
    )
    assert result.returncode == 0, result.stderr
    assert "g'(z_j^(1))" in result.stdout and "checked: all" in result.stdout
    bad = cli("steps", "--layers", "2", "1", "--activation", r"g(z) = \frac{z}{1+")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_nielsen_notation_reads_plain_superscripts_as_layers():
    net = Network([2, 3, 2], notation="nielsen")
    s = net.symbols
    ctx = Context(net, layer=1)
    assert read(r"a^L_j", ctx) == s.a[2, s.j]
    assert read(r"w^l_{jk}", ctx) == s.w[1, s.j, s.k]
    assert (
        read(r"a_j^2", ctx) == s.a[2, s.j]
    )  # plain superscripts: a layer, also after the subscript
    assert read(r"(a_j^2)^2", ctx) == s.a[2, s.j] ** 2
