"""Benchmark: deriving in index form costs the same for [784, 100, 10] as for [2, 2, 1].

Prints a table: median time to build the full derivation (fresh Network each run),
the number of steps, and the ratio to [2, 2, 1] measured in the same run. As a
reference, the approach the engine avoids: expand the network's cost fully and
let SymPy differentiate it with respect to one first-layer weight.

Run: python bench/derive_width.py [--repeat 5] [--expand-limit 30]
"""
from __future__ import annotations

import argparse
import statistics
import time

import sympy as sp

from derive import Network
from derive.expansion import expanded_cost

SHAPES = [[2, 2, 1], [2, 3, 1], [3, 4, 2], [2, 3, 3, 2], [16, 32, 8], [784, 100, 10], [784, 300, 100, 10]]
EXPAND_SHAPES = [[2, 2, 1], [4, 4, 2], [8, 8, 4], [16, 32, 8]]


def median_seconds(task, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def derive_once(shape: list[int]) -> int:
    return len(Network(shape, activation="sigmoid", bias=True).derivation().steps())


def expand_once(shape: list[int]) -> None:
    net = Network(shape, activation="sigmoid", bias=True)
    cost, _ = expanded_cost(net, concrete=True)
    sp.diff(cost, net.symbols.w[1, 0, 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--expand-limit", type=float, default=30.0,
                        help="skip the expansion reference for larger shapes once one run exceeds this many seconds")
    args = parser.parse_args()

    derive_once([2, 2, 1])  # warm SymPy's caches for a fair first row
    base = median_seconds(lambda: derive_once([2, 2, 1]), args.repeat)
    print("Index-form derivation (sigmoid, quadratic cost, biases), median of", args.repeat, "runs")
    print(f"{'network':<22}{'parameters':>12}{'steps':>8}{'seconds':>10}{'vs [2,2,1]':>12}")
    for shape in SHAPES:
        seconds = median_seconds(lambda: derive_once(shape), args.repeat)
        params = sum(shape[i] * shape[i - 1] + shape[i] for i in range(1, len(shape)))
        print(f"{str(shape):<22}{params:>12}{derive_once(shape):>8}{seconds:>10.3f}{seconds / base:>11.2f}x")

    print("\nReference: full expansion + sympy.diff for one first-layer weight (what the engine avoids)")
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
