"""Derivation steps as plain data: what is claimed, by which rule, and why.

Renderers (terminal, LaTeX, Jupyter) consume these; nothing here formats text.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Iterable

import sympy as sp

if TYPE_CHECKING:
    from derive.notation.letters import Notation


class Rule(Enum):
    """The justification of a step; ``title`` is the human name."""

    DEFINITION = "definition"
    CHAIN_RULE = "chain rule"
    SUM_RULE = "sum rule"
    POWER_RULE = "power rule"
    QUOTIENT_RULE = "quotient rule"
    EXPONENTIAL_RULE = "derivative of the exponential"
    LOGARITHM_RULE = "derivative of the logarithm"
    PIECEWISE_RULE = "derivative of each piece"
    CONVENTION = "convention at the kink"
    ACTIVATION_DERIVATIVE = "derivative of the activation"
    COST_DERIVATIVE = "derivative of the cost"
    SUBSTITUTION = "substitution"
    SIMPLIFICATION = "simplification"
    DIFFERENTIATION = "differentiation"
    CONSTANT_RULE = "constant rule"
    CONSTANT_MULTIPLE_RULE = "constant multiple rule"
    PRODUCT_RULE = "product rule"
    TRIG_RULE = "derivative of a trigonometric function"
    HYPERBOLIC_RULE = "derivative of a hyperbolic function"
    NAMED_FUNCTION_RULE = "derivative of a known function"
    REWRITE = "rewriting"

    @property
    def title(self) -> str:
        return self.value


class Part(Enum):
    """What a block derives."""

    FORWARD = "forward"
    COST = "cost"
    ACTIVATION = "activation"
    LAYER = "layer"
    SUMMARY = "summary"
    UPDATE = "update"
    AVERAGE = "average"


@dataclass(frozen=True)
class BlockKey:
    """Names a block: a part, with the layer (``Part.LAYER``) or the activation's name (``Part.ACTIVATION``).

    Printed as "layer:2", "activation:tanh", "cost" (the JSON output and LaTeX labels use that form).
    """

    part: Part
    detail: int | str | None = None

    def __str__(self) -> str:
        return self.part.value if self.detail is None else f"{self.part.value}:{self.detail}"

    @classmethod
    def layer(cls, layer: int) -> "BlockKey":
        return cls(Part.LAYER, layer)

    @classmethod
    def activation(cls, name: str) -> "BlockKey":
        return cls(Part.ACTIVATION, name)

    @classmethod
    def parse(cls, text: str) -> "BlockKey":
        """The key printed as ``text`` (``Derivation.block("layer:2")``); KeyError when there is none."""
        part, colon, detail = str(text).partition(":")
        try:
            kind = Part(part)
        except ValueError:
            raise KeyError(f"no block {text!r}") from None
        if kind is Part.LAYER and detail.isascii() and detail.isdigit() and str(int(detail)) == detail:
            key = cls(kind, int(detail))
        elif kind is Part.ACTIVATION and detail:
            key = cls(kind, detail)
        elif kind not in (Part.LAYER, Part.ACTIVATION) and not colon:
            key = cls(kind)
        else:
            raise KeyError(f"no block {text!r}")
        return key


FORWARD, COST, SUMMARY = BlockKey(Part.FORWARD), BlockKey(Part.COST), BlockKey(Part.SUMMARY)
UPDATE = BlockKey(Part.UPDATE)
AVERAGE = BlockKey(Part.AVERAGE)  # the cost over n samples, its gradient and, with L2, weight decay


class Result(Enum):
    """The named results a block offers to other blocks and to the numeric code."""

    DC_DA = "dC_da"  # dC_0/da_j: from the cost at L, sum over the errors of layer l + 1 below it
    CLASSIC = "classic"  # an activation's derivative in its classic form
    DELTA_RECURSIVE = "delta_recursive"  # delta_j^(l) through delta^(l+1) (the cost's derivative at L)
    WEIGHT_FROM_DELTA = "weight_from_delta"  # delta_j^(l) a_k^(l-1)
    DELTA_CLASSIC = "delta_classic"  # delta_j^(L), classic derivative, simplified (output layer only)


class Equation(Enum):
    """The four backpropagation equations of the matrix summary, numbered as Nielsen numbers them
    (BP1..BP4); a notation may label them (``Notation.summary_labels``)."""

    OUTPUT_ERROR = 1
    ERROR_RECURSION = 2
    BIAS_GRADIENT = 3
    WEIGHT_GRADIENT = 4


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs = rhs`` justified by ``rule``.

    ``refs`` names the blocks (sub-derivations) whose results this step uses; ``equation`` says which
    backpropagation equation a step of the matrix summary states.
    """

    lhs: sp.Expr
    rhs: sp.Expr
    rule: Rule
    text: str
    refs: tuple[BlockKey, ...] = ()
    equation: Equation | None = None

    def tag(self, notation: "Notation") -> str | None:
        """The label this step carries in ``notation`` (BP1 in Nielsen's), or None."""
        return notation.summary_label(self.equation.value) if self.equation is not None else None

    @property
    def claim(self) -> sp.Eq:
        return sp.Eq(self.lhs, self.rhs, evaluate=False)

    def _repr_markdown_(self) -> str:
        from derive.render.display import notation_of, step_markdown  # seam: display hook

        return step_markdown(self, notation_of(self))

    def _repr_latex_(self) -> str:
        from derive.render.display import notation_of, step_latex  # seam: display hook

        return step_latex(self, notation_of(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        from derive.render.display import notation_of, step_text  # seam: display hook

        p.text(step_text(self, notation_of(self)))


@dataclass(frozen=True)
class Block:
    """A titled sub-derivation with named results other blocks may reference."""

    key: BlockKey
    title: str
    steps: tuple[Step, ...]
    results: tuple[tuple[Result, sp.Expr], ...] = ()

    @property
    def refs(self) -> tuple[BlockKey, ...]:
        seen: dict[BlockKey, None] = {}
        for step in self.steps:
            for ref in step.refs:
                if ref != self.key:
                    seen.setdefault(ref)
        return tuple(seen)

    def _repr_markdown_(self) -> str:
        from derive.render.display import block_markdown, notation_of  # seam: display hook

        return block_markdown(self, notation_of(self))

    def _repr_latex_(self) -> str:
        from derive.render.display import block_latex, notation_of  # seam: display hook

        return block_latex(self, notation_of(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        from derive.render.display import block_text, notation_of  # seam: display hook

        p.text(block_text(self, notation_of(self)))

    def result(self, name: Result) -> sp.Expr:
        for key, value in self.results:
            if key is name:
                return value
        raise KeyError(f"block {str(self.key)!r} has no result {getattr(name, 'value', name)!r}")


# Which notation a block or step was made in ----------------------------------------------------
# Steps and blocks do not carry their notation (they are plain data, shared between derivations of
# equal networks); a derivation notes it here, so that one taken out of it still displays in it.
_OWNERS: dict[int, tuple[weakref.ref, Notation, dict[BlockKey, str]]] = {}


def remember_owner(blocks: Iterable[Block], notation: Notation) -> None:
    """Note the notation, and the block titles, of ``blocks`` and their steps."""
    blocks = tuple(blocks)
    titles = {b.key: b.title for b in blocks}
    for block in blocks:
        for obj in (block, *block.steps):
            key = id(obj)
            ref = weakref.ref(obj, lambda _, key=key: _OWNERS.pop(key, None))
            _OWNERS[key] = (ref, notation, titles)


def owner_of(obj: object) -> tuple[Notation, dict[BlockKey, str]] | None:
    """(notation, block titles) noted for ``obj`` by ``remember_owner``, or None."""
    entry = _OWNERS.get(id(obj))
    if entry is not None and entry[0]() is obj:
        return entry[1], entry[2]
    return None


def instantiate(expr: sp.Expr, mapping: dict) -> sp.Expr:
    """Replace placeholders while keeping the written form (no re-evaluation, so 2(a - y) stays)."""
    try:
        with sp.evaluate(False):
            return expr.xreplace(mapping)
    except (ArithmeticError, TypeError):  # SymPy cannot build some unevaluated forms (Piecewise)
        return expr.xreplace(mapping)


def product(*factors: sp.Expr) -> sp.Expr:
    """A product kept in the order written (chain-rule order), nested products flattened, 1s dropped."""
    flat: list[sp.Expr] = []
    for factor in factors:
        # A negative coefficient or a division keeps its product whole. Only numbers are asked:
        # asking SymPy whether a nested sum is negative walks the whole tree, at every level.
        splice = isinstance(factor, sp.Mul) and not _negative_number(factor.args[0]) and not any(
            arg.is_Pow and _negative_number(arg.exp) for arg in factor.args)
        flat.extend(factor.args if splice else [factor])
    flat = [f for f in flat if f != 1]
    if not flat:
        return sp.Integer(1)
    return flat[0] if len(flat) == 1 else sp.Mul(*flat, evaluate=False)


def power(base: sp.Expr, exponent: int) -> sp.Expr:
    """base**exponent kept as written ((1 + e^{-z})^2 stays a square, not expanded or merged)."""
    return sp.Pow(base, exponent, evaluate=False)


def _negative_number(expr: sp.Expr) -> bool:
    return bool(expr.is_Number and expr.is_negative)
