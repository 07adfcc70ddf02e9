"""Validation of what users type: layer sizes, names, per-layer lists. Clear one-line errors."""
from __future__ import annotations

import difflib
from typing import Iterable, Sequence

from .errors import DeriveError

MAX_LAYER_SIZE = 100_000
MAX_LAYERS = 64


def closest_hint(name: str, known: Iterable[str]) -> str:
    """'; did you mean X? (known: ...)' for an unknown name."""
    known = list(dict.fromkeys(known))
    close = difflib.get_close_matches(str(name).lower(), known, n=1, cutoff=0.5)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    return f"{guess} (known: {', '.join(known)})"


def parse_layer_sizes(layers: Sequence[object]) -> tuple[int, ...]:
    """Layer sizes as positive integers, input layer first; at least input and output."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
        raise DeriveError(f"layer sizes must be a list of positive integers, got {layers!r}")
    sizes = []
    for position, value in enumerate(layers):
        sizes.append(_positive_int(value, position))
    if len(sizes) < 2:
        raise DeriveError(f"a network needs at least two layers (input and output), got {len(sizes)}")
    if len(sizes) > MAX_LAYERS:
        raise DeriveError(f"at most {MAX_LAYERS} layers are supported, got {len(sizes)}")
    return tuple(sizes)


def _positive_int(value: object, position: int) -> int:
    where = f"layer size {position}"
    if isinstance(value, bool):
        raise DeriveError(f"{where} must be a positive integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise DeriveError(f"{where} must be a positive integer, got {value!r}")
        value = int(text)
    if not isinstance(value, int):
        raise DeriveError(f"{where} must be a positive integer, got {value!r}")
    if value < 1:
        raise DeriveError(f"{where} must be a positive integer, got {value}")
    if value > MAX_LAYER_SIZE:
        raise DeriveError(f"{where} is {value}; at most {MAX_LAYER_SIZE} nodes per layer are supported")
    return value


def per_layer(value: object, count: int, what: str) -> tuple[object, ...]:
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
