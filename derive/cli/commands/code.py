"""derive code: the generated NumPy code, or with --train the whole standalone classifier program."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from derive.cli import inputs, options, training_inputs
from derive.cli.options import TRAINING_OPTIONS
from derive.cli.output import print_json, say
from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.read.spec_file import Spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.spec(parser, "network spec file, or - for standard input (or use --layers)")
    options.network(parser, required=False)
    parser.add_argument(
        "--out", default=None, metavar="FILE", help="write to FILE (default: print)"
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="write the whole standalone classifier program (network code, data loading, training "
        "loop) for the data and settings below; the network defaults to derive train's",
    )
    options.training(parser, "with --train: ")
    parser.set_defaults(
        bias=None
    )  # --train: with biases unless --no-bias; without --train: only with --bias
    options.force(parser, None)
    options.output(
        parser, 'print {"source": ...} (or {"files": [FILE]} with --out)', "no 'wrote' line"
    )


def run(args: argparse.Namespace) -> int:
    from derive.documents.files import write_atomic
    from derive.numeric.codegen import generate_source
    from derive.read.paths import output_file

    out = output_file(args.out, "--out") if args.out is not None else None
    if (
        args.bias is None
    ):  # biases by default in the training program (as in derive train), else none
        args.bias = args.train
    if not args.train:
        given = [
            f"--{name.replace('_', '-')}"
            for name in TRAINING_OPTIONS
            if getattr(args, name) is not None
        ]
        if given:
            raise DeriveError(f"{given[0]} is an option of the training program: add --train")
    spec = inputs.read_spec(args)
    if args.train:
        source = _training_program(args, spec, out)
    else:
        source = generate_source(inputs.network_of(args, spec))
    if out is None:
        if args.json:
            print_json({"source": source})
        else:
            print(source, end="")
        return 0
    write_atomic(out, source)
    if args.json:
        print_json({"files": [str(out)]})
    else:
        say(args, f"wrote {str(out)}")
    return 0


def _training_program(args: argparse.Namespace, spec: "Spec | None", out: Path | None) -> str:
    """derive code --train: the standalone classifier program (network code, data, training loop)."""
    from derive.training import datasets
    from derive.training.loop import check_fits
    from derive.training.program import program_source

    settings = training_inputs.settings(args, spec)
    data = training_inputs.data_name(args)
    features, classes = datasets.shape(data)
    chosen = training_inputs.classifier(args, spec, features, classes)
    check_fits(chosen.network, features, classes, data)
    return program_source(chosen, data, settings, out.name if out is not None else "classifier.py")
