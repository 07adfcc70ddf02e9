"""Homework: randomised exercises whose answers and solutions come from the engine.

A version is a list of questions drawn from a seeded random generator, so the same seed gives
the same questions (and the same answer key, byte for byte). Every question knows how to
rebuild its network, its expected answer and the likely mistakes from its parameters alone:
the answer key stores parameters, and ``derive check-answer`` recomputes from them instead of
trusting (or evaluating) an expression read from a file.
"""
from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import sympy as sp

from derive.model.activations import Z
from derive.homework.answers import DIGITS, Expected, Mistake, Slip, concrete, slips
from derive.engine.derivation import weight_gradient
from derive.errors import DeriveError
from derive.evaluate.points import PointValues
from derive.evaluate.exact import Model, prime_function
from derive.read.latex import Context
from derive.model.network import Network
from derive.notation.printing import latex
from derive.model.values import Values

KINDS = ("activation-derivative", "weight-gradient", "numeric-gradient", "missing-factor")
KEY_FORMAT = "derive-homework-key/2"
KEY_FORMATS = ("derive-homework-key/1", KEY_FORMAT)  # /1: written before digits and δ were stated
ACTIVATION_CHOICES = ("tanh", "softplus", "sigmoid", "sigmoid(gain=2)", "sigmoid(gain=3)")
NETWORK_ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")
COSTS = ("quadratic", "half-quadratic", "cross-entropy")
G = sp.Function("g")
FACTORS = ("the derivative of the cost", "the derivative of the activation",
           "the derivative of $z_j^{(L)}$ with respect to the weight")  # LaTeX: shown in sheets


