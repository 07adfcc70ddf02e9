"""The LaTeX reader in parts: the syntax core reads with any resolver and imports no model; the model
reads a definition through its reader slot, never importing derive.read; a definition is read
without building a network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.model import definitions as slot
from derive.model.activations import SIGMA, Z, activation_named
from derive.model.costs import cost_named
from derive.read import definitions, syntax
from derive.read.latex import LatexInputError, read_chain
from derive.read.resolvers import Context, definition_resolver

ROOT = Path(__file__).resolve().parents[2]


class ToyResolver:
    """Names as plain symbols: a_j^{(2)} is the symbol a[j;2], g(u) the undefined function g(u)."""

    what = "answer"
    variable = None
    bare_a = None
    own_indices = ()
    plain_layers = False
    last_layer = 3

    def layer(self, letter: str) -> int:
        if letter == "l":
            raise syntax.Refusal("no l in a toy")
        return 3

    def layer_size(self, layer: int) -> int:
        return 2

    def cost(self) -> sp.Expr:
        return sp.Symbol("cost")

    def quantity(self, base, sub, layer, where):
        if base == "y":
            raise syntax.Refusal(f"'{where}': no targets in a toy")
        return sp.Symbol(
            f"{base}[{','.join(str(syntax.node_index(i)) for i in sub or [])};{layer}]"
        )

    def function(self, name, layer, primes, argument):
        return sp.Function(name + "'" * primes)(argument)

    def index_range(self, body, index):
        return 2


def test_the_syntax_core_reads_with_any_resolver():
    names = ToyResolver()
    assert syntax.read_expression(r"2 a_j^{(L)} + g(z_1^{(2)})", names) == 2 * sp.Symbol(
        "a[j;3]"
    ) + sp.Function("g")(sp.Symbol("z[1;2]"))
    assert syntax.read_expression(r"\tanh(0) + C_0", names) == sp.tanh(
        0, evaluate=False
    ) + sp.Symbol("cost")
    (total,) = syntax.read_expression(r"\sum_k w_{jk}^{(2)}", names).atoms(sp.Sum)
    assert total.limits == ((sp.Symbol("k", integer=True, nonnegative=True), 0, 1),)


def test_a_refusal_of_the_resolver_is_an_error_quoting_the_place():
    with pytest.raises(
        LatexInputError, match=r"at column 5: 'y_j': no targets in a toy \(in '1 \+ y_j'\)"
    ):
        syntax.read_expression("1 + y_j", ToyResolver())
    with pytest.raises(LatexInputError, match="no l in a toy"):
        syntax.read_expression("a_j^{(l)}", ToyResolver())
    with pytest.raises(LatexInputError, match="layer 4 does not exist"):
        syntax.read_expression("a_j^{(4)}", ToyResolver())


def _modules_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(m for m in sys.modules if m.startswith('derive'))))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_syntax_core_imports_no_model_and_the_model_no_reader():
    assert not [
        m
        for m in _modules_after("import derive.read.syntax")
        if m.startswith("derive.model.") and m != "derive.model.definitions"
    ]
    loaded = _modules_after(
        "import derive.model.network, derive.model.activations, derive.model.costs"
    )
    assert "derive.model.network" in loaded and not [
        m for m in loaded if m.startswith("derive.read")
    ]
    assert not [m for m in _modules_after("import derive") if m.startswith("derive.read")]


def test_no_seam_of_the_model_into_the_reader_is_left():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "-> derive.read" not in text


def test_the_model_reads_a_definition_through_its_slot():
    before = slot.installed_reader()

    class Fake:
        def activation(self, text):
            return ("activation", text)

        def cost(self, text):
            return ("cost", text)

    try:
        slot.install_reader(Fake())
        assert activation_named("g(z) = z^2") == ("activation", "g(z) = z^2")
        assert cost_named("C_0 = \\sum_j y_j") == ("cost", "C_0 = \\sum_j y_j")
        slot._READER.clear()
        with pytest.raises(DeriveError, match="no reader of LaTeX definitions is installed"):
            activation_named("g(z) = z^2")
    finally:
        slot.install_reader(before)


def test_a_definition_is_read_without_a_network(monkeypatch):
    from derive.model import network

    def refuse(*args, **kwargs):
        raise AssertionError("a network was built to read a definition")

    monkeypatch.setattr(network.Network, "__init__", refuse)
    act = definitions._parse_activation(r"g(z) = \frac{1}{1+e^{-z}} + \sigma(z)")
    assert act.definition.expr.has(SIGMA) and act.definition.expr.has(Z)
    cost = definitions._parse_cost(r"C_0 = \frac{1}{2}\sum_j (a_j^{(L)} - y_j)^2")
    assert cost.term.free_symbols == {definitions.A, definitions.Y}


def test_a_definitions_names_are_those_of_one_input_and_one_output_node():
    names = definition_resolver(variable_z=False)
    assert (names.what, names.last_layer, names.layer("L"), names.layer_size(0)) == (
        "definition",
        1,
        1,
        1,
    )
    with pytest.raises(
        LatexInputError, match=r"layer 2 does not exist \(the network has layers 0..1\)"
    ):
        definitions._parse_cost(r"C_0 = \sum_j (a_j^{(2)} - y_j)^2")
    assert syntax.read_expression("z^2", definition_resolver(variable_z=True)) == Z**2


def test_the_notation_resolver_reads_the_networks_names():
    from derive.model.network import Network

    net = Network([2, 3, 1], activation=["tanh", "sigmoid"])
    s = net.symbols
    (member,) = read_chain(r"g(z_1^{(1)}) w_{01}^{(2)}", Context(net, layer=2))
    assert member.expr == net.activation(1)(s.z[1, 1]) * s.w[2, 0, 1]
    with pytest.raises(LatexInputError, match="g is ambiguous here"):
        read_chain("g(x_0)", Context(net))
