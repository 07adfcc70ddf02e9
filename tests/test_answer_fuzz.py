"""Fuzzing the answer judge (``derive.homework.answers.judge_here``) with over 10,000 inputs.

Three families of input, thrown at every question of the v1 answer keys (tests/data/keys-v1):

1. random strings: printable ASCII, LaTeX-ish token soup, pasted Unicode (σ ∂ − · ′ ² ...),
   garbage (emoji, control characters, lone surrogates), strings near and over the 600-character
   limit, deep nesting;
2. grammar-made answers: well-formed expressions in the notation (a_j^{(2)}, w_{ij}^{(2)}, x_k,
   sums with limits, \\sigma, \\tanh, \\frac, chained powers such as 10^{10^{10}}, = chains, ...);
3. mutations of each question's correct ``answer_latex``: characters and tokens deleted, inserted,
   replaced, indices swapped, digits and layers changed, stray brackets, and rewrites that keep
   the value (+0, \\cdot 1, \\boxed, chains) or nearly keep it (\\cdot (1 + 10^{-30})).

Every verdict must be correct / wrong / unreadable (an "error" verdict, an exception or a call that
takes over HANG_SECONDS counts as a crash) with a one-line message (at most 300 characters, no Python
exception name, no traceback). Every "correct" verdict is checked again here,
independently of the judge: the answer is read with ``derive.homework.answers.parse_student`` and each member
of the chain is evaluated by this file's own evaluator (mpmath, 60 digits) at fresh random points and
compared with the truth computed from this file's own model of the network: ``sympy.diff`` of the
fully expanded cost (weight gradients), of the cost written from layer l on (dC/da, delta), of the
activation's definition (activation derivatives); numbers against the exact value of the gradient at
the question's values with the 4-significant-digit rule. A "wrong" verdict that this evaluation finds
equal to the truth everywhere is reported as a false reject, and so is a mutation known to keep the
key's value (\\boxed, + 0, \\sigma' written as \\sigma(1 - \\sigma), \\sum_i for \\sum_{i=0}^{1}, ...) that is
not judged correct; one known to change it (a factor, an extra term, ReLU' replaced by 1, a sum's
limit beyond the layer) must not be judged correct. Per question: the key and \\boxed{key} are
correct, and semantic slips (times 1 + 1/7, an extra term, swapped indices, ...) are wrong.

Everything is seeded (random.Random with fixed string seeds): a failure names its input exactly and
reproduces. Set DERIVE_FUZZ_STATS=/some/file.jsonl to get per-chunk counts and every failure.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import inspect
import itertools
import json
import os
import random
import re
import signal
import threading
import time
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from derive.homework.questions import load_key
from derive.cli.commands.check_answer import exit_of
from tests.redteam import Surface

KEY_DIR = Path(__file__).parent / "data" / "keys-v1"
MAX_CHARS = 600
HANG_SECONDS = (
    10.0  # one judge_here call taking longer is reported as a hang (the suite must not stall)
)
DPS = 60  # working digits of the independent re-check
TOLERANCE = mpmath.mpf(10) ** -40  # relative agreement required of a symbolic answer judged correct
STATUSES = {"correct": 0, "wrong": 1, "unreadable": 2}
LEAK = re.compile(r"\b\w*(Error|Exception)\b|Traceback|sympy|<class")

# How many inputs of each family, in how many chunks (xdist spreads the chunks over the cores).
RANDOM_CHUNKS, RANDOM_PER_CHUNK = 8, 700
GRAMMAR_CHUNKS, GRAMMAR_PER_CHUNK = 8, 275
MUTATION_CHUNKS, MUTATION_PER_CHUNK = 8, 300
TOTAL_FUZZ = (
    RANDOM_CHUNKS * RANDOM_PER_CHUNK
    + GRAMMAR_CHUNKS * GRAMMAR_PER_CHUNK
    + MUTATION_CHUNKS * MUTATION_PER_CHUNK
)

REDTEAM = [
    Surface(
        surface="answers to check-answer and grade (fuzz)",
        tried="random strings, LaTeX token soup, "
        "pasted Unicode, grammar-made expressions, mutations of the right answers",
        cases=TOTAL_FUZZ,
        limit=f"{MAX_CHARS} characters, nesting 40, 20 s and 1.5 GiB a judgement",
        holds="0 crashes or hangs; every 'correct' re-checked by an independent evaluator",
    )
]


# The questions -----------------------------------------------------------------------------
def _all_questions() -> list[tuple[str, Path, dict]]:
    out = []
    for path in sorted(KEY_DIR.glob("*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8"))["questions"]:
            out.append((f"{path.stem}:{raw['id']}", path, raw))
    return out


QUESTIONS = _all_questions()
RAW = {name: raw for name, _, raw in QUESTIONS}
PATHS = {name: path for name, path, _ in QUESTIONS}
NAMES = [name for name, _, _ in QUESTIONS]


@functools.lru_cache(maxsize=None)
def _key(path: Path) -> dict:
    return load_key(path)


@functools.lru_cache(maxsize=None)
def expected(name: str):
    return _key(PATHS[name])[RAW[name]["id"]].expected()


# The API under test ------------------------------------------------------------------------------
def _api():
    from derive.homework.answers import judge_here, parse_student

    return judge_here, parse_student


class _Hang(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in the judge swallows it."""


def _alarm(signum, frame):
    raise _Hang()


_HUNG: set = set()  # texts that already hung once: not judged again (each hang costs HANG_SECONDS)


def run_judge(text: str, exp):
    """(verdict, problem, seconds): problem is set when judge_here raised or did not return."""
    if text in _HUNG:
        return (
            None,
            f"CRASH: no verdict after {HANG_SECONDS:.0f} s (hang; hung before, not judged again)",
            0.0,
        )
    judge, _ = _api()
    extra = {}
    if (
        "rng" in inspect.signature(judge).parameters
    ):  # the judge's own random points, seeded: reproducible
        digest = hashlib.sha256(
            text.encode("utf-8", "surrogatepass")
        ).digest()  # lone surrogates too
        extra["rng"] = random.Random(int.from_bytes(digest[:16], "big"))
    main = threading.current_thread() is threading.main_thread()
    if main:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    start = time.perf_counter()
    try:
        return judge(text, exp, **extra), None, time.perf_counter() - start
    except _Hang:
        _HUNG.add(text)
        return (
            None,
            f"CRASH: no verdict after {HANG_SECONDS:.0f} s (hang)",
            time.perf_counter() - start,
        )
    except (Exception, SystemExit) as error:  # noqa: BLE001 - any exception is the finding
        return (
            None,
            f"CRASH: judge_here raised {type(error).__name__}: {str(error)[:200]}",
            time.perf_counter() - start,
        )
    finally:
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _underlying(text: str, exp) -> str:
    """For a verdict with status 'error': the exception behind it (diagnostics for the report only)."""
    import traceback

    import derive.homework.answers as answers

    private = getattr(answers, "_judge", None)
    if private is None:
        return ""
    try:
        private(text, exp, random.Random(0))
    except BaseException as error:  # noqa: BLE001 - diagnostics
        frames = traceback.extract_tb(error.__traceback__)
        frame = next((f for f in reversed(frames) if "/derive/" in f.filename), frames[-1])
        return f" [underlying {type(error).__name__}: {str(error)[:160]} at {Path(frame.filename).name}:{frame.lineno}]"
    return ""


def status_of(verdict) -> str:
    return str(getattr(verdict.status, "value", verdict.status))


def verdict_problems(text: str, name: str, verdict) -> list[str]:
    """Everything wrong with one verdict (empty: fine); a 'correct' one is re-checked independently."""
    status = status_of(verdict)
    if status not in STATUSES:
        return [
            f"CRASH: status {status!r} (message {verdict.message!r})"
            + _underlying(text, expected(name))
        ]
    out = []
    message = verdict.message
    if not isinstance(message, str) or not message.strip():
        out.append(f"MESSAGE: empty or not a string: {message!r}")
    else:
        if "\n" in message or "\r" in message:
            out.append(f"MESSAGE: more than one line: {message!r}")
        if len(message) > 300:
            out.append(f"MESSAGE: {len(message)} characters (> 300): {message[:120]!r}...")
        leak = LEAK.search(message)
        if leak:
            out.append(f"MESSAGE: leaks {leak.group(0)!r}: {message!r}")
    if exit_of(verdict) != STATUSES[status]:
        out.append(f"EXIT CODE: {exit_of(verdict)} for status {status}")
    if status == "correct":
        if getattr(verdict, "mistake", None):
            out.append(f"MISTAKE: a correct verdict names the mistake {verdict.mistake!r}")
        issue = recheck(text, name)
        if issue:
            out.append(issue)
    elif status == "wrong" and (
        RAW[name]["kind"] != "numeric-gradient" or _plain_digits(text) is not None
    ):
        if (
            recheck(text, name) is None
        ):  # read the same way, every member equals the truth everywhere
            out.append(
                "FALSE REJECT: judged wrong, but the independent evaluation of the parsed answer equals "
                "the truth at every point and index"
            )
    return out


# The independent model: the network in SymPy, values in mpmath --------------------------------
U = sp.Symbol("u", real=True)


def activation_expr(name: str, u: sp.Expr) -> sp.Expr:
    """This file's own definition of each activation."""
    gain = re.fullmatch(r"sigmoid\(gain=(\d+)\)", name)
    if name == "sigmoid" or gain:
        g = int(gain.group(1)) if gain else 1
        return 1 / (1 + sp.exp(-g * u))
    return {
        "tanh": lambda: (sp.exp(u) - sp.exp(-u)) / (sp.exp(u) + sp.exp(-u)),
        "relu": lambda: sp.Piecewise((u, u > 0), (0, True)),
        "softplus": lambda: sp.log(1 + sp.exp(u)),
        "identity": lambda: u,
    }[name]()


