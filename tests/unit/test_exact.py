"""Unit tests for derive/evaluate/exact.py: writing sums out, the exact forward pass and derivatives of a
concrete network (checked against arithmetic done by hand here), equality to 60 digits, random points,
index ranges and assignments, g' as opaque functions, vanishing identities, and formulas written out."""

import random

import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from derive import Network
from derive.evaluate.exact import (
    Model,
    Singular,
    Unsettled,
    assignments,
    at_point,
    covering,
    equal,
    expand_sums,
    index_ranges,
    precision,
    prime_function,
    primes_as_functions,
    random_point,
    settle,
    vanishes,
    written_out,
)
from derive.model.activations import SIGMA, Z

R = sp.Rational
X = sp.IndexedBase("X")
K, I = sp.symbols("K I", integer=True)
F = sp.Function("F")


# expand_sums -------------------------------------------------------------------------------------
def test_expand_sums_writes_a_numeric_sum_out_term_by_term():
    assert expand_sums(sp.Sum(X[K] * K, (K, 0, 3))) == X[1] + 2 * X[2] + 3 * X[3]
    assert expand_sums(sp.Sum(X[K], (K, 0, 0))) == X[0]
    assert expand_sums(sp.Sum(X[K], (K, 2, 1))) == 0  # an empty range is the empty sum


def test_expand_sums_writes_out_sums_inside_sums_and_inside_other_expressions():
    inner = sp.Sum(X[I], (I, 0, 1))
    assert (
        expand_sums(sp.Sum(X[K] * inner, (K, 0, 1))) == (X[0] + X[1]) * X[0] + (X[0] + X[1]) * X[1]
    )
    assert not expand_sums(sp.exp(inner) + inner**2).has(sp.Sum)


def test_expand_sums_evaluates_nothing_else():
    unevaluated = sp.Derivative(F(sp.Sum(X[K], (K, 0, 1))), X[0])
    out = expand_sums(unevaluated)
    assert isinstance(out, sp.Derivative)  # not differentiated
    assert out == sp.Derivative(F(X[0] + X[1]), X[0])
    no_sum = sp.Derivative(F(X[0]), X[0]) + X[K]
    assert expand_sums(no_sum) is no_sum


# A tiny network by hand ----------------------------------------------------------------------------
# [2, 2, 1], identity activation, quadratic cost, no bias:
#   z1_0 = 1*(1/2) + 2*(-1/3) = -1/6,   z1_1 = (-1/2)(1/2) + (3/4)(-1/3) = -1/2
#   z2_0 = (2/3)(-1/6) + (-1)(-1/2) = 7/18,   C = (7/18 - 1/4)^2 = (5/36)^2 = 25/1296
XS, Y0 = (R(1, 2), R(-1, 3)), R(1, 4)
W1 = ((R(1), R(2)), (R(-1, 2), R(3, 4)))
W2 = ((R(2, 3), R(-1)),)


def identity_net(activation="identity"):
    net = Network([2, 2, 1], activation=activation)
    s = net.symbols
    point = {s.x[0]: XS[0], s.x[1]: XS[1], s.y[0]: Y0}
    point.update({s.w[1, j, k]: W1[j][k] for j in range(2) for k in range(2)})
    point.update({s.w[2, 0, k]: W2[0][k] for k in range(2)})
    return net, point


def test_forward_values_of_an_identity_network_are_the_hand_arithmetic():
    net, point = identity_net()
    s = net.symbols
    model = Model(net, point=point)
    z1 = [W1[j][0] * XS[0] + W1[j][1] * XS[1] for j in range(2)]
    z2 = W2[0][0] * z1[0] + W2[0][1] * z1[1]
    assert z1 == [R(-1, 6), R(-1, 2)] and z2 == R(7, 18)
    for j in range(2):
        assert model.values[s.z[1, j]] == z1[j] and model.values[s.a[1, j]] == z1[j]
    assert model.values[s.z[2, 0]] == z2 and model.values[s.a[2, 0]] == z2
    assert model.values[s.cost] == (z2 - Y0) ** 2 == R(25, 1296)
    assert all(model.values[q] == v for q, v in point.items())  # the point itself is kept
    assert all(isinstance(v, sp.Rational) for v in model.values.values())  # exact, no floats


def test_forward_values_of_a_relu_network_cut_negative_inputs_exactly():
    net, point = identity_net(["relu", "identity"])
    s = net.symbols
    model = Model(net, point=point)
    assert model.values[s.z[1, 0]] == R(-1, 6) and model.values[s.a[1, 0]] == 0
    assert model.values[s.z[1, 1]] == R(-1, 2) and model.values[s.a[1, 1]] == 0
    assert model.values[s.a[2, 0]] == 0 and model.values[s.cost] == Y0**2


