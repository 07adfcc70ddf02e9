"""Answer keys: checked before anything in them is used (moves to derive.homework with the kinds)."""
from __future__ import annotations

import json
import os

from derive.errors import DeriveError

KEY_MAX_BYTES = 10_000_000
KEY_MAX_WEIGHT_LAYERS = 6  # a key's question network (the generator draws 1 or 2 weight layers)
KEY_MAX_NODES = 32  # nodes per layer of a key's question network (the generator draws at most 4)


def check_key_file(path: str | os.PathLike) -> dict:
    """Read an answer key and check its structure and sizes; one DeriveError line for anything wrong.

    A key is data (parameters of each question); this makes sure every field has the type and size
    `derive homework` writes, so that a hand-edited or damaged key is refused as bad input instead of
    failing deep inside the engine (or running for minutes on a huge network).
    """
    from derive.homework.questions import KEY_FORMATS, KINDS
    from derive.read.spec_file import shown_path, read_text_input

    text, name = read_text_input(path, "answer key", KEY_MAX_BYTES, stdin=False)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DeriveError(f"answer key {name} is not valid JSON (line {error.lineno}, column {error.colno}: "
                          f"{error.msg})") from None
    except (RecursionError, ValueError):
        raise DeriveError(f"answer key {name} is nested too deeply or holds absurd numbers; it is not a key "
                          "derive wrote") from None
    if not isinstance(data, dict) or data.get("format") not in KEY_FORMATS:
        raise DeriveError(f"{name} is not a derive answer key (its \"format\" should be {KEY_FORMATS[-1]})")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise DeriveError(f"answer key {name} has no list of questions")
    seen: set[str] = set()
    for number, question in enumerate(questions, 1):
        where = f"answer key {shown_path(path)}, question {number}"
        if not isinstance(question, dict):
            raise DeriveError(f"{where} is not an object")
        _check_question(question, where, KINDS)
        if question["id"] in seen:
            raise DeriveError(f"{where}: the id {question['id']!r} appears twice")
        seen.add(question["id"])
    return data


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_question(q: dict, where: str, kinds: tuple[str, ...]) -> None:
    import re

    def bad(field: str, what: str) -> DeriveError:
        from derive.errors import shown_value

        return DeriveError(f"{where}: {field!r} must be {what}, got {shown_value(q.get(field))}")

    if not isinstance(q.get("id"), str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", q["id"]):
        raise bad("id", "a short name such as \"q1\"")
    if q.get("kind") not in kinds:
        raise bad("kind", f"one of {', '.join(kinds)}")
    kind = q["kind"]
    layers = q.get("layers", [])
    if not isinstance(layers, list) or not all(_is_int(n) and 1 <= n <= KEY_MAX_NODES for n in layers):
        raise bad("layers", f"a list of layer sizes from 1 to {KEY_MAX_NODES}")
    if kind != "activation-derivative" and not 2 <= len(layers) <= KEY_MAX_WEIGHT_LAYERS + 1:
        raise bad("layers", f"a list of 2 to {KEY_MAX_WEIGHT_LAYERS + 1} layer sizes")
    activation = q.get("activation", [])
    if (not isinstance(activation, list) or not activation
            or not all(isinstance(a, str) and 0 < len(a) <= 200 for a in activation)):
        raise bad("activation", "a list of activation names")
    if "cost" in q and not isinstance(q["cost"], str):
        raise bad("cost", "a cost's name")
    for flag in ("bias", "delta_allowed"):
        if q.get(flag) is not None and not isinstance(q[flag], bool):
            raise bad(flag, "true or false")
    if "digits" in q and not (_is_int(q["digits"]) and 1 <= q["digits"] <= 15):
        raise bad("digits", "a whole number from 1 to 15")
    L = len(layers) - 1
    if kind in ("weight-gradient", "numeric-gradient") and not (_is_int(q.get("layer")) and 1 <= q["layer"] <= L):
        raise bad("layer", f"a weight layer from 1 to {L}")
    if kind == "missing-factor" and not (_is_int(q.get("factor")) and 0 <= q["factor"] <= 2):
        raise bad("factor", "0, 1 or 2")
    if kind == "numeric-gradient":
        node = q.get("node")
        layer = q["layer"]
        if not (isinstance(node, list) and len(node) == 2 and all(_is_int(i) for i in node)
                and 0 <= node[0] < layers[layer] and 0 <= node[1] < layers[layer - 1]):
            raise bad("node", f"[j, k] of a weight of layer {layer}")
        _check_key_values(q.get("values"), layers, bool(q.get("bias")), where)


_DECIMAL = r"[+-]?(\d{1,20}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?(/\d{1,20})?"


def _check_key_values(values: object, layers: list, bias: bool, where: str) -> None:
    import re

    def vector(value: object, count: int, name: str) -> None:
        if not (isinstance(value, list) and len(value) == count
                and all(isinstance(v, str) and re.fullmatch(_DECIMAL, v) and not re.search(r"/0+$", v)
                        for v in value)):
            raise DeriveError(f"{where}: values.{name} must be a list of {count} numbers written as strings")

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
