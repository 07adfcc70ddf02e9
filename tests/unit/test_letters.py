"""derive/notation/letters.py: Notation (frozen plain data, validated on construction), the presets, and
notation_named; importing the module loads no SymPy."""

import dataclasses
import subprocess
import sys

import pytest

from derive.errors import DeriveError
from derive.notation.letters import PRESETS, Notation, notation_named


def _raises_one_line(**letters) -> str:
    with pytest.raises(DeriveError) as caught:
        Notation(**letters)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


# Notation


def test_default_letters_follow_the_module_docstring():
    nt = Notation()
    # j indexes layer l, k layer l-1, i layer l+1; w_{jk}^{(l)}.
    assert (nt.layer, nt.node, nt.prev, nt.downstream[0], nt.weight) == ("l", "j", "k", "i", "w")
    assert nt.superscript == "paren"


def test_notation_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Notation().node = "m"


def test_equal_letters_make_equal_hashable_notations():
    assert Notation(node="m") == Notation(node="m")
    assert hash(Notation(node="m")) == hash(Notation(node="m"))
    assert Notation(node="m") != Notation()
    assert len({Notation(), Notation(), PRESETS["default"]}) == 1


@pytest.mark.parametrize("style", ["plain", "paren"])
def test_both_superscript_styles_are_accepted(style):
    assert Notation(superscript=style).superscript == style


@pytest.mark.parametrize("style", ["Plain", "parens", "", "brackets"])
def test_an_unknown_superscript_style_is_a_one_line_derive_error_naming_it(style):
    message = _raises_one_line(superscript=style)
    assert repr(style) in message
    assert "'paren'" in message and "'plain'" in message


@pytest.mark.parametrize(
    "letters",
    [
        dict(node="k"),  # node = prev
        dict(layer="j"),  # layer = node
        dict(prev="l"),  # prev = layer
        dict(downstream=("j", "p")),  # a downstream letter = node
        dict(downstream=("k",)),  # a downstream letter = prev
        dict(downstream=("i", "p", "i")),  # a downstream letter twice
        dict(node="m", downstream=("p", "m")),  # a custom node letter reused downstream
    ],
)
def test_index_letters_that_coincide_are_a_one_line_derive_error(letters):
    message = _raises_one_line(**letters)
    assert "differ" in message


def test_distinct_custom_index_letters_are_accepted():
    nt = Notation(layer="m", node="a", prev="b", downstream=("c",))
    assert (nt.layer, nt.node, nt.prev, nt.downstream) == ("m", "a", "b", ("c",))


def test_quantity_letters_are_not_index_letters():
    # Only the layer and node indices must differ: a quantity may share a letter with nothing to check.
    assert Notation(weight="theta", bias="beta", activation="phi").weight == "theta"


def test_symbols_are_built_once_per_notation_and_do_not_change_equality():
    nt = Notation(node="m", prev="n", downstream=("p",))
    first = nt.symbols
    assert nt.symbols is first
    assert first.notation is nt
    assert nt == Notation(
        node="m", prev="n", downstream=("p",)
    )  # the cached symbols are not a field


# PRESETS


def test_presets_are_the_default_nielsen_and_deeplizard():
    assert set(PRESETS) == {"default", "nielsen", "deeplizard"}
    assert all(isinstance(nt, Notation) for nt in PRESETS.values())
    assert PRESETS["default"] == Notation()


def test_nielsen_differs_from_the_default_only_in_style_activation_cost_and_summary_labels():
    # Nielsen: w^l_{jk} (plain superscripts), sigma, C = 1/2 sum (a - y)^2, BP1..BP4.
    nielsen, default = PRESETS["nielsen"], PRESETS["default"]
    differing = {
        f.name
        for f in dataclasses.fields(Notation)
        if getattr(nielsen, f.name) != getattr(default, f.name)
    }
    assert differing == {"superscript", "activation", "default_cost", "summary_labels"}
    assert (nielsen.superscript, nielsen.activation, nielsen.default_cost) == (
        "plain",
        "sigma",
        "half-quadratic",
    )
    assert nielsen.summary_labels == ("BP1", "BP2", "BP3", "BP4")


