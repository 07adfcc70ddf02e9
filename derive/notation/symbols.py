"""The SymPy objects of a notation: indexed quantities, index letters, and the named vectors and
matrices of the matrix-form summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from enum import Enum

import sympy as sp

if TYPE_CHECKING:
    from derive.notation.letters import Notation


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
    eta: sp.Symbol = field(init=False)
    total_cost: sp.Symbol = field(init=False)
    sample_cost: sp.IndexedBase = field(init=False)  # C_x, the cost of sample x
    sample: sp.Symbol = field(init=False)
    samples: sp.Symbol = field(init=False)
    l2: sp.Symbol = field(init=False)
    dw: sp.IndexedBase = field(init=False)
    db: sp.IndexedBase = field(init=False)
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
            w=sp.IndexedBase(nt.weight),
            b=sp.IndexedBase(nt.bias),
            z=sp.IndexedBase(nt.preactivation),
            a=sp.IndexedBase(nt.activation_value),
            x=sp.IndexedBase(nt.input),
            y=sp.IndexedBase(nt.target),
            delta=sp.IndexedBase(nt.delta),
            n=sp.IndexedBase(nt.size),
            cost=sp.Symbol(nt.cost),
            eta=sp.Symbol(nt.learning_rate, positive=True),
            total_cost=sp.Symbol(nt.total_cost),
            sample_cost=sp.IndexedBase(nt.total_cost),
            sample=idx(nt.sample),
            samples=sp.Symbol(nt.samples, integer=True, positive=True),
            l2=sp.Symbol(nt.regularisation, nonnegative=True),
            dw=sp.IndexedBase(f"Delta_{nt.weight}"),
            db=sp.IndexedBase(f"Delta_{nt.bias}"),
            l=sp.Symbol(nt.layer, integer=True, positive=True),
            j=idx(nt.node),
            k=idx(nt.prev),
            k_sum=idx(nt.prev + "'"),
            j_sum=idx(nt.node + "'"),
            downstream=tuple(idx(c) for c in nt.downstream),
        )
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def layered(self) -> frozenset[sp.IndexedBase]:
        """Bases whose first index is the layer (printed as a superscript)."""
        return frozenset({self.w, self.b, self.z, self.a, self.delta, self.n, self.dw, self.db})

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
    JACOBIAN = "J"  # da^(l)/dz^(l) of a vector activation (softmax), row i, column j


def layer_matrix(
    kind: MatrixKind, layer: sp.Expr, rows: sp.Expr, cols: sp.Expr = 1
) -> sp.MatrixSymbol:
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
