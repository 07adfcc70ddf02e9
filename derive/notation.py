"""One notation for code, text and LaTeX: letters, names and styles are data.

j indexes nodes of layer l, k nodes of layer l-1, and the downstream layers
use the letters in ``downstream`` (i for layer l+1 by default).
w_{jk}^{(l)} is the weight from node k of layer l-1 to node j of layer l.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

import sympy as sp

from .errors import DeriveError


@dataclass(frozen=True)
class Notation:
    """Letters and names used everywhere; a preset is a different instance."""

    layer: str = "l"
    node: str = "j"
    prev: str = "k"
    downstream: tuple[str, ...] = ("i", "p", "q", "r", "s", "t", "u", "v")
    weight: str = "w"
    bias: str = "b"
    preactivation: str = "z"
    activation_value: str = "a"
    input: str = "x"
    target: str = "y"
    delta: str = "delta"
    size: str = "n"
    cost: str = "C_0"
    activation: str = "g"
    superscript: str = "paren"  # "paren": w^{(l)}; "plain": w^{l}
    default_cost: str = "quadratic"
    default_activation: str = "sigmoid"

    def __post_init__(self) -> None:
        if self.superscript not in ("paren", "plain"):
            raise DeriveError(f"superscript style must be 'paren' or 'plain', got {self.superscript!r}")
        letters = [self.layer, self.node, self.prev, *self.downstream]
        if len(set(letters)) != len(letters):
            raise DeriveError("notation letters for layer and node indices must all differ")

    @cached_property
    def symbols(self) -> "Symbols":
        return Symbols(self)


PRESETS: dict[str, Notation] = {
    "default": Notation(),
    # Nielsen, "Neural Networks and Deep Learning": C = 1/2 sum (a - y)^2, sigma, w^l_{jk}.
    "nielsen": Notation(superscript="plain", default_cost="half-quadratic", activation="sigma"),
}


def notation_named(name: str | Notation) -> Notation:
    """The preset called ``name`` (or ``name`` itself when it already is a Notation)."""
    if isinstance(name, Notation):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        from .spec import closest_hint

        raise DeriveError(f"unknown notation {name!r}{closest_hint(name, PRESETS)}") from None


@dataclass(frozen=True)
class Symbols:
    """The SymPy objects of one notation: indexed quantities and index letters."""

    notation: Notation
    w: sp.IndexedBase = field(init=False)
    b: sp.IndexedBase = field(init=False)
    z: sp.IndexedBase = field(init=False)
    a: sp.IndexedBase = field(init=False)
    x: sp.IndexedBase = field(init=False)
    y: sp.IndexedBase = field(init=False)
    delta: sp.IndexedBase = field(init=False)
    n: sp.IndexedBase = field(init=False)
    cost: sp.Symbol = field(init=False)
    l: sp.Symbol = field(init=False)
    j: sp.Symbol = field(init=False)
    k: sp.Symbol = field(init=False)
    k_sum: sp.Symbol = field(init=False)
    j_sum: sp.Symbol = field(init=False)
    downstream: tuple[sp.Symbol, ...] = field(init=False)

    def __post_init__(self) -> None:
        nt = self.notation
        idx = lambda name: sp.Symbol(name, integer=True, nonnegative=True)  # noqa: E731
        values = dict(
            w=sp.IndexedBase(nt.weight), b=sp.IndexedBase(nt.bias), z=sp.IndexedBase(nt.preactivation),
            a=sp.IndexedBase(nt.activation_value), x=sp.IndexedBase(nt.input), y=sp.IndexedBase(nt.target),
            delta=sp.IndexedBase(nt.delta), n=sp.IndexedBase(nt.size), cost=sp.Symbol(nt.cost),
            l=sp.Symbol(nt.layer, integer=True, positive=True), j=idx(nt.node), k=idx(nt.prev),
            k_sum=idx(nt.prev + "'"), j_sum=idx(nt.node + "'"), downstream=tuple(idx(c) for c in nt.downstream),
        )
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def layered(self) -> frozenset[sp.IndexedBase]:
        """Bases whose first index is the layer (printed as a superscript)."""
        return frozenset({self.w, self.b, self.z, self.a, self.delta, self.n})

    def downstream_letter(self, offset: int) -> sp.Symbol:
        """Index letter for nodes of layer l + offset (offset >= 1)."""
        if offset <= len(self.downstream):
            return self.downstream[offset - 1]
        return sp.Symbol(f"{self.notation.downstream[0]}_{offset}", integer=True, nonnegative=True)


class MatrixKind(Enum):
    """The vectors and matrices of the matrix-form summary; a kind and a layer name each one."""

    DELTA = "delta"  # the errors delta^(l)
    GPRIME = "gprime"  # g'^(l)(z^(l))
    GRAD_C = "gradC"  # the cost's gradient with respect to the outputs
    W = "W"  # the weights W^(l)
    A = "a"  # the activations a^(l)
    DC_DB = "dCdb"  # dC/db^(l)
    DC_DW = "dCdW"  # dC/dW^(l)


def layer_matrix(kind: MatrixKind, layer: sp.Expr, rows: sp.Expr, cols: sp.Expr = 1) -> sp.MatrixSymbol:
    """A layer's vector or matrix (W^{(l)}, delta^{(l)}, a^{(l-1)}, ...); ``matrix_parts`` reads it back."""
    return sp.MatrixSymbol(f"{kind.value}:{layer}", rows, cols)


@dataclass(frozen=True)
class MatrixName:
    """What a ``layer_matrix`` name says: its kind, and its layer as printed ("l+1", "2")."""

    kind: MatrixKind
    layer: str

    @property
    def number(self) -> int:
        """The layer of a concrete matrix (the checks instantiate the summary at each layer)."""
        return int(self.layer)


def matrix_name(symbol: sp.MatrixSymbol) -> MatrixName:
    """The kind and layer of a matrix made by ``layer_matrix``: the one place its name is read."""
    kind, _, layer = symbol.name.partition(":")
    return MatrixName(MatrixKind(kind), layer.replace(" ", ""))