def cost_expr(cost: str, a: list, y: list) -> sp.Expr:
    if cost == "quadratic":
        return sp.Add(*[(ai - yi) ** 2 for ai, yi in zip(a, y)])
    if cost == "half-quadratic":
        return sp.Rational(1, 2) * sp.Add(*[(ai - yi) ** 2 for ai, yi in zip(a, y)])
    if cost == "cross-entropy":
        return -sp.Add(*[yi * sp.log(ai) + (1 - yi) * sp.log(1 - ai) for ai, yi in zip(a, y)])
    raise ValueError(cost)


@functools.lru_cache(maxsize=None)
def _unary(name: str, order: int):
    """mpmath function for this file's definition of a named function (order 1: its derivative)."""
    definition = _FUNCTIONS[name]()
    return sp.lambdify(
        [U], sp.diff(definition, U, order) if order else definition, modules="mpmath"
    )


_FUNCTIONS = {
    "sigmoid": lambda: activation_expr("sigmoid", U),
    "tanh": lambda: activation_expr("tanh", U),
    "relu": lambda: activation_expr("relu", U),
    "softplus": lambda: activation_expr("softplus", U),
    "identity": lambda: U,
    "exp": lambda: sp.exp(U),
    "log": lambda: sp.log(U),
    "sqrt": lambda: sp.sqrt(U),
    "cosh": lambda: (sp.exp(U) + sp.exp(-U)) / 2,
    "sinh": lambda: (sp.exp(U) - sp.exp(-U)) / 2,
    "sech": lambda: 2 / (sp.exp(U) + sp.exp(-U)),
    "abs": lambda: sp.Piecewise((U, U >= 0), (-U, True)),
    **{
        f"sigmoid(gain={g})": (lambda g=g: activation_expr(f"sigmoid(gain={g})", U))
        for g in range(2, 10)
    },
}


class Net:
    """A network of the question's shape, written out in SymPy symbols of this file's own."""

    def __init__(self, layers, acts, cost: str, bias: bool) -> None:
        self.n, self.L, self.cost, self.bias = list(layers), len(layers) - 1, cost, bias
        self.acts = list(acts) if len(acts) == self.L else [acts[0]] * self.L
        real = lambda name: sp.Symbol(name, real=True)  # noqa: E731
        self.x = [real(f"X{k}") for k in range(self.n[0])]
        self.y = [real(f"Y{j}") for j in range(self.n[-1])]
        rows = lambda l: range(self.n[l])  # noqa: E731
        self.w = {
            (l, j, k): real(f"W{l}_{j}_{k}")
            for l in range(1, self.L + 1)
            for j in rows(l)
            for k in rows(l - 1)
        }
        self.b = (
            {(l, j): real(f"B{l}_{j}") for l in range(1, self.L + 1) for j in rows(l)}
            if bias
            else {}
        )
        self.A = {(l, j): real(f"A{l}_{j}") for l in range(1, self.L + 1) for j in rows(l)}
        self.Z = {(l, j): real(f"Z{l}_{j}") for l in range(1, self.L + 1) for j in rows(l)}
        self.args = [
            *self.x,
            *self.y,
            *self.w.values(),
            *self.b.values(),
            *self.A.values(),
            *self.Z.values(),
        ]
        self._compiled: dict = {}

    def cost_from(self, level: int, kind: str) -> sp.Expr:
        """C_0 as a function of layer ``level``'s a's (kind 'a') or z's (kind 'z'), and everything downstream."""
        if kind == "a":
            a = self.x if level == 0 else [self.A[level, j] for j in range(self.n[level])]
        else:
            a = [
                activation_expr(self.acts[level - 1], self.Z[level, j])
                for j in range(self.n[level])
            ]
        for l in range(level + 1, self.L + 1):
            z = [
                sp.Add(*[self.w[l, j, k] * a[k] for k in range(self.n[l - 1])])
                + self.b.get((l, j), 0)
                for j in range(self.n[l])
            ]
            a = [activation_expr(self.acts[l - 1], zj) for zj in z]
        return cost_expr(self.cost, a, self.y)

    def derivative(self, what: str, index: tuple) -> "callable":
        """Compiled dC_0/d(quantity): what in w, b (parameters), a, z (layer quantities)."""
        if (what, index) not in self._compiled:
            if what in ("w", "b"):
                expr = sp.diff(self.cost_from(0, "a"), (self.w if what == "w" else self.b)[index])
            elif what == "a":
                level, j = index
                expr = sp.diff(
                    self.cost_from(level, "a"), self.x[j] if level == 0 else self.A[level, j]
                )
            else:
                expr = sp.diff(self.cost_from(index[0], "z"), self.Z[index])
            self._compiled[what, index] = sp.lambdify(self.args, expr, modules="mpmath")
        return self._compiled[what, index]


class Point:
    """Values of every parameter (exact fractions, as mpmath numbers) and the forward pass."""

    def __init__(self, net: Net, x, y, w, b) -> None:
        self.net = net
        self.x, self.y, self.w, self.b = (
            [_mp(v) for v in x],
            [_mp(v) for v in y],
            {k: _mp(v) for k, v in w.items()},
            {k: _mp(v) for k, v in b.items()},
        )
        self.a = {(0, k): v for k, v in enumerate(self.x)}
        self.z = {}
        for l in range(1, net.L + 1):
            for j in range(net.n[l]):
                z = mpmath.fsum(
                    self.w[l, j, k] * self.a[l - 1, k] for k in range(net.n[l - 1])
                ) + self.b.get((l, j), 0)
                self.z[l, j] = z
                self.a[l, j] = _unary(net.acts[l - 1], 0)(z)
        self.vector = [
            *self.x,
            *self.y,
            *(self.w[k] for k in net.w),
            *(self.b[k] for k in net.b),
            *(self.a[k] for k in net.A),
            *(self.z[k] for k in net.Z),
        ]

    def d(self, what: str, index: tuple):
        return self.net.derivative(what, index)(*self.vector)


def _mp(value) -> mpmath.mpf:
    value = Fraction(value)
    return mpmath.mpf(value.numerator) / value.denominator


def random_point(net: Net, rng: random.Random) -> Point:
    """Fresh random rationals; no ReLU pre-activation near its kink, no dead ReLU layer."""
    r = lambda: Fraction(rng.choice([-1, 1]) * rng.randint(1, 25), rng.choice([7, 9, 10, 11, 13]))  # noqa: E731
    for _ in range(500):
        x = [r() for _ in range(net.n[0])]
        y = [Fraction(rng.randint(1, 19), 20) for _ in range(net.n[-1])]
        w = {k: r() for k in net.w}
        b = {k: r() for k in net.b}
        with mpmath.workdps(DPS):
            point = Point(net, x, y, w, b)
        ok = True
        for l in range(1, net.L + 1):
            if net.acts[l - 1] == "relu":
                zs = [point.z[l, j] for j in range(net.n[l])]
                ok &= all(abs(z) > 0.05 for z in zs) and any(z > 0 for z in zs)
        if ok:
            return point
    raise AssertionError("no usable random point (test bug)")


def random_points(net: Net, rng: random.Random, count: int = 4) -> list[Point]:
    """``count`` fresh points; each ReLU node is on both sides of its kink among them (so that an
    answer with ReLU'(z) replaced by 1, or by 0, cannot pass)."""
    relu = [
        (l, j) for l in range(1, net.L + 1) if net.acts[l - 1] == "relu" for j in range(net.n[l])
    ]
    for _ in range(500):
        points = [random_point(net, rng) for _ in range(count)]
        if all({p.z[node] > 0 for p in points} == {True, False} for node in relu):
            return points
    raise AssertionError("no usable set of random points (test bug)")


# The independent evaluator of a parsed answer ---------------------------------------------------
class Unsupported(Exception):
    """The answer has a form this evaluator does not know (a test limitation, reported as such)."""


class NotFinite(Exception):
    pass


class Bad(Exception):
    """The answer cannot be right whatever the values: a free index, a node that does not exist, ..."""


_PRIME = re.compile(r"^(?P<base>.+?)(?:__prime|_prime|prime|')$")


def _function_name(name: str, oracle: "Oracle", arg) -> str | None:
    """This file's name for a function the parser produced (None: unknown)."""
    low = name.lower().lstrip("\\").replace("operatorname", "").strip("{}")
    gain = re.fullmatch(r"(?:sigma|σ|sigmoid)_?\{?(\d+)\}?", low)
    if gain:
        return "sigmoid" if gain.group(1) == "1" else f"sigmoid(gain={gain.group(1)})"
    if low in ("sigma", "σ", "sigmoid", "logistic"):
        return "sigmoid"
    if low in ("tanh", "relu", "softplus", "exp", "sqrt", "cosh", "sinh", "sech", "identity"):
        return low
    if low in ("log", "ln"):
        return "log"
    if low in ("abs",):
        return "abs"
    g = re.fullmatch(r"g(?:_?\{?\(?(\d+)\)?\}?|\^\{?\((\d+)\)\}?)?", low)
    if g:
        layer = g.group(1) or g.group(2)
        return oracle.activation_of(int(layer) if layer else None, arg)
    return None


