"""What the commands print: lines for people, JSON for programs, notes on stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Iterable

LINE_LIMIT = 400  # characters of one error line


def say(args: argparse.Namespace, text: str, file=None) -> None:
    """A line of output for people: silent with --quiet or --json (the JSON is the output then)."""
    if not (getattr(args, "quiet", False) or getattr(args, "json", False)):
        print(text, file=file or sys.stdout)


def print_json(data: object) -> None:
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except (
        UnicodeEncodeError
    ):  # a file name that is not UTF-8: escaped, so the JSON stays valid UTF-8
        text = json.dumps(data)
    print(text)


def note(text: str | None, kind: str = "note") -> None:
    """``derive: note: ...`` on stderr (TeX missing, a warning about a key)."""
    if text:
        print(f"derive: {kind}: {text}", file=sys.stderr)


def paths(items: Iterable[object]) -> list[str]:
    return [str(p) for p in items if p is not None]


def shorten(text: str, limit: int = LINE_LIMIT) -> str:
    return text if len(text) <= limit else f"{text[: limit - 60]} ... {text[-40:]}"


def one_line(error: BaseException, text: str | None = None) -> str:
    """The first line of ``text`` (the error's own message when None), shortened; the error's type
    when there is none."""
    lines = (str(error) if text is None else text).strip().splitlines()
    return shorten(lines[0]) if lines else type(error).__name__


def silence_stdout() -> None:
    """Point stdout at /dev/null: the reader went away, and the final flush must not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
