"""The cost over n samples and L2 regularisation (issue 11, part 3).

C = (1/n) sum_x C_x + (lambda/2n) sum w^2: every step is checked against SymPy's derivative of that
cost written out for several samples, each with its own inputs and targets; the generated code against
finite differences and the complex step; the worked example's step against the formula.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive import Network
from derive.checks.gradcheck import check_gradient
from derive.checks.steps import check_average
from derive.errors import DeriveError
from derive.model.steps import AVERAGE, Rule, Step
from derive.model.values import Values
from derive.numeric.worked import worked_example
from derive.render.terminal import render_steps


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(layers=[2, 3, 2], bias=True, l2=0.1),
        dict(layers=[2, 3, 2], bias=False),
        dict(layers=[2, 2], bias=True, l2="5/2"),
        dict(
            layers=[2, 2, 3], bias=True, activation=["tanh", "softmax"], cost="log-likelihood", l2=2
        ),
    ],
)
def test_every_step_over_samples_holds(kwargs):
    layers = kwargs.pop("layers")
    assert check_average(Network(layers, **kwargs)) == []


def test_the_block_says_what_the_issue_asks():
    net = Network([2, 3, 1], bias=True, l2=0.1)
    s = net.symbols
    block = net.derivation().block(AVERAGE)
    assert block.title == "The cost over n samples, with L2 regularisation"
    first = block.steps[0]
    assert first.lhs == s.total_cost and first.rule is Rule.DEFINITION
    assert first.rhs.has(s.sample_cost[s.sample]) and first.rhs.has(s.l2)
    assert not any(b.base == s.b for b in first.rhs.atoms(sp.Indexed))  # biases are not regularised
    gradient = [
        step for step in block.steps if step.lhs == sp.Derivative(s.total_cost, s.w[s.l, s.j, s.k])
    ][-1]
    assert (
        sp.simplify(
            gradient.rhs.doit().xreplace({s.sample_cost[s.sample]: 0})
            - s.l2 / s.samples * s.w[s.l, s.j, s.k]
        )
        == 0
    )
    decay = block.steps[-2]
    assert "weight decay" in decay.text
    shown = render_steps(net.derivation())
    assert "(1 - λ·η/n)" in shown.replace("(-λ·η/n + 1)", "(1 - λ·η/n)")
    bias = block.steps[-1]
    assert bias.lhs == sp.Derivative(s.total_cost, s.b[s.l, s.j]) and not bias.rhs.has(s.l2)


def test_without_l2_the_gradient_only_averages():
    net = Network([2, 2, 1])
    block = net.derivation().block(AVERAGE)
    assert block.title == "The cost over n samples"
    assert not any(step.rhs.has(net.symbols.l2) for step in block.steps)


def test_a_wrong_decay_is_caught(monkeypatch):
    """lambda/2n in place of lambda/n in the gradient: the check must fail."""
    from derive.engine import derivation

    original = derivation._Deriver.average_block

    def wrong(self):
        block = original(self)
        s = self.s
        steps = list(block.steps)
        index = next(i for i, st in enumerate(steps) if st.rule is Rule.SUBSTITUTION)
        halved = {sp.UnevaluatedExpr(s.l2 / s.samples): sp.UnevaluatedExpr(s.l2 / 2 / s.samples)}
        bad = steps[index].rhs.xreplace(halved)
        assert bad != steps[index].rhs
        steps[index] = Step(steps[index].lhs, bad, steps[index].rule, steps[index].text)
        return type(block)(block.key, block.title, tuple(steps), block.results)

    monkeypatch.setattr(derivation._Deriver, "average_block", wrong)
    failures = check_average(Network([2, 2], l2=1))
    assert failures and all("gradient is the average" in f.what for f in failures)


@pytest.mark.parametrize("value", [-1, "-0.5", float("nan"), float("inf"), "abc", True, [1], "1e9"])
def test_bad_l2_values_are_refused(value):
    with pytest.raises(DeriveError, match="l2"):
        Network([2, 1], l2=value)


def test_zero_means_no_regularisation():
    assert Network([2, 1], l2=0).l2 is None and Network([2, 1], l2="0.0").l2 is None
    assert Network([2, 1], l2=0.1).l2 == sp.Rational(1, 10)


def test_generated_code_adds_the_penalty_and_passes_the_gradient_check():
    rng = np.random.default_rng(5)
    sizes = [3, 4, 2]
    plain = Network(sizes, bias=True).numeric()
    regular = Network(sizes, bias=True, l2=0.3).numeric()
    weights = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(2)]
    biases = [rng.normal(size=sizes[i + 1]) for i in range(2)]
    X, Y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    penalty = 0.3 / (2 * 5) * sum(np.sum(W**2) for W in weights)
    assert regular.cost(weights, biases, X, Y) == pytest.approx(
        plain.cost(weights, biases, X, Y) + penalty, rel=1e-13
    )
    (gw_plain, gb_plain), (gw, gb) = (
        plain.gradient(weights, biases, X, Y),
        regular.gradient(weights, biases, X, Y),
    )
    for ours, theirs, W in zip(gw, gw_plain, weights):
        np.testing.assert_allclose(ours, theirs + 0.3 / 5 * W, rtol=1e-12)
    for ours, theirs in zip(gb, gb_plain):
        np.testing.assert_array_equal(ours, theirs)  # biases are not regularised
    report = check_gradient(Network(sizes, bias=True, l2=0.3), weights, biases, X, Y)
    assert report.passed and report.analytic, report.table()


def test_worked_example_step_is_weight_decay():
    net = Network([2, 2, 2], bias=True, l2=sp.Rational(1, 10))
    r = sp.Rational
    values = Values(
        x=(r(1, 20), r(1, 10)),
        y=(r(1, 100), r(99, 100)),
        weights=(
            ((r(15, 100), r(20, 100)), (r(25, 100), r(30, 100))),
            ((r(40, 100), r(45, 100)), (r(50, 100), r(55, 100))),
        ),
        biases=((r(35, 100), r(35, 100)), (r(60, 100), r(60, 100))),
        learning_rate=r(1, 2),
    )
    example = worked_example(net, values, differences=False)
    for g in example.gradients:
        if g.k is None:
            assert g.updated == g.value - r(1, 2) * g.gradient
        else:  # (1 - eta lambda / n) w - eta dC_0/dw with n = 1
            assert (
                abs(g.updated - ((1 - r(1, 2) * r(1, 10)) * g.value - r(1, 2) * g.gradient))
                < 1e-100
            )


def _derive(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


SPEC = """layers = [2, 2, 2]
bias = true
{l2}
[values]
x = [0.05, 0.10]
y = [0.01, 0.99]
weights = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
biases = [[0.35, 0.35], [0.60, 0.60]]
learning_rate = 0.5
"""


def test_grad_json_with_l2_from_the_spec_and_the_command_line(tmp_path):
    spec = tmp_path / "l2.toml"
    spec.write_text(SPEC.format(l2="l2 = 0.1"))
    with_spec = json.loads(_derive("grad", str(spec), "--json").stdout)
    overridden = json.loads(_derive("grad", str(spec), "--json", "--l2", "0").stdout)
    weights = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
    for layer in range(2):
        np.testing.assert_allclose(
            np.array(with_spec["weights"][layer]) - overridden["weights"][layer],
            0.1 * np.array(weights[layer]),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            with_spec["biases"][layer], overridden["biases"][layer], rtol=0, atol=0
        )
        np.testing.assert_allclose(
            with_spec["updated_weights"][layer],
            (1 - 0.5 * 0.1) * np.array(weights[layer])
            - 0.5 * np.array(overridden["weights"][layer]),
            rtol=1e-12,
        )
    assert _derive("check", str(spec)).returncode == 0


@pytest.mark.parametrize("bad", ["l2 = -1", 'l2 = "lots"', "l2 = nan", "l2 = [0.1]"])
def test_bad_l2_in_a_spec_is_one_line(tmp_path, bad):
    spec = tmp_path / "bad.toml"
    spec.write_text(SPEC.format(l2=bad))
    result = _derive("grad", str(spec), "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert (
        len(result.stderr.strip().splitlines()) == 1
        and "l2" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_bad_l2_on_the_command_line_is_one_line():
    result = _derive("steps", "--layers", "2", "1", "--l2", "-3")
    assert (
        result.returncode == 2
        and len(result.stderr.strip().splitlines()) == 1
        and "--l2" in result.stderr
    )


def test_sheet_shows_the_cost_over_samples(tmp_path):
    spec = tmp_path / "l2.toml"
    spec.write_text(SPEC.format(l2="l2 = 0.1"))
    result = _derive("sheet", str(spec), "--out", "l2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    words = " ".join(
        subprocess.run(
            ["pdftotext", str(tmp_path / "outputs" / "l2.pdf"), "-"], capture_output=True, text=True
        ).stdout.split()
    )
    for phrase in (
        "The cost over n samples, with L2 regularisation",
        "weight decay",
        "biases are not regularised",
        "here with n = 1",
    ):  # (pdftotext may set the 10 of an inline 1/10 just after it)
        assert phrase in words, phrase


def test_deeplizard_sums_over_samples_with_i():
    net = Network([2, 2, 1], notation="deeplizard")
    shown = render_steps(net.derivation())
    assert "C = 1/n·Σ_{i=0..n - 1} [C_i]" in shown
