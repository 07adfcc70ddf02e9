"""ELU, SiLU (swish), GELU and activations defined by cases (issue 11, part 4): derived step by step,
every step checked against SymPy, the generated gradient against finite differences, and the command
line, with a kink located where the definition switches (not assumed at 0)."""

import numpy as np
import pytest
import sympy as sp

from derive import DeriveError, Network, activation_named
from derive.checks.gradcheck import check_gradient
from derive.checks.steps import check_gradients, check_steps
from derive.model.activations import SIGMA, Z
from derive.model.steps import Rule

NEW = ["elu", "silu", "gelu", "swish", "elu(alpha=1/2)"]
CASES = r"g(z) = \begin{cases} z & z > 1 \\ 0 & \text{otherwise} \end{cases}"


@pytest.mark.parametrize("name", NEW)
def test_every_step_of_a_network_with_the_new_activation_holds(name):
    net = Network([2, 3, 1], activation=name, bias=True)
    assert check_steps(net) == []


@pytest.mark.parametrize("name", ["elu", "silu", "gelu"])
def test_the_general_formulas_match_the_expanded_cost(name):
    net = Network([2, 2, 1], activation=name)
    assert check_gradients(net, mode="numeric") == []


@pytest.mark.parametrize("name", NEW + [CASES])
def test_the_generated_gradient_passes_the_numeric_check(name):
    net = Network([3, 4, 2], activation=[name, "tanh"], bias=True)
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=(net.sizes[l], net.sizes[l - 1])) for l in range(1, net.L + 1)]
    biases = [rng.normal(size=net.sizes[l]) for l in range(1, net.L + 1)]
    report = check_gradient(
        net, weights, biases, rng.normal(size=(6, 3)), rng.uniform(0.1, 0.9, size=(6, 2))
    )
    assert report.passed, report.table()
    assert report.analytic == net.activation(1).analytic


def test_swish_is_silu_and_its_derivative_keeps_sigma():
    silu = activation_named("swish")
    assert silu.name == "silu"
    assert silu.definition(Z) == Z * SIGMA(Z)
    classic = silu.classic(Z)
    assert classic.has(SIGMA) and not classic.has(sp.exp)
    assert sp.expand(classic - (SIGMA(Z) + Z * SIGMA(Z) * (1 - SIGMA(Z)))) == 0


def test_elu_in_terms_of_its_output_and_at_its_kink():
    elu = activation_named("elu(alpha=1/2)")
    a = sp.Symbol("a")
    assert elu.classic_in_output(a) == sp.Piecewise((1, a > 0), (a + sp.Rational(1, 2), True))
    assert elu.kinks == (0,) and not elu.analytic
    assert elu.convention == "ELU'(0) = 1/2"
    assert elu.classic(Z) == sp.Piecewise((1, Z > 0), (sp.exp(Z) / 2, True))
    assert any(step.rule is Rule.CONVENTION for step in elu.derivative_chain)
    with pytest.raises(DeriveError, match="alpha must be positive"):
        activation_named("elu(alpha=-1)")


def test_gelu_uses_the_tanh_approximation():
    gelu = activation_named("gelu")
    value = gelu.definition(sp.Integer(1))
    assert abs(sp.N(value) - 0.8411919906082768) < 1e-12
    assert gelu.analytic and gelu.kinks == ()
    assert gelu.classic(Z).has(sp.tanh)


@pytest.mark.parametrize(
    "name, z, expected",
    [
        (
            "silu",
            [-800.0, -1.0, 0.0, 2.0, 800.0],
            [-0.0, -0.2689414213699951, 0.0, 1.7615941559557650, 800.0],
        ),
        ("elu", [-800.0, -1.0, 0.0, 3.0, 1e300], [-1.0, -0.6321205588285577, 0.0, 3.0, 1e300]),
        (
            "gelu",
            [-30.0, -1.0, 0.0, 1.0, 30.0],
            [-0.0, -0.15880800939172324, 0.0, 0.8411919906082768, 30.0],
        ),
    ],
)
def test_the_numpy_forward_is_stable_at_the_extremes(name, z, expected):
    act = activation_named(name)
    namespace = {"numpy": np}
    for source in act.numpy_helpers:
        exec(source, namespace)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        got = eval(act.numpy_forward.format(z="z"), {**namespace, "z": np.array(z)})
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-300)


