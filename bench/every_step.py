"""Every activation in every position: every printed step and both forms of every gradient, checked.

The product (issue 18): each activation (the nine built-ins, a piecewise definition in LaTeX, and
softmax where it may stand, the output) in each position of networks of 1 to 5 weight layers (tanh
in the other positions), with every cost the output allows, with and without biases and L2. For each
network, two checks that share no code with the engine's formulas:

* ``check_steps``: every step of the derivation, at points that show every piecewise quantity on
  both sides of its kink and, where the output activation allows, outputs of both signs;
* ``check_gradients(mode="numeric")``: the chain and the written-out ("classic") form of the gradient
  of every weight and bias of the layers the sheets print written out (the output layer and the two
  below it) against ``sympy.diff`` of the fully written-out cost, at those points (networks of at most
  4 weight layers: writing the cost out through 5 takes SymPy over 10 minutes a network).

Prints one row per network and a summary; exits 1 if any check failed. The full product is about
2,000 networks (hours on 2 cores); ``--sample N`` checks N of them drawn with ``--seed``, and
tests/test_every_position.py runs a fixed subset in CI.

Run: python bench/every_step.py [--sample 60] [--seed 0] [--max-depth 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass

from derive import DeriveError, Network
from derive.checks.steps import check_gradients, checked_steps
from derive.engine.derivation import WRITTEN_OUT
from derive.model.activations import NAMES

PIECEWISE = (
    r"g(z) = \max(z, 2z - 1)"  # a user's definition by cases: a kink at z = 1, slopes 1 and 2
)
ACTIVATIONS = (*NAMES, PIECEWISE)
COSTS = ("quadratic", "half-quadratic", "cross-entropy", "log-likelihood")
FILLER = "tanh"
WIDTH = 2


@dataclass(frozen=True)
class Case:
    """One network of the product: ``activation`` at weight layer ``position`` of ``depth``."""

    depth: int
    position: int
    activation: str
    cost: str
    bias: bool
    l2: str | None

    def network(self) -> Network:
        acts = [FILLER] * self.depth
        acts[self.position - 1] = self.activation
        return Network(
            [WIDTH] * (self.depth + 1), activation=acts, cost=self.cost, bias=self.bias, l2=self.l2
        )

    def label(self) -> str:
        name = "piecewise" if self.activation == PIECEWISE else self.activation
        return (
            f"L={self.depth} at {self.position}: {name:<10} {self.cost:<14} "
            f"{'bias' if self.bias else '    '} {'l2' if self.l2 else '  '}"
        )


def product(max_depth: int = 5) -> list[Case]:
    """Every case of the product that makes a network (an output the cost does not allow is skipped)."""
    cases = []
    for depth in range(1, max_depth + 1):
        for position in range(1, depth + 1):
            activations = ACTIVATIONS + (("softmax",) if position == depth else ())
            for activation in activations:
                for cost in COSTS:
                    for bias in (False, True):
                        for l2 in (None, "1/10"):
                            case = Case(depth, position, activation, cost, bias, l2)
                            try:
                                case.network()
                            except DeriveError:
                                continue
                            cases.append(case)
    return cases


EXPANDED_DEPTH = (
    4  # sympy.diff of the cost written out through 5 weight layers takes over 10 minutes a network
)


def written_out_layers(net: Network) -> range:
    """The layers whose gradients the sheets print written out (WRITTEN_OUT below the output and the output):
    their chain and classic forms are checked against sympy.diff of the fully written-out cost, for networks
    of at most EXPANDED_DEPTH weight layers; deeper, the step check (which covers the same printed lines)
    is the check. Deeper layers are printed in terms of the errors of the layer below."""
    if net.L > EXPANDED_DEPTH:
        return range(0)
    return range(max(1, net.L - WRITTEN_OUT), net.L + 1)


def check(case: Case) -> tuple[int, int, int, float]:
    """(steps checked, points, failures, seconds) for one case."""
    start = time.perf_counter()
    net = case.network()
    report = checked_steps(net)
    failures = len(report.failures) + len(
        check_gradients(net, mode="numeric", layers=written_out_layers(net))
    )
    return report.steps, report.points, failures, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sample", type=int, default=None, help="check this many cases, drawn at random"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-depth", type=int, default=5)
    args = parser.parse_args(argv)
    cases = product(args.max_depth)
    total = len(cases)
    if args.sample is not None and args.sample < total:
        cases = random.Random(args.seed).sample(cases, args.sample)
    print(f"{len(cases)} of {total} networks (width {WIDTH}, filler {FILLER})")
    print(f"{'case':<52} {'steps':>6} {'points':>6} {'failed':>6} {'seconds':>8}")
    failed, seconds = 0, 0.0
    for case in cases:
        steps, points, failures, took = check(case)
        failed += failures > 0
        seconds += took
        print(f"{case.label():<52} {steps:>6} {points:>6} {failures:>6} {took:>8.2f}", flush=True)
    print(
        f"\n{len(cases) - failed} of {len(cases)} networks pass every step check and both gradient forms; "
        f"{seconds:.0f} s in all, {seconds / max(len(cases), 1):.1f} s per network"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
