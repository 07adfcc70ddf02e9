"""The printed line of a step, one view model for every renderer.

A ``Line`` is a step as a reader sees it in one notation: both sides printed, the rule's title,
the reason worded, the references as (title, label), the equation's label (BP1), and whether it
has the left-hand side of the line before (then a renderer prints only "= rhs"). ``step_lines``
makes them once per block; the sheet, the slides, the web page, the frames, the terminal and
Jupyter only lay them out. Renderer-specific extras live on small subclasses (``FlowLine``,
``PageLine``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Mapping, NamedTuple, Sequence, TypeVar

import sympy as sp

from derive.model.steps import Block, BlockKey, Step
from derive.notation.letters import Notation
from derive.notation.printing import latex
from derive.render.reasons import Worded, word, worded
from derive.render.tex import Tex, reason_tex

#: How a line's sides are printed: LaTeX (``tex``) or Unicode text (``derive.notation.printing.text``).
Printer = Callable[[sp.Basic, Notation], str]
L = TypeVar("L", bound="Line")


class Ref(NamedTuple):
    """A block a line uses: its title, and the label it carries in documents (``blk:layer-2``)."""

    title: str
    label: str


def label(key: BlockKey) -> str:
    """A block's label in the sheet, the slides and the page: ``blk:`` and its key, TeX- and CSS-safe."""
    return "blk:" + "".join(ch if ch.isalnum() else "-" for ch in str(key))


def tex(expr: sp.Basic, notation: Notation) -> Tex:
    """The LaTeX printer, as trusted ``Tex``."""
    return Tex(latex(expr, notation))


@dataclass(frozen=True)
class Line:
    """One step as printed: ``lhs = rhs``, its rule and reason (a plain string is taken as words)."""

    number: int  # 1-based, within its block
    lhs: str  # Tex with the LaTeX printer
    rhs: str
    continued: bool  # the same left-hand side as the line before: print "= rhs" only
    rule: str
    reason: Worded
    refs: tuple[Ref, ...] = ()  # the blocks whose results the step uses
    tag: str | None = (
        None  # the equation's label in the notation (BP1), printed at the right margin
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", worded(self.reason))

    @property
    def text(self) -> str:
        """The reason as one line of plain text."""
        return self.reason.text

    @property
    def why(self) -> Tex:
        """The reason as LaTeX for text mode: formulas set as math."""
        return reason_tex(self.reason)

    def widened(self, kind: type[L], **extra: object) -> L:
        """This line as a ``kind`` (a subclass adding fields), with ``extra`` for those fields (or others)."""
        return kind(**{**{f.name: getattr(self, f.name) for f in fields(Line)}, **extra})


def step_lines(
    steps: Sequence[Step],
    notation: Notation,
    titles: Mapping[BlockKey, str] | None = None,
    printer: Printer = tex,
) -> tuple[Line, ...]:
    """``steps`` (a block's, or any run of steps) as lines in ``notation``; ``titles`` names the blocks
    the steps use (a block missing from it is named by its key)."""
    titles = titles or {}
    lines, previous = [], None
    for number, step in enumerate(steps, 1):
        refs = tuple(Ref(titles.get(key, str(key)), label(key)) for key in step.refs)
        lines.append(
            Line(
                number,
                printer(step.lhs, notation),
                printer(step.rhs, notation),
                step.lhs == previous,
                step.rule.title,
                word(step.reason, notation),
                refs,
                step.tag(notation),
            )
        )
        previous = step.lhs
    return tuple(lines)


def block_lines(
    block: Block,
    notation: Notation,
    titles: Mapping[BlockKey, str] | None = None,
    printer: Printer = tex,
) -> tuple[Line, ...]:
    """A block's steps as lines (``step_lines``)."""
    return step_lines(block.steps, notation, titles, printer)
