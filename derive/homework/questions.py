"""Homework: randomised exercises whose answers and solutions come from the engine.

A version is a list of questions drawn from a seeded random generator, so the same seed gives
the same questions (and the same answer key, byte for byte). Every question knows how to
rebuild its network, its expected answer and the likely mistakes from its parameters alone:
the answer key stores parameters, and ``derive check-answer`` recomputes from them instead of
trusting (or evaluating) an expression read from a file.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from derive.errors import DeriveError
from derive.homework.keys import KEY_FORMAT, KEY_FORMATS, load_key
from derive.homework.kinds import EXERCISE_KINDS, KINDS, Question

__all__ = [
    "KEY_FORMAT",
    "KEY_FORMATS",
    "KINDS",
    "Question",
    "Version",
    "check_kinds",
    "load_key",
    "make_version",
]


@dataclass(frozen=True)
class Version:
    """One version of the homework: its number, seed and questions."""

    number: int
    seed: int
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def key_json(self) -> str:
        """The answer key: deterministic text (sorted keys, no timestamps)."""
        data = {
            "format": KEY_FORMAT,
            "seed": self.seed,
            "version": self.number,
            "questions": [q.to_json() for q in self.questions],
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_kinds(kinds: tuple[str, ...]) -> None:
    """Refuse an unknown exercise kind, suggesting the closest known one."""
    unknown = [k for k in kinds if k not in EXERCISE_KINDS]
    if unknown:
        from derive.errors import closest_hint

        raise DeriveError(
            f"unknown exercise kind {unknown[0]!r}{closest_hint(unknown[0], tuple(EXERCISE_KINDS))}"
        )


def make_version(
    seed: int, number: int, kinds: tuple[str, ...] = KINDS, count: int | None = None
) -> Version:
    """Version ``number`` of the homework for ``seed``: one question of each kind (or ``count``, mixed)."""
    check_kinds(kinds)
    rng = random.Random(f"derive-homework/{seed}/{number}")
    chosen = list(kinds) if count is None else [kinds[i % len(kinds)] for i in range(count)]
    questions = tuple(EXERCISE_KINDS[kind].draw(rng, f"q{i}") for i, kind in enumerate(chosen, 1))
    return Version(number, seed, questions)
