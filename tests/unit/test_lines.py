"""Unit tests for derive/render/lines.py (the one view model of a printed step: ``Line``, ``Ref``,
``step_lines``) and for the renderers that lay it out (sheet, frames, page, terminal, Jupyter)."""

import pytest
import sympy as sp

from derive import Network
from derive.model.steps import COST, SUMMARY, Block, BlockKey, Rule, Step
from derive.notation.letters import PRESETS
from derive.notation.printing import latex, text
from derive.render import display
from derive.render.flow import FlowLine, frames
from derive.render.html import PageLine, page
from derive.render.latex import Tex, render_block
from derive.render.lines import Line, Ref, block_lines, label, step_lines
from derive.render.reasons import word
from derive.render.terminal import block_text, render_blocks

x, y, z = sp.symbols("x y z")


@pytest.fixture(scope="module")
def derivation():
    return Network([2, 3, 1], bias=True, notation="nielsen").derivation()


def test_a_line_is_the_step_printed_in_the_notation(derivation):
    nt = derivation.network.notation
    block = derivation.block(SUMMARY)
    titles = {b.key: b.title for b in derivation.blocks}
    for line, step in zip(block_lines(block, nt, titles), block.steps):
        assert (line.lhs, line.rhs) == (latex(step.lhs, nt), latex(step.rhs, nt)) and isinstance(
            line.lhs, Tex
        )
        assert line.rule == step.rule.title and line.reason == word(step.reason, nt)
        assert line.tag == step.tag(nt) and line.text == step.text
    plain = block_lines(block, nt, titles, printer=text)
    assert [line.lhs for line in plain] == [text(step.lhs, nt) for step in block.steps]
    assert not isinstance(plain[0].lhs, Tex)


def test_continued_means_the_left_side_of_the_line_before():
    steps = (
        Step(x, y, Rule.DEFINITION, "a"),
        Step(x, z, Rule.SUBSTITUTION, "b"),
        Step(y, z, Rule.DEFINITION, "c"),
        Step(x, z, Rule.DEFINITION, "d"),
    )
    assert [line.continued for line in step_lines(steps, PRESETS["default"])] == [
        False,
        True,
        False,
        False,
    ]
    assert [line.number for line in step_lines(steps, PRESETS["default"])] == [1, 2, 3, 4]


def test_refs_are_titles_and_labels_and_a_missing_title_is_the_key():
    step = Step(x, y, Rule.CHAIN_RULE, "r", (COST, BlockKey.layer(2)))
    (line,) = step_lines([step], PRESETS["default"], {COST: "The cost"})
    assert line.refs == (Ref("The cost", "blk:cost"), Ref("layer:2", "blk:layer-2"))
    assert line.refs[0].title == "The cost" and tuple(line.refs[1]) == (
        "layer:2",
        label(BlockKey.layer(2)),
    )


def test_a_plain_string_reason_is_words_and_widened_keeps_every_field():
    line = Line(3, "a", "b", True, "rule", "Some words.", (Ref("T", "blk:t"),), "BP1")
    assert line.text == "Some words." and line.why == "Some words."
    flow = line.widened(FlowLine, highlighted=True)
    assert (
        isinstance(flow, FlowLine)
        and flow.highlighted
        and flow.refs == line.refs
        and flow.tag == "BP1"
    )
    shown = line.widened(PageLine, refs=())
    assert shown.refs == () and shown.marks == () and (shown.number, shown.continued) == (3, True)


def test_every_renderer_lays_out_the_same_lines(derivation):
    nt = derivation.network.notation
    block = derivation.block(BlockKey.layer(2))
    lines = block_lines(block, nt, {b.key: b.title for b in derivation.blocks})
    assert render_block(block, derivation).lines == lines  # the sheet's
    unmarked = [f.lines[-1] for f in frames(derivation, [block])]
    for frame_line, line in zip(
        unmarked, lines
    ):  # the frames': the same, or the same with a factor marked
        assert (
            frame_line.number,
            frame_line.rule,
            frame_line.reason,
            frame_line.refs,
            frame_line.continued,
        ) == (line.number, line.rule, line.reason, line.refs, line.continued)
    page_block = next(b for b in page(derivation.network).blocks if b.label == label(block.key))
    assert [(p.lhs, p.rhs, p.text) for p in page_block.lines] == [
        (s.lhs, s.rhs, s.text) for s in lines
    ]


def test_a_block_prints_as_the_terminal_prints_it_in_every_view(derivation):
    block = derivation.block(COST)
    expected = render_blocks([block], derivation)
    assert (
        block_text(block, derivation.network.notation, {b.key: b.title for b in derivation.blocks})
        == expected
    )
    assert display.block_text(block, derivation.network.notation) == expected
    assert str(display.show(block)) == expected
    assert expected in str(display.show(derivation))  # a block reads as it does in its derivation


def test_a_block_made_on_its_own_prints_in_the_default_notation():
    block = Block(COST, "Alone", (Step(x, y, Rule.DEFINITION, "First.", (BlockKey.layer(1),)),))
    assert (
        block_text(block, PRESETS["default"])
        == "Alone\n-----\n(1) x = y\n      definition: First. (see: layer:1)"
    )


# Jupyter's display: by class, not by a class's name ------------------------------------------------
def test_the_view_is_chosen_by_class():
    step = Step(x, y, Rule.DEFINITION, "r")
    assert display.show(step).view is display.STEP
    assert (
        display.show([step, step]).view is display.STEPS
        and display.show([]).view is display.MISMATCHES
    )
    assert (
        display.show(sp.Eq(x, y)).view is display.EQUALITY
        and display.show(x + y).view is display.EXPRESSION
    )
    assert display.show(sp.Matrix([[x]])).view is display.EXPRESSION

    class CheckReport:  # named like the gradient check's report, but not it
        groups = ()

    for value in (CheckReport(), [step, 1], "text"):
        with pytest.raises(TypeError, match="derive cannot display"):
            display.show(value)


def test_a_report_and_a_derivation_display_by_their_classes(derivation):
    from derive.checks.steps import Mismatch

    assert display.show(derivation).view is display.DERIVATION
    assert str(display.show(derivation)).startswith("Network [2, 3, 1]")
    mismatch = Mismatch("claim", (("j", 0),), x, y)
    assert (
        display.show(mismatch).view is display.MISMATCH
        and display.show([mismatch]).view is display.MISMATCHES
    )
    assert (
        display.show(mismatch)._repr_latex_().startswith("$$")
        and display.show([mismatch])._repr_latex_() is None
    )


def test_a_derivation_names_its_blocks_once(derivation):
    assert dict(derivation.titles) == {b.key: b.title for b in derivation.blocks}
    assert all(b.origin.titles is derivation.titles for b in derivation.blocks)
