"""LaTeX renderer: turns derivation data into LaTeX fragments for sheets and Jupyter.

Everything returned as ``Tex`` is trusted LaTeX made by our printers; plain ``str``
(rule names, titles, anything a user typed) is escaped by the sheet's template environment
(``escape``, from ``derive.render.tex``). A block's lines are ``derive.render.lines.Line``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from derive.notation.printing import activation_latex, latex, numbers_latex
from derive.model.steps import Block, BlockKey, product
from derive.numeric.worked import Stage
from derive.render.lines import Line, block_lines, label
from derive.render.lines import (
    Ref as Ref,
)  # re-exported: the sheet's code and templates reach these here
from derive.render.tex import GREEK_MATH as GREEK_MATH, MATH_SYMBOLS as MATH_SYMBOLS
from derive.render.tex import Tex, escape as escape, reason_tex as reason_tex

if TYPE_CHECKING:
    from derive.engine.derivation import Derivation
    from derive.model.network import Network
    from derive.numeric.worked import WorkedExample

MAX_DRAWN_NODES = 6


@dataclass(frozen=True)
class RenderedBlock:
    """A block as the sheet prints it: its label, title and lines."""

    key: BlockKey
    label: str
    title: str
    lines: tuple[Line, ...]


def render_block(block: Block, derivation: "Derivation") -> RenderedBlock:
    """``block`` of ``derivation`` as the sheet prints it, in the derivation's notation."""
    lines = block_lines(block, derivation.network.notation, derivation.titles)
    return RenderedBlock(block.key, label(block.key), block.title, lines)


def render_blocks(derivation: "Derivation") -> dict[BlockKey, RenderedBlock]:
    return {b.key: render_block(b, derivation) for b in derivation.blocks}


def math(expr: sp.Expr, net: "Network") -> Tex:
    return Tex(latex(expr, net.notation))


def l2_terms(net: "Network") -> tuple[Tex | None, Tex | None]:
    """lambda = its value, and the term (lambda/n) w_jk^{(l)} it adds to a weight's gradient; (None, None)
    for a network without L2 regularisation."""
    if net.l2 is None:
        return None, None
    s = net.symbols
    return (
        math(sp.Eq(s.l2, net.l2, evaluate=False), net),
        math(product(sp.UnevaluatedExpr(s.l2 / s.samples), s.w[s.l, s.j, s.k]), net),
    )


def notation_rows(net: "Network") -> list[tuple[Tex, str]]:
    """(symbol, meaning) rows for the sheet's notation table."""
    s, nt = net.symbols, net.notation
    l, j, k = s.l, s.j, s.k
    name = nt.layer_name
    layers = (
        (Tex(rf"{nt.layer} = 0, \dots, {net.L}"), f"layers: 0 is the input, {net.L} = L the output")
        if name(net.L) == str(net.L)
        else (
            Tex(rf"{name(0)}, \dots, {name(net.L)}"),
            f"layers, named from the output layer L = {net.L}: {name(0)} is the input, {name(net.L)} the output",
        )
    )
    rows = [
        layers,
        (
            math(s.n[l], net),
            f"number of nodes in layer {nt.layer}: " + ", ".join(map(str, net.sizes)),
        ),
        (
            Tex(f"{nt.node},\\ {nt.prev},\\ {nt.downstream[0]}"),
            f"a node of layer {nt.layer}, of layer {nt.layer}-1, of layer {nt.layer}+1 (numbered from 0)",
        ),
        (
            math(s.w[l, j, k], net),
            f"weight from node {nt.prev} of layer {nt.layer}-1 to node {nt.node} of layer {nt.layer}",
        ),
    ]
    if net.bias:
        rows.append((math(s.b[l, j], net), f"bias of node {nt.node} in layer {nt.layer}"))
    rows += [
        (math(s.z[l, j], net), "weighted input of the node"),
        (
            math(s.a[l, j], net),
            "activation (output) of the node; the input layer's are the inputs x",
        ),
        (math(s.x[k], net), "input"),
        (math(s.y[j], net), "target output"),
        (math(s.cost, net), f"single-sample cost ({net.cost.title})"),
        (
            math(s.delta[l, j], net),
            "error of the node: the derivative of the cost with respect to its weighted input",
        ),
        (math(s.eta, net), "learning rate of gradient descent"),
        (math(s.dw[l, j, k], net), "change of the weight by one step of gradient descent"),
    ]
    if net.bias:
        rows.append((math(s.db[l, j], net), "change of the bias by one step of gradient descent"))
    z = sp.Symbol(nt.preactivation)
    for layer, act in enumerate(net.activations, start=1):
        if act not in net.activations[: layer - 1]:  # each activation once, naming all its layers
            used = [m for m, a in enumerate(net.activations, 1) if a == act]
            span = (
                f"layer {name(layer)}"
                if len(used) == 1
                else "layers " + ", ".join(name(m) for m in used)
            )
            symbol = latex(act.function(z), nt)
            if nt.activation_names == "layer":  # g^{(L-1)}(z) = g^{(L)}(z) = sigma(z)
                named = [name(m) for m in used] if len(used) <= 3 else [nt.layer]
                symbol = (
                    " = ".join(
                        rf"{activation_latex(nt, m)}\!\left({latex(z, nt)}\right)" for m in named
                    )
                    + " = "
                    + symbol
                )
            rows.append(
                (
                    Tex(symbol),
                    f"activation of {span}: {act.description}"
                    + (f" ({act.convention})" if act.convention else ""),
                )
            )
    return rows


