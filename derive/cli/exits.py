"""The exit status of every command, in one place."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    """0 success (a correct answer), 1 a verdict against the input (a wrong answer, a failed check),
    2 bad input or usage, 3 an internal error; 130 on Ctrl-C and 141 when the reader of the output
    went away (``derive steps | head``), as any program killed by those signals."""

    OK = 0
    VERDICT = 1
    BAD_INPUT = 2
    INTERNAL = 3
    INTERRUPTED = 130
    BROKEN_PIPE = 141
