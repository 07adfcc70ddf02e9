"""The `derive` command: a thin layer over the library. Errors are one line, exit status 2."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import __version__
from .errors import DeriveError
from .network import Network
from .notation import PRESETS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", nargs="+", required=True, metavar="N",
                        help="layer sizes, input first, e.g. --layers 2 3 1")
    parser.add_argument("--activation", nargs="+", default=None, metavar="NAME",
                        help="one activation for every layer or one per weight layer: sigmoid, tanh, relu, "
                             "leaky-relu, softplus, identity; parameters as sigmoid(gain=2)")
    parser.add_argument("--cost", default=None, help="quadratic (default), half-quadratic, cross-entropy")
    parser.add_argument("--bias", action=argparse.BooleanOptionalAction, default=False, help="include biases")
    parser.add_argument("--notation", default="default", choices=sorted(PRESETS), help="notation preset")


def network_from(args: argparse.Namespace) -> Network:
    activation = args.activation if args.activation is None or len(args.activation) > 1 else args.activation[0]
    return Network(args.layers, activation=activation, cost=args.cost, bias=args.bias, notation=args.notation)


def _cmd_steps(args: argparse.Namespace) -> int:
    from .terminal import render_steps

    net = network_from(args)
    derivation = net.derivation()
    layer = args.layer
    if layer is not None:
        derivation.steps(layer)  # validates the layer number
    print(render_steps(derivation, layer))
    if args.check:
        from .expansion import check_steps

        failures = check_steps(net)
        count = len(derivation.steps())
        if failures:
            for failure in failures:
                print(f"FAILED {failure}", file=sys.stderr)
            return 1
        print(f"\nchecked: all {count} steps agree with SymPy's own derivatives at random points")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Step-by-step backpropagation derivations.")
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    steps = sub.add_parser("steps", help="print the chain-rule steps for every weight layer")
    _network_options(steps)
    steps.add_argument("--layer", type=int, default=None, help="only the steps leading to this weight layer")
    steps.add_argument("--check", action="store_true", help="also verify every step against SymPy")
    steps.set_defaults(run=_cmd_steps)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help()
        return 2
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