class Evaluator:
    def __init__(
        self, oracle: "Oracle", point: Point | None, z=None, indices: dict | None = None
    ) -> None:
        self.oracle, self.point, self.zval, self.indices = oracle, point, z, indices or {}

    def __call__(self, e):
        if isinstance(e, sp.Integer):
            return mpmath.mpf(int(e))
        if isinstance(e, sp.Rational):
            return mpmath.mpf(e.p) / e.q
        if isinstance(e, sp.Float):
            return e._to_mpmath(mpmath.mp.prec)
        if e.is_number and (e.is_infinite or e in (sp.nan, sp.zoo)):
            raise NotFinite(str(e))
        if e == sp.I:
            return mpmath.mpc(0, 1)
        if isinstance(e, sp.NumberSymbol):
            return mpmath.mpf(str(e.evalf(DPS + 10)))
        if isinstance(e, sp.Symbol):
            if e.name == "z" and self.zval is not None:
                return self.zval
            raise Unsupported(f"free symbol {e.name}")
        if isinstance(e, sp.Indexed):
            return self.quantity(e)
        if isinstance(e, sp.Add):
            return mpmath.fsum(self(t) for t in e.args)
        if isinstance(e, sp.Mul):
            out = mpmath.mpf(1)
            for t in e.args:
                out *= self(t)
            return out
        if isinstance(e, sp.Pow):
            base, exponent = self(e.base), self(e.exp)
            if base == 0 and mpmath.re(exponent) <= 0:
                raise NotFinite("0 to a power <= 0")
            if abs(exponent) > 10_000:
                raise Unsupported(f"exponent {exponent}")
            return mpmath.power(base, exponent)
        if isinstance(e, sp.Sum):
            return self.sum(e)
        if isinstance(e, sp.Derivative):
            return self.derivative(e)
        if isinstance(e, sp.Subs) and isinstance(e.expr, sp.Derivative) and len(e.variables) == 1:
            inner = e.expr
            if (
                isinstance(inner.expr, sp.Function)
                and len(inner.expr.args) == 1
                and inner.expr.args[0] == e.variables[0]
            ):
                return self.apply(type(inner.expr).__name__, self(e.point[0]), 1, e.point[0])
            raise Unsupported(f"Subs {sp.srepr(e)[:100]}")
        if isinstance(e, sp.Piecewise):
            for value, condition in e.args:
                if self.truth(condition):
                    return self(value)
            raise NotFinite("no piece applies")
        if isinstance(e, (sp.Max, sp.Min)):
            values = [self(t) for t in e.args]
            return max(values) if isinstance(e, sp.Max) else min(values)
        if isinstance(e, sp.Heaviside):
            u = self(e.args[0])
            if u != 0:
                return mpmath.mpf(1 if u > 0 else 0)
            if len(e.args) > 1:
                return self(e.args[1])
            raise Unsupported("Heaviside at 0 without a value")
        if isinstance(e, sp.Abs):
            return abs(self(e.args[0]))
        if isinstance(e, sp.sign):
            return mpmath.sign(self(e.args[0]))
        if isinstance(e, sp.Function) and len(e.args) == 1:
            return self.apply(type(e).__name__, self(e.args[0]), 0, e.args[0])
        raise Unsupported(f"{type(e).__name__}: {sp.srepr(e)[:120]}")

    def truth(self, condition) -> bool:
        if condition in (sp.true, True):
            return True
        if condition in (sp.false, False):
            return False
        if isinstance(condition, sp.And):
            return all(self.truth(c) for c in condition.args)
        if isinstance(condition, sp.Or):
            return any(self.truth(c) for c in condition.args)
        if isinstance(condition, sp.Not):
            return not self.truth(condition.args[0])
        if isinstance(condition, sp.core.relational.Relational):
            lhs, rhs = self(condition.lhs), self(condition.rhs)
            return {
                "<": lhs < rhs,
                "<=": lhs <= rhs,
                ">": lhs > rhs,
                ">=": lhs >= rhs,
                "==": lhs == rhs,
                "!=": lhs != rhs,
            }[condition.rel_op]
        raise Unsupported(f"condition {condition}")

    def apply(self, name: str, value, order: int, arg):
        prime = _PRIME.match(name)
        if prime and _function_name(prime.group("base"), self.oracle, arg):
            name, order = prime.group("base"), order + 1
        known = _function_name(name, self.oracle, arg)
        if known is None:
            raise Unsupported(f"function {name}")
        if order > 1:
            raise Unsupported(f"derivative of order {order} of {name}")
        if known == "log" and order == 0 and mpmath.re(value) <= 0:
            raise NotFinite("log of a number <= 0")
        if known == "relu" and order == 1 and value == 0:
            raise Unsupported("ReLU' at its kink")
        return _unary(known, order)(value)

    def index(self, i) -> int:
        i = i.xreplace(
            {s: sp.Integer(self.indices[s.name]) for s in i.free_symbols if s.name in self.indices}
        )
        if not i.is_Integer:
            raise Bad(f"free index {i} (the question's indices are j, k)")
        return int(i)

    def quantity(self, e: sp.Indexed):
        if self.point is None:
            raise Unsupported(f"a network quantity {e} in a question without a network")
        base = str(e.base.label).lstrip("\\")
        idx = tuple(self.index(i) for i in e.indices)
        p, net = self.point, self.point.net
        try:
            if base == "x" and len(idx) == 1:
                return p.x[_in(idx[0], net.n[0])]
            if base == "y" and len(idx) == 1:
                return p.y[_in(idx[0], net.n[-1])]
            if base == "a" and len(idx) == 2:
                return p.a[idx[0], _in(idx[1], net.n[_in(idx[0], net.L + 1)])]
            if base == "z" and len(idx) == 2:
                return p.z[idx[0], _in(idx[1], net.n[_in(idx[0], net.L + 1)])]
            if base == "w" and len(idx) == 3:
                return p.w[idx]
            if base == "b" and len(idx) == 2:
                return p.b[idx]
            if base in ("delta", "δ") and len(idx) == 2:
                return p.d("z", idx)
        except (KeyError, IndexError):
            raise Bad(
                f"{e} = {base}{list(idx)} does not exist in this network (index-out-of-range)"
            ) from None
        raise Unsupported(f"quantity {sp.srepr(e)[:100]}")

    def sum(self, e: sp.Sum):
        value = e.function
        ranges = []
        for var, lo, hi in e.limits:
            lo, hi = self.index(lo), self.index(hi)
            if hi - lo > 100:
                raise Unsupported(f"sum over {hi - lo + 1} terms")
            ranges.append((var, range(lo, hi + 1)))
        total = mpmath.mpf(0)
        for combo in itertools.product(*(r for _, r in ranges)):
            total += self(
                value.xreplace({var: sp.Integer(v) for (var, _), v in zip(ranges, combo)})
            )
        return total

    def derivative(self, e: sp.Derivative):
        if len(e.variable_count) != 1 or e.variable_count[0][1] != 1:
            raise Unsupported(f"derivative {e}")
        expr, (var, _) = e.expr, e.variable_count[0]
        if (
            isinstance(expr, sp.Symbol)
            and expr.name in ("C_0", "C", "C_{0}")
            and isinstance(var, sp.Indexed)
        ):
            base = str(var.base.label).lstrip("\\")
            idx = tuple(self.index(i) for i in var.indices)
            what = {"w": "w", "b": "b", "a": "a", "z": "z", "x": "a"}.get(base)
            if what is None or self.point is None:
                raise Unsupported(f"derivative {e}")
            if base == "x":
                idx = (0, idx[0])
            try:
                return self.point.d(what, idx)
            except KeyError:
                raise Bad(f"{var} does not exist in this network") from None
        if isinstance(expr, sp.Function) and len(expr.args) == 1 and expr.args[0] == var:
            return self.apply(type(expr).__name__, self(var), 1, var)
        if (
            isinstance(expr, sp.Indexed)
            and isinstance(var, sp.Indexed)
            and str(expr.base.label) == "z"
            and str(var.base.label) == "w"
        ):  # dz_j/dw_jk = a_k of the layer below
            (lz, jz), (lw, jw, kw) = (tuple(self.index(i) for i in q.indices) for q in (expr, var))
            if lz == lw and self.point is not None and (lw, jw, kw) in self.point.w:
                return self.point.a[lz - 1, kw] if jz == jw else mpmath.mpf(0)
        if (
            isinstance(expr, sp.Indexed)
            and isinstance(var, sp.Indexed)
            and str(expr.base.label) == "a"
            and str(var.base.label) == "z"
        ):
            (la, ja), (lz, jz) = (tuple(self.index(i) for i in q.indices) for q in (expr, var))
            if la == lz and ja == jz:
                return _unary(self.oracle.activation_of(la, None), 1)(self(var))
            if la == lz:
                return mpmath.mpf(0)
        if isinstance(var, sp.Symbol) and var.name == "z" and self.zval is not None:
            return mpmath.diff(
                lambda t: Evaluator(self.oracle, self.point, t, self.indices)(expr), self.zval
            )
        if not expr.has(var):
            raise Bad(f"an unevaluated derivative of something that does not depend on {var}: {e}")
        raise Unsupported(f"derivative {sp.srepr(e)[:120]}")


def _in(i: int, size: int) -> int:
    if not 0 <= i < size:
        raise IndexError(i)
    return i


def close(value, truth) -> bool:
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > TOLERANCE * max(1, abs(truth)):
            return False
        value = value.real
    if not mpmath.isfinite(value):
        return False
    return abs(value - truth) <= TOLERANCE * max(1, abs(truth))


