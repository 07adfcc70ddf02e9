"""Generated NumPy code: equal to the derivation evaluated exactly, and to finite differences."""

import ast
import dataclasses
import json
import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from derive import DeriveError, Network
from derive.model.activations import NAMES
from derive.checks.gradcheck import check_gradient
from derive.model.values import Values
from derive.numeric.worked import worked_example

COSTS = ["quadratic", "half-quadratic", "cross-entropy"]


def exact_values(net, rng):
    def r():
        return sp.Rational(int(rng.integers(-12, 13)), int(rng.choice([4, 5, 8, 10])))

    return Values(
        x=tuple(r() for _ in range(net.sizes[0])),
        y=tuple(sp.Rational(int(rng.integers(1, 10)), 10) for _ in range(net.sizes[-1])),
        weights=tuple(
            tuple(tuple(r() for _ in range(net.sizes[l - 1])) for _ in range(net.sizes[l]))
            for l in range(1, net.L + 1)
        ),
        biases=tuple(tuple(r() for _ in range(net.sizes[l])) for l in range(1, net.L + 1))
        if net.bias
        else None,
    )


def as_arrays(net, v):
    weights = [np.array([[float(w) for w in row] for row in m]) for m in v.weights]
    biases = (
        [np.array([float(b) for b in vec]) for vec in v.biases] if v.biases is not None else None
    )
    return weights, biases, np.array([[float(x) for x in v.x]]), np.array([[float(y) for y in v.y]])


def assert_matches_exact_derivation(net, values):
    """The generated gradient equals the derivation's formulas evaluated in exact/120-digit arithmetic."""
    example = worked_example(net, values)
    weights, biases, X, Y = as_arrays(net, values)
    grad_w, grad_b = net.numeric().gradient(weights, biases, X, Y)
    assert float(net.numeric().cost(weights, biases, X, Y)) == pytest.approx(
        float(example.cost), rel=1e-12, abs=1e-300
    )
    for g in example.gradients:
        got = grad_w[g.layer - 1][g.j, g.k] if g.k is not None else grad_b[g.layer - 1][g.j]
        assert got == pytest.approx(float(g.gradient), rel=1e-10, abs=1e-13), (g.layer, g.j, g.k)


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", NAMES)
def test_generated_gradient_equals_exact_derivation(activation, cost):
    output = "sigmoid" if cost == "cross-entropy" else activation
    net = Network([3, 4, 2], activation=[activation, output], cost=cost, bias=True)
    assert_matches_exact_derivation(net, exact_values(net, np.random.default_rng(1)))


@pytest.mark.parametrize("gain", ["2", "1/10", "-3/2"])
def test_cross_entropy_with_gain_equals_exact_derivation(gain):
    net = Network(
        [3, 4, 2], activation=["tanh", f"sigmoid(gain={gain})"], cost="cross-entropy", bias=True
    )
    assert_matches_exact_derivation(net, exact_values(net, np.random.default_rng(1)))


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", NAMES)
def test_gradient_check_passes(activation, cost):
    output = "sigmoid" if cost == "cross-entropy" else activation
    net = Network([3, 4, 3, 2], activation=[activation, "tanh", output], cost=cost, bias=True)
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=(net.sizes[l], net.sizes[l - 1])) for l in range(1, net.L + 1)]
    biases = [rng.normal(size=net.sizes[l]) for l in range(1, net.L + 1)]
    X, Y = rng.normal(size=(4, 3)), rng.uniform(0.05, 0.95, size=(4, 2))
    report = check_gradient(net, weights, biases, X, Y)
    assert report.passed, report.table()
    analytic = net.activation(1).analytic  # relu, leaky-relu and elu are defined by pieces
    for group in report.groups:
        assert group.central_rel <= 1e-7
        if analytic:
            assert group.complex_rel is not None and group.complex_rel <= 1e-12
        else:
            assert group.complex_rel is None


def test_check_catches_a_wrong_gradient(monkeypatch):
    net = Network([2, 3, 1], bias=True)
    numeric = net.numeric()
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(3, 2)), rng.normal(size=(1, 3))]
    biases = [rng.normal(size=3), rng.normal(size=1)]
    X, Y = rng.normal(size=(2, 2)), rng.uniform(size=(2, 1))
    real = numeric.gradient

    def off_by_transpose(w, b, x, y):
        gw, gb = real(w, b, x, y)
        gw[0] = gw[0][::-1]  # rows of the first layer swapped
        return gw, gb

    broken = dataclasses.replace(numeric, gradient=off_by_transpose)
    report = check_gradient(net, weights, biases, X, Y, numeric=broken)
    assert not report.passed
    assert [g.name for g in report.groups if not g.passed] == ["w^(1)"]


