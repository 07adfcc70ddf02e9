"""Unit tests for derive/model/values.py: parse_layer_sizes (the forms accepted, the values refused with a
one-line DeriveError, the bounds MAX_LAYER_SIZE and MAX_WEIGHT_LAYERS), per_layer, and the Values record."""

import dataclasses
import re
from decimal import Decimal
from fractions import Fraction

import pytest

from derive.errors import DeriveError
from derive.model.values import (
    MAX_LAYER_SIZE,
    MAX_WEIGHT_LAYERS,
    Values,
    parse_layer_sizes,
    per_layer,
)


def _refused(layers) -> str:
    with pytest.raises(DeriveError) as caught:
        parse_layer_sizes(layers)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


@pytest.mark.parametrize(
    "value", [3, "3", 3.0, Decimal("3"), " 3 ", "003", Decimal("3.000"), Decimal("0.3e1")], ids=repr
)
def test_accepted_forms_of_three(value):
    sizes = parse_layer_sizes([value, 1])
    assert sizes == (3, 1)
    assert type(sizes[0]) is int


def test_sizes_are_a_tuple_of_ints_in_order():
    assert parse_layer_sizes([784, "30", 10.0]) == (784, 30, 10)
    assert parse_layer_sizes(iter([2, 1])) == (2, 1)
    assert parse_layer_sizes([Decimal("1e1"), 1]) == (10, 1)  # 1e1 in a spec file


def test_the_bounds():
    assert MAX_WEIGHT_LAYERS == 64
    assert parse_layer_sizes([1] * (MAX_WEIGHT_LAYERS + 1)) == (1,) * 65
    assert parse_layer_sizes([MAX_LAYER_SIZE, str(MAX_LAYER_SIZE)]) == (100_000, 100_000)


@pytest.mark.parametrize(
    "value, shown",
    [
        (0, "0"),
        (-1, "-1"),
        (True, "true"),
        (False, "false"),
        ("3.5", "'3.5'"),
        ("²", "'²'"),
        ("-1", "'-1'"),
        ("", "''"),
        ("three", "'three'"),
        (3.5, "3.5"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (Decimal("3.5"), "3.5"),
        (Decimal("NaN"), "NaN"),
        (None, "null"),
        (Fraction(3, 1), "Fraction"),
        ([3], "a list"),
        ({"n": 3}, "a table"),
        ("0", "0"),
    ],
    ids=repr,
)
def test_refused_values_name_the_position_and_the_value(value, shown):
    message = _refused([2, value, 1])
    assert message == f"layer size 1 must be a positive integer, got {shown}"


@pytest.mark.parametrize(
    "value", [10**6, MAX_LAYER_SIZE + 1, "1000000", 1e6, Decimal("1e6")], ids=repr
)
def test_too_wide_a_layer_is_refused(value):
    message = _refused([value, 1])
    assert message.startswith("layer size 0 is ")
    assert message.endswith(f"; at most {MAX_LAYER_SIZE} nodes per layer are supported")


def test_a_long_digit_string_is_refused_without_converting_it():
    digits = "9" * 5000  # more than Python's int-from-str limit (4300 digits) on 3.11+
    message = _refused([digits, 1])
    assert message.endswith("at most 100000 nodes per layer are supported")
    assert len(message) < 200  # the value is shortened, not printed in full


@pytest.mark.parametrize(
    "value", [10**100, -(10**100), 10**5000], ids=["1e100", "-1e100", "1e5000"]
)
def test_a_huge_int_is_refused_with_a_short_message(value):
    message = _refused([value, 1])
    assert re.search(r"\d{61}", message) is None  # at most shown_value's 60 characters of a value


@pytest.mark.parametrize("layers", [[], [3], ["3"]])
def test_fewer_than_two_layers_are_refused(layers):
    message = _refused(layers)
    assert message == f"a network needs at least two layers (input and output), got {len(layers)}"


def test_too_many_layers_are_refused():
    message = _refused([1] * (MAX_WEIGHT_LAYERS + 2))
    assert message == "at most 64 weight layers (65 layer sizes) are supported, got 65"


@pytest.mark.parametrize("layers", ["3", "2 3 1", b"23", 3, None, 2.0], ids=repr)
def test_sizes_must_be_a_list(layers):
    assert _refused(layers).startswith("layer sizes must be a list of positive integers, got ")


def test_the_first_bad_size_is_the_one_named():
    assert _refused([2, 3, 0, -1]) == "layer size 2 must be a positive integer, got 0"


def test_per_layer_repeats_a_single_value():
    assert per_layer("tanh", 3, "activation") == ("tanh", "tanh", "tanh")
    assert per_layer(["tanh"], 3, "activation") == ("tanh",) * 3
    assert per_layer(("relu",), 2, "activation") == ("relu", "relu")
    assert per_layer(None, 2, "activation") == (None, None)


def test_per_layer_keeps_a_full_list_in_order():
    assert per_layer(["tanh", "relu", "sigmoid"], 3, "activation") == ("tanh", "relu", "sigmoid")
    assert per_layer(("a", "b"), 2, "x") == ("a", "b")


@pytest.mark.parametrize(
    "value, count, message",
    [
        (
            ["tanh", "relu", "sigmoid"],
            2,
            "got 3 activations for 2 weight layers; give one activation for all layers or exactly 2",
        ),
        (
            ["tanh", "relu"],
            1,
            "got 2 activations for 1 weight layer; give one activation for all layers or exactly 1",
        ),
        (
            [],
            2,
            "got 0 activations for 2 weight layers; give one activation for all layers or exactly 2",
        ),
    ],
)
def test_per_layer_refuses_a_list_of_the_wrong_length(value, count, message):
    with pytest.raises(DeriveError) as caught:
        per_layer(value, count, "activation")
    assert str(caught.value) == message


def test_values_is_a_frozen_record():
    values = Values(x=(1, 2), y=(0,), weights=(((1, 2),),), biases=None)
    assert values == Values((1, 2), (0,), (((1, 2),),), None)
    assert values.biases is None and values.weights[0][0][1] == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        values.x = (3, 4)
    assert [f.name for f in dataclasses.fields(Values)] == [
        "x",
        "y",
        "weights",
        "biases",
        "learning_rate",
    ]
    assert values.learning_rate is None  # optional: one step of gradient descent when given
