"""The network model: sizes, activations per layer, cost, and the forward equations.

Quantities are SymPy Indexed objects in the notation's letters. The forward
equations here are the single source of truth: the derivation states them and
the checks expand them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Sequence

import sympy as sp

from derive.notation.sums import IndexSum

from derive.model.activations import Activation, activation_named
from derive.model.costs import Cost, check_output_domain, cost_named
from derive.errors import DeriveError
from derive.notation.letters import Notation, notation_named
from derive.notation.symbols import Symbols
from derive.model.values import parse_l2, parse_layer_sizes, per_layer
from derive.model.steps import product


class Network:
    """A fully connected network: ``Network([2, 3, 1], activation="sigmoid", cost="quadratic")``.

    ``activation`` is one name for every layer or one per weight layer (layers 1..L).
    """

    def __init__(
        self,
        layers: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] | None = None,
        cost: str | Cost | None = None,
        bias: bool = False,
        notation: str | Notation = "default",
        l2: object = None,
    ) -> None:
        self.notation = notation_named(notation)
        self.sizes = parse_layer_sizes(layers)
        chosen = activation if activation is not None else self.notation.default_activation
        self.activations: tuple[Activation, ...] = tuple(
            activation_named(a) for a in per_layer(chosen, self.L, "activation")
        )
        self._check_function_names()
        for layer, act in enumerate(self.activations[:-1], start=1):
            if act.vector:
                raise DeriveError(
                    f"{act.name} is an output activation: layer {layer} is hidden; use it for the "
                    f"last layer only (e.g. activation=['tanh', '{act.name}'])"
                )
        self.notation = self.notation.for_network(
            self.L, tuple(a.function.__name__ for a in self.activations)
        )
        self.cost: Cost = cost_named(cost if cost is not None else self.notation.default_cost)
        check_output_domain(self.cost, self.activation(self.L))
        self.bias = bool(bias)
        self.l2 = parse_l2(
            l2
        )  # lambda of C = (1/n) sum_x C_x + (lambda/2n) sum w^2; None: not regularised

    def _check_function_names(self) -> None:
        by_function: dict[sp.FunctionClass, Activation] = {}
        for act in self.activations:
            for fn, definition in act.definitions.items():
                other = by_function.setdefault(fn, act)
                if other.definitions[fn] != definition:
                    raise DeriveError(
                        f"two different activations are both called {fn}; give each definition "
                        "its own letter, e.g. g(z) = ... and h(z) = ..."
                    )

    @property
    def L(self) -> int:
        """Index of the output layer (the number of weight layers)."""
        return len(self.sizes) - 1

    @property
    def symbols(self) -> Symbols:
        return self.notation.symbols

    def size(self, layer: int) -> int:
        return self.sizes[layer]

    def activation(self, layer: int) -> Activation:
        """The activation g^{(layer)} of layer 1..L."""
        return self.activations[layer - 1]

    @property
    def distinct_activations(self) -> tuple[Activation, ...]:
        return tuple(dict.fromkeys(self.activations))

    def describe(self) -> str:
        acts = (
            self.activations[0].name
            if len(set(self.activations)) == 1
            else "/".join(a.name for a in self.activations)
        )
        biases = "with" if self.bias else "no"
        l2 = f", L2 {self.l2}" if self.l2 is not None else ""
        return f"[{', '.join(map(str, self.sizes))}] {acts}, {self.cost.name} cost, {biases} biases{l2}"

    def __repr__(self) -> str:
        l2 = f", l2={str(self.l2)!r}" if self.l2 is not None else ""
        return (
            f"Network({list(self.sizes)}, activation={[a.name for a in self.activations]!r}, "
            f"cost={self.cost.name!r}, bias={self.bias}{l2})"
        )

    # Forward equations in index form -------------------------------------------------
    def previous_activation(self, layer: int, node: sp.Expr) -> sp.Expr:
        """a_node^{(layer-1)}, written x_node for the input layer."""
        s = self.symbols
        return s.x[node] if layer == 1 else s.a[layer - 1, node]

    def z_definition(self, layer: int, node: sp.Expr) -> sp.Expr:
        """z_node^{(l)} = sum_k' w_{node k'}^{(l)} a_k'^{(l-1)} (+ b_node^{(l)})."""
        s = self.symbols
        total = IndexSum(
            product(s.w[layer, node, s.k_sum], self.previous_activation(layer, s.k_sum)),
            (s.k_sum, 0, self.size(layer - 1) - 1),
        )
        return total + s.b[layer, node] if self.bias else total

    def a_definition(self, layer: int, node: sp.Expr) -> sp.Expr:
        """a_node^{(l)} = g^{(l)}(z_node^{(l)}); a_node^{(0)} = x_node; softmax: e^{z_node} / sum_j' e^{z_j'}."""
        s = self.symbols
        if layer == 0:
            return s.x[node]
        if self.activation(layer).vector:
            return sp.exp(s.z[layer, node]) / IndexSum(
                sp.exp(s.z[layer, s.j_sum]), (s.j_sum, 0, self.size(layer) - 1)
            )
        return self.activation(layer)(s.z[layer, node])

    def cost_definition(self) -> sp.Expr:
        """C_0 = sum_j' term(a_j'^{(L)}, y_j')."""
        s = self.symbols
        return IndexSum(
            self.cost.term_at(s.a[self.L, s.j_sum], s.y[s.j_sum]),
            (s.j_sum, 0, self.size(self.L) - 1),
        )

    def definition_of(self, quantity: sp.Expr) -> sp.Expr | None:
        """The forward equation defining a quantity (a, z or C_0), or None for inputs and parameters."""
        s = self.symbols
        if quantity == s.cost:
            return self.cost_definition()
        if isinstance(quantity, sp.Indexed):
            if quantity.base == s.a:
                return self.a_definition(int(quantity.indices[0]), quantity.indices[1])
            if quantity.base == s.z:
                return self.z_definition(int(quantity.indices[0]), quantity.indices[1])
        return None

    def level(self, quantity: sp.Expr) -> int | None:
        """Position in the forward order: a^{(l-1)}, w^{(l)}, b^{(l)} < z^{(l)} < a^{(l)} < ... < C_0."""
        s = self.symbols
        if quantity == s.cost:
            return 2 * self.L + 1
        if isinstance(quantity, sp.Indexed) and quantity.base == s.x:
            return 0
        if isinstance(quantity, sp.Indexed) and quantity.indices[0].is_Integer:
            layer = int(quantity.indices[0])
            return {
                s.a: 2 * layer,
                s.z: 2 * layer - 1,
                s.w: 2 * layer - 2,
                s.b: 2 * layer - 2,
                s.delta: 2 * layer - 1,
            }.get(quantity.base)
        return None

    @cached_property
    def _derivation(self):
        from derive.engine.derivation import derive  # seam: the engine, on request

        return derive(self)

    def derivation(self):
        """The step-by-step derivation of dC_0/dw (and dC_0/db) for every layer."""
        return self._derivation

    @cached_property
    def _numeric(self):
        from derive.numeric.codegen import compile_numeric  # seam: numeric code, on request

        return compile_numeric(self)

    def show(self, obj: object):
        """``obj`` (``d.gradient(2)``, a step, a block, ...) displayed in Jupyter in this network's notation."""
        from derive.render.display import show  # seam: display hook

        return show(obj, self.notation)

    def numeric(self):
        """Generated NumPy functions: ``cost(weights, biases, X, Y)`` and ``gradient(...)``."""
        return self._numeric
