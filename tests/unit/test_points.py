"""Unit tests for derive/evaluate/points.py: PointValues' forward pass at 60 digits against exact rational
arithmetic (identity and ReLU networks), the refusals (NotFinite, TooLarge, OutOfRange), the Functions
table (g' made lazily by SymPy's derivative, built-in activations found on first use) and close()."""

import mpmath
import pytest
import sympy as sp

from derive import Network
from derive.evaluate.exact import prime_function
from derive.evaluate.points import (
    MAX_ARGUMENT,
    Functions,
    NotFinite,
    OutOfRange,
    PointValues,
    TooLarge,
    close,
)
from derive.model.activations import _SIGMA_DEFINITION, SIGMA, Z, activation_named

R = sp.Rational


def mp(value: sp.Rational):
    """An exact rational as a 60-digit mpf (the precision PointValues works at)."""
    with mpmath.workdps(60):
        return mpmath.mpf(value.p) / value.q


def at60(fn, *args):
    """A reference value computed by mpmath itself at 60 digits."""
    with mpmath.workdps(60):
        return fn(*args)


def exact_forward(sizes, point, s, relu_layers=()):
    """z and a of every node, and the quadratic cost, in exact rationals (our own loop, not derive's)."""
    a = {(0, k): point[s.x[k]] for k in range(sizes[0])}
    z = {}
    for l in range(1, len(sizes)):
        for j in range(sizes[l]):
            z[l, j] = (
                sum((point[s.w[l, j, k]] * a[l - 1, k] for k in range(sizes[l - 1])), R(0))
                + point[s.b[l, j]]
            )
            a[l, j] = max(z[l, j], R(0)) if l in relu_layers else z[l, j]
    L = len(sizes) - 1
    cost = sum((a[L, j] - point[s.y[j]]) ** 2 for j in range(sizes[L]))
    return z, a, cost


def network_and_point(activation):
    """A [2, 3, 2] network with biases; rationals with denominators that are not powers of two (1/3, 1/7)
    so that 60-digit binary arithmetic is not exact and the comparison means something."""
    net = Network([2, 3, 2], activation=activation, bias=True)
    s = net.symbols
    point = {s.x[0]: R(1, 3), s.x[1]: R(-5, 7), s.y[0]: R(1, 10), s.y[1]: R(9, 10)}
    weights = {
        1: ((R(2, 3), R(-1, 7)), (R(-3, 2), R(4, 9)), (R(5, 11), R(1))),
        2: ((R(-2, 5), R(7, 3), R(1, 6)), (R(3, 13), R(-1, 2), R(6, 7))),
    }
    biases = {1: (R(1, 9), R(-1, 3), R(-2, 7)), 2: (R(1, 12), R(-3, 11))}
    for l, rows in weights.items():
        for j, row in enumerate(rows):
            point[s.b[l, j]] = biases[l][j]
            point.update({s.w[l, j, k]: v for k, v in enumerate(row)})
    return net, point


@pytest.mark.parametrize(
    "activation, relu_layers", [("identity", ()), (["relu", "identity"], (1,)), ("relu", (1, 2))]
)
def test_forward_pass_agrees_with_exact_rationals_to_sixty_digits(activation, relu_layers):
    net, point = network_and_point(activation)
    s = net.symbols
    z, a, cost = exact_forward(net.sizes, point, s, relu_layers)
    if relu_layers == (1,):
        assert any(z[1, j] < 0 for j in range(3)) and any(
            z[1, j] > 0 for j in range(3)
        )  # both sides of the kink
    values = PointValues(net, point)
    for (l, j), exact in z.items():
        assert close(values(s.z[l, j]), mp(exact), digits=58), (l, j)
        assert close(values.z(l, j), mp(exact), digits=58)
        assert close(values(s.a[l, j]), mp(a[l, j]), digits=58), (l, j)
    assert close(values(s.cost), mp(cost), digits=58)
    assert not close(values(s.cost), mp(cost) * (1 + mpmath.mpf(10) ** -50), digits=58)


