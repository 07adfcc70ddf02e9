"""Softmax outputs and the log-likelihood cost (issue 11, part 2).

Every claim goes through the same checks as the element-wise activations: each step against
SymPy's own derivative, each general formula against the fully expanded network, each numeric
gradient against finite differences and the complex step; and the generated code against an
independent NumPy implementation written here by hand.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive import Network
from derive.checks.gradcheck import check_gradient
from derive.checks.steps import check_gradients, check_steps
from derive.errors import DeriveError
from derive.evaluate.exact import random_point
from derive.model.costs import cost_named
from derive.model.steps import BlockKey, Result, Rule
from derive.notation.printing import latex, text
from derive.render.terminal import render_steps

NETWORKS = [
    ([2, 3], "softmax", "log-likelihood", False),
    ([2, 2, 3], ["tanh", "softmax"], "log-likelihood", True),
    ([2, 2, 3], ["sigmoid", "softmax"], "quadratic", False),
    ([2, 3], "softmax", "cross-entropy", True),
]


def _net(layers, activation, cost, bias) -> Network:
    return Network(layers, activation=activation, cost=cost, bias=bias)


@pytest.mark.parametrize("layers,activation,cost,bias", NETWORKS)
def test_every_step_holds(layers, activation, cost, bias):
    assert check_steps(_net(layers, activation, cost, bias)) == []


@pytest.mark.parametrize("layers,activation,cost,bias", NETWORKS)
@pytest.mark.parametrize("mode", ["symbolic", "numeric"])
def test_general_formulas_match_the_expanded_network(layers, activation, cost, bias, mode):
    assert check_gradients(_net(layers, activation, cost, bias), mode) == []


def test_three_weight_layers_hold_too():
    net = Network([3, 2, 2, 2], activation=["sigmoid", "tanh", "softmax"], cost="log-likelihood")
    assert check_steps(net) == []
    assert check_gradients(net, "numeric") == []


def test_the_jacobian_is_derived_by_the_quotient_rule():
    net = Network([4, 5, 3], activation=["tanh", "softmax"], cost="log-likelihood")
    s = net.symbols
    block = net.derivation().block("activation:softmax")
    rules = [step.rule for step in block.steps]
    assert Rule.QUOTIENT_RULE in rules and Rule.EXPONENTIAL_RULE in rules
    i, j = s.downstream[0], s.j
    assert sp.simplify(block.steps[-1].rhs - s.a[2, i] * (sp.KroneckerDelta(i, j) - s.a[2, j])) == 0
    assert (
        latex(block.steps[-1].rhs, net.notation)
        == r"a_{i}^{(2)} \left(\delta_{i j} - a_{j}^{(2)}\right)"
    )
    assert text(block.steps[-1].rhs, net.notation) == "a_i^(2)·(δ_ij - a_j^(2))"


def test_the_log_likelihood_cancels_to_a_minus_y_step_by_step():
    net = Network([4, 5, 3], activation=["tanh", "softmax"], cost="log-likelihood")
    s = net.symbols
    block = net.derivation().block(BlockKey.layer(2))
    assert block.result(Result.DELTA_CLASSIC) == s.a[2, s.j] - s.y[s.j]
    deltas = [step for step in block.steps if step.lhs == s.delta[2, s.j]]
    # defined, chain rule over every output, inserted, cancelled, Kronecker's pick, targets sum to 1
    assert [d.rule for d in deltas] == [
        Rule.DEFINITION,
        Rule.CHAIN_RULE,
        Rule.SUBSTITUTION,
        Rule.SIMPLIFICATION,
        Rule.SUM_RULE,
        Rule.SUBSTITUTION,
    ]
    assert isinstance(deltas[1].rhs, sp.Sum) and "every output" in deltas[1].text
    assert "sum to 1" in deltas[-1].text
    assert net.derivation().gradient(2, "classic") == (s.a[2, s.j] - s.y[s.j]) * s.a[1, s.k]


def test_without_one_hot_targets_the_sum_stays():
    net = Network([2, 3], activation="softmax", cost="quadratic")
    s = net.symbols
    classic = net.derivation().block(BlockKey.layer(1)).result(Result.DELTA_CLASSIC)
    assert classic.has(sp.Sum) and not classic.has(sp.KroneckerDelta)
    summary = net.derivation().block("summary").steps[0]
    assert "Jacobian" in summary.text and "∂a^(1)/∂z^(1)" in text(summary.rhs, net.notation)
    assert s.delta[1, s.j] in [step.lhs for step in net.derivation().block(BlockKey.layer(1)).steps]


def test_checks_draw_targets_that_sum_to_one():
    for seed in range(20):
        net = Network([2, 4], activation="softmax", cost="log-likelihood")
        point = random_point(net, random.Random(seed))
        ys = [point[net.symbols.y[j]] for j in range(4)]
        assert sum(ys) == 1 and all(y > 0 for y in ys)
    quadratic = Network([2, 4], activation="softmax", cost="quadratic")
    point = random_point(quadratic, random.Random(0))
    assert all(0 < point[quadratic.symbols.y[j]] < 1 for j in range(4))


def test_a_wrong_classic_form_is_caught():
    """The check is not blind to the assumption: claiming a_j - y_j without one-hot targets fails."""
    net = Network([2, 3], activation="softmax", cost="log-likelihood")
    from derive.evaluate.exact import Model, equal

    s = net.symbols
    model = Model(net, random.Random(1))
    model.values.update(
        {s.y[0]: sp.Rational(1, 2), s.y[1]: sp.Rational(1, 2), s.y[2]: sp.Rational(1, 2)}
    )
    model.point.update(
        {s.y[0]: sp.Rational(1, 2), s.y[1]: sp.Rational(1, 2), s.y[2]: sp.Rational(1, 2)}
    )
    model._derivatives.clear()
    model._definitions.clear()
    claimed = model.value(s.a[1, 0] - s.y[0])
    truth = model.value(sp.Derivative(s.cost, s.z[1, 0]))
    assert not equal(claimed, truth)


# Numbers ----------------------------------------------------------------------------------------
def _softmax_ce_reference(weights, biases, X, Y):
    """Backpropagation for tanh hidden layers, softmax output, log-likelihood: written here by hand."""
    activations, zs = [X], []
    for layer, W in enumerate(weights):
        z = activations[-1] @ W.T + (biases[layer] if biases is not None else 0)
        zs.append(z)
        if layer < len(weights) - 1:
            activations.append(np.tanh(z))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            activations.append(e / e.sum(axis=1, keepdims=True))
    n = X.shape[0]
    delta = (activations[-1] - Y) / n
    grads_w, grads_b = [], []
    for layer in range(len(weights) - 1, -1, -1):
        grads_w.insert(0, delta.T @ activations[layer])
        grads_b.insert(0, delta.sum(axis=0))
        if layer:
            delta = (delta @ weights[layer]) * (1 - activations[layer] ** 2)
    cost = -np.mean(np.sum(Y * np.log(activations[-1]), axis=1))
    return cost, grads_w, grads_b


def _random_problem(sizes, rng, batch=7, scale=1.0):
    weights = [
        rng.normal(scale=scale, size=(sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)
    ]
    biases = [rng.normal(size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    X = rng.normal(size=(batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    return weights, biases, X, Y


def test_generated_code_matches_a_hand_written_implementation():
    rng = np.random.default_rng(3)
    net = Network([4, 5, 3], activation=["tanh", "softmax"], cost="log-likelihood", bias=True)
    numeric = net.numeric()
    for _ in range(5):
        weights, biases, X, Y = _random_problem([4, 5, 3], rng)
        cost, ref_w, ref_b = _softmax_ce_reference(weights, biases, X, Y)
        grad_w, grad_b = numeric.gradient(weights, biases, X, Y)
        assert numeric.cost(weights, biases, X, Y) == pytest.approx(cost, rel=1e-12)
        for ours, theirs in zip(grad_w + grad_b, ref_w + ref_b):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "layers,activation,cost",
    [
        ([3, 4], "softmax", "log-likelihood"),
        ([3, 4, 3], ["tanh", "softmax"], "log-likelihood"),
        ([3, 4, 3], ["relu", "softmax"], "log-likelihood"),
        ([3, 2, 4], ["sigmoid", "softmax"], "quadratic"),
        ([3, 4], "softmax", "cross-entropy"),
        ([3, 4], "softmax", "half-quadratic"),
        ([3, 2], "sigmoid", "log-likelihood"),
        ([3, 2], "sigmoid(gain=2)", "log-likelihood"),
        ([3, 2], "softplus", "log-likelihood"),
    ],
)
def test_gradient_check_passes(layers, activation, cost):
    rng = np.random.default_rng(11)
    net = Network(layers, activation=activation, cost=cost, bias=True)
    weights, biases, X, Y = _random_problem(layers, rng)
    if net.cost.name == "cross-entropy" or net.activation(net.L).logistic_gain is not None:
        Y = rng.uniform(0.05, 0.95, size=Y.shape)
    report = check_gradient(net, weights, biases, X, Y)
    assert report.passed, report.table()
    if all(a.analytic for a in net.activations):
        assert report.analytic  # the complex step ran too


def test_huge_weighted_inputs_stay_finite_and_exact():
    """softmax and its log-likelihood from z by log-sum-exp: no overflow, no ln 0."""
    net = Network([2, 3], activation="softmax", cost="log-likelihood")
    numeric = net.numeric()
    X = np.array([[1.0, -1.0]])
    weights = [np.array([[900.0, -900.0], [0.0, 0.0], [-900.0, 900.0]])]  # z = 1800, 0, -1800
    for label in range(3):
        Y = np.eye(3)[[label]]
        cost = numeric.cost(weights, None, X, Y)
        expected = [0.0, 1800.0, 3600.0][label]  # -ln a_label = ln Σ e^(z - z_label)
        assert np.isfinite(cost) and cost == pytest.approx(expected, abs=1e-9)
        grad_w, _ = numeric.gradient(weights, None, X, Y)
        assert np.all(np.isfinite(grad_w[0]))
    _, *activations = numeric.forward(weights, None, X)
    out = activations[-1]
    assert np.all(np.isfinite(out)) and out.sum() == pytest.approx(1.0)


def test_sigmoid_log_likelihood_is_stable_far_out():
    net = Network([1, 1], activation="sigmoid", cost="log-likelihood")
    numeric = net.numeric()
    cost = numeric.cost([np.array([[1.0]])], None, np.array([[-800.0]]), np.array([[1.0]]))
    assert cost == pytest.approx(800.0)  # -ln σ(-800) = 800 + ln(1 + e^-800)


# Input errors -------------------------------------------------------------------------------------
def test_softmax_only_as_the_output_layer():
    with pytest.raises(DeriveError, match=r"softmax is an output activation: layer 1 is hidden"):
        Network([2, 3, 2], activation=["softmax", "sigmoid"])


@pytest.mark.parametrize("output", ["tanh", "relu", "identity", "leaky-relu"])
def test_log_likelihood_needs_positive_outputs(output):
    with pytest.raises(
        DeriveError,
        match=rf"log-likelihood cost needs positive outputs, but the output activation "
        rf"{output}",
    ):
        Network([2, 2], activation=output, cost="log-likelihood")


@pytest.mark.parametrize("alias", ["categorical-cross-entropy", "CCE", "nll", "log_likelihood"])
def test_aliases(alias):
    assert cost_named(alias).name == "log-likelihood"


def _spec(tmp_path, y, extra=""):
    path = tmp_path / "softmax.toml"
    path.write_text(f"""layers = [2, 2, 3]
