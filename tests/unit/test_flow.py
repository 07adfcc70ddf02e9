"""Unit tests for derive/render/flow.py (frames: the factor highlighted, the network lit) and for the
frames derive/documents/slides.py makes of them (overlays, chunks, variants, lit nodes)."""

import pytest

from derive import Network
from derive.documents.slides import chunks, derivation_frames, overlay_spec, slides_context
from derive.model.steps import COST, FORWARD, SUMMARY, BlockKey
from derive.model.values import Values
from derive.render.flow import Light, block_frame, frames, sheet_order, step_light
from derive.render.latex import network_drawing


@pytest.fixture(scope="module")
def net():
    return Network([2, 3, 2])


@pytest.fixture(scope="module")
def derivation(net):
    return net.derivation()


def layer_frames(derivation, layer):
    return frames(derivation, [derivation.block(BlockKey.layer(layer))])


# flow.py -----------------------------------------------------------------------------------------
def test_every_step_is_a_frame_in_sheet_order(derivation):
    blocks = sheet_order(derivation)
    assert blocks[0].key == FORWARD and blocks[1].key == COST
    assert len(frames(derivation)) == sum(len(b.steps) for b in blocks)
    for frame in frames(derivation):
        assert len(frame.lines) == frame.step and frame.new is frame.lines[-1]
        assert frame.note == f"{frame.new.rule}: {frame.new.text}"


def test_the_first_line_highlights_nothing(derivation):
    first = layer_frames(derivation, 2)[0]
    assert not first.new.highlighted and r"\derivehl" not in first.new.lhs + first.new.rhs


def test_a_factor_being_derived_is_highlighted_where_it_is_used_and_on_its_new_line(derivation):
    """dC/dw = dC/da da/dz dz/dw, then dC/da = ...: dC/da is marked in line 1 and as line 2's left side."""
    second = layer_frames(derivation, 2)[1]
    factor = r"\derivehl{\frac{\partial C_{0}}{\partial a_{j}^{(2)}}}"
    assert second.lines[0].highlighted and factor in second.lines[0].rhs
    assert second.new.highlighted and second.new.lhs == factor
    assert r"\derivehl" not in second.new.rhs
    third = layer_frames(derivation, 2)[2]  # da/dz: now that factor is marked, dC/da no longer
    assert r"\derivehl{\frac{\partial a_{j}^{(2)}}{\partial z_{j}^{(2)}}}" in third.lines[0].rhs
    assert factor not in third.lines[0].rhs and not third.lines[1].highlighted


def test_a_highlight_lasts_one_frame(derivation):
    """The same line printed at a later step is plain again unless that step marks it."""
    later = layer_frames(derivation, 2)[4]
    assert r"\derivehl" not in later.lines[1].lhs


def test_a_continued_line_marks_the_factors_it_changed(derivation):
    frames_1 = layer_frames(derivation, 1)
    marked = [f for f in frames_1 if f.new.continued and f.new.highlighted]
    assert marked, "some continued line of layer 1 marks a factor"
    for frame in marked:
        assert r"\derivehl" in frame.new.rhs and r"\derivehl" not in frame.new.lhs


def test_a_named_quantity_used_later_is_marked_where_it_was_named(derivation):
    """dC/dw = delta_j a_k (step 10) uses delta_j, named at line 7: marked in both lines, not on lines 8, 9."""
    frame = layer_frames(derivation, 2)[9]
    delta = r"\derivehl{\delta_{j}^{(2)}}"
    assert frame.new.rhs.startswith(delta) and frame.lines[6].lhs == delta
    assert [line.number for line in frame.lines if line.highlighted] == [7, 10]


def test_the_summary_marks_nothing(derivation):
    assert not any(
        line.highlighted
        for f in frames(derivation, [derivation.block(SUMMARY)])
        for line in f.lines
    )


def test_a_hidden_layer_step_lights_the_downstream_nodes_summed_over(net, derivation):
    """dC/da_j^(1) = sum_i dC/dz_i^(2) dz_i^(2)/da_j^(1): node j of layer 1 and every node i of layer 2."""
    step = layer_frames(derivation, 1)[1]
    assert "sum" in step.new.rhs
    assert {(2, 0), (2, 1)} <= step.light.nodes and (1, 0) in step.light.nodes
    assert (0, 0) not in step.light.nodes


def test_a_weight_step_lights_the_weight_and_its_two_nodes(net, derivation):
    first = layer_frames(derivation, 2)[0]  # dC/dw_jk^(2): node j = 0 of layer 2, k = 0 of layer 1
    assert first.light == Light(frozenset({(2, 0), (1, 0)}), frozenset({((1, 0), (2, 0))}))


