"""The computational graph drawn: one layout (leaves on the left, the loss on the right, columns by
depth) and two renderers of it, TikZ for the LaTeX documents and SVG for HTML.

Each node shows its operation and equation (inside), its forward value (above) and the derivative of
the cost with respect to it, the upstream gradient (below, in the highlight colour); each edge carries
the local gradient of the node it enters with respect to the node it leaves, symbolic and its value.
Every label is made here from the graph's data: TeX by derive's printers, SVG text escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from derive.notation.printing import latex, text
from derive.numeric.graph import ComputationalGraph, Edge, Op, OpNode
from derive.render.latex import Tex, escape, number

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.notation.letters import Notation

ROW_SPACING = 2.0  # cm between nodes of a column (room for the value above and the gradient below)
CHAR_WIDTH = 0.16  # cm per character of a label, roughly, at the picture's size
MIN_GAP = 1.6  # cm between columns, at least
SVG_SCALE = 48  # px per cm
HIGHLIGHT = "#b22222"  # the sheets' highlight colour (RGB 178, 34, 34)

OPERATION_WORDS = {
    Op.INPUT: "input",
    Op.PARAMETER: "parameter",
    Op.TARGET: "target",
    Op.MULTIPLY: "multiply",
    Op.ADD: "add",
    Op.SUBTRACT: "subtract",
    Op.SQUARE: "square",
    Op.POWER: "power",
    Op.SCALE: "scale",
    Op.NEGATE: "negate",
    Op.LOG: "log",
    Op.EXP: "exp",
    Op.FUNCTION: "function",
}


def operation_word(node: OpNode) -> str:
    """What a node does, in a word or two: 'multiply', 'activation sigmoid', 'parameter'."""
    if node.op is Op.ACTIVATION:
        return f"activation {node.activation}" if node.activation else "activation"
    return OPERATION_WORDS[node.op]


@dataclass(frozen=True)
class PlacedNode:
    """A node at (x, y) in cm; ``width`` is an estimate of its box's width."""

    node: OpNode
    x: float
    y: float
    column: int
    width: float


@dataclass(frozen=True)
class PlacedEdge:
    """An edge; its label sits at ``label_pos`` (0 at the source's box, 1 at the target's), in the gap
    just before the target, so that an edge over several columns does not put it on a box between."""

    source: str
    target: str
    edge: Edge
    label_pos: float = 0.5


@dataclass(frozen=True)
class GraphLayout:
    graph: ComputationalGraph
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]

    def placed(self, node_id: str) -> PlacedNode:
        return next(p for p in self.nodes if p.node.id == node_id)

    @property
    def notation(self) -> "Notation":
        return self.graph.notation


# Plain text (SVG) ---------------------------------------------------------------------------------
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()-+L", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁺ᴸ")


def plain(expr: sp.Expr, notation: "Notation") -> str:
    """An expression as Unicode text: w₀₀⁽¹⁾·x₀, s², σ(z₀⁽¹⁾), ln(a₀⁽¹⁾)."""
    out = text(expr, notation)
    out = re.sub(r"\^\(([0-9L+-]+)\)", lambda m: m.group(1).join("()").translate(_SUP), out)
    out = re.sub(r"_([0-9]+)", lambda m: m.group(1).translate(_SUB), out)
    out = re.sub(r"\^([0-9]+)", lambda m: m.group(1).translate(_SUP), out)
    out = re.sub(r"\blog\(", "ln(", out)
    return out.replace(" - ", " − ").replace("-", "−")


def plain_number(value: sp.Expr | None, digits: int = 6) -> str:
    """A number as Unicode text, as ``derive.render.latex.number`` writes it in TeX: −0.5, 1.2×10⁻⁷."""
    if value is None:
        return "–"
    tex = str(number(value, digits))
    match = re.fullmatch(r"(?:(.*)\\times )?10\^\{(-?\d+)\}", tex)
    if match:
        mantissa, exponent = match.groups()
        tex = (f"{mantissa}×" if mantissa else "") + "10" + exponent.translate(_SUP)
    return tex.replace("-", "−")


def _value_tex(value: sp.Expr, net: "Network", digits: int) -> Tex:
    value = sp.sympify(value)
    return Tex(latex(value, net.notation)) if value.free_symbols else number(value, digits)


