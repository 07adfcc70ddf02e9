"""A question and its kind: one small class per kind, owning everything that differs between kinds.

A kind says how to draw a question, what its answer is and how answers are judged, what the
exercise and solution sheets show, how Moodle receives it, and what a valid answer-key entry of
it must hold. ``EXERCISE_KINDS`` maps the string written in key files (``"weight-gradient"``) to
the kind, so adding a kind is one decorated class here and nothing elsewhere. A ``Question`` (its
parameters only, as a key stores them) is defined here too, after the kinds, and asks its kind.

The renderer, the worked tables and NumPy are imported inside the sheet methods only: judging one
answer (``derive check-answer``) never loads them.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
from abc import ABC, abstractmethod
from fractions import Fraction
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, TypeVar

import sympy as sp

from derive.engine.derivation import weight_gradient
from derive.errors import DeriveError
from derive.evaluate.exact import Model, prime_function
from derive.evaluate.points import PointValues
from derive.homework.answers import (
    DIGITS,
    Expected,
    Mistake,
    Slip,
    concrete,
    last_digit_unit,
    slips,
)
from derive.model.activations import Z
from derive.model.network import Network
from derive.model.values import Values
from derive.notation.printing import latex
from derive.read.latex import Context

if TYPE_CHECKING:
    from derive.model.steps import BlockKey

ACTIVATION_CHOICES = ("tanh", "softplus", "sigmoid", "sigmoid(gain=2)", "sigmoid(gain=3)")
NEWER_ACTIVATION_CHOICES = ("elu", "elu(alpha=2)", "silu", "gelu")  # activation-derivative-new
NETWORK_ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")
COSTS = ("quadratic", "half-quadratic", "cross-entropy")
G = sp.Function("g")
FACTORS = (
    "the derivative of the cost",
    "the derivative of the activation",
    "the derivative of $z_j^{(L)}$ with respect to the weight",
)  # LaTeX: shown in sheets

Bad = Callable[[str, str], DeriveError]  # (field, what it must be) -> the key's one-line error


class ExerciseKind(ABC):
    """What one kind of exercise does differently; the methods take the question they act on."""

    name: ClassVar[str]  # as written in key files and --kinds
    title: ClassVar[str]  # what the sheets and Moodle call it
    moodle_type: ClassVar[str] = (
        "essay"  # Moodle's question type: "essay" (graded by hand) or "numerical"
    )
    needs_network: ClassVar[bool] = True  # its key entry gives a network of 2 or more layers
    by_default: ClassVar[bool] = True  # asked when no kinds are named (False: only when named)

    # Drawing and rebuilding ------------------------------------------------------------
    @abstractmethod
    def draw(self, rng: random.Random, qid: str) -> "Question":
        """A new question of this kind from ``rng`` (the same draws give the same question)."""

    def network(self, q: "Question") -> Network:
        """The question's network (shared between calls: its derivation is computed once)."""
        return shared_network(tuple(q.layers), tuple(q.activation), q.cost, q.bias)

    @abstractmethod
    def answer(self, q: "Question") -> sp.Expr:
        """The key, from the engine."""

    @abstractmethod
    def expected(self, q: "Question") -> Expected:
        """How answers to the question are judged: the key, the reading context, the likely slips."""

    def allows_delta(self, q: "Question") -> bool:
        """Whether δ of downstream layers may be used when the key does not say."""
        return False

    def answer_latex(self, q: "Question") -> str:
        """The key as LaTeX that ``check-answer`` itself reads."""
        return latex(q.answer(), q.network().notation)

    def key_extras(self, q: "Question") -> dict:
        """Fields this kind adds to its key entry besides the question's parameters and answer."""
        return {}

    # Sheets and Moodle -----------------------------------------------------------------
    @abstractmethod
    def sheet_context(self, q: "Question") -> dict:
        """What the exercise sheet states: network, cost, prompt, display, numbers, tables."""

    @abstractmethod
    def solution_blocks(self, q: "Question") -> list["BlockKey"]:
        """The engine blocks the solution sheet works through."""

    def moodle_type_of(self, q: "Question") -> str:
        """Moodle's question type for ``q`` (the kind's, unless its variants differ)."""
        return self.moodle_type

    def moodle_tags(self, q: "Question") -> list[str]:
        """The activation and cost tags a teacher filters a question bank by."""
        return [f"activation:{name}" for name in dict.fromkeys(q.activation)] + [f"cost:{q.cost}"]

    # The answer key ----------------------------------------------------------------------
    def check_key(self, entry: dict, layers: list, bad: Bad, where: str) -> None:
        """Refuse a key entry missing (or misspelling) what this kind needs; common fields are checked already."""