def test_summary_steps_light_nothing(net, derivation):
    block = derivation.block(SUMMARY)
    titles = {b.key: b.title for b in derivation.blocks}
    for n in range(1, len(block.steps) + 1):
        frame = block_frame(net, block, n, titles)
        assert frame.light == Light()
        assert step_light(net, SUMMARY, block.steps[n - 1]) == Light()


def test_nielsen_summary_lines_carry_their_labels():
    d = Network([2, 2], notation="nielsen").derivation()
    tags = [f.new.tag for f in frames(d, [d.block(SUMMARY)])]
    assert tags[0] == "BP1" and all(tags)


def test_light_union():
    a = Light(frozenset({(0, 0)}), frozenset({((0, 0), (1, 0))}))
    b = Light(frozenset({(1, 0)}))
    assert (a | b).nodes == {(0, 0), (1, 0)} and (a | b).edges == a.edges


# slides.py: overlays ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "overlays, last, spec",
    [
        ([1], 1, "1"),
        ([1, 2, 3], 3, "1-"),
        ([2], 5, "2"),
        ([1, 3, 4, 5], 5, "1,3-"),
        ([2, 3], 5, "2-3"),
        ([1, 2, 4], 5, "1-2,4"),
        ([5], 5, "5"),
        ([], 3, ""),
    ],
)
def test_overlay_spec(overlays, last, spec):
    assert overlay_spec(overlays, last) == spec


@pytest.mark.parametrize(
    "count, size, lengths",
    [(5, 5, [5]), (6, 5, [3, 3]), (13, 5, [4, 5, 4]), (15, 5, [5, 5, 5]), (1, 5, [1])],
)
def test_chunks_are_even(count, size, lengths):
    pieces = chunks(count, size)
    assert [len(p) for p in pieces] == lengths and [i for p in pieces for i in p] == list(
        range(count)
    )


def test_slide_frames_show_every_step_once_line_n_from_overlay_n(net):
    drawing = network_drawing(net)
    slides = derivation_frames(net, drawing)
    assert sum(f.overlays for f in slides) == len(frames(net.derivation()))
    for frame in slides:
        assert len(frame.lines) == frame.overlays <= 5
        for position, line in enumerate(frame.lines, 1):
            shown = sorted(n for v in line.variants for n in _expand(v.overlays, frame.overlays))
            assert shown == list(
                range(position, frame.overlays + 1)
            )  # from its overlay on, once each
        assert [r.overlay for r in frame.reasons] == list(range(1, frame.overlays + 1))


def output_layer_frame(net):
    return next(
        f
        for f in derivation_frames(net, network_drawing(net))
        if f.title.startswith("Weights into the out")
    )


def test_the_highlighted_variant_shows_only_at_its_overlay(net):
    frame = output_layer_frame(net)
    assert frame.overlays == 4  # 13 steps: frames of 4, 5 and 4
    first = frame.lines[
        0
    ]  # dC/dw = dC/da da/dz dz/dw: marked at overlays 2, 3 and 4, one factor each
    marked = [v for v in first.variants if r"\derivehl" in v.tex]
    assert [v.overlays for v in marked] == ["2", "3", "4"]
    assert [v.overlays for v in first.variants if r"\derivehl" not in v.tex] == ["1"]
    second = frame.lines[1]  # dC/da = 2(a - y): marked as it appears, plain after
    assert [(v.overlays, r"\derivehl" in v.tex) for v in second.variants] == [
        ("2", True),
        ("3-", False),
    ]


def test_lit_nodes_follow_the_steps(net):
    frame = output_layer_frame(net)
    lit = {node.name: overlays for node, overlays in frame.nodes}
    assert lit["n0x0"] == "" and "1" in lit["n2x0"].split(",")[0]
    assert all(overlays for _, _, overlays in frame.edges)


def test_worked_example_frames_unfold_each_calculation(net):
    values = Values(
        x=(1, 0), y=(0, 1), weights=(((1, 2), (3, 4), (5, 6)), ((1, 0, 1), (0, 1, 0))), biases=None
    )
    context = slides_context(net, values=values)
    titles = [f.title for f in context["example_frames"]]
    assert titles[0].startswith("Worked example: forward pass") and any(
        "backward" in t for t in titles
    )
    overlays = sum(f.overlays for f in context["example_frames"])
    assert overlays == len(context["example"].calculations)  # one overlay per calculation
    first = context["example_frames"][0]
    assert (
        first.lines[0].variants[0].tex.startswith("z_{0}^{(1)} = ")
    )  # formula = numbers put in = result
    lit = {node.name: overlays for node, overlays in first.nodes}
    assert lit["n1x0"].startswith("1") and lit["n0x0"].startswith("1")  # z_0^(1) from the inputs


def _expand(spec: str, last: int) -> list[int]:
    out = []
    for part in filter(None, spec.split(",")):
        start, dash, end = part.partition("-")
        out += list(range(int(start), (int(end) if end else last) + 1 if dash else int(start) + 1))
    return out
