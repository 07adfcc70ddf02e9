"""Reasons in the notation (issue 18, part 5): a step's reason is data (``Reason``: a kind and the index
symbols, layers and rule formulas it speaks of), worded by derive/render/reasons.py in the letters the
formulas use; rule formulas such as (u^n)' = n u^(n-1) u' are math on sheets, slides and the page."""

import html
import json
import re

import pytest
import sympy as sp

from derive import Network
from derive.cli import main
from derive.documents.html import render_html
from derive.documents.sheet import render_sheet
from derive.documents.slides import render_slides
from derive.model.steps import LayerRef, Reason, ReasonKind, Step, Rule
from derive.notation.formulas import Prime
from derive.notation.letters import PRESETS, Notation
from derive.render.display import md_reason
from derive.render.latex import reason_tex, render_block
from derive.render.reasons import WORDING, reason_text, word
from derive.render.terminal import render_steps, steps_data

RENAMED = Notation(node="m", prev="n")
NOTATIONS = {
    "m-n": RENAMED,
    "all-letters": Notation(node="m", prev="n", downstream=("r", "s", "t"), layer="h", sample="e"),
    **PRESETS,
}
NETWORKS = {  # (sizes, keyword arguments): every kind of block and reason
    "sigmoid-biases": ([2, 3, 1], dict(activation="sigmoid", bias=True)),
    "tanh-relu-l2": ([2, 3, 2, 1], dict(activation=["tanh", "relu", "sigmoid"], l2="1/10")),
    "softmax": ([2, 3, 3], dict(activation=["sigmoid", "softmax"], cost="log-likelihood")),
    "gelu-cross-entropy": ([1, 2, 1], dict(activation=["gelu", "sigmoid"], cost="cross-entropy")),
    "user-defined": ([1, 2, 1], dict(activation=[r"g(z) = \frac{z}{1+|z|}", "leaky-relu"])),
}
INDEX_FIELDS = ("node", "prev", "layer", "sample")


def network(name: str, notation: Notation) -> Network:
    sizes, kwargs = NETWORKS[name]
    return Network(sizes, notation=notation, **kwargs)


def renamed_letters(nt: Notation) -> set[str]:
    """The default notation's index letters that ``nt`` renamed and does not use for anything else."""
    default = PRESETS["default"]
    old = {getattr(default, f) for f in INDEX_FIELDS if getattr(nt, f) != getattr(default, f)}
    old |= set(default.downstream[:3]) - set(nt.downstream)
    used = {
        nt.node,
        nt.prev,
        nt.layer,
        nt.sample,
        nt.input,
        nt.target,
        nt.size,
        nt.samples,
        *nt.downstream,
    }
    return old - used


def has_letter(text: str, letter: str) -> bool:
    """``letter`` standing alone (node j, k' = k, z_j), not inside a word or a TeX command."""
    return re.search(rf"(?<![A-Za-z\\]){re.escape(letter)}(?![A-Za-z])", text) is not None


def all_steps(net: Network):
    d = net.derivation()
    for block in d.blocks:
        for number, step in enumerate(block.steps):
            yield d, block, number, step


def letters(expr: sp.Basic) -> set[sp.Symbol]:
    return set(expr.atoms(sp.Symbol))


# Worded in the notation's letters ------------------------------------------------------------------
@pytest.mark.parametrize("notation", NOTATIONS, ids=str)
@pytest.mark.parametrize("name", NETWORKS)
def test_no_reason_says_a_letter_the_notation_renamed(name, notation):
    nt = NOTATIONS[notation]
    net = network(name, nt)
    gone = renamed_letters(net.notation)
    for d, block, number, step in all_steps(net):
        text = reason_text(step.reason, net.notation)
        tex = render_block(block, d).lines[number].why
        for letter in gone:
            assert not has_letter(text, letter), (block.key, text)
            assert not has_letter(tex, letter), (block.key, tex)
        assert (
            step.text == text
        )  # a derivation's step words its reason in the derivation's notation


