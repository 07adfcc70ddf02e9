"""The derivation as it unfolds: one frame per step, for slides and the web page.

A frame shows a block's lines up to its step: the new line last, the factor being derived
highlighted, the reason for the speaker, and the part of the network the step speaks of (the
weight, the node, the downstream nodes summed over). Slides (Beamer overlays) and the HTML page
render the same frames; nothing here is specific to either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import sympy as sp

from derive.model.steps import AVERAGE, COST, FORWARD, SUMMARY, UPDATE, Block, BlockKey, Part, Step
from derive.notation.printing import Highlight
from derive.render.lines import Line, block_lines, label, tex

if TYPE_CHECKING:
    from derive.engine.derivation import Derivation
    from derive.model.network import Network

Node = tuple[int, int]  # (layer, node), as drawn


@dataclass(frozen=True)
class Light:
    """The part of the network drawing a step speaks of: nodes and the edges (weights) between them."""

    nodes: frozenset[Node] = frozenset()
    edges: frozenset[tuple[Node, Node]] = frozenset()

    def __or__(self, other: "Light") -> "Light":
        return Light(self.nodes | other.nodes, self.edges | other.edges)


@dataclass(frozen=True)
class FlowLine(Line):
    """One line of a block as a frame shows it; ``lhs``/``rhs`` carry the frame's highlight."""

    highlighted: bool = False  # this frame marks a factor in this line


@dataclass(frozen=True)
class Frame:
    """A block's lines 1..n at step n: the newest line is ``lines[-1]``."""

    block: BlockKey
    block_label: str
    block_title: str
    step: int  # 1-based
    steps: int  # how many steps the block has
    lines: tuple[FlowLine, ...]
    light: Light
    note: str  # the reason, for speaker notes: "chain rule: ..."

    @property
    def new(self) -> FlowLine:
        return self.lines[-1]


def sheet_order(derivation: "Derivation") -> tuple[Block, ...]:
    """The blocks in the order the sheet presents them: forward, cost, activations, output layer,
    hidden layers from the top, summary, weight changes, the cost over samples."""
    net = derivation.network
    keys = [
        FORWARD,
        COST,
        *(b.key for b in derivation.blocks if b.key.part is Part.ACTIVATION),
        *(BlockKey.layer(layer) for layer in range(net.L, 0, -1)),
        SUMMARY,
        UPDATE,
        AVERAGE,
    ]
    return tuple(derivation.block(key) for key in keys)


def frames(derivation: "Derivation", blocks: Iterable[Block] | None = None) -> tuple[Frame, ...]:
    """Every step of ``blocks`` (default: all, in sheet order) as a frame."""
    titles, net = derivation.titles, derivation.network
    out: list[Frame] = []
    for block in sheet_order(derivation) if blocks is None else blocks:
        lines = block_lines(block, net.notation, titles)
        out += [block_frame(net, block, n, titles, lines) for n in range(1, len(block.steps) + 1)]
    return tuple(out)


def block_frame(
    net: "Network",
    block: Block,
    n: int,
    titles: Mapping[BlockKey, str],
    lines: Sequence[Line] | None = None,
) -> Frame:
    """The frame of ``block`` at its step ``n``; ``lines``: the block's lines, when made already."""
    steps = block.steps[:n]
    if lines is None:
        lines = block_lines(block, net.notation, titles)
    marks = _marks(steps)
    lines = tuple(
        _flow_line(line, step, marks.get(number, ((), ())), net)
        for number, (line, step) in enumerate(zip(lines[:n], steps))
    )
    new = steps[-1]
    return Frame(
        block.key,
        label(block.key),
        block.title,
        n,
        len(block.steps),
        tuple(lines),
        step_light(net, block.key, new),
        f"{new.rule.title}: {lines[-1].text}",
    )


def _flow_line(
    line: Line, step: Step, mark: tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]], net: "Network"
) -> FlowLine:
    """``line`` in a frame: the sides printed again with the factors ``mark`` highlights (lhs, rhs)."""
    lhs_mark, rhs_mark = mark
    if not (lhs_mark or rhs_mark):
        return line.widened(FlowLine)
    nt = net.notation
    return line.widened(
        FlowLine,
        lhs=tex(_marked(step.lhs, lhs_mark), nt),
        rhs=tex(_marked(step.rhs, rhs_mark), nt),
        highlighted=True,
    )


