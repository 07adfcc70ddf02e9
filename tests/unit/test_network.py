"""Unit tests for derive/model/network.py: sizes, L and size(), the forward equations (z_definition,
a_definition, cost_definition, definition_of) and level() for networks with and without biases, per-layer
activations, function letters shared by two definitions, and bad sizes."""

import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.model.activations import activation_named
from derive.model.costs import A, Y
from derive.model.network import Network


def _same(left: sp.Expr, right: sp.Expr) -> bool:
    return sp.expand(left - right) == 0


@pytest.mark.parametrize("sizes", [[1, 1], [2, 3, 1], [4, 2, 2, 3], [784, 30, 10]])
def test_sizes_l_and_size(sizes):
    net = Network(sizes)
    assert net.sizes == tuple(sizes)
    assert net.L == len(sizes) - 1
    assert [net.size(layer) for layer in range(net.L + 1)] == sizes
    assert len(net.activations) == net.L


def test_sizes_may_come_from_any_iterable():
    assert Network(range(1, 4)).sizes == (1, 2, 3)
    assert Network((n for n in (3, 1))).sizes == (3, 1)


def test_defaults_come_from_the_notation():
    net = Network([2, 1])
    assert (net.activation(1).name, net.cost.name, net.bias) == ("sigmoid", "quadratic", False)
    assert Network([2, 1], notation="nielsen").cost.name == "half-quadratic"


@pytest.mark.parametrize("bias", [False, True])
def test_z_definition_written_out_is_the_weighted_sum(bias):
    net = Network([2, 3, 1], bias=bias)
    s = net.symbols
    for layer in (1, 2):
        previous = s.x if layer == 1 else (lambda k: s.a[1, k])
        for node in range(net.size(layer)):
            expected = sum(
                s.w[layer, node, k] * (previous[k] if layer == 1 else previous(k))
                for k in range(net.size(layer - 1))
            )
            if bias:
                expected += s.b[layer, node]
            assert _same(net.z_definition(layer, node).doit(), expected)


def test_z_definition_in_index_form():
    s = Network([2, 3, 1]).symbols
    z2 = Network([2, 3, 1]).z_definition(2, s.j)
    assert isinstance(z2, sp.Sum)
    assert z2.limits == ((s.k_sum, 0, 2),)  # k' runs over the 3 nodes of layer 1
    assert z2.function.args == (
        s.w[2, s.j, s.k_sum],
        s.a[1, s.k_sum],
    )  # the chain-rule order, w before a
    z1 = Network([2, 3, 1], bias=True).z_definition(1, s.j)
    assert isinstance(z1, sp.Add) and len(z1.args) == 2 and s.b[1, s.j] in z1.args
    (total,) = [arg for arg in z1.args if isinstance(arg, sp.Sum)]
    assert total.limits == ((s.k_sum, 0, 1),) and total.function.args == (
        s.w[1, s.j, s.k_sum],
        s.x[s.k_sum],
    )


def test_no_bias_symbol_without_biases():
    net = Network([2, 3, 1])
    s = net.symbols
    for layer in (1, 2):
        assert not net.z_definition(layer, s.j).has(s.b)
    assert Network([2, 3, 1], bias=True).z_definition(2, s.j).has(s.b[2, s.j])


def test_a_definition_applies_each_layers_activation():
    net = Network([2, 3, 3, 1], activation=["tanh", "relu", "sigmoid"])
    s = net.symbols
    assert net.a_definition(0, s.j) == s.x[s.j]
    for layer, name in ((1, "tanh"), (2, "ReLU"), (3, "sigma")):
        applied = net.a_definition(layer, s.j)
        assert applied == net.activation(layer)(s.z[layer, s.j])
        assert applied.func.__name__ == name and applied.args == (s.z[layer, s.j],)


@pytest.mark.parametrize("cost", ["quadratic", "half-quadratic", "cross-entropy"])
def test_cost_definition_sums_the_term_over_the_output_nodes(cost):
    net = Network([2, 3, 2], cost=cost)
    s = net.symbols
    definition = net.cost_definition()
    assert isinstance(definition, sp.Sum) and definition.limits == ((s.j_sum, 0, 1),)
    expected = sum(net.cost.term.xreplace({A: s.a[2, j], Y: s.y[j]}) for j in range(2))
    assert _same(definition.doit(), expected)


def test_definition_of_each_quantity():
    net = Network([2, 3, 1], bias=True)
    s = net.symbols
    assert net.definition_of(s.cost) == net.cost_definition()
    assert net.definition_of(s.z[2, 0]) == net.z_definition(2, 0)
    assert net.definition_of(s.a[1, s.j]) == net.a_definition(1, s.j)
    assert net.definition_of(s.a[0, 1]) == s.x[1]
    for given in (s.w[1, 0, 0], s.b[2, 0], s.x[0], s.y[0], s.delta[1, 0], sp.Symbol("q")):
        assert net.definition_of(given) is None


