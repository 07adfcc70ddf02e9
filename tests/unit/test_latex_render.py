"""Unit tests for derive/render/latex.py: escape() neutralises every TeX special character and
non-printable character while Tex passes through, block labels are unique and TeX-safe, render_block's
lines and references (title, label), the notation table's rows, and math()."""

import re

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import Network
from derive.model.steps import COST, BlockKey, Part
from derive.notation.printing import latex
from derive.render.latex import Tex, escape, label, math, notation_rows, render_block, render_blocks

# What each TeX special character must become, written out from TeX's rules (not read from the module).
SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",  # wrong glyphs in OT1 if left alone
    "`": r"\textasciigrave{}",  # two backquotes are TeX's opening quotes (a ligature)
}
# Symbols of sentences ("σ'(z) = σ(z)·(1 − σ(z))") set as math, so pdflatex needs no Unicode font for them;
# a Greek letter only where it stands alone (σ(z)), not in a Greek word.
MATH = {
    "·": r"\ensuremath{\cdot}",
    "²": r"\ensuremath{^{2}}",
    "³": r"\ensuremath{^{3}}",
    "−": r"\ensuremath{-}",
    "′": r"\ensuremath{'}",
    "∂": r"\ensuremath{\partial}",
    "⊙": r"\ensuremath{\odot}",
    "≈": r"\ensuremath{\approx}",
    "→": r"\ensuremath{\to}",
    "×": r"\ensuremath{\times}",
    "∑": r"\ensuremath{\sum}",
    "≤": r"\ensuremath{\le}",
    "≥": r"\ensuremath{\ge}",
    "σ": r"\ensuremath{\sigma}",
    "δ": r"\ensuremath{\delta}",
    "η": r"\ensuremath{\eta}",
    "λ": r"\ensuremath{\lambda}",
    "Σ": r"\ensuremath{\Sigma}",
    "ε": r"\ensuremath{\varepsilon}",
    "φ": r"\ensuremath{\varphi}",
    "Ω": r"\ensuremath{\Omega}",
}
# Escaped text is a sequence of these: an escape, a math symbol, or one character harmless in TeX's text mode.
SAFE = re.compile(
    "(?:"
    + "|".join(re.escape(v) for v in SPECIAL.values())
    + r"|\\ensuremath\{\\?[A-Za-z]*\}|\\ensuremath\{(?:\^\{[23]\}|[-'])\}"
    + r"|[^\\{}$&#%_^~<>|`\x00-\x1f\x7f])*"
)


# escape -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("char", list(SPECIAL))
def test_each_special_character_is_neutralised(char):
    assert escape(char) == SPECIAL[char]
    assert escape(f"a{char}b") == f"a{SPECIAL[char]}b"


def test_a_hostile_title_is_made_harmless():
    out = escape(r"50% of \input{/etc/passwd} & $x$ #1 ~ ^_{}")
    assert out == (
        r"50\% of \textbackslash{}input\{/etc/passwd\} \& \$x\$ \#1 \textasciitilde{} "
        r"\textasciicircum{}\_\{\}"
    )
    assert isinstance(out, Tex)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\t", "\x1b", "\x7f", "\u200b", "\u2028", "\xa0"])
def test_non_printable_characters_become_question_marks(char):
    assert escape(f"a{char}b") == "a?b"


def test_line_breaks_become_spaces_and_printable_unicode_stays():
    assert escape("one\ntwo\r\nthree") == "one two  three"
    assert (
        escape("Übung 3 — Σφάλμα 反向传播 🧠") == "Übung 3 — Σφάλμα 反向传播 🧠"
    )  # a Greek word stays text


@pytest.mark.parametrize("char", list(MATH))
def test_a_symbol_standing_alone_is_set_as_math(char):
    assert escape(f"{char}(z)") == MATH[char] + "(z)"
    assert escape(f"x {char} y") == f"x {MATH[char]} y"


