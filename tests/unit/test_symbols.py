"""derive/notation/symbols.py: a notation's SymPy objects (indexed bases, index letters and their
assumptions, the layered bases, downstream letters beyond the preset ones) and the matrix-summary names
(MatrixKind, layer_matrix, matrix_name, MatrixName.number)."""

import dataclasses

import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.notation.letters import PRESETS, Notation
from derive.notation.symbols import MatrixKind, MatrixName, Symbols, layer_matrix, matrix_name

DEFAULT = PRESETS["default"]
CUSTOM = Notation(
    layer="m",
    node="p",
    prev="q",
    downstream=("r", "s"),
    weight="theta",
    bias="beta",
    preactivation="u",
    activation_value="h",
    input="xi",
    target="t",
    delta="e",
    size="N",
    cost="J",
)


def _index(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, nonnegative=True)


# Symbols: bases and letters


@pytest.mark.parametrize("nt", [DEFAULT, CUSTOM], ids=["default", "custom"])
def test_each_quantity_is_an_indexed_base_named_by_the_notation(nt):
    s = Symbols(nt)
    bases = dict(
        w=nt.weight,
        b=nt.bias,
        z=nt.preactivation,
        a=nt.activation_value,
        x=nt.input,
        y=nt.target,
        delta=nt.delta,
        n=nt.size,
    )
    for attribute, letter in bases.items():
        base = getattr(s, attribute)
        assert isinstance(base, sp.IndexedBase)
        assert base == sp.IndexedBase(letter)
    assert s.cost == sp.Symbol(nt.cost)


@pytest.mark.parametrize("nt", [DEFAULT, CUSTOM], ids=["default", "custom"])
def test_index_letters_are_named_by_the_notation(nt):
    s = Symbols(nt)
    assert (s.l.name, s.j.name, s.k.name) == (nt.layer, nt.node, nt.prev)
    # The summation letters are the primed node letters: k' sums over layer l-1, j' over layer l.
    assert (s.k_sum.name, s.j_sum.name) == (nt.prev + "'", nt.node + "'")
    assert tuple(d.name for d in s.downstream) == nt.downstream


def test_node_letters_are_nonnegative_integers_and_the_layer_a_positive_integer():
    s = DEFAULT.symbols
    for letter in (s.j, s.k, s.k_sum, s.j_sum, *s.downstream):
        assert letter.is_integer and letter.is_nonnegative
        assert letter.is_positive is None  # node 0 exists
    assert s.l.is_integer and s.l.is_positive
    # The assumptions make them integers in formulas: (-1)**(2 j) = 1, and l >= 1.
    assert sp.simplify((-1) ** (2 * s.j)) == 1
    assert (s.l >= 1) is sp.true
    assert (s.j >= 0) is sp.true


def test_letters_equal_only_symbols_with_the_same_assumptions():
    s = DEFAULT.symbols
    assert s.j == _index("j")
    assert s.j != sp.Symbol("j")
    assert s.l == sp.Symbol("l", integer=True, positive=True)
    assert s.l != _index("l")


def test_two_notations_with_equal_letters_give_equal_symbols():
    first, second = Symbols(Notation(node="m")), Symbols(Notation(node="m"))
    assert first.w[first.l, first.j, first.k] == second.w[second.l, second.j, second.k]
    assert first.j != DEFAULT.symbols.j


