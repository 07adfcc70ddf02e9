"""Benchmark: what checking every step adds to a document command (issue 18).

`derive sheet` checks every step it prints against SymPy before writing (on the narrow network of the
same depth, activations and cost, at points that show every kink from both sides); `--no-check` skips
it. This runs the real command both ways (with --tex-only, so TeX's time does not hide the
difference; the PDF's typesetting is the same either way), medians of --repeat runs, and prints the
time the check adds. Goals: under 1.5 s for [2, 3, 1], under 10 s for a 6-layer network. A row for
the library call alone (``check_printed``) shows the check without the process start.

Run: python bench/check_cost.py [--repeat 3] [--deep]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

from derive import Network
from derive.checks.steps import _PRINTED, check_printed

CASES = [  # (layers, activations, goal in seconds or None)
    ([2, 3, 1], ["sigmoid"], 1.5),
    ([2, 3, 3, 3, 3, 1], ["sigmoid"], 10.0),
    ([2, 4, 4, 4, 4, 2], ["relu", "tanh", "leaky-relu", "gelu", "elu"], 10.0),
    ([2, 3, 3, 3, 3, 3, 3, 3, 1], ["tanh"], None),
]
DEEP = [([3] * 17, ["sigmoid"], None), ([3] * 33, ["sigmoid"], None)]


def command_seconds(layers: list[int], activations: list[str], check: bool, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            args = [
                sys.executable,
                "-m",
                "derive",
                "sheet",
                "--layers",
                *map(str, layers),
                "--activation",
                *activations,
                "--out-dir",
                out,
                "--tex-only",
                "-q",
            ] + ([] if check else ["--no-check"])
            start = time.perf_counter()
            subprocess.run(args, check=True)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def library_seconds(layers: list[int], activations: list[str]) -> tuple[float, int, int]:
    net = Network(layers, activation=activations)
    net.derivation()
    _PRINTED.clear()
    start = time.perf_counter()
    report = check_printed(net)
    return time.perf_counter() - start, report.steps, report.points


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--deep", action="store_true", help="also 16 and 32 weight layers")
    args = parser.parse_args()
    cases = CASES + (DEEP if args.deep else [])
    print(
        f"{'network':<34} {'steps':>5} {'pts':>3} {'no-check s':>10} {'sheet s':>8} {'added s':>8} "
        f"{'library s':>9} {'goal':>6}"
    )
    missed = 0
    for layers, activations, goal in cases:
        off = command_seconds(layers, activations, False, args.repeat)
        on = command_seconds(layers, activations, True, args.repeat)
        alone, steps, points = library_seconds(layers, activations)
        added = on - off
        verdict = "" if goal is None else (f"<{goal:g}" if added < goal else f"MISSED {goal:g}")
        missed += goal is not None and added >= goal
        name = (
            f"{layers[0]}-{'-'.join(map(str, layers[1:]))} {'/'.join(dict.fromkeys(activations))}"
        )
        print(
            f"{name:<34} {steps:>5} {points:>3} {off:>10.2f} {on:>8.2f} {added:>8.2f} {alone:>9.2f} "
            f"{verdict:>6}",
            flush=True,
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
