"""derive check-answer: one LaTeX answer judged against a homework key; the exit status is the verdict."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from derive.cli import options
from derive.cli.exits import Exit
from derive.cli.output import print_json, shorten
from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.homework.answers import Verdict

DESCRIPTION = (
    "Exit 0 when the answer is correct, 1 when it is wrong, 2 when it cannot be read (or the key is "
    "bad), 3 on an internal error."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", metavar="KEY", help="a version's key.json")
    parser.add_argument("question", metavar="QUESTION", help="question id (q2, or just 2)")
    parser.add_argument(
        "latex", metavar="LATEX", help="the answer in LaTeX, e.g. '2(a_j^{(L)} - y_j) a_k^{(L-1)}'"
    )
    options.output(
        parser,
        'print {"verdict": ..., "message": ..., "mistake": ...}',
        "print nothing; only the exit status tells",
    )


def exit_of(verdict: "Verdict") -> Exit:
    """The verdict as an exit status: correct 0, wrong 1, unreadable 2, an internal error 3."""
    from derive.homework.answers import Status

    return {
        Status.CORRECT: Exit.OK,
        Status.WRONG: Exit.VERDICT,
        Status.UNREADABLE: Exit.BAD_INPUT,
    }.get(verdict.status, Exit.INTERNAL)


def run(args: argparse.Namespace) -> int:
    from derive.homework.answers import Status, judge
    from derive.homework.keys import load_key

    questions = load_key(args.key)  # checked while read
    question = _question_id(args.question, questions, args.key)
    verdict = judge(args.latex, questions[question].expected())
    if args.json:
        print_json(verdict.as_dict())
    elif not args.quiet:
        shown_on = sys.stdout if verdict.status in (Status.CORRECT, Status.WRONG) else sys.stderr
        print(shorten(verdict.message), file=shown_on)
    return exit_of(verdict)


def _question_id(text: str, questions: dict, key: str) -> str:
    """The question's id as the key spells it: ``q2`` also as ``2``."""
    question = text.strip()
    if question in questions:
        return question
    wanted = f"q{question}" if question.isascii() and question.isdigit() else question
    if wanted not in questions:
        from derive.errors import shown_value
        from derive.read.spec_file import shown_path

        raise DeriveError(
            f"no question {shown_value(text)} in {shown_path(key)}; it has {', '.join(questions)}"
        )
    return wanted
