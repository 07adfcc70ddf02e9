"""Validation of what users type: layer sizes, names, per-layer lists. Clear one-line errors."""
from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

from .errors import DeriveError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, published as tomli
    import tomli as tomllib

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


# Spec files (TOML or JSON) --------------------------------------------------------------
MAX_SPEC_BYTES = 1_000_000
SPEC_KEYS = ("layers", "activation", "cost", "bias", "notation", "title", "values")
VALUE_KEYS = ("x", "y", "weights", "biases")


@dataclass(frozen=True)
class Values:
    """Concrete numbers for one sample, as exact rationals (0.15 stays 3/20).

    weights[l-1][j][k] = w_{jk}^{(l)}; biases[l-1][j] = b_j^{(l)}.
    """

    x: tuple
    y: tuple
    weights: tuple
    biases: tuple | None


@dataclass(frozen=True)
class Spec:
    """A network description with optional numbers, as read from a spec file."""

    layers: tuple[int, ...]
    activation: object = None
    cost: str | None = None
    bias: bool = False
    notation: str = "default"
    title: str | None = None
    values: Values | None = None

    def arrays(self) -> tuple[list, list | None, object, object]:
        """(weights, biases, X, Y) as float64 NumPy arrays, one sample as a batch of one."""
        import numpy as np

        if self.values is None:
            raise DeriveError("this spec has no [values]; add x, y and weights to compute numbers")
        v = self.values
        as_array = lambda nested: np.array(nested, dtype=float)  # noqa: E731
        weights = [as_array([[float(w) for w in row] for row in m]) for m in v.weights]
        biases = [as_array([float(b) for b in vec]) for vec in v.biases] if v.biases is not None else None
        return weights, biases, as_array([[float(x) for x in v.x]]), as_array([[float(y) for y in v.y]])

    def network(self):
        from .network import Network

        return Network(self.layers, activation=self.activation, cost=self.cost, bias=self.bias,
                       notation=self.notation)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML or JSON spec file; every problem is a one-line DeriveError."""
    path = Path(path)
    if not path.is_file():
        raise DeriveError(f"spec file not found: {path}")
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise DeriveError(f"spec file {path} is larger than {MAX_SPEC_BYTES // 1000} kB")
    text = path.read_text(encoding="utf-8", errors="replace")
    data = _parse_spec_text(text, path)
    return spec_from_dict(data, str(path))


def _parse_spec_text(text: str, path: Path) -> dict:
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".toml" and text.lstrip().startswith("{")):
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as error:
            raise DeriveError(f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: "
                              f"{error.msg}") from None
    else:
        try:
            data = tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as error:
            raise DeriveError(f"{path}: invalid TOML: {error}") from None
    if not isinstance(data, dict):
        raise DeriveError(f"{path}: the spec must be a table/object at the top level")
    return data


def spec_from_dict(data: dict, where: str = "spec") -> Spec:
    """Validate a spec already parsed into a dict."""
    _known_keys(data, SPEC_KEYS, where)
    if "layers" not in data:
        raise DeriveError(f"{where}: 'layers' is required, e.g. layers = [2, 3, 1]")
    layers = parse_layer_sizes(data["layers"])
    bias = data.get("bias", False)
    if not isinstance(bias, bool):
        raise DeriveError(f"{where}: 'bias' must be true or false, got {bias!r}")
    title = data.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > 200):
        raise DeriveError(f"{where}: 'title' must be a string of at most 200 characters")
    values = None
    if "values" in data:
        values = _values(data["values"], layers, bias, where)
    for key in ("cost", "notation"):
        if key in data and not isinstance(data[key], str):
            raise DeriveError(f"{where}: {key!r} must be a name (a string), got {data[key]!r}")
    activation = data.get("activation")
    if activation is not None and not (isinstance(activation, str) or
                                       (isinstance(activation, list) and all(isinstance(a, str) for a in activation))):
        raise DeriveError(f"{where}: 'activation' must be a name or a list of names")
    return Spec(layers=layers, activation=activation, cost=data.get("cost"), bias=bias,
                notation=data.get("notation", "default"), title=title, values=values)


def _known_keys(data: dict, known: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in known:
            raise DeriveError(f"{where}: unknown key {key!r}{closest_hint(key, known)}")


def _values(data: object, layers: tuple[int, ...], bias: bool, where: str) -> Values:
    if not isinstance(data, dict):
        raise DeriveError(f"{where}: 'values' must be a table with x, y, weights (and biases)")
    _known_keys(data, VALUE_KEYS, f"{where}: values")
    for key in ("x", "y", "weights"):
        if key not in data:
            raise DeriveError(f"{where}: values.{key} is required")
    L = len(layers) - 1
    x = _vector(data["x"], layers[0], "values.x", where)
    y = _vector(data["y"], layers[-1], "values.y", where)
    weights = data["weights"]
    if not isinstance(weights, list) or len(weights) != L:
        raise DeriveError(f"{where}: values.weights must hold {L} matrices (one per weight layer)")
    w = tuple(
        tuple(_vector(row, layers[l - 1], f"values.weights[{l - 1}][{j}]", where)
              for j, row in enumerate(_rows(weights[l - 1], layers[l], f"values.weights[{l - 1}]", where)))
        for l in range(1, L + 1))
    b = None
    if "biases" in data:
        if not bias:
            raise DeriveError(f"{where}: values.biases given but bias = false; set bias = true or drop them")
        biases = data["biases"]
        if not isinstance(biases, list) or len(biases) != L:
            raise DeriveError(f"{where}: values.biases must hold {L} vectors (one per weight layer)")
        b = tuple(_vector(biases[l - 1], layers[l], f"values.biases[{l - 1}]", where) for l in range(1, L + 1))
    elif bias:
        raise DeriveError(f"{where}: bias = true needs values.biases (biases[l-1][j] = b_j^(l))")
    return Values(x=x, y=y, weights=w, biases=b)


def _rows(value: object, count: int, name: str, where: str) -> list:
    if not isinstance(value, list) or len(value) != count:
        raise DeriveError(f"{where}: {name} must have {count} rows (one per node j of its layer)")
    return value


def _vector(value: object, count: int, name: str, where: str) -> tuple:
    if not isinstance(value, list) or len(value) != count:
        got = len(value) if isinstance(value, list) else type(value).__name__
        raise DeriveError(f"{where}: {name} must be a list of {count} numbers, got {got}")
    return tuple(_number(v, f"{name}[{i}]", where) for i, v in enumerate(value))


def _number(value: object, name: str, where: str):
    import sympy as sp

    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        raise DeriveError(f"{where}: {name} must be a number, got {value!r}")
    decimal = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not decimal.is_finite() or abs(decimal) > Decimal(10) ** 6:
        raise DeriveError(f"{where}: {name} must be a finite number of size at most 1e6, got {value}")
    return sp.Rational(str(decimal))
