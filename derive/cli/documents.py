"""What sheet, slides and html share: one request read from the options, and the report of files."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from derive.cli import inputs
from derive.cli.output import note, print_json, say

if TYPE_CHECKING:
    from derive.documents.request import DocumentRequest
    from derive.documents.sheet import SheetFiles


def document_request(args: argparse.Namespace) -> "DocumentRequest":
    """The request of sheet, slides or html (``DocumentRequest``, whose defaults the documents share);
    every problem a one-line error before any work."""
    from derive.documents.request import DocumentRequest, check_name
    from derive.read.paths import output_dir

    spec = inputs.read_spec(args)
    net = inputs.network_of(args, spec)
    title = inputs.title(args.title) or (spec.title if spec is not None else None)
    values = inputs.with_learning_rate(
        spec.values if spec is not None else None, args.learning_rate
    )
    if args.out is not None:
        check_name(args.out)
    if (
        values is not None
    ):  # a symbol named like the notation's letters: refused before the directory is made
        from derive.numeric.worked import check_symbol_names

        check_symbol_names(net, values)
    graph = getattr(args, "graph", False)
    if graph:  # no numbers, too big, or a symbol named like a node: the same
        from derive.documents.sheet import graph_of

        graph_of(net, values)
    return DocumentRequest(
        net,
        title,
        values,
        args.out,
        output_dir(args.out_dir, "--out-dir"),
        graph,
        not args.no_check,
    )


def report_typeset(args: argparse.Namespace, files: "SheetFiles") -> int:
    """The .tex and .pdf written (or the JSON of them), and TeX's note on stderr."""
    if args.json:
        print_json(files.as_dict())
    else:
        for path in (files.tex, files.pdf):
            if path is not None:
                say(args, f"wrote {str(path)}")
    note(files.note)
    return 0
