"""Judging a student's answer against the engine's: correct, wrong (and why), or unreadable.

Soundness first. The answer is read by our own parser (``derive.read.latex``): every character is used or
the answer is refused with the place quoted. An answer that still contains a derivative, restates
what is asked, or uses δ where the question does not allow it, is not an answer. Equivalence is
decided by values at points drawn fresh for every judgement from the operating system's random
source: exact rational inputs, weights, biases and targets, every activation to 60 digits
(``evaluate.PointValues``), on the full index ranges the question defines, with the kinks of
ReLU-like activations seen from both sides. A value that is infinite or undefined equals nothing;
a node index outside its layer is an error in the answer, and so is a sum over one of the question's
own free indices (whatever its range: on one output node a sum over j has one term).

A wrong answer is compared with the key after the usual slips (a sign, the factor 2, g' left out,
a_j for a_k, w_kj, the downstream sum forgotten), so the feedback names the slip only when the
answer equals it; otherwise it says what is true: a constant factor, the factor that differs, or
the two values at one point.
"""

from __future__ import annotations

import enum
import random
import re
import secrets
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Callable, Iterator

import mpmath
import sympy as sp

from derive.model.activations import Z
from derive.errors import DeriveError
from derive.evaluate.points import DIGITS as EVALUATION_DIGITS
from derive.evaluate.points import NotFinite, OutOfRange, PointValues, TooLarge, close, prepared
from derive.evaluate.exact import (
    covering,
    index_ranges,
    kink_coverage,
    prime_function,
    primes_as_functions,
)
from derive.read.latex import Context, IndexMisuse, LatexInputError, Member, read_chain
from derive.limits import InternalError, run_limited

if TYPE_CHECKING:
    from derive.model.network import Network

JUDGE_SECONDS = 20.0
POINTS = 3
Z_POINTS = 6
MAX_ASSIGNMENTS = 64
DIGITS = 4  # significant digits a numeric question asks for (sheet, key, Moodle and messages)


class Status(str, enum.Enum):
    """The outcome's kind; its exit code is 0, 1, 2 or 3."""

    CORRECT = "correct"
    WRONG = "wrong"
    UNREADABLE = "unreadable"
    ERROR = "error"


class Mistake(str, enum.Enum):
    """Named reasons for a wrong verdict (stable identifiers: tests, batch grades, feedback)."""

    SIGN = "sign"
    MISSING_TWO = "missing-factor-2"
    EXTRA_TWO = "extra-factor-2"
    MISSING_ACTIVATION_DERIVATIVE = "missing-activation-derivative"
    A_J_FOR_A_K = "a_j-for-a_k"
    TRANSPOSED_WEIGHT = "transposed-weight"
    FORGOTTEN_SUM = "forgotten-downstream-sum"
    FORGOTTEN_INNER = "forgotten-inner-derivative"
    FREE_INDEX = "free-index"
    INDEX_MISUSE = (
        "index-misuse"  # a sum over the question's own index, or inside another sum over the same
    )
    INDEX_OUT_OF_RANGE = "index-out-of-range"
    NOT_AN_ANSWER = "not-an-answer"
    NOT_FINITE = "not-finite"
    TOO_FEW_DIGITS = "too-few-digits"
    CONSTANT_FACTOR = "constant-factor"
    MISSING_INPUT = "missing-input"
    FORGOTTEN_LEARNING_RATE = "forgotten-learning-rate"  # a weight change without eta
    UPDATED_FOR_CHANGE = "updated-weight-for-change"  # w + Δw given where Δw is asked
    CHANGE_FOR_UPDATED = "change-for-updated-weight"  # Δw given where w + Δw is asked


@dataclass(frozen=True)
class Verdict:
    """The outcome for one answer and one sentence for the student."""

    status: Status
    message: str
    mistake: Mistake | None = None

    def as_dict(self) -> dict:
        """What ``derive check-answer --json`` prints."""
        return {
            "verdict": Status(self.status).value,
            "message": self.message,
            "mistake": None if self.mistake is None else Mistake(self.mistake).value,
        }


