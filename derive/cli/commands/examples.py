"""derive examples: the canonical example sheets, decks and pages, regenerated."""

from __future__ import annotations

import argparse

from derive.cli import options
from derive.cli.output import paths, print_json, say
from derive.errors import DeriveError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out-dir", default="outputs", metavar="DIR")
    parser.add_argument("--tex-only", action="store_true")
    options.output(parser, 'print {"files": [...]}', "no progress and no 'wrote' lines")


def run(args: argparse.Namespace) -> int:
    from derive.documents.html import write_html
    from derive.documents.sheet import example_specs, write_sheet
    from derive.documents.slides import write_slides
    from derive.read.paths import output_dir
    from derive.read.spec_file import spec_from_text
    from derive.render.terminal import progress_bar

    out_dir = output_dir(args.out_dir, "--out-dir")
    entries = example_specs()
    written, notes = [], []
    with progress_bar(
        len(entries), "writing the examples", enabled=not (args.quiet or args.json)
    ) as advance:
        for entry in entries:
            spec = spec_from_text(entry.read_text(encoding="utf-8"), entry.name)
            name, net = entry.name.rsplit(".", 1)[0], spec.network()
            for write in (
                write_sheet,
                write_slides,
            ):  # the sheet, and the same derivation as a deck
                files = write(
                    net,
                    out_dir,
                    name=name,
                    title=spec.title,
                    values=spec.values,
                    tex_only=args.tex_only,
                )
                written += [files.tex, files.pdf]
                if files.note:
                    notes.append(files.note)
                say(
                    args,
                    f"wrote {str(files.tex)}" + (f" and {str(files.pdf)}" if files.pdf else ""),
                )
            page = write_html(net, out_dir, name=name, title=spec.title, values=spec.values)
            written.append(page)
            say(args, f"wrote {str(page)}")
            advance()
    if args.json:
        print_json({"files": paths(written), "note": notes[0] if notes else None})
    if notes:  # the examples are PDFs: without TeX the command did not do its job
        raise DeriveError(f"{notes[0]} (the .tex files were written)")
    return 0