KindT = TypeVar("KindT", bound="type[ExerciseKind]")
EXERCISE_KINDS: dict[
    str, ExerciseKind
] = {}  # key-file string -> the kind (one instance of its class)


def register(cls: KindT) -> KindT:
    """Class decorator: make the kind known by its ``name`` (to drawing, keys, sheets, grading)."""
    EXERCISE_KINDS[cls.name] = cls()
    return cls


def kind_named(name: str) -> ExerciseKind:
    """The kind a key or ``--kinds`` names; one DeriveError line for an unknown name."""
    try:
        return EXERCISE_KINDS[name]
    except (KeyError, TypeError):
        raise DeriveError(f"unknown question kind {name!r}") from None


# Shared pieces ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def shared_network(
    layers: tuple[int, ...], activation: tuple[str, ...], cost: str, bias: bool
) -> Network:
    """A network by its parameters, built once per process (its derivation is cached on it)."""
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


def decimal_text(value: sp.Expr, digits: int = DIGITS) -> str:
    """The value to ``digits`` significant digits, trailing zeros kept (0.01210, not 0.0121)."""
    text = f"{float(value):#.{digits}g}"
    return text[:-1] if text.endswith(".") else text


def is_int(value: object) -> bool:
    """A JSON whole number (not true or false)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _question(*args: Any, **fields: Any) -> "Question":
    return Question(*args, **fields)


def _short(rng: random.Random, low: int, high: int, scale: int = 10) -> str:
    """A one-decimal number, never 0: short enough to compute by hand."""
    value = 0
    while value == 0:
        value = rng.randint(low, high)
    return str(Fraction(value, scale).__float__())


def _network_choice(
    rng: random.Random, depth: int = 2
) -> tuple[tuple[int, ...], tuple[str, ...], str, bool]:
    layers = tuple(rng.randint(2, 3) for _ in range(depth)) + (rng.randint(1, 2),)
    acts = [rng.choice(NETWORK_ACTIVATIONS) for _ in range(depth)]
    cost = rng.choice(COSTS)
    if cost == "cross-entropy":
        acts[-1] = "sigmoid"
    if acts[-1] == "relu":
        acts[-1] = "sigmoid"  # an output ReLU makes many numeric versions dead
    return layers, tuple(acts), cost, rng.random() < 0.5


def _check_layer(entry: dict, layers: list, bad: Bad) -> None:
    L = len(layers) - 1
    if not (is_int(entry.get("layer")) and 1 <= entry["layer"] <= L):
        raise bad("layer", f"a weight layer from 1 to {L}")


def network_context(q: "Question") -> dict:
    """The sheet's statement of a question's network and cost (for kinds that have one)."""
    from derive.render import latex as lr

    net = q.network()
    s = net.symbols
    return {
        "network": lr.Tex(rf"Network: {lr.escape(net.describe())}; the cost is"),
        "cost": lr.Tex(rf"{lr.math(s.cost, net)} = {lr.math(net.cost_definition(), net)}"),
    }


def _gradient_display(q: "Question", layer: int, j: Any, k: Any) -> Any:
    from derive.render import latex as lr

    net = q.network()
    s = net.symbols
    return lr.Tex(
        rf"\frac{{\partial {lr.math(s.cost, net)}}}{{\partial {lr.math(s.w[layer, j, k], net)}}} = \;?"
    )


def backward_blocks(q: "Question", layer: int) -> list["BlockKey"]:
    """The engine's blocks for the weights of ``layer``, without the forward pass."""
    from derive.model.steps import FORWARD

    return [b.key for b in q.network().derivation().blocks_for(layer) if b.key != FORWARD]