def test_relu_kink_is_reported_not_failed_and_not_skipped():
    net = Network([2, 1, 1], activation=["relu", "identity"])
    weights = [np.array([[1.0, 1.0]]), np.array([[2.0]])]
    X, Y = np.array([[1.0, -1.0]]), np.array([[0.5]])  # z^(1) = 0 exactly: at the kink
    report = check_gradient(net, weights, None, X, Y)
    first = report.groups[0]
    assert first.kinks == [(0, 0), (0, 1)]
    assert report.passed
    assert "at a kink" in report.table() and "w^(1)[0, 0]" in report.table()


def test_no_overflow_or_warnings_at_large_z():
    for net in [
        Network([1, 1], activation="sigmoid", cost="cross-entropy"),
        Network([1, 2, 1], activation=["softplus", "sigmoid"], cost="quadratic", bias=True),
    ]:
        numeric = net.numeric()
        for z in (-1000.0, 1000.0):
            weights = [np.full((net.sizes[l], net.sizes[l - 1]), z) for l in range(1, net.L + 1)]
            biases = [np.zeros(net.sizes[l]) for l in range(1, net.L + 1)] if net.bias else None
            X, Y = np.ones((1, 1)), np.array([[1.0]]) if z < 0 else np.array([[0.0]])
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with np.errstate(over="raise", invalid="raise", divide="raise"):
                    c = numeric.cost(weights, biases, X, Y)
                    gw, _ = numeric.gradient(weights, biases, X, Y)
            assert np.isfinite(c) and all(np.isfinite(g).all() for g in gw)
    # cross-entropy from the logits: at z = 1000 with y = 0 the cost is 1000, not inf
    net = Network([1, 1], activation="sigmoid", cost="cross-entropy")
    assert net.numeric().cost(
        [np.array([[1000.0]])], None, np.ones((1, 1)), np.zeros((1, 1))
    ) == pytest.approx(1000.0)


def _cross_entropy_reference(u: float, y: float):
    """-[y ln σ(u) + (1-y) ln(1-σ(u))] from the definition, in 600-digit arithmetic (e^-800 ~ 1e-348)."""
    import mpmath

    with mpmath.workdps(600):
        a = 1 / (1 + mpmath.exp(-mpmath.mpf(u)))
        return -(mpmath.mpf(y) * mpmath.log(a) + (1 - mpmath.mpf(y)) * mpmath.log(1 - a)), a


