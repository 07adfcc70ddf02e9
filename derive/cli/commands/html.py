"""derive html: the derivation as one self-contained web page."""

from __future__ import annotations

import argparse

from derive.cli import options
from derive.cli.documents import document_request
from derive.cli.output import paths, print_json, say

DESCRIPTION = (
    "Write OUT_DIR/NAME.html: the derivation a step at a time (keys or buttons), the network drawing "
    "lit per step, the worked example when the SPEC has numbers. One file: KaTeX and its fonts are "
    "inside, no network needed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.document(
        parser, "the page", "", "add one step of gradient descent to the worked example"
    )
    options.graph(parser)
    options.output(parser, 'print {"files": [...], "bytes": N}', "no progress and no 'wrote' line")


def run(args: argparse.Namespace) -> int:
    from derive.documents.html import write_html
    from derive.render.terminal import status

    request = document_request(args)
    with status("writing the web page", enabled=not (args.quiet or args.json)):
        path = write_html(
            request.network,
            request.out_dir,
            name=request.name,
            title=request.title,
            values=request.values,
            graph=request.graph,
            check=request.check,
        )
    if args.json:
        print_json({"files": paths([path]), "bytes": path.stat().st_size})
    else:
        say(args, f"wrote {str(path)}")
    return 0
