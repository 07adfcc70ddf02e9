"""Unit tests for derive/model/steps.py: Rule titles, Part and BlockKey (printing and parsing), the frozen
Step and Block with their refs and results, ``product``, ``instantiate``, and with_origin."""

import dataclasses

import pytest
import sympy as sp

from derive.model.activations import NAMES, Z, relu
from derive.model.steps import (
    AVERAGE,
    COST,
    FORWARD,
    SUMMARY,
    UPDATE,
    Block,
    BlockKey,
    NamedResult,
    Part,
    Result,
    Rule,
    Step,
    instantiate,
    product,
    with_origin,
)
from derive.notation.letters import PRESETS

x, y, z, w = sp.symbols("x y z w")


# Rule --------------------------------------------------------------------------------------------


def test_rule_title_is_its_human_name():
    assert Rule.CHAIN_RULE.title == "chain rule"
    assert Rule.POWER_RULE.title == "power rule"
    assert Rule.CONVENTION.title == "convention at the kink"
    assert Rule.EXPONENTIAL_RULE.title == "derivative of the exponential"
    for rule in Rule:
        assert rule.title == rule.value


def test_rule_titles_are_distinct_words():
    titles = [rule.title for rule in Rule]
    assert len(set(titles)) == len(titles)
    assert all(t and t == t.strip() and "_" not in t for t in titles)


# Part and BlockKey -------------------------------------------------------------------------------


def test_block_keys_print_as_part_or_part_colon_detail():
    assert str(BlockKey.layer(2)) == "layer:2"
    assert str(BlockKey.activation("tanh")) == "activation:tanh"
    assert str(COST) == "cost"
    assert str(FORWARD) == "forward"
    assert str(SUMMARY) == "summary"
    assert BlockKey.layer(2) == BlockKey(Part.LAYER, 2)
    assert BlockKey.activation("tanh") == BlockKey(Part.ACTIVATION, "tanh")
    assert COST == BlockKey(Part.COST) and COST.detail is None


def test_block_keys_are_values_usable_as_dict_keys():
    table = {BlockKey.layer(1): "a", BlockKey.layer(2): "b", COST: "c"}
    assert table[BlockKey(Part.LAYER, 2)] == "b"
    assert table[BlockKey(Part.COST)] == "c"
    assert BlockKey.layer(1) != BlockKey.layer(2)
    assert BlockKey.layer(1) != BlockKey.activation("1")


ROUND_TRIP = [
    FORWARD,
    COST,
    SUMMARY,
    UPDATE,
    AVERAGE,
    BlockKey.layer(0),
    BlockKey.layer(1),
    BlockKey.layer(64),
    *(BlockKey.activation(name) for name in NAMES),
    BlockKey.activation("sigmoid(gain=2)"),
    BlockKey.activation("leaky-relu(slope=1/10)"),
    BlockKey.activation("g"),
]


def test_round_trip_list_covers_every_part():
    assert {key.part for key in ROUND_TRIP} == set(Part)


@pytest.mark.parametrize("key", ROUND_TRIP, ids=str)
def test_parse_reads_back_what_str_printed(key):
    parsed = BlockKey.parse(str(key))
    assert parsed == key
    assert type(parsed.detail) is type(key.detail)  # layer numbers come back as int, not "2"
    assert str(parsed) == str(key)


@pytest.mark.parametrize(
    "text",
    [
        "layer:x",
        "layer:",
        "layer",
        "layer:-1",
        "layer:1.5",
        "layer: 2",
        "cost:3",
        "summary:x",
        "forward:1",
        "activation",
        "activation:",
        "nothing",
        "",
        "Layer:2",
        " cost",
        "cost ",
    ],
)
def test_parse_refuses_malformed_text_with_key_error(text):
    with pytest.raises(KeyError, match="no block"):
        BlockKey.parse(text)


def test_parse_refuses_a_non_ascii_digit_with_key_error():
    with pytest.raises(KeyError):
        BlockKey.parse("layer:²")


@pytest.mark.parametrize("text", ["cost:", "forward:", "summary:"])
def test_parse_refuses_an_empty_detail_after_a_colon(text):
    with pytest.raises(KeyError):
        BlockKey.parse(text)


# Step and Block ----------------------------------------------------------------------------------


def _step(*refs: BlockKey, lhs=x, rhs=y) -> Step:
    return Step(lhs, rhs, Rule.SUBSTITUTION, "text", refs)


