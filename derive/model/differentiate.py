"""Differentiation step by step: rules as data, one rule per step, every stage the whole derivative.

Modelled on SymPy's manualintegrate (and SymPy Gamma's diffsteps): ``rule_for`` says which rule
differentiates one expression and what it gives, with the parts still to do written as
``Derivative(...)``; ``differentiate`` applies the rules stage by stage, one rule at a time (to
every like derivative at once), so that each stage is a rewrite of the one before and SymPy can
check it (``doit()`` of a stage is the derivative). Nothing is simplified behind the reader's back:
named functions the definition uses (sigma, with sigma' = sigma(1 - sigma)) stay in the result.

Piecewise definitions (and |u|, max, min, sign, H written by cases) are differentiated piece by
piece away from their kinks, which are located from the conditions; at each kink the left slope is
used, and the step says so. Each step's reason is data (``Reason``: the rule's kind, with its formula
as a SymPy expression, (u^n)' = n u^(n-1) u'); ``derive.render.reasons`` words it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.functions.elementary.piecewise import ExprCondPair

from derive.choices import Choice
from derive.errors import DeriveError
from derive.model.steps import Reason, ReasonKind, ReasonValue, Rule, because
from derive.notation.formulas import InOrder, Prime

MAX_STEPS = 200  # a definition that needs more is not a derivation a student reads


@dataclass(frozen=True)
class Known:
    """A named function whose derivative is written with the function itself (sigma' = sigma(1 - sigma)).

    ``formula``: what the reason shows; by default f'(z) = ``derivative`` written out."""

    derivative: sp.Lambda
    formula: sp.Basic | None = None

    def formula_for(self, function: sp.FunctionClass) -> sp.Basic:
        if self.formula is not None:
            return self.formula
        z = self.derivative.variables[0]
        return _eq(sp.Derivative(function(z), z), self.derivative.expr)


@dataclass(frozen=True)
class ChainStep:
    """One stage of a derivative: the whole derivative so far (``expr``), the rule that gave it and why."""

    expr: sp.Expr
    rule: Rule
    reason: Reason


Chain = tuple[ChainStep, ...]
"""The stages of a derivative, in order: the last one's ``expr`` is the derivative."""


class RuleCase(Choice):
    """Which case of which rule an ``Application`` is: like cases make one step, and the case picks its
    reason (``REASONS``). Each member equals its word ("constant multiple")."""

    CONSTANT = "constant"
    POWER = "power"  # the variable itself (z' = 1) or a power u^n
    SUM = "sum"
    CONSTANT_MULTIPLE = "constant multiple"
    QUOTIENT = "quotient"
    PRODUCT = "product"
    EXPONENTIAL = "exponential"  # e^u or b^u
    LOGARITHM = "logarithm"
    TRIGONOMETRIC = "trigonometric"
    HYPERBOLIC = "hyperbolic"
    NAMED = "named"  # a known function written with itself: sigma' = sigma(1 - sigma)
    REWRITE = "rewrite"  # u^v as e^(v log u)
    PIECEWISE = "piecewise"
    CASES = "cases"  # |u|, max, min, sign, H written by cases
    SYMPY = "sympy"  # anything else: SymPy's own derivative


@dataclass(frozen=True)
class Application:
    """One rule applied to one derivative d/dvar ``expr``: the ``result`` keeps what is left as Derivative(...).

    ``kind`` names the rule's case (grouping like applications into one step, and choosing the
    sentence); ``chain``: the inside is not the variable itself, so the chain rule is part of it.
    """

    kind: RuleCase
    rule: Rule
    expr: sp.Expr
    result: sp.Expr
    chain: bool = False


@dataclass(frozen=True)
class Differentiation:
    """The stages of a derivative (each the whole derivative), the kinks and what is used at each."""

    steps: Chain
    kinks: tuple[sp.Expr, ...] = ()
    at_kinks: tuple[
        tuple[sp.Expr, sp.Expr], ...
    ] = ()  # (kink, the derivative used there: the left slope)

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1].expr


