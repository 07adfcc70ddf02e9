"""The computational graph checked against the engine: forward values, local gradients by sympy.diff,
the backward pass, and every parameter's gradient against the worked example."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.evaluate.exact import (
    at_point,
    equal,
    function_values,
    real_diff,
    settle,
    with_activations,
)
from derive.numeric.graph import ComputationalGraph, Op
from derive.numeric.worked import worked_example

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.values import Values


def check_graph(graph: ComputationalGraph, net: "Network", values: "Values") -> list[str]:
    """Every disagreement found, one line each (an empty list: the graph is right).

    - each node's value is its expression at its inputs' values, and the loss is the worked example's cost;
    - each edge's local gradient is sympy.diff of the node's expression (activations written out) at the point;
    - each edge's product is upstream x local, each node's upstream the sum over its consumers' edges, 1 at the loss;
    - each parameter's upstream gradient is the worked example's gradient of that parameter.
    """
    failures: list[str] = []
    functions = function_values(net)
    point = {n.symbol: n.value for n in graph.nodes}
    nodes = {n.id: n for n in graph.nodes}

    def at(expr: sp.Expr) -> sp.Expr:
        return settle(at_point(expr, point, functions).doit())

    for node in graph.nodes:
        if node.op.leaf:
            continue
        if not equal(at(node.expression), node.value):
            failures.append(
                f"{node.id} ({node.symbol}): value {node.value}, but {node.expression} gives "
                f"{at(node.expression)}"
            )
        explicit = with_activations(node.expression, net)
        for edge in node.edges:
            variable = nodes[edge.source].symbol
            expected = at(
                real_diff(explicit, variable)
            )  # real quantities: |z| differentiates to sign(z)
            if not equal(expected, edge.local):
                failures.append(
                    f"{node.id} ({node.symbol}): local gradient by {variable} is {edge.local}, "
                    f"sympy.diff gives {expected}"
                )
            if not equal(edge.product, node.upstream * edge.local):
                failures.append(
                    f"{node.id} ({node.symbol}): backward product from {variable} is {edge.product}, "
                    f"not upstream x local = {node.upstream * edge.local}"
                )
    for node in graph.nodes:
        expected = (
            sp.Integer(1)
            if node.id == graph.loss
            else sp.Add(
                *(consumer.edge_from(node.id).product for consumer in graph.consumers(node.id))
            )
        )
        if not equal(node.upstream, expected):
            failures.append(
                f"{node.id} ({node.symbol}): upstream gradient {node.upstream}, the edges give {expected}"
            )
    example = worked_example(net, values, differences=False)
    if not equal(nodes[graph.loss].value, example.cost):
        failures.append(
            f"loss: the graph gives {nodes[graph.loss].value}, the worked example {example.cost}"
        )
    s = net.symbols
    for grad in example.gradients:
        symbol = s.w[grad.layer, grad.j, grad.k] if grad.k is not None else s.b[grad.layer, grad.j]
        leaf = next((n for n in graph.nodes if n.symbol == symbol and n.op is Op.PARAMETER), None)
        if leaf is None:
            failures.append(f"no node for the parameter {symbol}")
        elif not equal(leaf.upstream, grad.gradient):
            failures.append(
                f"{symbol}: the graph gives {leaf.upstream}, the worked example {grad.gradient}"
            )
    return failures