def test_value_of_a_derivative_is_the_hand_derivative():
    net, point = identity_net()
    s = net.symbols
    model = Model(net, point=point)
    e = R(7, 18) - Y0  # a2 - y = 5/36; dC/da2 = 2e
    a1 = (R(-1, 6), R(-1, 2))
    # dC/dw2_0k = 2e a1_k;  dC/dw1_jk = 2e w2_0j x_k;  dC/da1_j = 2e w2_0j
    assert model.value(sp.Derivative(s.cost, s.w[2, 0, 0])) == 2 * e * a1[0] == R(-5, 108)
    assert model.value(sp.Derivative(s.cost, s.w[2, 0, 1])) == 2 * e * a1[1] == R(-5, 36)
    assert model.value(sp.Derivative(s.cost, s.w[1, 0, 1])) == 2 * e * W2[0][0] * XS[1] == R(-5, 81)
    assert model.value(sp.Derivative(s.cost, s.w[1, 1, 0])) == 2 * e * W2[0][1] * XS[0]
    assert model.value(sp.Derivative(s.cost, s.a[1, 0])) == R(5, 27)
    # delta_j^(1) = dC/dz_j^(1) (the identity's derivative is 1)
    assert model.value(s.delta[1, 1]) == 2 * e * W2[0][1] == R(-5, 18)
    # a formula mixing quantities and a derivative
    assert model.value(s.a[2, 0] * sp.Derivative(s.cost, s.a[2, 0])) == R(7, 18) * 2 * e


def test_value_of_a_sigmoid_derivative_is_a_times_one_minus_a():
    net, point = identity_net("sigmoid")
    s = net.symbols
    model = Model(net, point=point)
    a = model.values[s.a[1, 0]]
    assert equal(a, 1 / (1 + sp.exp(R(1, 6))))  # sigma(-1/6)
    assert equal(model.value(sp.Derivative(s.a[1, 0], s.z[1, 0])), a * (1 - a))
    assert not equal(model.value(sp.Derivative(s.a[1, 0], s.z[1, 0])), a)


# equal -------------------------------------------------------------------------------------------
def test_equal_is_exact_for_rationals():
    assert equal(R(1, 3), R(2, 6))
    assert not equal(R(1, 3), R(1, 3) + R(1, 10**80))  # no tolerance between exact numbers


def test_equal_tolerates_differences_below_sixty_digits_relative_to_the_size():
    assert equal(sp.pi, sp.pi.evalf(100))
    assert not equal(sp.pi, sp.pi.evalf(50))
    big = 10**80 * sp.pi
    assert equal(big, big.evalf(100))  # absolute difference about 1e-20, relative 1e-100
    assert not equal(big, big.evalf(50))


def test_equal_simplifies_symbolic_differences():
    x = sp.Symbol("x")
    assert equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1))
    assert not equal(x, x + 1)
    assert not equal(sp.sin(x), sp.cos(x))


# random_point ------------------------------------------------------------------------------------
def test_random_point_is_deterministic_for_a_seed():
    net = Network([2, 3, 1], bias=True)
    assert random_point(net, random.Random(5)) == random_point(net, random.Random(5))
    assert random_point(net, random.Random(5)) != random_point(net, random.Random(6))


def test_random_point_covers_every_parameter_and_nothing_else():
    net = Network([2, 3, 2], activation=["tanh", "sigmoid(gain=alpha)"], bias=True)
    s = net.symbols
    point = random_point(net, random.Random(1))
    alpha = next(iter(net.activation(2).definition.expr.free_symbols - {Z}))
    expected = {
        s.x[0],
        s.x[1],
        s.y[0],
        s.y[1],
        alpha,
        s.eta,
    }  # eta: the learning rate of the weight changes
    expected |= {
        s.w[l, j, k] for l in (1, 2) for j in range(net.size(l)) for k in range(net.size(l - 1))
    }
    expected |= {s.b[l, j] for l in (1, 2) for j in range(net.size(l))}
    assert set(point) == expected
    assert all(isinstance(v, sp.Rational) for v in point.values())
    assert all(0 < point[s.y[j]] < 1 for j in range(2))
    assert R(1, 2) <= point[alpha] <= 3
    others = [v for q, v in point.items() if q not in (s.y[0], s.y[1], alpha)]
    assert all(abs(v) <= R(20, 7) for v in others)


def test_random_point_without_biases_has_no_bias():
    net = Network([1, 1])
    s = net.symbols
    assert set(random_point(net, random.Random(0))) == {s.x[0], s.y[0], s.w[1, 0, 0], s.eta}


def test_model_without_a_point_uses_random_point_of_its_rng():
    net = Network([2, 1])
    assert Model(net, random.Random(9)).point == random_point(net, random.Random(9))


