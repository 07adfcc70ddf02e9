"""The engine's formulas and step structure (what they say, not just that they exist)."""

import pytest
import sympy as sp

from derive.notation.sums import IndexSum

from derive import Network, Rule


def test_textbook_one_weight_case():
    """a = w x, C_0 = (a - y)^2: dC_0/dw = 2(wx - y)x = 4.5 w - 1.5 at x = 1.5, y = 0.5."""
    net = Network([1, 1], activation="identity")
    s = net.symbols
    grad = net.derivation().concrete_gradient(1, 0, 0)
    w = s.w[1, 0, 0]
    exact = grad.subs({s.x[0]: sp.Rational("1.5"), s.y[0]: sp.Rational("0.5")})
    assert sp.expand(exact) == sp.Rational(9, 2) * w - sp.Rational(3, 2)
    assert sp.expand(grad.subs({s.x[0]: 1.5, s.y[0]: 0.5})) == 4.5 * w - 1.5


def test_hidden_to_output_formula_is_the_three_factor_product():
    net = Network([2, 3, 1], activation="sigmoid")
    s = net.symbols
    sigma = net.activation(2).function
    expected = (
        2 * (s.a[2, s.j] - s.y[s.j]) * sp.Derivative(sigma(s.z[2, s.j]), s.z[2, s.j]) * s.a[1, s.k]
    )
    assert sp.expand(net.derivation().gradient(2) - expected) == 0
    classic = 2 * (s.a[2, s.j] - s.y[s.j]) * s.a[2, s.j] * (1 - s.a[2, s.j]) * s.a[1, s.k]
    assert sp.expand(net.derivation().gradient(2, "classic") - classic) == 0


def test_input_to_hidden_formula_sums_over_downstream_nodes_with_w_ij():
    net = Network([2, 3, 2], activation="tanh")
    s = net.symbols
    i = s.downstream[0]
    tanh = net.activation(1).function
    prime = lambda layer, node: sp.Derivative(tanh(s.z[layer, node]), s.z[layer, node])  # noqa: E731
    expected = (
        IndexSum(2 * (s.a[2, i] - s.y[i]) * prime(2, i) * s.w[2, i, s.j], (i, 0, 1))
        * prime(1, s.j)
        * s.x[s.k]
    )
    got = net.derivation().gradient(1)
    assert sp.expand(got - expected) == 0
    # the downstream weight is w_{ij}: from node j of layer 1 into node i of layer 2, not w_{ji}
    assert s.w[2, i, s.j] in got.atoms(sp.Indexed) and s.w[2, s.j, i] not in got.atoms(sp.Indexed)


def test_deeper_networks_nest_one_sum_per_downstream_layer():
    net = Network([2, 3, 3, 2])
    grad = net.derivation().gradient(1)
    sums = list(grad.atoms(sp.Sum))
    letters = {limit[0] for total in sums for limit in total.limits}
    assert len(sums) == 2 and {str(x) for x in letters} == {"i", "p"}


def test_delta_recursion_names_the_repeated_factor():
    net = Network([2, 3, 3, 2])
    s = net.symbols
    d = net.derivation()
    i = s.downstream[0]
    for layer in (1, 2):
        rec = d.delta(layer)
        assert s.delta[layer + 1, i] in rec.atoms(sp.Indexed)
        assert s.w[layer + 1, i, s.j] in rec.atoms(sp.Indexed)
    rules = [(st.lhs, st.rule) for st in d.block("layer:1").steps]
    assert (s.delta[1, s.j], Rule.DEFINITION) in rules
    assert any(
        st.lhs == sp.Derivative(s.cost, s.w[1, s.j, s.k])
        and sp.expand(st.rhs - s.delta[1, s.j] * s.x[s.k]) == 0
        for st in d.block("layer:1").steps
    )


def test_bias_gradients_only_when_biases_are_on():
    with_b = Network([2, 2, 1], bias=True).derivation()
    without = Network([2, 2, 1], bias=False).derivation()
    s = with_b.network.symbols
    assert any(st.lhs == sp.Derivative(s.cost, s.b[1, s.j]) for st in with_b.steps(1))
    assert not any(
        isinstance(st.lhs, sp.Derivative) and st.lhs.variables[0].base == s.b
        for st in without.steps()
        if isinstance(st.lhs, sp.Derivative) and isinstance(st.lhs.variables[0], sp.Indexed)
    )
    assert sp.expand(with_b.bias_gradient(2) - with_b.gradient(2) / s.a[1, s.k]) == 0


def test_cross_entropy_with_sigmoid_output_cancels():
    net = Network([2, 2, 1], activation="sigmoid", cost="cross-entropy")
    s = net.symbols
    block = net.derivation().block("layer:2")
    simplifications = [st for st in block.steps if st.rule is Rule.SIMPLIFICATION]
    assert len(simplifications) == 1
    assert simplifications[0].lhs == s.delta[2, s.j]
    assert sp.expand(simplifications[0].rhs - (s.a[2, s.j] - s.y[s.j])) == 0
    assert (
        sp.expand(net.derivation().gradient(2, "classic") - (s.a[2, s.j] - s.y[s.j]) * s.a[1, s.k])
        == 0
    )


