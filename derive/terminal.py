"""Plain-text renderer: a derivation's blocks and steps, readable in a terminal."""
from __future__ import annotations

import textwrap
from typing import Iterable

from .derivation import Derivation
from .printing import text
from .steps import Block


def render_blocks(blocks: Iterable[Block], derivation: Derivation, width: int = 100) -> str:
    """Each block as a titled list of numbered equalities with rule and reason under each."""
    notation = derivation.network.notation
    titles = {b.key: b.title for b in derivation.blocks}
    out: list[str] = []
    for block in blocks:
        out += ["", block.title, "-" * len(block.title)]
        previous_lhs = None
        for number, step in enumerate(block.steps, 1):
            rhs = text(step.rhs, notation)
            if step.lhs == previous_lhs:
                lead = " " * len(f"({number}) {text(step.lhs, notation)}") + " = "
                line = f"({number})".ljust(len(f"({number}) ")) + lead[len(f"({number}) "):] + rhs
            else:
                line = f"({number}) {text(step.lhs, notation)} = {rhs}"
            previous_lhs = step.lhs
            out.append(line)
            reason = f"{step.rule.title}: {step.text}"
            if step.refs:
                reason += " (see: " + "; ".join(titles.get(r, r) for r in step.refs) + ")"
            out += textwrap.wrap(reason, width=width, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(out).lstrip("\n")


def render_steps(derivation: Derivation, layer: int | None = None, width: int = 100) -> str:
    """The steps leading to one layer's gradient (or every layer's), with a header line."""
    net = derivation.network
    blocks = derivation.blocks_for(layer) if layer is not None else derivation.blocks
    header = f"Network {net.describe()}: L = {net.L}, j in layer l, k in layer l-1, i in layer l+1"
    return header + "\n" + render_blocks(blocks, derivation, width)
