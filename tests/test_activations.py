import random

import pytest
import sympy as sp

from derive import Network, activation_named
from derive.model.activations import NAMES, Z
from derive.evaluate.exact import Model, with_activations
from derive.checks.steps import check_step

ALL = [*NAMES, "sigmoid(gain=2)", "sigmoid(gain=alpha)", "leaky-relu(slope=1/10)"]


def _explicit(expr, act):
    for fn, lam in act.definitions.items():
        expr = expr.replace(fn, lam)
    return expr


@pytest.mark.parametrize("name", ALL)
def test_classic_derivative_equals_sympy_derivative_of_definition(name):
    act = activation_named(name)
    truth = sp.diff(
        _explicit(act.definition(Z), act), Z
    )  # a helper in the definition (SiLU's sigma) written out
    classic = _explicit(act.classic(Z), act)
    if act.analytic:
        assert sp.simplify(truth - classic) == 0
    else:  # piecewise: equal on both sides of the kink and at the kink, by the stated convention
        for z in [
            sp.Rational(-7, 3),
            sp.Rational(-1, 10**6),
            0,
            sp.Rational(1, 10**6),
            sp.Rational(5, 2),
        ]:
            assert truth.subs(Z, z) == classic.subs(Z, z)


@pytest.mark.parametrize("name", ALL)
def test_classic_in_output_matches_classic(name):
    act = activation_named(name)
    if act.derivative_in_output is None:
        pytest.skip(f"{name}' is not a function of the output alone")
    in_output = _explicit(act.classic_in_output(act.definition(Z)), act)
    classic = _explicit(act.classic(Z), act)
    for z in [sp.Rational(-3, 2), sp.Rational(-1, 7), sp.Rational(2, 5), sp.Integer(3)]:
        values = {Z: z, sp.Symbol("alpha", positive=True): sp.Rational(3, 2)}
        assert abs(sp.N(in_output.xreplace(values) - classic.xreplace(values), 50)) < 1e-40


@pytest.mark.parametrize("name", ALL)
def test_every_step_of_the_activation_derivation_holds(name):
    net = Network([1, 1], activation=name)
    model = Model(net, random.Random(1))
    block = net.derivation().block(f"activation:{net.activation(1).name}")
    assert len(block.steps) >= 2
    for step in block.steps:
        assert check_step(step, model) == []


def test_relu_convention_at_zero_is_stated_and_used():
    relu = activation_named("relu")
    assert relu.convention == "ReLU'(0) = 0"
    assert relu.classic(sp.Integer(0)).doit() == 0
    assert relu.classic_in_output(sp.Integer(0)).doit() == 0
    leaky = activation_named("leaky-relu")
    assert leaky.classic(sp.Integer(0)).doit() == sp.Rational(1, 100)


def test_sigmoid_derivation_reaches_the_classic_form():
    act = activation_named("sigmoid")
    sigma = act.function
    assert sp.expand(act.classic(Z) - sigma(Z) * (1 - sigma(Z))) == 0


def test_gain_appears_in_the_classic_form():
    act = activation_named("sigmoid(gain=alpha)")
    alpha = sp.Symbol("alpha", positive=True)
    assert sp.simplify(act.classic(Z) - alpha * act.function(Z) * (1 - act.function(Z))) == 0


def test_tanh_classic_form():
    act = activation_named("tanh")
    assert sp.expand(act.classic(Z) - (1 - act.function(Z) ** 2)) == 0
    assert (
        sp.simplify(
            with_activations(act.classic(Z), Network([1, 1], activation="tanh"))
            - (1 - sp.tanh(Z) ** 2)
        )
        == 0
    )
