"""What the names in a LaTeX text stand for, for the syntax core (``derive.read.syntax.Resolver``).

``Context`` is a question's context: a network and what 'l' means. Its ``resolver()`` is the notation
resolver for that network: a_j^{(L)}, w_{jk}^{(2)} and C_0 in the notation's letters, g as the layer's
activation. ``definition_resolver`` reads a user's definition of an activation (in z alone) or a cost
(in a_j^{(L)} and y_j): the names resolve on a fixed layout of one input node and one output node, so
no network is built to read a definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import sympy as sp

from derive.model.activations import SIGMA, Z, Activation, activation_named, identity
from derive.notation.letters import PRESETS
from derive.notation.symbols import Symbols
from derive.read.syntax import Refusal, node_index, one

if TYPE_CHECKING:
    from derive.model.network import Network


@dataclass(frozen=True)
class Layout:
    """The shape names resolve against: the notation's symbols, the layer sizes, each weight layer's
    activation (layers 1..L), and whether layers are plain superscripts (w^2 for layer 2)."""

    symbols: Symbols
    sizes: tuple[int, ...]
    activations: tuple[Activation, ...]
    plain_layers: bool = False

    @classmethod
    def of(cls, net: "Network") -> "Layout":
        """The layout of a network."""
        return cls(
            net.symbols,
            tuple(net.sizes),
            tuple(net.activations),
            net.notation.superscript == "plain",
        )

    @property
    def L(self) -> int:
        """The number of the output layer."""
        return len(self.sizes) - 1

    def size(self, layer: int) -> int:
        return self.sizes[layer]

    def activation(self, layer: int) -> Activation:
        """The activation of layer 1..L."""
        return self.activations[layer - 1]

    @property
    def distinct_activations(self) -> tuple[Activation, ...]:
        return tuple(dict.fromkeys(self.activations))


@lru_cache(maxsize=None)
def definition_layout() -> Layout:
    """What a definition's names refer to: the default letters, one input node and one output node
    (a_j^{(L)} is a_j^{(1)}, a sum over j has one term), the identity as g."""
    return Layout(PRESETS["default"].symbols, (1, 1), (identity(),))


@dataclass(frozen=True)
class NotationResolver:
    """The names of a text on ``layout`` (a ``derive.read.syntax.Resolver``).

    ``layer_meant``: the layer 'l' stands for (None: 'l' is refused); ``variable``: what a bare z is
    (an activation's own variable; None: z needs a node and a layer); ``bare_a``: what a bare a is."""

    layout: Layout
    layer_meant: int | None = None
    variable: sp.Symbol | None = None
    bare_a: sp.Expr | None = None
    what: str = "answer"
    own_indices: tuple[tuple[str, str], ...] = ()

    @property
    def plain_layers(self) -> bool:
        return self.layout.plain_layers

    @property
    def last_layer(self) -> int:
        return self.layout.L

    def layer(self, letter: str) -> int:
        """L: the output layer; l: the question's layer."""
        if letter == "L":
            return self.layout.L
        if self.layer_meant is None:
            raise Refusal("'l' is not fixed by this question; write the layer number")
        return self.layer_meant

    def layer_size(self, layer: int) -> int:
        return self.layout.size(layer)

    def cost(self) -> sp.Expr:
        return self.layout.symbols.cost

    def quantity(self, base: str, sub: list[str] | None, layer: int | None, where: str) -> sp.Expr:
        """x_k, y_j, a_j^{(l)} (x_j at layer 0), w_{jk}^{(l)}, b, z and delta_j^{(l)} in the notation's letters."""
        s = self.layout.symbols
        if self.variable is not None and self.bare_a is not None:
            raise Refusal(f"'{where}': this question is about g(z) alone; write it in z (and g(z))")
        if base in "xy":
            return _unlayered(s.x if base == "x" else s.y, base, sub, layer, where)
        if sub is None or layer is None:
            example = (
                "w_{jk}^{(L)}" if base == "w" else ("\\delta" if base == "d" else base) + "_j^{(L)}"
            )
            raise Refusal(f"'{where}' needs a node index and a layer, e.g. {example}")
        if base == "w":
            if len(sub) != 2:
                raise Refusal(f"'{where}': a weight needs 2 node indices, w_{{jk}}")
            if layer == 0:
                raise Refusal(f"'{where}': weights start at layer 1")
            return s.w[layer, node_index(sub[0]), node_index(sub[1])]
        if len(sub) != 1:
            raise Refusal(f"'{where}' needs one node index")
        node = node_index(sub[0])
        if base == "a":
            return s.x[node] if layer == 0 else s.a[layer, node]
        if layer == 0:
            raise Refusal(f"'{where}': the input layer has no {'error' if base == 'd' else base}")
        return {"b": s.b, "z": s.z, "d": s.delta}[base][layer, node]

    def function(self, name: str, layer: int | None, primes: int, argument: sp.Expr) -> sp.Expr:
        """sigma, or an activation by name (g: the layer's), or its derivative, applied to ``argument``."""
        from derive.evaluate.exact import prime_function

        fn = SIGMA if name == "sigma" else self._activation(name, layer, argument).function
        return (prime_function(fn) if primes else fn)(argument)

    def _activation(self, name: str, layer: int | None, argument: sp.Expr) -> Activation:
        """g of the layer written on it or of its argument z^{(l)} (or the one activation); a name: the
        network's activation of that name, else the named one."""
        layout = self.layout
        if (
            layer is None
            and isinstance(argument, sp.Indexed)
            and argument.base == layout.symbols.z
            and argument.indices[0].is_Integer
        ):
            layer = int(argument.indices[0])
        if name == "g":
            if layer is not None and 1 <= layer <= layout.L:
                return layout.activation(layer)
            if len(layout.distinct_activations) == 1:
                return layout.activations[0]
            raise Refusal(
                "g is ambiguous here (the layers use different activations); write g^{(l)}"
            )
        for act in layout.activations:
            if act.name.split("(")[0] == name:
                return act
        return activation_named(name)

    def vector_function(self, name: str, node: str, layer: int | None) -> sp.Expr:
        """softmax(z^{(l)})_j: a_j^{(l)} where layer l's activation is softmax (l unwritten: the output
        layer); refused in a question about g(z) alone, and on a layer whose activation it is not."""
        layout = self.layout
        if self.variable is not None:
            raise Refusal(
                f"{name} is a function of a whole layer's z, not of one z: "
                f"it has no place in {one(self.what)} about g(z)"
            )
        at = layout.L if layer is None else layer
        if at == 0:
            raise Refusal(
                f"the input layer has no activation; {name} belongs to a layer 1..{layout.L}"
            )
        used = layout.activation(at).name
        if used != name:
            raise Refusal(
                f"{name} is not the activation of layer {at} here (it uses {used}); "
                f"write the layer's output a_j^{{({at})}}"
            )
        return layout.symbols.a[at, node_index(node)]

    def index_range(self, body: sp.Expr, index: sp.Symbol) -> int | None:
        """How many nodes the layer has that ``index`` indexes in ``body``: the largest where it is used in
        layers of different sizes (the smaller one then reports the index out of its range, never narrows it)."""
        layout, s = self.layout, self.layout.symbols
        sizes = set()
        for atom in body.atoms(sp.Indexed):
            if atom.base in s.layered and atom.indices[0].is_Integer:
                layer = int(atom.indices[0])
                layer_sizes = [layout.size(layer)] + (
                    [layout.size(layer - 1)] if atom.base == s.w else []
                )
                positions = atom.indices[1:]
            elif atom.base == s.x:
                layer_sizes, positions = [layout.size(0)], atom.indices
            elif atom.base == s.y:
                layer_sizes, positions = [layout.size(layout.L)], atom.indices
            else:
                continue
            sizes |= {size for pos, size in zip(positions, layer_sizes) if pos == index}
        return max(sizes) if sizes else None


def _unlayered(
    base: sp.IndexedBase, letter: str, sub: list[str] | None, layer: int | None, where: str
) -> sp.Expr:
    """x_k or y_j: one node index and no layer (x may be written a layer 0)."""
    if layer is not None and not (letter == "x" and layer == 0):
        raise Refusal(f"'{where}': {letter} has no layer")
    if sub is None or len(sub) != 1:
        raise Refusal(f"'{where}' needs one node index, e.g. {letter}_k")
    return base[node_index(sub[0])]


def definition_resolver(variable_z: bool) -> NotationResolver:
    """The names of a user's definition: an activation's in z (``variable_z``), a cost's in a_j^{(L)} and y_j."""
    return NotationResolver(
        definition_layout(), variable=Z if variable_z else None, what="definition"
    )


@dataclass(frozen=True)
class Context:
    """What the names in an answer refer to: the network, and the layer 'l' means (if any).

    ``variable_z``: a bare z is the activation's own variable (activation questions and
    definitions); ``bare_a``: what a bare a stands for there (g(z) in an activation question).
    """

    net: "Network"
    layer: int | None = None
    variable_z: bool = False
    bare_a: sp.Expr | None = None
    what: str = (
        "answer"  # what the text is, for messages: "answer", or "definition" when reading one
    )
    # the question's free node indices, each with the quantity it belongs to ((("j", "w_jk"), ("k", "w_jk")):
    # a sum over one of them is refused whatever its range (on one output node, sum_j has one term)
    own_indices: tuple[tuple[str, str], ...] = ()

    @property
    def one(self) -> str:
        """``what`` with its article: "an answer", "a definition"."""
        return one(self.what)

    def resolver(self) -> NotationResolver:
        """The notation resolver for this context's network."""
        return NotationResolver(
            Layout.of(self.net),
            self.layer,
            Z if self.variable_z else None,
            self.bare_a,
            self.what,
            self.own_indices,
        )
