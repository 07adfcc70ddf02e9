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


from derive.documents.request import DocumentRequest
from derive.documents.sheet import (
    SheetFiles,
    _render,
    checked_note,
    graph_section,
    template_environment,
    write_typeset,
)
from derive.model.network import Network
from derive.model.steps import BlockKey, Rule, Step, as_reason
from derive.model.values import Values
from derive.numeric.worked import Stage, WorkedExample
from derive.render import latex as lr
from derive.render.flow import FlowLine, Light, frames, sheet_order, step_light
from derive.render.latex import Tex
from derive.render.reasons import worded

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
    text: Tex  # the sentence as LaTeX, its formulas as math
    refs: tuple[str, ...]
    note: Tex


@dataclass(frozen=True)
class SlideFrame:
    title: str
    lines: tuple[SlideLine, ...]
    reasons: tuple[Reason, ...]
    nodes: tuple[
        tuple[lr.DrawnNode, Tex], ...
    ]  # every drawn node, and the overlays it is lit at ("" none)
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
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [
        f"{first}-"
        if end == last and first != last
        else str(first)
        if first == end
        else f"{first}-{end}"
        for first, end in ((run[0], run[-1]) for run in runs)
    ]
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
        return Tex(line.lhs), Tex(f"= {line.rhs}")
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
        lines.append(
            SlideLine(
                newest.number,
                tuple(Variant(overlay_spec(o, count), *tex) for tex, o in texts.items()),
                newest.tag,
            )
        )
    reasons = tuple(_reason(o, n) for n, o in enumerate(overlays, 1))
    return SlideFrame(
        title, tuple(lines), reasons, _lit_nodes(overlays, drawing), _lit_edges(overlays, drawing)
    )


def _reason(overlay: Overlay, n: int) -> Reason:
    new = overlay.lines[-1]
    refs = tuple(ref.title for ref in new.refs)
    see = " (see " + ", ".join(refs) + ")" if refs else ""
    note = Tex(
        lr.escape(f"Step {overlay.step} of {overlay.steps}. {new.rule}: ")
        + new.why
        + lr.escape(see)
    )
    return Reason(n, new.rule, new.why, refs, note)


def node_name(node: tuple[int, int]) -> str:
    """The TikZ name network_drawing gives node j of a layer."""
    return f"n{node[0]}x{node[1]}"


def _lit_nodes(
    overlays: Sequence[Overlay], drawing: lr.Drawing
) -> tuple[tuple[lr.DrawnNode, Tex], ...]:
    lit = [{node_name(x) for x in o.light.nodes} for o in overlays]
    return tuple(
        (
            node,
            overlay_spec(
                (n for n, names in enumerate(lit, 1) if node.name in names), len(overlays)
            ),
        )
        for node in drawing.nodes
    )


def _lit_edges(
    overlays: Sequence[Overlay], drawing: lr.Drawing
) -> tuple[tuple[str, str, Tex], ...]:
    drawn = {node.name for node in drawing.nodes}  # a wide layer shows some of its nodes
    when: dict[tuple[str, str], list[int]] = {}
    for n, overlay in enumerate(overlays, 1):
        for tail, head in overlay.light.edges:
            names = (node_name(tail), node_name(head))
            if set(names) <= drawn:
                when.setdefault(names, []).append(n)
    return tuple(
        (tail, head, overlay_spec(o, len(overlays))) for (tail, head), o in sorted(when.items())
    )


def derivation_frames(net: Network, drawing: lr.Drawing) -> list[SlideFrame]:
    """Every block of the derivation, in the sheet's order, as frames of at most MAX_LINES steps."""
    derivation = net.derivation()
    out = []
    for block in sheet_order(derivation):
        steps = [Overlay(f.lines, f.light, f.step, f.steps) for f in frames(derivation, [block])]
        pieces = chunks(len(steps), MAX_LINES)
        for number, piece in enumerate(pieces, 1):
            title = block.title if len(pieces) == 1 else f"{block.title} ({number}/{len(pieces)})"
            out.append(slide_frame(title, steps[piece.start : piece.stop], drawing))
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


STAGE_TEXT = {
    Stage.FORWARD: "Layer {layer}: the forward equation at this node, the numbers put in, the result.",
    Stage.COST: "The cost of this sample at the outputs: the formula, the numbers put in, the result.",
    Stage.BACKWARD: "Layer {layer}: the node's error, the derivation's formula with the numbers of the forward "
    "pass put in.",
    Stage.GRADIENT: "Layer {layer}: the node's error times the incoming activation (for a bias, the error).",
    Stage.UPDATE: "Layer {layer}: the change is minus the learning rate times the gradient.",
}
SECTIONS = (
    ("forward pass", (Stage.FORWARD, Stage.COST)),
    ("backward pass", (Stage.BACKWARD,)),
    ("gradients", (Stage.GRADIENT,)),
    ("one step of gradient descent", (Stage.UPDATE,)),
)


