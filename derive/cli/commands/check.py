"""derive check: every generated gradient against finite differences; exit 1 when one disagrees."""

from __future__ import annotations

import argparse
import sys

from derive.cli import inputs, options
from derive.cli.exits import Exit
from derive.cli.output import print_json

DESCRIPTION = "Exit 0 when every gradient agrees with finite differences, 1 when one does not, 2 on bad input."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.numbers_spec(parser)
    options.output(
        parser, "print the table's rows as JSON", "no table and no spinner (the exit status tells)"
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from derive.checks.gradcheck import check_gradient
    from derive.render.terminal import status

    spec = inputs.numbers_spec(args)
    net = spec.network()
    arrays = spec.arrays()
    with np.errstate(all="ignore"):
        cost = float(net.numeric().cost(*arrays))
    inputs.check_finite([cost], "cost")
    with status(
        f"checking {sum(a.size for a in arrays[0]):,} weights",
        enabled=not (args.quiet or args.json),
    ):
        report = check_gradient(net, *arrays)
    if args.json:
        print_json(report.as_dict())
    elif not args.quiet:
        print(report.table())
    if not report.passed:
        print("derive: check failed: a gradient disagrees with finite differences", file=sys.stderr)
        return Exit.VERDICT
    return Exit.OK