@dataclass(frozen=True)
class Slip:
    """A usual mistake: the key as it comes out after it, and what to tell the student."""

    mistake: Mistake
    message: str
    expr: sp.Expr


@dataclass(frozen=True)
class Expected:
    """What a question expects and how answers to it are judged."""

    key: sp.Expr
    context: Context
    asked: tuple[sp.Expr, ...] = ()  # what a left-hand side may be (the quantity asked for)
    numeric: bool = False
    value: sp.Expr | None = None  # a numeric question's exact (or 120-digit) answer
    digits: int = DIGITS
    delta_from: int | None = None  # δ of layers >= this may be used; None: no δ
    restated: tuple = ()  # functions whose derivative is what the question asks for
    slips: tuple[Slip, ...] = ()
    learning_rate: sp.Expr | None = None  # the η a question gives: \eta in an answer stands for it
    point: dict | None = field(
        default=None, compare=False
    )  # numeric questions: the question's numbers


class _Refusal(Exception):
    """A verdict reached early (not an answer, not finite, out of range)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


def _wrong(message: str, mistake: Mistake | None = None) -> _Refusal:
    return _Refusal(Verdict(Status.WRONG, message, mistake))


def _unreadable_size() -> _Refusal:
    return _Refusal(
        Verdict(
            Status.UNREADABLE,
            "your answer has numbers far too large to check "
            "(such as e^(10^4) or more); simplify it",
        )
    )


# Display ------------------------------------------------------------------------------------------
def shown(expr: sp.Expr, net: "Network") -> str:
    """A formula as text in the project's notation (g' written as a derivative again)."""
    from derive.notation.printing import text

    def back(e: sp.Expr) -> sp.Expr:
        fn = sp.Function(type(e).__name__.removesuffix("__prime"))
        (arg,) = e.args
        if isinstance(arg, (sp.Symbol, sp.Indexed)):
            return sp.Derivative(fn(arg), arg)
        return sp.Subs(sp.Derivative(fn(Z), Z), Z, arg)

    expr = expr.replace(
        lambda e: (
            isinstance(e, sp.core.function.AppliedUndef) and type(e).__name__.endswith("__prime")
        ),
        back,
    )
    return text(expr, net.notation)


# Reading ------------------------------------------------------------------------------------------
def parse_student(latex: str, expected: Expected) -> list[sp.Expr]:
    """The members of the answer that must each equal the key (a left-hand side that names the
    quantity asked for is dropped). Raises LatexInputError for unreadable text."""
    members = read_chain(
        _spelled_out(latex, expected), reading_context(expected), numbers=expected.numeric
    )
    return [m.expr for m in _answer_members(members, expected)]


_ETA = re.compile(r"(?:(?<!\\)\\eta(?![A-Za-z])|η)(?P<number>\s*(?=\.?\d))?")
_CHANGE = re.compile(r"(?<!\\)\\Delta(?![A-Za-z])|Δ")
_RELATION = re.compile(r"=|\\approx(?![A-Za-z])")


def _spelled_out(latex: str, expected: Expected) -> str:
    """The answer with what the reader does not know written out: \\eta as the question's learning
    rate, and a left-hand side Δw dropped when Δw is what is asked (with the weight's indices as
    asked, or none). Any other Δ restates what is asked: not an answer."""
    if expected.learning_rate is not None:
        eta = sp.Rational(expected.learning_rate)
        written = rf"\left(\frac{{{eta.p}}}{{{eta.q}}}\right)"
        latex = _ETA.sub(  # η 2 is η times 2, as the reader takes x 2 (but refuses 0.1 2)
            lambda m: written + (r" \cdot " if m["number"] is not None else ""), latex
        )
    net = expected.context.net
    s = net.symbols
    changes = [a for a in expected.asked if isinstance(a, sp.Indexed) and a.base == s.dw]
    if not changes or not _CHANGE.search(latex):
        return latex
    change, latex = changes[0], latex.lstrip()
    head, relation = _CHANGE.match(latex), _RELATION.search(latex)
    if head is None or relation is None:
        raise _wrong(
            f"your answer restates {shown(change, net)}, the change the question asks for: "
            "work it out",
            Mistake.NOT_AN_ANSWER,
        )
    weight = latex[head.end() : relation.start()]
    if weight.strip().strip("{}").strip() != s.w.name:
        members = read_chain(weight, expected.context)
        if len(members) != 1 or members[0].expr != s.w[change.indices]:
            raise _wrong(
                f"your left-hand side Δ{_clip(weight.strip())} is not what the question asks "
                f"({shown(change, net)})",
                Mistake.NOT_AN_ANSWER,
            )
    rest = latex[relation.end() :]
    if _CHANGE.search(rest):
        raise _wrong(
            f"your answer restates {shown(change, net)}, the change the question asks for: "
            "work it out",
            Mistake.NOT_AN_ANSWER,
        )
    return rest


def _answer_members(members: list[Member], expected: Expected) -> list[Member]:
    if not expected.numeric and any(m.relation == "approx" for m in members):
        raise LatexInputError("use = here (\\approx is for numbers)")
    first = members[0].expr
    if len(members) > 1 and _is_derivative_like(first, expected):
        if not any(first == asked for asked in expected.asked):
            raise _wrong(
                f"your left-hand side {shown(first, expected.context.net)} is not what the question asks",
                Mistake.NOT_AN_ANSWER,
            )
        members = members[1:]
    return members


def _is_derivative_like(expr: sp.Expr, expected: Expected) -> bool:
    if isinstance(expr, sp.Derivative):
        return True
    return any(isinstance(expr, prime_function(fn)) for fn in expected.restated)


def _forbidden(expr: sp.Expr, expected: Expected) -> None:
    """Refuse what is not an answer: derivatives left in, the question restated, δ where not allowed."""
    net = expected.context.net
    for d in expr.atoms(sp.Derivative):
        raise _wrong(
            f"your answer still contains the derivative {shown(d, net)}: work it out",
            Mistake.NOT_AN_ANSWER,
        )
    for fn in expected.restated:
        if expr.atoms(prime_function(fn)):
            raise _wrong(
                "your answer contains g'(z), the derivative the question asks you to find; "
                "write it out",
                Mistake.NOT_AN_ANSWER,
            )
    s = net.symbols
    for q in expr.atoms(sp.Indexed):
        if q.base == s.delta:
            layer = int(q.indices[0])
            if expected.delta_from is None:
                raise _wrong(
                    "δ is not allowed in this question (see the exercise sheet): "
                    "write the answer in a, z, w, x and y",
                    Mistake.NOT_AN_ANSWER,
                )
            if layer < expected.delta_from:
                raise _wrong(
                    f"{shown(q, net)} is what this question asks you to work out; "
                    f"δ may be used only from layer {expected.delta_from} on",
                    Mistake.NOT_AN_ANSWER,
                )
    if expr.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise _wrong(
            "your answer is not a finite number (infinity, or a division by zero)",
            Mistake.NOT_FINITE,
        )


def _free_indices(expr: sp.Expr) -> set:
    bound = {lim[0] for s in expr.atoms(sp.Sum) for lim in s.limits}
    return {
        i for atom in expr.atoms(sp.Indexed) for i in atom.indices if i.is_Symbol and i not in bound
    }


def reading_context(expected: Expected) -> Context:
    """The question's context, told the question's own free indices: an answer may not sum over them
    (on a network with one output, a sum over j has one term and would otherwise pass unnoticed)."""
    if expected.numeric or expected.context.variable_z:
        return expected.context
    question = _question_indices(expected)
    owners = tuple(
        (str(index), _owner(index, question, expected))
        for index in sorted(_free_indices(question), key=str)
    )
    return replace(expected.context, own_indices=owners) if owners else expected.context


def _owner(index: sp.Symbol, question: sp.Expr, expected: Expected) -> str:
    """The quantity of the question that carries ``index``, without its layer: w_jk for ∂C_0/∂w_jk^(2)
    (the quantity asked for first, and of its quantities the one with the most free indices)."""
    asked = [q for a in expected.asked[:1] for q in a.atoms(sp.Indexed) if index in q.indices]
    candidates = asked or [q for q in question.atoms(sp.Indexed) if index in q.indices]
    best = max(candidates, key=lambda q: (sum(i.is_Symbol for i in q.indices), str(q)))
    return shown(best, expected.context.net).split("^")[0]


def _question_indices(expected: Expected) -> sp.Expr:
    """What defines the question's free node indices and their ranges: the key and the quantity asked
    for (∂z_j/∂w_jk has j and k even though its value a_k has only k)."""
    asked = [q for a in expected.asked[:1] for q in a.atoms(sp.Indexed)]
    return sp.Add(expected.key, *asked, evaluate=False) if asked else expected.key


# Points -------------------------------------------------------------------------------------------
def _fresh_rng() -> random.Random:
    """A generator seeded from the operating system: the student cannot predict the points."""
    return random.Random(secrets.randbits(128))


def _rational(rng: random.Random, low: float, high: float) -> sp.Rational:
    q = rng.randint(1000, 9999)
    return sp.Rational(rng.randint(int(low * q), int(high * q)), q)


def judge_point(net: "Network", rng: random.Random) -> dict:
    """Random exact rationals: inputs and weights in [-2, 2], biases in [-1, 1], targets in (0, 1),
    parameters (a symbolic gain) in [1/2, 3]."""
    s = net.symbols
    point = {s.x[k]: _rational(rng, -2, 2) for k in range(net.size(0))}
    point.update({s.y[j]: _rational(rng, 0.01, 0.99) for j in range(net.size(net.L))})
    for layer in range(1, net.L + 1):
        for j in range(net.size(layer)):
            if net.bias:
                point[s.b[layer, j]] = _rational(rng, -1, 1)
            for k in range(net.size(layer - 1)):
                point[s.w[layer, j, k]] = _rational(rng, -2, 2)
    for act in net.activations:
        for sym in act.definition.expr.free_symbols - {Z}:
            point[sym] = _rational(rng, 0.5, 3)
    return point


def network_points(net: "Network", rng: random.Random, count: int = POINTS) -> list[PointValues]:
    """``count`` points, plus more until every node of a kinked layer was seen on both sides and the
    outputs with both signs where they can have them (``evaluate.exact.covering``, the rule the checks
    use: a missing ReLU' or a wrong slope cannot pass because every z happened to be positive)."""
    s = net.symbols
    return covering(
        net,
        lambda: PointValues(net, judge_point(net, rng)),
        lambda v: kink_coverage(net, v.z, lambda j: v.bases[s.a.label][(net.L, j)]),
        count,
    )


@dataclass
class _Evaluations:
    """Every place an answer is compared at: (values at a point, an assignment of the free indices)."""

    places: list[tuple[PointValues, dict]]
    labels: list[str]

    def of(self, expr: sp.Expr) -> list:
        expr = prepared(expr)
        return [values.value_of(expr, env) for values, env in self.places]


def _assignments(question: sp.Expr, net: "Network", rng: random.Random) -> list[dict]:
    ranges = index_ranges(question, net)
    symbols = sorted(ranges, key=str)
    combos: list[tuple[int, ...]] = [()]
    for symbol in symbols:
        combos = [c + (v,) for c in combos for v in range(ranges[symbol])]
    if len(combos) > MAX_ASSIGNMENTS:
        combos = rng.sample(combos, MAX_ASSIGNMENTS)
    return [dict(zip(symbols, combo)) for combo in combos]


def _evaluations(expected: Expected, rng: random.Random) -> _Evaluations:
    ctx = expected.context
    net = ctx.net
    places, labels = [], []
    if ctx.variable_z:
        parameters = {
            sym: _rational(rng, 0.5, 3)
            for act in net.activations
            for sym in act.definition.expr.free_symbols - {Z}
        }
        values = PointValues(parameters=parameters, activations=tuple(net.activations))
        zs = [_rational(rng, -4, 4) for _ in range(Z_POINTS)]
        for act in net.activations:  # a kinked g (ELU) is seen on both sides of each kink, always
            for kink in act.kinks:
                zs += [kink - _rational(rng, 0.1, 4), kink + _rational(rng, 0.1, 4)]
        for z in zs:
            places.append((values, {Z: mpmath.mpf(z.p) / z.q}))
            labels.append(f"z = {float(z):.4g}")
        return _Evaluations(places, labels)
    for values in network_points(net, rng):
        for assignment in _assignments(_question_indices(expected), net, rng):
            places.append((values, {k: mpmath.mpf(v) for k, v in assignment.items()}))
            labels.append(", ".join(f"{k} = {v}" for k, v in assignment.items()))
    return _Evaluations(places, labels)


# Judging formulas -----------------------------------------------------------------------------------
def _values(expr: sp.Expr, evaluations: _Evaluations, expected: Expected) -> list:
    net = expected.context.net
    try:
        return evaluations.of(expr)
    except TooLarge:
        raise _unreadable_size() from None
    except NotFinite:
        raise _wrong(
            "your answer is not a finite real number at some values of the network "
            "(a division by zero, a logarithm of 0 or of a negative number)",
            Mistake.NOT_FINITE,
        ) from None
    except OutOfRange as error:
        q, indices = error.quantity, error.indices
        raise _wrong(_range_message(q, indices, net), Mistake.INDEX_OUT_OF_RANGE) from None


def _range_message(q: sp.Indexed, indices: tuple[int, ...], net: "Network") -> str:
    """Which node index of ``q`` has no node in its layer, with the values the index took."""
    s = net.symbols
    if q.base in (s.x, s.y):
        positions = [(q.indices[0], indices[0], 0 if q.base == s.x else net.L)]
    else:
        layer = indices[0]
        layers = [layer, layer - 1] if q.base == s.w else [layer]
        positions = list(zip(q.indices[1:], indices[1:], layers))
    for written, value, layer in positions:
        if not 0 <= value < net.size(layer):
            which = f"{written} = {value}" if not written.is_Integer else f"node {value}"
            return (
                f"{shown(q, net)} with {which} does not exist: layer {layer} has nodes 0..{net.size(layer) - 1} "
                "(check which layer each index belongs to)"
            )
    return f"{shown(q, net)} does not exist in this network"


def _same(a: list, b: list) -> bool:
    return all(close(x, y) for x, y in zip(a, b))


def _judge_formula(members: list[Member], expected: Expected, rng: random.Random) -> Verdict:
    key_free = _free_indices(_question_indices(expected))
    for member in members:
        extra = _free_indices(member.expr) - key_free
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            if expected.key.has(sp.Sum):
                return Verdict(
                    Status.WRONG,
                    f"the index {names} is free in your answer but not in the question: "
                    "it looks like the downstream sum forgotten (node j feeds every node of the next "
                    "layer)",
                    Mistake.FORGOTTEN_SUM,
                )
            return Verdict(
                Status.WRONG,
                f"the index {names} is free in your answer but not in the question",
                Mistake.FREE_INDEX,
            )
    evaluations = _evaluations(expected, rng)
    key_values = evaluations.of(expected.key)
    for member in members:
        values = _values(member.expr, evaluations, expected)
        if not _same(values, key_values):
            prefix = "" if len(members) == 1 else f"'{_clip(member.source)}' is wrong: "
            verdict = _diagnose(member.expr, values, key_values, evaluations, expected)
            return Verdict(verdict.status, prefix + verdict.message, verdict.mistake)
    return Verdict(Status.CORRECT, "correct")


def _diagnose(
    student: sp.Expr, values: list, key_values: list, evaluations: _Evaluations, expected: Expected
) -> Verdict:
    """A specific, true reason: a named slip the answer equals, a constant factor, or values at a point."""
    with mpmath.workdps(EVALUATION_DIGITS):  # ratios and differences at the precision of the values
        return _diagnosis(student, values, key_values, evaluations, expected)


def _diagnosis(
    student: sp.Expr, values: list, key_values: list, evaluations: _Evaluations, expected: Expected
) -> Verdict:
    for slip in expected.slips:
        try:
            slip_values = evaluations.of(slip.expr)
        except (ArithmeticError, OutOfRange):
            continue
        if _same(slip_values, values) and not _same(slip_values, key_values):
            return Verdict(Status.WRONG, f"not quite; it looks like {slip.message}", slip.mistake)
    ratio = _constant_ratio(values, key_values)
    if ratio is not None:
        return Verdict(
            Status.WRONG,
            f"your answer is {ratio} times the right one (check the constant factors)",
            Mistake.CONSTANT_FACTOR,
        )
    differences = [a - b for a, b in zip(values, key_values)]
    if (
        len(differences) > 1
        and all(close(d, differences[0], 30) for d in differences)
        and abs(differences[0]) < 10**12
    ):
        return Verdict(
            Status.WRONG,
            f"your answer differs from the right one by the constant "
            f"{mpmath.nstr(differences[0], 6)}",
        )
    factor = _factor_message(student, evaluations, expected)
    if factor:
        return Verdict(Status.WRONG, factor)
    index = next(i for i, (a, b) in enumerate(zip(values, key_values)) if not close(a, b))
    where = evaluations.labels[index]
    at = (
        f" (at {where}, with random values of the network)"
        if where
        else " (at random values of the network)"
    )
    return Verdict(
        Status.WRONG,
        f"not equal to the expected answer: for example your answer gives "
        f"{_short(values[index])} where the right one is {_short(key_values[index])}{at}",
    )


def _short(value) -> str:
    return mpmath.nstr(value, 8)


def _clip(text: str, length: int = 60) -> str:
    """A student's text quoted on one line, at most ``length`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


MAX_MESSAGE = 300


def _bounded(verdict: Verdict) -> Verdict:
    """One line of at most MAX_MESSAGE characters, whatever went into it."""
    message = " ".join(verdict.message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return Verdict(verdict.status, message, verdict.mistake)


def _constant_ratio(values: list, key_values: list) -> str | None:
    ratios = [a / b for a, b in zip(values, key_values) if abs(b) > mpmath.mpf(10) ** -20]
    if len(ratios) < 2 or not all(close(r, ratios[0], 30) for r in ratios):
        return None
    if not 10**-6 < abs(ratios[0]) < 10**6:
        return None
    fraction = Fraction(str(mpmath.nstr(ratios[0], 40))).limit_denominator(1000)
    if fraction == 1 or not close(
        mpmath.mpf(fraction.numerator) / fraction.denominator, ratios[0], 30
    ):
        return None
    return str(fraction)


def _factor_message(student: sp.Expr, evaluations: _Evaluations, expected: Expected) -> str:
    """When both are products: which factor of the right answer is missing, or which of yours is extra."""
    net = expected.context.net

    def factors(expr: sp.Expr) -> list[tuple[sp.Expr, list]]:
        out = []
        for f in sp.Mul.make_args(expr):
            if f.is_number:
                continue
            try:
                out.append((f, evaluations.of(f)))
            except (ArithmeticError, OutOfRange):
                return []
        return out

    mine, right = factors(student), factors(primes_as_functions(expected.key))
    if len(right) < 2 or not mine:
        return ""
    student_values, key_values = evaluations.of(student), evaluations.of(expected.key)
    missing = [(f, v) for f, v in right if not any(_same(v, w) for _, w in mine)]
    extra = [(f, v) for f, v in mine if not any(_same(v, w) for _, w in right)]

    def restores(multiply: list, divide: list) -> bool:
        """Is the key exactly the student's answer times ``multiply`` over ``divide`` (so the claim is true)?"""
        fixed = list(student_values)
        for _, values in multiply:
            fixed = [a * b for a, b in zip(fixed, values)]
        for _, values in divide:
            if any(b == 0 for b in values):
                return False
            fixed = [a / b for a, b in zip(fixed, values)]
        return _same(fixed, key_values)

    if len(missing) == 1 and not extra and restores(missing, []):
        return (
            f"a factor is missing: {shown(missing[0][0], net)} (the rest of your product is right)"
        )
    if len(extra) == 1 and not missing and restores([], extra):
        return f"your factor {shown(extra[0][0], net)} does not belong (the rest of your product is right)"
    if len(missing) == 1 and len(extra) == 1 and restores(missing, extra):
        return f"one factor is not right: {shown(extra[0][0], net)} (every other factor of your product is right)"
    return ""


# Judging numbers ------------------------------------------------------------------------------------
def last_digit_unit(value: sp.Expr, digits: int):
    """One unit in the last of ``digits`` significant digits of ``value``."""
    with mpmath.workdps(40):
        v = abs(mpmath.mpf(sp.Float(value, 40)))
        if v == 0:
            return mpmath.mpf(10) ** (-digits)
        return mpmath.mpf(10) ** (mpmath.floor(mpmath.log10(v)) - digits + 1)


def _judge_number(members: list[Member], expected: Expected) -> Verdict:
    target = expected.value
    n = expected.digits
    for member in members:
        if member.expr.free_symbols:
            return Verdict(Status.WRONG, "a number is expected here, not a formula")
        try:
            value = PointValues()(member.expr)
        except TooLarge:
            raise _unreadable_size() from None
        except NotFinite:
            return Verdict(
                Status.WRONG, "your answer is not a finite real number", Mistake.NOT_FINITE
            )
        verdict = _number_verdict(value, member.digits, target, n, expected)
        if verdict.status != Status.CORRECT:
            prefix = "" if len(members) == 1 else f"'{_clip(member.source)}': "
            return Verdict(verdict.status, prefix + verdict.message, verdict.mistake)
    return Verdict(Status.CORRECT, f"correct (to {n} significant digits: {sp.N(target, n)})")


def _within(value, target: sp.Expr, unit) -> bool:
    with mpmath.workdps(40):
        return abs(value - mpmath.mpf(sp.Float(target, 40))) <= unit * (1 + mpmath.mpf(10) ** -12)


def _number_verdict(
    value, digits: int | None, target: sp.Expr, n: int, expected: Expected
) -> Verdict:
    exact = _within(value, target, mpmath.mpf(10) ** -30)
    if digits is not None and digits < n and not exact:
        if _within(value, target, last_digit_unit(target, digits) / 2):
            return Verdict(
                Status.WRONG, f"close — give {n} significant digits", Mistake.TOO_FEW_DIGITS
            )
    elif exact or _within(value, target, last_digit_unit(target, n)):
        return Verdict(Status.CORRECT, "correct")
    for slip in expected.slips:
        if (
            slip.expr is not None
            and _within(value, slip.expr, last_digit_unit(slip.expr, n))
            and not _within(slip.expr, target, last_digit_unit(target, n))
        ):
            return Verdict(Status.WRONG, f"not quite; it looks like {slip.message}", slip.mistake)
    return Verdict(Status.WRONG, f"not the expected value (to {n} significant digits)")


# Entry points ---------------------------------------------------------------------------------------
def judge_here(latex: str, expected: Expected, rng: random.Random | None = None) -> Verdict:
    """Judge in this process (tests, batch workers that are already limited). Never raises."""
    return _bounded(_judge_safely(latex, expected, rng or _fresh_rng()))


def _judge_safely(latex: str, expected: Expected, rng: random.Random) -> Verdict:
    try:
        return _judge(latex, expected, rng)
    except IndexMisuse as error:  # readable, but an error in the answer
        return Verdict(Status.WRONG, str(error), Mistake.INDEX_MISUSE)
    except LatexInputError as error:
        return Verdict(Status.UNREADABLE, str(error))
    except _Refusal as refusal:
        return refusal.verdict
    except RecursionError:
        return Verdict(Status.UNREADABLE, "the answer is nested too deeply to check; simplify it")
    except MemoryError:
        raise  # the limited child reports it as the memory cap, not as our error
    except Exception:  # noqa: BLE001 - an internal error must never look like a verdict
        return Verdict(Status.ERROR, "internal error while checking the answer, please report it")


def _judge(latex: str, expected: Expected, rng: random.Random) -> Verdict:
    members = _answer_members(
        read_chain(
            _spelled_out(latex, expected), reading_context(expected), numbers=expected.numeric
        ),
        expected,
    )
    for member in members:
        _forbidden(member.expr, expected)
    if expected.numeric:
        return _judge_number(members, expected)
    return _judge_formula(members, expected, rng)


def judge(latex: str, expected: Expected, seconds: float = JUDGE_SECONDS) -> Verdict:
    """Parse and judge a student's LaTeX in a child process with time and memory caps; never raises."""
    try:
        return run_limited(judge_here, latex, expected, seconds=seconds, what="checking the answer")
    except DeriveError as error:  # time or memory cap: the answer is too big to check
        return Verdict(Status.UNREADABLE, str(error))
    except InternalError:
        return Verdict(Status.ERROR, "internal error while checking the answer, please report it")


# Slips ----------------------------------------------------------------------------------------------
def slips(key: sp.Expr, net: "Network", layer: int | None) -> tuple[Slip, ...]:
    """The key as it comes out after the usual slips, each with its feedback (most specific last)."""
    s = net.symbols
    out = [
        Slip(Mistake.SIGN, "a sign error: your answer is the negative of the right one", -key),
        Slip(
            Mistake.MISSING_TWO,
            "a missing factor 2 (the power rule on the square brings down a 2)",
            key / 2,
        ),
        Slip(Mistake.EXTRA_TWO, "an extra factor 2", key * 2),
    ]
    primes = sorted(
        (
            d
            for d in key.atoms(sp.Derivative)
            if not isinstance(d.expr, sp.Symbol) and d.expr.is_Function
        ),
        key=str,
    )
    for prime in primes:
        out.append(
            Slip(
                Mistake.MISSING_ACTIVATION_DERIVATIVE,
                f"a missing activation derivative {shown(prime, net)}",
                key.xreplace({prime: sp.Integer(1)}),
            )
        )
    if len(primes) > 1:
        out.append(
            Slip(
                Mistake.MISSING_ACTIVATION_DERIVATIVE,
                "the activation derivatives g'(z) left out",
                key.xreplace({d: sp.Integer(1) for d in primes}),
            )
        )
    if layer is not None:
        below = {s.x[s.k]: s.x[s.j]} if layer == 1 else {s.a[layer - 1, s.k]: s.a[layer - 1, s.j]}
        if key.has(*below):
            out.append(
                Slip(
                    Mistake.A_J_FOR_A_K,
                    "a_j where a_k belongs: the weight's input is node k of the layer below",
                    key.xreplace(below),
                )
            )
            (input_,) = below
            if key != input_:
                out.append(
                    Slip(
                        Mistake.MISSING_INPUT,
                        f"the weight's input {shown(input_, net)} left out "
                        "(the derivative of z with respect to the weight)",
                        key.xreplace({input_: 1}),
                    )
                )
    weights = {
        w: s.w[w.indices[0], w.indices[2], w.indices[1]]
        for w in key.atoms(sp.Indexed)
        if w.base == s.w
    }
    if weights:
        out.append(
            Slip(
                Mistake.TRANSPOSED_WEIGHT,
                "a transposed weight: w_{jk} connects node k below to node j above, not w_{kj}",
                key.xreplace(weights),
            )
        )
    sums = list(key.atoms(sp.Sum))
    if sums:
        out.append(
            Slip(
                Mistake.FORGOTTEN_SUM,
                "the downstream sum forgotten: node j feeds every node i of the next layer",
                key.xreplace({t: t.function.xreplace({t.limits[0][0]: s.j}) for t in sums}),
            )
        )
    return tuple(out)


def concrete(slip_list: tuple[Slip, ...], value: Callable[[sp.Expr], sp.Expr]) -> tuple[Slip, ...]:
    """Slips of a numeric question: each slip's value at the question's numbers."""
    out = []
    for slip in slip_list:
        try:
            number = value(slip.expr)
        except Exception:  # noqa: BLE001 - a slip that has no value (out of range) is simply not offered
            continue
        if number.is_number and number.is_finite:
            out.append(Slip(slip.mistake, slip.message, number))
    return tuple(out)


def every_place(evaluations: _Evaluations) -> Iterator[tuple[PointValues, dict]]:
    """The places of a judgement (for tests that re-check a verdict at other points)."""
    yield from evaluations.places