@dataclass(frozen=True)
class DrawnNode:
    name: str
    x: float
    y: float
    label: Tex
    highlight: bool = False


@dataclass(frozen=True)
class Drawing:
    nodes: tuple[DrawnNode, ...]
    edges: tuple[tuple[str, str], ...]
    highlight_edge: tuple[str, str]
    highlight_label: Tex
    layer_labels: tuple[tuple[float, Tex], ...]
    dots: tuple[tuple[float, float], ...]

    @property
    def bottom(self) -> float:
        """Where the layer captions go: below the lowest node."""
        return min(n.y for n in self.nodes) - 1.0


def network_drawing(net: "Network") -> Drawing:
    """Node positions for a TikZ picture; wide layers show their first and last nodes around a gap."""
    s = net.symbols
    nodes, dots, columns = [], [], []
    spacing_x, spacing_y = 3.0, 1.1
    for layer, size in enumerate(net.sizes):
        shown = (
            list(range(size)) if size <= MAX_DRAWN_NODES else [0, 1, 2, None, size - 2, size - 1]
        )
        column = []
        top = (len(shown) - 1) * spacing_y / 2
        for row, j in enumerate(shown):
            x, y = layer * spacing_x, top - row * spacing_y
            if j is None:
                dots.append((x, y))
                continue
            value = s.x[j] if layer == 0 else s.a[layer, j]
            name = f"n{layer}x{j}"
            highlight = (layer == net.L and j == 0) or (layer == net.L - 1 and j == 0)
            nodes.append(DrawnNode(name, x, y, math(value, net), highlight))
            column.append(name)
        columns.append(column)
    edges = tuple((a, b) for left, right in zip(columns, columns[1:]) for a in left for b in right)
    highlighted_edge = (columns[-2][0], columns[-1][0])
    label = math(s.w[net.L, s.j, s.k], net)
    named = net.notation.layer_name
    layer_labels = tuple(
        (
            layer * spacing_x,
            Tex(
                f"layer {named(layer)}"
                if 0 < layer < net.L
                else (f"input ({named(0)})" if layer == 0 else f"output ({named(net.L)})")
            ),
        )
        for layer in range(net.L + 1)
    )
    return Drawing(tuple(nodes), edges, highlighted_edge, label, layer_labels, tuple(dots))


def number(value: sp.Expr | None, digits: int = 6) -> Tex:
    """A number for a table: exact short rationals as decimals, otherwise ``digits`` significant digits."""
    if value is None:
        return Tex("--")
    value = sp.sympify(value)
    if value.free_symbols:  # a value kept symbolic: 4.5 w - 1.5
        from derive.notation.letters import Notation

        return Tex(numbers_latex(value, Notation(), digits))
    f = float(value)
    if f == 0:
        return Tex("0")
    text = f"{f:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = rf"10^{{{int(exponent)}}}"
        return Tex(power if mantissa in ("1", "1.") else rf"{mantissa}\times {power}")
    return Tex(text)


@dataclass(frozen=True)
class WorkedTables:
    inputs: tuple[tuple[Tex, Tex], ...]
    forward: tuple[tuple[Tex, ...], ...]
    backward: tuple[tuple[Tex, ...], ...]
    gradients: tuple[tuple[Tex, ...], ...]
    cost: Tex
    fd_step: Tex
    max_difference: Tex
    learning_rate: Tex | None = None
    updates: tuple[
        tuple[Tex, ...], ...
    ] = ()  # (parameter, old, gradient, change, new) with a learning rate
    calculations: tuple[
        "CalculationLine", ...
    ] = ()  # every formula: symbolic = numbers put in = result
    symbolic: bool = (
        False  # some values are symbols: results are formulas, checked by SymPy's derivative
    )

    def _stage(self, stage: Stage) -> tuple["CalculationLine", ...]:
        return tuple(line for line in self.calculations if line.stage is stage)

    @property
    def forward_lines(self) -> tuple["CalculationLine", ...]:
        return self._stage(Stage.FORWARD) + self._stage(Stage.COST)

    @property
    def backward_lines(self) -> tuple["CalculationLine", ...]:
        return self._stage(Stage.BACKWARD)

    @property
    def gradient_lines(self) -> tuple["CalculationLine", ...]:
        return self._stage(Stage.GRADIENT)

    @property
    def update_lines(self) -> tuple["CalculationLine", ...]:
        return self._stage(Stage.UPDATE)


