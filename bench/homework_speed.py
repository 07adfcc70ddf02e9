"""Benchmark: building homework versions serially vs in parallel, and the time to judge an answer.

Run: python bench/homework_speed.py [--count 4] [--pdf]
Prints the wall time for --count versions with 1 process and with every core (the speed-up is
the point: versions are independent), and the median time check-answer's judge needs for a
correct, a wrong (mistake named) and an unreadable answer (each includes the time-limited child).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from derive.homework.answers import judge
from derive.homework.questions import Question
from derive.homework.sheets import generate


def build_seconds(count: int, jobs: int, pdf: bool) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        generate(11, count, Path(out), tex_only=not pdf, jobs=jobs, progress=False)
        return time.perf_counter() - start


def judge_ms(answer: str, question: Question, repeat: int = 7) -> float:
    expected = question.expected()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        judge(answer, expected)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--pdf", action="store_true", help="typeset the PDFs too (needs TeX)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    serial = build_seconds(args.count, 1, args.pdf)
    parallel = build_seconds(args.count, cores, args.pdf)
    what = "tex + pdf" if args.pdf else "tex only"
    print(f"homework versions ({what}), {args.count} versions, 4 questions each")
    print(f"{'processes':<12}{'seconds':>10}{'speed-up':>10}")
    print(f"{1:<12}{serial:>10.2f}{1:>9.2f}x")
    print(f"{cores:<12}{parallel:>10.2f}{serial / parallel:>9.2f}x")
    hidden = Question(
        "q1", "weight-gradient", (2, 3, 2), ("sigmoid", "tanh"), "quadratic", True, layer=1
    )
    cases = [
        (
            "correct (chain form)",
            r"g'(z_j^{(1)}) x_k \sum_i 2(a_i^{(2)} - y_i) g'(z_i^{(2)}) w_{ij}^{(2)}",
        ),
        (
            "wrong, mistake named",
            r"g'(z_j^{(1)}) x_k \sum_i 2(a_i^{(2)} - y_i) g'(z_i^{(2)}) w_{ji}^{(2)}",
        ),
        ("unreadable", r"g'(z_j^{(1)} x_k"),
    ]
    print("\njudging one answer (input-to-hidden gradient of [2, 3, 2]), median of 7")
    print(f"{'answer':<24}{'ms':>10}")
    for name, answer in cases:
        print(f"{name:<24}{judge_ms(answer, hidden):>10.0f}")


if __name__ == "__main__":
    main()
