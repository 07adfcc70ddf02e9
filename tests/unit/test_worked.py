"""Unit tests for derive/numeric/worked.py: the worked example of a 2-2-1 network with given numbers. The
forward and backward numbers are checked against the definitions (z = Σ w a + b, a = g(z), the delta
recursion, dC/dw = δ a), each gradient against the central difference it reports, and, for an identity
network, everything against rational arithmetic done by hand."""

import pytest
import sympy as sp

from derive import Network
from derive.evaluate.exact import equal
from derive.model.values import Values
from derive.numeric.worked import FD_STEP, point_from_values, worked_example

R = sp.Rational
X = (R(1, 2), R(-1, 4))
Y = (R(3, 5),)
W = (((R(1, 10), R(-2, 5)), (R(3, 4), R(1, 5))), ((R(-1, 2), R(6, 5)),))
B = ((R(1, 5), R(-1, 10)), (R(1, 20),))


def values(bias: bool) -> Values:
    return Values(x=X, y=Y, weights=W, biases=B if bias else None)


def logistic(t):
    return 1 / (1 + sp.exp(-t))


@pytest.fixture(scope="module")
def sigmoid_example():
    net = Network([2, 2, 1], activation="sigmoid", bias=True)
    return net, worked_example(net, values(True))


def test_point_from_values_maps_every_number_to_its_symbol():
    net = Network([2, 2, 1], bias=True)
    s = net.symbols
    point = point_from_values(net, values(True))
    assert point[s.x[1]] == R(-1, 4) and point[s.y[0]] == R(3, 5)
    assert point[s.w[1, 1, 0]] == R(3, 4)  # weights[0][1][0] is w_10^(1): into node 1 from node 0
    assert (
        point[s.w[2, 0, 1]] == R(6, 5)
        and point[s.b[1, 1]] == R(-1, 10)
        and point[s.b[2, 0]] == R(1, 20)
    )
    assert len(point) == 2 + 1 + 6 + 3
    assert not any(q.base == s.b for q in point_from_values(net, values(False)))


def test_forward_numbers_follow_the_definitions(sigmoid_example):
    net, example = sigmoid_example
    assert [(n.layer, n.j) for n in example.nodes] == [(1, 0), (1, 1), (2, 0)]
    hidden = example.layer_nodes(1)
    # z_0^(1) = (1/10)(1/2) + (-2/5)(-1/4) + 1/5 = 1/20 + 1/10 + 1/5 = 7/20, exactly
    assert hidden[0].z == R(7, 20)
    assert hidden[1].z == R(3, 4) * R(1, 2) + R(1, 5) * R(-1, 4) + R(-1, 10) == R(9, 40)
    for node in hidden:
        assert equal(node.a, logistic(node.z))
    (out,) = example.layer_nodes(2)
    assert equal(out.z, W[1][0][0] * hidden[0].a + W[1][0][1] * hidden[1].a + B[1][0])
    assert equal(out.a, logistic(out.z))
    assert equal(example.cost, (out.a - Y[0]) ** 2)
    assert example.x == X and example.y == Y and example.fd_step == FD_STEP


def test_backward_numbers_follow_the_delta_recursion(sigmoid_example):
    net, example = sigmoid_example
    (out,) = example.layer_nodes(2)
    for node in example.nodes:
        assert equal(node.gprime, node.a * (1 - node.a))  # sigma' = a (1 - a)
        assert equal(node.delta, node.dC_da * node.gprime)  # delta = dC/da g'(z)
    assert equal(out.dC_da, 2 * (out.a - Y[0]))  # quadratic cost
    for j, node in enumerate(example.layer_nodes(1)):
        assert equal(
            node.dC_da, W[1][0][j] * out.delta
        )  # sum over the one output node i of w_ij delta_i
        assert equal(node.delta, W[1][0][j] * out.delta * node.a * (1 - node.a))


