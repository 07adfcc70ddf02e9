"""A worked numeric example: the derivation's own formulas evaluated at the spec's numbers.

Forward pass, local derivatives, the backward pass through the delta recursion, every
gradient, and a central finite difference of the cost beside each one.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import sympy as sp

from derive.model.costs import check_targets

from derive.evaluate.exact import Model, expand_sums
from derive.model.steps import BlockKey, Result

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.values import Values

FD_STEP = sp.Rational(1, 10**6)
FD_LIMIT = 400  # parameters; beyond this the finite-difference column is left out


@dataclass(frozen=True)
class NodeValues:
    """One node's numbers: forward (z, a) and backward (g'(z), dC_0/da, delta)."""

    layer: int
    j: int
    z: sp.Expr
    a: sp.Expr
    gprime: sp.Expr | None  # None for softmax, whose error sums over its whole Jacobian
    dC_da: sp.Expr
    delta: sp.Expr


@dataclass(frozen=True)
class ParameterGradient:
    """dC_0/dw_{jk}^{(l)} (k set) or dC_0/db_j^{(l)} (k None) with a finite-difference estimate."""

    layer: int
    j: int
    k: int | None
    value: sp.Expr
    gradient: sp.Expr
    finite_difference: sp.Expr | None
    change: sp.Expr | None = None  # -eta * step_gradient, with a learning rate
    updated: sp.Expr | None = None  # value + change
    step_gradient: sp.Expr | None = None  # the gradient the step follows: with L2, + lambda w for a weight (n = 1)


@dataclass(frozen=True)
class WorkedExample:
    x: tuple
    y: tuple
    cost: sp.Expr
    nodes: tuple[NodeValues, ...]
    gradients: tuple[ParameterGradient, ...]
    fd_step: sp.Expr
    learning_rate: sp.Expr | None = None

    def layer_nodes(self, layer: int) -> tuple[NodeValues, ...]:
        return tuple(n for n in self.nodes if n.layer == layer)

    @property
    def max_fd_difference(self) -> sp.Expr | None:
        diffs = [abs(g.gradient - g.finite_difference) for g in self.gradients if g.finite_difference is not None]
        return max(diffs) if diffs else None


def point_from_values(net: "Network", values: "Values") -> dict:
    s = net.symbols
    point = {s.x[k]: v for k, v in enumerate(values.x)}
    point.update({s.y[j]: v for j, v in enumerate(values.y)})
    for layer, matrix in enumerate(values.weights, start=1):
        for j, row in enumerate(matrix):
            point.update({s.w[layer, j, k]: v for k, v in enumerate(row)})
    if values.biases is not None:
        for layer, vector in enumerate(values.biases, start=1):
            point.update({s.b[layer, j]: v for j, v in enumerate(vector)})
    return point


def worked_example(net: "Network", values: "Values", differences: bool = True) -> WorkedExample:
    """Evaluate the derivation at concrete numbers, layer by layer backwards, as a student would;
    with ``differences``, each gradient beside a 120-digit central difference."""
    check_targets(net.cost, values.y)
    s, d = net.symbols, net.derivation()
    point = point_from_values(net, values)
    model = Model(net, point=point)
    deltas: dict = {}
    nodes: list[NodeValues] = []
    for layer in range(net.L, 0, -1):
        for j in range(net.size(layer)):
            at = {s.j: sp.Integer(j)}
            recursion = expand_sums(d.delta(layer).xreplace(at)).xreplace(deltas)
            delta = model.value(recursion)
            deltas[s.delta[layer, j]] = delta
            act = net.activation(layer)  # softmax has no g'(z_j): its error sums over the whole Jacobian
            gprime = None if act.vector else model.value(act.prime(s.z[layer, j]))
            dC_da = model.value(expand_sums(d.block(BlockKey.layer(layer)).result(Result.DC_DA).xreplace(at))
                                .xreplace(deltas))
            nodes.append(NodeValues(layer, j, model.values[s.z[layer, j]], model.values[s.a[layer, j]],
                                    gprime, dC_da, delta))
    nodes.sort(key=lambda n: (n.layer, n.j))
    count = sum(net.size(l) * (net.size(l - 1) + net.bias) for l in range(1, net.L + 1)) if differences \
        else FD_LIMIT + 1
    gradients = []
    for layer in range(1, net.L + 1):
        for j in range(net.size(layer)):
            for k in range(net.size(layer - 1)):
                at = {s.j: sp.Integer(j), s.k: sp.Integer(k)}
                grad = model.value(d.block(BlockKey.layer(layer)).result(Result.WEIGHT_FROM_DELTA)
                                   .xreplace(at).xreplace(deltas))
                gradients.append(ParameterGradient(layer, j, k, point[s.w[layer, j, k]], grad,
                                                   _central_difference(net, point, s.w[layer, j, k])
                                                   if count <= FD_LIMIT else None))
            if net.bias:
                grad = deltas[s.delta[layer, j]]
                gradients.append(ParameterGradient(layer, j, None, point[s.b[layer, j]], grad,
                                                   _central_difference(net, point, s.b[layer, j])
                                                   if count <= FD_LIMIT else None))
    eta = values.learning_rate
    if eta is not None:  # one step of gradient descent: every weight and bias moves by -eta times its gradient
        decay = net.l2 if net.l2 is not None else 0  # (lambda/n) w with n = 1: the example is one sample
        gradients = [replace(g, step_gradient=g.gradient + (decay * g.value if g.k is not None else 0))
                     for g in gradients]
        gradients = [replace(g, change=-eta * g.step_gradient) for g in gradients]
        gradients = [replace(g, updated=g.value + g.change) for g in gradients]
    return WorkedExample(values.x, values.y, model.values[s.cost], tuple(nodes), tuple(gradients), FD_STEP, eta)


def _central_difference(net: "Network", point: dict, parameter: sp.Indexed) -> sp.Expr:
    """(C(p + h) - C(p - h)) / 2h from the forward pass alone, at 120 digits."""
    def cost(shift: sp.Expr) -> sp.Expr:
        shifted = dict(point)
        shifted[parameter] = point[parameter] + shift
        return Model(net, point=shifted).values[net.symbols.cost]

    return sp.N((cost(FD_STEP) - cost(-FD_STEP)) / (2 * FD_STEP), 30)
