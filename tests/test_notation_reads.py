"""Notation that reads right (issue 18, part 4): what derive prints reads as a textbook's formula.

No -1 written as a factor (-1·η, \\left(-1\\right) \\eta), no 1/2 left beside a 2 that a textbook would
cancel, and no superscript on a primed function: σ'^{2}(z^{2}) reads as (σ')², so the layer stands on z
(Nielsen's σ'(z^L)) or, where the activation is named by its layer, inside g's superscript, g^{(L)′}.
Every preset, over costs and activations, in LaTeX (derive.render.latex) and in terminal text.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp

from derive import Network
from derive.model.steps import AVERAGE, SUMMARY, UPDATE, product
from derive.notation.letters import PRESETS
from derive.notation.printing import latex, text
from derive.notation.sums import IndexSum
from derive.render import latex as lr
from derive.render.terminal import render_blocks

# (activation, cost, bias, l2): the costs and activations whose derivatives bring numbers into products
CASES = [
    ("sigmoid", "half-quadratic", False, None),
    ("sigmoid", "quadratic", True, 0.1),
    (
        "gelu",
        "half-quadratic",
        False,
        None,
    ),  # GELU' = (...)/2: its 1/2 met a -1 in the weight change
    ("gelu", "quadratic", True, None),  # ... and the quadratic cost's 2
    ("tanh", "half-quadratic", True, None),
    ("elu", "quadratic", False, None),
    ("silu", "half-quadratic", False, None),
    ("sigmoid", "cross-entropy", False, None),
    ("softplus", "log-likelihood", False, None),  # -y/a times the activation's derivative
    ("softmax", "log-likelihood", True, None),
]

LATEX_BAD = {
    "-1 as a factor": re.compile(
        r"-1 \\cdot|(\\left\(-1\\right\)|(?<![\w.}])-1) ?(?=\\(?!right)|[a-zA-Z(])"
    ),
    "1/2 beside a 2": re.compile(
        r"\\frac\{1\}\{2\}\s*(\\cdot\s*)?(\\left\()?2(?![\d.])"
        r"|(?<![\w.])2\s*(\\cdot\s*)?\\frac\{1\}\{2\}"
    ),
    "a superscript on a primed function": re.compile(r"'\^"),
}
TEXT_BAD = {
    "-1 as a factor": re.compile(r"-1·|\(-1\)·"),
    "1/2 beside a 2": re.compile(r"\(?1/2\)?·2(?![\d.])|(?<![\w.])2·\(?1/2\b"),
    "a superscript on a primed function": re.compile(
        r"'\^(\([^()]*\)|\w+)\("
    ),  # g'^(L)(z), σ'^2(z^2)
}


def _network(preset: str, activation: str, cost: str, bias: bool, l2) -> Network:
    activations = ["tanh", "softmax"] if activation == "softmax" else [activation]
    return Network([2, 3, 2], activation=activations, cost=cost, bias=bias, notation=preset, l2=l2)


def _printed(net: Network) -> list[tuple[str, str, str]]:
    """(kind, where, printed) for both sides of every step of every block, in LaTeX and in terminal text."""
    d = net.derivation()
    out = []
    for block in lr.render_blocks(d).values():
        for line in block.lines:
            out += [
                ("latex", f"{block.title} ({line.number})", side) for side in (line.lhs, line.rhs)
            ]
    out += [("text", "terminal", line) for line in render_blocks(d.blocks, d).splitlines()]
    return out


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("activation,cost,bias,l2", CASES, ids=[f"{a}-{c}" for a, c, _, _ in CASES])
def test_every_step_reads_as_a_textbook_writes_it(preset, activation, cost, bias, l2):
    net = _network(preset, activation, cost, bias, l2)
    wrong = []
    for kind, where, printed in _printed(net):
        for what, pattern in (LATEX_BAD if kind == "latex" else TEXT_BAD).items():
            match = pattern.search(printed)
            if match:
                wrong.append(
                    f"{what} in {kind}, {where}: ...{printed[max(0, match.start() - 50) : match.end() + 30]}"
                )
    assert not wrong, "\n".join(wrong[:10])


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize(
    "activation,cost,bias,l2", CASES[:5], ids=[f"{a}-{c}" for a, c, _, _ in CASES[:5]]
)
def test_a_product_has_at_most_one_number_and_it_comes_first(preset, activation, cost, bias, l2):
    """The structure under the printing: every product of a step has its numbers gathered in one leading
    coefficient (SymPy prints an unevaluated product with a number after its first factor as it stands)."""
    d = _network(preset, activation, cost, bias, l2).derivation()
    for block in d.blocks:
        for step in block.steps:
            for side in (step.lhs, step.rhs):
                for node in sp.preorder_traversal(side):
                    if isinstance(node, sp.Mul):
                        numbers = [arg for arg in node.args if arg.is_Number]
                        assert len(numbers) <= 1 and all(
                            not arg.is_Number for arg in node.args[1:]
                        ), f"{block.title}: {node}"


def test_gradient_descent_cancels_the_numbers_of_gelu_and_the_quadratic_cost():
    net = Network([2, 3, 1], activation="gelu", cost="quadratic")
    update = net.derivation().block(UPDATE)
    written = [lr.math(step.rhs, net) for step in update.steps]
    assert (
        written[2].startswith(r"- \eta \left(a_{j}^{(2)} - y_{j}\right)")
        and r"\frac{1}{2}" not in written[2]
    )
    # layer 1: the cost's 2 cancels GELU'(z_i^(2))'s 1/2 inside the sum; GELU'(z_j^(1))'s 1/2 leads the product
    assert written[5].startswith(
        r"- \frac{1}{2} \eta \left(\sum_{i=0}^{0} \left(a_{i}^{(2)} - y_{i}\right)"
    )


def test_half_quadratic_weight_change_writes_minus_eta_first():
    net = Network([2, 3, 1], activation="gelu", cost="half-quadratic")
    update = net.derivation().block(UPDATE)
    out = render_blocks([update], net.derivation())
    assert "= -η·(a_j^(2) - y_j)·" in out and "-1·" not in out and "1/2·" not in out


U, V, Y, A_, ETA = sp.symbols("u v y a eta")
HALF_OF = sp.Mul(sp.Rational(1, 2), V + 1, evaluate=False)  # GELU'(z) = (...)/2


@pytest.mark.parametrize(
    "factors,args",
    [
        ((-1, ETA, 2, U), (-2, ETA, U)),  # -1·η·2·u is -2ηu
        ((2, U, HALF_OF), (U, V + 1)),  # the quadratic cost's 2 cancels GELU's 1/2
        ((U, HALF_OF), (sp.Rational(1, 2), U, V + 1)),  # the 1/2 comes first
        (
            (-1, ETA, sp.Mul(-1, Y, sp.Pow(A_, -1), evaluate=False), U),
            (ETA, Y / A_, U),
        ),  # -η·(-y/a)·u is η(y/a)u
        ((U, 0), (0,)),
    ],
)
def test_product_gathers_its_numbers_into_one_leading_coefficient(factors, args):
    made = product(*factors)
    assert (made.args if isinstance(made, sp.Mul) else (made,)) == tuple(map(sp.sympify, args))
    assert sp.expand(made - sp.Mul(*factors)) == 0  # the same value


# The layer on z, never on σ' ------------------------------------------------------------------
def test_nielsen_output_error_is_sigma_prime_of_z_L():
    net = Network([2, 3, 1], notation="nielsen")
    summary = lr.render_blocks(net.derivation())[SUMMARY]
    assert summary.lines[0].rhs == r"\nabla_{a^{2}} C_{0} \odot \sigma'\!\left(z^{2}\right)"
    assert summary.lines[0].tag == "BP1"
    assert summary.lines[1].rhs.endswith(r"\odot \sigma'\!\left(z^{l}\right)")
    out = render_blocks([net.derivation().block(SUMMARY)], net.derivation())
    assert "(1) δ^2 = ∇_a^2 C_0 ⊙ σ'(z^2)    (BP1)" in out
    assert "⊙ σ'(z^l)" in out


def test_default_summary_puts_the_layer_on_z():
    net = Network([2, 3, 1])
    summary = lr.render_blocks(net.derivation())[SUMMARY]
    assert summary.lines[0].rhs.endswith(r"\odot g'\!\left(z^{(2)}\right)")


def test_deeplizard_primes_g_after_its_layer():
    net = Network([2, 3, 1], notation="deeplizard")
    printed = " ".join(side for kind, _, side in _printed(net))
    assert r"g^{(L)\prime}\!\left(z_{j}^{(L)}\right)" in printed
    assert r"g^{(L)\prime}\!\left(z^{(L)}\right)" in printed  # the summary
    assert "g^(L)'(z_j^(L))" in printed and "g^(L-1)'(z_j^(L-1))" in printed


def test_the_printed_primed_layer_activation_reads_back():
    """A student pastes what the sheet prints: g^{(L)\\prime}(z_j^{(L)}) (and the older g'^{(L)}) is g' at layer L."""
    from derive.read.latex import Context, read_chain

    net = Network([2, 3, 2], activation=["tanh", "sigmoid"], notation="deeplizard")
    z = net.symbols.z[2, net.symbols.j]
    printed = lr.math(net.activation(2).prime(z), net)
    assert printed == r"g^{(L)\prime}\!\left(z_{j}^{(L)}\right)"
    read = [
        read_chain(text, Context(net, layer=2))[0].expr
        for text in (
            printed,
            r"g^{(L)\prime}(z_j^{(L)})",
            r"g'^{(L)}(z_j^{(L)})",
            r"g^{(L)}'(z_j^{(L)})",
        )
    ]
    assert len(set(read)) == 1 and type(read[0]).__name__ == "sigma__prime"


# Sums that read right --------------------------------------------------------------------------
def test_a_step_of_gradient_descent_opens_with_the_weight():
    net = Network([2, 3, 1], l2=0.1)
    average = lr.render_blocks(net.derivation())[AVERAGE]
    assert average.lines[-1].lhs == r"w_{jk}^{(l)} - \eta \frac{\partial C}{\partial w_{jk}^{(l)}}"
    assert average.lines[-1].rhs.startswith(
        r"\left(1 - \frac{\lambda \eta}{n}\right) w_{jk}^{(l)} - \frac{\eta}{n}"
    )


def test_a_squared_sum_is_bracketed():
    nt = PRESETS["default"]
    i, z = sp.Symbol("i", integer=True), sp.Symbol("z")
    squared = sp.Pow(IndexSum(sp.exp(z + i), (i, 0, 1)), 2, evaluate=False)
    assert (
        latex(squared, nt) == r"\left(\sum_{i=0}^{1} e^{i + z}\right)^{2}"
    )  # not \sum e^{i + z}^{2}
    assert text(squared, nt) == "(Σ_{i=0..1} [exp(i + z)])^2"


def test_a_fraction_inside_a_text_product_is_bracketed():
    nt = PRESETS["default"]
    y, a = sp.symbols("y a")
    assert (
        text(product(-1, sp.Mul(y, sp.Pow(a, -1)), a, 1 - a), nt) == "-(y/a)·a·(1 - a)"
    )  # not -y/a·a·(1 - a)