def test_every_gradient_is_the_error_times_the_incoming_activation(sigmoid_example):
    net, example = sigmoid_example
    nodes = {(n.layer, n.j): n for n in example.nodes}
    incoming = {1: X, 2: tuple(n.a for n in example.layer_nodes(1))}
    assert sorted((g.layer, g.j, -1 if g.k is None else g.k) for g in example.gradients) == [
        (1, 0, -1),
        (1, 0, 0),
        (1, 0, 1),
        (1, 1, -1),
        (1, 1, 0),
        (1, 1, 1),
        (2, 0, -1),
        (2, 0, 0),
        (2, 0, 1),
    ]
    for g in example.gradients:
        delta = nodes[g.layer, g.j].delta
        if g.k is None:
            assert g.value == B[g.layer - 1][g.j] and equal(g.gradient, delta)
        else:
            assert g.value == W[g.layer - 1][g.j][g.k]
            assert equal(g.gradient, delta * incoming[g.layer][g.k])


def test_every_gradient_equals_the_central_difference_it_reports(sigmoid_example):
    """With h = 1e-6 the central difference is off by about h^2 C'''/6 (~1e-13 here), far below 1e-10."""
    net, example = sigmoid_example
    for g in example.gradients:
        assert g.finite_difference is not None
        assert abs(g.gradient - g.finite_difference) < 1e-10, (g.layer, g.j, g.k)
        assert abs(g.gradient) > 1e-6  # not vacuous: every gradient here is clearly nonzero
    diffs = [abs(g.gradient - g.finite_difference) for g in example.gradients]
    assert example.max_fd_difference == max(diffs)


def test_the_central_difference_is_independent_of_the_formula(sigmoid_example):
    """The reported difference is (C(p + h) - C(p - h)) / 2h of the cost written out here by hand."""
    net, example = sigmoid_example
    g = next(g for g in example.gradients if (g.layer, g.j, g.k) == (1, 1, 0))

    def cost(w10):
        a1 = [
            logistic(W[0][0][0] * X[0] + W[0][0][1] * X[1] + B[0][0]),
            logistic(w10 * X[0] + W[0][1][1] * X[1] + B[0][1]),
        ]
        return (logistic(W[1][0][0] * a1[0] + W[1][0][1] * a1[1] + B[1][0]) - Y[0]) ** 2

    h = FD_STEP
    by_hand = ((cost(W[0][1][0] + h) - cost(W[0][1][0] - h)) / (2 * h)).evalf(40)
    assert abs(g.finite_difference - by_hand) < 1e-25


def test_identity_network_by_hand_arithmetic():
    """No biases, identity activation: everything is rational. By hand:
    z^(1) = (1/20 + 1/10, 3/8 - 1/20) = (3/20, 13/40); z^(2) = (-1/2)(3/20) + (6/5)(13/40) = -3/40 + 39/100
    = 63/200; e = a^(2) - y = 63/200 - 120/200 = -57/200; C = e^2; delta^(2) = 2e = -57/100."""
    net = Network([2, 2, 1], activation="identity")
    example = worked_example(net, values(False))
    hidden, (out,) = example.layer_nodes(1), example.layer_nodes(2)
    assert [n.z for n in hidden] == [R(3, 20), R(13, 40)] and [n.a for n in hidden] == [
        R(3, 20),
        R(13, 40),
    ]
    assert out.z == out.a == R(63, 200)
    assert example.cost == R(57, 200) ** 2
    assert out.dC_da == out.delta == R(-57, 100) and out.gprime == 1
    assert [n.delta for n in hidden] == [R(-1, 2) * R(-57, 100), R(6, 5) * R(-57, 100)]
    expected = {
        (2, 0, 0): R(-57, 100) * R(3, 20),
        (2, 0, 1): R(-57, 100) * R(13, 40),
        (1, 0, 0): R(57, 200) * R(1, 2),
        (1, 0, 1): R(57, 200) * R(-1, 4),
        (1, 1, 0): R(-171, 250) * R(1, 2),
        (1, 1, 1): R(-171, 250) * R(-1, 4),
    }
    assert {(g.layer, g.j, g.k): g.gradient for g in example.gradients} == expected
    # The cost is quadratic in each single weight, so the central difference is exact up to its 30 digits.
    for g in example.gradients:
        assert abs(g.finite_difference - g.gradient) < 1e-25


def test_without_differences_no_finite_difference_is_reported():
    net = Network([2, 2, 1], activation="identity")
    example = worked_example(net, values(False), differences=False)
    assert all(g.finite_difference is None for g in example.gradients)
    assert example.max_fd_difference is None
    assert len(example.gradients) == 6 and all(g.gradient != 0 for g in example.gradients)
