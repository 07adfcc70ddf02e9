"""Differentiation step by step: rules as data, one rule per step, every stage the whole derivative.

Modelled on SymPy's manualintegrate (and SymPy Gamma's diffsteps): ``rule_for`` says which rule
differentiates one expression and what it gives, with the parts still to do written as
``Derivative(...)``; ``differentiate`` applies the rules stage by stage, one rule at a time (to
every like derivative at once), so that each stage is a rewrite of the one before and SymPy can
check it (``doit()`` of a stage is the derivative). Nothing is simplified behind the reader's back:
named functions the definition uses (sigma, with sigma' = sigma(1 - sigma)) stay in the result.

Piecewise definitions (and |u|, max, min, sign, H written by cases) are differentiated piece by
piece away from their kinks, which are located from the conditions; at each kink the left slope is
used, and the step says so. The sentences are plain text for a student; printing is elsewhere.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterator, Mapping

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.functions.elementary.piecewise import ExprCondPair

from derive.errors import DeriveError
from derive.model.steps import Rule

Chain = tuple[tuple[sp.Expr, Rule, str], ...]
MAX_STEPS = 200  # a definition that needs more is not a derivation a student reads


@dataclass(frozen=True)
class Known:
    """A named function whose derivative is written with the function itself (sigma' = sigma(1 - sigma))."""

    derivative: sp.Lambda
    sentence: str = ""


@dataclass(frozen=True)
class Application:
    """One rule applied to one derivative d/dvar ``expr``: the ``result`` keeps what is left as Derivative(...).

    ``kind`` names the rule's case (grouping like applications into one step, and choosing the
    sentence); ``chain``: the inside is not the variable itself, so the chain rule is part of it.
    """

    kind: str
    rule: Rule
    expr: sp.Expr
    result: sp.Expr
    chain: bool = False


@dataclass(frozen=True)
class Differentiation:
    """The stages of a derivative (each the whole derivative), the kinks and what is used at each."""

    steps: Chain
    kinks: tuple[sp.Expr, ...] = ()
    at_kinks: tuple[tuple[sp.Expr, sp.Expr], ...] = ()  # (kink, the derivative used there: the left slope)

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1][0]


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
_DERIVATIVE_TEXT = {
    "sin": "(sin u)' = cos u", "cos": "(cos u)' = -sin u", "tan": "(tan u)' = 1 + tan² u",
    "cot": "(cot u)' = -(1 + cot² u)", "sec": "(sec u)' = sec u tan u", "csc": "(csc u)' = -csc u cot u",
    "sinh": "(sinh u)' = cosh u", "cosh": "(cosh u)' = sinh u", "tanh": "(tanh u)' = 1 - tanh² u",
    "coth": "(coth u)' = 1 - coth² u", "sech": "(sech u)' = -sech u tanh u", "csch": "(csch u)' = -csch u coth u",
}
_CASES = (sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside)


def rule_for(expr: sp.Expr, var: sp.Symbol, known: Mapping[sp.FunctionClass, Known] | None = None) -> Application:
    """The rule that differentiates ``expr`` with respect to ``var``, one level deep."""
    known = known or {}
    b = _Build(var)
    if not expr.has(var):
        return Application("constant", Rule.CONSTANT_RULE, expr, sp.Integer(0))
    if expr == var:
        return Application("power", Rule.POWER_RULE, expr, sp.Integer(1))
    if isinstance(expr, sp.Add):
        return Application("sum", Rule.SUM_RULE, expr, b.add(*(_d(t, var) for t in expr.args)))
    if isinstance(expr, sp.Mul):
        return _product_rule(expr, var, b)
    if isinstance(expr, sp.Pow):
        return _power_rule(expr, var, b)
    if isinstance(expr, sp.Piecewise):
        return _piecewise_rule(expr, var)
    if isinstance(expr, _CASES):
        return Application("cases", Rule.DEFINITION, expr, _d(_by_cases(expr), var))
    if len(expr.args) == 1:
        u = expr.args[0]
        outer = None
        if isinstance(expr, sp.exp):
            kind, rule, outer = "exponential", Rule.EXPONENTIAL_RULE, expr
        elif isinstance(expr, sp.log):
            kind, rule, outer = "logarithm", Rule.LOGARITHM_RULE, b.pow(u, -1)
        elif expr.func in _TRIG:
            kind, rule, outer = "trigonometric", Rule.TRIG_RULE, _TRIG[expr.func](u, b)
        elif expr.func in _HYPERBOLIC:
            kind, rule, outer = "hyperbolic", Rule.HYPERBOLIC_RULE, _HYPERBOLIC[expr.func](u, b)
        elif isinstance(expr, AppliedUndef) and expr.func in known:
            lam = known[expr.func].derivative
            with sp.evaluate(False):
                written = lam.expr.xreplace({lam.variables[0]: u})
            kind, rule, outer = "named", Rule.NAMED_FUNCTION_RULE, written
        if outer is not None:
            if u == var:
                return Application(kind, rule, expr, outer)
            return Application(kind, Rule.CHAIN_RULE, expr, b.mul(outer, _d(u, var)), chain=True)
    return Application("sympy", Rule.DIFFERENTIATION, expr, sp.diff(expr, var))