def test_deeplizard_differs_from_the_default_only_in_layer_names_sum_limits_and_activation_names():
    # deeplizard: (L), (L-1) counted from the output, sums up to n - 1, g^{(L)}; quadratic cost, sigmoid.
    deeplizard, default = PRESETS["deeplizard"], PRESETS["default"]
    differing = {
        f.name
        for f in dataclasses.fields(Notation)
        if getattr(deeplizard, f.name) != getattr(default, f.name)
    }
    assert differing == {
        "layer_names",
        "sum_limits",
        "activation_names",
        "sample",
    }  # C = (1/n) sum_i C_i
    assert (deeplizard.layer_names, deeplizard.sum_limits, deeplizard.activation_names) == (
        "from_output",
        "sizes",
        "layer",
    )
    assert (deeplizard.default_cost, deeplizard.default_activation, deeplizard.activation) == (
        "quadratic",
        "sigmoid",
        "g",
    )


def test_layer_names_count_from_the_output_once_a_network_gives_its_output_layer():
    nt = PRESETS["deeplizard"]
    assert [nt.layer_name(m) for m in range(3)] == ["0", "1", "2"]  # no output layer yet: numbers
    bound = nt.for_network(2, ("sigma", "sigma"))
    assert [bound.layer_name(m) for m in range(3)] == ["L-2", "L-1", "L"]
    assert (bound.output_layer, bound.layer_activations) == (2, ("sigma", "sigma"))
    assert bound != nt and bound.symbols.w == nt.symbols.w  # the same SymPy quantities


def test_notations_that_need_no_network_are_not_bound():
    for name in ("default", "nielsen"):
        assert PRESETS[name].for_network(3, ("tanh",) * 3) is PRESETS[name]
        assert PRESETS[name].layer_name(3) == "3"


def test_summary_labels_are_looked_up_by_equation_number():
    assert [PRESETS["nielsen"].summary_label(n) for n in (1, 2, 3, 4)] == [
        "BP1",
        "BP2",
        "BP3",
        "BP4",
    ]
    assert PRESETS["default"].summary_label(1) is None


# notation_named


@pytest.mark.parametrize("name", ["default", "nielsen", "deeplizard"])
def test_a_preset_name_gives_that_preset_itself(name):
    assert notation_named(name) is PRESETS[name]


def test_a_notation_is_passed_through_unchanged():
    custom = Notation(node="m")
    assert notation_named(custom) is custom


def test_an_unknown_name_is_a_one_line_derive_error_with_a_suggestion():
    with pytest.raises(DeriveError) as caught:
        notation_named("nielson")
    message = str(caught.value)
    assert (
        message
        == "unknown notation 'nielson'; did you mean 'nielsen'? (known: default, nielsen, deeplizard)"
    )


@pytest.mark.parametrize("name", ["", "xyz", "Default ", "NIELSEN"])
def test_names_are_exact_and_every_unknown_one_lists_the_presets(name):
    with pytest.raises(DeriveError) as caught:
        notation_named(name)
    message = str(caught.value)
    assert message.startswith(f"unknown notation {name!r}")
    assert message.endswith("(known: default, nielsen, deeplizard)")
    assert "\n" not in message
    assert (
        caught.value.__suppress_context__
    )  # `from None`: no KeyError chained under the user's message


def test_letters_load_no_sympy_in_a_fresh_interpreter():
    code = (
        "import sys\n"
        "from derive.notation.letters import PRESETS, Notation, notation_named\n"
        "notation_named('nielsen'); Notation(node='m', downstream=('p',))\n"
        "assert PRESETS['default'] == Notation()\n"
        "print('sympy' in sys.modules)\n"
        "PRESETS['default'].symbols\n"  # the control: the first symbols do load SymPy
        "print('sympy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
