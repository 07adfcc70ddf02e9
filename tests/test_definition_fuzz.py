"""No activation or cost definition crashes derive, runs past its caps, or outgrows its memory.

5,000 definitions (tests/definition_corpus.py: the built-ins by hand, mutations of them, grammar-built
nested powers, cases, max/min/abs, and token soup) are each parsed and derived in a child limited
like the reader's own (derive.read.latex.DEFINITION_SECONDS and DEFINITION_MEMORY); every 25th is
also rehearsed in full, as ``--activation``/``--cost`` does (bench/definition_fuzz.py rehearses all
5,000). Each outcome must be a reading, a one-line refusal, or a limit's one-line message; never an
internal error.
"""
from __future__ import annotations

import os
import resource
import time

import pytest

from tests.definition_corpus import definitions, read_fully, read_quickly
from derive.limits import InternalError, MemoryLimitExceeded, TimeLimitExceeded, run_each
from derive.read.latex import DEFINITION_MEMORY, DEFINITION_SECONDS
from tests.redteam import Surface

ITEMS = definitions(5000)
REHEARSED = ITEMS[::25]
WORKERS = os.cpu_count() or 1
KIB = 1024

REDTEAM = [Surface(surface="activation and cost definitions", tried="grammar-built nested powers, cases, max/min/abs, "
                   "fractions and logarithms; mutations of the built-ins; token soup", cases=len(ITEMS),
                   limit=f"{DEFINITION_SECONDS:g} s and {DEFINITION_MEMORY // 2 ** 20:,} MiB per definition",
                   holds="0 internal errors reading all and rehearsing every 25th in full; each read, or "
                   "refused in one line, within the caps")]


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // KIB


def _run(read, items):
    """Each item's (outcome, message, seconds, peak growth in KiB) or the exception, and the batch's wall time."""
    start = time.monotonic()
    base = _rss_kib()
    results: dict[int, object] = {}
    for index, ok, value in run_each(read, items, WORKERS, seconds=DEFINITION_SECONDS, memory=DEFINITION_MEMORY,
                                     what="deriving the definition"):
        if ok:
            outcome, message, seconds, peak = value
            value = (outcome, message, seconds, max(0, peak - base))
        results[index] = value
    return results, time.monotonic() - start


def _check(results: dict, items: list, wall: float) -> dict[str, int]:
    crashes = [(items[i], v) for i, v in results.items() if isinstance(v, InternalError)]
    assert not crashes, f"{len(crashes)} internal errors, e.g. {crashes[:3]}"
    assert len(results) == len(items)
    counts = {"read": 0, "refused": 0, "time": 0, "memory": 0}
    budget = 0.0
    for index, value in results.items():
        if isinstance(value, TimeLimitExceeded):
            counts["time"] += 1
            assert str(value) == f"deriving the definition took longer than {DEFINITION_SECONDS:g} s; simplify it"
            budget += DEFINITION_SECONDS
            continue
        if isinstance(value, MemoryLimitExceeded):
            counts["memory"] += 1
            assert "simplify it" in str(value) and "\n" not in str(value)
            budget += DEFINITION_SECONDS
            continue
        assert isinstance(value, tuple), (items[index], value)
        outcome, message, seconds, growth = value
        counts[outcome] += 1
        assert seconds < DEFINITION_SECONDS
        assert growth * KIB < DEFINITION_MEMORY, (items[index], growth)
        if outcome == "refused":
            assert message and "\n" not in message and len(message) <= 400, (items[index], message)
            assert "answer" not in message, (items[index], message)  # a definition is not an answer
        budget += seconds
    # No child outlived its cap: the batch took about what its items took, shared among the workers.
    assert wall <= 1.5 * budget / WORKERS + 60, (wall, budget)
    return counts


def test_five_thousand_definitions_are_read_or_refused_in_one_line():
    assert len({text for _, text in ITEMS}) == len(ITEMS) >= 5000
    results, wall = _run(read_quickly, ITEMS)
    counts = _check(results, ITEMS, wall)
    # The corpus reaches both sides: definitions derive reads, and ones it must refuse.
    assert counts["read"] >= len(ITEMS) // 5 and counts["refused"] >= len(ITEMS) // 5, counts


def test_a_sample_rehearsed_in_full_as_the_commands_do():
    results, wall = _run(read_fully, REHEARSED)
    counts = _check(results, REHEARSED, wall)
    assert counts["read"] >= len(REHEARSED) // 5, counts


@pytest.mark.parametrize("kind, text", [
    ("activation", r"g(z) = \sqrt{\max(\sqrt{-1}, e^{z})}"),
    ("activation", r"g(z) = \min(\exp(z), \min(-\sigma(0.5), \frac{0.5}{\ln(2)}))"),
    ("activation", r"g(z) = \min(e^{-z}, \tanh(\max(-0.5, \ln(1 + e^{\sigma(z)}))))"),
    ("activation", r"g(z) = \ln(\min(e^{z}, \sqrt{\ln(0.01)}))"),
    ("activation", r"g(z) = \max(\sigma(\sigma(\sigma(z))), (-e^{-z})^{\frac{1}{2}})"),
    ("cost", r"C_0 = \sum_j \ln(-1) a_j^{(L)}"),
    ("cost", r"C_0 = \sum_j \frac{a_j^{(L)}}{0}"),
])
def test_definitions_the_fuzz_found_crashing_are_refused(kind, text):
    """Each of these once ended in "internal error" (SymPy's TypeError, ValueError, KeyError or RecursionError);
    each has an imaginary or infinite constant, or a max/min SymPy cannot order."""
    outcome, message, _, _ = read_quickly((kind, text))
    assert outcome == "refused" and message and "\n" not in message


def test_a_kink_where_the_derivative_is_infinite_is_read():
    """e^{min(2/sqrt(z), 1)} once crashed evaluating the derivative at its kink (SymPy's ValueError on zoo)."""
    text = r"g(z) = e^{\min(\frac{(z)^{\frac{1}{2}}}{z \cdot 0.5}, 1 - 2 + |2|)}"
    outcome, _, _, _ = read_quickly(("activation", text))  # an internal error would raise here
    assert outcome in ("read", "refused")


@pytest.mark.parametrize("kind, text, outcome", [
    ("activation", r"g(z) = \frac{\ln(-1 \cdot -1)}{e^{z}}", "read"),  # constant 0: the code returned a float
    ("activation", r"g(z) = -\begin{cases} \tanh(-0.5) & z > 0 \\ \left|-1\right| & z \le 0 \end{cases}", "read"),
    ("cost", r"C_0 = 2\sum_j \sigma(\max(\ln(1 + e^{a_j^{(L)}}), \sigma((a_j^{(L)} - y_j))))", "read"),  # σ'(u)
    ("cost", r"C_0 = \sum_j |a_j^{(L)} - y_j|", "read"),  # SymPy's re/im derivative of |u| for complex symbols
    ("activation", r"g(z) = e^{\sqrt{e^{|z|}}}", "refused"),  # three layers of it: millions of digits
    ("activation", r"g(z) = \max(|\sqrt{z}|, z \cdot 1)", "refused"),  # |u| real, but u >= 0 undecidable
    ("activation", r"g(z) = |\ln(\tanh(z \cdot -1))|", "refused"),
])
def test_definitions_the_rehearsal_found_crashing(kind, text, outcome):
    """Each once ended in "internal error" in the full reading: the generated code, the check's evaluator."""
    got, message, _, _ = read_fully((kind, text))
    assert got == outcome, message
