"""derive.cli.commands: the command table, one module per command, imported only when it runs."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from derive.cli import build_parser
from derive.cli.commands import COMMANDS, command_module
from derive.cli.exits import Exit


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_module_has_its_arguments_and_run(name):
    module = command_module(name)
    assert callable(module.add_arguments) and callable(module.run)
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    assert parser._actions  # at least --help and the command's own


def test_the_parser_lists_the_table_in_order():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMANDS)


def _modules_loaded_by(argv):
    probe = (
        "import sys, contextlib, io\n"
        "from derive.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        "print(code, ' '.join(sorted(m for m in sys.modules if m.startswith('derive.cli.commands.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    code, _, modules = done.stdout.strip().partition(" ")
    return int(code), modules.split()


def test_help_imports_no_command_and_a_command_only_its_own():
    assert _modules_loaded_by(["--help"]) == (Exit.OK, [])
    assert _modules_loaded_by(["steps", "--layers", "2", "1"]) == (
        Exit.OK,
        ["derive.cli.commands.steps"],
    )
    code, modules = _modules_loaded_by(["check", "--json", "/nonexistent.toml"])
    assert code == Exit.BAD_INPUT and modules == ["derive.cli.commands.check"]


def test_exit_statuses_are_the_documented_numbers():
    assert [int(e) for e in Exit] == [0, 1, 2, 3, 130, 141]


def test_homework_help_names_every_registered_exercise_kind():
    """The --kinds help is written out (building it from the registry would load SymPy for --help):
    this keeps it in step with EXERCISE_KINDS."""
    from derive.homework.kinds import EXERCISE_KINDS

    parser = build_parser(["homework"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    kinds = next(a for a in sub.choices["homework"]._actions if "--kinds" in a.option_strings)
    named = {word.strip(" ,") for word in kinds.help.rsplit(":", 1)[1].split(",")}
    assert named == set(EXERCISE_KINDS)
