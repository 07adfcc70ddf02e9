"""Benchmark: deriving in index form costs the same for [784, 100, 10] as for [2, 2, 1], and
grows linearly with depth.

Prints three tables.
1. Width: median time to build the full derivation (fresh Network each run), the number of
   steps, and the ratio to [2, 2, 1] measured in the same run.
2. Depth: 3-wide sigmoid networks with biases from 1 to 64 weight layers (the most a spec may
   have): the derivation, one written-out input-layer gradient (built on request), seconds per
   weight layer and the ratio to 1 layer; then the real `derive sheet` command (PDF by TeX) at
   16 and 64 weight layers. Goals (issue 10): 64 layers under 3 s, the 16-layer sheet under 10 s.
3. Reference: the approach the engine avoids, expanding the network's cost fully and letting
   SymPy differentiate it with respect to one first-layer weight.

Run: python bench/derive_width.py [--repeat 5] [--expand-limit 30] [--no-sheet]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import sympy as sp

from derive import Network
from derive.evaluate.exact import expanded_cost

SHAPES = [
    [2, 2, 1],
    [2, 3, 1],
    [3, 4, 2],
    [2, 3, 3, 2],
    [16, 32, 8],
    [784, 100, 10],
    [784, 300, 100, 10],
]
EXPAND_SHAPES = [[2, 2, 1], [4, 4, 2], [8, 8, 4], [16, 32, 8]]
DEPTHS = [1, 2, 4, 8, 16, 24, 32, 48, 64]
SHEET_DEPTHS = [16, 64]


def median_seconds(task, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def derive_once(shape: list[int]) -> int:
    return len(Network(shape, activation="sigmoid", bias=True).derivation().steps())


def deep(layers: int) -> list[int]:
    return [3] * (layers + 1)


def derive_deep(layers: int) -> tuple[float, float, int]:
    """Seconds to derive, seconds for the written-out dC/dw^(1), and the number of steps."""
    start = time.perf_counter()
    derivation = Network(deep(layers), activation="sigmoid", bias=True).derivation()
    derived = time.perf_counter()
    derivation.gradient(1)
    return derived - start, time.perf_counter() - derived, len(derivation.steps())


def sheet_seconds(layers: int) -> float:
    """Wall seconds of the real command: `derive sheet --layers 3 ... 3` writing .tex and PDF (without the
    check of its steps, which bench/check_cost.py measures on its own)."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "derive",
                "sheet",
                "--layers",
                *map(str, deep(layers)),
                "--out-dir",
                out,
                "--quiet",
                "--no-check",
            ],
            check=True,
        )
        return time.perf_counter() - start


def depth_table(repeat: int, sheets: bool) -> None:
    print(
        f"\nDepth: 3-wide sigmoid networks with biases, median of {repeat} runs "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"{'weight layers':<15}{'steps':>7}{'derive s':>10}{'s / layer':>11}{'vs 1 layer':>12}"
        f"{'dC/dw(1) written out s':>24}"
    )
    base = None
    for layers in DEPTHS:
        runs = [derive_deep(layers) for _ in range(repeat)]
        seconds = statistics.median(r[0] for r in runs)
        written = statistics.median(r[1] for r in runs)
        base = base or seconds
        print(
            f"{layers:<15}{runs[0][2]:>7}{seconds:>10.3f}{seconds / layers:>11.4f}{seconds / base:>11.1f}x"
            f"{written:>24.3f}"
        )
    if sheets:
        for layers in SHEET_DEPTHS:
            print(f"derive sheet, {layers} weight layers (PDF): {sheet_seconds(layers):.1f} s")


def expand_once(shape: list[int]) -> None:
    net = Network(shape, activation="sigmoid", bias=True)
    cost, _ = expanded_cost(net, concrete=True)
    sp.diff(cost, net.symbols.w[1, 0, 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--no-sheet", action="store_true", help="skip the `derive sheet` runs (no TeX needed)"
    )
    parser.add_argument(
        "--expand-limit",
        type=float,
        default=30.0,
        help="skip the expansion reference for larger shapes once one run exceeds this many seconds",
    )
    args = parser.parse_args()

    derive_once([2, 2, 1])  # warm SymPy's caches for a fair first row
    base = median_seconds(lambda: derive_once([2, 2, 1]), args.repeat)
    print("Index-form derivation (sigmoid, quadratic cost, biases), median of", args.repeat, "runs")
    print(f"{'network':<22}{'parameters':>12}{'steps':>8}{'seconds':>10}{'vs [2,2,1]':>12}")
    for shape in SHAPES:
        seconds = median_seconds(lambda: derive_once(shape), args.repeat)
        params = sum(shape[i] * shape[i - 1] + shape[i] for i in range(1, len(shape)))
        print(
            f"{str(shape):<22}{params:>12}{derive_once(shape):>8}{seconds:>10.3f}{seconds / base:>11.2f}x"
        )

    depth_table(args.repeat, not args.no_sheet)

    print(
        "\nReference: full expansion + sympy.diff for one first-layer weight (what the engine avoids)"
    )
    print(f"{'network':<22}{'seconds':>10}{'vs index form [2,2,1]':>24}")
    for shape in EXPAND_SHAPES:
        start = time.perf_counter()
        expand_once(shape)
        seconds = time.perf_counter() - start
        print(f"{str(shape):<22}{seconds:>10.3f}{seconds / base:>23.1f}x")
        if seconds > args.expand_limit:
            print(f"(larger shapes skipped: one run took over {args.expand_limit:.0f} s)")
            break


if __name__ == "__main__":
    main()
