"""Spec files (TOML or JSON) and other files users give: read, checked, turned into model objects.

Every problem is one clear line naming the file, the key and what is wrong.
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from derive.errors import DeriveError, closest_hint, shown_value
from derive.model.values import Values, parse_l2, parse_layer_sizes

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, published as tomli
    import tomli as tomllib

if TYPE_CHECKING:
    import sympy as sp


# Spec files (TOML or JSON) --------------------------------------------------------------
MAX_SPEC_BYTES = 1_000_000
MAX_TITLE = 200
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)  # embeddings, overrides, isolates
SPEC_KEYS = ("layers", "activation", "cost", "bias", "notation", "title", "values", "l2")
VALUE_KEYS = ("x", "y", "weights", "biases", "learning_rate")


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
    l2: sp.Rational | None = None  # lambda of the L2 penalty (an exact rational), or None

    def arrays(self) -> tuple[list, list | None, object, object]:
        """(weights, biases, X, Y) as float64 NumPy arrays, one sample as a batch of one."""
        import numpy as np

        if self.values is None:
            raise DeriveError("this spec has no [values]; add x, y and weights to compute numbers")
        v = self.values
        if v.symbols:
            where, symbol = v.symbols[0]
            raise DeriveError(
                f"{where} is the symbol {symbol}; this needs numbers (derive sheet, slides, html and "
                "grad keep symbols)"
            )
        as_array = lambda nested: np.array(nested, dtype=float)  # noqa: E731
        weights = [as_array([[float(w) for w in row] for row in m]) for m in v.weights]
        biases = (
            [as_array([float(b) for b in vec]) for vec in v.biases]
            if v.biases is not None
            else None
        )
        return (
            weights,
            biases,
            as_array([[float(x) for x in v.x]]),
            as_array([[float(y) for y in v.y]]),
        )

    def network(self):
        from derive.model.network import Network

        from derive.model.costs import check_targets

        net = Network(
            self.layers,
            activation=self.activation,
            cost=self.cost,
            bias=self.bias,
            notation=self.notation,
            l2=self.l2,
        )
        if self.values is not None:
            check_targets(net.cost, self.values.y)
        return net


def read_text_input(
    path: str | os.PathLike, what: str, max_bytes: int, stdin: bool = True
) -> tuple[str, str]:
    """The text of a file the user named, as (text, name for messages); ``-`` reads standard input.

    Everything that can go wrong is one DeriveError line: an empty or impossible path, a missing
    file, a directory or device, no permission, too large, binary, not UTF-8 (a byte-order mark
    is accepted).
    """
    if stdin and str(path) == "-":
        name = "<stdin>"
        stream = getattr(sys.stdin, "buffer", None)
        data = (
            stream.read(max_bytes + 1)
            if stream is not None
            else sys.stdin.read(max_bytes + 1).encode("utf-8", "surrogateescape")
        )
    else:
        name = shown_path(path)
        if not str(path):
            raise DeriveError(f"the {what} path is empty")
        if "\x00" in str(path):
            raise DeriveError(f"the {what} path {name!r} contains a NUL character")
        path = Path(path)
        try:
            check_regular_file(path, what)
            if path.stat().st_size > max_bytes:
                raise DeriveError(f"{what} {name} is larger than {_size(max_bytes)}")
            data = path.read_bytes()
        except OSError as error:
            raise DeriveError(f"cannot read {what} {name}: {describe_os_error(error)}") from None
    if len(data) > max_bytes:
        raise DeriveError(f"{what} {name} is larger than {_size(max_bytes)}")
    if data.startswith(
        (b"\xff\xfe", b"\xfe\xff")
    ):  # what a spreadsheet's "Unicode text" export writes
        raise DeriveError(
            f'{what} {name} is UTF-16 text; save it as UTF-8 (a spreadsheet\'s "CSV UTF-8")'
        )
    if b"\x00" in data:
        raise DeriveError(f"{what} {name} is a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DeriveError(
            f"{what} {name} is not UTF-8 text (byte {error.start + 1} is 0x{data[error.start]:02x}); "
            "save it as UTF-8"
        ) from None
    return text, name


def check_regular_file(path: str | Path, what: str) -> Path:
    """``path`` exists and is a regular file (not a directory or a device); one DeriveError line if not."""
    name, path = shown_path(path), Path(path)
    if path.is_dir():
        raise DeriveError(f"{what} {name} is a directory, not a file")
    if not path.exists():
        raise DeriveError(f"{what} not found: {name}")
    if not path.is_file():
        raise DeriveError(f"{what} {name} is not a regular file")
    return path


def shown_path(path: str | os.PathLike) -> str:
    """A path for a message: non-UTF-8 bytes shown as \\xNN, never as lone surrogates; long ones shortened."""
    text = str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text if len(text) <= 160 else f"{text[:60]}...{text[-60:]} ({len(text)} characters)"


def _size(count: int) -> str:
    return (
        f"{count // 1_000_000} MB"
        if count >= 1_000_000 and count % 1_000_000 == 0
        else f"{count // 1000} kB"
    )


def describe_os_error(error: OSError) -> str:
    """An OSError as words, without the exception's class or errno: 'permission denied'."""
    import errno

    reason = {
        errno.ENAMETOOLONG: "the name is too long for the file system",
        errno.ENOTDIR: "a part of the path is a file, not a directory",
        errno.EISDIR: "it is a directory",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOSPC: "no space left on the device",
        errno.EEXIST: "it already exists",
        errno.ENOENT: "no such file or directory",
        errno.EBUSY: "it is busy (in use)",
        errno.ELOOP: "too many symbolic links",
        errno.EDQUOT: "disk quota exceeded",
    }.get(error.errno or 0)
    return reason or (error.strerror or "input/output error").lower()


