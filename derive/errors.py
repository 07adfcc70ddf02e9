"""User-facing errors: one clear line, no traceback; and the helpers that word them."""
from __future__ import annotations

import difflib
from decimal import Decimal
from typing import Iterable


class DeriveError(ValueError):
    """Bad input from a user: the message is shown as is, on one line."""


def closest_hint(name: str, known: Iterable[str]) -> str:
    """'; did you mean X? (known: ...)' for an unknown name."""
    known = list(dict.fromkeys(known))
    close = difflib.get_close_matches(str(name).lower(), known, n=1, cutoff=0.5)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    return f"{guess} (known: {', '.join(known)})"


def shown_value(value: object, limit: int = 60) -> str:
    """A value as the user wrote it, for a message: numbers plainly (never Decimal('1E+1')), text quoted
    and shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        text = str(value)
        return text if len(text) <= limit else f"a number of {len(text)} digits"
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "...")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__