def test_reasons_read_as_math_and_greek_words_stay():
    assert escape("σ' = σ(1 − σ)") == (
        r"\ensuremath{\sigma}' = \ensuremath{\sigma}(1 \ensuremath{-} "
        r"\ensuremath{\sigma})"
    )
    assert escape("(u^n)' = n·u") == r"(u\textasciicircum{}n)' = n\ensuremath{\cdot}u"
    assert escape("Ελληνικά σε λέξη") == "Ελληνικά σε λέξη"


def test_tex_passes_through_and_other_objects_are_escaped_as_text():
    trusted = Tex(r"\frac{\partial C_0}{\partial w}")
    assert escape(trusted) is trusted
    assert escape(12.5) == "12.5" and escape(None) == "None"
    assert escape(["a_b"]) == r"['a\_b']"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_text_never_contains_a_live_special_character(text):
    out = escape(text)
    assert SAFE.fullmatch(out), (text, out)
    assert out.isprintable()
    # Nothing is lost: one output unit (an escape or a character) per input character.
    units = re.findall(
        "|".join(re.escape(v) for v in SPECIAL.values())
        + r"|\\ensuremath\{(?:\^\{[23]\}|[^{}]*)\}|.",
        out,
        re.DOTALL,
    )
    assert len(units) == len(text)


# label --------------------------------------------------------------------------------------------
def test_labels_by_hand():
    assert label(BlockKey.layer(12)) == "blk:layer-12"
    assert label(COST) == "blk:cost" and label(BlockKey(Part.SUMMARY)) == "blk:summary"
    assert (
        label(BlockKey.activation("leaky-relu(slope=1/10)"))
        == "blk:activation-leaky-relu-slope-1-10-"
    )


def test_labels_of_every_block_are_unique_and_tex_safe():
    nets = [
        Network(
            [2, 3, 3, 2],
            activation=["leaky-relu(slope=1/10)", "sigmoid(gain=-3/2)", "sigmoid(gain=3/2)"],
            bias=True,
        ),
        Network([2, 2, 2, 1], activation=["softplus", "relu", "sigmoid(gain=alpha)"]),
        Network([1, 1], activation="leaky-relu"),
    ]
    keys = {b.key for net in nets for b in net.derivation().blocks}
    keys |= {BlockKey.layer(layer) for layer in range(1, 65)}
    labels = {label(key) for key in keys}
    assert len(labels) == len(keys)
    assert all(re.fullmatch(r"blk:[A-Za-z0-9-]+", lab) for lab in labels)


# render_block -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mixed():
    return Network([2, 3, 1], activation=["sigmoid", "tanh"], bias=True).derivation()


def test_render_block_keeps_the_steps_in_latex_numbered(mixed):
    nt = mixed.network.notation
    block = mixed.block("layer:1")
    shown = render_block(block, mixed)
    assert (shown.key, shown.label, shown.title) == (
        block.key,
        "blk:layer-1",
        "Weights into hidden layer 1: layer 1",
    )
    assert [line.number for line in shown.lines] == list(range(1, len(block.steps) + 1))
    for line, step in zip(shown.lines, block.steps):
        assert isinstance(line.lhs, Tex) and isinstance(line.rhs, Tex)
        assert line.lhs == latex(step.lhs, nt) and line.rhs == latex(step.rhs, nt)
        assert line.rule == step.rule.title and line.text == step.text
        assert not isinstance(line.rule, Tex) and not isinstance(
            line.text, Tex
        )  # plain text: the template escapes


def test_continued_lines_are_those_with_the_previous_left_hand_side(mixed):
    for block in mixed.blocks:
        shown = render_block(block, mixed)
        flags = [line.continued for line in shown.lines]
        assert flags == [
            i > 0 and step.lhs == block.steps[i - 1].lhs for i, step in enumerate(block.steps)
        ]
    cost = render_block(mixed.block("cost"), mixed)
    # C_0 = ..., dC/da = ..., then the derivative step by step: = 2(a - y) d(a - y)/da = ... = 2(a - y)
    assert [line.continued for line in cost.lines] == [False, False] + [True] * (
        len(cost.lines) - 2
    )
    assert len(cost.lines) > 3


