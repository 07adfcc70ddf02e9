"""Judging a student's answer against the engine's: equivalent or not, and which common mistake.

Equivalence is decided symbolically when that is quick (the difference expands to 0), else by
exact or 120-digit evaluation at random points of the network (``expansion.Model``: every
quantity takes consistent values, derivatives are SymPy's own), for every value of the free
node indices. A wrong answer is compared with the key's common mutations (a missing factor 2,
a sign error, no activation derivative, a_j for a_k, w_kj for w_jk, the downstream sum
forgotten), so the feedback can name the likely mistake. The whole judgement of untrusted
text runs in a time-limited child process.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from .activations import _SIGMA_DEFINITION, SIGMA, Z
from .errors import DeriveError
from .expansion import Model, assignments, equal, prime_function, with_activations, _settle
from .latex_in import Context, LatexInputError, _parse
from .limits import run_limited

if TYPE_CHECKING:
    from .network import Network

JUDGE_SECONDS = 20.0
POINTS = 3
NUMERIC_TOLERANCE = 1e-3  # relative, for numbers computed by hand (at least 4 significant digits agree)


@dataclass(frozen=True)
class Verdict:
    """The outcome for one answer: 'correct', 'wrong' or 'unreadable', and a sentence for the student."""

    status: str
    message: str
    mistake: str = ""

    @property
    def exit_code(self) -> int:
        return {"correct": 0, "wrong": 1}.get(self.status, 2)


@dataclass(frozen=True)
class Expected:
    """What a question expects: the key expression and how answers are compared."""

    key: sp.Expr
    context: Context
    numeric: bool = False  # a number, compared with NUMERIC_TOLERANCE
    point: dict | None = None  # the question's values (numeric questions)
    mutations: tuple[tuple[str, sp.Expr], ...] = ()


# Equivalence ------------------------------------------------------------------------------
def _free_indices(expr: sp.Expr) -> set:
    bound = {lim[0] for s in expr.atoms(sp.Sum) for lim in s.limits}
    return {i for atom in expr.atoms(sp.Indexed) for i in atom.indices if i.is_Symbol and i not in bound}


def _models(ctx: Context, point: dict | None) -> list[Model]:
    if point is not None:
        models = [Model(ctx.net, point=point)]
    else:
        models = [Model(ctx.net, random.Random(seed)) for seed in range(POINTS)]
    for model in models:  # sigma may appear in any answer (a tanh network's student writes it too)
        model.functions.setdefault(SIGMA, _SIGMA_DEFINITION)
        model.functions.setdefault(prime_function(SIGMA), sp.Lambda(Z, sp.diff(_SIGMA_DEFINITION(Z), Z)))
    return models


def equivalent(student: sp.Expr, key: sp.Expr, ctx: Context, models: list[Model] | None = None) -> bool:
    """Equal as formulas of the network (index form), or as functions of z (activation questions).

    ``models``: the random points to compare at (made once per judgement and shared by the
    key and every mutation); by default POINTS fresh ones.
    """
    try:
        if sp.expand(student - key) == 0:
            return True
    except Exception:  # noqa: BLE001 - symbolic shortcut only; the evaluation below decides
        pass
    models = models if models is not None else _models(ctx, None)
    if ctx.variable_z:
        return _equivalent_in_z(student, key, ctx, models[0])
    claim = student + key
    for model in models:
        for assignment in assignments(claim, ctx.net, 24, random.Random(0)):
            if not equal(model.value(student.xreplace(assignment)), model.value(key.xreplace(assignment))):
                return False
    return True


def _equivalent_in_z(student: sp.Expr, key: sp.Expr, ctx: Context, model: Model) -> bool:
    rng = random.Random(0)
    for _ in range(5):
        z = sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 40), rng.choice([7, 10, 13]))
        values = [_settle(model.value(with_activations(e, ctx.net).subs(Z, z).doit())) for e in (student, key)]
        if not equal(*values):
            return False
    return True


def numeric_value(expr: sp.Expr, ctx: Context, point: dict, model: Model | None = None) -> sp.Expr:
    """The exact (or 120-digit) value of a concrete formula at the question's numbers."""
    return (model or _models(ctx, point)[0]).value(expr)


