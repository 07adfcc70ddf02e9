"""A user's definition of an activation ('g(z) = ...') or a cost ('C_0 = ...') read from LaTeX.

The right-hand side is read by the syntax core with the resolver of a definition (in z alone for an
activation, in a_j^{(L)} and y_j for a cost: ``derive.read.resolvers``), checked to be real, derived
step by step and rehearsed on a small network (``derive.read.rehearsal``), all in a child limited in
time and memory. The model asks for this through its reader slot (``derive.model.definitions``).
"""

from __future__ import annotations

import pickle
import re
from typing import Callable

import sympy as sp

from derive.limits import DEFAULT_MEMORY, run_limited
from derive.model.activations import SIGMA, Z, Activation, defined_activation
from derive.model.costs import A, Y, Cost, defined_cost
from derive.read.resolvers import definition_layout, definition_resolver
from derive.read.syntax import LatexInputError, check_text, has_cases, read_expression

DEFINITION = "definition"
_ACTIVATION_LHS = re.compile(r"^\s*([A-Za-z])\s*\(\s*z\s*\)\s*$")


def _split_definition(text: str, what: str, example: str) -> tuple[str, str]:
    """The two sides of 'lhs = rhs'; a condition z = 0 in \\begin{cases} may hold another '='."""
    check_text(text, DEFINITION)
    if text.count("=") != 1 and not (has_cases(text) and "=" in text):
        raise LatexInputError(f"write the {what} as one equation, e.g. {example}")
    lhs, _, rhs = text.partition("=")
    return lhs, rhs


def _parse_activation(text: str) -> Activation:
    """'g(z) = <LaTeX>' read and checked as an Activation (not yet rehearsed)."""
    lhs, rhs = _split_definition(text, "activation", "'g(z) = \\frac{z}{1+|z|}'")
    match = _ACTIVATION_LHS.match(lhs)
    if not match:
        raise LatexInputError(
            f"the left-hand side must be g(z) (any one letter), got '{lhs.strip()}'"
        )
    expr = read_expression(rhs, definition_resolver(variable_z=True))
    if expr.free_symbols - {Z}:
        raise LatexInputError("an activation may use only z")
    if not expr.has(Z):
        raise LatexInputError("the activation does not depend on z")
    if any(
        isinstance(f, sp.core.function.AppliedUndef) and f.func != SIGMA
        for f in expr.atoms(sp.Function)
    ):
        raise LatexInputError(
            "an activation may use \\sigma, exp, ln, tanh and the like, not other activations"
        )
    _check_real(expr, "activation")
    _check_real_values(
        expr,
        [{Z: z} for z in SAMPLE_Z],
        "activation",
        "an activation must give a real number for every real z",
    )
    return defined_activation(match.group(1), expr)


SAMPLE_Z = (
    -3,
    -1,
    sp.Rational(-1, 2),
    sp.Rational(1, 2),
    1,
    3,
)  # where a definition must be real (0 aside: 1/z)
SAMPLE_COST = [
    (a, y) for a in (sp.Rational(1, 4), sp.Rational(3, 4)) for y in (0, sp.Rational(1, 2), 1)
]


def _check_real_values(expr: sp.Expr, points: list[dict], kind: str, rule: str) -> None:
    """Refuse a definition that is not a real number at one of ``points`` (ln(-e^z), e^{sqrt z} at z = -1),
    nor inside an absolute value there (|sqrt z| is real, but its cases u >= 0 cannot be decided)."""
    try:
        written = expr.replace(SIGMA, lambda u: 1 / (1 + sp.exp(-u)))
    except (
        TypeError,
        ValueError,
    ):  # max(ln(-1) + 1, z): SymPy cannot compare an imaginary argument
        raise LatexInputError(f"the {kind} is not a real number; {rule}") from None
    parts = [written, *(a.args[0] for a in written.atoms(sp.Abs))]
    for point in points:
        for part in parts:
            value = _value(part, point)
            if _imaginary(value) or value.has(sp.zoo, sp.nan):
                at = ", ".join(f"{sp.sstr(var)} = {sp.sstr(v)}" for var, v in point.items())
                inside = "" if part is written else " inside |...|"
                raise LatexInputError(f"the {kind} is not a real number{inside} at {at}; {rule}")


def _check_real(expr: sp.Expr, kind: str) -> None:
    """Refuse a definition with a constant that is not a real number: derive's functions map reals to reals."""
    for constant in _constants(expr):
        value = _value(constant)
        if _infinite(value):
            raise LatexInputError(
                f"the {kind} is undefined: a constant in it is infinite or undefined (a "
                "division by zero, or \\ln 0)"
            )
        if _imaginary(value):
            raise LatexInputError(
                f"the {kind} has a constant that is not a real number (\\sqrt or \\ln of a "
                "negative number is imaginary); write a real one"
            )


def _value(expr: sp.Expr, point: dict | None = None) -> sp.Expr:
    """``expr`` at ``point`` to 15 digits; nan where SymPy cannot even form it (max(i, 1))."""
    try:
        return sp.N(expr.xreplace(point or {}), 15)
    except (TypeError, ValueError, ArithmeticError):
        return sp.nan