# The kinds ----------------------------------------------------------------------------------
@register
class ActivationDerivative(ExerciseKind):
    """g'(z) of one activation, in terms of g(z) where it can be."""

    name = "activation-derivative"
    title = "the derivative of an activation"
    needs_network = False

    choices: ClassVar[tuple[str, ...]] = ACTIVATION_CHOICES

    def draw(self, rng: random.Random, qid: str) -> "Question":
        return _question(qid, self.name, activation=(rng.choice(self.choices),))

    def network(self, q: "Question") -> Network:
        return shared_network((1, 1), tuple(q.activation[:1]), "quadratic", False)

    def answer(self, q: "Question") -> sp.Expr:
        return q.network().activations[0].classic(Z)

    def expected(self, q: "Question") -> Expected:
        net, key = q.network(), q.answer()
        act = net.activations[0]
        found = []
        gain = re.search(r"gain=(\d+)", q.activation[0])
        if gain:  # before the factor 2, so a gain of 2 left out is named for what it is
            found.append(
                Slip(
                    Mistake.FORGOTTEN_INNER,
                    "the inner derivative forgotten: the chain rule brings "
                    f"down the gain {gain.group(1)}",
                    key / int(gain.group(1)),
                )
            )
        found += [
            Slip(Mistake.SIGN, "a sign error", -key),
            Slip(Mistake.MISSING_TWO, "a missing factor 2", key / 2),
            Slip(Mistake.EXTRA_TWO, "an extra factor 2", key * 2),
        ]
        asked = (prime_function(act.function)(Z), sp.Derivative(act.function(Z), Z))
        return Expected(
            key,
            Context(net, variable_z=True, bare_a=act(Z)),
            asked=asked,
            restated=(act.function,),
            slips=tuple(found),
        )

    def answer_latex(self, q: "Question") -> str:
        net = q.network()  # the activation is written g, as the sheet defines it
        return latex(q.answer().replace(net.activations[0].function, G), net.notation)

    def sheet_context(self, q: "Question") -> dict:
        from derive.render import latex as lr

        net = q.network()
        return {
            "network": "",
            "prompt": [
                lr.Tex(
                    r"Derive $g'(z)$ step by step from the definition below, and write it in terms "
                    r"of $g(z)$ where you can."
                )
            ],
            "display": lr.Tex(f"g(z) = {lr.math(net.activations[0].definition(Z), net)}"),
        }

    def solution_blocks(self, q: "Question") -> list["BlockKey"]:
        from derive.model.steps import BlockKey

        return [BlockKey.activation(q.network().activations[0].name)]

    def moodle_tags(self, q: "Question") -> list[str]:
        return [f"activation:{name}" for name in q.activation[:1]]


@register
class WeightGradient(ExerciseKind):
    """∂C_0/∂w_jk^(l) in index form, derived by the chain rule."""

    name = "weight-gradient"
    title = "the gradient of a weight, symbolically"

    def draw(self, rng: random.Random, qid: str) -> "Question":
        layers, acts, cost, bias = _network_choice(rng)
        return _question(
            qid, self.name, layers, acts, cost, bias, layer=rng.choice([len(layers) - 1, 1])
        )

    def answer(self, q: "Question") -> sp.Expr:
        return weight_gradient(q.network(), q.asked_layer)

    def allows_delta(self, q: "Question") -> bool:
        """In input-to-hidden weight gradients δ of the layers downstream may be used."""
        return q.layer is not None and q.layer < len(q.layers) - 1

    def expected(self, q: "Question") -> Expected:
        net, key = q.network(), q.answer()
        s = net.symbols
        general = sp.Derivative(s.cost, s.w[q.asked_layer, s.j, s.k])
        delta_from = q.asked_layer + 1 if q.allows_delta else None
        return Expected(
            key,
            Context(net, layer=q.asked_layer),
            asked=(general,),
            delta_from=delta_from,
            slips=slips(key, net, q.asked_layer),
        )

    def sheet_context(self, q: "Question") -> dict:
        from derive.render import latex as lr

        s = q.network().symbols
        where = "hidden-to-output" if q.asked_layer == q.network().L else "input-to-hidden"
        delta = (
            rf"You may write $\delta_i^{{({q.asked_layer + 1})}}$ for the error of a node downstream."
            if q.allows_delta
            else r"Write the answer in $a$, $z$, $w$, $x$ and $y$ (no $\delta$)."
        )
        return {
            **network_context(q),
            "prompt": [
                lr.Tex(
                    f"Derive the gradient for the {where} weights step by step by the chain rule, "
                    r"in index form (keep $g'(z)$ or write it out). " + delta
                )
            ],
            "display": _gradient_display(q, q.asked_layer, s.j, s.k),
        }

    def solution_blocks(self, q: "Question") -> list["BlockKey"]:
        return backward_blocks(q, q.asked_layer)

    def check_key(self, entry: dict, layers: list, bad: Bad, where: str) -> None:
        _check_layer(entry, layers, bad)