def _product_rule(expr: sp.Mul, var: sp.Symbol, b: _Build) -> Application:
    constant = [f for f in expr.args if not f.has(var)]
    varying = [f for f in expr.args if f.has(var)]
    if constant:
        return Application("constant multiple", Rule.CONSTANT_MULTIPLE_RULE, expr,
                           b.mul(*constant, _d(sp.Mul(*varying), var)))
    below = [f for f in varying if f.is_Pow and f.exp.is_Number and f.exp.is_negative]
    above = [f for f in varying if f not in below]
    if below and above:
        u, v = sp.Mul(*above), sp.Mul(*(f.base ** -f.exp for f in below))
        numerator = b.add(b.mul(_d(u, var), v), b.mul(-1, u, _d(v, var)))
        return Application("quotient", Rule.QUOTIENT_RULE, expr, b.mul(numerator, b.pow(b.pow(v, 2), -1)))
    terms = [b.mul(*(_d(f, var) if i == n else f for n, f in enumerate(varying))) for i in range(len(varying))]
    return Application("product", Rule.PRODUCT_RULE, expr, b.add(*terms))


def _power_rule(expr: sp.Pow, var: sp.Symbol, b: _Build) -> Application:
    base, exp = expr.args
    if not exp.has(var):
        outer = b.mul(exp, b.pow(base, sp.Add(exp, -1)))
        if base == var:
            return Application("power", Rule.POWER_RULE, expr, outer)
        return Application("power", Rule.CHAIN_RULE, expr, b.mul(outer, _d(base, var)), chain=True)
    if not base.has(var):
        outer = b.mul(expr, sp.log(base))
        if exp == var:
            return Application("exponential", Rule.EXPONENTIAL_RULE, expr, outer)
        return Application("exponential", Rule.CHAIN_RULE, expr, b.mul(outer, _d(exp, var)), chain=True)
    return Application("rewrite", Rule.REWRITE, expr, _d(sp.exp(b.mul(exp, sp.log(base)), evaluate=False), var))


def _by_cases(expr: sp.Expr) -> sp.Piecewise:
    """|u|, max, min, sign and H written by cases (the conditions locate the kinks)."""
    if isinstance(expr, sp.Abs):
        u = expr.args[0]
        return sp.Piecewise((u, u >= 0), (-u, True))
    return expr.rewrite(sp.Piecewise)


# Pieces and kinks ------------------------------------------------------------------------------------------
def _piece_sets(pw: sp.Piecewise, var: sp.Symbol) -> list[sp.Set] | None:
    """The set of real ``var`` where each piece applies (first true condition wins); None if not univariate."""
    taken: sp.Set = sp.S.EmptySet
    sets = []
    try:
        for _, cond in pw.args:
            if cond == sp.true:
                where: sp.Set = sp.S.Reals
            elif cond.free_symbols != {var}:
                return None
            else:
                where = cond.as_set().intersect(sp.S.Reals)
            where = where - taken
            sets.append(where)
            taken = taken | where
    except (NotImplementedError, TypeError, ValueError):
        return None
    return sets


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
            conds.append((sp.GreaterThan if not piece.left_open else sp.StrictGreaterThan)(var, piece.inf))
        if piece.sup.is_finite:
            conds.append((sp.StrictLessThan if piece.right_open else sp.LessThan)(var, piece.sup))
        parts.append(sp.And(*conds) if conds else sp.true)
    return sp.Or(*parts) if parts else sp.false