# index_ranges and assignments --------------------------------------------------------------------
def test_index_ranges_count_the_nodes_of_each_free_index():
    net = Network([2, 3, 1])
    s = net.symbols
    i, j, k = s.downstream[0], s.j, s.k
    expr = sp.Sum(s.w[2, i, j] * s.delta[2, i], (i, 0, 0)) * s.z[1, j] * s.x[k]
    assert index_ranges(expr, net) == {j: 3, k: 2}  # i is bound by the sum
    # one letter in two layers: the smaller layer bounds it (y has 1 node, layer 1 has 3)
    assert index_ranges(s.a[1, j] * s.y[j], net) == {j: 1}
    assert index_ranges(s.w[1, j, k], net) == {j: 3, k: 2}
    assert index_ranges(s.w[s.l, j, k], net) == {}  # a symbolic layer gives no range


def test_assignments_lists_every_combination_in_letter_order():
    net = Network([2, 3, 1])
    s = net.symbols
    every = list(assignments(s.a[1, s.j] * s.x[s.k], net, limit=100, rng=random.Random(0)))
    assert every == [{s.j: sp.Integer(j), s.k: sp.Integer(k)} for j in range(3) for k in range(2)]


def test_assignments_sample_limit_distinct_ones_when_there_are_more():
    net = Network([2, 3, 1])
    s = net.symbols
    expr = s.a[1, s.j] * s.x[s.k]
    every = list(assignments(expr, net, limit=100, rng=random.Random(0)))
    some = list(assignments(expr, net, limit=4, rng=random.Random(3)))
    assert len(some) == 4 and all(a in every for a in some)
    assert len({tuple(sorted(a.items(), key=str)) for a in some}) == 4
    assert some == list(assignments(expr, net, limit=4, rng=random.Random(3)))


def test_assignments_of_a_closed_formula_is_one_empty_assignment():
    net = Network([2, 1])
    assert list(assignments(net.symbols.x[0], net, limit=5, rng=random.Random(0))) == [{}]


# primes_as_functions and vanishes ----------------------------------------------------------------
def test_primes_as_functions_handles_derivatives_and_subs():
    z = sp.Symbol("z")
    sigma_prime = prime_function(SIGMA)
    assert primes_as_functions(sp.Derivative(SIGMA(z), z)) == sigma_prime(z)
    chained = sp.diff(
        SIGMA(X[0] ** 2), X[0]
    )  # SymPy writes 2 x Subs(Derivative(sigma(xi), xi), xi, x^2)
    assert chained.has(sp.Subs)
    assert primes_as_functions(chained) == 2 * X[0] * sigma_prime(X[0] ** 2)
    plain = sp.Derivative(X[0] ** 2, X[0], evaluate=False)
    assert primes_as_functions(plain) == plain  # only derivatives of undefined functions


def test_vanishes_on_identities_for_every_function():
    z = sp.Symbol("z")
    s = SIGMA(z)
    assert vanishes(s * (1 - s) - (s - s**2))
    assert vanishes((1 - s**2) / (1 - s) - (1 + s))  # a rational function: cancels after together
    g = prime_function(SIGMA)
    assert vanishes(g(z) * s - s * g(z))


def test_vanishes_is_false_for_non_identities():
    z = sp.Symbol("z")
    assert not vanishes(SIGMA(z) - SIGMA(2 * z))  # true for a linear sigma, not for every function
    assert not vanishes(SIGMA(z) ** 2 - SIGMA(z))
    assert not vanishes(SIGMA(z) - prime_function(SIGMA)(z))


# written_out -------------------------------------------------------------------------------------
def test_written_out_identity_gradient_is_the_hand_formula():
    net = Network([1, 1], activation="identity")
    s = net.symbols
    d = net.derivation()
    expected = 2 * (s.w[1, 0, 0] * s.x[0] - s.y[0]) * s.x[0]
    for form in ("chain", "classic"):
        out = written_out(d.gradient(1, form), net, {s.j: 0, s.k: 0})
        assert not out.atoms(AppliedUndef) and not out.has(sp.Derivative, s.a, s.z, s.j, s.k)
        assert sp.expand(out - expected) == 0