def test_formulas_at_the_point_with_sums_and_bound_indices():
    net, point = network_and_point("identity")
    s = net.symbols
    z, a, cost = exact_forward(net.sizes, point, s)
    values = PointValues(net, point)
    kp = s.k_sum
    total = sp.Sum(s.w[2, 1, kp] * s.a[1, kp], (kp, 0, 2)) + s.b[2, 1]
    assert close(values(total), mp(z[2, 1]))
    assert close(values(s.a[1, s.j] * s.x[s.k], {s.j: 2, s.k: 0}), mp(a[1, 2] * point[s.x[0]]))
    # delta of the output layer of an identity network with quadratic cost: 2 (a_j - y_j)
    assert values._model is None  # the exact model is made only when a formula asks for delta
    assert close(values(s.delta[2, 1]), mp(2 * (a[2, 1] - point[s.y[1]])))
    hidden = sum(point[s.w[2, i, 0]] * 2 * (a[2, i] - point[s.y[i]]) for i in range(2))
    assert close(values(s.delta[1, 0]), mp(hidden))


def test_without_a_network_formulas_are_evaluated_at_given_values_of_z():
    values = PointValues(parameters={Z: R(1, 3)}, activations=(activation_named("tanh"),))
    tanh = activation_named("tanh").function
    third = mp(R(1, 3))
    assert close(values(tanh(Z)), at60(mpmath.tanh, third))
    assert close(
        values(SIGMA(Z)), at60(lambda t: 1 / (1 + mpmath.exp(-t)), third)
    )  # sigma is always known
    derivative = values(
        sp.Derivative(tanh(Z), Z)
    )  # tanh' through SymPy's derivative of the definition
    assert close(derivative, at60(lambda t: 1 - mpmath.tanh(t) ** 2, third))


# Refusals -----------------------------------------------------------------------------------------
@pytest.fixture
def tiny():
    net = Network([2, 1], activation="identity")
    s = net.symbols
    point = {
        s.x[0]: R(1, 2),
        s.x[1]: R(-3, 4),
        s.y[0]: R(1, 5),
        s.w[1, 0, 0]: R(2),
        s.w[1, 0, 1]: R(1, 3),
    }
    return net, PointValues(net, point)


def test_division_by_zero_is_not_finite(tiny):
    net, values = tiny
    x = net.symbols.x
    with pytest.raises(NotFinite, match="division by zero"):
        values(1 / (x[0] - R(1, 2)))  # SymPy cannot see the zero; the point makes it
    with pytest.raises(NotFinite, match="division by zero"):
        values((2 * x[0] - 1) ** -3)


def test_log_of_zero_is_not_finite(tiny):
    net, values = tiny
    with pytest.raises(NotFinite, match="log of 0"):
        values(sp.log(net.symbols.x[0] - R(1, 2)))


@pytest.mark.parametrize(
    "make",
    [lambda x: sp.sqrt(x[1]), lambda x: sp.log(x[1]), lambda x: x[1] ** R(1, 3)],
    ids=["sqrt", "log", "cube-root"],
)
def test_complex_results_are_not_finite(tiny, make):
    net, values = tiny  # x_1 = -3/4 < 0
    with pytest.raises(NotFinite, match="not a real number"):
        values(make(net.symbols.x))


@pytest.mark.parametrize("expr", [sp.oo, -sp.oo, sp.zoo, sp.nan], ids=str)
def test_infinities_and_nan_are_not_finite(tiny, expr):
    _, values = tiny
    with pytest.raises(NotFinite):
        values(expr)


def test_unknown_symbols_and_functions_are_not_finite(tiny):
    net, values = tiny
    with pytest.raises(NotFinite, match="no value for q"):
        values(sp.Symbol("q"))
    with pytest.raises(NotFinite, match="unknown function"):
        values(sp.Function("nope")(net.symbols.x[0]))


def test_huge_exponentials_are_refused_at_the_argument_limit(tiny):
    net, values = tiny
    assert close(
        values(sp.exp(MAX_ARGUMENT)), at60(mpmath.exp, MAX_ARGUMENT)
    )  # e^10000 is still computed
    for expr in (sp.exp(10**5), sp.exp(-(10**5)), sp.exp(MAX_ARGUMENT + 1), sp.cosh(10**5)):
        with pytest.raises(TooLarge):
            values(expr)
    with pytest.raises(TooLarge, match="exp"):
        values(
            sp.exp(10**5 * net.symbols.x[0])
        )  # the argument is known only at the point: 5 * 10^4