# Building expressions as written: products in order (numbers, then constants, first), no collecting ---------
class _Build:
    """Unevaluated sums, products and powers that drop 0s and 1s and combine numbers, nothing else."""

    def __init__(self, var: sp.Symbol) -> None:
        self.var = var

    def add(self, *terms: sp.Expr) -> sp.Expr:
        flat: list[sp.Expr] = []
        for term in map(sp.sympify, terms):
            flat.extend(term.args if isinstance(term, sp.Add) else [term])
        numbers = [t for t in flat if t.is_Number]
        rest = [t for t in flat if not t.is_Number]
        number = sp.Add(*numbers)
        items = rest + ([number] if number != 0 else [])
        if not items:
            return sp.Integer(0)
        return items[0] if len(items) == 1 else sp.Add(*items, evaluate=False)

    def mul(self, *factors: sp.Expr) -> sp.Expr:
        flat: list[sp.Expr] = []
        for factor in map(sp.sympify, factors):
            flat.extend(factor.args if isinstance(factor, sp.Mul) else [factor])
        number = sp.Mul(*(f for f in flat if f.is_Number))
        if number == 0:
            return sp.Integer(0)
        rest = [f for f in flat if not f.is_Number]
        constants = [f for f in rest if not f.has(self.var)]
        varying = [f for f in rest if f.has(self.var)]
        items = ([number] if number != 1 else []) + constants + varying
        if not items:
            return sp.Integer(1)
        if len(items) == 1:
            return items[0]
        if len(items) == 2 and number == -1 and isinstance(items[1], sp.Add):
            return sp.Mul(-1, items[1], evaluate=False)
        return sp.Mul(*items, evaluate=False)

    def pow(self, base: sp.Expr, exp: sp.Expr) -> sp.Expr:
        base, exp = sp.sympify(base), sp.sympify(exp)
        if exp == 1:
            return base
        if exp == 0 or base == 1:
            return sp.Integer(1)
        if base.is_Number and exp.is_Number:
            return sp.Pow(base, exp)
        return sp.Pow(base, exp, evaluate=False)

    def rebuild(self, expr: sp.Expr, mapping: dict) -> sp.Expr:
        """``expr`` with the derivatives in ``mapping`` replaced, rebuilt without re-evaluating it."""
        if expr in mapping:
            return mapping[expr]
        if not expr.args or isinstance(expr, (sp.Derivative, sp.core.relational.Relational)):
            return expr
        args = [self.rebuild(arg, mapping) for arg in expr.args]
        if all(new is old for new, old in zip(args, expr.args)):
            return expr
        if isinstance(expr, sp.Add):
            return self.add(*args)
        if isinstance(expr, sp.Mul):
            return self.mul(*args)
        if isinstance(expr, sp.Pow):
            return self.pow(*args)
        if isinstance(expr, sp.Piecewise):
            return sp.Piecewise(*args, evaluate=False)
        if isinstance(expr, ExprCondPair):
            return ExprCondPair(*args)
        try:
            return expr.func(*args, evaluate=False)
        except TypeError:
            return expr.func(*args)


def _d(expr: sp.Expr, var: sp.Symbol) -> sp.Derivative:
    """The derivative still to be taken, as SymPy's unevaluated Derivative."""
    return sp.Derivative(expr, var)


# The rules -----------------------------------------------------------------------------------------------
_TRIG = {
    sp.sin: lambda u, b: sp.cos(u),
    sp.cos: lambda u, b: b.mul(-1, sp.sin(u)),
    sp.tan: lambda u, b: b.add(1, b.pow(sp.tan(u), 2)),
    sp.cot: lambda u, b: b.mul(-1, b.add(1, b.pow(sp.cot(u), 2))),
    sp.sec: lambda u, b: b.mul(sp.sec(u), sp.tan(u)),
    sp.csc: lambda u, b: b.mul(-1, sp.csc(u), sp.cot(u)),
}
_HYPERBOLIC = {
    sp.sinh: lambda u, b: sp.cosh(u),
    sp.cosh: lambda u, b: sp.sinh(u),
    sp.tanh: lambda u, b: b.add(1, b.mul(-1, b.pow(sp.tanh(u), 2))),
    sp.coth: lambda u, b: b.add(1, b.mul(-1, b.pow(sp.coth(u), 2))),
    sp.sech: lambda u, b: b.mul(-1, sp.sech(u), sp.tanh(u)),
    sp.csch: lambda u, b: b.mul(-1, sp.csch(u), sp.coth(u)),
}

