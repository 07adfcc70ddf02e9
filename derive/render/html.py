"""The web page's data: the derivation's frames, the network as SVG coordinates, what each step lights.

Everything here is plain data for ``derive/templates/page.html.j2``: math as ``Tex`` (typeset in the
browser), sentences and titles as ``str`` (escaped by the template). The lines and the lights come
from ``derive.render.flow.frames``, the same steps as the sheet's and the slides'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from derive.model.steps import AVERAGE, BlockKey, Rule, Step, as_reason
from derive.numeric.worked import Stage
from derive.render.flow import Frame, Light, frames, sheet_order, step_light
from derive.render.latex import Tex, network_drawing, render_block, worked_tables
from derive.render.lines import Line
from derive.render.reasons import worded

if TYPE_CHECKING:
    from derive.engine.derivation import Derivation
    from derive.model.network import Network
    from derive.numeric.worked import WorkedExample

SCALE = 50.0  # px of the drawing per unit of network_drawing's coordinates
RADIUS = 0.46  # a node's radius, in those units
PAD = 0.75  # around the drawing, in those units
LABEL_PX = 13.0  # a node label's font size at the drawing's natural width
FLAT = 2.6  # width / height beyond which the drawing goes above the steps on a wide screen
EXAMPLE_LABEL = "blk:example"
EXAMPLE_KEY = AVERAGE  # step_light reads only the step's quantities; the key is not used for lights
EXAMPLE_TITLE = "Worked example with numbers"
EXAMPLE_MAX_LINES = 240  # a big network's example: the first lines only, with a note


@dataclass(frozen=True)
class Mark:
    """A line as page step ``step`` shows it: the factor being derived highlighted."""

    step: int  # 0-based index of the page step
    lhs: str  # Tex
    rhs: str


@dataclass(frozen=True)
class PageLine(Line):
    """One line of a block: ``lhs = rhs`` (``rhs`` may chain more "= ..."), its rule and reason (KaTeX
    typesets each formula of it), and the variants the page's steps show it in."""

    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class PageBlock:
    label: str  # "blk:layer-2", as the sheet's \label
    title: str
    lines: tuple[PageLine, ...]
    note: str | None = None

    @property
    def anchor(self) -> str:
        """The element id: the label with ':' made '-' (no escaping needed in CSS or URLs)."""
        return anchor(self.label)


@dataclass(frozen=True)
class PageStep:
    """Step ``step`` of ``steps`` of a block: its lines 1..step are shown; nodes and edges lit."""

    block: str
    step: int
    steps: int
    nodes: tuple[str, ...]
    edges: tuple[str, ...]

    def data(self) -> dict:
        return {
            "block": anchor(self.block),
            "step": self.step,
            "steps": self.steps,
            "nodes": list(self.nodes),
            "edges": list(self.edges),
        }


@dataclass(frozen=True)
class SvgNode:
    id: str  # "layer-j"
    cx: float
    cy: float
    label: Tex
    left: float  # the label's centre, in % of the drawing's width and height
    top: float


@dataclass(frozen=True)
class SvgEdge:
    id: str  # "layer-1-k:layer-j"
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class SvgDrawing:
    width: float
    height: float
    radius: float
    label_size: float  # cqw: the labels scale with the drawing
    nodes: tuple[SvgNode, ...]
    edges: tuple[SvgEdge, ...]
    dots: tuple[tuple[float, float], ...]
    captions: tuple[tuple[float, float, str], ...]

    @property
    def aspect(self) -> float:
        return round(self.width / self.height, 4)

    @property
    def flat(self) -> bool:
        """A deep network's drawing: wide and low, shown above the steps rather than beside them."""
        return self.aspect > FLAT


@dataclass(frozen=True)
class Page:
    blocks: tuple[PageBlock, ...]
    steps: tuple[PageStep, ...]
    drawing: SvgDrawing


def anchor(label: str) -> str:
    return label.replace(":", "-")


def node_id(node: tuple[int, int]) -> str:
    return f"{node[0]}-{node[1]}"


def edge_id(edge: tuple[tuple[int, int], tuple[int, int]]) -> str:
    return f"{node_id(edge[0])}:{node_id(edge[1])}"


# The network drawing --------------------------------------------------------------------------
_NAME = re.compile(r"n(\d+)x(\d+)")


def _node_place(name: str) -> tuple[int, int]:
    """(layer, j) of a drawn node, named n<layer>x<j>."""
    match = _NAME.fullmatch(name)
    assert match is not None, f"a drawn node is named n<layer>x<j>, not {name}"
    return int(match.group(1)), int(match.group(2))


def svg_drawing(net: "Network") -> SvgDrawing:
    """network_drawing's layout in SVG pixels (y down), every node and edge with its id."""
    drawing = network_drawing(net)
    xs = [n.x for n in drawing.nodes] + [x for x, _ in drawing.dots]
    ys = [n.y for n in drawing.nodes] + [y for _, y in drawing.dots] + [drawing.bottom]
    left, top = min(xs) - PAD, max(ys) + PAD
    width, height = (max(xs) - min(xs) + 2 * PAD) * SCALE, (top - min(ys) + PAD / 2) * SCALE

    def at(x: float, y: float) -> tuple[float, float]:
        return round((x - left) * SCALE, 1), round((top - y) * SCALE, 1)

    nodes, where = [], {}
    for n in drawing.nodes:
        layer, j = _node_place(n.name)
        cx, cy = at(n.x, n.y)
        where[n.name] = (cx, cy, node_id((layer, j)))
        nodes.append(
            SvgNode(
                node_id((layer, j)),
                cx,
                cy,
                n.label,
                round(100 * cx / width, 3),
                round(100 * cy / height, 3),
            )
        )
    edges = tuple(
        SvgEdge(f"{where[a][2]}:{where[b][2]}", where[a][0], where[a][1], where[b][0], where[b][1])
        for a, b in drawing.edges
    )
    captions = tuple((*at(x, drawing.bottom + 0.25), str(text)) for x, text in drawing.layer_labels)
    return SvgDrawing(
        round(width, 1),
        round(height, 1),
        RADIUS * SCALE,
        round(100 * LABEL_PX / width, 3),
        tuple(nodes),
        edges,
        tuple(at(x, y) for x, y in drawing.dots),
        captions,
    )


