"""Every general formula against the fully expanded network; every step against SymPy's diff."""

import random

import pytest
import sympy as sp

from derive import Network, Rule, Step
from derive.model.activations import NAMES
from derive.evaluate.exact import Model
from derive.checks.steps import check_gradients, check_step, check_steps

SHAPES = [[1, 1], [2, 2, 1], [2, 3, 1], [3, 4, 2], [2, 3, 3, 2], [2, 2, 2, 2, 1]]
COSTS = ["quadratic", "half-quadratic", "cross-entropy"]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_general_formula_equals_expanded_network_exactly(shape, cost, bias):
    """With undefined activations, formula - diff(expanded cost) expands to exactly 0."""
    net = Network(shape, activation="sigmoid", cost=cost, bias=bias)
    assert check_gradients(net, mode="symbolic") == []


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", NAMES)
def test_general_formula_with_real_activations_at_random_points(activation, cost, bias):
    """Chain and classic forms against diff of the expanded cost with the real activation:
    exact rationals for piecewise-linear activations, 60 digits otherwise."""
    output = (
        "sigmoid" if cost == "cross-entropy" else activation
    )  # cross-entropy needs outputs in (0, 1)
    net = Network([3, 4, 2], activation=[activation, output], cost=cost, bias=bias)
    assert check_gradients(net, mode="numeric", seed=7) == []


@pytest.mark.parametrize(
    "activation", ["sigmoid", "tanh", "relu", "leaky-relu", "softplus", "identity"]
)
def test_deep_mixed_network_numeric(activation):
    net = Network([2, 3, 3, 2], activation=[activation, "tanh", "sigmoid"], bias=True)
    assert check_gradients(net, mode="numeric", seed=3) == []


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", [*NAMES, "sigmoid(gain=2)"])
def test_every_step_holds(activation, cost):
    output = "sigmoid" if cost == "cross-entropy" else activation
    net = Network([2, 2, 2], activation=[activation, output], cost=cost, bias=cost != "quadratic")
    assert check_steps(net, seed=5, limit=4) == []


def test_every_step_holds_for_a_deeper_network():
    net = Network([2, 3, 2, 2], activation=["tanh", "relu", "sigmoid"], bias=True)
    assert check_steps(net, seed=11, limit=3) == []


def test_textbook_case_steps():
    assert check_steps(Network([1, 1], activation="identity")) == []


# The checks must be able to fail ----------------------------------------------------------
def _layer_step(net, layer, rule):
    return next(st for st in net.derivation().block(f"layer:{layer}").steps if st.rule is rule)


@pytest.mark.parametrize(
    "mutate", ["drop_factor_2", "transpose_weight", "a_j_for_a_k", "drop_activation"]
)
def test_step_check_catches_wrong_claims(mutate):
    net = Network([2, 3, 2], activation="sigmoid")
    s = net.symbols
    i = s.downstream[0]
    model = Model(net, random.Random(2))
    d = net.derivation()
    good = next(
        st
        for st in d.block("layer:1").steps
        if st.rule is Rule.SUBSTITUTION and st.lhs == sp.Derivative(s.cost, s.w[1, s.j, s.k])
    )
    assert check_step(good, model) == []
    rhs = good.rhs
    bad = {
        "drop_factor_2": lambda e: e.xreplace({sp.Integer(2): sp.Integer(1)}),
        "transpose_weight": lambda e: e.xreplace({s.w[2, i, s.j]: s.w[2, s.j, i]}),
        "a_j_for_a_k": lambda e: e.xreplace({s.x[s.k]: s.x[s.j]}),
        "drop_activation": lambda e: e.replace(
            lambda x: isinstance(x, sp.Derivative) and x.variables[0] == s.z[1, s.j],
            lambda x: sp.Integer(1),
        ),
    }[mutate](rhs)
    assert bad != rhs
    assert check_step(Step(good.lhs, bad, good.rule, good.text), model) != []


def test_step_check_catches_a_wrong_local_derivative():
    net = Network([2, 2, 1])
    s = net.symbols
    model = Model(net, random.Random(0))
    wrong = Step(
        sp.Derivative(s.z[2, s.j], s.w[2, s.j, s.k]), s.a[1, s.j], Rule.SUM_RULE, "wrong index"
    )
    assert check_step(wrong, model) != []
    wrong_activation = Step(
        sp.Derivative(s.a[1, s.j], s.z[1, s.j]), s.a[1, s.j], Rule.ACTIVATION_DERIVATIVE, "x"
    )
    assert check_step(wrong_activation, model) != []


@pytest.mark.parametrize("mode", ["symbolic", "numeric"])
def test_expansion_check_catches_a_wrong_formula(monkeypatch, mode):
    net = Network([2, 3, 1], bias=True)
    d = net.derivation()
    s = net.symbols
    real = type(d).gradient

    def transposed(self, layer, form="chain"):
        i = s.downstream[0]
        return real(self, layer, form).xreplace(
            {s.w[2, i, s.j]: s.w[2, s.j, i]} if layer == 1 else {}
        )

    monkeypatch.setattr(type(d), "gradient", transposed)
    failures = check_gradients(net, mode=mode)
    assert failures and all("layer 1" in f.what for f in failures)


def test_matrix_summary_square_layers_catch_missing_transpose(monkeypatch):
    """With square weight matrices W delta has the right shape, so only the values can tell."""
    import derive.engine.derivation as derivation
    from derive.checks.steps import check_summary

    real = derivation.matrix_summary

    def without_transpose(net, layer=None):
        block = real(net, layer)
        steps = tuple(
            Step(
                st.lhs,
                st.rhs.replace(lambda e: isinstance(e, sp.Transpose), lambda e: e.arg),
                st.rule,
                st.text,
            )
            if isinstance(st.rhs, sp.HadamardProduct)
            else st
            for st in block.steps
        )
        return type(block)(block.key, block.title, steps)

    net = Network([2, 2, 2], activation="sigmoid")
    model = Model(net, random.Random(4))
    assert check_summary(net, model) == []
    monkeypatch.setattr(derivation, "matrix_summary", without_transpose)
    failures = check_summary(net, model)
    assert failures and all("recursion" in f.what for f in failures)