# The rules' formulas, as the reasons show them: in u, v (functions of the variable), n, c and b (constants)
_U, _V, _N, _C, _BASE = sp.symbols("u v n c b")


def _eq(lhs: sp.Basic, rhs: sp.Basic) -> sp.Equality:
    return sp.Eq(lhs, rhs, evaluate=False)


def _times(*factors: sp.Basic) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False)


def _to(base: sp.Basic, exp: sp.Basic) -> sp.Expr:
    return sp.Pow(base, exp, evaluate=False)


_FUNCTION_FORMULAS = {  # (f(u))' = this, for the trigonometric and hyperbolic functions
    sp.sin: sp.cos(_U),
    sp.cos: _times(-1, sp.sin(_U)),
    sp.tan: InOrder(1, _to(sp.tan(_U), 2)),
    sp.cot: InOrder(-1, _times(-1, _to(sp.cot(_U), 2))),
    sp.sec: _times(sp.sec(_U), sp.tan(_U)),
    sp.csc: _times(-1, sp.csc(_U), sp.cot(_U)),
    sp.sinh: sp.cosh(_U),
    sp.cosh: sp.sinh(_U),
    sp.tanh: InOrder(1, _times(-1, _to(sp.tanh(_U), 2))),
    sp.coth: InOrder(1, _times(-1, _to(sp.coth(_U), 2))),
    sp.sech: _times(-1, sp.sech(_U), sp.tanh(_U)),
    sp.csch: _times(-1, sp.csch(_U), sp.coth(_U)),
}
POWER_CHAIN = _eq(Prime(_to(_U, _N)), _times(_N, _to(_U, InOrder(_N, -1)), Prime(_U)))
CONSTANT_MULTIPLE = _eq(Prime(_times(_C, _U)), _times(_C, Prime(_U)))
PRODUCT = _eq(Prime(_times(_U, _V)), InOrder(_times(Prime(_U), _V), _times(_U, Prime(_V))))
QUOTIENT = _eq(
    Prime(_times(_U, _to(_V, -1))),
    _times(InOrder(_times(Prime(_U), _V), _times(-1, _U, Prime(_V))), _to(_to(_V, 2), -1)),
)
EXPONENTIAL_BASE = _eq(Prime(_to(_BASE, _U)), _times(_to(_BASE, _U), sp.log(_BASE), Prime(_U)))
EXPONENTIAL_CHAIN = _eq(Prime(sp.exp(_U)), _times(sp.exp(_U), Prime(_U)))
LOGARITHM_CHAIN = _eq(Prime(sp.log(_U)), _times(Prime(_U), _to(_U, -1)))
_CASES = (sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside)