def test_huge_powers_are_refused(tiny):
    net, values = tiny
    x = net.symbols.x
    with pytest.raises(TooLarge, match="power"):
        values(x[0] ** (10**6))  # |10^6 ln(1/2)| is far past the limit
    assert close(values(x[0] ** 10), mp(R(1, 2**10)))


def test_node_index_outside_its_layer(tiny):
    net, values = tiny
    s = net.symbols
    with pytest.raises(OutOfRange) as caught:
        values(s.x[2])
    assert caught.value.quantity == s.x[2] and caught.value.indices == (2,)
    assert isinstance(caught.value, LookupError)
    with pytest.raises(OutOfRange) as caught:
        values(s.a[1, s.j], {s.j: 1})  # layer 1 has one node: j = 1 is outside it
    assert caught.value.indices == (1, 1)
    with pytest.raises(OutOfRange):
        values(s.w[1, 0, 5])
    with pytest.raises(OutOfRange):
        values(s.delta[1, 3])
    assert close(values(s.a[1, 0]), mp(R(1, 2) * 2 + R(-3, 4) * R(1, 3)))  # in range: fine


def test_a_directly_nested_double_sum(tiny):
    net, values = tiny
    s = net.symbols
    i, p = s.downstream[0], s.downstream[1]
    double = sp.Sum(sp.Sum(s.x[i] * s.x[p], (p, 0, 1)), (i, 0, 1))
    assert close(values(double), mp((R(1, 2) - R(3, 4)) ** 2))


# Functions ----------------------------------------------------------------------------------------
def test_g_prime_is_built_on_first_use_by_sympys_derivative():
    functions = Functions({SIGMA: _SIGMA_DEFINITION})
    sigma_prime = prime_function(SIGMA)
    assert functions._made == {}
    made = functions.get(sigma_prime)
    assert set(functions._made) == {sigma_prime}
    assert sp.simplify(made(Z) - _SIGMA_DEFINITION(Z) * (1 - _SIGMA_DEFINITION(Z))) == 0
    assert made(0) == R(1, 4)
    assert functions.get(sigma_prime) is made  # made once
    assert functions.get(SIGMA) == _SIGMA_DEFINITION
    assert not functions._with_builtins  # the network's own functions did not need the built-ins


def test_a_builtin_activation_not_in_the_network_is_found_on_first_use():
    functions = Functions({SIGMA: _SIGMA_DEFINITION})
    relu = activation_named("relu")
    assert not functions._with_builtins
    assert functions.get(relu.function) == relu.definition
    assert functions._with_builtins
    relu_prime = functions.get(prime_function(relu.function))
    assert relu_prime(R(-2)) == 0 and relu_prime(R(3)) == 1
    assert functions.get(sp.Function("nope")) is None
    assert functions.get(prime_function(sp.Function("nope"))) is None


def test_the_networks_own_definition_wins_over_a_builtin_of_the_same_name():
    own = sp.Lambda(Z, 2 * Z)
    functions = Functions({SIGMA: own})
    functions.get(activation_named("tanh").function)  # loads the built-ins
    assert functions.get(SIGMA) == own
    assert functions.get(prime_function(SIGMA))(Z) == 2


def test_point_values_of_an_identity_network_know_tanh_when_asked(tiny):
    net, values = tiny
    tanh = activation_named("tanh").function
    assert close(values(tanh(net.symbols.x[1])), at60(mpmath.tanh, mp(R(-3, 4))))


# close --------------------------------------------------------------------------------------------
def test_close_is_relative_to_the_larger_value_and_one():
    with mpmath.workdps(60):
        one, tiny, big = mpmath.mpf(1), mpmath.mpf(10) ** -41, mpmath.mpf(10) ** 30
        assert close(one, one + tiny)
        assert not close(one, one + 100 * tiny)
        assert close(big, big * (1 + tiny))
        assert not close(big, big + big * 100 * tiny)
        assert close(tiny, 0)  # near zero the scale is 1, so 1e-41 is close to 0
        assert not close(mpmath.mpf(10) ** -5, 0)
        assert close(one, one + mpmath.mpf(10) ** -25, digits=20)
        assert not close(one, one + mpmath.mpf(10) ** -25, digits=30)