activation = ["sigmoid", "softmax"]
cost = "log-likelihood"
bias = true
{extra}
[values]
x = [0.5, -1.0]
y = {y}
weights = [[[0.1, 0.2], [-0.3, 0.4]], [[0.5, -0.6], [0.7, 0.8], [-0.9, 0.1]]]
biases = [[0.1, -0.1], [0.2, 0.0, -0.2]]
learning_rate = 0.5
""")
    return path


def _derive(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.parametrize("y", ["[0, 1, 1]", "[0.5, 0.5, 0.5]", "[0, 0, 0]", "[1.5, -0.5, 0]"])
def test_targets_that_are_not_one_hot_are_refused(tmp_path, y):
    result = _derive("grad", str(_spec(tmp_path, y)), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sum to 1" in lines[0] and "Traceback" not in result.stderr


def test_grad_json_matches_the_reference_and_takes_one_step(tmp_path):
    result = _derive("grad", str(_spec(tmp_path, "[0, 1, 0]")), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    weights = [
        np.array([[0.1, 0.2], [-0.3, 0.4]]),
        np.array([[0.5, -0.6], [0.7, 0.8], [-0.9, 0.1]]),
    ]
    biases = [np.array([0.1, -0.1]), np.array([0.2, 0.0, -0.2])]
    X, Y = np.array([[0.5, -1.0]]), np.array([[0.0, 1.0, 0.0]])
    # the hand-written reference uses tanh: compute with sigmoid here instead
    a1 = 1 / (1 + np.exp(-(X @ weights[0].T + biases[0])))
    z2 = a1 @ weights[1].T + biases[1]
    a2 = np.exp(z2) / np.exp(z2).sum()
    d2 = a2 - Y
    d1 = (d2 @ weights[1]) * a1 * (1 - a1)
    assert out["cost"] == pytest.approx(-np.log(a2[0, 1]), rel=1e-12)
    np.testing.assert_allclose(out["weights"][1], d2.T @ a1, rtol=1e-12)
    np.testing.assert_allclose(out["weights"][0], d1.T @ X, rtol=1e-12)
    np.testing.assert_allclose(
        out["updated_weights"][1], weights[1] - 0.5 * (d2.T @ a1), rtol=1e-12
    )
    np.testing.assert_allclose(out["updated_biases"][0], biases[0] - 0.5 * d1[0], rtol=1e-12)


def test_sheet_pdf_shows_the_softmax_derivation(tmp_path):
    result = _derive(
        "sheet",
        str(_spec(tmp_path, "[0, 1, 0]", 'title = "Softmax classifier"')),
        "--out",
        "softmax",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "outputs" / "softmax.pdf"
    text_of_pdf = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    for phrase in (
        "Derivative of the softmax",
        "Kronecker",
        "sum to 1 (a one-hot label)",
        "Quotient rule",
        "Derivative of the log-likelihood cost",
        "is empty",
    ):
        assert phrase in " ".join(text_of_pdf.split()), phrase


def test_terminal_and_jupyter_renderings():
    net = Network([4, 5, 3], activation=["tanh", "softmax"], cost="log-likelihood")
    shown = render_steps(net.derivation())
    assert "a_j^(2) - y_j" in shown and "δ_ij" in shown
    from derive.render.display import derivation_latex

    assert r"\delta_{i j}" in derivation_latex(net.derivation())