def _value_text(value: sp.Expr, notation: "Notation", digits: int) -> str:
    value = sp.sympify(value)
    return plain(value, notation) if value.free_symbols else plain_number(value, digits)


def _equation_text(node: OpNode, notation: "Notation") -> str:
    if node.op.leaf:
        return plain(node.symbol, notation)
    return f"{plain(node.symbol, notation)} = {plain(node.expression, notation)}"


def _local_lines(edge: Edge, notation: "Notation", digits: int = 4) -> tuple[str, ...]:
    """The local gradient on an edge as text: ('2·s', '= −2'), or ('1',) when the formula is a number."""
    value = _value_text(edge.local, notation, digits)
    formula = plain(edge.formula, notation)
    return (
        (value,)
        if formula == value or sp.sympify(edge.formula).is_Number
        else (formula, f"= {value}")
    )


def _local_text(edge: Edge, notation: "Notation", digits: int = 4) -> str:
    return " ".join(_local_lines(edge, notation, digits))


_SMALL = set("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁺ᴸ")


def _visual_length(label: str) -> float:
    """A label's width in characters, sub- and superscripts counting about half."""
    return sum(0.55 if ch in _SMALL else 1.0 for ch in label)


# Layout -------------------------------------------------------------------------------------------
def graph_layout(graph: ComputationalGraph) -> GraphLayout:
    """Columns by depth (the loss rightmost, one column right of its deepest input; every other node just
    left of its first consumer), rows ordered to keep edges short, x from the labels' widths."""
    nodes = graph.nodes
    depth: dict[str, int] = {}
    for n in nodes:
        depth[n.id] = 0 if n.op.leaf else 1 + max((depth[i] for i in n.inputs), default=0)
    for n in reversed(nodes):  # then each node as far right as its consumers allow: short edges
        consumers = [depth[c.id] for c in graph.consumers(n.id)]
        if consumers:
            depth[n.id] = min(consumers) - 1
    columns = max(depth.values()) + 1
    neighbours: dict[str, list[str]] = {n.id: list(n.inputs) for n in nodes}
    for n in nodes:
        for i in n.inputs:
            neighbours[i].append(n.id)
    position = {n.id: float(index) for index, n in enumerate(nodes)}
    by_column = [[n.id for n in nodes if depth[n.id] == c] for c in range(columns)]
    for sweep in range(6):  # barycentre ordering, alternately from the left and from the right
        order = range(columns) if sweep % 2 == 0 else range(columns - 1, -1, -1)
        for c in order:
            column = by_column[c]
            mean = {
                i: (
                    sum(position[k] for k in neighbours[i]) / len(neighbours[i])
                    if neighbours[i]
                    else position[i]
                )
                for i in column
            }
            column.sort(key=lambda i: (mean[i], position[i]))
            for row, i in enumerate(column):
                position[i] = row - (len(column) - 1) / 2
    notation = graph.notation
    widths = {
        n.id: max(_visual_length(_equation_text(n, notation)), 0.8 * len(operation_word(n)))
        * CHAR_WIDTH
        + 0.4
        for n in nodes
    }
    column_width = [max(widths[i] for i in column) if column else 0.0 for column in by_column]
    gaps = [MIN_GAP] * columns
    for n in nodes:
        for e in n.edges:
            label = max(_visual_length(line) for line in _local_lines(e, notation))
            gaps[depth[n.id]] = max(gaps[depth[n.id]], label * CHAR_WIDTH * 0.8 + 0.5)
    xs, x = [], 0.0
    for c in range(columns):
        if c:
            x += column_width[c - 1] / 2 + gaps[c] + column_width[c] / 2
        xs.append(x)
    placed = tuple(
        PlacedNode(n, xs[depth[n.id]], -position[n.id] * ROW_SPACING, depth[n.id], widths[n.id])
        for n in nodes
    )
    where = {p.node.id: p for p in placed}
    edges = []
    for n in nodes:
        for e in n.edges:
            start = where[e.source].x + where[e.source].width / 2
            end = where[n.id].x - where[n.id].width / 2
            label_x = end - gaps[depth[n.id]] / 2
            pos = 0.5 if end <= start else min(max((label_x - start) / (end - start), 0.0), 1.0)
            edges.append(PlacedEdge(e.source, n.id, e, pos))
    return GraphLayout(graph, placed, tuple(edges))