def test_no_cancellation_claimed_for_quadratic_cost():
    block = Network([2, 2, 1]).derivation().block("layer:2")
    assert not any(st.rule is Rule.SIMPLIFICATION for st in block.steps)


def test_output_layer_chain_uses_each_rule_once_in_order():
    d = Network([2, 3, 1]).derivation()
    rules = [st.rule for st in d.block("layer:2").steps]
    expected_order = [
        Rule.CHAIN_RULE,
        Rule.COST_DERIVATIVE,
        Rule.ACTIVATION_DERIVATIVE,
        Rule.DEFINITION,
        Rule.SUM_RULE,
        Rule.SUBSTITUTION,
    ]
    assert rules[:6] == expected_order


def test_steps_reference_sub_derivations_instead_of_repeating_them():
    d = Network([2, 3, 3, 2], activation=["tanh", "relu", "sigmoid"]).derivation()
    keys = [b.key for b in d.blocks]
    assert len(keys) == len(set(keys))
    for block in d.blocks:
        for ref in block.refs:
            assert ref in keys
    # the hidden layer's block does not restate the cost derivative: it references it
    layer1 = d.block("layer:1")
    assert all(st.rule is not Rule.POWER_RULE for st in layer1.steps)
    # steps(layer) lists every referenced block before the block that uses it, each once
    order = [str(b.key) for b in d.blocks_for(1)]
    assert order.index("cost") < order.index("layer:2") < order.index("layer:1")
    assert {"activation:tanh", "activation:relu", "activation:sigmoid"} <= set(order)


def test_per_layer_activations_appear_in_their_layers():
    net = Network([2, 3, 1], activation=["tanh", "sigmoid"])
    grad = net.derivation().gradient(1)
    names = {f.func.__name__ for f in grad.atoms(sp.core.function.AppliedUndef)}
    assert names == {"tanh", "sigma"}


def test_derivation_does_not_depend_on_width():
    """Index form: a wide network yields the same steps as a narrow one, only sum limits differ."""
    small = Network([2, 2, 1]).derivation()
    wide = Network([784, 100, 10]).derivation()
    assert [st.rule for st in small.steps()] == [st.rule for st in wide.steps()]
    assert sp.count_ops(wide.gradient(1)) == sp.count_ops(small.gradient(1))
    assert max(sp.count_ops(st.rhs) for st in wide.steps()) < 60


@pytest.mark.parametrize(
    "sizes, activation, cost",
    [
        ([2, 3, 1], "sigmoid", "quadratic"),
        ([3, 2, 2, 2], ["tanh", "relu", "sigmoid"], "cross-entropy"),
        ([1, 1], "identity", "quadratic"),
        ([2, 2, 3, 2, 1], "softplus", "quadratic"),
    ],
)
def test_one_layers_gradient_alone_is_the_derivations_gradient(sizes, activation, cost):
    from derive.engine.derivation import weight_gradient

    net = Network(sizes, activation=activation, cost=cost)
    d = net.derivation()
    for layer in range(1, net.L + 1):
        for form in ("chain", "classic"):
            assert weight_gradient(net, layer, form) == d.gradient(layer, form)


def test_public_names_load_on_first_use():
    import subprocess
    import sys

    code = (
        "import sys, derive\nassert 'sympy' not in sys.modules\n"
        "import derive as d\nnames = [getattr(d, n) for n in d.__all__]\n"
        "assert sorted(d.__all__) == sorted(d._WHERE) and set(d.__all__) <= set(dir(d))\n"
        "try:\n    d.nothing\nexcept AttributeError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "module 'derive' has no attribute 'nothing'\n"


def test_every_hidden_layer_block_has_the_same_size_whatever_the_depth():
    """Linear in depth: a layer's block speaks of delta^(l+1), never writes out the layers below it
    (except the layers within WRITTEN_OUT of the output, which get the two key equations in full)."""
    from derive.engine.derivation import WRITTEN_OUT

    def size(net, layer):
        block = net.derivation().block(f"layer:{layer}")
        return len(block.steps), sum(sp.count_ops(st.rhs) for st in block.steps)

    shallow, deep = Network([3] * 8, activation="tanh"), Network([3] * 30, activation="tanh")
    deepest = 7 - WRITTEN_OUT - 1  # a layer below the written-out ones in the shallow network
    assert size(shallow, deepest) == size(deep, deepest) == size(deep, 1) == size(deep, 20)
    written = size(shallow, 7 - WRITTEN_OUT)
    assert (
        written[0] > size(shallow, deepest)[0]
    )  # the written-out steps are there, near the output
    # and the written-out formula, built on request, is still the chain rule all the way down
    grad = deep.derivation().gradient(1)
    assert len(grad.atoms(sp.Sum)) == 28