@register
class NumericGradient(ExerciseKind):
    """One weight's gradient at given numbers, to a stated number of significant digits."""

    name = "numeric-gradient"
    title = "a gradient with numbers"
    moodle_type = "numerical"

    def draw(self, rng: random.Random, qid: str) -> "Question":
        _network_choice(
            rng
        )  # drawn and not used: kept so that every seed gives the questions it always gave
        for _ in range(
            200
        ):  # small numbers; redrawn until no ReLU layer is dead and the answer is not tiny
            question = self._draw_once(rng, qid)
            if _worth_doing(question):
                return question
        raise DeriveError("could not draw a numeric question worth doing (this should not happen)")

    def _draw_once(self, rng: random.Random, qid: str) -> "Question":
        layers = (2, 2, rng.randint(1, 2))
        acts = (rng.choice(("sigmoid", "relu", "tanh")), "sigmoid")
        cost, bias = rng.choice(("quadratic", "half-quadratic")), rng.random() < 0.5
        values = {
            "x": [_short(rng, -10, 10) for _ in range(layers[0])],
            "y": [_short(rng, 1, 9) for _ in range(layers[-1])],
            "weights": [
                [[_short(rng, -10, 10) for _ in range(layers[l - 1])] for _ in range(layers[l])]
                for l in range(1, len(layers))
            ],
        }
        if bias:
            values["biases"] = [
                [_short(rng, -5, 5) for _ in range(layers[l])] for l in range(1, len(layers))
            ]
        layer = rng.choice([1, 2])
        node = (rng.randrange(layers[layer]), rng.randrange(layers[layer - 1]))
        return _question(
            qid, self.name, layers, acts, cost, bias, layer=layer, node=node, values=values
        )

    def answer(self, q: "Question") -> sp.Expr:
        s = q.network().symbols
        j, k = q.asked_node
        return weight_gradient(q.network(), q.asked_layer).xreplace({s.j: j, s.k: k})

    def expected(self, q: "Question") -> Expected:
        net, key = q.network(), q.answer()
        s = net.symbols
        j, k = q.asked_node
        at_point = PointValues(net, q.point())
        at_node = {s.j: sp.Integer(j), s.k: sp.Integer(k)}
        found = concrete(
            slips(weight_gradient(net, q.asked_layer), net, q.asked_layer),
            lambda e: sp.Float(at_point(e.xreplace(at_node)), 60),
        )
        asked = (
            sp.Derivative(s.cost, s.w[q.asked_layer, j, k]),
            sp.Derivative(s.cost, s.w[q.asked_layer, s.j, s.k]),
        )
        return Expected(
            key,
            Context(net, layer=q.asked_layer),
            asked=asked,
            numeric=True,
            value=q.answer_value,
            digits=q.digits,
            slips=found,
            point=q.point(),
        )

    def answer_latex(self, q: "Question") -> str:
        return decimal_text(q.answer_value)

    def key_extras(self, q: "Question") -> dict:
        return {"answer_value": float(q.answer_value)}

    def sheet_context(self, q: "Question") -> dict:
        from derive.numeric.worked import worked_example
        from derive.render import latex as lr

        net = q.network()
        j, k = q.asked_node
        example = worked_example(net, q.spec_values(), differences=False)
        return {
            **network_context(q),
            "prompt": [
                "For the numbers below, run the forward pass, compute the local gradients and the "
                f"backward pass, and give the gradient to {q.digits} significant digits."
            ],
            "display": _gradient_display(q, q.asked_layer, j, k),
            "numbers": [
                (lr.math(symbol, net), lr.number(value))
                for symbol, value in q.numeric_point().items()
            ],
            "tables": lr.worked_tables(net, example),
        }

    def solution_blocks(self, q: "Question") -> list["BlockKey"]:
        return backward_blocks(q, q.asked_layer)

    def check_key(self, entry: dict, layers: list, bad: Bad, where: str) -> None:
        _check_layer(entry, layers, bad)
        node, layer = entry.get("node"), entry["layer"]
        if not (
            isinstance(node, list)
            and len(node) == 2
            and all(is_int(i) for i in node)
            and 0 <= node[0] < layers[layer]
            and 0 <= node[1] < layers[layer - 1]
        ):
            raise bad("node", f"[j, k] of a weight of layer {layer}")
        _check_key_values(entry.get("values"), layers, bool(entry.get("bias")), where)