# TikZ ---------------------------------------------------------------------------------------------
def _tex_label(node: OpNode, net: "Network") -> Tex:
    symbol = latex(node.symbol, net.notation)
    if node.op.leaf:
        return Tex(symbol)
    return Tex(f"{symbol} = {latex(node.expression, net.notation)}")


def local_gradient_tex(edge: Edge, net: "Network", digits: int = 4) -> Tex:
    """The local gradient on an edge: '2 s = -2', or just '1' when the formula is a number."""
    value = _value_tex(edge.local, net, digits)
    if sp.sympify(edge.formula).is_Number:
        return value
    return Tex(f"{latex(edge.formula, net.notation)} = {value}")


def _local_picture_tex(edge: Edge, net: "Network") -> Tex:
    """The edge's label in the picture: the formula over '= value' (two short lines, not one long one)."""
    value = _value_tex(edge.local, net, 4)
    if sp.sympify(edge.formula).is_Number:
        return Tex(f"${value}$")
    return Tex(f"${latex(edge.formula, net.notation)}$" + r"\\" + f"$= {value}$")


def graph_tikz(layout: GraphLayout, net: "Network") -> Tex:
    """The picture as a tikzpicture environment. It needs TikZ and the colours ``highlight`` and
    ``rulecolor`` (both defined in templates/preamble.tex.j2); wide pictures want scaling to the page
    (the sheet puts one much wider than the text on a landscape page)."""
    lines = [
        r"\begin{tikzpicture}[",
        r"  gnode/.style={draw, thick, rounded corners=3pt, fill=white, align=center, inner sep=3pt},",
        r"  gleaf/.style={draw, thick, fill=black!4, align=center, inner sep=3pt},",
        r"  gedge/.style={->, >=stealth, gray!70, thick},",
        r"  glocal/.style={font=\scriptsize, text=black, fill=white, inner sep=1pt, align=center}]",
    ]
    for p in layout.nodes:
        n = p.node
        style = "gleaf" if n.op.leaf else "gnode"
        value = _value_tex(n.value, net, 4)
        upstream = _value_tex(n.upstream, net, 4)
        lines.append(
            rf"\node[{style}, label={{[font=\small]above:{{${value}$}}}}, "
            rf"label={{[font=\small, text=highlight]below:{{${upstream}$}}}}] ({n.id}) at ({p.x:.2f}, {p.y:.2f}) "
            rf"{{{{\scriptsize\color{{rulecolor}}{escape(operation_word(n))}}}\\ ${_tex_label(n, net)}$}};"
        )
    for e in layout.edges:
        label = _local_picture_tex(e.edge, net)
        lines.append(
            rf"\draw[gedge] ({e.source}) -- node[glocal, pos={e.label_pos:.3f}] {{{label}}} "
            rf"({e.target});"
        )
    lines.append(r"\end{tikzpicture}")
    return Tex("\n".join(lines))


@dataclass(frozen=True)
class GraphRow:
    """One line of the sheet's table of nodes; a node with several inputs continues on further lines."""

    node: Tex
    operation: str
    expression: Tex
    value: Tex
    local: Tex
    upstream: Tex


def graph_rows(graph: ComputationalGraph, net: "Network", digits: int = 6) -> tuple[GraphRow, ...]:
    """The table of nodes: node, operation, expression, value, each local gradient, upstream gradient."""
    rows = []
    nodes = {n.id: n for n in graph.nodes}
    for n in graph.nodes:
        symbol = Tex(latex(n.symbol, net.notation))
        names = " = ".join([symbol] + [latex(a, net.notation) for a in n.aliases])
        expression = Tex("") if n.op.leaf else Tex(latex(n.expression, net.notation))
        locals_ = [
            Tex(
                rf"\partial {symbol}/\partial {latex(nodes[e.source].symbol, net.notation)} = "
                f"{local_gradient_tex(e, net, digits)}"
            )
            for e in n.edges
        ] or [Tex("")]
        for index, local in enumerate(locals_):
            first = index == 0
            rows.append(
                GraphRow(
                    Tex(names) if first else Tex(""),
                    operation_word(n) if first else "",
                    expression if first else Tex(""),
                    _value_tex(n.value, net, digits) if first else Tex(""),
                    local,
                    _value_tex(n.upstream, net, digits) if first else Tex(""),
                )
            )
    return tuple(rows)


