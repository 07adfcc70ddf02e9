"""derive slides: Beamer slides, one step per overlay."""

from __future__ import annotations

import argparse

from derive.cli import options
from derive.cli.documents import document_request, report_typeset

DESCRIPTION = (
    "Write OUT_DIR/NAME-slides.tex and OUT_DIR/NAME-slides.pdf: each step appears as an overlay with "
    "its rule and reason, the factor being derived highlighted and the network's nodes and weights it "
    "names lit; a SPEC with numbers adds a worked example that unfolds the same way."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.document(
        parser, "the deck", " and -slides", "add one step of gradient descent to the worked example"
    )
    parser.add_argument(
        "--notes",
        action="store_true",
        help="show the speaker notes (each step's reason) on a second screen at the right of "
        "every page (pages twice as wide, for a presenter console such as pdfpc)",
    )
    options.typeset(parser)


def run(args: argparse.Namespace) -> int:
    from derive.documents.slides import write_slides
    from derive.render.terminal import status

    request = document_request(args)
    with status("writing the slides", enabled=not (args.quiet or args.json)) as update:
        files = write_slides(
            request.network,
            request.out_dir,
            name=request.name,
            title=request.title,
            values=request.values,
            tex_only=args.tex_only,
            notes=args.notes,
            progress=update,
            graph=request.graph,
            check=request.check,
        )
    return report_typeset(args, files)