@register
class MissingFactor(ExerciseKind):
    """The one factor of the output-weight chain rule left out of the product."""

    name = "missing-factor"
    title = "the missing chain-rule factor"

    def draw(self, rng: random.Random, qid: str) -> "Question":
        layers, acts, cost, bias = _network_choice(rng)
        return _question(
            qid, self.name, layers, acts, cost, bias, layer=len(layers) - 1, factor=rng.randrange(3)
        )

    def answer(self, q: "Question") -> sp.Expr:
        return chain_factors(q.network())[q.missing_factor][1]

    def expected(self, q: "Question") -> Expected:
        net, key = q.network(), q.answer()
        written = chain_factors(net)[q.missing_factor][0]
        return Expected(
            key, Context(net, layer=q.asked_layer), asked=(written,), slips=slips(key, net, net.L)
        )

    def sheet_context(self, q: "Question") -> dict:
        from derive.render import latex as lr

        net = q.network()
        s, math = net.symbols, (lambda e: lr.math(e, net))  # noqa: E731
        factors = chain_factors(net)
        shown = [
            r"\boxed{\;?\;}" if i == q.missing_factor else rf"\left({math(value)}\right)"
            for i, (_, value) in enumerate(factors)
        ]
        return {
            **network_context(q),
            "prompt": [
                lr.Tex(
                    "One factor of the chain rule for the hidden-to-output weights is missing: "
                    f"{FACTORS[q.missing_factor]}. Give it."
                )
            ],
            "display": lr.Tex(
                rf"\frac{{\partial {math(s.cost)}}}{{\partial {math(s.w[net.L, s.j, s.k])}}} = "
                + " ".join(math(written) for written, _ in factors)
                + " = "
                + r" \cdot ".join(shown)
            ),
        }

    def solution_blocks(self, q: "Question") -> list["BlockKey"]:
        return backward_blocks(q, q.network().L)

    def check_key(self, entry: dict, layers: list, bad: Bad, where: str) -> None:
        if not (is_int(entry.get("factor")) and 0 <= entry["factor"] <= 2):
            raise bad("factor", "0, 1 or 2")


@register
class NewerActivationDerivative(ActivationDerivative):
    """g'(z) of one of the newer activations (ELU, SiLU, GELU): asked only when named, so the
    draws of the default kinds, and every seed's homework, stay as they were."""

    name = "activation-derivative-new"
    title = "the derivative of a newer activation"
    by_default = False
    choices = NEWER_ACTIVATION_CHOICES


KINDS: tuple[str, ...] = tuple(
    name for name, kind in EXERCISE_KINDS.items() if kind.by_default
)  # the kinds a version asks when none are named, in that order


# Kinds chosen by name only (not in KINDS: the default versions of a seed stay as they were) -------
LEARNING_RATES = ("0.1", "0.2", "0.25", "0.05")  # never 0.5, 1 or 2: see WeightChange
_LEARNING_RATE = r"0?\.\d{1,6}|1(\.0{0,6})?"


