"""derive homework: versions of exercise and solution sheets, their answer keys, a Moodle quiz."""

from __future__ import annotations

import argparse
from pathlib import Path

from derive.cli import inputs, options
from derive.cli.options import MAX_JOBS, MAX_QUESTIONS, MAX_VERSIONS
from derive.cli.output import note, print_json, say
from derive.errors import DeriveError

DESCRIPTION = (
    "Write OUT/version-N/{exercises,solutions}.{tex,pdf} and key.json for each version, and "
    "OUT/moodle.xml. The same seed gives the same versions."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument(
        "--count",
        type=int,
        default=1,
        help=f"how many versions (default 1, at most {MAX_VERSIONS} without --force)",
    )
    parser.add_argument("--out", default="outputs/homework", metavar="DIR")
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=None,
        metavar="KIND",
        help="exercise kinds (default: one of each but the ones asked for by name: weight-change, "
        "the weight's change by one step of gradient descent, and activation-derivative-new, "
        "ELU, SiLU and GELU): activation-derivative, weight-gradient, numeric-gradient, "
        "missing-factor, weight-change, activation-derivative-new",
    )
    parser.add_argument(
        "--questions",
        type=int,
        default=None,
        metavar="N",
        help=f"questions per version, cycling through the kinds (default: one per kind; at most "
        f"{MAX_QUESTIONS} without --force)",
    )
    parser.add_argument("--title", default="Backpropagation homework")
    options.tex_only(parser)
    options.no_check(parser, "solutions")
    options.jobs(parser, "parallel processes (default: all cores)")
    options.force(
        parser, f"more than {MAX_VERSIONS} versions or {MAX_QUESTIONS} questions are asked for"
    )
    options.output(
        parser,
        'print {"versions": [{"number", "files"}], "moodle": ...}',
        "no progress bar and no list of files",
    )


def run(args: argparse.Namespace) -> int:
    from derive.homework.kinds import KINDS
    from derive.homework.questions import check_kinds
    from derive.homework.sheets import generate
    from derive.read.paths import check_path_text, output_dir

    inputs.count(
        args.count,
        "--count",
        1,
        MAX_VERSIONS,
        args.force,
        " (each version takes a few seconds with PDFs); use --force to build them anyway",
    )
    inputs.count(
        args.questions,
        "--questions",
        1,
        MAX_QUESTIONS,
        args.force,
        " (a sheet of more questions is no homework); use --force to build it anyway",
    )
    inputs.count(args.jobs, "--jobs", 1, MAX_JOBS)
    kinds = tuple(args.kinds) if args.kinds else KINDS
    check_kinds(kinds)
    title = inputs.title(args.title) or ""  # --title has a default; "" only if given empty
    out = Path(args.out)
    check_path_text(args.out, "--out")
    if out.exists() and not out.is_dir():
        raise DeriveError(f"--out {str(out)} is a file; give a directory for the homework set")
    output_dir(str(out.parent) if str(out.parent) else ".", "--out (its parent)")
    results = generate(
        args.seed,
        args.count,
        out,
        kinds,
        args.questions,
        title,
        args.tex_only,
        args.jobs,
        progress=not (args.quiet or args.json),
        check=not args.no_check,
    )
    moodle = out / "moodle.xml"
    notes = sorted({r.note for r in results if r.note})
    if args.json:
        print_json(
            {
                "versions": [r.as_dict() for r in results],
                "moodle": str(moodle),
                "note": notes[0] if notes else None,
            }
        )
    else:
        for result in results:
            say(args, f"version {result.number}: " + ", ".join(str(f) for f in result.files))
        say(args, f"Moodle quiz: {str(moodle)}")
    for text in notes:
        note(text)
    return 0