def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML or JSON spec file (``-``: standard input); every problem is a one-line
    DeriveError."""
    text, name = read_text_input(path, "spec file", MAX_SPEC_BYTES)
    data = _parse_spec_text(text, name)
    return spec_from_dict(data, name)


def spec_from_text(text: str, name: str = "spec") -> Spec:
    """A spec from its TOML or JSON text (JSON when ``name`` ends in .json or the text starts with '{')."""
    return spec_from_dict(_parse_spec_text(text, name), name)


def _parse_spec_text(text: str, name: str) -> dict:
    suffix = Path(name).suffix.lower() if name != "<stdin>" else ""
    if not text.strip():
        raise DeriveError(f"{name} is empty; a spec needs at least layers = [2, 3, 1]")
    as_json = suffix == ".json" or (suffix != ".toml" and text.lstrip().startswith("{"))
    try:
        if as_json:
            data = json.loads(text, parse_float=Decimal)
        else:
            data = tomllib.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise DeriveError(
            f"{name}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        hint = " (is it JSON? name it .json)" if suffix not in ("", ".json", ".toml") else ""
        raise DeriveError(f"{name}: invalid TOML: {_one_line(error)}{hint}") from None
    except (RecursionError, MemoryError):
        raise DeriveError(
            f"{name}: nested too deeply to read (a spec needs a few levels at most)"
        ) from None
    except ValueError:  # an integer literal of more than 4300 digits (Python's own limit)
        raise DeriveError(
            f"{name}: a number in it has thousands of digits; no spec needs that"
        ) from None
    if not isinstance(data, dict):
        raise DeriveError(
            f"{name}: the spec must be a table/object at the top level, not {shown_value(data)}"
        )
    return data


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else "unreadable"


def check_text(value: object, what: str, limit: int = MAX_TITLE) -> str:
    """A title or name typed by a user: a string of at most ``limit`` characters, valid UTF-8 (no lone
    surrogates from a non-UTF-8 argument), without control characters."""
    if not isinstance(value, str):
        raise DeriveError(f"{what} must be a string, got {shown_value(value)}")
    if len(value) > limit:
        raise DeriveError(f"{what} has {len(value)} characters; at most {limit} are allowed")
    for position, ch in enumerate(value, 1):
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise DeriveError(
                f"{what} is not valid UTF-8 (at character {position}); check your terminal's encoding"
            )
        if unicodedata.category(ch) == "Cc" and ch != "\t":
            raise DeriveError(
                f"{what} contains a control character (U+{ord(ch):04X} at character {position})"
            )
        if (
            ch in BIDI_CONTROLS
        ):  # they reorder the text around them: a title that shows other than it reads
            raise DeriveError(
                f"{what} contains a bidirectional control character (U+{ord(ch):04X} at character "
                f"{position}); right-to-left scripts need none, delete it"
            )
    return value


def spec_from_dict(data: dict, where: str = "spec") -> Spec:
    """Validate a spec already parsed into a dict."""
    _known_keys(data, SPEC_KEYS, where)
    if "layers" not in data:
        raise DeriveError(f"{where}: 'layers' is required, e.g. layers = [2, 3, 1]")
    layers = parse_layer_sizes(data["layers"])
    bias = data.get("bias", False)
    if not isinstance(bias, bool):
        raise DeriveError(f"{where}: 'bias' must be true or false, got {shown_value(bias)}")
    title = data.get("title")
    if title is not None:
        check_text(title, f"{where}: 'title'")
    values = None
    if "values" in data:
        values = _values(data["values"], layers, bias, where)
    for key in ("cost", "notation"):
        if key in data and not isinstance(data[key], str):
            raise DeriveError(
                f"{where}: {key!r} must be a name (a string), got {shown_value(data[key])}"
            )
    activation = data.get("activation")
    if activation is not None and not (
        isinstance(activation, str)
        or (isinstance(activation, list) and all(isinstance(a, str) for a in activation))
    ):
        raise DeriveError(f"{where}: 'activation' must be a name or a list of names")
    l2 = parse_l2(data["l2"], f"{where}: 'l2'") if "l2" in data else None
    return Spec(
        layers=layers,
        activation=activation,
        cost=data.get("cost"),
        bias=bias,
        notation=data.get("notation", "default"),
        title=title,
        values=values,
        l2=l2,
    )


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
        tuple(
            _vector(row, layers[l - 1], f"values.weights[{l - 1}][{j}]", where)
            for j, row in enumerate(
                _rows(weights[l - 1], layers[l], f"values.weights[{l - 1}]", where)
            )
        )
        for l in range(1, L + 1)
    )
    b = None
    if "biases" in data:
        if not bias:
            raise DeriveError(
                f"{where}: values.biases given but bias = false; set bias = true or drop them"
            )
        biases = data["biases"]
        if not isinstance(biases, list) or len(biases) != L:
            raise DeriveError(
                f"{where}: values.biases must hold {L} vectors (one per weight layer)"
            )
        b = tuple(
            _vector(biases[l - 1], layers[l], f"values.biases[{l - 1}]", where)
            for l in range(1, L + 1)
        )
    elif bias:
        raise DeriveError(f"{where}: bias = true needs values.biases (biases[l-1][j] = b_j^(l))")
    eta = (
        learning_rate(data["learning_rate"], "values.learning_rate", where)
        if "learning_rate" in data
        else None
    )
    return Values(x=x, y=y, weights=w, biases=b, learning_rate=eta)


def learning_rate(value: object, name: str, where: str = "spec"):
    """A learning rate: a number in (0, 100], kept exact (0.5 stays 1/2), or a symbol ("eta")."""
    eta = _number(value, name, where)
    if eta.is_Symbol:
        return eta
    if not 0 < eta <= 100:
        raise DeriveError(
            f"{where}: {name} must be a positive number of at most 100, got {shown_value(value)}"
        )
    return eta


def _rows(value: object, count: int, name: str, where: str) -> list:
    if not isinstance(value, list) or len(value) != count:
        raise DeriveError(f"{where}: {name} must have {count} rows (one per node j of its layer)")
    return value


def _vector(value: object, count: int, name: str, where: str) -> tuple:
    if not isinstance(value, list) or len(value) != count:
        got = len(value) if isinstance(value, list) else type(value).__name__
        raise DeriveError(f"{where}: {name} must be a list of {count} numbers, got {got}")
    return tuple(_number(v, f"{name}[{i}]", where) for i, v in enumerate(value))


def _number(value: object, name: str, where: str, symbols: bool = True):
    """A value: a number kept exact (0.15 is 3/20), or with ``symbols`` a symbol's name ("w", "x_0")."""
    import sympy as sp

    if symbols and isinstance(value, str):
        return value_symbol(value, f"{where}: {name}")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        kind = 'a number or a symbol such as "w"' if symbols else "a number"
        raise DeriveError(f"{where}: {name} must be {kind}, got {shown_value(value)}")
    decimal = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not decimal.is_finite() or abs(decimal) > Decimal(10) ** 6:
        raise DeriveError(
            f"{where}: {name} must be a finite number of size at most 1e6, got {shown_value(value)}"
        )
    return sp.Rational(str(decimal))


