"""Answer keys: read once, checked while read, before anything in them is used.

A key is data (the parameters of each question). Reading one makes sure every field has the type
and size `derive homework` writes, so that a hand-edited or damaged key is refused as bad input (one
DeriveError line) instead of failing deep inside the engine, or running for minutes on a huge
network. The common fields are checked here; what a kind needs besides is its ``check_key``. Every
caller (``derive check-answer``, ``derive grade``, ``derive.homework.grading.grade()`` from Python)
goes through ``read_key``, so they all refuse the same keys with the same messages.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from derive.errors import DeriveError
from derive.homework.kinds import EXERCISE_KINDS, Bad, Question, is_int

KEY_MAX_BYTES = 10_000_000
KEY_MAX_WEIGHT_LAYERS = 6  # a key's question network (the generator draws 1 or 2 weight layers)
KEY_MAX_NODES = 32  # nodes per layer of a key's question network (the generator draws at most 4)

KEY_FORMAT = "derive-homework-key/2"
KEY_FORMATS = ("derive-homework-key/1", KEY_FORMAT)  # /1: written before digits and δ were stated


@dataclass(frozen=True)
class AnswerKey:
    """One key file, checked: its version (None when it does not say) and its questions by id."""

    path: Path
    version: int | None
    questions: dict[str, Question]


def read_key(path: str | os.PathLike) -> AnswerKey:
    """The answer key at ``path``, checked and parsed once; one DeriveError line for anything wrong."""
    data = check_key_file(path)
    version = data.get("version")
    questions = {entry["id"]: Question.from_json(entry) for entry in data["questions"]}
    return AnswerKey(Path(path), version if is_int(version) else None, questions)


def load_key(path: str | os.PathLike) -> dict[str, Question]:
    """Questions by id from an answer key file (parameters only; nothing in it is evaluated)."""
    return read_key(path).questions


def check_key_file(path: str | os.PathLike) -> dict:
    """Read an answer key and check its structure and sizes; the key's JSON, or one DeriveError line."""
    from derive.read.spec_file import read_text_input

    text, name = read_text_input(path, "answer key", KEY_MAX_BYTES, stdin=False)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DeriveError(
            f"answer key {name} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})"
        ) from None
    except (RecursionError, ValueError):
        raise DeriveError(
            f"answer key {name} is nested too deeply or holds absurd numbers; it is not a key "
            "derive wrote"
        ) from None
    check_key_data(data, name, path)
    return data


def check_key_data(data: object, name: str, path: str | os.PathLike) -> None:
    """A parsed key's structure: its format and a non-empty list of questions with distinct ids."""
    from derive.read.spec_file import shown_path

    if not isinstance(data, dict) or data.get("format") not in KEY_FORMATS:
        raise DeriveError(
            f'{name} is not a derive answer key (its "format" should be {KEY_FORMATS[-1]})'
        )
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise DeriveError(f"answer key {name} has no list of questions")
    seen: set[str] = set()
    for number, question in enumerate(questions, 1):
        where = f"answer key {shown_path(path)}, question {number}"
        if not isinstance(question, dict):
            raise DeriveError(f"{where} is not an object")
        check_key_entry(question, where)
        if question["id"] in seen:
            raise DeriveError(f"{where}: the id {question['id']!r} appears twice")
        seen.add(question["id"])


def check_key_entry(q: dict, where: str) -> None:
    """One question of a key: the fields every kind has, then what its kind needs (``check_key``)."""

    def bad(field: str, what: str) -> DeriveError:
        from derive.errors import shown_value

        return DeriveError(f"{where}: {field!r} must be {what}, got {shown_value(q.get(field))}")

    if not isinstance(q.get("id"), str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", q["id"]):
        raise bad("id", 'a short name such as "q1"')
    if not isinstance(q.get("kind"), str) or q["kind"] not in EXERCISE_KINDS:
        raise bad("kind", f"one of {', '.join(EXERCISE_KINDS)}")
    kind = EXERCISE_KINDS[q["kind"]]
    layers = q.get("layers", [])
    if not isinstance(layers, list) or not all(
        is_int(n) and 1 <= n <= KEY_MAX_NODES for n in layers
    ):
        raise bad("layers", f"a list of layer sizes from 1 to {KEY_MAX_NODES}")
    if kind.needs_network and not 2 <= len(layers) <= KEY_MAX_WEIGHT_LAYERS + 1:
        raise bad("layers", f"a list of 2 to {KEY_MAX_WEIGHT_LAYERS + 1} layer sizes")
    _check_common_fields(q, bad)
    kind.check_key(q, layers, bad, where)


def _check_common_fields(q: dict, bad: Bad) -> None:
    activation = q.get("activation", [])
    if (
        not isinstance(activation, list)
        or not activation
        or not all(isinstance(a, str) and 0 < len(a) <= 200 for a in activation)
    ):
        raise bad("activation", "a list of activation names")
    if "cost" in q and not isinstance(q["cost"], str):
        raise bad("cost", "a cost's name")
    for flag in ("bias", "delta_allowed"):
        if q.get(flag) is not None and not isinstance(q[flag], bool):
            raise bad(flag, "true or false")
    if "digits" in q and not (is_int(q["digits"]) and 1 <= q["digits"] <= 15):
        raise bad("digits", "a whole number from 1 to 15")