def example_calculations(net: Network, example: WorkedExample) -> dict[str, list[Calculation]]:
    """The worked example's calculations (handcalcs: formula = numbers put in = result), by section:
    forward pass, backward pass, gradients, the step; each lights the nodes and weights it names."""
    lines = lr.calculation_lines(net, example)
    sections: dict[str, list[Calculation]] = {}
    for title, stages in SECTIONS:
        calculations = [
            Calculation(
                line.lhs,
                Tex(" = ".join(line.members)),
                line.stage.value,
                STAGE_TEXT[line.stage].format(layer=line.layer),
                _calculation_light(net, c),
            )
            for c, line in zip(example.calculations, lines)
            if line.stage in stages
        ]
        if calculations:
            sections[f"Worked example: {title}"] = calculations
    return sections


def _calculation_light(net: Network, calculation) -> Light:
    """The nodes and weights a calculation's quantities name (as a derivation step's would)."""
    step = Step(calculation.lhs, calculation.formula, Rule.SUBSTITUTION, as_reason(""))
    return step_light(net, BlockKey.layer(calculation.layer or net.L), step)


def example_frames(net: Network, example: WorkedExample, drawing: lr.Drawing) -> list[SlideFrame]:
    """The worked example's calculations as frames, one line per overlay."""
    out = []
    for title, calculations in example_calculations(net, example).items():
        lines = [
            FlowLine(number, c.lhs, c.rhs, False, c.rule, worded(c.text))
            for number, c in enumerate(calculations, 1)
        ]
        steps = [
            Overlay(tuple(lines[:n]), c.light, n, len(lines)) for n, c in enumerate(calculations, 1)
        ]
        pieces = chunks(len(steps), MAX_EXAMPLE_LINES)
        for number, piece in enumerate(pieces, 1):
            frame_title = title if len(pieces) == 1 else f"{title} ({number}/{len(pieces)})"
            out.append(slide_frame(frame_title, steps[piece.start : piece.stop], drawing))
    return out


# The document ------------------------------------------------------------------------------------
def slides_context(
    net: Network,
    title: str | None = None,
    values: Values | None = None,
    notes: bool = False,
    graph: bool = False,
    checked: str | None = None,
) -> dict:
    """What slides.tex.j2 lays out; ``graph`` adds the computational graph (needs values), ``checked`` the
    sentence about the check of the steps."""
    request = DocumentRequest(net, title, values, graph=graph)
    drawing = lr.network_drawing(net)
    example = request.example
    return {
        "title": request.heading,
        "description": net.describe(),
        "checked": checked,
        "drawing": drawing,
        "frames": derivation_frames(net, drawing),
        "example": lr.worked_tables(net, example) if example is not None else None,
        "example_frames": example_frames(net, example, drawing) if example is not None else [],
        "notes": notes,
        "graph": graph_section(net, values) if graph else None,
        "cost_symbol": lr.math(net.symbols.cost, net),
    }


def render_slides(
    net: Network,
    title: str | None = None,
    values: Values | None = None,
    notes: bool = False,
    graph: bool = False,
    checked: str | None = None,
) -> str:
    """The deck's LaTeX source (Beamer)."""
    env = template_environment()
    return _render(
        env.get_template(TEMPLATE), slides_context(net, title, values, notes, graph, checked)
    )


def write_slides(
    net: Network,
    out_dir: Path,
    name: str | None = None,
    title: str | None = None,
    values: Values | None = None,
    tex_only: bool = False,
    notes: bool = False,
    progress: Callable[[str], None] | None = None,
    graph: bool = False,
    check: bool = True,
) -> SheetFiles:
    """Write OUT_DIR/<name>-slides.tex and, unless tex_only, typeset OUT_DIR/<name>-slides.pdf; with
    ``check`` (the default) every step is checked against SymPy first, and the title page says so."""
    say = progress or (lambda message: None)
    stem = DocumentRequest(net, name=name, out_dir=out_dir).stem("-slides")
    checked = checked_note(net, check, say)
    say("deriving and writing the slides")
    return write_typeset(
        render_slides(net, title, values, notes, graph, checked), stem, tex_only, say
    )
