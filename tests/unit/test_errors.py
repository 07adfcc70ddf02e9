"""derive/errors.py: DeriveError is a ValueError; closest_hint suggests a known name; shown_value shows a
value the way the user wrote it (numbers plainly, text quoted and shortened, containers by their kind)."""

from decimal import Decimal

import pytest

from derive.errors import DeriveError, closest_hint, shown_value


# DeriveError


def test_derive_error_is_a_value_error_with_its_message_as_is():
    with pytest.raises(ValueError) as caught:
        raise DeriveError("layer sizes must be positive")
    assert type(caught.value) is DeriveError
    assert str(caught.value) == "layer sizes must be positive"


# closest_hint


def test_hint_suggests_the_closest_known_name_and_lists_all():
    hint = closest_hint("sigmod", ["sigmoid", "tanh", "relu"])
    assert hint == "; did you mean 'sigmoid'? (known: sigmoid, tanh, relu)"


def test_hint_matches_case_insensitively():
    # The name is lowered before matching, so a capitalised typo still finds the lower-case name.
    assert closest_hint("Nielsen", ["default", "nielsen"]).startswith("; did you mean 'nielsen'?")


def test_hint_without_a_close_name_only_lists_the_known_ones():
    assert closest_hint("xyz", ["sigmoid", "tanh"]) == " (known: sigmoid, tanh)"


def test_hint_lists_each_known_name_once_in_first_seen_order():
    hint = closest_hint("qqq", ["tanh", "relu", "tanh", "identity", "relu"])
    assert hint == " (known: tanh, relu, identity)"


def test_hint_accepts_any_iterable_of_names_including_a_dict_and_a_generator():
    assert (
        closest_hint("nielson", {"default": 1, "nielsen": 2})
        == "; did you mean 'nielsen'? (known: default, nielsen)"
    )
    assert (
        closest_hint("relu", (n for n in ["relu", "tanh"]))
        == "; did you mean 'relu'? (known: relu, tanh)"
    )


def test_hint_accepts_a_name_that_is_not_a_string():
    # A user's TOML may give a number where a name belongs: the hint still words a message.
    assert closest_hint(3, ["sigmoid"]) == " (known: sigmoid)"


def test_hint_is_one_line():
    assert "\n" not in closest_hint("x", ["a", "b", "c"])


# shown_value


@pytest.mark.parametrize("value, shown", [(True, "true"), (False, "false"), (None, "null")])
def test_booleans_and_null_are_shown_as_toml_and_json_write_them(value, shown):
    assert shown_value(value) == shown


def test_a_boolean_is_not_shown_as_the_integer_it_subclasses():
    assert shown_value(True) != str(int(True))


@pytest.mark.parametrize(
    "value, shown",
    [
        (3, "3"),
        (-7, "-7"),
        (0.5, "0.5"),
        (1e-07, "1e-07"),
        (Decimal("2.50"), "2.50"),
        (Decimal("1E+1"), "1E+1"),
    ],
)
def test_numbers_are_shown_plainly_never_as_their_repr(value, shown):
    assert shown_value(value) == shown
    assert "Decimal" not in shown_value(value)


def test_a_number_longer_than_the_limit_is_described_by_its_length():
    assert shown_value(10**59) == "1" + "0" * 59  # 60 characters: at the limit, shown
    assert shown_value(10**60) == "a number of 61 digits"
    assert shown_value(12345, limit=4) == "a number of 5 digits"


def test_text_is_quoted():
    assert shown_value("sigmoid") == "'sigmoid'"
    assert shown_value("") == "''"


def test_text_longer_than_the_limit_is_cut_with_an_ellipsis_inside_the_quotes():
    assert shown_value("x" * 60) == repr("x" * 60)
    assert shown_value("x" * 61) == repr("x" * 60 + "...")
    assert shown_value("abcdef", limit=3) == "'abc...'"


def test_a_quote_in_text_is_escaped_by_repr():
    assert shown_value("it's") == repr("it's")


@pytest.mark.parametrize(
    "value, shown",
    [
        ({"a": 1}, "a table"),
        ({}, "a table"),
        ([1, 2], "a list"),
        ([], "a list"),
        ((1, 2), "tuple"),
        (object(), "object"),
        (b"x", "bytes"),
    ],
)
def test_containers_and_other_values_are_named_by_kind(value, shown):
    assert shown_value(value) == shown


def test_a_parameter_error_names_parameters_in_the_library_and_options_on_the_command_line():
    import pickle

    from derive.cli.options import OPTION_NAMES
    from derive.errors import ParameterError

    error = ParameterError(
        "{epochs} {value:,} is too many; lower {epochs} or raise {batch_size}", value=10**6
    )
    assert str(error) == "epochs 1,000,000 is too many; lower epochs or raise batch_size"
    assert error.parameters == ("epochs", "batch_size")
    assert (
        error.named(OPTION_NAMES)
        == "--epochs 1,000,000 is too many; lower --epochs or raise --batch-size"
    )
    again = pickle.loads(pickle.dumps(error))  # errors cross from worker processes
    assert isinstance(again, ParameterError) and again.named(OPTION_NAMES) == error.named(
        OPTION_NAMES
    )
    braces = ParameterError(
        "{data} {path!r} is not a file", path="{x}"
    )  # user text stays out of the template
    assert braces.named(OPTION_NAMES) == "--data '{x}' is not a file"