# Which factor is being derived -------------------------------------------------------------------
def _marks(steps: tuple[Step, ...]) -> dict[int, tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]]:
    """Per line index, the subexpressions to highlight on its (lhs, rhs) at the last step.

    A new left-hand side that is a factor of an earlier line (dC/da in dC/dw = dC/da da/dz dz/dw)
    is marked there and on the new line; a continued line marks the factors it changed."""
    last = len(steps) - 1
    new = steps[last]
    if last == 0:
        return {}
    previous = steps[last - 1]
    if new.lhs == previous.lhs:
        changed = _changed_factors(previous.rhs, new.rhs)
        return {last: ((), changed)} if changed else {}
    for index in range(last - 1, -1, -1):
        if _factors(steps[index].rhs).count(new.lhs) or steps[index].rhs == new.lhs:
            return {index: ((), (new.lhs,)), last: ((new.lhs,), ())}
    return _uses(steps)


def _uses(steps: tuple[Step, ...]) -> dict[int, tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]]:
    """A new line whose right side uses a quantity an earlier line named (dC/dw = delta_j a_k after
    delta_j = ...): the quantity marked there, where its left side is printed first, and here."""
    last = len(steps) - 1
    new = steps[last]
    if isinstance(new.lhs, sp.MatrixExpr) or isinstance(new.rhs, sp.MatrixExpr):
        return {}  # the summary: products of matrices are not rebuilt
    used = [f for f in _factors(new.rhs) if f != new.lhs]
    marks: dict[int, tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]] = {}
    for quantity in dict.fromkeys(used):
        index = next((i for i in range(last) if steps[i].lhs == quantity), None)
        if index is not None:
            marks[index] = ((*marks.get(index, ((), ()))[0], quantity), ())
    if marks:
        marks[last] = ((), tuple(quantity for index in marks for quantity in marks[index][0]))
    return marks


def _factors(expr: sp.Expr) -> list[sp.Expr]:
    return list(expr.args) if isinstance(expr, sp.Mul) else [expr]


def _changed_factors(before: sp.Expr, after: sp.Expr) -> tuple[sp.Expr, ...]:
    """The factors of ``after`` that ``before`` does not have, when some are kept (else nothing)."""
    old, new = _factors(before), _factors(after)
    changed = tuple(f for f in new if f not in old)
    return changed if changed and len(changed) < len(new) else ()


def _marked(expr: sp.Expr, marks: tuple[sp.Expr, ...]) -> sp.Expr:
    """``expr`` with each factor (or the whole) in ``marks`` wrapped in Highlight, nothing re-evaluated."""
    if not marks:
        return expr
    if expr in marks:
        return Highlight(expr)
    if isinstance(expr, sp.Mul):
        return sp.Mul(*(Highlight(f) if f in marks else f for f in expr.args), evaluate=False)
    return expr


# Which part of the network a step speaks of -------------------------------------------------------
def step_light(net: "Network", key: BlockKey, step: Step) -> Light:
    """The nodes and weights a step's quantities name, in the drawn network: index j is node 0 of
    its layer, k node 0 of the layer before, any other index (the downstream letter, a summation
    index) every node of its layer."""
    if isinstance(step.lhs, sp.MatrixExpr) or isinstance(step.rhs, sp.MatrixExpr):
        return Light()
    s = net.symbols
    lights = Light()
    for quantity in sorted((step.lhs.atoms(sp.Indexed) | step.rhs.atoms(sp.Indexed)), key=str):
        lights = lights | _quantity_light(net, quantity, s)
    return lights


def _quantity_light(net: "Network", quantity: sp.Indexed, s) -> Light:
    base, indices = quantity.base, quantity.indices
    if base in (s.w, s.dw) and len(indices) == 3:
        layer = _layer(indices[0], net)
        if layer is None or not 1 <= layer <= net.L:
            return Light()
        heads, tails = _nodes(net, layer, indices[1], s), _nodes(net, layer - 1, indices[2], s)
        return Light(frozenset(heads + tails), frozenset((t, h) for t in tails for h in heads))
    if base in (s.a, s.z, s.delta, s.b, s.db) and len(indices) == 2:
        layer = _layer(indices[0], net)
        if layer is None or not 0 <= layer <= net.L:
            return Light()
        return Light(frozenset(_nodes(net, layer, indices[1], s)))
    if base == s.x and len(indices) == 1:
        return Light(frozenset(_nodes(net, 0, indices[0], s)))
    if base == s.y and len(indices) == 1:
        return Light(frozenset(_nodes(net, net.L, indices[0], s)))
    return Light()


def _layer(index: sp.Expr, net: "Network") -> int | None:
    return int(index) if index.is_Integer else None


def _nodes(net: "Network", layer: int, index: sp.Expr, s) -> list[Node]:
    if index.is_Integer:
        return [(layer, int(index))] if 0 <= int(index) < net.size(layer) else []
    if index in (s.j, s.k):
        return [(layer, 0)]
    return [(layer, node) for node in range(net.size(layer))]