@pytest.mark.parametrize("y", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("u", [20, 40, 200, 800, -20, -40, -200, -800])
def test_cross_entropy_on_a_sigmoid_with_gain_is_computed_from_z(u, y):
    """u = gain·z: the cost is ln(1 + e^u) - y u, not -y ln a - (1-y) ln(1-a) (at u = 20 that lost
    9 digits and failed the check, from u = 40 on it was inf)."""
    net = Network([1, 1], activation="sigmoid(gain=2)", cost="cross-entropy")
    weights, X, Y = [np.array([[u / 2]])], np.ones((1, 1)), np.array([[y]])
    numeric = net.numeric()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            cost = numeric.cost(weights, None, X, Y)
            (grad,), _ = numeric.gradient(weights, None, X, Y)
            report = check_gradient(net, weights, None, X, Y)
    reference, a = _cross_entropy_reference(u, y)
    assert np.isfinite(cost)
    assert cost == pytest.approx(float(reference), rel=1e-12, abs=1e-300)  # e^-800 underflows to 0
    # δ = 2(a - y) from the derivation: a ≈ y ≈ 1 cancels, so a few ulps of 2 absolute, not relative
    assert grad[0, 0] == pytest.approx(float(2 * (a - y)), rel=1e-12, abs=1e-15)
    assert report.passed and report.analytic, report.table()
    assert report.groups[0].central_rel <= 1e-7 and report.groups[0].complex_rel <= 1e-12


@pytest.mark.parametrize("gain", ["1", "2", "1/10", "-3/2"])
def test_cross_entropy_from_z_for_every_gain_in_a_batch(gain):
    """Several outputs and samples, saturated either way: one fused line, accurate per element."""
    net = Network(
        [2, 3, 2], activation=["tanh", f"sigmoid(gain={gain})"], cost="cross-entropy", bias=True
    )
    numeric = net.numeric()
    assert (
        "numpy.log1p(numpy.exp(-numpy.abs(U)))" in numeric.source and "log(A2" not in numeric.source
    )
    rng = np.random.default_rng(11)
    weights = [rng.normal(size=(3, 2)), 300 * rng.normal(size=(2, 3))]
    biases = [rng.normal(size=3), rng.normal(size=2)]
    X, Y = rng.normal(size=(5, 2)), rng.choice([0.0, 0.25, 1.0], size=(5, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            cost = numeric.cost(weights, biases, X, Y)
            report = check_gradient(net, weights, biases, X, Y)
    Z2 = numeric.forward(weights, biases, X)[1]
    U = float(sp.Rational(gain)) * Z2
    reference = (
        sum(_cross_entropy_reference(u, y)[0] for u, y in zip(U.ravel(), Y.ravel())) / X.shape[0]
    )
    assert cost == pytest.approx(float(reference), rel=1e-12)
    assert report.passed, report.table()


def test_check_command_passes_a_correct_gradient_at_large_gain_times_z(cli, tmp_path):
    for w in (10, 400):  # gain·z = 20 (formerly 9 digits lost, FAILED) and 800 (formerly inf)
        spec = tmp_path / f"gain-{w}.toml"
        spec.write_text(
            'layers = [1, 1]\nactivation = "sigmoid(gain=2)"\ncost = "cross-entropy"\n'
            f"[values]\nx = [1]\ny = [0.3]\nweights = [[[{w}]]]\n"
        )
        result = cli("check", str(spec))
        assert result.returncode == 0 and "PASSED" in result.stdout, result.stdout + result.stderr
        assert "inf" not in result.stdout and "nan" not in result.stdout


def test_batch_cost_is_the_mean_of_sample_costs():
    net = Network([3, 2, 2], activation="tanh", bias=True)
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=(2, 3)), rng.normal(size=(2, 2))]
    biases = [rng.normal(size=2), rng.normal(size=2)]
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    numeric = net.numeric()
    each = [numeric.cost(weights, biases, X[i : i + 1], Y[i : i + 1]) for i in range(6)]
    assert numeric.cost(weights, biases, X, Y) == pytest.approx(np.mean(each), rel=1e-14)
    grads = [numeric.gradient(weights, biases, X[i : i + 1], Y[i : i + 1])[0][0] for i in range(6)]
    assert np.allclose(
        numeric.gradient(weights, biases, X, Y)[0][0], np.mean(grads, axis=0), rtol=1e-13
    )


def test_symbolic_parameters_need_numbers_for_code():
    with pytest.raises(DeriveError, match="symbolic parameter"):
        Network([2, 1], activation="sigmoid(gain=alpha)").numeric()


def test_code_command_writes_standalone_numpy_source(cli, tmp_path):
    result = cli(
        "code",
        "--layers",
        "3",
        "4",
        "2",
        "--activation",
        "tanh",
        "sigmoid",
        "--bias",
        "--out",
        "g.py",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    source = (tmp_path / "g.py").read_text()
    imports = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imports == {"numpy"}
    assert "δ_j^(1)" in source and "[3, 4, 2] tanh/sigmoid" in source
    namespace: dict = {}
    exec(compile(source, "g.py", "exec"), namespace)
    net = Network([3, 4, 2], activation=["tanh", "sigmoid"], bias=True)
    rng = np.random.default_rng(6)
    weights, biases = (
        [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))],
        [rng.normal(size=4), rng.normal(size=2)],
    )
    X, Y = rng.normal(size=(3, 3)), rng.uniform(size=(3, 2))
    ours, theirs = (
        net.numeric().gradient(weights, biases, X, Y),
        namespace["gradient"](weights, biases, X, Y),
    )
    assert all(np.array_equal(a, b) for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]))


