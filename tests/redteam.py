"""What the red-team tests try, surface by surface, for the README's table.

Each red-team test module lists its surfaces as ``REDTEAM = [Surface(...), ...]`` with ``cases``
computed from its own corpus (``len(CASES)``), never typed in; tests/test_redteam_table.py
checks that the README's table is the table these give (``python tests/test_redteam_table.py
--write`` rewrites it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Surface:
    """One surface an attacker or a careless user reaches, what was tried there, and what holds."""

    surface: str  # where: "grades.csv cells", "activation definitions", "slide titles"
    tried: str  # what kind of input, in a few words
    cases: int  # how many hand-written (or generated) cases the tests run: len() of the corpus
    limit: str  # the bound that applies ("20 s, 1.5 GiB"), or "" when none is needed
    holds: str  # what the tests prove ("0 formulas reach the file; numbers stay numbers")
