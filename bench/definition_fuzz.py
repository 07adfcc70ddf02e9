"""Benchmark: every definition of the fuzz corpus read and rehearsed in full, as ``--activation`` does.

Run: python bench/definition_fuzz.py [--count 5000] [--quick]

tests/test_definition_fuzz.py parses and derives all 5,000 definitions of tests/definition_corpus.py
and rehearses every 25th; this runs the full reading (parse, derive, print, compile, check: what
derive.read.latex runs in its limited child) on all of them, one child per definition under the
reader's own caps, and prints per family: how many were read, refused, stopped by the time or the
memory cap, and crashed (an internal error; the goal is 0), with the seconds and peak memory of the
children that finished. ``--quick`` leaves out the rehearsal (the test's first stage).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derive.limits import run_each  # noqa: E402
from derive.read.latex import DEFINITION_MEMORY, DEFINITION_SECONDS  # noqa: E402
from tests.definition_corpus import (
    FAMILIES,
    labelled_definitions,
    outcome_of,
    read_fully,
    read_quickly,
)  # noqa: E402

COLUMNS = ("read", "refused", "time cap", "memory cap", "internal")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="parse and derive only, no rehearsal")
    args = parser.parse_args()
    items = labelled_definitions(args.count)
    read = read_quickly if args.quick else read_fully
    workers = os.cpu_count() or 1
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    seconds: dict[str, list[float]] = defaultdict(list)
    peak_kib = 0
    crashes = []
    start = time.monotonic()
    for index, ok, value in run_each(
        read,
        [(kind, text) for _, kind, text in items],
        workers,
        seconds=DEFINITION_SECONDS,
        memory=DEFINITION_MEMORY,
        what="deriving the definition",
    ):
        family, kind, text = items[index]
        outcome = outcome_of(value)
        counts[(family, kind)][outcome] += 1
        if outcome == "internal":
            crashes.append((kind, text, str(value)))
            print(f"INTERNAL {kind}: {text}\n    {value}", flush=True)
        if ok:
            seconds[outcome].append(value[2])
            peak_kib = max(peak_kib, value[3])
        done = sum(sum(row.values()) for row in counts.values())
        if done % 500 == 0:
            print(
                f"... {done:,} done in {time.monotonic() - start:.0f} s, {len(crashes)} internal",
                flush=True,
            )
    wall = time.monotonic() - start
    print(
        f"{len(items):,} definitions, {'parse and derive' if args.quick else 'full reading with rehearsal'}, "
        f"{workers} workers, caps {DEFINITION_SECONDS:g} s and {DEFINITION_MEMORY // 2**20} MiB; {wall:.0f} s"
    )
    print(f"{'family':<10} {'kind':<11}" + "".join(f"{c:>11}" for c in COLUMNS))
    for family in FAMILIES:
        for kind in ("activation", "cost"):
            row = counts.get((family, kind))
            if row:
                print(f"{family:<10} {kind:<11}" + "".join(f"{row[c]:>11,}" for c in COLUMNS))
    total = {c: sum(row[c] for row in counts.values()) for c in COLUMNS}
    print(f"{'all':<22}" + "".join(f"{total[c]:>11,}" for c in COLUMNS))
    for outcome, times in sorted(seconds.items()):
        times.sort()
        print(
            f"{outcome}: median {statistics.median(times):.2f} s, 95th percentile "
            f"{times[int(0.95 * (len(times) - 1))]:.2f} s, max {times[-1]:.2f} s"
        )
    print(
        f"peak resident size of a finished child: {peak_kib / 1024:.0f} MiB (the parent's pages included)"
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