# SVG ----------------------------------------------------------------------------------------------
def graph_svg(layout: GraphLayout) -> str:
    """The picture as a standalone SVG element; every text escaped with html.escape."""
    notation = layout.notation
    k = SVG_SCALE
    box_h = 0.95 * k
    xs = [p.x for p in layout.nodes]
    ys = [-p.y for p in layout.nodes]
    half_w = {p.node.id: p.width * k / 2 for p in layout.nodes}
    left = min(x * k - half_w[p.node.id] for x, p in zip(xs, layout.nodes)) - 20
    right = max(x * k + half_w[p.node.id] for x, p in zip(xs, layout.nodes)) + 20
    top, bottom = min(ys) * k - box_h / 2 - 30, max(ys) * k + box_h / 2 + 30
    width, height = right - left, bottom - top

    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="derive-graph" viewBox="{left:.1f} {top:.1f} '
        f'{width:.1f} {height:.1f}" width="{width:.0f}" height="{height:.0f}" '
        'font-family="sans-serif" font-size="13" role="img">',
        "<title>The computational graph: forward values above the nodes, the derivative of the cost "
        "with respect to each node below, local gradients on the edges</title>",
        '<defs><marker id="derive-graph-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#888"/>'
        "</marker></defs>",
    ]
    centre = {p.node.id: (p.x * k, -p.y * k) for p in layout.nodes}
    for e in layout.edges:
        (x1, y1), (x2, y2) = centre[e.source], centre[e.target]
        x1 += half_w[e.source]
        x2 -= half_w[e.target]
        out.append(
            f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#888" '
            'stroke-width="1.5" marker-end="url(#derive-graph-arrow)"/>'
        )
    for e in layout.edges:
        (x1, y1), (x2, y2) = centre[e.source], centre[e.target]
        sx, tx = x1 + half_w[e.source], x2 - half_w[e.target]
        mx = sx + (tx - sx) * e.label_pos
        my = y1 + (y2 - y1) * e.label_pos - 4
        lines = _local_lines(e.edge, notation)  # the formula over '= value', as in the TikZ picture
        spans = "".join(
            f'<tspan x="{mx:.1f}" dy="{0 if i == 0 else 12}">{esc(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        out.append(
            f'<text class="local" x="{mx:.1f}" y="{my - 12 * (len(lines) - 1):.1f}" text-anchor="middle" '
            f'font-size="11" paint-order="stroke" stroke="white" stroke-width="4">{spans}</text>'
        )
    for p in layout.nodes:
        n = p.node
        cx, cy = centre[n.id]
        w = half_w[n.id] * 2
        fill = "#f4f4f4" if n.op.leaf else "white"
        out.append(f'<g class="node" data-op="{esc(n.op.value)}">')
        out.append(
            f'<rect x="{cx - w / 2:.1f}" y="{cy - box_h / 2:.1f}" width="{w:.1f}" height="{box_h:.1f}" '
            f'rx="{0 if n.op.leaf else 6}" fill="{fill}" stroke="#333" stroke-width="1.5"/>'
        )
        out.append(
            f'<text x="{cx:.1f}" y="{cy - 5:.1f}" text-anchor="middle" font-size="10" fill="#616161">'
            f"{esc(operation_word(n))}</text>"
        )
        out.append(
            f'<text x="{cx:.1f}" y="{cy + 12:.1f}" text-anchor="middle">{esc(_equation_text(n, notation))}'
            "</text>"
        )
        out.append(
            f'<text class="value" x="{cx:.1f}" y="{cy - box_h / 2 - 6:.1f}" text-anchor="middle">'
            f"{esc(_value_text(n.value, notation, 4))}</text>"
        )
        out.append(
            f'<text class="upstream" x="{cx:.1f}" y="{cy + box_h / 2 + 16:.1f}" text-anchor="middle" '
            f'fill="{HIGHLIGHT}">{esc(_value_text(n.upstream, notation, 4))}</text>'
        )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