def rule_for(
    expr: sp.Expr, var: sp.Symbol, known: Mapping[sp.FunctionClass, Known] | None = None
) -> Application:
    """The rule that differentiates ``expr`` with respect to ``var``, one level deep."""
    known = known or {}
    b = _Build(var)
    if not expr.has(var):
        return Application(RuleCase.CONSTANT, Rule.CONSTANT_RULE, expr, sp.Integer(0))
    if expr == var:
        return Application(RuleCase.POWER, Rule.POWER_RULE, expr, sp.Integer(1))
    if isinstance(expr, sp.Add):
        return Application(
            RuleCase.SUM, Rule.SUM_RULE, expr, b.add(*(_d(t, var) for t in expr.args))
        )
    if isinstance(expr, sp.Mul):
        return _product_rule(expr, var, b)
    if isinstance(expr, sp.Pow):
        return _power_rule(expr, var, b)
    if isinstance(expr, sp.Piecewise):
        return _piecewise_rule(expr, var)
    if isinstance(expr, _CASES):
        return Application(RuleCase.CASES, Rule.DEFINITION, expr, _d(_by_cases(expr), var))
    if len(expr.args) == 1:
        u = expr.args[0]
        outer = None
        if isinstance(expr, sp.exp):
            kind, rule, outer = RuleCase.EXPONENTIAL, Rule.EXPONENTIAL_RULE, expr
        elif isinstance(expr, sp.log):
            kind, rule, outer = RuleCase.LOGARITHM, Rule.LOGARITHM_RULE, b.pow(u, -1)
        elif expr.func in _TRIG:
            kind, rule, outer = RuleCase.TRIGONOMETRIC, Rule.TRIG_RULE, _TRIG[expr.func](u, b)
        elif expr.func in _HYPERBOLIC:
            kind, rule, outer = (
                RuleCase.HYPERBOLIC,
                Rule.HYPERBOLIC_RULE,
                _HYPERBOLIC[expr.func](u, b),
            )
        elif isinstance(expr, AppliedUndef) and expr.func in known:
            lam = known[expr.func].derivative
            with sp.evaluate(False):
                written = lam.expr.xreplace({lam.variables[0]: u})
            kind, rule, outer = RuleCase.NAMED, Rule.NAMED_FUNCTION_RULE, written
        if outer is not None:
            if u == var:
                return Application(kind, rule, expr, outer)
            return Application(kind, Rule.CHAIN_RULE, expr, b.mul(outer, _d(u, var)), chain=True)
    return Application(RuleCase.SYMPY, Rule.DIFFERENTIATION, expr, sp.diff(expr, var))


def _product_rule(expr: sp.Mul, var: sp.Symbol, b: _Build) -> Application:
    constant = [f for f in expr.args if not f.has(var)]
    varying = [f for f in expr.args if f.has(var)]
    if constant:
        return Application(
            RuleCase.CONSTANT_MULTIPLE,
            Rule.CONSTANT_MULTIPLE_RULE,
            expr,
            b.mul(*constant, _d(sp.Mul(*varying), var)),
        )
    below = [f for f in varying if f.is_Pow and f.exp.is_Number and f.exp.is_negative]
    above = [f for f in varying if f not in below]
    if below and above:
        u, v = sp.Mul(*above), sp.Mul(*(f.base**-f.exp for f in below))
        numerator = b.add(b.mul(_d(u, var), v), b.mul(-1, u, _d(v, var)))
        return Application(
            RuleCase.QUOTIENT, Rule.QUOTIENT_RULE, expr, b.mul(numerator, b.pow(b.pow(v, 2), -1))
        )
    terms = [
        b.mul(*(_d(f, var) if i == n else f for n, f in enumerate(varying)))
        for i in range(len(varying))
    ]
    return Application(RuleCase.PRODUCT, Rule.PRODUCT_RULE, expr, b.add(*terms))


def _power_rule(expr: sp.Pow, var: sp.Symbol, b: _Build) -> Application:
    base, exp = expr.args
    if not exp.has(var):
        outer = b.mul(exp, b.pow(base, sp.Add(exp, -1)))
        if base == var:
            return Application(RuleCase.POWER, Rule.POWER_RULE, expr, outer)
        return Application(
            RuleCase.POWER, Rule.CHAIN_RULE, expr, b.mul(outer, _d(base, var)), chain=True
        )
    if not base.has(var):
        outer = b.mul(expr, sp.log(base))
        if exp == var:
            return Application(RuleCase.EXPONENTIAL, Rule.EXPONENTIAL_RULE, expr, outer)
        return Application(
            RuleCase.EXPONENTIAL, Rule.CHAIN_RULE, expr, b.mul(outer, _d(exp, var)), chain=True
        )
    return Application(
        RuleCase.REWRITE,
        Rule.REWRITE,
        expr,
        _d(sp.exp(b.mul(exp, sp.log(base)), evaluate=False), var),
    )


def _by_cases(expr: sp.Expr) -> sp.Piecewise:
    """|u|, max, min, sign and H written by cases (the conditions locate the kinks)."""
    try:
        if isinstance(expr, sp.Abs):
            u = expr.args[0]
            return sp.Piecewise((u, u >= 0), (-u, True))
        return expr.rewrite(sp.Piecewise)
    except (
        TypeError,
        ValueError,
        KeyError,
        RecursionError,
        NotImplementedError,
    ):  # SymPy cannot order them
        shown = sp.sstr(expr)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise DeriveError(
            f"cannot write {shown} by cases: its arguments cannot be compared as real numbers"
        ) from None