class Oracle:
    """The truth for one question, and the re-check of a parsed answer against it."""

    def __init__(self, raw: dict) -> None:
        self.raw, self.kind = raw, raw["kind"]
        rng = random.Random(f"fuzz-oracle/{json.dumps(raw, sort_keys=True)}")
        if self.kind == "activation-derivative":
            self.activation = raw["activation"][0]
            self.net = None
            self.zs = []
            while len(self.zs) < 6:
                z = Fraction(rng.choice([-1, 1]) * rng.randint(1, 40), rng.choice([7, 10, 13]))
                if abs(z) > Fraction(1, 20):
                    self.zs.append(z)
            return
        self.net = Net(raw["layers"], raw["activation"], raw["cost"], raw["bias"])
        self.layer = raw["layer"]
        if self.kind == "numeric-gradient":
            v = raw["values"]
            weights = {
                (l + 1, j, k): Fraction(x)
                for l, m in enumerate(v["weights"])
                for j, row in enumerate(m)
                for k, x in enumerate(row)
            }
            biases = {
                (l + 1, j): Fraction(x)
                for l, bs in enumerate(v.get("biases") or [])
                for j, x in enumerate(bs)
            }
            with mpmath.workdps(DPS):
                self.points = [
                    Point(self.net, map(Fraction, v["x"]), map(Fraction, v["y"]), weights, biases)
                ]
        else:
            self.points = random_points(self.net, rng)

    def activation_of(self, layer, arg) -> str | None:
        if self.net is None:
            return self.activation
        if (
            layer is None
            and isinstance(arg, sp.Indexed)
            and str(arg.base.label) == "z"
            and arg.indices[0].is_Integer
        ):
            layer = int(arg.indices[0])
        if layer is not None:
            return self.net.acts[layer - 1] if 1 <= layer <= self.net.L else None
        return self.net.acts[0] if len(set(self.net.acts)) == 1 else None

    def truth(self, point: Point, j: int, k: int):
        """The asked quantity at a point, for node indices j, k."""
        L = self.net.L
        if self.kind in ("weight-gradient", "numeric-gradient"):
            return point.d("w", (self.layer, j, k))
        factor = self.raw["factor"]
        if factor == 0:
            return point.d("a", (L, j))
        if factor == 1:
            return _unary(self.net.acts[L - 1], 1)(point.z[L, j])
        return point.a[L - 1, k]

    def exact_value(self):
        j, k = self.raw["node"]
        with mpmath.workdps(DPS):
            return self.truth(self.points[0], j, k)

    # The re-check ---------------------------------------------------------------------
    def check(self, members: list, text: str) -> str | None:
        with mpmath.workdps(DPS):
            try:
                return self._check(members, text)
            except Unsupported as error:
                return (
                    f"RECHECK UNSUPPORTED (extend the evaluator, or a false accept): {error}; "
                    f"members {[sp.srepr(m)[:300] for m in members]}"
                )
            except NotFinite as error:
                return f"FALSE ACCEPT: judged correct but its value is not finite ({error})"
            except Bad as error:
                return f"FALSE ACCEPT: judged correct but {error}"
            except (ZeroDivisionError, OverflowError, ValueError) as error:
                return f"FALSE ACCEPT?: judged correct but evaluating it fails ({type(error).__name__}: {error})"

    def _check(self, members: list, text: str) -> str | None:
        for position, member in enumerate(
            members
        ):  # parse_student has dropped a left-hand side already
            problem = self._not_an_answer(member)
            if problem:
                return f"FALSE ACCEPT (not-an-answer): {problem} in member {position + 1}: {member}"
        if self.kind == "activation-derivative":
            definition = activation_expr(self.activation, U)
            derivative = sp.lambdify([U], sp.diff(definition, U), modules="mpmath")
            for z in self.zs:
                truth = derivative(_mp(z))
                for position, member in enumerate(members):
                    value = Evaluator(self, None, _mp(z))(member)
                    if not close(value, truth):
                        return (
                            f"FALSE ACCEPT: member {position + 1} ({member}) is {mpmath.nstr(value, 15)} at "
                            f"z = {z}, the derivative of {self.activation} is {mpmath.nstr(truth, 15)}"
                        )
            return None
        if self.kind == "numeric-gradient":
            exact = self.exact_value()
            unit = mpmath.mpf(10) ** (int(mpmath.floor(mpmath.log10(abs(exact)))) - 3)
            for position, member in enumerate(members):
                value = Evaluator(self, self.points[0])(member)
                if isinstance(value, mpmath.mpc):
                    return f"FALSE ACCEPT: member {position + 1} is complex: {value}"
                if not abs(value - exact) <= unit:
                    return (
                        f"FALSE ACCEPT: member {position + 1} = {mpmath.nstr(value, 12)}, the exact value is "
                        f"{mpmath.nstr(exact, 12)} (more than one unit, {mpmath.nstr(unit, 3)}, of the 4th digit)"
                    )
            digits = _plain_digits(text)
            if (
                digits is not None
                and digits < 4
                and not close(Evaluator(self, self.points[0])(members[-1]), exact)
            ):
                return f"FALSE ACCEPT (too-few-digits): {digits} significant digits accepted, 4 are asked"
            return None
        n, l = self.net.n, (self.layer if self.kind == "weight-gradient" else self.net.L)
        for number, point in enumerate(self.points):
            for j, k in itertools.product(range(n[l]), range(n[l - 1])):
                truth = self.truth(point, j, k)
                for position, member in enumerate(members):
                    value = Evaluator(self, point, None, {"j": j, "k": k})(member)
                    if not close(value, truth):
                        return (
                            f"FALSE ACCEPT: member {position + 1} ({member}) is {mpmath.nstr(value, 15)} at "
                            f"fresh point {number}, j={j}, k={k}; the truth is {mpmath.nstr(truth, 15)}"
                        )
        return None

    def _not_an_answer(self, member) -> str | None:
        """A verdict 'correct' for what the contract calls not-an-answer (unevaluated, restated, delta)."""
        for node in sp.preorder_traversal(member):
            if isinstance(node, (sp.Derivative, sp.Subs)):
                inner = node.expr if isinstance(node, sp.Subs) else node
                inner = inner.expr if isinstance(inner, sp.Derivative) else inner
                if not isinstance(inner, sp.Function):
                    return f"an unevaluated derivative {node}"
                if (
                    self.kind == "activation-derivative"
                    and self._own(type(inner).__name__, inner)
                    and str(inner.args[0]) == "z"
                ):
                    return f"the asked derivative restated: {node}"
            if isinstance(node, AppliedUndef) and self.kind == "activation-derivative":
                prime = _PRIME.match(type(node).__name__)
                if prime and self._own(prime.group("base"), node) and str(node.args[0]) == "z":
                    return f"the asked derivative restated: {node}"
            if isinstance(node, sp.Indexed) and str(node.base.label).lstrip("\\") in ("delta", "δ"):
                layer = node.indices[0]
                allowed = (
                    self.kind == "weight-gradient"
                    and self.layer < self.net.L
                    and layer.is_Integer
                    and int(layer) > self.layer
                )
                if not allowed:
                    return f"delta not allowed here: {node}"
        return None

    def _own(self, name: str, node) -> bool:
        """Is ``name`` the question's own activation (whose derivative is asked)?"""
        if name.lower() == "g":
            return True
        return _function_name(name, self, node.args[0] if node.args else None) == self.activation


def _plain_digits(text: str) -> int | None:
    """Significant digits of a plain decimal answer (None: not a plain decimal)."""
    core = re.sub(r"\\boxed\{(.*)\}", r"\1", text.strip()).strip().strip("$").strip()
    m = re.fullmatch(
        r"[-−]?\s*(\d*(?:\.|,|\{,\})?\d*)\s*(?:(?:\\times|\\cdot|×|·)\s*10\^\{?[-−]?\d+\}?|[eE][-+]?\d+)?",
        core,
    )
    if not m or not re.search(r"\d", m.group(1)):
        return None
    digits = re.sub(r"\D", "", m.group(1)).lstrip("0")
    return len(digits)


@functools.lru_cache(maxsize=None)
def oracle(name: str) -> Oracle:
    return Oracle(RAW[name])


def recheck(text: str, name: str) -> str | None:
    """None when a 'correct' verdict holds up under the independent evaluation; else what is wrong."""
    _, parse = _api()
    try:
        members = parse(text, expected(name))
    except Exception as error:  # noqa: BLE001
        return f"RECHECK: judged correct, but parse_student raised {type(error).__name__}: {str(error)[:150]}"
    if isinstance(members, sp.Basic):
        members = [members]
    members = list(members)
    if not members:
        return "RECHECK: judged correct, but parse_student returned no member"
    return oracle(name).check(members, text)