def _piecewise_rule(pw: sp.Piecewise, var: sp.Symbol) -> Application:
    sets = _piece_sets(pw, var)
    if sets is None:
        pieces = [(_d(e, var), c) for e, c in pw.args]
        return Application("piecewise", Rule.PIECEWISE_RULE, pw, sp.Piecewise(*pieces, evaluate=False))
    pieces = []
    for (e, _), where in zip(pw.args, sets):
        inside = where.interior
        if inside != sp.S.EmptySet:
            pieces.append((_d(e, var), _condition(inside, var)))
    return Application("piecewise", Rule.PIECEWISE_RULE, pw, sp.Piecewise(*pieces, evaluate=False))


def _left_slopes(pw: sp.Piecewise, var: sp.Symbol) -> tuple[sp.Piecewise, tuple[sp.Expr, ...]] | None:
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


def _names(apps: list[Application]) -> str:
    return ", ".join(dict.fromkeys(_DERIVATIVE_TEXT[a.expr.func.__name__] for a in apps))


def _sentence(apps: list[Application], var: sp.Symbol) -> str:
    """The sentence for one step: like applications of one rule."""
    first = apps[0]
    v = str(var)
    chain = ", times the derivative of the inside (chain rule)" if first.chain else ""
    kind = first.kind
    if kind == "constant":
        return f"Constant rule: a term without {v} has derivative 0."
    if kind == "power":
        if all(a.expr == var for a in apps):
            return f"The derivative of {v} is 1."
        if first.chain:
            return "Power rule with the chain rule: (u^n)' = n·u^(n-1)·u'."
        tail = f"; {v}' = 1" if any(a.expr == var for a in apps) else ""
        return f"Power rule: ({v}^n)' = n·{v}^(n-1){tail}."
    if kind == "sum":
        return "Sum rule: differentiate term by term."
    if kind == "constant multiple":
        return "Constant multiple rule: (c·u)' = c·u'."
    if kind == "product":
        if any(len(a.result.args) > 2 for a in apps if isinstance(a.result, sp.Add)):
            return "Product rule: each factor's derivative times the other factors, added up."
        return "Product rule: (uv)' = u'v + uv'."
    if kind == "quotient":
        return "Quotient rule: (u/v)' = (u'v - uv')/v²."
    if kind == "exponential":
        if any(not isinstance(a.expr, sp.exp) for a in apps):
            return f"Exponential rule: (b^u)' = b^u·ln b·u'{'' if first.chain else f' with u = {v}'}."
        if first.chain:
            return "Chain rule with the exponential: (e^u)' = e^u·u'."
        return f"The exponential is its own derivative: (e^{v})' = e^{v}."
    if kind == "logarithm":
        if first.chain:
            return "Chain rule with the logarithm: (ln u)' = u'/u."
        return f"The derivative of ln {v} is 1/{v}."
    if kind in ("trigonometric", "hyperbolic"):
        return f"Derivative of the {'trigonometric' if kind == 'trigonometric' else 'hyperbolic'} " \
               f"function{'s' if len({a.expr.func for a in apps}) > 1 else ''}: {_names(apps)}{chain}."
    if kind == "named":
        return f"{first.expr.func.__name__}'s derivative written with itself{chain}."
    if kind == "piecewise":
        return "Differentiate each piece."
    if kind == "cases":
        return "Write it by cases."
    if kind == "rewrite":
        return "Write u^v as e^(v·ln u)."
    return "SymPy's derivative (no step-by-step rule for this function)."


def _reason(apps: list[Application], var: sp.Symbol, known: Mapping) -> str:
    first = apps[0]
    if first.kind == "named":
        sentences = [known[f].sentence for f in dict.fromkeys(a.expr.func for a in apps) if known[f].sentence]
        if sentences:
            tail = ", times the derivative of the inside (chain rule)" if first.chain else ""
            return f"The derivative written with the function itself: {'; '.join(sentences)}{tail}."
    if first.kind == "piecewise":
        points = _sorted(set().union(*(set(kinks_of(a.expr, var)) for a in apps)))
        if points:
            where = " and ".join(f"{var} = {p}" for p in points)
            return f"Differentiate each piece away from the kink{'s' if len(points) > 1 else ''} at {where}."
    if first.kind == "cases":
        what = " and ".join(dict.fromkeys(_case_name(a.expr) for a in apps))
        return f"Write {what} by cases."
    return _sentence(apps, var)


