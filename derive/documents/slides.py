"""Slides: the derivation as a Beamer deck (16:9), one step per overlay.

Each block of the derivation is a frame (split over several when long); overlay n shows lines 1..n
of the frame, the factor being derived highlighted, the step's rule and reason beside the network
drawing, whose nodes and weights the step names are lit. Speaker notes (``\\note``) carry the
reasons; they show only with ``notes=True``. A spec with numbers adds a worked example that
unfolds the same way. Everything is computed here from ``derive.render.flow``'s frames; the
template only lays it out.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import sympy as sp

from derive.documents.files import write_atomic
from derive.documents.sheet import SheetFiles, _render, check_name, default_name, template_environment
from derive.documents.tex import TexUnavailable, typeset
from derive.model.network import Network
from derive.model.steps import product
from derive.model.values import Values
from derive.numeric.worked import WorkedExample, worked_example
from derive.render import latex as lr
from derive.render.flow import FlowLine, Light, frames, sheet_order
from derive.render.latex import Tex

TEMPLATE = "slides.tex.j2"
MAX_LINES = 5  # lines of a derivation on one frame; longer blocks are split evenly
MAX_EXAMPLE_LINES = 6  # lines of the worked example on one frame


@dataclass(frozen=True)
class Variant:
    """A line's LaTeX at some overlays (a Beamer overlay specification such as ``2,4-``)."""

    overlays: Tex
    lead: Tex  # a continued line's left-hand side, kept as space to align its "=" ("" for other lines)
    tex: Tex


@dataclass(frozen=True)
class SlideLine:
    number: int
    variants: tuple[Variant, ...]  # together they cover the overlays from the line's first on
    tag: str | None = None


@dataclass(frozen=True)
class Reason:
    """What the newest line says at ``overlay``: its rule and sentence, and the speaker's note."""

    overlay: int
    rule: str
    text: str
    refs: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class SlideFrame:
    title: str
    lines: tuple[SlideLine, ...]
    reasons: tuple[Reason, ...]
    nodes: tuple[tuple[lr.DrawnNode, Tex], ...]  # every drawn node, and the overlays it is lit at ("" none)
    edges: tuple[tuple[str, str, Tex], ...]  # (tail, head, overlays): the edges lit at some overlay

    @property
    def overlays(self) -> int:
        return len(self.reasons)


@dataclass(frozen=True)
class Overlay:
    """One overlay's state: the frame's lines so far (the newest last), why, and what is lit."""

    lines: tuple[FlowLine, ...]
    light: Light
    step: int
    steps: int


# Frames ----------------------------------------------------------------------------------------
def overlay_spec(overlays: Iterable[int], last: int) -> Tex:
    """``[1, 3, 4, 5]`` with ``last`` 5 as ``1,3-``: ranges, the one reaching ``last`` left open."""
    numbers = sorted(set(overlays))
    parts: list[str] = []
    start = previous = None
    for n in [*numbers, None]:
        if start is not None and (n is None or n != previous + 1):
            parts.append(f"{start}-" if previous == last and start != last else
                         str(start) if start == previous else f"{start}-{previous}")
            start = None
        if n is not None and start is None:
            start = n
        previous = n
    return Tex(",".join(parts))