def _quantities(net: Network) -> list[sp.Expr]:
    s = net.symbols
    out = [s.cost]
    for layer in range(1, net.L + 1):
        out += [q[layer, j] for q in (s.z, s.a) for j in range(net.size(layer))]
    return out


@pytest.mark.parametrize(
    "sizes, bias", [([2, 3, 1], True), ([2, 3, 1], False), ([1, 2, 2, 3], True), ([3, 1], False)]
)
def test_every_definition_uses_only_the_level_just_below(sizes, bias):
    """level() orders the forward pass: a quantity is defined from quantities one level below it."""
    net = Network(sizes, activation="tanh", bias=bias)
    s = net.symbols
    for quantity in _quantities(net):
        # targets have no level; inputs x_k are left out here (see test_an_input_with_a_number_has_level_0)
        used = {
            i
            for i in net.definition_of(quantity).doit().atoms(sp.Indexed)
            if i.base not in (s.y, s.x)
        }
        assert used
        assert {net.level(i) for i in used} == {net.level(quantity) - 1}, quantity


def test_levels():
    net = Network([2, 3, 1], bias=True)
    s = net.symbols
    assert net.level(s.x[s.j]) == net.level(s.x[s.k_sum]) == 0
    assert net.level(s.w[1, 0, 0]) == net.level(s.b[1, 0]) == 0
    assert net.level(s.z[1, 0]) == 1 and net.level(s.a[1, 2]) == 2
    assert net.level(s.w[2, 0, 1]) == net.level(s.b[2, 0]) == 2
    assert net.level(s.z[2, 0]) == net.level(s.delta[2, 0]) == 3
    assert net.level(s.a[2, 0]) == 4 and net.level(s.cost) == 5 == 2 * net.L + 1
    for unplaced in (s.a[s.l, s.j], s.y[0], sp.Symbol("q")):
        assert net.level(unplaced) is None


def test_an_input_with_a_number_has_level_0():
    s = Network([2, 1]).symbols
    assert Network([2, 1]).level(s.x[0]) == 0


def test_per_layer_activations():
    net = Network([2, 3, 1], activation=["tanh", "sigmoid"])
    assert [net.activation(layer).name for layer in (1, 2)] == ["tanh", "sigmoid"]
    assert [a.name for a in Network([2, 3, 3, 1], activation=["relu"]).activations] == ["relu"] * 3
    same = Network([2, 3, 3, 1], activation=["tanh", "sigmoid", "tanh"])
    assert [a.name for a in same.distinct_activations] == ["tanh", "sigmoid"]
    given = activation_named("leaky-relu(slope=1/10)")
    assert Network([2, 1], activation=given).activation(1) is given


def test_describe_and_repr():
    net = Network([2, 3, 1], activation=["tanh", "sigmoid"], bias=True)
    assert net.describe() == "[2, 3, 1] tanh/sigmoid, quadratic cost, with biases"
    assert (
        repr(net)
        == "Network([2, 3, 1], activation=['tanh', 'sigmoid'], cost='quadratic', bias=True)"
    )
    assert (
        Network([4, 2], activation="relu", cost="mse").describe()
        == "[4, 2] relu, quadratic cost, no biases"
    )


def test_two_different_latex_activations_with_one_letter_are_refused():
    with pytest.raises(DeriveError) as caught:
        Network([2, 2, 2, 1], activation=["g(z) = z^2", "sigmoid", "g(z) = z^3"])
    message = str(caught.value)
    assert (
        message.startswith("two different activations are both called g;") and "\n" not in message
    )


def test_one_letter_may_name_one_definition_twice():
    net = Network([2, 2, 1], activation=["g(z) = z^2", "g(z) = z^2"])
    assert net.activation(1).function == net.activation(2).function
    # softplus brings sigma as a helper: the sigmoid layer's sigma is the same function, so both are fine
    assert Network([2, 2, 1], activation=["softplus", "sigmoid"]).L == 2


@pytest.mark.parametrize(
    "layers, message",
    [
        ([5], "at least two layers"),
        ((), "at least two layers"),
        ("23", "must be a list of positive integers"),
        (3, "must be a list of positive integers"),
        (None, "must be a list of positive integers"),
        ([2, "²"], "layer size 1 must be a positive integer, got '²'"),
        ([2, 10**6], "layer size 1 is 1000000; at most 100000 nodes per layer"),
        ([1] * 66, "at most 64 weight layers"),
    ],
)
def test_bad_sizes_are_refused(layers, message):
    with pytest.raises(DeriveError, match=message):
        Network(layers)