def _case_name(expr: sp.Expr) -> str:
    if isinstance(expr, sp.Abs):
        return f"|{sp.sstr(expr.args[0])}|"
    name = {sp.Max: "max", sp.Min: "min", sp.sign: "sign", sp.Heaviside: "H"}[type(expr)]
    return f"{name}({', '.join(sp.sstr(arg) for arg in expr.args[:1 if name == 'H' else None])})"


def _known(known: Mapping | None) -> dict:
    out = {}
    for fn, value in (known or {}).items():
        out[fn] = value if isinstance(value, Known) else Known(value)
    return out


def differentiate(expr: sp.Expr, var: sp.Symbol, known: Mapping[sp.FunctionClass, Known | sp.Lambda] | None = None,
                  name: str = "", tidy: bool = False) -> Differentiation:
    """d/dvar ``expr`` step by step: the stages after Derivative(expr, var), each checked like any step.

    ``known``: named functions and their derivatives written with themselves; ``name``: the
    function's name for the sentence at a kink (g'(1) = 0); ``tidy``: end with the evaluated form
    when it is clearly shorter and uses the same functions.
    """
    return _differentiate(sp.sympify(expr), var, tuple(_known(known).items()), name, tidy)


@functools.lru_cache(maxsize=256)
def _differentiate(expr: sp.Expr, var: sp.Symbol, known_items: tuple, name: str, tidy: bool) -> Differentiation:
    """``differentiate``, remembered: every network made with a built-in activation asks for the same chain."""
    known = dict(known_items)
    b = _Build(var)
    current: sp.Expr = _d(expr, var)
    steps: list[tuple[sp.Expr, Rule, str]] = []
    while True:
        pending = list(dict.fromkeys(_pending(current, var, known)))
        if not pending:
            break
        if len(steps) >= MAX_STEPS:
            raise DeriveError(f"the derivative needs more than {MAX_STEPS} steps; write the definition more simply")
        apps = {d: rule_for(d.expr, var, known) for d in pending}
        first = apps[pending[0]]
        group = [apps[d] for d in pending if (apps[d].kind, apps[d].chain) == (first.kind, first.chain)]
        before, current = current, b.rebuild(current, {_d(a.expr, var): a.result for a in group})
        if current == before:  # a rule that changes nothing would loop: SymPy's own derivative kept its form
            raise DeriveError(f"cannot differentiate {sp.sstr(first.expr)} step by step")
        rule = first.rule if all(a.rule is first.rule for a in group) else Rule.CHAIN_RULE
        steps.append((current, rule, _reason(group, var, known)))
    at_kinks: list[tuple[sp.Expr, sp.Expr]] = []
    conventions, points = {}, set()
    for pw in current.atoms(sp.Piecewise):
        extended = _left_slopes(pw, var)
        if extended is not None:
            conventions[pw] = extended[0]
            points |= set(extended[1])
    if conventions:
        current = b.rebuild(current, conventions)
        points = _sorted(points)
        at_kinks = [(k, _value_at(current, var, k)) for k in points]
        where = " and ".join(f"{var} = {k}" for k in points)
        used = ", ".join(f"{name}'({k}) = {sp.sstr(v)}" if name else f"{sp.sstr(v)} at {var} = {k}"
                         for k, v in at_kinks)
        steps.append((current, Rule.CONVENTION, f"There is no derivative at {where}, where the definition switches; "
                                                f"we use the left slope there, {used}."))
    if tidy and not current.has(sp.Piecewise):
        tidier = _tidied(current)
        if tidier is not None:
            steps.append((tidier, Rule.SIMPLIFICATION, "Collect the terms."))
    if not steps:  # Derivative(expr) with nothing to do cannot happen: there is always one rule
        raise DeriveError("nothing to differentiate")
    return Differentiation(tuple(steps), locate_kinks(expr, var), tuple(at_kinks))


def _value_at(expr: sp.Expr, var: sp.Symbol, point: sp.Expr) -> sp.Expr:
    value = expr.xreplace({var: point}).doit()
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