def chunks(count: int, size: int) -> list[range]:
    """0..count split into the fewest ranges of at most ``size``, as even as can be."""
    pieces = max(1, -(-count // size))
    bounds = [round(i * count / pieces) for i in range(pieces + 1)]
    return [range(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _line_tex(line: FlowLine, first: bool) -> tuple[Tex, Tex]:
    """(lead, equation): ``lhs = rhs``; a continued line (same left side as the line before) shows
    ``= rhs`` after the left side's space, unless it opens the frame."""
    if line.continued and not first:
        return line.lhs, Tex(f"= {line.rhs}")
    return Tex(""), Tex(f"{line.lhs} = {line.rhs}")


def slide_frame(title: str, overlays: Sequence[Overlay], drawing: lr.Drawing) -> SlideFrame:
    """The Beamer frame showing ``overlays`` (consecutive steps): line i appears at overlay i."""
    start = overlays[0].lines[-1].number  # the block's number of the frame's first line
    count = len(overlays)
    lines = []
    for position in range(count):
        texts: dict[tuple[Tex, Tex], list[int]] = {}
        for overlay in range(position, count):
            line = overlays[overlay].lines[start - 1 + position]
            texts.setdefault(_line_tex(line, position == 0), []).append(overlay + 1)
        newest = overlays[position].lines[-1]
        lines.append(SlideLine(newest.number, tuple(Variant(overlay_spec(o, count), *tex) for tex, o in texts.items()),
                               newest.tag))
    reasons = tuple(_reason(o, n) for n, o in enumerate(overlays, 1))
    return SlideFrame(title, tuple(lines), reasons, _lit_nodes(overlays, drawing), _lit_edges(overlays, drawing))


def _reason(overlay: Overlay, n: int) -> Reason:
    new = overlay.lines[-1]
    refs = tuple(title for title, _ in new.refs)
    note = f"Step {overlay.step} of {overlay.steps}. {new.rule}: {new.text}"
    if refs:
        note += " (see " + ", ".join(refs) + ")"
    return Reason(n, new.rule, new.text, refs, note)


def node_name(node: tuple[int, int]) -> str:
    """The TikZ name network_drawing gives node j of a layer."""
    return f"n{node[0]}x{node[1]}"


def _lit_nodes(overlays: Sequence[Overlay], drawing: lr.Drawing) -> tuple[tuple[lr.DrawnNode, Tex], ...]:
    lit = [{node_name(x) for x in o.light.nodes} for o in overlays]
    return tuple((node, overlay_spec((n for n, names in enumerate(lit, 1) if node.name in names), len(overlays)))
                 for node in drawing.nodes)


def _lit_edges(overlays: Sequence[Overlay], drawing: lr.Drawing) -> tuple[tuple[str, str, Tex], ...]:
    drawn = {node.name for node in drawing.nodes}  # a wide layer shows some of its nodes
    when: dict[tuple[str, str], list[int]] = {}
    for n, overlay in enumerate(overlays, 1):
        for tail, head in overlay.light.edges:
            names = (node_name(tail), node_name(head))
            if set(names) <= drawn:
                when.setdefault(names, []).append(n)
    return tuple((tail, head, overlay_spec(o, len(overlays))) for (tail, head), o in sorted(when.items()))


def derivation_frames(net: Network, drawing: lr.Drawing) -> list[SlideFrame]:
    """Every block of the derivation, in the sheet's order, as frames of at most MAX_LINES steps."""
    derivation = net.derivation()
    out = []
    for block in sheet_order(derivation):
        steps = [Overlay(f.lines, f.light, f.step, f.steps) for f in frames(derivation, [block])]
        pieces = chunks(len(steps), MAX_LINES)
        for number, piece in enumerate(pieces, 1):
            title = block.title if len(pieces) == 1 else f"{block.title} ({number}/{len(pieces)})"
            out.append(slide_frame(title, steps[piece.start:piece.stop], drawing))
    return out


# The worked example ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calculation:
    """One line of the worked example: ``lhs = rhs``, what it is, and the part of the network it is about."""

    lhs: Tex
    rhs: Tex
    rule: str
    text: str
    light: Light


def example_calculations(net: Network, example: WorkedExample) -> dict[str, list[Calculation]]:
    """The worked example as lines, by section: forward pass, backward pass, gradients, update."""
    s, name = net.symbols, net.notation.layer_name
    nodes = {(n.layer, n.j): n for n in example.nodes}

    def activation(layer: int, k: int) -> sp.Expr:
        return example.x[k] if layer == 0 else nodes[(layer, k)].a

    def into(layer: int, j: int) -> Light:
        tails = [(layer - 1, k) for k in range(net.size(layer - 1))]
        return Light(frozenset([(layer, j), *tails]), frozenset((t, (layer, j)) for t in tails))

    forward = [Calculation(lr.math(s.a[n.layer, n.j], net), _activation_value(net, n.layer, n.j, n.z, n.a),
                           "forward pass", f"Node {n.j} of layer {name(n.layer)}: its weighted input "
                           f"z = {lr.number(n.z)}, then its activation.", into(n.layer, n.j))
               for n in example.nodes]
    outputs = Light(frozenset((net.L, j) for j in range(net.size(net.L))))
    forward.append(Calculation(lr.math(s.cost, net), lr.number(example.cost, 9), "cost",
                               f"The cost of this sample ({net.cost.title}) at the outputs.", outputs))
    backward = []
    for n in sorted(example.nodes, key=lambda n: (-n.layer, n.j)):
        dc_da = sp.Derivative(s.cost, s.a[n.layer, n.j])
        if n.gprime is None:
            rhs = Tex(rf"{lr.math(sp.Derivative(s.cost, s.z[n.layer, n.j]), net)} = {lr.number(n.delta)}")
        else:
            symbolic = product(dc_da, sp.Derivative(s.a[n.layer, n.j], s.z[n.layer, n.j]))
            rhs = Tex(rf"{lr.math(symbolic, net)} = ({lr.number(n.dC_da)})({lr.number(n.gprime)}) = "
                      rf"{lr.number(n.delta)}")
        downstream = [(n.layer + 1, i) for i in range(net.size(n.layer + 1))] if n.layer < net.L else []
        backward.append(Calculation(
            lr.math(s.delta[n.layer, n.j], net), rhs, "backward pass",
            f"The error of node {n.j} of layer {name(n.layer)}"
            + (": the errors of the layer after it, through its weights, times its activation's derivative."
               if downstream else ": the cost's derivative times the activation's derivative."),
            Light(frozenset([(n.layer, n.j), *downstream]), frozenset(((n.layer, n.j), d) for d in downstream))))
    gradients, updates = [], []
    for g in example.gradients:
        symbol = s.w[g.layer, g.j, g.k] if g.k is not None else s.b[g.layer, g.j]
        delta = nodes[(g.layer, g.j)].delta
        if g.k is not None:
            formula = product(s.delta[g.layer, g.j], net.previous_activation(g.layer, g.k))
            numbers = rf"({lr.number(delta)})({lr.number(activation(g.layer - 1, g.k))})"
            light = Light(frozenset({(g.layer, g.j), (g.layer - 1, g.k)}),
                          frozenset({((g.layer - 1, g.k), (g.layer, g.j))}))
            text = "The node's error times the incoming activation."
        else:
            formula, numbers = s.delta[g.layer, g.j], None
            light, text = Light(frozenset({(g.layer, g.j)})), "The node's error."
        rhs = lr.math(formula, net) + (f" = {numbers}" if numbers else "") + f" = {lr.number(g.gradient)}"
        gradients.append(Calculation(lr.math(sp.Derivative(s.cost, symbol), net), Tex(rhs), "gradient", text, light))
        if g.updated is not None:
            updates.append(_update(net, example, g, light))
    sections = {"Worked example: forward pass": forward, "Worked example: backward pass": backward,
                "Worked example: gradients": gradients}
    if updates:
        sections["Worked example: one step of gradient descent"] = updates
    return sections


def _update(net: Network, example: WorkedExample, g, light: Light) -> Calculation:
    """w <- w - eta dC/dw (+ lambda w with L2, n = 1) = old - eta (gradient) = new."""
    s = net.symbols
    symbol = s.w[g.layer, g.j, g.k] if g.k is not None else s.b[g.layer, g.j]
    gradient = lr.math(sp.Derivative(s.cost, symbol), net)
    if net.l2 is not None and g.k is not None:
        gradient = Tex(rf"\left({gradient} + {lr.math(s.l2 * symbol, net)}\right)")
    eta, number = lr.math(s.eta, net), lr.number
    rhs = (rf"{lr.math(symbol, net)} - {eta}\,{gradient} = {number(g.value)} - {number(example.learning_rate)}"
           rf"\,({number(g.step_gradient)}) = {number(g.updated)}")
    return Calculation(Tex(rf"\text{{new }}{lr.math(symbol, net)}"), Tex(rhs), "gradient descent",
                       "The parameter moves against its gradient, scaled by the learning rate"
                       + (" (a weight's gradient with the L2 term, n = 1)." if net.l2 is not None else "."), light)


def _activation_value(net: Network, layer: int, j: int, z: sp.Expr, a: sp.Expr) -> Tex:
    """g(z) = g(0.3775) = 0.5933; a vector activation (softmax) shows g(z) = 0.5933."""
    act, symbol = net.activation(layer), net.symbols.z[layer, j]
    written = lr.math(act.function(symbol), net)
    if act.vector:
        return Tex(f"{written} = {lr.number(a)}")
    at = lr.math(act.function(sp.Symbol("PLACEHOLDER")), net).replace("PLACEHOLDER", lr.number(z))
    return Tex(f"{written} = {at} = {lr.number(a)}")


def example_frames(net: Network, example: WorkedExample, drawing: lr.Drawing) -> list[SlideFrame]:
    """The worked example's calculations as frames, one line per overlay."""
    out = []
    for title, calculations in example_calculations(net, example).items():
        lines = [FlowLine(number, c.lhs, c.rhs, False, c.rule, c.text, (), False)
                 for number, c in enumerate(calculations, 1)]
        steps = [Overlay(tuple(lines[:n]), c.light, n, len(lines)) for n, c in enumerate(calculations, 1)]
        pieces = chunks(len(steps), MAX_EXAMPLE_LINES)
        for number, piece in enumerate(pieces, 1):
            frame_title = title if len(pieces) == 1 else f"{title} ({number}/{len(pieces)})"
            out.append(slide_frame(frame_title, steps[piece.start:piece.stop], drawing))
    return out


# The document ------------------------------------------------------------------------------------
def slides_context(net: Network, title: str | None = None, values: Values | None = None,
                   notes: bool = False) -> dict:
    """What slides.tex.j2 lays out."""
    drawing = lr.network_drawing(net)
    example = worked_example(net, values) if values is not None else None
    return {
        "title": title or f"Backpropagation for a {'-'.join(map(str, net.sizes))} network",
        "description": net.describe(),
        "drawing": drawing,
        "frames": derivation_frames(net, drawing),
        "example": lr.worked_tables(net, example) if example is not None else None,
        "example_frames": example_frames(net, example, drawing) if example is not None else [],
        "notes": notes,
    }


def render_slides(net: Network, title: str | None = None, values: Values | None = None,
                  notes: bool = False) -> str:
    """The deck's LaTeX source (Beamer)."""
    env = template_environment()
    return _render(env.get_template(TEMPLATE), slides_context(net, title, values, notes))


def write_slides(net: Network, out_dir: Path, name: str | None = None, title: str | None = None,
                 values: Values | None = None, tex_only: bool = False, notes: bool = False,
                 progress: Callable[[str], None] | None = None) -> SheetFiles:
    """Write OUT_DIR/<name>-slides.tex and, unless tex_only, typeset OUT_DIR/<name>-slides.pdf."""
    say = progress or (lambda message: None)
    name = check_name(default_name(net) if name is None else name) + "-slides"
    say("deriving and writing the slides")
    source = render_slides(net, title, values, notes)
    tex_path = out_dir / f"{name}.tex"
    write_atomic(tex_path, source)
    if tex_only:
        return SheetFiles(tex_path, None)
    say("typesetting the slides with TeX")
    try:
        result = typeset(source, out_dir / f"{name}.pdf")
    except TexUnavailable as missing:
        return SheetFiles(tex_path, None, str(missing))
    return SheetFiles(tex_path, result.pdf, result.note)