def test_step_and_block_are_frozen():
    step = _step()
    block = Block(COST, "cost", (step,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.rhs = z
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.steps = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        BlockKey.layer(1).detail = 2
    assert step.rhs == y and block.steps == (step,)


def test_step_claim_is_an_unevaluated_equation():
    claim = _step(lhs=x, rhs=x).claim
    assert isinstance(claim, sp.Eq)  # not sympy.true, although both sides are equal
    assert (claim.lhs, claim.rhs) == (x, x)
    assert _step().claim == sp.Eq(x, y)


def test_block_refs_keep_order_exclude_own_key_and_list_duplicates_once():
    own = BlockKey.layer(1)
    tanh_key = BlockKey.activation("tanh")
    block = Block(
        own,
        "layer 1",
        (
            _step(BlockKey.layer(2), COST),
            _step(own),
            _step(),
            _step(tanh_key, BlockKey.layer(2), own, COST),
        ),
    )
    assert block.refs == (BlockKey.layer(2), COST, tanh_key)


def test_block_without_references_has_no_refs():
    assert Block(COST, "cost", (_step(COST), _step())).refs == ()


def test_block_result_by_enum_and_key_error_for_a_missing_one():
    dc_da, classic = sp.Symbol("dC"), sp.Symbol("g'")
    block = Block(
        BlockKey.layer(2), "layer 2", (), ((Result.DC_DA, dc_da), (Result.CLASSIC, classic))
    )
    assert block.result(Result.DC_DA) is dc_da
    assert block.result(Result.CLASSIC) is classic
    with pytest.raises(KeyError, match="block 'layer:2' has no result 'delta_classic'"):
        block.result(Result.DELTA_CLASSIC)
    with pytest.raises(KeyError, match="no result 'dC_da'"):
        Block(COST, "cost", ()).result(Result.DC_DA)


# product -----------------------------------------------------------------------------------------


def test_product_keeps_the_written_order_without_evaluating():
    assert product(z, y, x).args == (z, y, x)
    assert product(x, x).args == (x, x)  # not x**2
    assert product(z, x + 1, y).args == (z, x + 1, y)


def test_product_gathers_its_numbers_into_one_leading_coefficient():
    """As a textbook writes a product: 3·x·2 is 6x, -1·η·2 is -2η, 2·u·(1/2) is u (issue 18: an unevaluated
    product with a number after its first factor prints as it stands, "-1·η·(a - y)·1/2·(...)")."""
    assert product(sp.Integer(3), x, sp.Integer(2)).args == (6, x)
    assert product(x, sp.Integer(-1), y).args == (-1, x, y)
    assert product(sp.Integer(2), x, sp.Mul(sp.Rational(1, 2), y + 1, evaluate=False)).args == (
        x,
        y + 1,
    )
    assert product(x, 0, y) == 0


def test_product_drops_ones():
    assert product(1, x, sp.Integer(1), y, sp.S.One).args == (x, y)
    assert product(sp.Integer(1), x) is x
    assert product(1, sp.Integer(1)) == 1
    assert product() == 1


def test_product_splices_nested_products_in_place():
    nested = sp.Mul(y, z, evaluate=False)
    assert product(x, nested, w).args == (x, y, z, w)
    assert product(sp.Mul(z, y, evaluate=False), x).args == (z, y, x)
    assert product(x, 2 * y).args == (2, x, y)  # a coefficient is spliced too, to the front
    assert product(x, sp.Mul(1, y, evaluate=False)).args == (x, y)  # and its 1 dropped


@pytest.mark.parametrize(
    "factor,args",
    [
        (-y * z, (-1, x, y, z)),
        (sp.Mul(-1, y, evaluate=False), (-1, x, y)),
        (sp.Rational(-1, 2) * y, (sp.Rational(-1, 2), x, y)),
        (sp.Float(-2.5) * y * z, (sp.Float(-2.5), x, y, z)),
    ],
    ids=str,
)
def test_product_moves_a_negative_coefficient_to_the_front(factor, args):
    assert isinstance(factor, sp.Mul) and factor.args[0].is_negative
    assert product(x, factor).args == args  # -x y, never x (-y) nor -1·x·y in the middle


@pytest.mark.parametrize(
    "factor",
    [y / z, y / z**2, y / sp.sqrt(z), sp.Mul(2, y, sp.Pow(z, -1), evaluate=False)],
    ids=str,
)
def test_product_keeps_a_division_whole(factor):
    assert isinstance(factor, sp.Mul)
    made = product(x, factor)
    if factor.args[0] == 2:  # its number goes to the front, the fraction stays whole
        assert made.args == (2, x, sp.Mul(y, sp.Pow(z, -1), evaluate=False))
    else:
        assert made.args == (x, factor)


class _Trap(sp.Function):
    """An applied function that fails the test whenever SymPy asks about its sign."""

    def _eval_is_extended_negative(self):
        raise AssertionError("an assumption was queried")

    _eval_is_negative = _eval_is_extended_positive = _eval_is_positive = _eval_is_zero = (
        _eval_is_extended_negative
    )


def _deep_sum(depth: int) -> sp.Sum:
    """A Sum nested ``depth`` times (each level adds its index, so SymPy cannot merge the levels into one Sum),
    with a _Trap at the bottom."""
    indices = sp.symbols(f"k0:{depth}", integer=True)
    expr = _Trap(*indices)
    for index in indices:
        expr = sp.Sum(expr + index, (index, 0, 3))
    return expr


def test_the_trap_fires_on_a_sign_query_through_a_deep_sum():
    deep = _deep_sum(40)
    with pytest.raises(AssertionError, match="assumption"):
        _ = sp.Mul(2, deep, evaluate=False).is_negative


def test_product_of_a_40_deep_nested_sum_asks_no_assumptions():
    deep = _deep_sum(40)
    result = product(
        x,
        sp.Mul(2, deep, evaluate=False),
        sp.Mul(-1, deep, evaluate=False),
        deep / z,
        sp.Mul(deep, y, evaluate=False),
        deep,
    )
    assert result.args == (-2, x, deep, deep, deep / z, deep, y, deep)
    depth, inner = 0, result.args[2]
    while isinstance(inner, sp.Sum):
        assert len(inner.limits) == 1
        (inner,) = [
            term for term in inner.function.args if not term.is_Symbol
        ]  # Sum(inner + k, (k, 0, 3))
        depth += 1
    assert depth == 40 and isinstance(inner, _Trap)


# instantiate -------------------------------------------------------------------------------------


def test_instantiate_keeps_the_written_form():
    a, t = sp.symbols("a t")
    written = sp.Mul(2, sp.Symbol("A") - sp.Symbol("Y"), evaluate=False)
    mapping = {sp.Symbol("A"): a, sp.Symbol("Y"): t}
    result = instantiate(written, mapping)
    assert result.func is sp.Mul and result.args == (2, a - t)  # 2(a - t), not 2a - 2t
    assert written.xreplace(mapping) == 2 * a - 2 * t  # what an evaluating replacement would give
    assert sp.expand(result) == 2 * a - 2 * t


def test_instantiate_does_not_cancel_or_fold():
    u, v, a = sp.symbols("u v a")
    result = instantiate(u - v, {u: a, v: a})
    assert result != 0 and result.func is sp.Add and sp.simplify(result) == 0
    folded = instantiate(sp.Mul(u, v, evaluate=False), {u: sp.Integer(2), v: sp.Integer(3)})
    assert folded.args == (2, 3) and folded.doit() == 6


def test_instantiate_replaces_inside_a_piecewise():
    t = sp.Symbol("t", real=True)
    convention = next(
        s.expr for s in relu().derivative_chain if s.rule is Rule.CONVENTION
    )  # (1, z > 0), (0, True)
    result = instantiate(convention, {Z: t})
    assert result == sp.Piecewise((1, t > 0), (0, True))
    assert Z not in result.free_symbols


# with_origin: the notation and titles a block and its steps display in ---------------------------


def _block(key: BlockKey, title: str) -> Block:
    return Block(key, title, (_step(COST), _step(lhs=z, rhs=w)))


def test_with_origin_gives_blocks_and_steps_the_notation_and_titles():
    notation = PRESETS["nielsen"]
    first, second = _block(BlockKey.layer(1), "Layer one"), _block(COST, "The cost")
    given = with_origin(iter([first, second]), notation)  # any iterable
    titles = {BlockKey.layer(1): "Layer one", COST: "The cost"}
    assert given == (first, second)  # equal: the origin takes no part in equality
    for obj in (*given, *given[0].steps, *given[1].steps):
        assert obj.origin is given[0].origin  # one origin for the derivation
        assert obj.origin.notation is notation
        assert dict(obj.origin.titles) == titles


def test_with_origin_copies_and_leaves_the_given_objects_plain():
    block = _block(COST, "cost")
    (given,) = with_origin([block], PRESETS["default"])
    assert block.origin is None and all(s.origin is None for s in block.steps)
    assert given is not block and given.steps[0] is not block.steps[0]
    assert hash(given) == hash(block) and given.steps == block.steps
    assert "origin" not in repr(given) and "origin" not in repr(given.steps[0])


def test_a_step_made_on_its_own_has_no_origin():
    assert _step().origin is None
    with pytest.raises(TypeError):
        Step(x, y, Rule.DEFINITION, "r", (), None, None)  # the origin is given by name only


def test_results_are_named_results():
    dc_da = sp.Symbol("dC")
    block = Block(BlockKey.layer(2), "layer 2", (), ((Result.DC_DA, dc_da),))
    assert block.results == (NamedResult(Result.DC_DA, dc_da),)
    assert block.results[0].name is Result.DC_DA and block.results[0].value is dc_da
    assert Block(BlockKey.layer(2), "layer 2", (), block.results) == block