def _close(value: sp.Expr, target: sp.Expr) -> bool:
    """Agreement of a hand-computed number within NUMERIC_TOLERANCE."""
    return bool(abs(value - target) <= NUMERIC_TOLERANCE * max(abs(target), sp.Float("1e-6")))


# Common mistakes ----------------------------------------------------------------------------
def mutations(key: sp.Expr, net: "Network", layer: int | None) -> tuple[tuple[str, sp.Expr], ...]:
    """The key as it comes out after the usual slips, each with its feedback."""
    s = net.symbols
    out: list[tuple[str, sp.Expr]] = [
        ("a sign error: your answer is the negative of the right one", -key),
        ("a missing factor 2 (the power rule on the square brings down a 2)", key / 2),
        ("an extra factor 2", key * 2),
    ]
    primes = [d for d in key.atoms(sp.Derivative) if d.expr.func != type(s.cost) and d.expr.is_Function]
    if primes:
        out.append(("a missing activation derivative g'(z)", key.xreplace({d: sp.Integer(1) for d in primes})))
    if layer is not None:
        below = {s.x[s.k]: s.x[s.j]} if layer == 1 else {s.a[layer - 1, s.k]: s.a[layer - 1, s.j]}
        out.append(("a_j where a_k belongs: the weight's input is node k of the layer below", key.xreplace(below)))
    weights = {w: s.w[w.indices[0], w.indices[2], w.indices[1]] for w in key.atoms(sp.Indexed) if w.base == s.w}
    if weights:
        out.append(("a transposed weight: w_{jk} connects node k below to node j above, not w_{kj}",
                    key.xreplace(weights)))
    sums = list(key.atoms(sp.Sum))
    if sums:
        out.append(("the downstream sum forgotten: node j feeds every node i of the next layer",
                    key.xreplace({t: t.function.xreplace({t.limits[0][0]: s.j}) for t in sums})))
    return tuple(out)


# Judging --------------------------------------------------------------------------------------
def _judge(latex: str, expected: Expected) -> Verdict:
    try:
        student = _parse(latex, expected.context)
    except LatexInputError as error:
        return Verdict("unreadable", str(error))
    models = _models(expected.context, expected.point)
    if expected.numeric:
        if student.free_symbols:
            return Verdict("wrong", "a number is expected here, not a formula")
        value = sp.N(student, 30)

        def matches(target: sp.Expr) -> bool:
            return _close(value, numeric_value(target, expected.context, expected.point, models[0]))

        key = numeric_value(expected.key, expected.context, expected.point, models[0])
        right = f"correct (expected {sp.N(key, 6)})"
        otherwise = "not the expected value (to 3 significant digits)"
    else:
        extra = _free_indices(student) - _free_indices(expected.key)
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            forgot = expected.key.has(sp.Sum)
            return Verdict("wrong", f"the index {names} is free in your answer but not in the question"
                           + (f"; it looks like the downstream sum forgotten (sum over {names})" if forgot else ""),
                           "the downstream sum forgotten" if forgot else "a free index")

        def matches(target: sp.Expr) -> bool:
            return equivalent(student, target, expected.context, models)

        right = "correct"
        otherwise = "not equal to the expected answer (checked at random values of every quantity)"
    if matches(expected.key):
        return Verdict("correct", right)
    for mistake, wrong in expected.mutations:
        if matches(wrong):
            return Verdict("wrong", f"not quite; it looks like {mistake}", mistake)
    return Verdict("wrong", otherwise)


def judge(latex: str, expected: Expected, seconds: float = JUDGE_SECONDS) -> Verdict:
    """Parse and judge a student's LaTeX; bounded in time, never raises on bad input."""
    try:
        return run_limited(_judge, latex, expected, seconds=seconds, what="checking the answer")
    except DeriveError as error:
        return Verdict("unreadable", str(error))
