"""LaTeX in: the notation is read as indexed quantities, bad input gets one line, nothing is eval'd."""
import time

import pytest
import sympy as sp

from derive import DeriveError, Network
from derive.activations import SIGMA, Z
from derive.expansion import check_gradients, check_steps
from derive.latex_in import Context, LatexInputError, parse_answer
from derive.limits import TimeLimitExceeded, run_limited

NET = Network([2, 3, 2], activation=["tanh", "sigmoid"], bias=True)
S = NET.symbols
CTX = Context(NET, layer=1)


@pytest.mark.parametrize("text, expected", [
    (r"a_j^{(L)}", S.a[2, S.j]),
    (r"a^{(L)}_j", S.a[2, S.j]),
    (r"a_{j}^{(2)}", S.a[2, S.j]),
    (r"a_k^{(0)}", S.x[S.k]),
    (r"a_k^{(L-1)}", S.a[1, S.k]),
    (r"z_j^{(l)}", S.z[1, S.j]),
    (r"w_{jk}^{(l+1)}", S.w[2, S.j, S.k]),
    (r"w_{j,k}^{(2)}", S.w[2, S.j, S.k]),
    (r"w_{10}^{(1)}", S.w[1, 1, 0]),
    (r"b_j^{(1)}", S.b[1, S.j]),
    (r"\delta_i^{(2)}", S.delta[2, S.downstream[0]]),
    (r"x_k y_j", S.x[S.k] * S.y[S.j]),
    (r"C_0", S.cost),
    (r"a_j^{(2)}^2", S.a[2, S.j] ** 2),
])
def test_quantities_are_indexed_not_powers(text, expected):
    assert parse_answer(text, CTX) == expected


def test_functions_primes_partials_and_sums():
    got = parse_answer(r"\sigma'(z_j^{(2)})", CTX)
    assert got == sp.Derivative(SIGMA(S.z[2, S.j]), S.z[2, S.j])
    g_hidden = parse_answer(r"g'(z_j^{(1)})", CTX)  # g at layer 1 is the network's tanh
    assert g_hidden == NET.activation(1).prime(S.z[1, S.j])
    assert parse_answer(r"\frac{\partial C_0}{\partial a_j^{(2)}}", CTX) == sp.Derivative(S.cost, S.a[2, S.j])
    total = parse_answer(r"\sum_i w_{ij}^{(2)} \delta_i^{(2)}", CTX)
    i = S.downstream[0]
    assert total == sp.Sum(S.w[2, i, S.j] * S.delta[2, i], (i, 0, 1))  # an open sum runs over layer 2's nodes
    assert parse_answer(r"\sigma\left(z_j^{(2)}\right)(1 - \sigma(z_j^{(2)}))", CTX) == \
        SIGMA(S.z[2, S.j]) * (1 - SIGMA(S.z[2, S.j]))
    assert parse_answer(r"1.5e-3", CTX) == sp.Rational(3, 2000)
    assert parse_answer(r"3\sigma(3z)", Context(NET, variable_z=True)) == 3 * SIGMA(3 * Z)


@pytest.mark.parametrize("text, message", [
    (r"(a_j^{(L)}", "not closed"),
    (r"q\, a_j^{(2)}", "unknown symbol q"),
    (r"a_j", "needs a node index and a layer"),
    (r"a_j^{(7)}", "layer 7 does not exist"),
    (r"w_{j}^{(2)}", "needs 2 indexes"),
    (r"f(z_j^{(1)})", "unknown function f"),
    (r"2^{10^{10^{10}}}", "exponents must be plain numbers"),
    ("a" * 700, "at most 600"),
    ("a_j^{(2)}\x00", "control character"),
    (r"\Upsilon_{1}", "not part of the notation"),
    (r"a_j^{(2)} = 3", "not an equation"),
    ("", "empty"),
])
def test_bad_input_gets_one_line_that_says_what(text, message):
    with pytest.raises(LatexInputError, match=message) as caught:
        parse_answer(text, CTX)
    assert "\n" not in str(caught.value)


def test_python_in_the_answer_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    attack = f"__import__('os').system('touch {marker}')"
    with pytest.raises(LatexInputError):
        parse_answer(attack, CTX)
    assert not marker.exists()


def _sleep_forever():
    time.sleep(60)


def test_time_limit_kills_the_work():
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded, match="longer than 0.5 s"):
        run_limited(_sleep_forever, seconds=0.5)
    assert time.perf_counter() - start < 5


# User definitions ------------------------------------------------------------------------
def test_activation_defined_in_latex_is_derived_and_checked_like_a_builtin():
    net = Network([2, 3, 1], activation=[r"g(z) = \frac{z}{1+|z|}", r"h(z) = z\sigma(z)"],
                  cost=r"C_0 = \frac{1}{2}\sum_j (a_j^{(L)} - y_j)^2", bias=True)
    g = net.activation(1)
    assert g.definition(Z) == Z / (1 + sp.Abs(Z)) and not g.analytic
    assert net.activation(2).analytic
    assert check_steps(net) == []
    assert check_gradients(net, mode="numeric") == []
    assert sp.expand(net.cost.term_at(S.a[1, 0], S.y[0]) - (S.a[1, 0] - S.y[0]) ** 2 / 2) == 0


def test_custom_activation_numbers_pass_the_gradient_check():
    import numpy as np

    from derive.gradcheck import check_gradient

    net = Network([3, 4, 2], activation=[r"g(z) = z\sigma(z)", "tanh"], cost=r"C_0 = \sum_j (a_j^{(L)} - y_j)^4")
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    report = check_gradient(net, weights, None, rng.normal(size=(5, 3)), rng.uniform(size=(5, 2)))
    assert report.passed and report.analytic, report.table()


@pytest.mark.parametrize("spec, message", [
    (r"g(x) = x^2", "cannot read activation"),
    (r"g(z) = q z", "unknown symbol q"),
    (r"g(z) = 3", "does not depend on z"),
    (r"g(z) = a_j^{(1)}", "only z"),
])
def test_bad_activation_definitions(spec, message):
    with pytest.raises(DeriveError, match=message):
        Network([1, 1], activation=spec)


@pytest.mark.parametrize("spec, message", [
    (r"C_0 = (a_j^{(L)} - y_j)^2", "one sum over the output nodes"),
    (r"L = \sum_j a_j^{(L)}", "left-hand side must be C_0"),
    (r"C_0 = \sum_j (a_j^{(L)} - y_j)^2 w_{jk}^{(1)}", "may use only a_j"),
])
def test_bad_cost_definitions(spec, message):
    with pytest.raises(DeriveError, match=message):
        Network([1, 1], cost=spec)


def test_cli_takes_latex_definitions(cli, tmp_path):
    result = cli("steps", "--layers", "2", "2", "1", "--activation", r"g(z) = \frac{z}{1+|z|}", "sigmoid",
                 "--cost", r"C_0 = \frac{1}{2}\sum_j (a_j^{(L)} - y_j)^2", "--check")
    assert result.returncode == 0, result.stderr
    assert "g'(z_j^(1))" in result.stdout and "checked: all" in result.stdout
    bad = cli("steps", "--layers", "2", "1", "--activation", r"g(z) = \frac{z}{1+")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