# Inputs 1: random strings ---------------------------------------------------------------------
LATEX_TOKENS = [
    "\\frac",
    "\\dfrac",
    "\\tfrac",
    "\\partial",
    "\\sigma",
    "\\tanh",
    "\\sum",
    "\\sum_",
    "\\left(",
    "\\right)",
    "\\left[",
    "\\right]",
    "\\left.",
    "\\right.",
    "\\big(",
    "\\Big)",
    "\\{",
    "\\}",
    "\\cdot",
    "\\times",
    "\\,",
    "\\!",
    "\\;",
    "\\delta",
    "\\prime",
    "\\operatorname{ReLU}",
    "\\operatorname{softplus}",
    "\\operatorname{",
    "\\mathrm{sech}",
    "\\ln",
    "\\log",
    "\\exp",
    "\\sqrt",
    "\\max",
    "\\boxed{",
    "\\approx",
    "\\infty",
    "\\mathbb{1}",
    "\\text{",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "\\\\",
    "\\Upsilon",
    "\\Omega",
    "\\alpha",
    "\\def",
    "\\input",
    "\\newcommand",
    "\\x",
    "\\",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "^",
    "_",
    "'",
    "=",
    "+",
    "-",
    "*",
    "/",
    "|",
    ",",
    ".",
    "&",
    "%",
    "#",
    "$",
    "~",
    "!",
    "<",
    ">",
    " ",
    "  ",
    "0",
    "1",
    "2",
    "7",
    "10",
    "0.5",
    "e",
    "E",
    "a",
    "w",
    "x",
    "y",
    "z",
    "b",
    "g",
    "n",
    "C",
    "C_0",
    "L",
    "l",
    "i",
    "j",
    "k",
    "p",
    "_j",
    "_k",
    "_{jk}",
    "_{ij}",
    "^{(2)}",
    "^{(L)}",
    "^{(L-1)}",
    "^{(l)}",
    "^{(0)}",
    "^{(1)}",
    "^2",
    "^{2}",
    "^{-1}",
    "a_j^{(2)}",
    "w_{jk}^{(2)}",
    "x_k",
    "y_j",
    "\\sigma'(",
    "g'(",
    "\\sum_{i=0}^{1}",
    "\\frac{1}{2}",
    "10^{-30}",
    "e-2",
    "{,}",
]
UNICODE = [
    "σ",
    "∂",
    "−",
    "·",
    "×",
    "′",
    "″",
    "²",
    "³",
    "∑",
    "≈",
    "δ",
    "√",
    "∞",
    "π",
    "α",
    "ℓ",
    "∈",
    "⋅",
    "–",
    "—",
    "“",
    "”",
    "‘",
    "’",
    "½",
    "⁻¹",
    "ⁱ",
    "₀",
    "₁",
    "ⱼ",
    "ₖ",
    "\u00a0",
    "\u2009",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\u0301",
    "ａ",
    "😀",
    "🧮",
    "👍🏽",
    "\U0001f600",
    "\ud800",
    "\udfff",
    "\x00",
    "\x07",
    "\x08",
    "\x1b",
    "\x7f",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\x0c",
    "\u2028",
    "\u0085",
    "ß",
    "é",
    "ж",
    "中",
    "\\σ",
    "∂C₀/∂w",
]
NUMBER_GARBAGE = [
    "9" * 700,
    "9" * 599,
    "1" + "0" * 40,
    "0." + "0" * 200 + "1",
    "1e999999999",
    "1e-999999",
    "9e9e9",
    "10^{10^{10}}",
    "2^{2^{2^{2^{2}}}}",
    "9^{9^{9^{9}}}",
    "10^{1001}",
    "10^{-1001}",
    "2^{1000}",
    "0^{0}",
    "0/0",
    "\\frac{0}{0}",
    "\\frac{1}{0}",
    "1/0",
    "\\ln 0",
    "\\ln(0)",
    "(-1)^{\\frac{1}{2}}",
    "\\sqrt{-1}",
    "\\infty",
    "-\\infty",
    "\\infty - \\infty",
    "e^{1000}",
    "e^{10^{6}}",
    "\\exp(\\exp(\\exp(10)))",
    "\\tanh(10^{300})",
    "1.0.0",
    "1,,2",
    "--1",
    "+-+1",
    "0x1F",
    "1_000",
    "NaN",
    "nan",
    "inf",
    "None",
    "__import__('os')",
    "eval('1')",
    "${1}",
    "\\sum_{i=0}^{10^{9}} i",
    "\\sum_{i=0}^{-5} x_i",
    "\\sum_{i=0}^{n^{(7)}-1} a_i^{(2)}",
    "a_{99999999999999999999}^{(2)}",
    "w_{" + "j" * 50 + "}^{(2)}",
    "a_j^{(" + "9" * 40 + ")}",
    "x_{-1}",
    "x_{1.5}",
    "a_{j}^{(2.5)}",
]
NESTING_PARTS = [
    ("(", ")"),
    ("{", "}"),
    ("[", "]"),
    ("\\left(", "\\right)"),
    ("\\frac{", "}{1}"),
    ("a^{", "}"),
    ("\\sigma(", ")"),
    ("\\sqrt{", "}"),
    ("-(", ")"),
    ("\\boxed{", "}"),
    ("2^{", "}"),
    ("\\sum_i ", ""),
    ("|", "|"),
    ("\\tanh ", ""),
    ("e^{", "}"),
]