@register
class WeightChange(ExerciseKind):
    """Δw_jk^(l) = -η ∂C_0/∂w_jk^(l), one step of gradient descent for a given learning rate η.

    Two variants, told apart by ``values``. Without them the question is symbolic: the change in
    index form, judged like weight-gradient (δ of the layers downstream allowed for input-to-hidden
    weights), \\eta or its number both accepted, a left-hand side Δw_jk^(l) allowed. With them it is
    numeric, as numeric-gradient draws them: the updated weight w + Δw of one weight at the given
    numbers, to ``digits`` significant digits (Moodle: numerical; the symbolic variant: essay).
    η is a short decimal, a string in the key (exact). It is never 0.5, 1 or 2: there η times a
    factor 2 is 1 and the slips "η forgotten" and "a factor 2" would be the same answer.
    """

    name = "weight-change"
    by_default = False  # chosen by name only, like the kinds above that are not in KINDS
    title = "a weight change by gradient descent"

    def draw(self, rng: random.Random, qid: str) -> "Question":
        eta = rng.choice(LEARNING_RATES)
        if rng.random() < 0.5:
            layers, acts, cost, bias = _network_choice(rng)
            layer = rng.choice([len(layers) - 1, 1])
            return _question(
                qid, self.name, layers, acts, cost, bias, layer=layer, learning_rate=eta
            )
        numeric = NumericGradient()
        for _ in range(200):  # as numeric-gradient, and the step must show in the digits asked
            drawn = numeric._draw_once(rng, qid)
            question = dataclasses.replace(drawn, kind=self.name, learning_rate=eta)
            if _worth_doing(drawn) and _step_shows(question):
                return question
        raise DeriveError(
            "could not draw a weight-change question worth doing (this should not happen)"
        )

    @staticmethod
    def eta(q: "Question") -> sp.Rational:
        """The question's learning rate, exact."""
        return sp.Rational(q._given(q.learning_rate, "learning_rate"))

    def _weight_and_gradient(self, q: "Question") -> tuple[sp.Expr, sp.Expr]:
        """The weight asked about and the engine's ∂C_0/∂w of it (at its node when numeric)."""
        net = q.network()
        s = net.symbols
        gradient = weight_gradient(net, q.asked_layer)
        if q.values is None:
            return s.w[q.asked_layer, s.j, s.k], gradient
        j, k = q.asked_node
        return s.w[q.asked_layer, j, k], gradient.xreplace({s.j: j, s.k: k})

    def answer(self, q: "Question") -> sp.Expr:
        weight, gradient = self._weight_and_gradient(q)
        change = -self.eta(q) * gradient
        return change if q.values is None else weight + change

    def allows_delta(self, q: "Question") -> bool:
        """As in weight-gradient: δ of the layers downstream for input-to-hidden weights."""
        return q.values is None and q.layer is not None and q.layer < len(q.layers) - 1

    def _slips(self, q: "Question") -> tuple[Slip, ...]:
        """The key after the usual slips, as formulas (of j and k in both variants)."""
        net = q.network()
        s, eta, layer = net.symbols, self.eta(q), q.asked_layer
        weight, gradient = s.w[layer, s.j, s.k], weight_gradient(net, layer)
        if q.values is None:  # the change is asked
            step = lambda change: change  # noqa: E731
            other = Slip(
                Mistake.UPDATED_FOR_CHANGE,
                "the updated weight w + Δw where the change Δw is asked",
                weight - eta * gradient,
            )
        else:  # the updated weight is asked
            step = lambda change: weight + change  # noqa: E731
            other = Slip(
                Mistake.CHANGE_FOR_UPDATED,
                "the change Δw where the updated weight w + Δw is asked",
                -eta * gradient,
            )
        found = [
            Slip(
                Mistake.SIGN,
                "the sign of the step forgotten: gradient descent goes against the gradient, "
                "Δw = -η ∂C/∂w",
                step(eta * gradient),
            ),
            Slip(
                Mistake.FORGOTTEN_LEARNING_RATE,
                "the learning rate forgotten: Δw = -η ∂C/∂w",
                step(-gradient),
            ),
            Slip(
                Mistake.FORGOTTEN_LEARNING_RATE,
                "the bare gradient ∂C/∂w: the change is -η times it",
                gradient,
            ),
            other,
        ]
        found += [  # the weight-gradient slips, carried through the step
            Slip(slip.mistake, slip.message, step(-eta * slip.expr))
            for slip in slips(gradient, net, layer)
            if slip.mistake != Mistake.SIGN
        ]
        return tuple(found)

    def expected(self, q: "Question") -> Expected:
        net, key = q.network(), q.answer()
        s, layer = net.symbols, q.asked_layer
        if q.values is None:
            return Expected(
                key,
                Context(net, layer=layer),
                asked=(s.dw[layer, s.j, s.k],),
                delta_from=layer + 1 if q.allows_delta else None,
                slips=self._slips(q),
                learning_rate=self.eta(q),
            )
        j, k = q.asked_node
        at_point = PointValues(net, q.point())
        at_node = {s.j: sp.Integer(j), s.k: sp.Integer(k)}
        return Expected(
            key,
            Context(net, layer=layer),
            numeric=True,
            value=q.answer_value,
            digits=q.digits,
            slips=concrete(self._slips(q), lambda e: sp.Float(at_point(e.xreplace(at_node)), 60)),
            learning_rate=self.eta(q),
            point=q.point(),
        )

    def answer_latex(self, q: "Question") -> str:
        if q.values is not None:
            return decimal_text(q.answer_value)
        _, gradient = self._weight_and_gradient(q)
        written = latex(gradient, q.network().notation)
        if gradient.is_Add or written.startswith("-"):
            written = rf"\left({written}\right)"
        return rf"-{q.learning_rate} \cdot {written}"

    def key_extras(self, q: "Question") -> dict:
        return {} if q.values is None else {"answer_value": float(q.answer_value)}

    def sheet_context(self, q: "Question") -> dict:
        from derive.render import latex as lr

        net = q.network()
        s, layer = net.symbols, q.asked_layer
        math = lambda e: lr.math(e, net)  # noqa: E731
        eta = rf"${math(s.eta)} = {q.learning_rate}$"
        if q.values is None:
            where = "hidden-to-output" if layer == net.L else "input-to-hidden"
            delta = (
                rf"You may write $\delta_i^{{({layer + 1})}}$ for the error of a node downstream."
                if q.allows_delta
                else r"Write the answer in $a$, $z$, $w$, $x$ and $y$ (no $\delta$)."
            )
            return {
                **network_context(q),
                "prompt": [
                    lr.Tex(
                        f"Derive the change of the {where} weights by one step of gradient descent "
                        f"with the learning rate {eta}, in index form (keep $g'(z)$ or write it "
                        r"out; write $\eta$ or its value). " + delta
                    )
                ],
                "display": lr.Tex(rf"{math(s.dw[layer, s.j, s.k])} = \;?"),
            }
        from derive.numeric.worked import worked_example

        j, k = q.asked_node
        values = dataclasses.replace(q.spec_values(), learning_rate=self.eta(q))
        example = worked_example(net, values, differences=False)
        return {
            **network_context(q),
            "prompt": [
                lr.Tex(
                    "For the numbers below, run the forward pass and the backward pass, compute "
                    f"the gradient of the weight and take one step of gradient descent with the "
                    f"learning rate {eta}: give the updated weight to {q.digits} significant digits."
                )
            ],
            "display": lr.Tex(rf"{math(s.w[layer, j, k])} + {math(s.dw[layer, j, k])} = \;?"),
            "numbers": [
                (math(symbol), lr.number(value)) for symbol, value in q.numeric_point().items()
            ]
            + [(math(s.eta), lr.number(self.eta(q)))],
            "tables": lr.worked_tables(net, example),
        }

    def solution_blocks(self, q: "Question") -> list["BlockKey"]:
        from derive.model.steps import UPDATE

        return backward_blocks(q, q.asked_layer) + [UPDATE]

    def moodle_type_of(self, q: "Question") -> str:
        return "essay" if q.values is None else "numerical"

    def moodle_tags(self, q: "Question") -> list[str]:
        variant = "symbolic" if q.values is None else "numeric"
        return super().moodle_tags(q) + [f"variant:{variant}", f"learning-rate:{q.learning_rate}"]

    def check_key(self, entry: dict, layers: list, bad: Bad, where: str) -> None:
        rate = entry.get("learning_rate")
        if not (
            isinstance(rate, str) and re.fullmatch(_LEARNING_RATE, rate) and 0 < float(rate) <= 1
        ):
            raise bad("learning_rate", 'a decimal in (0, 1] written as a string, such as "0.1"')
        if entry.get("values") is None:
            _check_layer(entry, layers, bad)
        else:
            kind_named("numeric-gradient").check_key(entry, layers, bad, where)


