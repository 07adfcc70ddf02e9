import sympy as sp

from derive import Network, Notation
from derive.notation.printing import latex, text


def test_weight_prints_with_layer_superscript_and_jk_subscript():
    s = Notation().symbols
    assert latex(s.w[2, s.j, s.k], Notation()) == "w_{jk}^{(2)}"
    assert text(s.w[2, s.j, s.k], Notation()) == "w_jk^(2)"


def test_multi_digit_indices_are_separated():
    s = Notation().symbols
    assert latex(s.w[1, 10, 3], Notation()) == "w_{10,3}^{(1)}"


def test_inputs_and_targets_have_no_layer():
    s = Notation().symbols
    assert latex(s.x[s.k], Notation()) == "x_{k}"
    assert latex(s.y[s.j], Notation()) == "y_{j}"


def test_derivatives_print_as_partial_fractions_and_primes():
    s = Notation().symbols
    d = sp.Derivative(s.cost, s.w[2, s.j, s.k])
    assert latex(d, Notation()) == r"\frac{\partial C_{0}}{\partial w_{jk}^{(2)}}"
    prime = sp.Derivative(sp.Function("sigma")(s.z[2, s.j]), s.z[2, s.j])
    assert text(prime, Notation()) == "σ'(z_j^(2))"


def test_nielsen_preset_is_data_plain_superscripts_and_half_quadratic_cost():
    net = Network([2, 2, 1], notation="nielsen")
    assert net.cost.name == "half-quadratic"
    s = net.symbols
    assert latex(s.a[2, s.j], net.notation) == "a_{j}^{2}"
    # 1/2 sum (a - y)^2 differentiates to (a - y): no factor 2 in the output gradient.
    sigma = net.activation(2).function
    expected = (
        (s.a[2, s.j] - s.y[s.j]) * sp.Derivative(sigma(s.z[2, s.j]), s.z[2, s.j]) * s.a[1, s.k]
    )
    assert sp.expand(net.derivation().gradient(2) - expected) == 0


def test_letters_are_configurable():
    custom = Notation(node="m", prev="n", downstream=("p", "q"))
    net = Network([2, 2, 1], notation=custom)
    grad = net.derivation().gradient(1)
    names = {str(sym) for sym in grad.free_symbols}
    assert {"m", "n"} <= names and "j" not in names and "k" not in names
