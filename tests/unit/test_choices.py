"""derive/choices.py and its enums: a derivative's form, a check's mode, a notation's styles, the
differentiator's rule cases (each with its reason in one table) and the chain's steps as records."""

from __future__ import annotations

import dataclasses
import json

import pytest
import sympy as sp

from derive.checks.steps import CheckMode, check_gradients
from derive.choices import Choice
from derive.engine.derivation import FORMS, Form, weight_gradient
from derive.errors import DeriveError
from derive.model.activations import KNOWN, SIGMA, Z, activation_named
from derive.model.costs import COSTS
from derive.model.differentiate import REASONS, ChainStep, RuleCase, differentiate, rule_for
from derive.model.network import Network
from derive.notation.letters import (
    ACTIVATION_NAMES,
    LAYER_NAMES,
    PRESETS,
    SUM_LIMITS,
    ActivationNames,
    LayerNames,
    Notation,
    SumLimits,
    Superscript,
)


class Colour(Choice):
    RED = "red"
    DARK_GREEN = "dark green"
    BLUE = "blue"


# Choice ------------------------------------------------------------------------------------------------
def test_a_member_is_its_word_when_compared_printed_or_formatted():
    assert Colour.RED == "red" and isinstance(Colour.RED, str)
    assert str(Colour.DARK_GREEN) == "dark green"
    assert (
        f"{Colour.DARK_GREEN} car" == "dark green car"
    )  # not "Colour.DARK_GREEN car" (Python 3.11+)
    assert f"[{Colour.RED:>5}]" == "[  red]"
    assert json.dumps({"c": Colour.BLUE}) == '{"c": "blue"}'


def test_parse_takes_a_member_or_its_word():
    assert Colour.parse("dark green", "colour") is Colour.DARK_GREEN
    assert Colour.parse(Colour.BLUE, "colour") is Colour.BLUE
    assert Colour.words() == ("red", "dark green", "blue")


@pytest.mark.parametrize("value", ["Red", "", "purple", 3, None, ["red"]])
def test_parse_refuses_anything_else_with_one_line_naming_every_choice(value):
    with pytest.raises(DeriveError) as caught:
        Colour.parse(value, "colour")
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == f"colour must be one of 'red', 'dark green', 'blue', got {value!r}"


def test_two_choices_are_named_with_or():
    assert Superscript.choices() == "'paren' or 'plain'"


# Form ----------------------------------------------------------------------------------------------------
def test_forms_are_an_enum_whose_words_are_the_old_strings():
    assert FORMS == ("chain", "classic") and tuple(Form) == (Form.CHAIN, Form.CLASSIC)


def test_a_gradient_takes_the_form_as_a_word_or_a_member_and_remembers_it_once():
    d = Network([2, 2, 1], activation="tanh").derivation()
    assert d.gradient(2, form="classic") is d.gradient(2, Form.CLASSIC)
    assert d.gradient(2) is d.gradient(2, "chain")
    assert d.gradient(2, "classic") != d.gradient(2, "chain")
    assert d.gradient(2, "chain").has(sp.Derivative) and not d.gradient(2, "classic").has(
        sp.Derivative
    )


@pytest.mark.parametrize("form", ["Classic", "written", "", 1])
def test_an_unknown_form_is_refused_naming_both(form):
    net = Network([2, 1])
    for call in (
        lambda: net.derivation().gradient(1, form),
        lambda: net.derivation().bias_gradient(1, form),
        lambda: weight_gradient(net, 1, form),
    ):
        with pytest.raises(ValueError, match=r"form must be 'chain' or 'classic', got "):
            call()


# CheckMode -------------------------------------------------------------------------------------------------
def test_check_modes_take_a_word_or_a_member():
    net = Network([1, 1])
    assert CheckMode.words() == ("symbolic", "numeric")
    assert check_gradients(net, "numeric") == [] and check_gradients(net, CheckMode.SYMBOLIC) == []


def test_an_unknown_check_mode_is_refused_naming_both():
    with pytest.raises(ValueError, match="mode must be 'symbolic' or 'numeric', got 'exact'"):
        check_gradients(Network([1, 1]), "exact")