def _step_shows(question: "Question") -> bool:
    """The step moves the weight by at least ten units of the last digit asked of the updated one."""
    s, (j, k) = question.network().symbols, question.asked_node
    old = question.numeric_point()[s.w[question.asked_layer, j, k]]
    unit = last_digit_unit(question.answer_value, question.digits)
    return bool(abs(question.answer_value - old) >= 10 * unit)


# Helpers of the numeric kind ------------------------------------------------------------------
def _worth_doing(question: "Question") -> bool:
    net = question.network()
    model = Model(net, point=question.point())
    s = net.symbols
    for layer in range(1, net.L + 1):
        for kink in net.activation(layer).kinks:  # every node on one side of a kink, or one at it
            zs = [model.values[s.z[layer, j]] for j in range(net.size(layer))]
            if all(z <= kink for z in zs) or any(z == kink for z in zs):
                return False
    return abs(question.answer_value) >= sp.Rational(1, 1000)


_DECIMAL = r"[+-]?(\d{1,20}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?(/\d{1,20})?"


def _check_key_values(values: object, layers: list, bias: bool, where: str) -> None:
    """A numeric question's numbers: decimals as strings, in the shapes of its network."""

    def vector(value: object, count: int, name: str) -> None:
        if not (
            isinstance(value, list)
            and len(value) == count
            and all(
                isinstance(v, str) and re.fullmatch(_DECIMAL, v) and not re.search(r"/0+$", v)
                for v in value
            )
        ):
            raise DeriveError(
                f"{where}: values.{name} must be a list of {count} numbers written as strings"
            )

    if not isinstance(values, dict):
        raise DeriveError(f"{where}: a numeric question needs its 'values' (x, y, weights)")
    vector(values.get("x"), layers[0], "x")
    vector(values.get("y"), layers[-1], "y")
    weights = values.get("weights")
    if not isinstance(weights, list) or len(weights) != len(layers) - 1:
        raise DeriveError(f"{where}: values.weights must hold {len(layers) - 1} matrices")
    for l, matrix in enumerate(weights, 1):
        if not isinstance(matrix, list) or len(matrix) != layers[l]:
            raise DeriveError(f"{where}: values.weights[{l - 1}] must have {layers[l]} rows")
        for j, row in enumerate(matrix):
            vector(row, layers[l - 1], f"weights[{l - 1}][{j}]")
    biases = values.get("biases")
    if bias and biases is not None:
        if not isinstance(biases, list) or len(biases) != len(layers) - 1:
            raise DeriveError(f"{where}: values.biases must hold {len(layers) - 1} vectors")
        for l, vec in enumerate(biases, 1):
            vector(vec, layers[l], f"biases[{l - 1}]")