def test_references_carry_the_title_and_the_label(mixed):
    titles = {b.key: b.title for b in mixed.blocks}
    shown = render_block(mixed.block("layer:1"), mixed)
    seen = set()
    for line, step in zip(shown.lines, mixed.block("layer:1").steps):
        assert line.refs == tuple((titles[r], label(r)) for r in step.refs)
        seen |= set(line.refs)
    assert ("Weights into the output layer: layer 2", "blk:layer-2") in seen
    assert ("Derivative of the logistic sigmoid", "blk:activation-sigmoid") in seen
    every = render_blocks(mixed)
    assert list(every) == [b.key for b in mixed.blocks]
    targets = {r[1] for rb in every.values() for line in rb.lines for r in line.refs}
    assert targets <= {rb.label for rb in every.values()}  # every \ref has its \label


# notation_rows ------------------------------------------------------------------------------------
def meanings(net):
    return {str(symbol): meaning for symbol, meaning in notation_rows(net)}


def test_notation_rows_with_bias():
    net = Network([2, 3, 1], activation=["sigmoid", "tanh"], bias=True)
    rows = notation_rows(net)
    assert all(isinstance(symbol, Tex) and isinstance(meaning, str) for symbol, meaning in rows)
    m = meanings(net)
    assert m[r"l = 0, \dots, 2"] == "layers: 0 is the input, 2 = L the output"
    assert m["n^{(l)}"] == "number of nodes in layer l: 2, 3, 1"
    assert m["w_{jk}^{(l)}"] == "weight from node k of layer l-1 to node j of layer l"
    assert m["b_{j}^{(l)}"] == "bias of node j in layer l"
    assert m["C_{0}"] == "single-sample cost (quadratic cost)"
    assert m[r"\eta"] == "learning rate of gradient descent"
    assert m[r"\Delta w_{jk}^{(l)}"] == "change of the weight by one step of gradient descent"
    assert m[r"\Delta b_{j}^{(l)}"] == "change of the bias by one step of gradient descent"
    activations = [meaning for _, meaning in rows if meaning.startswith("activation of")]
    assert activations == [
        "activation of layer 1: logistic sigmoid",
        "activation of layer 2: hyperbolic tangent",
    ]


def test_notation_rows_without_bias_and_with_a_shared_activation():
    net = Network([2, 2, 2, 1], activation=["relu", "relu", "identity"])
    m = meanings(net)
    assert not any(symbol.startswith("b_") for symbol in m)
    activations = [
        meaning for _, meaning in notation_rows(net) if meaning.startswith("activation of")
    ]
    assert activations == [
        "activation of layers 1, 2: rectified linear unit (ReLU'(0) = 0)",
        "activation of layer 3: identity",
    ]


def test_notation_rows_list_each_activation_once():
    net = Network([2, 2, 2, 1], activation=["sigmoid", "tanh", "sigmoid"])
    activations = [
        meaning for _, meaning in notation_rows(net) if meaning.startswith("activation of")
    ]
    assert activations == [
        "activation of layers 1, 3: logistic sigmoid",
        "activation of layer 2: hyperbolic tangent",
    ]


# math ---------------------------------------------------------------------------------------------
def test_math_is_trusted_latex_in_the_networks_notation():
    net = Network([2, 3, 1])
    s = net.symbols
    out = math(s.w[2, s.j, s.k], net)
    assert isinstance(out, Tex) and out == "w_{jk}^{(2)}"
    assert math(s.delta[1, s.j], net) == r"\delta_{j}^{(1)}"
    nielsen = Network([2, 3, 1], notation="nielsen")
    assert (
        math(nielsen.symbols.w[2, s.j, s.k], nielsen) == "w_{jk}^{2}"
    )  # superscript without parentheses
    expr = sp.Derivative(s.cost, s.a[2, s.j])
    assert math(expr, net) == latex(expr, net.notation)
    out = math(expr, net)
    assert escape(out) is out  # never escaped twice