def test_the_renamed_letters_are_the_ones_the_reasons_say():
    net = network("sigmoid-biases", RENAMED)
    said = {reason_text(step.reason, net.notation) for *_, step in all_steps(net)}
    assert "Weighted input of node m in layer 1." in said
    assert "Only the term m' = m of the sum contains this output." in said
    assert (
        "Only the term with n' = n contains the weight; its coefficient is the input from node n."
        in said
    )
    assert (
        "This activation feeds the weighted input of every node i of layer 2: add up the paths."
        in said
    )
    assert "Only the term n' = m contains this activation." in said
    assert "Name the error of node m: every weight into the node shares this factor." in said


def test_layers_are_named_as_the_notation_names_them():
    net = network("sigmoid-biases", PRESETS["deeplizard"])
    for d, block, number, step in all_steps(net):
        text = reason_text(step.reason, net.notation)
        assert not re.search(r"layer \d", text), text  # deeplizard's layers are L, L-1, ...
    said = {reason_text(step.reason, net.notation) for *_, step in all_steps(net)}
    assert "Weighted input of node j in layer L-1." in said
    assert "The terms of the sum are the errors of layer L: the delta recursion." in said


@pytest.mark.parametrize("notation", NOTATIONS, ids=str)
@pytest.mark.parametrize("name", NETWORKS)
def test_a_reasons_letters_are_the_symbols_its_formulas_use(name, notation):
    """Every index symbol a reason names is a symbol of its block's formulas (taken from the engine,
    not typed again): the k' of "the term k' = k" is the k' of the sum written out a line before."""
    net = network(name, NOTATIONS[notation])
    s = net.symbols
    indices = {s.j, s.k, s.j_sum, s.k_sum, s.l, s.sample, *s.downstream}
    for d, block, number, step in all_steps(net):
        used = set().union(
            *(
                letters(st.lhs) | letters(st.rhs)
                for st in block.steps[max(0, number - 1) : number + 1]
            )
        )
        for expr in step.reason.expressions():
            assert letters(expr) & indices <= used, (block.key, step.reason)


def test_the_reasons_carry_the_engines_symbols_and_layers():
    net = network("sigmoid-biases", RENAMED)
    s = net.symbols
    forward = net.derivation().block("forward").steps
    assert forward[0].reason == Reason(
        ReasonKind.WEIGHTED_INPUT, (("node", s.j), ("layer", LayerRef(1)))
    )
    weight_term = net.derivation().block("layer:2").steps[4].reason
    assert weight_term.kind is ReasonKind.ONLY_TERM_HAS_WEIGHT
    assert weight_term["term"] == sp.Eq(s.k_sum, s.k) and weight_term["node"] == s.k


def test_every_kind_has_a_wording():
    assert set(WORDING) == set(ReasonKind)


def test_a_step_given_a_sentence_keeps_it():
    step = Step(sp.Symbol("C"), sp.Integer(1), Rule.DEFINITION, "Any sentence, with j in it.")
    assert step.reason.kind is ReasonKind.SENTENCE and step.text == "Any sentence, with j in it."
    assert reason_tex(word(step.reason)) == "Any sentence, with j in it."


def test_the_terminal_header_names_the_notations_letters():
    header = render_steps(Network([2, 3, 1], notation=RENAMED).derivation()).splitlines()[0]
    assert header.endswith("L = 2, m in layer l, n in layer l-1, i in layer l+1")
    default = render_steps(Network([2, 3, 1]).derivation()).splitlines()[0]
    assert default.endswith("L = 2, j in layer l, k in layer l-1, i in layer l+1")


# Rule formulas are math -------------------------------------------------------------------------------
def outside_math(tex: str) -> str:
    """``tex`` without its ``$...$`` math."""
    return re.sub(r"\$[^$]*\$", "", tex)


