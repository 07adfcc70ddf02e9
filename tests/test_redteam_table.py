"""The README's red-team table is the one the red-team tests' own REDTEAM lists give.

Every tests/test_*.py that defines ``REDTEAM = [Surface(...), ...]`` (tests/redteam.py) contributes
its rows, with the case counts its corpora have. ``python tests/test_redteam_table.py --write``
rewrites the table in the README after a corpus changes.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.redteam import Surface  # noqa: E402

README = ROOT / "README.md"
BEGIN, END = (
    "<!-- red-team table: python tests/test_redteam_table.py --write -->",
    "<!-- end of red-team table -->",
)


def modules() -> list[str]:
    """The test modules that declare red-team surfaces, in name order."""
    return sorted(
        path.stem
        for path in (ROOT / "tests").glob("test_*.py")
        if re.search(r"^REDTEAM = \[", path.read_text(encoding="utf-8"), re.MULTILINE)
    )


def surfaces() -> list[tuple[str, Surface]]:
    found = []
    for name in modules():
        module = importlib.import_module(f"tests.{name}")
        found += [(name, surface) for surface in module.REDTEAM]
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def table() -> str:
    rows = [
        "| surface | what is tried | cases | limit | what holds | test |",
        "|---|---|---:|---|---|---|",
    ]
    for name, s in surfaces():
        rows.append(
            f"| {_cell(s.surface)} | {_cell(s.tried)} | {s.cases:,} | {_cell(s.limit) or '—'} | "
            f"{_cell(s.holds)} | `tests/{name}.py` |"
        )
    return "\n".join(rows)


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def test_every_red_team_module_declares_surfaces_with_cases():
    found = surfaces()
    assert len({name for name, _ in found}) >= 8
    for name, surface in found:
        assert isinstance(surface, Surface) and surface.cases > 0, (name, surface)
        assert surface.surface and surface.tried and surface.holds, (name, surface)


def test_the_readme_table_is_the_tests_own():
    assert readme_table() == table(), "run: python tests/test_redteam_table.py --write"


def write() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + "\n" + table() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    print(table())
