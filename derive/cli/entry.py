"""``main()``: parse the command line, run the one command asked for, map every outcome to an exit status."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import Iterable, Sequence

from derive import __version__
from derive.cli.commands import COMMANDS, command_module
from derive.cli.exits import Exit
from derive.cli.output import one_line, shorten, silence_stdout
from derive.cli.options import OPTION_NAMES
from derive.errors import DeriveError, ParameterError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, no usage dump
        self.exit(
            Exit.BAD_INPUT, f"{self.prog}: error: {shorten(message)} (see '{self.prog} --help')\n"
        )


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser; ``commands``: the commands whose options it knows (all when None). Every command is
    listed in ``--help`` from the table alone, so a run imports only its own command's module."""
    wanted = set(COMMANDS) if commands is None else set(commands)
    parser = _Parser(prog="derive", description="Step-by-step backpropagation derivations.")
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )
    for name, info in COMMANDS.items():
        if name not in wanted:
            sub.add_parser(name, help=info.summary)
            continue
        module = command_module(name)
        command = sub.add_parser(
            name, help=info.summary, description=getattr(module, "DESCRIPTION", None)
        )
        module.add_arguments(command)
    return parser


def _command_asked(argv: Sequence[str]) -> list[str]:
    """The command named on the line (the first word that is not an option), as a list of at most one."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return [first] if first in COMMANDS else []


def main(argv: Sequence[str] | None = None) -> int:
    is_command = argv is None
    if is_command:  # the real command: file names that are not UTF-8 print back as the same bytes
        for stream in (sys.stdout, sys.stderr):
            errors = "surrogateescape" if stream is sys.stdout else "backslashreplace"
            try:
                stream.reconfigure(errors=errors)  # type: ignore[union-attr]  # else refused below
            except (AttributeError, ValueError):
                pass
    try:
        return _run(sys.argv[1:] if argv is None else list(argv), is_command)
    except ParameterError as error:
        print(f"derive: error: {one_line(error, error.named(OPTION_NAMES))}", file=sys.stderr)
        return Exit.BAD_INPUT
    except DeriveError as error:
        print(f"derive: error: {one_line(error)}", file=sys.stderr)
        return Exit.BAD_INPUT
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:  # `derive steps ... | head`: the reader left; not an error of ours
        silence_stdout()
        return Exit.BROKEN_PIPE
    except (
        OSError
    ) as error:  # the file system said no (permission, space, names): not a bug of ours
        from derive.read.spec_file import describe_os_error, shown_path

        where = f"{shown_path(error.filename)}: " if error.filename is not None else ""
        print(f"derive: error: {where}{describe_os_error(error)}", file=sys.stderr)
        return Exit.BAD_INPUT
    except MemoryError:
        print(
            "derive: error: out of memory; the request is too big for this machine", file=sys.stderr
        )
        return Exit.BAD_INPUT
    except Exception as error:  # noqa: BLE001 - a bug: one line, never a traceback
        from derive.limits import InternalError

        what = (
            one_line(error)
            if isinstance(error, InternalError)
            else f"{type(error).__name__}: {one_line(error)}"
        )
        print(f"derive: internal error: {what} (please report)", file=sys.stderr)
        return Exit.INTERNAL


def _run(argv: list[str], is_command: bool) -> int:
    parser = build_parser(_command_asked(argv))
    if not argv:
        parser.print_help()
        print(
            f"derive: error: no command given; choose one of {', '.join(COMMANDS)} (see 'derive --help')",
            file=sys.stderr,
        )
        return Exit.BAD_INPUT
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error (already one line on stderr)
        sys.stdout.flush()
        return stop.code if isinstance(stop.code, int) else Exit.BAD_INPUT
    from derive.documents.files import announce_signals, cleanup_on_signals

    if is_command:
        announce_signals()
    with (
        cleanup_on_signals()
    ):  # SIGTERM/SIGHUP/SIGINT: every scratch file, temporary and child goes first
        code = command_module(args.command).run(args)
    sys.stdout.flush()  # a closed pipe shows here, inside the handlers of main
    if is_command:
        # The process ends now: let the exit skip the final collection over SymPy's ~10^5
        # objects (about 0.1 s, a sixth of a check-answer). Exit handlers still run.
        gc.freeze()
    return int(code)