def test_symbols_are_frozen_and_made_only_from_a_notation():
    s = Symbols(DEFAULT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.w = sp.IndexedBase("v")
    with pytest.raises(TypeError):
        Symbols(DEFAULT, w=sp.IndexedBase("v"))  # every other field is derived (init=False)


def test_layered_bases_are_those_whose_first_index_is_the_layer():
    s = DEFAULT.symbols
    assert s.layered == {s.w, s.b, s.z, s.a, s.delta, s.n, s.dw, s.db}  # dw, db: the weight changes
    assert s.x not in s.layered and s.y not in s.layered


def test_layered_follows_custom_letters():
    s = CUSTOM.symbols
    assert sp.IndexedBase("theta") in s.layered
    assert sp.IndexedBase("w") not in s.layered
    assert sp.IndexedBase("xi") not in s.layered


# downstream_letter


def test_downstream_letters_are_the_notation_s_in_order():
    s = DEFAULT.symbols
    for offset, letter in enumerate(DEFAULT.downstream, start=1):
        assert s.downstream_letter(offset) == _index(letter)
    assert s.downstream_letter(1) == _index("i")  # layer l+1


def test_beyond_the_preset_letters_the_first_letter_is_numbered_by_offset():
    s = DEFAULT.symbols
    beyond = len(DEFAULT.downstream) + 1
    letter = s.downstream_letter(beyond)
    assert letter == _index(f"i_{beyond}")
    assert letter.is_integer and letter.is_nonnegative
    assert s.downstream_letter(40) == _index("i_40")
    known = {s.l, s.j, s.k, s.k_sum, s.j_sum, *s.downstream}
    assert letter not in known
    assert (
        len({s.downstream_letter(o) for o in range(1, 20)}) == 19
    )  # every offset has its own letter


def test_beyond_a_short_custom_downstream_list():
    s = Symbols(Notation(downstream=("p", "q")))
    assert [s.downstream_letter(o) for o in (1, 2, 3, 4)] == [
        _index("p"),
        _index("q"),
        _index("p_3"),
        _index("p_4"),
    ]


def test_an_empty_downstream_list_is_refused():
    with pytest.raises(DeriveError, match="downstream"):
        Notation(downstream=())


# MatrixKind, layer_matrix, matrix_name


def test_matrix_kinds_have_distinct_values():
    assert len({kind.value for kind in MatrixKind}) == len(MatrixKind) == 8


def test_layer_matrix_has_the_given_shape_a_column_by_default():
    s = DEFAULT.symbols
    column = layer_matrix(MatrixKind.DELTA, s.l, s.n[s.l])
    assert isinstance(column, sp.MatrixSymbol)
    assert column.shape == (s.n[s.l], 1)
    weights = layer_matrix(MatrixKind.W, s.l + 1, s.n[s.l + 1], s.n[s.l])
    assert weights.shape == (s.n[s.l + 1], s.n[s.l])
    assert layer_matrix(MatrixKind.W, 2, 3, 4).shape == (3, 4)


def test_kind_and_layer_both_tell_matrices_apart():
    s = DEFAULT.symbols
    assert layer_matrix(MatrixKind.DELTA, s.l, 3) != layer_matrix(MatrixKind.DELTA, s.l + 1, 3)
    assert layer_matrix(MatrixKind.DELTA, s.l, 3) != layer_matrix(MatrixKind.A, s.l, 3)
    assert layer_matrix(MatrixKind.DELTA, s.l, 3) == layer_matrix(MatrixKind.DELTA, s.l, 3)
    assert layer_matrix(MatrixKind.A, 2, 3) == layer_matrix(MatrixKind.A, sp.Integer(2), 3)


_L = DEFAULT.symbols.l
_LAYERS = [  # a layer, and how matrix_name gives it back: printed, without spaces
    (_L, "l"),
    (_L + 1, "l+1"),
    (_L - 1, "l-1"),
    (2 * _L, "2*l"),
    (sp.Symbol("L", integer=True, positive=True), "L"),
    (2, "2"),
    (sp.Integer(3), "3"),
    (sp.Integer(12), "12"),
]


@pytest.mark.parametrize("kind", list(MatrixKind), ids=[k.name for k in MatrixKind])
@pytest.mark.parametrize("layer, printed", _LAYERS, ids=[p for _, p in _LAYERS])
def test_matrix_name_reads_back_the_kind_and_layer_of_every_layer_matrix(kind, layer, printed):
    name = matrix_name(layer_matrix(kind, layer, 3))
    assert name == MatrixName(kind, printed)
    assert name.kind is kind
    assert " " not in name.layer


@pytest.mark.parametrize("kind", list(MatrixKind), ids=[k.name for k in MatrixKind])
def test_a_concrete_layer_has_a_number(kind):
    assert matrix_name(layer_matrix(kind, 7, 3)).number == 7
    assert matrix_name(layer_matrix(kind, sp.Integer(12), 3)).number == 12
    # The general l instantiated at a layer, as the checks do: l + 1 at l = 2 is layer 3.
    assert matrix_name(layer_matrix(kind, (_L + 1).subs(_L, 2), 3)).number == 3


@pytest.mark.parametrize("layer", [_L, _L + 1, _L - 1])
def test_a_symbolic_layer_has_no_number(layer):
    with pytest.raises(ValueError):
        _ = matrix_name(layer_matrix(MatrixKind.W, layer, 3, 3)).number


def test_matrix_name_number_from_plain_data():
    assert MatrixName(MatrixKind.A, "5").number == 5
    assert MatrixName(MatrixKind.A, "0").number == 0


def test_a_matrix_not_made_by_layer_matrix_is_refused():
    with pytest.raises(ValueError):
        matrix_name(sp.MatrixSymbol("X", 2, 2))
    with pytest.raises(ValueError):
        matrix_name(sp.MatrixSymbol("sigma:2", 2, 1))  # the right form, an unknown kind