# Pieces and kinks ------------------------------------------------------------------------------------------
def _piece_sets(pw: sp.Piecewise, var: sp.Symbol) -> list[sp.Set] | None:
    """The set of real ``var`` where each piece applies (first true condition wins); None if not univariate."""
    taken: sp.Set = sp.S.EmptySet
    sets = []
    try:
        for _, cond in pw.args:
            if cond == sp.true:
                where: sp.Set = sp.S.Reals
            elif cond.free_symbols != {var} or not _rational_in(cond, var):
                return None  # e^z > max(z, 0): SymPy's solvers could take minutes, and give an implicit set
            else:
                where = cond.as_set().intersect(sp.S.Reals)
            where = where - taken
            sets.append(where)
            taken = taken | where
    except (NotImplementedError, TypeError, ValueError):
        return None
    return sets if all(_plain(where) for where in sets) else None


def _rational_in(cond: sp.Basic, var: sp.Symbol) -> bool:
    """Every comparison in ``cond`` is between rational functions of ``var`` (z > 0, 0.01 z >= z, z^2 < 1)."""
    relations = cond.atoms(sp.core.relational.Relational)
    return bool(relations) and all((r.lhs - r.rhs).is_rational_function(var) for r in relations)


def _plain(where: sp.Set) -> bool:
    """Intervals and points with numeric ends: what a condition var > a, var <= b, var = c can say.

    A piece SymPy can only describe implicitly (a ConditionSet, as for e^z > max(z, 0)) is not."""
    if isinstance(where, sp.Union):
        return all(_plain(arg) for arg in where.args)
    if isinstance(where, sp.Interval):
        return all(end.is_number for end in (where.inf, where.sup))
    if isinstance(where, sp.FiniteSet):
        return all(p.is_number and p.is_real for p in where.args)
    return where in (sp.S.EmptySet, sp.S.Reals)


def _pieces(where: sp.Set) -> list[sp.Set]:
    if isinstance(where, sp.Union):
        return [part for arg in where.args for part in _pieces(arg)]
    if isinstance(where, sp.FiniteSet):
        return [sp.FiniteSet(p) for p in where.args]
    return [where] if where != sp.S.EmptySet else []


def _ends(where: sp.Set) -> set:
    points = set()
    for piece in _pieces(where):
        for end in (piece.inf, piece.sup):
            if end.is_finite:
                points.add(end)
    return points


def _sorted(points) -> tuple[sp.Expr, ...]:
    return tuple(sorted(points, key=lambda p: float(p)))


def kinks_of(pw: sp.Piecewise, var: sp.Symbol) -> tuple[sp.Expr, ...]:
    """Where a piecewise definition switches from one piece to another (finite boundary points)."""
    sets = _piece_sets(pw, var)
    if sets is None:
        return ()
    return _sorted(set().union(*(_ends(s) for s in sets)) if sets else set())


def locate_kinks(expr: sp.Expr, var: sp.Symbol) -> tuple[sp.Expr, ...]:
    """Every point where ``expr`` switches between cases (pieces, |u|, max, min, sign, H), in order."""
    written = expr.replace(lambda e: isinstance(e, _CASES), _by_cases)
    points: set = set()
    for pw in written.atoms(sp.Piecewise):
        points |= set(kinks_of(pw, var))
    return _sorted(points)


def _condition(where: sp.Set, var: sp.Symbol) -> sp.Basic:
    """A union of intervals and points as a condition on ``var``, written var > a, var <= b, var = c."""
    parts = []
    for piece in _pieces(where):
        if isinstance(piece, sp.FiniteSet):
            parts.append(sp.Eq(var, piece.args[0], evaluate=False))
            continue
        conds = []
        if piece.inf.is_finite:
            conds.append(
                (sp.GreaterThan if not piece.left_open else sp.StrictGreaterThan)(var, piece.inf)
            )
        if piece.sup.is_finite:
            conds.append((sp.StrictLessThan if piece.right_open else sp.LessThan)(var, piece.sup))
        parts.append(sp.And(*conds) if conds else sp.true)
    return sp.Or(*parts) if parts else sp.false


