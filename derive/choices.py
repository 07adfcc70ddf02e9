"""Closed sets of named options (a derivative's form, a check's mode, a notation's styles) as enums.

Each member is also its string (``Form.CLASSIC == "classic"``), so calls, spec files and command-line
options keep their words: a public function takes either and converts once with ``parse``, which
refuses anything else with a one-line DeriveError (a ValueError) naming the choices. Printing a
member prints its word, on every Python version (3.11 changed how mixed-in enums format).
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from derive.errors import DeriveError

C = TypeVar("C", bound="Choice")


class Choice(str, Enum):
    """A str-valued enum whose members print as their value ("chain", not "Form.CHAIN")."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def words(cls) -> tuple[str, ...]:
        """Every member's word, in definition order."""
        return tuple(member.value for member in cls)

    @classmethod
    def parse(cls: type[C], value: object, what: str) -> C:
        """``value`` (a member or its word) as a member; a DeriveError naming ``what`` and the choices else."""
        try:
            return cls(value)
        except ValueError:
            raise DeriveError(f"{what} must be {cls.choices()}, got {value!r}") from None

    @classmethod
    def choices(cls) -> str:
        """The words as a message names them: 'a' or 'b'; one of 'a', 'b', 'c'."""
        words = [repr(word) for word in cls.words()]
        return " or ".join(words) if len(words) == 2 else f"one of {', '.join(words)}"
