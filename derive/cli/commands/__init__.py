"""The command table: each command's module and its one-line summary, imported only when it runs.

Each module has ``add_arguments(parser)``, ``run(args) -> int`` and may have ``DESCRIPTION`` (the
text of ``derive COMMAND --help``). ``derive --help`` needs only this table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class CommandInfo:
    module: str  # under derive.cli.commands
    summary: str


COMMANDS: dict[str, CommandInfo] = {
    "steps": CommandInfo("steps", "print the chain-rule steps for every weight layer"),
    "sheet": CommandInfo("sheet", "write a LaTeX derivation sheet and typeset it to PDF"),
    "slides": CommandInfo(
        "slides", "write Beamer slides (16:9): the derivation one step per overlay"
    ),
    "html": CommandInfo(
        "html", "write the derivation as one self-contained web page, step by step"
    ),
    "code": CommandInfo("code", "write the generated NumPy forward/cost/gradient code"),
    "train": CommandInfo(
        "train", "train a classifier with mini-batch SGD on the generated gradient code"
    ),
    "grad": CommandInfo("grad", "cost and every gradient for the numbers in a spec file"),
    "check": CommandInfo("check", "check every generated gradient against finite differences"),
    "homework": CommandInfo(
        "homework", "write exercise and solution sheets, answer keys and a Moodle quiz"
    ),
    "check-answer": CommandInfo("check_answer", "check a LaTeX answer against a homework key"),
    "grade": CommandInfo(
        "grade", "grade a class's answers (CSV) against the homework keys, in parallel"
    ),
    "examples": CommandInfo("examples", "regenerate the canonical example sheets"),
    "completion": CommandInfo("completion", "print a shell completion script"),
}


def command_module(name: str) -> ModuleType:
    """The module of the command ``name`` (a key of COMMANDS)."""
    return importlib.import_module(f"{__name__}.{COMMANDS[name].module}")