def _piecewise_rule(pw: sp.Piecewise, var: sp.Symbol) -> Application:
    sets = _piece_sets(pw, var)
    if sets is None:
        pieces = [(_d(e, var), c) for e, c in pw.args]
        return Application(
            RuleCase.PIECEWISE, Rule.PIECEWISE_RULE, pw, sp.Piecewise(*pieces, evaluate=False)
        )
    pieces = []
    for (e, _), where in zip(pw.args, sets):
        inside = where.interior
        if inside != sp.S.EmptySet:
            pieces.append((_d(e, var), _condition(inside, var)))
    return Application(
        RuleCase.PIECEWISE, Rule.PIECEWISE_RULE, pw, sp.Piecewise(*pieces, evaluate=False)
    )


def _left_slopes(
    pw: sp.Piecewise, var: sp.Symbol
) -> tuple[sp.Piecewise, tuple[sp.Expr, ...]] | None:
    """A piecewise derivative valid away from its kinks, extended to each kink by the piece on its left.

    None when the pieces already cover every real number (nothing to decide)."""
    sets = _piece_sets(pw, var)
    if sets is None:
        return None
    covered = sp.Union(*sets)
    gaps = sp.S.Reals - covered
    if gaps == sp.S.EmptySet or not isinstance(gaps, sp.FiniteSet):
        return None
    pieces = []
    for n, ((e, _), where) in enumerate(zip(pw.args, sets)):
        ends = {piece.sup for piece in _pieces(where) if piece.sup in gaps}
        closed = where | sp.FiniteSet(*ends)
        last = n == len(sets) - 1 and (covered | gaps) == sp.S.Reals
        pieces.append((e, sp.true if last else _condition(closed, var)))
    return sp.Piecewise(*pieces, evaluate=False), _sorted(gaps.args)


# Stages ----------------------------------------------------------------------------------------------------
def _pending(expr: sp.Expr, var: sp.Symbol, known: Mapping) -> Iterator[sp.Derivative]:
    """The derivatives still to be taken, in the order they are written (preorder)."""
    if isinstance(expr, sp.Derivative):
        inner = expr.expr
        final = isinstance(inner, AppliedUndef) and inner.func not in known and inner.args == (var,)
        if expr.variables == (var,) and not final:
            yield expr
        return
    for arg in expr.args:
        yield from _pending(arg, var, known)


def _function_formulas(apps: list[Application]) -> tuple[sp.Basic, ...]:
    return tuple(
        dict.fromkeys(_eq(Prime(a.expr.func(_U)), _FUNCTION_FORMULAS[a.expr.func]) for a in apps)
    )


# The reasons: one function per rule case, in one table (a new rule adds one entry) -------------------------
Wording = Callable[[list[Application], sp.Symbol, Mapping], Reason]
"""The reason for one step, from its like applications, the variable and the known functions."""