def lit(light: Light, drawing: SvgDrawing) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ids of the drawn nodes and edges ``light`` names (a wide layer's hidden nodes are not drawn)."""
    drawn_nodes, drawn_edges = {n.id for n in drawing.nodes}, {e.id for e in drawing.edges}
    return (
        tuple(sorted(i for i in map(node_id, light.nodes) if i in drawn_nodes)),
        tuple(sorted(i for i in map(edge_id, light.edges) if i in drawn_edges)),
    )


# The derivation ---------------------------------------------------------------------------------
def derivation_blocks(
    derivation: "Derivation", all_frames: tuple[Frame, ...]
) -> tuple[PageBlock, ...]:
    """Every block in sheet order, its lines as the sheet prints them, with each frame's highlighted
    variants attached to the lines they mark."""
    marks: dict[tuple[BlockKey, int], list[Mark]] = {}
    for index, frame in enumerate(all_frames):
        for line in frame.lines:
            if line.highlighted:
                marks.setdefault((frame.block, line.number), []).append(
                    Mark(index, line.lhs, line.rhs)
                )
    blocks = []
    for block in sheet_order(derivation):
        rendered = render_block(block, derivation)
        lines = tuple(
            line.widened(
                PageLine,
                refs=tuple(ref for ref in line.refs if ref.label != rendered.label),
                marks=tuple(marks.get((block.key, line.number), ())),
            )
            for line in rendered.lines
        )
        blocks.append(PageBlock(rendered.label, rendered.title, lines))
    return tuple(blocks)


def page(net: "Network", example: "WorkedExample | None" = None) -> Page:
    """The page of ``net``'s derivation, and of the worked example when there is one."""
    derivation = net.derivation()
    all_frames = frames(derivation)
    drawing = svg_drawing(net)
    blocks = derivation_blocks(derivation, all_frames)
    steps = [PageStep(f.block_label, f.step, f.steps, *lit(f.light, drawing)) for f in all_frames]
    if example is not None:
        block, lights = example_block(net, example)
        blocks += (block,)
        steps += [
            PageStep(block.label, n, len(block.lines), *lit(light, drawing))
            for n, light in enumerate(lights, 1)
        ]
    return Page(blocks, tuple(steps), drawing)


# The worked example -------------------------------------------------------------------------------
STAGES = {  # (rule, reason) of a calculation, by stage
    Stage.FORWARD: (
        "forward pass",
        "The forward equation at this node: the formula, the numbers put in, the result.",
    ),
    Stage.COST: ("cost", "The cost at the output: the formula, the numbers put in, the result."),
    Stage.BACKWARD: (
        "backward pass",
        "The node's error by the derivation's delta recursion, with the numbers put in.",
    ),
    Stage.GRADIENT: (
        "gradient",
        "The gradient as the derivation found it, with the numbers put in.",
    ),
    Stage.UPDATE: (
        "gradient descent",
        "One step: the parameter moves against its gradient, scaled by the learning rate.",
    ),
}


def example_block(net: "Network", example: "WorkedExample") -> tuple[PageBlock, tuple[Light, ...]]:
    """The worked example as a block of lines, one a step, each lighting the nodes and weights it uses."""
    found = example_lines(net, example)
    shown = found[:EXAMPLE_MAX_LINES]
    note = (
        f"The first {len(shown)} of {len(found)} lines; the sheet's tables have every number."
        if len(found) > len(shown)
        else None
    )
    lines = tuple(
        PageLine(n, lhs, rhs, False, rule, worded(text))
        for n, (lhs, rhs, rule, text, _) in enumerate(shown, 1)
    )
    return PageBlock(EXAMPLE_LABEL, EXAMPLE_TITLE, lines, note), tuple(light for *_, light in shown)


def example_lines(
    net: "Network", example: "WorkedExample"
) -> list[tuple[Tex, Tex, str, str, Light]]:
    """(lhs, rhs, rule, reason, light): the example's inputs and targets, then every calculation of the
    sheet's worked example (``calculation_lines``: formula = numbers put in = result), in the order computed."""
    tables = worked_tables(net, example)
    count = len(example.x)
    places = [(0, k) for k in range(count)] + [(net.L, j) for j in range(len(example.y))]
    lines = [
        (
            symbol,
            value,
            "input" if n < count else "target",
            "The example's input." if n < count else "The example's target output.",
            Light(frozenset({place})),
        )
        for n, ((symbol, value), place) in enumerate(zip(tables.inputs, places))
    ]
    for line, calculation in zip(tables.calculations, example.calculations):
        step = Step(calculation.lhs, calculation.formula, Rule.SUBSTITUTION, as_reason(""))
        lines.append(
            (
                line.lhs,
                Tex(" = ".join(line.members)),
                *STAGES[calculation.stage],
                step_light(net, EXAMPLE_KEY, step),
            )
        )
    return lines
