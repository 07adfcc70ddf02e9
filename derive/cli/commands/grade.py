"""derive grade: a class's answers (CSV) judged against the homework keys, in parallel."""

from __future__ import annotations

import argparse
import sys

from derive.cli import inputs, options
from derive.cli.exits import Exit
from derive.cli.options import MAX_JOBS
from derive.cli.output import note, print_json

DESCRIPTION = (
    "Judge every row of ANSWERS (CSV with a header row naming the columns student, version, question, "
    "answer) against KEY_OR_DIR (one key.json, or the directory `derive homework` wrote) and write OUT "
    "with the columns student, version, question, answer, verdict, feedback, score. Exit 0 when every "
    "row got a verdict, 2 when the files cannot be read, 3 when a row hit an internal error."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "key",
        metavar="KEY_OR_DIR",
        help="a key.json, or a homework directory with version-N/key.json",
    )
    parser.add_argument(
        "answers", metavar="ANSWERS", help="the answers, CSV: student,version,question,answer"
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="where to write the grades (CSV)"
    )
    options.jobs(
        parser, "answers judged at once, one process each (default: all cores)", metavar="N"
    )
    options.output(
        parser,
        'print the summary as JSON: {"answers", "distinct", "counts", ...}',
        "no progress bar and no summary line",
    )


def run(args: argparse.Namespace) -> int:
    from derive.homework.grading import grade, load_keys
    from derive.read.paths import input_file, output_file

    inputs.count(args.jobs, "--jobs", 1, MAX_JOBS)
    keys = load_keys(args.key)  # checked (and parsed, once) before the other files
    input_file(args.answers, "answers file")  # the reader says what is wrong inside it
    output_file(args.out, "--out")
    quiet = args.quiet or args.json
    summary = grade(
        keys, args.answers, args.out, args.jobs, progress=not quiet and sys.stderr.isatty()
    )
    for text in summary.notes:
        note(f"{text} (please report)", "warning")
    if args.json:
        print_json(summary.as_dict(args.out))
    else:
        for problem in summary.internal:
            print(f"derive: internal error at {problem} (please report)", file=sys.stderr)
        if not args.quiet:
            print(f"{summary.line()}; wrote {args.out}")
    return Exit.INTERNAL if summary.counts.get("error") else Exit.OK