# Symbols as values ------------------------------------------------------------------------------
_GREEK = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "phi",
    "chi",
    "psi",
    "omega",
)
_GREEK_UNICODE = dict(zip("αβγδεζηθικλμνξρστφχψω", _GREEK))
_SUBSCRIPT = r"(?:_(?:\{(?P<braced>[A-Za-z0-9]{1,4})\}|(?P<plain>[A-Za-z0-9]{1,4})))?"
_SYMBOL = re.compile(
    r"(?:(?P<latin>[A-Za-z])|\\?(?P<greek>[a-z]{2,7})|(?P<unicode>[α-ω]))"
    + _SUBSCRIPT
    + r"(?P<prime>'?)"
)
MAX_SYMBOL_CHARS = 20


def value_symbol(text: str, where: str):
    """A value written as a symbol's name: one letter (Latin, or Greek as \\theta, theta or θ) with an optional
    subscript of up to 4 letters or digits and a prime: w, x_0, w_{12}, \\theta_1, w'. Read by this
    grammar alone (never sympified); 'e' is refused, it reads as Euler's number."""
    import sympy as sp

    shown = text if len(text) <= MAX_SYMBOL_CHARS else text[:MAX_SYMBOL_CHARS] + "..."
    match = _SYMBOL.fullmatch(text.strip()) if len(text) <= MAX_SYMBOL_CHARS else None
    if match is None or (match["greek"] and match["greek"] not in _GREEK):
        raise DeriveError(
            f"{where} must be a number or a symbol (a letter with an optional subscript, such as "
            f"w, x_0, w_{{12}} or \\theta), got {shown!r}"
        )
    letter = match["latin"] or match["greek"] or _GREEK_UNICODE[match["unicode"]]
    if letter == "e" and not (match["braced"] or match["plain"]):
        raise DeriveError(
            f"{where}: 'e' reads as Euler's number; name the symbol otherwise (e_1, E)"
        )
    index = match["braced"] or match["plain"]
    name = letter + (f"_{index}" if index else "") + match["prime"]
    return sp.Symbol(name, real=True)