def test_a_definition_by_cases_has_its_kink_where_it_switches():
    net = Network([2, 3, 1], activation=CASES, bias=True)
    g = net.activation(1)
    assert g.kinks == (1,)
    assert g.convention == "g'(1) = 0"
    assert check_steps(net) == []
    steps = net.derivation().block("activation:g").steps
    assert any(step.rule is Rule.PIECEWISE_RULE and "kink at z = 1" in step.text for step in steps)


@pytest.mark.parametrize(
    "spec, message",
    [
        (r"g(z) = \begin{cases} z & z > 0 \\ 0 & z < 0 \end{cases}", "leave z = 0 undefined"),
        (r"g(z) = \begin{cases} z & z > 1 \\ 0 & z < -1 \end{cases}", "leave -1 ≤ z ≤ 1 undefined"),
        (r"g(z) = \begin{cases} z & z > 0 \\ 0 & \end{cases}", "case 2 has no condition"),
        (r"g(z) = \begin{cases} z & z > 0 \\ 0 z \le 0 \end{cases}", "case 2 needs '&'"),
        (r"g(z) = \begin{cases} z & z > 0 \\ 0 & z \le 0", "never closed"),
        (r"g(z) = z \end{cases}", "never opened"),
        (
            r"g(z) = \begin{cases} z & \text{if z > 0} \\ 0 & \text{otherwise} \end{cases}",
            "words only",
        ),
        (r"g(z) = \begin{cases} \end{cases}", "the cases are empty"),
        (
            r"g(z) = \begin{cases} z & \text{sometimes} \end{cases}",
            "'sometimes' is not a condition",
        ),
    ],
)
def test_bad_cases_are_refused_in_one_line(spec, message):
    with pytest.raises(DeriveError, match=message) as caught:
        Network([1, 1], activation=spec)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "spec, kinks",
    [
        (
            r"g(z) = \begin{cases} z & \text{if } z > 0 \\ 0.1 z & \text{if } z \le 0 \end{cases}",
            (0,),
        ),
        (
            r"g(z) = \begin{cases} -1 & z < -1 \\ z & -1 \le z \le 1 \\ 1 & z > 1 \end{cases}",
            (-1, 1),
        ),
        (r"g(z) = \begin{cases} z^2 & z \geq 2, \\ 4 & \text{otherwise.} \end{cases}", (2,)),
        (
            r"g(z) = \begin{cases} z & z > 0 \text{ and } z < 2 \\ 0 & \text{otherwise} \end{cases}",
            (0, 2),
        ),
        (r"g(z) = \begin{dcases} e^z - 1 & z \le 0 \\ z & z > 0 \end{dcases}", (0,)),
    ],
)
def test_cases_are_read_and_their_kinks_located(spec, kinks):
    net = Network([1, 1], activation=spec)
    assert net.activation(1).kinks == kinks
    assert check_steps(net) == []


def test_cli_derives_silu_with_comma_separated_layers(cli):
    result = cli("steps", "--layers", "2,2,1", "--activation", "silu", "--check")
    assert result.returncode == 0, result.stderr
    assert (
        "σ(z) + z·σ(z)·(1 - σ(z))" in result.stdout or "z·σ(z)·(1 - σ(z)) + σ(z)" in result.stdout
    )
    assert "product rule" in result.stdout and "checked: all" in result.stdout


def test_cli_takes_a_definition_by_cases_and_reports_its_kink_at_1(cli):
    result = cli("steps", "--layers", "2", "2", "1", "--activation", CASES, "--check")
    assert result.returncode == 0, result.stderr
    assert "kink at z = 1" in result.stdout and "g'(1) = 0" in result.stdout
    assert "checked: all" in result.stdout
    bad = cli(
        "steps", "--layers", "2", "1", "--activation", r"g(z) = \begin{cases} z & z > 0 \end{cases}"
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "leave z ≤ 0 undefined" in bad.stderr