@dataclass(frozen=True)
class CalculationLine:
    """One worked formula as handcalcs shows it: ``lhs = symbolic = substituted = result``.

    ``written_out`` (values kept symbolic) is the formula in x, y and w; a member printed the same as
    the one before it is None (δ = 0.27 = 0.27 shows once)."""

    stage: Stage
    layer: Tex | None
    lhs: Tex
    symbolic: Tex
    written_out: Tex | None
    substituted: Tex | None
    result: Tex

    @property
    def members(self) -> tuple[Tex, ...]:
        return tuple(
            m
            for m in (self.symbolic, self.written_out, self.substituted, self.result)
            if m is not None
        )

    @property
    def equation(self) -> Tex:
        """The whole line: lhs = symbolic [= written out] [= substituted] = result."""
        return Tex(" = ".join((self.lhs, *self.members)))


def calculation_lines(net: "Network", example: "WorkedExample") -> tuple[CalculationLine, ...]:
    """The worked example's calculations as LaTeX, in the order computed (forward, cost, backward,
    gradients, the step)."""
    nt = net.notation
    lines = []
    for c in example.calculations:
        symbolic = Tex(latex(c.formula, nt))
        written = Tex(latex(c.written_out, nt)) if c.written_out is not None else None
        substituted = Tex(numbers_latex(c.substituted, nt))
        result = Tex(numbers_latex(c.result, nt))
        written = None if written == symbolic else written
        substituted_shown = None if substituted in (symbolic, written, result) else substituted
        lines.append(
            CalculationLine(
                c.stage,
                Tex(nt.layer_name(c.layer)) if c.layer is not None else None,
                Tex(latex(c.lhs, nt)),
                symbolic,
                written,
                substituted_shown,
                result,
            )
        )
    return tuple(lines)


def worked_tables(net: "Network", example: "WorkedExample") -> WorkedTables:
    s = net.symbols
    inputs = tuple((math(s.x[k], net), number(v)) for k, v in enumerate(example.x)) + tuple(
        (math(s.y[j], net), number(v)) for j, v in enumerate(example.y)
    )
    name = net.notation.layer_name
    forward = tuple(
        (Tex(name(n.layer)), Tex(str(n.j)), number(n.z, 9), number(n.a, 9)) for n in example.nodes
    )
    backward = tuple(
        (
            Tex(name(n.layer)),
            Tex(str(n.j)),
            number(n.dC_da, 9),
            number(n.gprime, 9),
            number(n.delta, 9),
        )
        for n in sorted(example.nodes, key=lambda n: (-n.layer, n.j))
    )
    gradients = []
    for g in example.gradients:
        symbol = s.w[g.layer, g.j, g.k] if g.k is not None else s.b[g.layer, g.j]
        formula = product(
            s.delta[g.layer, g.j], net.previous_activation(g.layer, g.k) if g.k is not None else 1
        )
        check = (
            g.derivative if example.symbolic else g.finite_difference
        )  # SymPy's derivative for symbols
        diff = (
            None
            if check is None
            else (sp.simplify(g.gradient - check) if example.symbolic else abs(g.gradient - check))
        )
        gradients.append(
            (
                math(symbol, net),
                number(g.value),
                math(formula, net),
                number(g.gradient, 9),
                number(check, 9),
                number(diff, 2),
            )
        )
    updates = tuple(
        (
            math(s.w[g.layer, g.j, g.k] if g.k is not None else s.b[g.layer, g.j], net),
            number(g.value),
            number(g.step_gradient, 9),
            number(g.change, 9),
            number(g.updated, 9),
        )
        for g in example.gradients
        if g.updated is not None
    )
    eta = number(example.learning_rate) if example.learning_rate is not None else None
    return WorkedTables(
        inputs,
        forward,
        backward,
        tuple(gradients),
        number(example.cost, 9),
        number(example.fd_step),
        number(example.max_fd_difference, 2),
        eta,
        updates,
        calculation_lines(net, example),
        example.symbolic,
    )


def derivation_latex(derivation: "Derivation") -> str:
    """The whole derivation as one display for Jupyter (see ``derive.render.display``)."""
    from derive.render.display import derivation_latex as one_environment

    return one_environment(derivation)