# Notation styles -------------------------------------------------------------------------------------------
def test_a_notation_holds_its_styles_as_members_given_as_words():
    nt = Notation(
        superscript="plain", layer_names="from_output", sum_limits="sizes", activation_names="layer"
    )
    assert nt.superscript is Superscript.PLAIN and nt.layer_names is LayerNames.FROM_OUTPUT
    assert nt.sum_limits is SumLimits.SIZES and nt.activation_names is ActivationNames.LAYER
    assert nt == Notation(
        superscript=Superscript.PLAIN,
        layer_names=LayerNames.FROM_OUTPUT,
        sum_limits=SumLimits.SIZES,
        activation_names=ActivationNames.LAYER,
    )
    assert dataclasses.replace(nt, superscript="paren").superscript is Superscript.PAREN


def test_the_presets_and_the_old_word_tuples_agree_with_the_enums():
    assert (LAYER_NAMES, SUM_LIMITS, ACTIVATION_NAMES) == (
        ("absolute", "from_output"),
        ("numbers", "sizes"),
        ("own", "layer"),
    )
    for nt in PRESETS.values():
        assert all(
            isinstance(v, Choice)
            for v in (nt.superscript, nt.layer_names, nt.sum_limits, nt.activation_names)
        )
    assert (
        PRESETS["deeplizard"].layer_names == "from_output"
        and PRESETS["nielsen"].superscript == "plain"
    )


@pytest.mark.parametrize(
    "field, choices",
    [
        ("layer_names", "'absolute' or 'from_output'"),
        ("sum_limits", "'numbers' or 'sizes'"),
        ("activation_names", "'own' or 'layer'"),
        ("superscript", "'paren' or 'plain'"),
    ],
)
def test_an_unknown_style_is_refused_naming_its_choices(field, choices):
    with pytest.raises(DeriveError) as caught:
        Notation(**{field: "sideways"})
    assert choices in str(caught.value) and "'sideways'" in str(caught.value)


# The differentiator's rule cases and reasons ------------------------------------------------------------------
def test_every_rule_case_has_its_reason_in_the_table():
    assert set(REASONS) == set(RuleCase)


@pytest.mark.parametrize(
    "expr, case",
    [
        (sp.Integer(3), RuleCase.CONSTANT),
        (Z, RuleCase.POWER),
        (Z**3, RuleCase.POWER),
        (Z + 1, RuleCase.SUM),
        (3 * Z, RuleCase.CONSTANT_MULTIPLE),
        (Z * sp.exp(Z), RuleCase.PRODUCT),
        (sp.exp(Z) / Z, RuleCase.QUOTIENT),
        (sp.exp(Z), RuleCase.EXPONENTIAL),
        (2**Z, RuleCase.EXPONENTIAL),
        (sp.log(Z), RuleCase.LOGARITHM),
        (sp.sin(Z), RuleCase.TRIGONOMETRIC),
        (sp.cosh(Z), RuleCase.HYPERBOLIC),
        (SIGMA(Z), RuleCase.NAMED),
        (Z**Z, RuleCase.REWRITE),
        (sp.Piecewise((Z, Z > 0), (0, True)), RuleCase.PIECEWISE),
        (sp.Abs(Z), RuleCase.CASES),
        (sp.gamma(Z), RuleCase.SYMPY),
    ],
)
def test_rule_for_names_its_case_with_a_member(expr, case):
    applied = rule_for(expr, Z, KNOWN)
    assert applied.kind is case and applied.kind == case.value


def test_the_steps_of_a_derivative_are_frozen_records():
    done = differentiate(Z * SIGMA(Z), Z, KNOWN)
    assert all(isinstance(step, ChainStep) for step in done.steps)
    assert done.result is done.steps[-1].expr
    with pytest.raises(dataclasses.FrozenInstanceError):
        done.steps[0].expr = Z


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softplus", "cross-entropy"])
def test_activation_and_cost_chains_are_chain_steps_throughout(name):
    chain = (COSTS[name] if name in COSTS else activation_named(name)).derivative_chain
    assert chain and all(isinstance(step, ChainStep) for step in chain)
