"""derive grad: the cost and every gradient at a spec's numbers (exact formulas when it has symbols)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, Callable

from derive.cli import inputs, options
from derive.cli.output import print_json

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.values import Values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.numbers_spec(parser)
    options.learning_rate(
        parser,
        'also print the weights after one step of gradient descent ("updated_weights", '
        '"updated_biases" with --json)',
    )
    options.output(
        parser, 'print {"cost": ..., "weights": [...], "biases": [...]}', "(nothing to silence)"
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    spec = inputs.numbers_spec(args)
    net = spec.network()
    values = (
        inputs.with_learning_rate(spec.values, args.learning_rate)
        if spec.values is not None
        else None
    )
    if values is not None and values.symbols:
        return _symbolic(args, net, values)
    weights, biases, X, Y = spec.arrays()
    numeric = net.numeric()
    with np.errstate(all="ignore"):
        grad_w, grad_b = numeric.gradient(weights, biases, X, Y)
        cost = float(numeric.cost(weights, biases, X, Y))
    result: dict[str, Any] = {
        "cost": cost,
        "weights": [g.tolist() for g in grad_w],
        "biases": [g.tolist() for g in grad_b] if grad_b is not None else None,
    }
    inputs.check_finite([cost], "cost")
    inputs.check_finite(result["weights"] + (result["biases"] or []), "gradient")
    eta = (
        float(values.learning_rate)
        if values is not None and values.learning_rate is not None
        else None
    )
    if eta is not None:  # one step of gradient descent: w - eta dC/dw, shaped like the weights
        result["learning_rate"] = eta
        result["updated_weights"] = [(w - eta * g).tolist() for w, g in zip(weights, grad_w)]
        result["updated_biases"] = (
            [(b - eta * g).tolist() for b, g in zip(biases, grad_b)]
            if grad_b is not None and biases is not None
            else None
        )
    if args.json:
        print_json(result)
        return 0
    _print_result(
        result,
        f"{cost:.12g}",
        f"{eta:g}" if eta is not None else "",
        matrix=lambda g: f"\n{np.array(g)}",
        vector=lambda g: f" {np.array(g)}",
    )
    return 0


def _symbolic(args: argparse.Namespace, net: "Network", values: "Values") -> int:
    """`derive grad` with symbols among the values: exact formulas (SymPy syntax strings, "9*w/2 - 3/2")."""
    from derive.numeric.worked import symbolic_gradients

    result = symbolic_gradients(net, values, differences=False)
    if args.json:
        print_json(result)
        return 0

    def shown(nested: object) -> str:  # [[9*w/2 - 3/2]]
        return " " + json.dumps(nested).replace('"', "")

    _print_result(
        result, result["cost"], result.get("learning_rate", ""), matrix=shown, vector=shown
    )
    return 0


def _print_result(
    result: dict, cost: str, rate: str, matrix: Callable[[list], str], vector: Callable[[list], str]
) -> None:
    """The cost, each layer's gradients and, after a step of gradient descent, the new parameters."""
    print(f"cost {cost}")
    rows = [("weights", "dC/dw", matrix), ("biases", "dC/db", vector)]
    if "updated_weights" in result:
        rows += [("updated_weights", "w", matrix), ("updated_biases", "b", vector)]
    for key, name, shown in rows:
        if key == "updated_weights":
            print(f"after one step of gradient descent, learning rate {rate}:")
        for layer, value in enumerate(result[key] or [], start=1):
            print(f"{name}^({layer}) ={shown(value)}")