def _power(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    first = apps[0]
    if all(a.expr == var for a in apps):
        return because(ReasonKind.VARIABLE, var=var)
    if first.chain:
        return because(ReasonKind.POWER_CHAIN, formula=POWER_CHAIN)
    formula = _eq(Prime(_to(var, _N)), _times(_N, _to(var, InOrder(_N, -1))))
    if any(a.expr == var for a in apps):
        return because(ReasonKind.POWER, formula=formula, also=_eq(Prime(var), 1))
    return because(ReasonKind.POWER, formula=formula)


def _exponential(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    first = apps[0]
    if any(not isinstance(a.expr, sp.exp) for a in apps):
        inside = {} if first.chain else {"inside": _eq(_U, var)}
        return because(ReasonKind.EXPONENTIAL_BASE, formula=EXPONENTIAL_BASE, **inside)
    if first.chain:
        return because(ReasonKind.EXPONENTIAL_CHAIN, formula=EXPONENTIAL_CHAIN)
    return because(ReasonKind.EXPONENTIAL, formula=_eq(Prime(sp.exp(var)), sp.exp(var)))


def _product(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    if any(len(a.result.args) > 2 for a in apps if isinstance(a.result, sp.Add)):
        return because(ReasonKind.PRODUCT_MANY)
    return because(ReasonKind.PRODUCT, formula=PRODUCT)


def _logarithm(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    if apps[0].chain:
        return because(ReasonKind.LOGARITHM_CHAIN, formula=LOGARITHM_CHAIN)
    return because(ReasonKind.LOGARITHM, function=sp.log(var), derivative=_to(var, -1))


def _family(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    """The trigonometric or hyperbolic functions: each one's formula, the family named in words."""
    first = apps[0]
    return because(
        ReasonKind.FUNCTIONS,
        family=first.kind.value,
        formulas=_function_formulas(apps),
        chain=first.chain,
    )


def _named(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    functions = dict.fromkeys(a.expr.func for a in apps)
    return because(
        ReasonKind.NAMED,
        formulas=tuple(known[f].formula_for(f) for f in functions),
        chain=apps[0].chain,
    )


def _piecewise(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    points = _sorted(set().union(*(set(kinks_of(a.expr, var)) for a in apps)))
    return because(ReasonKind.PIECES, kinks=tuple(_eq(var, p) for p in points))


def _by_cases_reason(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    return because(ReasonKind.CASES, cases=tuple(dict.fromkeys(_case(a.expr) for a in apps)))


def _constant(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    return because(ReasonKind.CONSTANT, var=var)


def _always(kind: ReasonKind, **params: ReasonValue) -> Wording:
    """A reason that is the same for every step of its case (the rule's formula, fixed)."""
    reason = because(kind, **params)
    return lambda apps, var, known: reason


REASONS: dict[RuleCase, Wording] = {
    RuleCase.CONSTANT: _constant,
    RuleCase.POWER: _power,
    RuleCase.SUM: _always(ReasonKind.SUM),
    RuleCase.CONSTANT_MULTIPLE: _always(ReasonKind.CONSTANT_MULTIPLE, formula=CONSTANT_MULTIPLE),
    RuleCase.QUOTIENT: _always(ReasonKind.QUOTIENT, formula=QUOTIENT),
    RuleCase.PRODUCT: _product,
    RuleCase.EXPONENTIAL: _exponential,
    RuleCase.LOGARITHM: _logarithm,
    RuleCase.TRIGONOMETRIC: _family,
    RuleCase.HYPERBOLIC: _family,
    RuleCase.NAMED: _named,
    RuleCase.REWRITE: _always(
        ReasonKind.REWRITE_POWER,
        power=_to(_U, _V),
        exponential=sp.exp(_times(_V, sp.log(_U)), evaluate=False),
    ),
    RuleCase.PIECEWISE: _piecewise,
    RuleCase.CASES: _by_cases_reason,
    RuleCase.SYMPY: _always(ReasonKind.SYMPY),
}
"""Each rule case's reason: the one place a rule's sentence is chosen (``derive.render.reasons`` words it)."""


def _reason(apps: list[Application], var: sp.Symbol, known: Mapping) -> Reason:
    """The reason for one step: like applications of one rule."""
    return REASONS[apps[0].kind](apps, var, known)


def _case(expr: sp.Expr) -> sp.Expr:
    """What a step writes by cases, as the reason names it: |u|, max(u, v), sign(u), H(u)."""
    return sp.Heaviside(expr.args[0]) if isinstance(expr, sp.Heaviside) else expr


def _kink_reason(var: sp.Symbol, at_kinks: list[tuple[sp.Expr, sp.Expr]], name: str) -> Reason:
    """The convention step's reason: no derivative at the kinks, the left slope used at each."""
    kinks = tuple(_eq(var, k) for k, _ in at_kinks)
    if name:
        function = sp.Function(name)(var)
        return because(
            ReasonKind.KINK,
            kinks=kinks,
            slopes=tuple(_eq(Prime(function, k), v) for k, v in at_kinks),
        )
    return because(ReasonKind.KINK, kinks=kinks, values=tuple(v for _, v in at_kinks))


def _known(known: Mapping | None) -> dict:
    out = {}
    for fn, value in (known or {}).items():
        out[fn] = value if isinstance(value, Known) else Known(value)
    return out


def differentiate(
    expr: sp.Expr,
    var: sp.Symbol,
    known: Mapping[sp.FunctionClass, Known | sp.Lambda] | None = None,
    name: str = "",
    tidy: bool = False,
) -> Differentiation:
    """d/dvar ``expr`` step by step: the stages after Derivative(expr, var), each checked like any step.

    ``known``: named functions and their derivatives written with themselves; ``name``: the
    function's name for the sentence at a kink (g'(1) = 0); ``tidy``: end with the evaluated form
    when it is clearly shorter and uses the same functions.
    """
    return _differentiate(sp.sympify(expr), var, tuple(_known(known).items()), name, tidy)


@functools.lru_cache(maxsize=256)
def _differentiate(
    expr: sp.Expr, var: sp.Symbol, known_items: tuple, name: str, tidy: bool
) -> Differentiation:
    """``differentiate``, remembered: every network made with a built-in activation asks for the same chain."""
    known = dict(known_items)
    b = _Build(var)
    current: sp.Expr = _d(expr, var)
    steps: list[ChainStep] = []
    while True:
        pending = list(dict.fromkeys(_pending(current, var, known)))
        if not pending:
            break
        if len(steps) >= MAX_STEPS:
            raise DeriveError(
                f"the derivative needs more than {MAX_STEPS} steps; write the definition more simply"
            )
        apps = {d: rule_for(d.expr, var, known) for d in pending}
        first = apps[pending[0]]
        group = [
            apps[d] for d in pending if (apps[d].kind, apps[d].chain) == (first.kind, first.chain)
        ]
        before, current = current, b.rebuild(current, {_d(a.expr, var): a.result for a in group})
        if (
            current == before
        ):  # a rule that changes nothing would loop: SymPy's own derivative kept its form
            raise DeriveError(f"cannot differentiate {sp.sstr(first.expr)} step by step")
        rule = first.rule if all(a.rule is first.rule for a in group) else Rule.CHAIN_RULE
        steps.append(ChainStep(current, rule, _reason(group, var, known)))
    at_kinks: list[tuple[sp.Expr, sp.Expr]] = []
    conventions, points = {}, set()
    for pw in current.atoms(sp.Piecewise):
        extended = _left_slopes(pw, var)
        if extended is not None:
            conventions[pw] = extended[0]
            points |= set(extended[1])
    if conventions:
        current = b.rebuild(current, conventions)
        at_kinks = [(k, _value_at(current, var, k)) for k in _sorted(points)]
        steps.append(ChainStep(current, Rule.CONVENTION, _kink_reason(var, at_kinks, name)))
    if tidy and not current.has(sp.Piecewise):
        tidier = _tidied(current)
        if tidier is not None:
            steps.append(ChainStep(tidier, Rule.SIMPLIFICATION, because(ReasonKind.TIDY)))
    if not steps:  # Derivative(expr) with nothing to do cannot happen: there is always one rule
        raise DeriveError("nothing to differentiate")
    return Differentiation(tuple(steps), locate_kinks(expr, var), tuple(at_kinks))


def _value_at(expr: sp.Expr, var: sp.Symbol, point: sp.Expr) -> sp.Expr:
    try:
        value = expr.xreplace({var: point}).doit()
    except (
        TypeError,
        ValueError,
    ):  # max(zoo, 1): the derivative is infinite or undefined at the kink
        raise DeriveError(
            f"the derivative is not a real number at {var} = {point}, where the pieces meet"
        ) from None
    try:
        return sp.simplify(value)
    except (TypeError, ValueError, NotImplementedError):
        return value


def _functions(expr: sp.Expr) -> set:
    return {type(f) for f in expr.atoms(sp.Function)}


def _tidied(expr: sp.Expr) -> sp.Expr | None:
    """SymPy's own evaluated form when it is clearly shorter and written with the same functions."""
    candidate = expr.doit()
    if candidate == expr or not _functions(candidate) <= _functions(expr):
        return None
    if sp.count_ops(candidate) <= sp.count_ops(expr) - 2:
        return candidate
    return None
