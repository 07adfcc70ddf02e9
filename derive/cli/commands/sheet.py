"""derive sheet: a LaTeX derivation sheet, typeset to PDF."""

from __future__ import annotations

import argparse

from derive.cli import options
from derive.cli.documents import document_request, report_typeset

DESCRIPTION = (
    "Write OUT_DIR/NAME.tex and OUT_DIR/NAME.pdf for a network given by options or by a SPEC file "
    "(TOML or JSON, may carry numbers for a worked example; - reads it from standard input)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.document(
        parser, "the sheet", "", "add a table of one step of gradient descent to the worked example"
    )
    parser.add_argument(
        "--templates",
        default=None,
        metavar="DIR",
        help="use your own templates from DIR first (rendered in Jinja2's sandbox)",
    )
    options.typeset(parser)


def run(args: argparse.Namespace) -> int:
    from derive.documents.sheet import write_sheet
    from derive.read.paths import templates_dir
    from derive.render.terminal import status

    request = document_request(args)
    templates = templates_dir(args.templates, "--templates") if args.templates is not None else None
    with status("writing the sheet", enabled=not (args.quiet or args.json)) as update:
        files = write_sheet(
            request.network,
            request.out_dir,
            name=request.name,
            title=request.title,
            values=request.values,
            templates=templates,
            tex_only=args.tex_only,
            progress=update,
            graph=request.graph,
            check=request.check,
        )
    return report_typeset(args, files)
