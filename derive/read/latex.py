"""LaTeX in: student answers and user definitions, read into the engine's SymPy symbols.

The reader is in three parts: the syntax core (``derive.read.syntax``: tokens, grammar and limits,
no model), the resolvers that say what the names stand for (``derive.read.resolvers``: the notation
of a network, or a definition's z), and the definitions (``derive.read.definitions``). This module
is the entry point for answers and keeps the reader's names where the other layers import them.
The public entry points run under a time limit (``derive.limits``).
"""

from __future__ import annotations

import sympy as sp

from derive.limits import run_limited
from derive.read.definitions import (  # noqa: F401  (the reader's names, kept importable from here)
    _READ_DEFINITIONS,
    DEFINITION,
    DEFINITION_MEMORY,
    DEFINITION_SECONDS,
    SAMPLE_COST,
    SAMPLE_Z,
    _parse_activation,
    _parse_cost,
    _read_activation,
    _read_cost,
    parse_activation,
    parse_cost,
)
from derive.read.resolvers import Context
from derive.read.syntax import (  # noqa: F401
    BEGIN_CASES,
    END_CASES,
    LAYER_SIZE,
    MAX_CHARS,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_SUM_TERMS,
    NEXT_CASE,
    PARSE_SECONDS,
    SIZE,
    IndexMisuse,
    LatexInputError,
    Member,
    Token,
    read_expression,
    read_members,
    significant_digits,
)
from derive.read.syntax import check_text as _check_text  # noqa: F401

__all__ = [
    "Context",
    "IndexMisuse",
    "LatexInputError",
    "Member",
    "parse_activation",
    "parse_answer",
    "parse_cost",
    "read_chain",
    "significant_digits",
]


def read_chain(text: str, ctx: Context, numbers: bool = False) -> list[Member]:
    """The members of ``m0 = m1 ≈ …`` as SymPy expressions in the engine's notation (no time limit)."""
    return read_members(text, ctx.resolver(), numbers)


def parse_answer(text: str, ctx: Context, seconds: float = PARSE_SECONDS) -> sp.Expr:
    """A student's LaTeX (one expression) as a SymPy expression in the engine's notation (time-limited)."""
    return run_limited(_parse_single, text, ctx, seconds=seconds, what="reading the LaTeX")


def _parse_single(text: str, ctx: Context) -> sp.Expr:
    return read_expression(text, ctx.resolver())