def _infinite(value: sp.Expr) -> bool:
    """An evaluated definition, or a constant in it, that is infinite or undefined (1/0, ln 0, nan)."""
    return value.has(sp.zoo, sp.oo, -sp.oo, sp.nan)


def _imaginary(value: sp.Expr) -> bool:
    return value.is_real is False or value.has(sp.I)


def _constants(expr: sp.Basic):
    """The largest subexpressions of ``expr`` without a variable: 1/ln(2), \\sqrt{-1}, σ(0.5)."""
    if not expr.free_symbols:
        if isinstance(expr, sp.Expr):  # not a condition's True
            yield expr
        return
    for arg in expr.args:
        yield from _constants(arg)


def _read_activation(text: str) -> Activation:
    """The activation read, derived and rehearsed (derive.read.rehearsal): run in the limited child."""
    from derive.read.rehearsal import rehearse_activation

    activation = _parse_activation(text)
    rehearse_activation(activation)
    return activation


def _read_cost(text: str) -> Cost:
    """The cost read, derived and rehearsed (derive.read.rehearsal): run in the limited child."""
    from derive.read.rehearsal import rehearse_cost

    cost = _parse_cost(text)
    rehearse_cost(cost)
    return cost


def _parse_cost(text: str) -> Cost:
    """'C_0 = <LaTeX>' read and checked as a Cost (not yet rehearsed)."""
    lhs, rhs = _split_definition(text, "cost", "'C_0 = \\frac{1}{2}\\sum_j (a_j^{(L)} - y_j)^2'")
    if not re.fullmatch(r"\s*C(_\{?\s*0\s*\}?)?\s*", lhs):
        raise LatexInputError(f"the left-hand side must be C_0, got '{lhs.strip()}'")
    s = definition_layout().symbols
    expr = read_expression(rhs, definition_resolver(variable_z=False))
    factors = sp.Mul.make_args(expr)
    sums = [f for f in factors if isinstance(f, sp.Sum)]
    coefficient = sp.Mul(*(f for f in factors if not isinstance(f, sp.Sum)))
    if len(sums) != 1 or coefficient.free_symbols:
        raise LatexInputError(
            "write the cost as (a number times) one sum over the output nodes j, "
            "e.g. \\sum_j (a_j^{(L)} - y_j)^2"
        )
    (total,) = sums
    index = total.limits[0][0]
    _check_real(
        total.function, "cost"
    )  # before the substitution below: max(ln(ln(1/2)), a) cannot be rebuilt
    term = coefficient * total.function.xreplace({s.a[1, index]: A, s.y[index]: Y})
    if term.free_symbols - {A, Y}:
        raise LatexInputError("the summed term may use only a_j^{(L)} and y_j")
    _check_real(term, "cost")
    _check_real_values(
        term,
        [{A: a, Y: y} for a, y in SAMPLE_COST],
        "cost",
        "a cost must give a real number for outputs a in (0, 1) and targets y in [0, 1]",
    )
    return defined_cost(term)


def _as_built(parse: Callable, text: str) -> bytes:
    return pickle.dumps(parse(text))


def _limited_as_built(parse: Callable, text: str, seconds: float, memory: int | None, what: str):
    """``parse(text)`` in a time- and memory-limited child, its result unpickled as it was built.

    A derivation's steps are written unevaluated (2(a - y), z sigma(z)(1 - sigma(z)) in that order);
    SymPy's unpickling rebuilds every expression, so it is done with evaluation off. A definition
    read once is remembered: reading a spec again, or the same definition in several layers, is free."""
    key = (parse, text)
    if key not in _READ_DEFINITIONS:
        data = run_limited(_as_built, parse, text, seconds=seconds, memory=memory, what=what)
        with sp.evaluate(False):
            _READ_DEFINITIONS[key] = pickle.loads(data)
    return _READ_DEFINITIONS[key]


_READ_DEFINITIONS: dict = {}
DEFINITION_SECONDS = 20.0  # a definition is read, derived and rehearsed within the judge's caps
DEFINITION_MEMORY = DEFAULT_MEMORY


def parse_activation(
    text: str, seconds: float = DEFINITION_SECONDS, memory: int | None = DEFINITION_MEMORY
) -> Activation:
    """'g(z) = <LaTeX>' as an Activation: read, derived step by step and rehearsed on a small network
    (derive.read.rehearsal) in a child limited to ``seconds`` and ``memory`` bytes."""
    return _limited_as_built(
        _read_activation, text, seconds, memory, "deriving the activation's definition"
    )


def parse_cost(
    text: str, seconds: float = DEFINITION_SECONDS, memory: int | None = DEFINITION_MEMORY
) -> Cost:
    """'C_0 = <LaTeX>' as a Cost: read, derived and rehearsed like an activation (see parse_activation)."""
    return _limited_as_built(_read_cost, text, seconds, memory, "deriving the cost's definition")
