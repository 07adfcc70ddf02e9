"""From parsed options to library inputs: the network, the spec (read once), the values, counts.

Every problem is a one-line DeriveError before any work starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import TYPE_CHECKING

from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.values import Values
    from derive.read.spec_file import Spec


def read_spec(args: argparse.Namespace) -> "Spec | None":
    """The SPEC file (``-``: standard input) with --l2 in place of its own l2; None without a SPEC.

    Read once per command: standard input can be read only once, and everything about the network
    (its l2 included) must come from the same reading."""
    from derive.read.spec_file import load_spec

    if getattr(args, "spec", None) is None:
        return None
    given = [
        f"--{name}"
        for name in ("layers", "activation", "cost")
        if getattr(args, name, None) is not None
    ]
    if given:
        raise DeriveError(f"give either a SPEC file or {', '.join(given)}, not both")
    return with_l2(load_spec(args.spec), getattr(args, "l2", None))


def numbers_spec(args: argparse.Namespace) -> "Spec":
    """grad's and check's SPEC (a required argument), with --l2 applied."""
    spec = read_spec(args)
    if spec is None:  # argparse requires SPEC: only a caller's bug reaches this
        raise DeriveError("give a SPEC file with [values] (or - for standard input)")
    return spec


def with_l2(spec: "Spec", text: str | None) -> "Spec":
    """The spec with --l2 in place of its own l2 (when given)."""
    from derive.model.values import parse_l2

    return spec if text is None else dataclasses.replace(spec, l2=parse_l2(text, "--l2"))


def activation_option(args: argparse.Namespace) -> str | list[str] | None:
    """--activation: one name for every layer, or a list of one per weight layer."""
    return (
        args.activation
        if args.activation is None or len(args.activation) > 1
        else args.activation[0]
    )


def network_from(args: argparse.Namespace) -> "Network":
    """The network of --layers, --activation, --cost, --bias, --l2 and --notation."""
    from derive.model.network import Network
    from derive.model.values import parse_l2

    layers = args.layers
    if (
        len(layers) == 1 and "," in layers[0]
    ):  # one list, 2,3,1 (a mix such as 2 3,1 is refused as before)
        layers = [size.strip() for size in layers[0].split(",")]
    return Network(
        layers,
        activation=activation_option(args),
        cost=args.cost,
        bias=args.bias,
        notation=args.notation,
        l2=parse_l2(getattr(args, "l2", None), "--l2"),
    )


def network_of(args: argparse.Namespace, spec: "Spec | None") -> "Network":
    """The network of the SPEC already read, else of the network options."""
    if spec is not None:
        return spec.network()
    if args.layers is None:
        raise DeriveError(
            f"give a SPEC file (or - for standard input) or --layers "
            f"(e.g. derive {args.command} --layers 2 3 1)"
        )
    return network_from(args)


def with_learning_rate(values: "Values | None", text: str | None) -> "Values | None":
    """The spec's values, with --learning-rate (when given) as their learning rate."""
    if text is None:
        return values
    if values is None:
        raise DeriveError(
            "--learning-rate needs numbers to update: give a spec with [values] (x, y, weights)"
        )
    from decimal import Decimal, InvalidOperation

    from derive.read.spec_file import learning_rate

    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise DeriveError(f"--learning-rate must be a number, got {text!r}") from None
    return dataclasses.replace(
        values, learning_rate=learning_rate(number, "--learning-rate", "command line")
    )


def title(text: str | None, option: str = "--title") -> str | None:
    from derive.read.spec_file import check_text

    return None if text is None else check_text(text, option)


def count(
    value: int | None, option: str, low: int, high: int | None, force: bool = False, why: str = ""
) -> None:
    """A number of things to make (versions, questions, jobs), within its bounds."""
    if value is None:
        return
    if value < low:
        raise DeriveError(f"{option} must be at least {low}, not {value}")
    if high is not None and value > high and not force:
        raise DeriveError(f"{option} {value} is more than {high}{why}")


def check_finite(values: list, what: str) -> None:
    """Refuse numbers that overflowed float64 (nested lists of them, None skipped)."""
    flat: list = []
    stack = list(values)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif item is not None:
            flat.append(item)
    if not all(math.isfinite(v) for v in flat):
        raise DeriveError(
            f"the {what} overflows float64 (inf or nan) at these numbers; use smaller values"
        )
