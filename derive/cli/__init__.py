"""The `derive` command: a thin layer over the library, in the shape of pip's.

``entry.main`` parses the line and maps every outcome to an exit status (``exits.Exit``: 0 success
or a correct answer, 1 a verdict against the input, 2 bad input or usage, 3 an internal error, 130
on Ctrl-C, 141 when the reader of the output went away). ``commands`` is the table of commands, one
module each (``add_arguments`` and ``run``), imported only when that command runs, so that
`derive --help` and `derive check-answer` load neither NumPy nor Jinja2, rich or the sheet renderer.
``options`` holds the option groups commands share, ``inputs`` turns options into library inputs,
``output`` prints.
"""

from derive.cli.entry import build_parser, main

__all__ = ["build_parser", "main"]
