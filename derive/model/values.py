"""A network's sizes and numbers, checked: layer sizes, per-layer lists, the values of a worked example."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from derive.errors import DeriveError, shown_value

if TYPE_CHECKING:
    import sympy as sp

MAX_LAYER_SIZE = 100_000
MAX_WEIGHT_LAYERS = 64  # the depth table in bench/derive_width.py goes this far


def parse_layer_sizes(layers: Sequence[object]) -> tuple[int, ...]:
    """Layer sizes as positive integers, input layer first; at least input and output."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
        raise DeriveError(f"layer sizes must be a list of positive integers, got {layers!r}")
    sizes = []
    for position, value in enumerate(layers):
        sizes.append(_positive_int(value, position))
    if len(sizes) < 2:
        raise DeriveError(
            f"a network needs at least two layers (input and output), got {len(sizes)}"
        )
    if len(sizes) > MAX_WEIGHT_LAYERS + 1:
        raise DeriveError(
            f"at most {MAX_WEIGHT_LAYERS} weight layers ({MAX_WEIGHT_LAYERS + 1} layer sizes) are "
            f"supported, got {len(sizes) - 1}"
        )
    return tuple(sizes)


def _positive_int(value: object, position: int) -> int:
    where = f"layer size {position}"
    if isinstance(value, bool):
        raise DeriveError(f"{where} must be a positive integer, got {shown_value(value)}")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and abs(value) < 10**9
        and value == value.to_integral_value()
    ):
        value = int(value)  # 3.0 or 1e1 in a spec file
    if isinstance(value, str):
        text = value.strip()
        if not (
            text.isascii() and text.isdigit()
        ):  # '²' is a digit to isdigit() but no number to int()
            raise DeriveError(f"{where} must be a positive integer, got {shown_value(value)}")
        if len(text.lstrip("0")) > len(str(MAX_LAYER_SIZE)):
            raise DeriveError(
                f"{where} is {shown_value(text)}; at most {MAX_LAYER_SIZE} nodes per layer are supported"
            )
        value = int(text)
    if not isinstance(value, int):
        raise DeriveError(f"{where} must be a positive integer, got {shown_value(value)}")
    if value < 1:
        raise DeriveError(f"{where} must be a positive integer, got {_shown_int(value)}")
    if value > MAX_LAYER_SIZE:
        raise DeriveError(
            f"{where} is {_shown_int(value)}; at most {MAX_LAYER_SIZE} nodes per layer are supported"
        )
    return value


def _shown_int(value: int) -> str:
    """An integer for a message: in full when short, else its size (never 10**5000 digits, which
    Python refuses to print)."""
    if abs(value) < 10**30:
        return str(value)
    return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"


MAX_L2 = 10**6


def parse_l2(value: object, where: str = "l2") -> sp.Rational | None:
    """The L2 parameter lambda: a number >= 0, kept exact (0.1 stays 1/10); None or 0 means none."""
    import sympy as sp

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str, sp.Rational)):
        raise DeriveError(f"{where} must be a number >= 0, got {shown_value(value)}")
    if isinstance(value, str) and re.fullmatch(
        r"\s*\d{1,12}/[1-9]\d{0,11}\s*", value
    ):  # a fraction: 5/2
        value = sp.Rational(value.strip())
    try:
        decimal = Decimal(str(value).strip()) if not isinstance(value, sp.Rational) else None
    except ArithmeticError:
        raise DeriveError(f"{where} must be a number >= 0, got {shown_value(value)}") from None
    if decimal is not None and (not decimal.is_finite() or decimal < 0 or decimal > MAX_L2):
        raise DeriveError(
            f"{where} must be a finite number from 0 to {MAX_L2:g}, got {shown_value(value)}"
        )
    exact: Any = value if decimal is None else sp.Rational(str(decimal))
    if exact < 0 or exact > MAX_L2:
        raise DeriveError(
            f"{where} must be a finite number from 0 to {MAX_L2:g}, got {shown_value(value)}"
        )
    return exact if exact != 0 else None


def per_layer(value: object, count: int, what: str) -> tuple[Any, ...]:
    """One value for every weight layer: a single value is repeated; a list must have ``count`` items."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return tuple(value) * count
        if len(value) != count:
            raise DeriveError(
                f"got {len(value)} {what}s for {count} weight layer{'s' if count != 1 else ''}; "
                f"give one {what} for all layers or exactly {count}"
            )
        return tuple(value)
    return (value,) * count


@dataclass(frozen=True)
class Values:
    """Concrete numbers for one sample, as exact rationals (0.15 stays 3/20).

    weights[l-1][j][k] = w_{jk}^{(l)}; biases[l-1][j] = b_j^{(l)}.
    """

    x: tuple
    y: tuple
    weights: tuple
    biases: tuple | None
    # eta, a positive rational, when the example continues with one step of descent
    learning_rate: sp.Expr | None = None

    def entries(self) -> list[tuple[str, Any]]:
        """(where, value) for every value, named as in a spec file: values.weights[0][1][0]."""
        out = [(f"values.x[{k}]", v) for k, v in enumerate(self.x)]
        out += [(f"values.y[{j}]", v) for j, v in enumerate(self.y)]
        for l, matrix in enumerate(self.weights):
            out += [
                (f"values.weights[{l}][{j}][{k}]", v)
                for j, row in enumerate(matrix)
                for k, v in enumerate(row)
            ]
        for l, vector in enumerate(self.biases or ()):
            out += [(f"values.biases[{l}][{j}]", v) for j, v in enumerate(vector)]
        if self.learning_rate is not None:
            out.append(("values.learning_rate", self.learning_rate))
        return out

    @property
    def symbols(self) -> list[tuple[str, sp.Expr]]:
        """(where, value) for the values that are symbols, not numbers."""
        return [(where, v) for where, v in self.entries() if getattr(v, "free_symbols", None)]
