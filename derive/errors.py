"""User-facing errors: one clear line, no traceback; and the helpers that word them."""

from __future__ import annotations

import difflib
import string
from decimal import Decimal
from typing import Iterable, Mapping


class DeriveError(ValueError):
    """Bad input from a user: the message is shown as is, on one line."""


class ParameterError(DeriveError):
    """Bad input that names the library's parameters: ``{epochs}`` in the template is the parameter
    ``epochs``. A library caller reads "epochs must be ..."; a front end renames the parameters as
    its users know them (the command line's "--epochs must be ...") with ``named``.

    ``values`` fill the template's other fields, as in ``str.format``."""

    def __init__(self, template: str, **values: object) -> None:
        self.template, self.values = template, values
        super().__init__(self.named({}))

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameters the message names, in order (each once)."""
        fields = (field for _, field, _, _ in string.Formatter().parse(self.template) if field)
        return tuple(dict.fromkeys(f for f in fields if f not in self.values))

    def named(self, names: Mapping[str, str]) -> str:
        """The message with each parameter called by ``names`` (its own name when not there)."""
        return self.template.format(**{p: names.get(p, p) for p in self.parameters}, **self.values)

    def __reduce__(self):  # picklable: errors cross from worker processes
        return _parameter_error, (self.template, self.values)


def _parameter_error(template: str, values: dict) -> ParameterError:
    return ParameterError(template, **values)


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