def formula_reasons(net: Network):
    """(block, number, step) of every step whose reason holds a rule formula (a derivative with a prime)."""
    for d, block, number, step in all_steps(net):
        if any(
            expr.has(Prime) or isinstance(expr, sp.Equality) for expr in step.reason.expressions()
        ):
            yield d, block, number, step


@pytest.mark.parametrize("name", NETWORKS)
def test_rule_formulas_are_math_in_latex_and_unicode_in_the_terminal(name):
    net = network(name, PRESETS["default"])
    found = list(formula_reasons(net))
    assert found
    for d, block, number, step in found:
        tex = render_block(block, d).lines[number].why
        assert "$" in tex and "^" not in outside_math(tex) and "textasciicircum" not in tex, tex
        assert "$" not in reason_text(step.reason, net.notation)


def test_the_power_rule_reads_as_math_everywhere():
    net = Network([2, 3, 1], activation="sigmoid")
    step = net.derivation().block("activation:sigmoid").steps[2]
    assert step.reason.kind is ReasonKind.POWER_CHAIN
    assert step.text == "Power rule with the chain rule: (u^n)' = n·u^(n - 1)·u'."
    tex = reason_tex(word(step.reason, net.notation))
    assert tex == r"Power rule with the chain rule: $\left(u^{n}\right)' = n u^{n - 1} u'$."
    assert md_reason(step, net.notation) == tex  # markdown: the same inline math


@pytest.mark.parametrize("name", NETWORKS)
def test_the_sheet_sets_no_caret_outside_math_in_a_reason(name):
    sheet = render_sheet(network(name, PRESETS["default"]))
    whys = [line for line in sheet.splitlines() if line.startswith(r"\why{")]
    assert whys and any("$" in line for line in whys)
    for line in whys:
        assert "^" not in outside_math(line) and "textasciicircum" not in line, line


def test_the_slides_set_reasons_and_notes_with_math():
    deck = render_slides(network("sigmoid-biases", PRESETS["default"]))
    blocks = re.findall(r"\\begin\{block\}\{[^}]*\}\\raggedright (.*?)\\end\{block\}", deck)
    notes = re.findall(r"\\note<\d+>\{(.*)\}", deck)
    assert any(r"$\left(u^{n}\right)' = n u^{n - 1} u'$" in b for b in blocks)
    for text in blocks + notes:
        assert (
            "^" not in outside_math(text) and "textasciicircum" not in text and r"\$" not in text
        ), text


def test_the_page_hands_each_formula_of_a_reason_to_katex():
    page = render_html(network("sigmoid-biases", PRESETS["default"]))
    whys = re.findall(r'<p class="why">(.*?)</p>', page)
    assert whys
    spans = re.compile(r'<span class="math inline" data-tex="([^"]*)">[^<]*</span>')
    formulas = {html.unescape(tex) for why in whys for tex in spans.findall(why)}
    assert r"\left(u^{n}\right)' = n u^{n - 1} u'" in formulas
    for why in whys:
        assert "^" not in spans.sub("", why), why


# The JSON keeps the worded sentence ------------------------------------------------------------------------
def test_json_steps_carry_the_sentence_in_the_networks_notation(capsys):
    assert main(["steps", "--layers", "2", "3", "1", "--notation", "deeplizard", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    sentences = [st["sentence"] for block in data["blocks"] for st in block["steps"]]
    assert all(isinstance(s, str) and s for s in sentences)
    assert "Weighted input of node j in layer L-1." in sentences
    assert "Power rule with the chain rule: (u^n)' = n·u^(n - 1)·u'." in sentences


def test_json_of_a_renamed_notation_says_its_letters():
    data = steps_data(Network([2, 3, 1], notation=RENAMED).derivation())
    sentences = [st["sentence"] for block in data["blocks"] for st in block["steps"]]
    assert "Weighted input of node m in layer 1." in sentences
    assert not any(has_letter(s, "j") or has_letter(s, "k") for s in sentences)