# A question: its parameters, and what its kind makes of them ------------------------------------
T = TypeVar("T")


@dataclass(frozen=True)
class Question:
    """One exercise, by its parameters only (JSON-friendly); what it does depends on its kind."""

    id: str
    kind: str  # the key-file name of its kind: EXERCISE_KINDS[kind] does the work
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
    learning_rate: str | None = None  # η of a weight-change question, an exact decimal ("0.1")

    @property
    def exercise(self) -> ExerciseKind:
        """The question's kind (drawing, answer, sheets, export and key check of it)."""
        return kind_named(self.kind)

    # What a kind asks about, for the kinds that ask it (the key check makes sure it is there)
    @property
    def asked_layer(self) -> int:
        """The layer of the weights the question asks about."""
        return self._given(self.layer, "layer")

    @property
    def asked_node(self) -> tuple[int, int]:
        """(j, k) of the weight a numeric question asks about."""
        return self._given(self.node, "node")

    @property
    def missing_factor(self) -> int:
        """Which chain-rule factor a missing-factor question hides (0 cost, 1 activation, 2 dz/dw)."""
        return self._given(self.factor, "factor")

    @property
    def given_values(self) -> dict:
        """The worked numbers of a numeric question (exact decimals as strings)."""
        return self._given(self.values, "values")

    def _given(self, value: T | None, name: str) -> T:
        if value is None:
            raise DeriveError(f"question {self.id} ({self.kind}) has no {name!r}")
        return value

    @property
    def allows_delta(self) -> bool:
        """δ of the layers downstream may be used: by default in input-to-hidden weight gradients."""
        if self.delta_allowed is not None:
            return self.delta_allowed
        return self.exercise.allows_delta(self)

    # Rebuilding ------------------------------------------------------------------------
    def network(self) -> Network:
        """The question's network (shared between calls: its derivation is computed once)."""
        return self.exercise.network(self)

    def numeric_point(self) -> dict:
        """The point of a numeric question: every symbol of the network at its number."""
        return self._given(self.point(), "values")

    def point(self) -> dict | None:
        if self.values is None:
            return None
        from derive.numeric.worked import point_from_values

        return point_from_values(self.network(), self.spec_values())

    def spec_values(self) -> Values:
        v = self.given_values
        exact = lambda text: sp.Rational(text)  # noqa: E731 - our own decimal strings
        return Values(
            x=tuple(map(exact, v["x"])),
            y=tuple(map(exact, v["y"])),
            weights=tuple(tuple(tuple(map(exact, row)) for row in m) for m in v["weights"]),
            biases=tuple(tuple(map(exact, b)) for b in v["biases"]) if v.get("biases") else None,
        )

    def answer(self) -> sp.Expr:
        """The key, from the engine."""
        return self.exercise.answer(self)

    def expected(self) -> Expected:
        """How answers to this question are judged (rebuilt from the parameters, cached)."""
        return self._judged_by

    @functools.cached_property
    def _judged_by(self) -> Expected:
        return self.exercise.expected(self)

    @functools.cached_property
    def answer_value(self) -> sp.Expr:
        """A numeric question's answer, exact or to 120 digits, at the question's numbers."""
        return Model(self.network(), point=self.point()).value(self.answer())

    # Presentation ----------------------------------------------------------------------
    def answer_latex(self) -> str:
        """The key as LaTeX that ``check-answer`` itself reads (an activation is written g)."""
        return self.exercise.answer_latex(self)

    def to_json(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data["delta_allowed"] = self.allows_delta
        data["answer_latex"] = self.answer_latex()
        data["answer_sympy"] = sp.srepr(self.answer())
        data.update(self.exercise.key_extras(self))
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Question":
        """The question of a key entry (checked by ``derive.homework.keys`` when read from a file)."""
        fields = {f for f in cls.__dataclass_fields__}
        known = {k: v for k, v in data.items() if k in fields}
        if not isinstance(known.get("kind"), str) or known["kind"] not in EXERCISE_KINDS:
            raise DeriveError(f"unknown question kind {known.get('kind')!r} in the key")
        for name in ("layers", "activation", "node"):
            if name in known and known[name] is not None:
                known[name] = tuple(known[name])
        return cls(**known)
