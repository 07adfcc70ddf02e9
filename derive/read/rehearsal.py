"""A user's definition, tried once on a small network before derive uses it.

A definition such as ``g(z) = (1+z^2)^{1000}`` parses in milliseconds, but simplifying its
derivative against a cost, or evaluating it exactly, can take minutes or gigabytes. The reader
therefore runs, in the same time- and memory-limited child that parses the definition, what every
command later does with it: the derivation of a network of three weight layers with biases (the
steps are in index form, so a wider network repeats the same algebra), every written-out
gradient, each step printed as LaTeX and as text, the generated NumPy code and one gradient from
it, and the check of every printed step against SymPy. A definition that passes has shown that
derive's work on it finishes within the caps; one that does not is refused with the limit it hit.
"""

from __future__ import annotations

import numpy as np

from derive.checks.steps import check_printed
from derive.engine.derivation import Form
from derive.model.activations import Activation
from derive.model.costs import Cost
from derive.model.network import Network
from derive.notation.printing import latex, text

SIZES = (
    1,
    1,
    1,
    1,
)  # three weight layers: every written-out form (WRITTEN_OUT layers above the output) occurs


def rehearse_activation(activation: Activation) -> None:
    """Everything derive does with a user's activation, on a small network with it in every layer."""
    rehearse(Network(list(SIZES), activation=activation, bias=True))


def rehearse_cost(cost: Cost) -> None:
    """Everything derive does with a user's cost, on a small sigmoid network."""
    rehearse(Network(list(SIZES), activation="sigmoid", cost=cost, bias=True))


def rehearse(net: Network) -> None:
    """Derive, write out, print, compile and check ``net``: the work the commands do with it."""
    derivation = net.derivation()
    for layer in range(1, net.L + 1):
        for form in Form:
            derivation.gradient(layer, form)
            derivation.bias_gradient(layer, form)
    for block in derivation.blocks:
        for step in block.steps:
            for side in (step.lhs, step.rhs):
                latex(side, net.notation)
                text(side, net.notation)
    _numeric_gradient(net)
    check_printed(net)


def _numeric_gradient(net: Network) -> None:
    """The generated code compiled and run once on a sample."""
    rng = np.random.default_rng(0)
    weights = [
        rng.normal(size=(net.size(layer), net.size(layer - 1))) for layer in range(1, net.L + 1)
    ]
    biases = [rng.normal(size=net.size(layer)) for layer in range(1, net.L + 1)]
    X = rng.normal(size=(2, net.size(0)))
    Y = rng.uniform(0.1, 0.9, size=(2, net.size(net.L)))
    with np.errstate(all="ignore"):  # overflow to inf is the training's business, not the reader's
        net.numeric().gradient(weights, biases, X, Y)
