"""The computational graph (--graph): built from the network's own definitions, checked against the
worked example and sympy.diff, drawn as TikZ (in the sheet's PDF) and as SVG."""

import dataclasses
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sympy as sp

from derive import Network
from derive.checks.graph import check_graph
from derive.documents.sheet import render_sheet
from derive.documents.tex import tex_available
from derive.errors import DeriveError
from derive.model.values import Values
from derive.notation.printing import text
from derive.numeric.graph import (
    MAX_OPERATIONS,
    ComputationalGraph,
    Op,
    computational_graph,
    operation_count,
)
from derive.numeric.worked import worked_example
from derive.render.graph import graph_layout, graph_rows, graph_svg, graph_tikz, plain_number

needs_tex = pytest.mark.skipif(
    not tex_available() and not os.environ.get("CI"),
    reason="no TeX on this machine (CI installs it and runs these)",
)
R = sp.Rational


def values(x, y, weights, biases=None) -> Values:
    exact = lambda v: v if isinstance(v, sp.Basic) else R(v)  # noqa: E731
    return Values(
        tuple(map(exact, x)),
        tuple(map(exact, y)),
        tuple(tuple(tuple(map(exact, row)) for row in m) for m in weights),
        None if biases is None else tuple(tuple(map(exact, b)) for b in biases),
    )


IDENTITY = Network((1, 1), activation="identity")
IDENTITY_VALUES = values([1], [2], [[[1]]])


def edge_value(graph: ComputationalGraph, node_symbol, source_symbol):
    node, source = graph.find(node_symbol), graph.find(source_symbol)
    return node.edge_from(source.id).local


def test_the_identity_example_of_the_issue():
    """y-hat = w x, s = y-hat - y, loss = s^2 at x = 1, y = 2, w = 1: loss 1, local gradients 2s = -2, 1, x = 1,
    dloss/dw = -2. The identity activation is folded: a = z is one node, computing w x."""
    assert (
        IDENTITY.cost.name == "quadratic"
        and IDENTITY.cost.term == (sp.Symbol("a", real=True) - sp.Symbol("y", real=True)) ** 2
    )
    g = computational_graph(IDENTITY, IDENTITY_VALUES)
    s = IDENTITY.symbols
    diff = sp.Symbol("s")
    assert [n.op for n in g.operations] == [Op.MULTIPLY, Op.SUBTRACT, Op.SQUARE]
    yhat, sub, loss = g.operations
    shown = [text(n.expression, IDENTITY.notation) for n in (yhat, sub, loss)]
    assert shown == ["w_00^(1)·x_0", "a_0^(1) - y_0", "s^2"]  # as written: y-hat = w x
    assert (yhat.symbol, yhat.value, sub.symbol, sub.value, loss.symbol, loss.value) == (
        s.a[1, 0],
        1,
        diff,
        -1,
        s.cost,
        1,
    )
    assert s.z[1, 0] in yhat.aliases
    assert g.loss == loss.id
    # the local gradients along loss -> s -> y-hat -> w
    assert loss.edge_from(sub.id).formula == 2 * diff and loss.edge_from(sub.id).local == -2
    assert edge_value(g, diff, s.a[1, 0]) == 1
    assert yhat.edge_from(g.find(s.w[1, 0, 0]).id).formula == s.x[0]
    assert edge_value(g, s.a[1, 0], s.w[1, 0, 0]) == 1
    assert [loss.upstream, sub.upstream, yhat.upstream] == [1, -2, -2]
    assert g.find(s.w[1, 0, 0]).upstream == -2
    assert g.find(s.w[1, 0, 0]).op is Op.PARAMETER and g.find(s.x[0]).op is Op.INPUT
    assert g.find(s.y[0]).op is Op.TARGET
    assert check_graph(g, IDENTITY, IDENTITY_VALUES) == []


NETWORKS = [
    pytest.param(
        Network((1, 1), activation="sigmoid"), values([1], ["1/2"], [[[1]]]), id="1-1-sigmoid"
    ),
    pytest.param(
        Network((2, 1), activation="sigmoid", cost="cross-entropy", bias=True),
        values(["1/2", -1], ["1/4"], [[["1/4", "1/2"]]], [["1/10"]]),
        id="2-1-bias-cross-entropy",
    ),
    pytest.param(
        Network((1, 1, 1), activation=["tanh", "sigmoid"], cost="half-quadratic", bias=True),
        values([1], ["1/2"], [[[1]], [[-2]]], [["1/3"], ["1/5"]]),
        id="1-1-1-tanh-sigmoid-bias",
    ),
    pytest.param(
        Network((1, 2), activation="softplus", cost="log-likelihood"),
        values([1], ["1/4", "3/4"], [[[1], [3]]]),
        id="1-2-softplus-log-likelihood",
    ),
    pytest.param(
        Network((1, 1), activation="relu", cost=r"C_0 = \sum_j \frac{1}{2}(a_j^{(L)} - y_j)^4"),
        values(["3/2"], ["1/2"], [[[2]]]),
        id="user-cost-power",
    ),
]