def test_written_out_hidden_gradient_equals_the_derivative_of_the_cost_by_hand():
    net = Network([2, 2, 1], activation="sigmoid", bias=True)
    s = net.symbols

    def logistic(t):
        return 1 / (1 + sp.exp(-t))

    a1 = [logistic(s.w[1, j, 0] * s.x[0] + s.w[1, j, 1] * s.x[1] + s.b[1, j]) for j in range(2)]
    a2 = logistic(s.w[2, 0, 0] * a1[0] + s.w[2, 0, 1] * a1[1] + s.b[2, 0])
    cost = (a2 - s.y[0]) ** 2
    point = random_point(net, random.Random(4))
    d = net.derivation()
    for j, k in ((0, 1), (1, 0)):
        out = written_out(d.gradient(1, "classic"), net, {s.j: j, s.k: k})
        assert not out.has(sp.Derivative, sp.Sum)
        assert equal(out.xreplace(point), sp.diff(cost, s.w[1, j, k]).xreplace(point))
    bias = written_out(d.bias_gradient(2), net, {s.j: 0})
    assert equal(bias.xreplace(point), sp.diff(cost, s.b[2, 0]).xreplace(point))
    wrong = written_out(d.gradient(1, "classic"), net, {s.j: 0, s.k: 1})
    assert not equal(wrong.xreplace(point), sp.diff(cost, s.w[1, 0, 0]).xreplace(point))


def test_expand_sums_writes_out_a_directly_nested_double_sum():
    double = sp.Sum(sp.Sum(X[K] * X[I], (K, 0, 1)), (I, 0, 1))
    assert len(double.limits) == 2  # how SymPy stores it
    assert expand_sums(double) == sp.expand((X[0] + X[1]) ** 2)


# at_point: comparisons of numbers decided by us -----------------------------------------------------
TINY = sp.log(1 / (1 + sp.exp(-sp.exp(R(23, 7)))))  # -2.47e-12: SymPy's few digits call it >= 0
NEAR = -sp.exp(R(53, 7)) + sp.log(1 + sp.exp(sp.exp(R(53, 7))))  # +4.3e-844: SymPy cannot sign it
U = sp.Symbol("u")


def test_at_point_decides_a_condition_on_a_tiny_negative_number_by_its_sign():
    cases = sp.Piecewise((1, U >= 0), (-1, True))
    assert at_point(cases, {U: TINY}) == -1
    assert at_point(sp.Abs(U), {U: TINY}) == -TINY
    assert at_point(sp.sign(U), {U: TINY}) == -1
    assert at_point(sp.Max(U, 0), {U: TINY}) == 0 and at_point(sp.Min(U, 0), {U: TINY}) == TINY


def test_at_point_decides_steps_and_cases_sympy_leaves_open():
    assert at_point(sp.Heaviside(U), {U: NEAR}) == 1
    assert at_point(sp.Heaviside(-U), {U: NEAR}) == 0
    open_case = sp.Piecewise((2, U > 0), (3, True))
    assert at_point(open_case, {U: NEAR}) == 2
    assert equal(settle(sp.Heaviside(NEAR) * 3), 3)  # what SymPy built unevaluated, settle decides


def test_at_point_follows_only_the_branch_an_if_then_else_condition_takes():
    # SymPy's derivative of max(sqrt(max(A, B)), z^2) compares with sqrt(B), B < 0, in a branch not taken
    condition = sp.ITE(U > 5, U >= sp.sqrt(-1 - U**2), U >= 1)
    assert at_point(sp.Piecewise((1, condition), (0, True)), {U: R(2)}) == 1


def test_at_point_writes_out_functions_at_their_numbers():
    g = sp.Function("g")
    functions = {g: sp.Lambda(Z, sp.Piecewise((Z, Z >= 0), (0, True)))}
    assert at_point(g(U) + 1, {U: TINY}, functions) == 1  # g's own condition decided by sign too
    assert at_point(g(U), {}, functions) == sp.Piecewise(
        (U, U >= 0), (0, True)
    )  # no number: written out


def test_values_no_digits_decide_are_one_line_refusals_and_infinite_ones_say_so():
    with pytest.raises(Unsettled, match="cannot be compared"):
        at_point(sp.Max(U, 1), {U: sp.sqrt(-2)})
    with pytest.raises(Singular, match="infinite"):
        at_point(sp.Heaviside(1 / U), {U: 0})
    with pytest.raises(Unsettled):
        equal(sp.nan, sp.Integer(1))


def test_a_point_where_a_value_is_infinite_is_not_used_and_too_few_points_is_a_refusal():
    draws = iter([None, 1, 2, 3])

    def draw():
        value = next(draws)
        if value is None:
            raise Singular("infinite here")
        return value

    net = Network([1, 1, 1])
    assert covering(net, draw, lambda point: set(), at_least=3) == [1, 2, 3]
    with pytest.raises(Unsettled, match="every point tried"):
        covering(net, draw_nothing_usable, lambda point: None, at_least=1)


def draw_nothing_usable():
    return 0


def test_more_digits_only_inside_precision():
    from derive.evaluate import exact

    before = exact.DIGITS
    with precision(3 * before):
        assert exact.DIGITS == 3 * before
        assert len(str(settle(sp.pi))) > 3 * before - 5
    assert exact.DIGITS == before