@dataclass(frozen=True)
class Question:
    """One exercise, by its parameters only (JSON-friendly)."""

    id: str
    kind: str
    layers: tuple[int, ...] = ()
    activation: tuple[str, ...] = ()
    cost: str = "quadratic"
    bias: bool = False
    layer: int | None = None
    node: tuple[int, int] | None = None  # (j, k) of the weight a numeric question asks for
    factor: int | None = None  # the missing chain-rule factor: 0 cost, 1 activation, 2 dz/dw
    values: dict | None = None  # exact decimals as strings: x, y, weights, biases
    digits: int = DIGITS  # significant digits a numeric answer must give
    delta_allowed: bool | None = None  # δ of downstream layers may be used; None: the kind decides

    @property
    def allows_delta(self) -> bool:
        """δ of the layers downstream may be used: by default in input-to-hidden weight gradients."""
        if self.delta_allowed is not None:
            return self.delta_allowed
        return self.kind == "weight-gradient" and self.layer is not None and self.layer < len(self.layers) - 1

    # Rebuilding ------------------------------------------------------------------------
    def network(self) -> Network:
        """The question's network (shared between calls: its derivation is computed once)."""
        if self.kind == "activation-derivative":
            return _network((1, 1), self.activation[:1], "quadratic", False)
        return _network(tuple(self.layers), tuple(self.activation), self.cost, self.bias)

    def point(self) -> dict | None:
        if self.values is None:
            return None
        from derive.numeric.worked import point_from_values

        return point_from_values(self.network(), self.spec_values())

    def spec_values(self) -> Values:
        v = self.values
        exact = lambda text: sp.Rational(text)  # noqa: E731 - our own decimal strings
        return Values(
            x=tuple(map(exact, v["x"])), y=tuple(map(exact, v["y"])),
            weights=tuple(tuple(tuple(map(exact, row)) for row in m) for m in v["weights"]),
            biases=tuple(tuple(map(exact, b)) for b in v["biases"]) if v.get("biases") else None)

    def answer(self) -> sp.Expr:
        """The key, from the engine."""
        net = self.network()
        s = net.symbols
        if self.kind == "activation-derivative":
            return net.activations[0].classic(Z)
        if self.kind == "weight-gradient":
            return weight_gradient(net, self.layer)
        if self.kind == "numeric-gradient":
            j, k = self.node
            return weight_gradient(net, self.layer).xreplace({s.j: j, s.k: k})
        return chain_factors(net)[self.factor][1]

    def expected(self) -> Expected:
        """How answers to this question are judged (rebuilt from the parameters, cached)."""
        return self._judged_by

    @functools.cached_property
    def _judged_by(self) -> Expected:
        net = self.network()
        s = net.symbols
        key = self.answer()
        if self.kind == "activation-derivative":
            act = net.activations[0]
            found = []
            gain = re.search(r"gain=(\d+)", self.activation[0])
            if gain:  # before the factor 2, so a gain of 2 left out is named for what it is
                found.append(Slip(Mistake.FORGOTTEN_INNER, "the inner derivative forgotten: the chain rule brings "
                                  f"down the gain {gain.group(1)}", key / int(gain.group(1))))
            found += [Slip(Mistake.SIGN, "a sign error", -key),
                      Slip(Mistake.MISSING_TWO, "a missing factor 2", key / 2),
                      Slip(Mistake.EXTRA_TWO, "an extra factor 2", key * 2)]
            asked = (prime_function(act.function)(Z), sp.Derivative(act.function(Z), Z))
            return Expected(key, Context(net, variable_z=True, bare_a=act(Z)), asked=asked,
                            restated=(act.function,), slips=tuple(found))
        ctx = Context(net, layer=self.layer)
        if self.kind == "missing-factor":
            written = chain_factors(net)[self.factor][0]
            return Expected(key, ctx, asked=(written,), slips=slips(key, net, net.L))
        general = sp.Derivative(s.cost, s.w[self.layer, s.j, s.k])
        delta_from = self.layer + 1 if self.allows_delta else None
        if self.kind == "numeric-gradient":
            j, k = self.node
            at_point = PointValues(net, self.point())
            at_node = {s.j: sp.Integer(j), s.k: sp.Integer(k)}
            found = concrete(slips(weight_gradient(net, self.layer), net, self.layer),
                             lambda e: sp.Float(at_point(e.xreplace(at_node)), 60))
            asked = (sp.Derivative(s.cost, s.w[self.layer, j, k]), general)
            return Expected(key, ctx, asked=asked, numeric=True, value=self.answer_value, digits=self.digits,
                            slips=found, point=self.point())
        return Expected(key, ctx, asked=(general,), delta_from=delta_from, slips=slips(key, net, self.layer))

    @functools.cached_property
    def answer_value(self) -> sp.Expr:
        """A numeric question's answer, exact or to 120 digits, at the question's numbers."""
        return Model(self.network(), point=self.point()).value(self.answer())

    # Presentation ----------------------------------------------------------------------
    def answer_latex(self) -> str:
        """The key as LaTeX that ``check-answer`` itself reads (an activation is written g)."""
        net = self.network()
        if self.kind == "activation-derivative":
            return latex(self.answer().replace(net.activations[0].function, G), net.notation)
        if self.kind == "numeric-gradient":
            return _decimal(self.answer_value)
        return latex(self.answer(), net.notation)

    def to_json(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data["delta_allowed"] = self.allows_delta
        data["answer_latex"] = self.answer_latex()
        data["answer_sympy"] = sp.srepr(self.answer())
        if self.kind == "numeric-gradient":
            data["answer_value"] = float(self.answer_value)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Question":
        fields = {f for f in cls.__dataclass_fields__}
        known = {k: v for k, v in data.items() if k in fields}
        if known.get("kind") not in KINDS:
            raise DeriveError(f"unknown question kind {known.get('kind')!r} in the key")
        for name in ("layers", "activation", "node"):
            if name in known and known[name] is not None:
                known[name] = tuple(known[name])
        return cls(**known)


@functools.lru_cache(maxsize=256)
def _network(layers: tuple[int, ...], activation: tuple[str, ...], cost: str, bias: bool) -> Network:
    return Network(list(layers), activation=list(activation), cost=cost, bias=bias)


def chain_factors(net: Network) -> list[tuple[sp.Expr, sp.Expr]]:
    """The three factors of dC_0/dw_jk^(L), each as (the derivative written, its value)."""
    s, L = net.symbols, net.L
    a, z = s.a[L, s.j], s.z[L, s.j]
    return [
        (sp.Derivative(s.cost, a), net.cost.derivative_at(a, s.y[s.j])),
        (sp.Derivative(a, z), net.activation(L).prime(z)),
        (sp.Derivative(z, s.w[L, s.j, s.k]), net.previous_activation(L, s.k)),
    ]


def _decimal(value: sp.Expr, digits: int = DIGITS) -> str:
    """The value to ``digits`` significant digits, trailing zeros kept (0.01210, not 0.0121)."""
    text = f"{float(value):#.{digits}g}"
    return text[:-1] if text.endswith(".") else text


# Drawing questions ------------------------------------------------------------------------
def _short(rng: random.Random, low: int, high: int, scale: int = 10) -> str:
    """A one-decimal number, never 0: short enough to compute by hand."""
    value = 0
    while value == 0:
        value = rng.randint(low, high)
    return str(Fraction(value, scale).__float__())


def _network_choice(rng: random.Random, depth: int = 2) -> tuple[tuple[int, ...], tuple[str, ...], str, bool]:
    layers = tuple(rng.randint(2, 3) for _ in range(depth)) + (rng.randint(1, 2),)
    acts = [rng.choice(NETWORK_ACTIVATIONS) for _ in range(depth)]
    cost = rng.choice(COSTS)
    if cost == "cross-entropy":
        acts[-1] = "sigmoid"
    if acts[-1] == "relu":
        acts[-1] = "sigmoid"  # an output ReLU makes many numeric versions dead
    return layers, tuple(acts), cost, rng.random() < 0.5


def _draw(kind: str, rng: random.Random, qid: str) -> Question:
    if kind == "activation-derivative":
        return Question(qid, kind, activation=(rng.choice(ACTIVATION_CHOICES),))
    layers, acts, cost, bias = _network_choice(rng)
    if kind == "weight-gradient":
        return Question(qid, kind, layers, acts, cost, bias, layer=rng.choice([len(layers) - 1, 1]))
    if kind == "missing-factor":
        return Question(qid, kind, layers, acts, cost, bias, layer=len(layers) - 1, factor=rng.randrange(3))
    return _numeric_question(rng, qid)


def _numeric_question(rng: random.Random, qid: str) -> Question:
    """Small numbers; redrawn until no ReLU layer is dead and the answer is not tiny."""
    for _ in range(200):
        layers = (2, 2, rng.randint(1, 2))
        acts = (rng.choice(("sigmoid", "relu", "tanh")), "sigmoid")
        cost, bias = rng.choice(("quadratic", "half-quadratic")), rng.random() < 0.5
        values = {
            "x": [_short(rng, -10, 10) for _ in range(layers[0])],
            "y": [_short(rng, 1, 9) for _ in range(layers[-1])],
            "weights": [[[_short(rng, -10, 10) for _ in range(layers[l - 1])] for _ in range(layers[l])]
                        for l in range(1, len(layers))],
        }
        if bias:
            values["biases"] = [[_short(rng, -5, 5) for _ in range(layers[l])] for l in range(1, len(layers))]
        layer = rng.choice([1, 2])
        node = (rng.randrange(layers[layer]), rng.randrange(layers[layer - 1]))
        question = Question(qid, "numeric-gradient", layers, acts, cost, bias, layer=layer, node=node, values=values)
        if _worth_doing(question):
            return question
    raise DeriveError("could not draw a numeric question worth doing (this should not happen)")


def _worth_doing(question: Question) -> bool:
    from derive.evaluate.exact import Model

    net = question.network()
    model = Model(net, point=question.point())
    s = net.symbols
    for layer in range(1, net.L + 1):
        for kink in net.activation(layer).kinks:  # every node on one side of a kink, or one at it
            zs = [model.values[s.z[layer, j]] for j in range(net.size(layer))]
            if all(z <= kink for z in zs) or any(z == kink for z in zs):
                return False
    return abs(question.answer_value) >= sp.Rational(1, 1000)


@dataclass(frozen=True)
class Version:
    """One version of the homework: its number, seed and questions."""

    number: int
    seed: int
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def key_json(self) -> str:
        """The answer key: deterministic text (sorted keys, no timestamps)."""
        data = {"format": KEY_FORMAT, "seed": self.seed, "version": self.number,
                "questions": [q.to_json() for q in self.questions]}
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_kinds(kinds: tuple[str, ...]) -> None:
    """Refuse an unknown exercise kind, suggesting the closest known one."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        from derive.errors import closest_hint

        raise DeriveError(f"unknown exercise kind {unknown[0]!r}{closest_hint(unknown[0], KINDS)}")


def make_version(seed: int, number: int, kinds: tuple[str, ...] = KINDS, count: int | None = None) -> Version:
    """Version ``number`` of the homework for ``seed``: one question of each kind (or ``count``, mixed)."""
    check_kinds(kinds)
    rng = random.Random(f"derive-homework/{seed}/{number}")
    chosen = list(kinds) if count is None else [kinds[i % len(kinds)] for i in range(count)]
    questions = tuple(_draw(kind, rng, f"q{i}") for i, kind in enumerate(chosen, 1))
    return Version(number, seed, questions)


def load_key(path) -> dict[str, Question]:
    """Questions by id from an answer key file (parameters only; nothing in it is evaluated)."""
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeriveError(f"answer key not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DeriveError(f"answer key {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") not in KEY_FORMATS:
        raise DeriveError(f"{path} is not a derive answer key (format {KEY_FORMAT})")
    try:
        return {q["id"]: Question.from_json(q) for q in data["questions"]}
    except (KeyError, TypeError) as error:
        raise DeriveError(f"answer key {path} is malformed: {error}") from None
