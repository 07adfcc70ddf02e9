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
from dataclasses import asdict, dataclass, field
from typing import TypeVar

import sympy as sp

from derive.errors import DeriveError
from derive.evaluate.exact import Model
from derive.homework.answers import DIGITS, Expected
from derive.homework.kinds import EXERCISE_KINDS, KINDS, ExerciseKind, kind_named
from derive.model.network import Network
from derive.model.values import Values

__all__ = ["KEY_FORMAT", "KEY_FORMATS", "KINDS", "Question", "Version", "check_kinds", "load_key", "make_version"]

KEY_FORMAT = "derive-homework-key/2"
KEY_FORMATS = ("derive-homework-key/1", KEY_FORMAT)  # /1: written before digits and δ were stated

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
            x=tuple(map(exact, v["x"])), y=tuple(map(exact, v["y"])),
            weights=tuple(tuple(tuple(map(exact, row)) for row in m) for m in v["weights"]),
            biases=tuple(tuple(map(exact, b)) for b in v["biases"]) if v.get("biases") else None)

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
    unknown = [k for k in kinds if k not in EXERCISE_KINDS]
    if unknown:
        from derive.errors import closest_hint

        raise DeriveError(f"unknown exercise kind {unknown[0]!r}{closest_hint(unknown[0], tuple(EXERCISE_KINDS))}")


def make_version(seed: int, number: int, kinds: tuple[str, ...] = KINDS, count: int | None = None) -> Version:
    """Version ``number`` of the homework for ``seed``: one question of each kind (or ``count``, mixed)."""
    check_kinds(kinds)
    rng = random.Random(f"derive-homework/{seed}/{number}")
    chosen = list(kinds) if count is None else [kinds[i % len(kinds)] for i in range(count)]
    questions = tuple(EXERCISE_KINDS[kind].draw(rng, f"q{i}") for i, kind in enumerate(chosen, 1))
    return Version(number, seed, questions)


def load_key(path) -> dict[str, Question]:
    """Questions by id from an answer key file, checked while read (see ``derive.homework.keys``)."""
    from derive.homework.keys import load_key as load

    return load(path)