@pytest.mark.parametrize("net, vals", NETWORKS)
def test_graph_agrees_with_the_worked_example_and_sympy(net, vals):
    g = computational_graph(net, vals)
    assert check_graph(g, net, vals) == []
    example = worked_example(net, vals, differences=False)
    s = net.symbols
    for grad in example.gradients:
        symbol = s.w[grad.layer, grad.j, grad.k] if grad.k is not None else s.b[grad.layer, grad.j]
        assert abs(sp.N(g.find(symbol).upstream - grad.gradient, 50)) < sp.Float("1e-40")
    assert len(g.operations) == operation_count(net) <= MAX_OPERATIONS
    ids = [n.id for n in g.nodes]
    for n in g.nodes:  # topological order, one edge per input
        assert all(ids.index(i) < ids.index(n.id) for i in n.inputs)
        assert [e.source for e in n.edges] == list(n.inputs)
    assert g.nodes[-1].id == g.loss


def test_cross_entropy_becomes_its_logs():
    net, vals = NETWORKS[1].values
    ops = [n.op for n in computational_graph(net, vals).operations]
    assert ops.count(Op.LOG) == 2 and Op.ACTIVATION in ops and ops.count(Op.SUBTRACT) == 2


def test_a_symbolic_weight_stays_symbolic():
    """[1, 1] identity at x = 3/2, y = 1/2: dloss/dw = 2(wx - y)x = 9w/2 - 3/2."""
    w = sp.Symbol("w")
    vals = values(["3/2"], ["1/2"], [[[w]]])
    g = computational_graph(IDENTITY, vals)
    assert sp.simplify(g.find(IDENTITY.symbols.w[1, 0, 0]).upstream - (R(9, 2) * w - R(3, 2))) == 0
    assert sp.simplify(g.find(IDENTITY.symbols.cost).value - (R(3, 2) * w - R(1, 2)) ** 2) == 0
    assert check_graph(g, IDENTITY, vals) == []
    layout = graph_layout(g)
    assert "w" in graph_tikz(layout, IDENTITY)
    ET.fromstring(graph_svg(layout))


def _replace_node(g: ComputationalGraph, node_id: str, **changes) -> ComputationalGraph:
    return dataclasses.replace(
        g, nodes=tuple(dataclasses.replace(n, **changes) if n.id == node_id else n for n in g.nodes)
    )


def test_a_broken_graph_is_caught():
    g = computational_graph(IDENTITY, IDENTITY_VALUES)
    loss = g.node(g.loss)
    edge = dataclasses.replace(loss.edges[0], local=sp.Integer(2))  # 2s at s = -1 is -2, not 2
    failures = check_graph(_replace_node(g, g.loss, edges=(edge,)), IDENTITY, IDENTITY_VALUES)
    assert any("local gradient" in f and "sympy.diff gives -2" in f for f in failures), failures
    w = g.find(IDENTITY.symbols.w[1, 0, 0])
    failures = check_graph(
        _replace_node(g, w.id, upstream=sp.Integer(-1)), IDENTITY, IDENTITY_VALUES
    )
    assert any("worked example -2" in f for f in failures), failures
    sub = g.find(sp.Symbol("s"))
    failures = check_graph(_replace_node(g, sub.id, value=sp.Integer(0)), IDENTITY, IDENTITY_VALUES)
    assert any("value 0" in f for f in failures), failures


def test_big_networks_and_softmax_are_refused_in_one_line():
    net = Network((2, 3, 1))
    with pytest.raises(DeriveError) as error:
        computational_graph(net, values([1, 1], [1], [[[1, 1]] * 3, [[1, 1, 1]]]))
    assert (
        str(error.value)
        == f"graph draws networks of up to {MAX_OPERATIONS} operations; [2, 3, 1] needs 19"
    )
    assert error.value.named({"graph": "--graph"}).startswith(
        "--graph draws"
    )  # the CLI's words (one table)
    with pytest.raises(DeriveError, match="softmax") as error:
        computational_graph(
            Network((1, 2), activation=["softmax"], cost="log-likelihood"),
            values([1], ["1/2", "1/2"], [[[1], [2]]]),
        )
    assert "\n" not in str(error.value)


def test_layout_leaves_left_loss_right():
    net, vals = NETWORKS[1].values
    g = computational_graph(net, vals)
    layout = graph_layout(g)
    xs = {p.node.id: p.x for p in layout.nodes}
    assert xs[g.loss] == max(xs.values())
    assert all(xs[e.source] < xs[e.target] for e in layout.edges)
    assert all(0 <= e.label_pos <= 1 for e in layout.edges)
    for n in g.nodes:
        if n.op.leaf:
            assert xs[n.id] < min(xs[c.id] for c in g.consumers(n.id))
    positions = {(p.x, p.y) for p in layout.nodes}
    assert len(positions) == len(layout.nodes)  # no two nodes on one spot


