"""Derivation steps as plain data: what is claimed, by which rule, and why.

Renderers (terminal, LaTeX, Jupyter) consume these; nothing here formats text.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import sympy as sp


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

    @property
    def title(self) -> str:
        return self.value


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs = rhs`` justified by ``rule``.

    ``refs`` names the blocks (sub-derivations) whose results this step uses.
    """

    lhs: sp.Expr
    rhs: sp.Expr
    rule: Rule
    text: str
    refs: tuple[str, ...] = ()

    @property
    def claim(self) -> sp.Eq:
        return sp.Eq(self.lhs, self.rhs, evaluate=False)

    def _repr_markdown_(self) -> str:
        from .display import notation_of, step_markdown

        return step_markdown(self, notation_of(self))

    def _repr_latex_(self) -> str:
        from .display import notation_of, step_latex

        return step_latex(self, notation_of(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        from .display import notation_of, step_text

        p.text(step_text(self, notation_of(self)))


@dataclass(frozen=True)
class Block:
    """A titled sub-derivation with named results other blocks may reference."""

    key: str
    title: str
    steps: tuple[Step, ...]
    results: tuple[tuple[str, sp.Expr], ...] = ()

    @property
    def refs(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for step in self.steps:
            for ref in step.refs:
                if ref != self.key:
                    seen.setdefault(ref)
        return tuple(seen)

    def _repr_markdown_(self) -> str:
        from .display import block_markdown, notation_of

        return block_markdown(self, notation_of(self))

    def _repr_latex_(self) -> str:
        from .display import block_latex, notation_of

        return block_latex(self, notation_of(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        from .display import block_text, notation_of

        p.text(block_text(self, notation_of(self)))

    def result(self, name: str) -> sp.Expr:
        for key, value in self.results:
            if key == name:
                return value
        raise KeyError(f"block {self.key!r} has no result {name!r}")


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
        splice = isinstance(factor, sp.Mul) and not factor.args[0].is_negative and not any(
            arg.is_Pow and arg.exp.is_negative for arg in factor.args)
        flat.extend(factor.args if splice else [factor])
    flat = [f for f in flat if f != 1]
    if not flat:
        return sp.Integer(1)
    return flat[0] if len(flat) == 1 else sp.Mul(*flat, evaluate=False)
