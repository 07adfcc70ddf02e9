"""derive steps: the chain-rule steps in the terminal (or as JSON), optionally checked against SymPy."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from derive.cli import inputs, options
from derive.cli.exits import Exit
from derive.cli.options import CHECK_LIMIT
from derive.cli.output import print_json
from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.checks.steps import StepsChecked
    from derive.model.network import Network


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.network(parser)
    parser.add_argument(
        "--layer", type=int, default=None, help="only the steps leading to this weight layer"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"also verify every step against SymPy (up to {CHECK_LIMIT} = weights x weight layers)",
    )
    options.force(parser, "--check would take minutes")
    options.output(
        parser,
        "print the steps as JSON (LaTeX and text of each side, rule, sentence)",
        "no progress bar",
    )


def run(args: argparse.Namespace) -> int:
    from derive.render.terminal import render_steps, steps_data

    net = inputs.network_from(args)
    if args.check:
        check_check_size(net, args.force)
    derivation = net.derivation()
    if args.layer is not None:
        derivation.steps(args.layer)  # validates the layer number
    if not args.json:
        print(render_steps(derivation, args.layer))
        sys.stdout.flush()
    report = _checked(net, quiet=args.quiet or args.json) if args.check else None
    if args.json:
        data = steps_data(derivation, args.layer)
        if report is not None:
            data["check"] = report.as_dict()
        print_json(data)
    elif report is not None:
        for failure in report.failures:
            print(f"FAILED {failure}")
        if report.passed:
            print(
                f"\nchecked: all {report.steps} steps agree with SymPy's own derivatives at random points"
            )
    if report is not None and not report.passed:
        print(
            f"derive: check failed: {len(report.failures)} step(s) disagree with SymPy",
            file=sys.stderr,
        )
        return Exit.VERDICT
    return Exit.OK


def check_size(net: "Network") -> tuple[int, int]:
    """(weights, weights x weight layers): what `steps --check` costs grows with the second."""
    weights = sum(net.size(layer) * net.size(layer - 1) for layer in range(1, net.L + 1))
    return weights, weights * net.L


def check_check_size(net: "Network", force: bool) -> None:
    weights, size = check_size(net)
    if size > CHECK_LIMIT and not force:
        narrow = " ".join(["2"] * (net.L + 1))
        raise DeriveError(
            f"--check expands the network symbolically, and {list(net.sizes)} is too big for that: {weights:,} "
            f"weights x {net.L} weight layers = {size:,}, the limit is {CHECK_LIMIT} (about half a minute; time grows "
            f"with it); the steps are in index form, so check a narrow network of the same depth "
            f"(--layers {narrow}) or add --force to wait"
        )


def _checked(net: "Network", quiet: bool) -> "StepsChecked":
    """Every step checked, a progress bar ticking per step on a terminal."""
    from derive.checks.steps import checked_steps, count_checked
    from derive.render.terminal import progress_bar

    with progress_bar(count_checked(net), "checking steps", enabled=not quiet) as advance:
        return checked_steps(net, on_step=lambda done, total: advance())