def test_svg_parses_and_carries_the_numbers():
    g = computational_graph(IDENTITY, IDENTITY_VALUES)
    svg = graph_svg(graph_layout(g))
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert (
        "2·s= −2" in texts and "x₀= 1" in texts
    )  # local gradients on the edges, formula over value
    assert "s = a₀⁽¹⁾ − y₀" in texts and "a₀⁽¹⁾ = w₀₀⁽¹⁾·x₀" in texts and "C₀ = s²" in texts
    upstream = [
        t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "upstream"
    ]
    assert sorted("".join(t.itertext()) for t in upstream) == sorted(
        ["−2", "−2", "−2", "2", "−2", "1"]
    )
    assert len(root.findall(".//{http://www.w3.org/2000/svg}line")) == 5


def test_plain_numbers_match_the_tex_ones():
    assert plain_number(R(-1, 2)) == "−0.5"
    assert plain_number(sp.Float("1.5e-7")) == "1.5×10⁻⁷"
    assert plain_number(sp.Float("1e-9")) == "10⁻⁹"


def test_the_table_rows():
    rows = graph_rows(computational_graph(IDENTITY, IDENTITY_VALUES), IDENTITY)
    assert [r.operation for r in rows if r.operation] == [
        "parameter",
        "input",
        "multiply",
        "target",
        "subtract",
        "square",
    ]
    assert r"\partial C_{0}/\partial s = 2 s = -2" in [r.local for r in rows]


def test_sheet_source_has_the_section_only_with_graph():
    source = render_sheet(
        IDENTITY, "A title with $pecials & 100% #1 {x}_^~\\", IDENTITY_VALUES, graph=True
    )
    assert "The computational graph" in source and r"\begin{tikzpicture}" in source
    assert r"A title with \$pecials \& 100\% \#1 \{x\}\_" in source
    assert "computational graph" not in render_sheet(IDENTITY, None, IDENTITY_VALUES)
    with pytest.raises(DeriveError, match=r"^graph needs numbers"):
        render_sheet(IDENTITY, None, None, graph=True)


SPEC = """title = "The [1, 1] identity network: $ & % # _ {{ }} ~ ^ \\\\ <b>"
layers = [1, 1]
activation = "identity"
cost = "quadratic"

[values]
x = [1]
y = [2]
weights = [[[1]]]
"""


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@needs_tex
def test_cli_sheet_with_graph(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format())
    result = cli("sheet", "spec.toml", "--graph", "--out-dir", "D", "--out", "g", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = pdf_text(tmp_path / "D/g.pdf")
    assert "The computational graph" in text and "$ & % # _ { } ~ ^ \\ <b>" in text
    section = text[text.index("The computational graph") :]
    for word in ("multiply", "subtract", "square", "parameter", "input", "target", "2s = −2"):
        assert word in section, word
    table = section[section.index("local gradient") :]
    assert table.count("−2") >= 5  # dC/dw, dC/dx, dC/da, dC/ds and the local gradient 2s = -2
    page = subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(tmp_path / "D/g.pdf"),
            str(tmp_path / "page"),
        ],
        capture_output=True,
    )
    assert page.returncode == 0


@needs_tex
def test_cli_wide_graph_goes_landscape(cli, tmp_path):
    spec = """layers = [2, 1]\nactivation = "sigmoid"\ncost = "cross-entropy"\nbias = true\n[values]
x = [0.5, -1]\ny = [0.25]\nweights = [[[0.25, 0.5]]]\nbiases = [[0.1]]\n"""
    (tmp_path / "spec.toml").write_text(spec)
    result = cli("sheet", "spec.toml", "--graph", "--out-dir", "D", "--out", "g", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = pdf_text(tmp_path / "D/g.pdf")
    assert "activation sigmoid" in text and "0.633821" in text  # the loss, as in the worked example
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "20", str(tmp_path / "D/g.pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"rot:\s+(90|270)", info)  # the picture's page is turned


def test_cli_refusals_are_one_line(cli, tmp_path):
    result = cli("sheet", "--layers", "1", "1", "--graph", "--out-dir", "D", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "derive: error: --graph needs numbers: give a spec with [values] (x, y, weights)"
    ]
    spec = """layers = [2, 3, 1]\n[values]\nx = [1, 1]\ny = [1]\nweights = [[[1, 1], [1, 1], [1, 1]], [[1, 1, 1]]]\n"""
    (tmp_path / "big.toml").write_text(spec)
    result = cli("sheet", "big.toml", "--graph", "--tex-only", "--out-dir", "D", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "derive: error: --graph draws networks of up to 12 operations; [2, 3, 1] needs 19"
    ]
