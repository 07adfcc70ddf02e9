"""SymPy objects for the rule formulas of reasons: a derivative written with a prime, (u^n)' or
ReLU'(0), and a sum kept in the order written (u'v - uv'). Each prints itself in derive's printers
(LaTeX and the one-line text), so a reason's formula is typeset like every other formula.
"""

from __future__ import annotations

from typing import Iterable

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.precedence import PRECEDENCE


def signed_sum(terms: Iterable[str]) -> str:
    """Printed terms joined by + and -: a term printed with a leading minus is subtracted."""
    out = ""
    for position, printed in enumerate(terms):
        if position == 0:
            out = printed
        elif printed.startswith("-"):
            out += " - " + printed[1:].lstrip()
        else:
            out += " + " + printed
    return out


def _bare(expr: sp.Basic) -> bool:
    """Whether a prime can follow ``expr`` without brackets: u', σ(z)' need none, (u v)' does."""
    return isinstance(expr, (sp.Symbol, sp.Indexed, AppliedUndef))


class Prime(sp.Function):
    """The derivative of ``u`` written u', or of a function at a point, ``Prime(f(z), 0)``: f'(0).

    A formula of a reason, never part of a step's claim (the checks never see it)."""

    nargs = (1, 2)

    def _printed(self, printer, brackets: tuple[str, str]) -> str:
        inner = self.args[0]
        body = printer._print(inner)
        if len(self.args) == 2 and isinstance(
            inner, AppliedUndef
        ):  # f'(point): the name, primed, at it
            name = body.split(r"{\left(")[0].split("(")[0]
            return f"{name}'{brackets[0]}{printer._print(self.args[1])}{brackets[1]}"
        return (body if _bare(inner) else f"{brackets[0]}{body}{brackets[1]}") + "'"

    def _latex(self, printer) -> str:
        return self._printed(printer, (r"\left(", r"\right)"))

    def _derive_text(self, printer) -> str:
        return self._printed(printer, ("(", ")"))

    def _sympystr(self, printer) -> str:
        return self._printed(printer, ("(", ")"))


class InOrder(sp.Function):
    """A sum printed in the order its terms are given (SymPy sorts an Add's terms: u'v - uv' would
    print -uv' + u'v); bracketed like a sum inside a product or a power."""

    precedence = PRECEDENCE["Add"]

    def _joined(self, printer) -> str:
        return signed_sum(printer._print(term) for term in self.args)

    def _latex(self, printer) -> str:
        return self._joined(printer)

    def _derive_text(self, printer) -> str:
        return self._joined(printer)

    def _sympystr(self, printer) -> str:
        return self._joined(printer)