def random_string(rng: random.Random) -> str:
    mode = rng.choices(
        ["ascii", "tokens", "unicode", "long", "nest", "numbers", "repeat", "mixed"],
        weights=[20, 25, 12, 10, 12, 8, 5, 8],
    )[0]
    if mode == "ascii":
        return "".join(
            chr(rng.randint(32, 126)) for _ in range(rng.choice([0, 1, 2, 3, 5, 10, 30, 80]))
        )
    if mode == "tokens":
        return "".join(rng.choice(LATEX_TOKENS) for _ in range(rng.randint(1, 25)))
    if mode == "unicode":
        pool = UNICODE + LATEX_TOKENS[:60]
        return "".join(rng.choice(pool) for _ in range(rng.randint(1, 20)))
    if mode == "long":
        unit = rng.choice(
            [
                "x_k+",
                "a_j^{(2)} ",
                "1+",
                "(",
                "\\sigma(z)",
                "\\,",
                " ",
                "σ",
                "😀",
                "y_j-",
                "\\frac{1}{2}",
            ]
        )
        length = rng.choice(
            [MAX_CHARS - 1, MAX_CHARS, MAX_CHARS + 1, rng.randint(580, 620), 2000, 20_000]
        )
        text = (unit * (length // len(unit) + 1))[:length]
        return text.rstrip("+-") if rng.random() < 0.5 else text
    if mode == "nest":
        opening, closing = rng.choice(NESTING_PARTS)
        depth = rng.choice([5, 20, 39, 40, 41, 50, 100, 150, 200, 300, 1000])
        core = rng.choice(["x_k", "1", "z", "a_j^{(2)}", ""])
        balanced = rng.random() < 0.6
        return (
            opening * depth
            + core
            + (closing * depth if balanced else closing * rng.randint(0, depth - 1))
        )
    if mode == "numbers":
        return rng.choice(NUMBER_GARBAGE)
    if mode == "repeat":
        unit = rng.choice(["-", "^", "_", "\\", "'", "=", "+", "/", "|", "{}", "()", "^{}", "_{}"])
        return unit * rng.randint(1, 700)
    base = rng.choice(LATEX_TOKENS) + rng.choice(UNICODE) + rng.choice(NUMBER_GARBAGE)
    return "".join(rng.sample(base, len(base))) if rng.random() < 0.5 else base


def fill(template: str, *parts: str) -> str:
    """The template with each § replaced by the next part (LaTeX is full of braces: no str.format)."""
    pieces = template.split("§")
    assert len(pieces) == len(parts) + 1, template
    return "".join(p + q for p, q in zip(pieces, [*parts, ""]))


# Inputs 2: grammar-made answers ---------------------------------------------------------------
class Grammar:
    """Well-formed expressions in the notation, for one question's network (mostly in range)."""

    def __init__(self, rng: random.Random, raw: dict) -> None:
        self.rng, self.raw, self.kind = rng, raw, raw["kind"]
        self.L = len(raw["layers"]) - 1 if raw.get("layers") else 1
        self.layer = raw.get("layer") or self.L

    def layer_text(self) -> str:
        r = self.rng
        return r.choice(
            [
                str(r.randint(0, self.L)),
                str(r.randint(0, self.L)),
                "L",
                "L-1",
                "l",
                "l+1",
                "l-1",
                str(self.L + 1),
            ]
        )

    def index(self, count: int = 1) -> str:
        r = self.rng
        if count == 2:
            return r.choice(["jk", "ij", "kj", "ji", "jk", "ik", "01", "10", "j,k", "0k", "j0"])
        return r.choice(["j", "k", "i", "j", "k", "0", "1", "2"])

    def quantity(self) -> str:
        r = self.rng
        base = r.choice(["a", "a", "a", "w", "w", "x", "y", "z", "b", "\\delta", "C_0"])
        if base == "C_0":
            return r.choice(["C_0", "C", "C_{0}"])
        if base in "xy":
            return f"{base}_{{{self.index()}}}" if r.random() < 0.7 else f"{base}_{self.index()}"
        sub = self.index(2 if base == "w" else 1)
        layer = f"^{{({self.layer_text()})}}"
        if r.random() < 0.05:
            layer = r.choice(["^2", "^{2}", "^{(2)}^{2}", "^{(L)}"])
        return (
            f"{base}_{{{sub}}}{layer}"
            if r.random() < 0.7
            else f"{base}^{{({self.layer_text()})}}_{{{sub}}}"
        )

    def number(self) -> str:
        r = self.rng
        return r.choice(
            [
                str(r.randint(0, 9)),
                str(r.randint(-5, 12)),
                f"{r.random():.4f}",
                f".{r.randint(1, 999)}",
                f"\\frac{{{r.randint(1, 9)}}}{{{r.randint(1, 9)}}}",
                "\\frac{1}{2}",
                "0.5",
                "2",
                "1",
                "0",
                f"{r.uniform(-1, 1):.3e}",
                f"{r.randint(1, 9)}.{r.randint(0, 99)}\\times 10^{{-{r.randint(1, 4)}}}",
                f"{r.randint(1, 9)}.{r.randint(0, 99)} \\cdot 10^{{{r.randint(-4, 2)}}}",
                "0{,}5",
                "0,0713",
                "10^{-30}",
                "2^{2^{2^{2}}}",
                "10^{10^{10}}",
                "9^{9^{9^{9}}}",
                "2^{1000}",
                "10^{1000}",
                "\\infty",
                "123456789012345678901234567890",
                "1" + "0" * 35,
            ]
        )

    def atom(self) -> str:
        r = self.rng
        if self.kind == "activation-derivative":
            return r.choice(
                [
                    "z",
                    "z",
                    "g(z)",
                    "g{\\left(z \\right)}",
                    "a",
                    "\\sigma(z)",
                    "\\sigma(2z)",
                    "\\sigma(3 z)",
                    "e^{-z}",
                    "e^{z}",
                    "\\tanh z",
                    "\\tanh(z)",
                    "g'(z)",
                    "\\sigma'(3z)",
                    "\\sigma'(z)",
                    "\\tanh'(z)",
                    "\\operatorname{softplus}(z)",
                    "\\ln(1+e^{z})",
                    "\\cosh z",
                    "\\operatorname{sech}^2 z",
                    "\\tanh^2 z",
                    "g^2(z)",
                    "\\sigma^2(z)",
                    self.number(),
                ]
            )
        if self.kind == "numeric-gradient" and r.random() < 0.8:
            return self.number()
        return self.quantity() if r.random() < 0.75 else self.number()

    def expr(self, depth: int) -> str:
        r = self.rng
        if depth <= 0 or r.random() < 0.25:
            return self.atom()
        a = lambda: self.expr(depth - 1)  # noqa: E731
        choice = r.choices(
            ["add", "sub", "mul", "frac", "paren", "func", "pow", "sum", "neg", "boxed"],
            weights=[14, 10, 18, 8, 8, 16, 8, 8, 5, 2],
        )[0]
        if choice == "add":
            return f"{a()} + {a()}"
        if choice == "sub":
            return f"{a()} - {a()}"
        if choice == "mul":
            return fill(
                r.choice(["§ §", "§ \\cdot §", "§ \\times §", "§ * §", "§\\,§", "§§", "§ · §"]),
                a(),
                a(),
            )
        if choice == "frac":
            return fill(
                r.choice(["\\frac{§}{§}", "\\dfrac{§}{§}", "§ / §", "\\tfrac{§}{§}"]), a(), a()
            )
        if choice == "paren":
            return fill(
                r.choice(
                    [
                        "\\left(§\\right)",
                        "(§)",
                        "[§]",
                        "\\left[§\\right]",
                        "\\big(§\\big)",
                        "\\{§\\}",
                        "\\Bigl(§\\Bigr)",
                    ]
                ),
                a(),
            )
        if choice == "func":
            layer = self.layer_text()
            return fill(
                r.choice(
                    [
                        "\\sigma\\left(§\\right)",
                        "\\sigma(§)",
                        "\\sigma'(§)",
                        "\\sigma'\\!\\left(§\\right)",
                        "σ(§)",
                        "\\tanh(§)",
                        "\\tanh'(§)",
                        "\\tanh^{2}(§)",
                        "\\operatorname{sech}^2(§)",
                        "\\exp(§)",
                        "e^{§}",
                        "\\ln(§)",
                        "\\log(§)",
                        "\\sqrt{§}",
                        "|§|",
                        "\\max(0, §)",
                        "\\operatorname{ReLU}(§)",
                        "\\operatorname{ReLU}'(§)",
                        "\\operatorname{softplus}(§)",
                        "\\operatorname{softplus}'(§)",
                        "g(§)",
                        "g'(§)",
                        "g^{(" + layer + ")}(§)",
                        "g^{(" + layer + ")\\prime}(§)",
                        "\\cosh(§)",
                        "\\sigma^2(§)",
                        "g^{\\prime}(§)",
                        "H(§)",
                        "\\mathbb{1}(§ > 0)",
                        "\\operatorname{sigmoid}(§)",
                    ]
                ),
                a(),
            )
        if choice == "pow":
            exponent = r.choice(
                [
                    "2",
                    "3",
                    "-1",
                    "\\frac{1}{2}",
                    "0.5",
                    "{2^{2}}",
                    "{2^{2^{2}}}",
                    "{10^{10}}",
                    "-2",
                    "1000",
                    "1001",
                    "{(2)}",
                    "n",
                ]
            )
            return fill(
                r.choice(["\\left(§\\right)^{§}", "(§)^{§}", "§^{§}"]),
                a() if r.random() < 0.6 else self.atom(),
                exponent,
            )
        if choice == "sum":
            high = r.choice(["1", "0", "2", "n-1", "n^{(2)}-1", "n^{(L)}-1", "n", "n^{(2)}", "N"])
            low = r.choice(["0", "0", "1"])
            limits = "_{i=" + low + "}^{" + high + "}"
            return fill(
                r.choice(
                    [
                        "\\sum" + limits + " §",
                        "\\sum_i §",
                        "\\sum_{i} §",
                        "\\sum" + limits + " \\left(§\\right)",
                        "\\sum_{k} §",
                        "\\sum_{j=0}^{1} §",
                        "∑_i §",
                    ]
                ),
                a(),
            )
        if choice == "neg":
            return f"-{a()}" if r.random() < 0.8 else f"−{a()}"
        return f"\\boxed{{{a()}}}"

    def lhs(self) -> str:
        kind, r = self.kind, self.rng
        if kind == "activation-derivative":
            return r.choice(
                ["g'(z)", "\\frac{d g}{d z}", "\\frac{dg}{dz}", "\\sigma'(z)", "g^{\\prime}(z)"]
            )
        if kind == "numeric-gradient":
            j, k = self.raw["node"]
            return f"\\frac{{\\partial C_0}}{{\\partial w_{{{j}{k}}}^{{({self.layer})}}}}"
        if kind == "missing-factor":
            L = self.L
            return [
                f"\\frac{{\\partial C_0}}{{\\partial a_j^{{({L})}}}}",
                "\\frac{\\partial a_j^{(L)}}{\\partial z_j^{(L)}}",
                f"\\frac{{\\partial z_j^{{({L})}}}}{{\\partial w_{{jk}}^{{({L})}}}}",
            ][self.raw["factor"]]
        return r.choice(
            [
                f"\\frac{{\\partial C_0}}{{\\partial w_{{jk}}^{{({self.layer})}}}}",
                "\\frac{\\partial C}{\\partial w_{jk}^{(l)}}",
                "\\frac{\\partial C_0}{\\partial a_j^{(L)}}",
                "∂C_0/∂w_{jk}^{(2)}",
            ]
        )

    def answer(self) -> str:
        r = self.rng
        body = self.expr(r.choice([1, 2, 2, 3, 3, 4]))
        shape = r.random()
        if shape < 0.12:
            return f"{self.lhs()} = {body}"
        if shape < 0.18:
            return f"{body} = {self.expr(2)}"
        if shape < 0.21:
            return f"{body} \\approx {self.number()}"
        return body


# Inputs 3: mutations of the key's answer --------------------------------------------------------
TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\d|\s+|.", re.S)
INSERTS = [
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "^",
    "_",
    "'",
    "+",
    "-",
    "*",
    "/",
    "=",
    "\\",
    "|",
    ",",
    ".",
    " ",
    "0",
    "1",
    "2",
    "j",
    "k",
    "i",
    "a",
    "w",
    "x",
    "y",
    "z",
    "σ",
    "−",
    "′",
    "²",
    "·",
]
TOKENS_IN = [
    "\\sigma",
    "\\left(",
    "\\right)",
    "\\frac{1}{2}",
    "\\cdot",
    "^{2}",
    "_{j}",
    "_{k}",
    "^{(1)}",
    "^{(2)}",
    "\\sum_i",
    "'",
    "\\!",
    "\\,",
    "2",
    "-",
    "+",
    "x_k",
    "a_j^{(2)}",
    "y_j",
    "\\tanh",
    "g",
    "z",
    "\\partial",
    "\\boxed{",
    "=",
    "\\approx",
    "\\delta_i^{(2)}",
    "e",
]
LAYERS = ["(0)", "(1)", "(2)", "(3)", "(L)", "(L-1)", "(l)", "(l+1)", "(-1)", "(10)", "(L+1)"]


def key_latex(name: str) -> str:
    return RAW[name]["answer_latex"]


def extra_term(raw: dict) -> str:
    """A quantity of the question's own kind whose addition changes the answer."""
    if raw["kind"] == "activation-derivative":
        return "z"
    if raw["kind"] == "numeric-gradient":
        return "x_{0}"
    layer = raw["layer"] if raw["kind"] == "weight-gradient" else len(raw["layers"]) - 1
    return "x_{k}" if layer == 1 else f"a_{{k}}^{{({layer - 1})}}"


def cancel_term(raw: dict) -> str:
    if raw["kind"] == "activation-derivative":
        return "\\left(z - z\\right)"
    if raw["kind"] == "numeric-gradient":
        return "\\left(0.5 - \\frac{1}{2}\\right)"
    return f"\\left({extra_term(raw)} - {extra_term(raw)}\\right)"


def swap_indices(text: str, first: str, second: str) -> str:
    """Swap two index letters inside every subscript."""

    def swap(m: re.Match) -> str:
        return m.group(0).translate(str.maketrans({first: second, second: first}))

    return re.sub(r"_\{[^{}]*\}|_[A-Za-z]", swap, text)


def mutate_once(rng: random.Random, text: str, raw: dict) -> tuple[str, str, bool | None]:
    """(mutated text, what was done, same value as before?): True and False are certain (and
    asserted: True must be judged correct, False must not be); None: anything may happen."""
    numeric = raw["kind"] == "numeric-gradient"
    symbolic = None if numeric else True  # a rewrite of a number is judged by digits: no claim
    ops = [
        "del-char",
        "ins-char",
        "rep-char",
        "del-token",
        "ins-token",
        "rep-token",
        "swap-tokens",
        "swap-index",
        "digit",
        "dup-segment",
        "stray-close",
        "layer",
        "plus-zero",
        "times-one",
        "plus-cancel",
        "times-eps",
        "scale",
        "lhs-chain",
        "boxed",
        "double-chain",
        "negate",
        "unicode",
        "plus-extra",
        "drop-segment",
    ]
    op = rng.choice(ops + ["rewrite"] * 4)
    if op == "rewrite":
        return rewrite(rng, text, raw)
    tokens = TOKEN.findall(text)
    pos = rng.randrange(len(text) + 1)
    if op == "del-char" and text:
        p = rng.randrange(len(text))
        return text[:p] + text[p + 1 :], op, None
    if op == "ins-char":
        return text[:pos] + rng.choice(INSERTS) + text[pos:], op, None
    if op == "rep-char" and text:
        p = rng.randrange(len(text))
        return text[:p] + rng.choice(INSERTS) + text[p + 1 :], op, None
    if op == "del-token" and tokens:
        t = rng.randrange(len(tokens))
        return "".join(tokens[:t] + tokens[t + 1 :]), op, None
    if op == "ins-token":
        t = rng.randrange(len(tokens) + 1)
        return "".join(tokens[:t] + [rng.choice(TOKENS_IN)] + tokens[t:]), op, None
    if op == "rep-token" and tokens:
        t = rng.randrange(len(tokens))
        return "".join(tokens[:t] + [rng.choice(TOKENS_IN)] + tokens[t + 1 :]), op, None
    if op == "swap-tokens" and len(tokens) > 1:
        t = rng.randrange(len(tokens) - 1)
        tokens[t], tokens[t + 1] = tokens[t + 1], tokens[t]
        return "".join(tokens), op, None
    if op == "swap-index":
        first, second = rng.sample(["i", "j", "k"], 2)
        if rng.random() < 0.5:
            return swap_indices(text, first, second), op, None
        spots = [
            m.start() for m in re.finditer(r"(?<=[_{])[ijk](?=[}ijk,])|(?<=[ijk])[ijk](?=})", text)
        ]
        if spots:
            p = rng.choice(spots)
            return text[:p] + rng.choice("ijk".replace(text[p], "")) + text[p + 1 :], op, None
    if op == "digit":
        spots = [m.start() for m in re.finditer(r"\d", text)]
        if spots:
            p = rng.choice(spots)
            return (
                text[:p] + rng.choice("0123456789".replace(text[p], "")) + text[p + 1 :],
                op,
                None,
            )
    if op == "dup-segment" and text:
        a = rng.randrange(len(text))
        b = min(len(text), a + rng.randint(1, 20))
        return text[:b] + text[a:b] + text[b:], op, None
    if op == "drop-segment" and text:
        a = rng.randrange(len(text))
        b = min(len(text), a + rng.randint(1, 12))
        return text[:a] + text[b:], op, None
    if op == "stray-close":
        return text[:pos] + rng.choice([")", "}", "]", "\\right)", ")", "}"]) + text[pos:], op, None
    if op == "layer":
        spots = list(re.finditer(r"\((\d|L|L-1|l)\)", text))
        if spots:
            m = rng.choice(spots)
            return (
                text[: m.start()]
                + rng.choice([x for x in LAYERS if x != m.group(0)])
                + text[m.end() :],
                op,
                None,
            )
    if op == "plus-zero":
        tail = rng.choice([" + 0", "+0", " - 0", " + 0 \\cdot x_{k}", " + 0.0"])
        return text + tail, op, None if "x_" in tail else symbolic
    if op == "times-one":
        return (
            rng.choice(
                [
                    "{} \\cdot 1",
                    "1 \\cdot {}",
                    "\\left({}\\right) \\cdot 1",
                    "{} \\times 1",
                    "\\frac{{2}}{{2}} \\left({}\\right)",
                ]
            ).format(text),
            op,
            symbolic,
        )
    if op == "plus-cancel":
        return f"{text} + {cancel_term(raw)}", op, symbolic
    if op == "times-eps":
        eps = rng.choice(
            ["10^{-30}", "10^{-60}", "10^{-100}", "10^{-20}", "\\frac{1}{7}", "0.001", "10^{-5}"]
        )
        form = rng.choice(
            ["\\left({}\\right) \\cdot \\left(1 + {}\\right)", "({})(1+{})", "{} + {}"]
        )
        tiny = eps in (
            "10^{-60}",
            "10^{-100}",
        )  # below the judge's (and this file's) numeric resolution
        return form.format(text, eps), op, None if numeric or tiny else False
    if op == "scale":
        factor = rng.choice(["2", "\\frac{1}{2}", "-1", "\\frac{8}{7}", "1.001", "0.999", "3"])
        return f"{factor} \\left({text}\\right)", op, None if numeric else False
    if op == "lhs-chain":
        return f"{Grammar(rng, raw).lhs()} = {text}", op, None
    if op == "boxed":
        return f"\\boxed{{{text}}}", op, True
    if op == "double-chain":
        return f"{text} = {text}", op, True
    if op == "negate":
        return f"-\\left({text}\\right)", op, None if numeric else False
    if op == "unicode":
        table = [
            ("\\sigma", "σ"),
            ("-", "−"),
            ("\\cdot", "·"),
            ("'", "′"),
            ("^{2}", "²"),
            ("\\left(", "("),
            ("\\right)", ")"),
            ("\\!", ""),
            ("\\sum", "∑"),
            ("\\times", "×"),
        ]
        old, new = rng.choice(table)
        return text.replace(old, new), op, True
    if op == "plus-extra":
        return f"{text} + {extra_term(raw)}", op, False
    return text + rng.choice(INSERTS), "append-char", None


def _calls(text: str, head: str) -> list[tuple[int, int, str]]:
    """(start, end, argument) of each head\\left( argument \\right) in a key (balanced \\left / \\right)."""
    out = []
    for m in re.finditer(re.escape(head) + r"\\left\(", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            if text.startswith("\\left(", i):
                depth, i = depth + 1, i + 6
            elif text.startswith("\\right)", i):
                depth, i = depth - 1, i + 7
            else:
                i += 1
        if depth == 0:
            out.append((m.start(), i, text[m.end() : i - 7]))
    return out


# A derivative as the key writes it, and rewrites of it: (template with § for the argument, same value?)
REWRITES = {
    "\\sigma'\\!": [
        ("\\sigma\\left(§\\right)\\left(1 - \\sigma\\left(§\\right)\\right)", True),
        ("\\frac{e^{-(§)}}{\\left(1 + e^{-(§)}\\right)^{2}}", True),
        ("σ′(§)", True),
        ("\\sigma\\left(§\\right)\\left(1 + \\sigma\\left(§\\right)\\right)", False),
        ("\\sigma\\left(§\\right)", False),
        ("\\sigma\\left(§\\right)^{2}", False),
    ],
    "\\operatorname{ReLU}'\\!": [
        ("H\\left(§\\right)", True),
        ("\\mathbb{1}\\left(§ > 0\\right)", True),
        ("\\mathbb{1}_{§ > 0}", True),
        ("1", False),
        ("0", False),
        ("\\operatorname{ReLU}\\left(§\\right)", False),
        ("\\max(0, §)", False),
    ],
    "\\tanh'\\!": [
        ("1 - \\tanh^{2}\\left(§\\right)", True),
        ("\\operatorname{sech}^2\\left(§\\right)", True),
        ("\\frac{1}{\\cosh^{2}(§)}", True),
        ("1 - \\tanh\\left(§\\right)", False),
        ("1 + \\tanh^{2}\\left(§\\right)", False),
        ("\\tanh^{2}\\left(§\\right)", False),
    ],
    "\\operatorname{softplus}'\\!": [
        ("\\sigma\\left(§\\right)", True),
        ("\\frac{1}{1 + e^{-(§)}}", True),
        ("\\frac{e^{§}}{1 + e^{§}}", True),
        ("\\ln\\left(1 + e^{§}\\right)", False),
        ("\\sigma\\left(-(§)\\right)", False),
        ("1 - \\sigma\\left(§\\right)", False),
    ],
}
# tanh questions, 1 - g^2(z): g^2(z) written otherwise (\tanh z^2 is ambiguous: no claim)
G_SQUARED = [
    ("\\tanh^2 z", True),
    ("\\tanh^{2}(z)", True),
    ("g(z)^{2}", True),
    ("a^{2}", True),
    ("a^2", True),
    ("\\tanh(z)^2", True),
    ("\\tanh^2(-z)", True),
    ("g^2(z)", True),
    ("\\tanh z^2", None),
    ("g^{2}(2z)", False),
    ("\\sigma^2(z)", False),
    ("\\tanh^2(2z)", False),
]


def _g_forms(activation: str) -> list[tuple[str, bool]]:
    """Sigmoid questions, (1 - g)g: g(z) written otherwise; sigma's gain decides which are equal."""
    gain = re.fullmatch(r"sigmoid\(gain=(\d)\)", activation)
    gain = int(gain.group(1)) if gain else 1
    return [
        ("a", True),
        ("g(z)", True),
        ("g", True),
        ("g(-z)", True),
        ("\\sigma(z)", gain == 1),
        ("\\sigma(2z)", gain == 2),
        ("\\sigma(3z)", gain == 3),
        ("\\tanh(z)", False),
        ("g(2z)", False),
    ]


def rewrite(rng: random.Random, text: str, raw: dict) -> tuple[str, str, bool | None]:
    """One function derivative in the key replaced by an equal form or by a near miss; g(z) written
    otherwise; a sum's limits written otherwise (some out of range)."""
    calls = [(head, call) for head in REWRITES for call in _calls(text, head)]
    if calls:
        head, (start, end, argument) = rng.choice(calls)
        template, same = rng.choice(REWRITES[head])
        if template.startswith("1 "):  # a difference inside a product: keep it one factor
            template = "\\left(" + template + "\\right)"
        return (
            text[:start] + template.replace("§", argument) + text[end:],
            "rewrite-derivative",
            same,
        )
    if "g^{2}{\\left(z \\right)}" in text:
        form, same = rng.choice(G_SQUARED)
        return text.replace("g^{2}{\\left(z \\right)}", form), "rewrite-g2", same
    if "g{\\left(z \\right)}" in text:
        form, same = rng.choice(_g_forms(raw["activation"][0]))
        return text.replace("g{\\left(z \\right)}", form), "rewrite-g", same
    sums = list(re.finditer(r"\\sum_\{i=0\}\^\{(\d)\}", text))
    if sums:
        m = rng.choice(sums)
        high = int(m.group(1))
        limits, same = rng.choice(
            [
                ("\\sum_{i}", True),
                ("\\sum_i", True),
                ("\\sum_{i=0}^{n^{(2)}-1}", True),
                ("\\sum_{i=1}^{n^{(2)}}", True),
                ("\\sum_{i=0}^{n-1}", True),
                (f"\\sum_{{i=0}}^{{{high}}}", True),
                ("\\sum_{i=0}^{0}", high == 0),
                (f"\\sum_{{i=1}}^{{{high + 1}}}", False),
                (f"\\sum_{{i=0}}^{{{high + 1}}}", False),
                (f"\\sum_{{i=1}}^{{{high}}}", False),
                ("\\sum_{i=0}^{n}", False),
            ]
        )
        return text[: m.start()] + limits + text[m.end() :], "rewrite-sum", same
    return text, "rewrite-none", True


def mutation(rng: random.Random, name: str) -> tuple[str, str, bool | None]:
    """1 to 3 mutations of the key; the same value only when each one keeps it (False when the only one changes it)."""
    text, raw, applied, sames = key_latex(name), RAW[name], [], []
    for _ in range(rng.choices([1, 2, 3], weights=[70, 20, 10])[0]):
        text, op, same = mutate_once(rng, text, raw)
        applied.append(op)
        sames.append(same)
    same = True if all(x is True for x in sames) else (False if sames == [False] else None)
    if "boxed" in applied and any(op.endswith("chain") for op in applied[: applied.index("boxed")]):
        same = None  # \boxed{a = b}: a chain inside the box; the contract does not say
    return text, "+".join(applied), same


# The fuzz run ------------------------------------------------------------------------------------
def make_inputs(family: str, chunk: int) -> list[tuple[str, str, str, bool | None]]:
    """(question name, text, what made it, same value as the key?) for one chunk; deterministic."""
    rng = random.Random(f"derive-fuzz/{family}/{chunk}")
    count = {
        "random": RANDOM_PER_CHUNK,
        "grammar": GRAMMAR_PER_CHUNK,
        "mutation": MUTATION_PER_CHUNK,
    }[family]
    out = []
    for number in range(count):
        name = NAMES[(chunk * count + number) % len(NAMES)]
        if family == "random":
            out.append((name, random_string(rng), "random", None))
        elif family == "grammar":
            out.append((name, Grammar(rng, RAW[name]).answer(), "grammar", None))
        else:
            out.append((name, *mutation(rng, name)))
    return out


def _record(family: str, chunk: int, stats: dict, failures: list) -> None:
    path = os.environ.get("DERIVE_FUZZ_STATS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {"family": family, "chunk": chunk, **stats, "failures": failures},
                    ensure_ascii=False,
                )
                + "\n"
            )


def _run(family: str, chunk: int, inputs: list[tuple[str, str, str]]) -> None:
    failures, statuses, slow = [], collections.Counter(), []
    start, cpu = time.perf_counter(), time.process_time()
    for name, text, how, same in inputs:
        verdict, problem, seconds = run_judge(text, expected(name))
        slow.append((seconds, name, text[:80]))
        if problem:
            statuses["crash"] += 1
            failures.append({"question": name, "how": how, "input": text, "problem": problem})
            continue
        status = status_of(verdict)
        statuses[status] += 1
        issues = verdict_problems(text, name, verdict)
        if same is True and status != "correct":
            issues.append(f"FALSE REJECT: a rewrite that keeps the key's value was judged {status}")
        if same is False and status == "correct":
            issues.append("FALSE ACCEPT: a rewrite that changes the key's value was judged correct")
        for issue in issues:
            failures.append(
                {
                    "question": name,
                    "how": how,
                    "input": text,
                    "problem": issue,
                    "verdict": f"{status_of(verdict)}: {verdict.message}",
                }
            )
    slow.sort(reverse=True)
    _record(
        family,
        chunk,
        {
            "inputs": len(inputs),
            "statuses": dict(statuses),
            "seconds": round(time.perf_counter() - start, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "slowest": [(round(s, 2), n, t) for s, n, t in slow[:3]],
        },
        failures,
    )
    if failures:
        lines = [f"{len(failures)} of {len(inputs)} {family} inputs failed; first ones:"]
        for f in failures[:25]:
            size = f" ({len(f['input'])} chars)" if len(f["input"]) > 300 else ""
            verdict = f"\n      verdict: {f['verdict'][:200]}" if "verdict" in f else ""
            lines.append(
                f"  [{f['question']}, {f['how']}] input={f['input'][:300]!r}{size}"
                f"\n      -> {f['problem'][:400]}{verdict}"
            )
        pytest.fail("\n".join(lines), pytrace=False)


def test_at_least_ten_thousand_inputs():
    assert TOTAL_FUZZ >= 10_000
    assert {RAW[n]["kind"] for n in NAMES} == {
        "activation-derivative",
        "weight-gradient",
        "numeric-gradient",
        "missing-factor",
    }


@pytest.mark.parametrize("chunk", range(RANDOM_CHUNKS))
def test_fuzz_random_strings(chunk):
    _run("random", chunk, make_inputs("random", chunk))


@pytest.mark.parametrize("chunk", range(GRAMMAR_CHUNKS))
def test_fuzz_grammar_answers(chunk):
    _run("grammar", chunk, make_inputs("grammar", chunk))


@pytest.mark.parametrize("chunk", range(MUTATION_CHUNKS))
def test_fuzz_mutated_keys(chunk):
    _run("mutation", chunk, make_inputs("mutation", chunk))


# Per question: the key is correct, semantic slips are wrong ---------------------------------------
def semantic_slips(name: str) -> list[tuple[str, str]]:
    """Answers that differ from the key in value: each must be judged wrong."""
    raw, key = RAW[name], key_latex(name)
    if raw["kind"] == "numeric-gradient":
        value = Fraction(raw["answer_latex"])
        return [
            ("times 8/7", f"{float(value * Fraction(8, 7)):.6g}"),
            ("plus a quantity", f"{key} + x_{{0}}"),
            ("negated", f"{float(-value):.6g}"),
            ("2nd digit changed", f"{float(value * Fraction(11, 10)):.6g}"),
            ("times 1.001", f"{float(value * Fraction(1001, 1000)):.6g}"),
        ]
    slips = [
        ("times (1+1/7)", f"\\left(1 + \\frac{{1}}{{7}}\\right) \\left({key}\\right)"),
        ("plus a quantity", f"{key} + {extra_term(raw)}"),
        ("times (1+10^-30)", f"\\left({key}\\right) \\cdot \\left(1 + 10^{{-30}}\\right)"),
    ]
    if raw["kind"] == "activation-derivative":
        slips.append(("g(z) -> g(2z)", key.replace("\\left(z \\right)", "\\left(2 z \\right)")))
        return slips
    letters = set(re.findall(r"_\{([^{}]*)\}", key)) and set(
        "".join(re.findall(r"_\{([^{}]*)\}", key))
    ) & {"j", "k"}
    if letters == {"j", "k"}:
        slips.append(("j <-> k", swap_indices(key, "j", "k")))
    elif letters == {"j"}:
        slips.append(("j -> k", key.replace("_{j}", "_{k}")))
    elif letters == {"k"}:
        slips.append(("k -> j", key.replace("_{k}", "_{j}")))
    if "w_{ij}" in key:
        slips.append(("w_ij -> w_ji", key.replace("w_{ij}", "w_{ji}")))
    return slips


@pytest.mark.parametrize("name", NAMES)
def test_key_correct_and_slips_wrong(name):
    raw, key, problems = RAW[name], key_latex(name), []
    if raw["kind"] == "numeric-gradient":  # the independent truth agrees with the key file's value
        exact = oracle(name).exact_value()
        assert abs(exact - mpmath.mpf(raw["answer_value"])) <= 1e-12 * abs(exact), (
            name,
            exact,
            raw["answer_value"],
        )
    for what, text in [("key", key), ("boxed key", f"\\boxed{{{key}}}")]:
        verdict, problem, _ = run_judge(text, expected(name))
        if problem:
            problems.append(f"{what} {text!r}: {problem}")
            continue
        if status_of(verdict) != "correct":
            problems.append(f"{what} {text!r}: judged {status_of(verdict)}: {verdict.message}")
        problems += [f"{what} {text!r}: {p}" for p in verdict_problems(text, name, verdict)]
    own = recheck(
        key, name
    )  # the independent re-check itself: it accepts the key, rejects every slip
    if own:
        problems.append(f"TEST BUG? the independent re-check rejects the key: {own}")
    for what, text in semantic_slips(name):
        if recheck(text, name) is None:
            problems.append(
                f"TEST BUG? the independent re-check would accept the slip '{what}' {text!r}"
            )
        verdict, problem, _ = run_judge(text, expected(name))
        if problem:
            problems.append(f"slip '{what}' {text!r}: {problem}")
            continue
        if status_of(verdict) != "wrong":
            problems.append(
                f"slip '{what}' {text!r}: judged {status_of(verdict)} ({verdict.message}), must be wrong"
            )
        problems += [f"slip '{what}' {text!r}: {p}" for p in verdict_problems(text, name, verdict)]
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