def test_grad_json_has_the_spec_shapes_and_the_published_numbers(cli, tmp_path):
    from pathlib import Path

    spec = Path(__file__).resolve().parent.parent / "derive/examples/two-two-two-biases.toml"
    result = cli("grad", str(spec), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "cost",
        "weights",
        "biases",
        "learning_rate",
        "updated_weights",
        "updated_biases",
    }
    assert data["cost"] == pytest.approx(0.298371109, abs=1e-9)
    assert np.array(data["weights"][1]).shape == (2, 2) and np.array(data["biases"][0]).shape == (
        2,
    )
    assert data["weights"][1][0][0] == pytest.approx(0.082167041, abs=1e-9)
    assert data["weights"][0][0][0] == pytest.approx(0.000438568, abs=1e-9)


def test_check_command_exit_status(cli, tmp_path):
    from pathlib import Path

    spec = Path(__file__).resolve().parent.parent / "derive/examples/two-two-two-biases.toml"
    result = cli("check", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout and "w^(2)" in result.stdout
    (tmp_path / "nonum.toml").write_text("layers = [2, 1]\n")
    bad = cli("check", str(tmp_path / "nonum.toml"))
    assert bad.returncode == 2 and "no [values]" in bad.stderr


# Property tests -------------------------------------------------------------------------
ACTIVATIONS = st.sampled_from(list(NAMES) + ["sigmoid(gain=2)", "leaky-relu(slope=1/10)"])


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    cost = draw(st.sampled_from(COSTS))
    acts = [draw(ACTIVATIONS) for _ in range(depth)]
    if cost == "cross-entropy":
        acts[-1] = draw(st.sampled_from(["sigmoid", "sigmoid(gain=2)"]))  # outputs in (0, 1)
    return Network(sizes, activation=acts, cost=cost, bias=draw(st.booleans()))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(), seed=st.integers(0, 2**32 - 1))
def test_property_numeric_gradient_equals_exact_formula(net, seed):
    values = exact_values(net, np.random.default_rng(seed))
    # Exactly at a kink (z = 0 into a ReLU) the float forward pass may land a rounding error to either
    # side, so the two sides may rightly differ there; such points are not this test's business.
    nodes = worked_example(net, values).nodes
    assume(not any(node.z in net.activation(node.layer).kinks for node in nodes))
    assert_matches_exact_derivation(net, values)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(), seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 4))
@example(
    net=Network([3, 4, 4], activation=["tanh", "relu"], cost="quadratic", bias=True),
    seed=120,
    batch=1,
)
@example(
    net=Network(
        [3, 1, 4, 4],
        activation=["leaky-relu", "leaky-relu", "sigmoid(gain=2)"],
        cost="half-quadratic",
        bias=True,
    ),
    seed=3,
    batch=4,
)  # an input of 8.5 into w^(2): the step must shrink with it
@example(
    net=Network([2, 4, 4], activation=["tanh", "softplus"], cost="quadratic", bias=False),
    seed=1372783,
    batch=1,
)
def test_property_gradient_check_passes(net, seed, batch):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(net.sizes[l], net.sizes[l - 1])) for l in range(1, net.L + 1)]
    biases = [rng.normal(size=net.sizes[l]) for l in range(1, net.L + 1)] if net.bias else None
    X, Y = (
        rng.normal(size=(batch, net.sizes[0])),
        rng.uniform(0.05, 0.95, size=(batch, net.sizes[-1])),
    )
    report = check_gradient(net, weights, biases, X, Y)
    assert report.passed, report.table()


def test_numbers_past_the_float_range_of_integers_are_float_literals_in_the_code():
    """2^100 printed as a Python int made numpy.select build an object array ("Cannot cast array data from
    dtype('O')"); a number past the float range is numpy.inf, not the name inf."""
    from derive.numeric.codegen import array_code

    z = sp.Symbol("z")
    code = array_code(
        sp.Piecewise((sp.Integer(2) ** 100, z >= 1), (sp.exp(z), z < 1)), {z: sp.Symbol("Z")}
    )
    values = eval(code, {"numpy": np, "Z": np.array([0.0, 2.0])})  # noqa: S307 (our own generated code)
    assert values.dtype == np.float64 and values[1] == 2.0**100
    assert array_code(sp.Integer(10) ** 400 * z, {}).startswith("numpy.inf")
    assert array_code(sp.Integer(2) ** 53 * z, {}).startswith("9007199254740992")
