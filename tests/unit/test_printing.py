"""derive/notation/printing.py: the LaTeX and text printers in a notation (layer superscripts in the paren
and plain styles, index subscripts, powers of indexed quantities, derivatives and g'(z), Heaviside, sums,
products in written order, and the matrix-summary symbols), through ``latex``, ``text`` and the printers."""

import pytest
import sympy as sp

from derive.notation.letters import PRESETS, Notation
from derive.notation.printing import NotationLatexPrinter, NotationTextPrinter, latex, text
from derive.notation.symbols import MatrixKind, layer_matrix

DEFAULT, NIELSEN = PRESETS["default"], PRESETS["nielsen"]
S = DEFAULT.symbols  # the presets share their letters, so the same symbols serve both
L, J, K = S.l, S.j, S.k
BOTH = pytest.mark.parametrize("nt", [DEFAULT, NIELSEN], ids=["default", "nielsen"])


def sup_latex(nt: Notation, layer: str) -> str:
    """A layer superscript as the notation defines it: ^{(l)} (paren) or ^{l} (plain)."""
    return f"^{{({layer})}}" if nt.superscript == "paren" else f"^{{{layer}}}"


def sup_text(nt: Notation, layer: str) -> str:
    """In text a compound layer (l+1) keeps its parentheses in the plain style too, or a^l+1 would read
    as a^l + 1."""
    return f"^({layer})" if nt.superscript == "paren" or not layer.isalnum() else f"^{layer}"


# Indexed quantities


@BOTH
def test_layered_quantities_put_the_layer_up_and_the_nodes_down(nt):
    up, up_text = sup_latex(nt, "l"), sup_text(nt, "l")
    assert latex(S.w[L, J, K], nt) == "w_{jk}" + up
    assert latex(S.b[L, J], nt) == "b_{j}" + up
    assert latex(S.z[L, J], nt) == "z_{j}" + up
    assert latex(S.delta[L, J], nt) == r"\delta_{j}" + up
    assert text(S.w[L, J, K], nt) == "w_jk" + up_text
    assert text(S.delta[L, J], nt) == "δ_j" + up_text  # Greek in text


@BOTH
def test_a_quantity_with_only_a_layer_index_has_no_subscript(nt):
    assert latex(S.n[L], nt) == "n" + sup_latex(nt, "l")
    assert text(S.n[L], nt) == "n" + sup_text(nt, "l")
    assert latex(S.n[3], nt) == "n" + sup_latex(nt, "3")


@BOTH
def test_inputs_and_targets_are_not_layered_in_either_style(nt):
    assert latex(S.x[K], nt) == "x_{k}"
    assert text(S.x[K], nt) == "x_k"
    assert text(S.y[J], nt) == "y_j"


def test_a_symbolic_layer_is_printed_as_sympy_writes_it():
    assert latex(S.a[L - 1, K], DEFAULT) == "a_{k}^{(l - 1)}"
    assert latex(S.w[L + 1, S.downstream[0], J], NIELSEN) == "w_{ij}^{l + 1}"


def test_indices_longer_than_one_character_are_separated_by_commas():
    # k' (the summation letter) is two characters, so w_{jk'} would be ambiguous.
    assert latex(S.w[L, J, S.k_sum], DEFAULT) == "w_{j,k'}^{(l)}"
    assert text(S.w[L, J, S.k_sum], DEFAULT) == "w_j,k'^(l)"
    assert text(S.w[1, 10, 3], DEFAULT) == "w_10,3^(1)"
    assert latex(S.w[L, J, S.downstream_letter(9)], DEFAULT) == "w_{j,i_{9}}^{(l)}"


def test_custom_letters_are_printed_and_greek_names_become_greek_in_latex():
    nt = Notation(weight="theta", delta="e", node="m", prev="n")
    s = nt.symbols
    assert latex(s.w[2, s.j, s.k], nt) == r"\theta_{mn}^{(2)}"
    assert latex(s.delta[s.l, s.j], nt) == "e_{m}^{(l)}"


def test_which_bases_are_layered_is_the_notation_s_choice():
    # The default's w is not a quantity of a notation whose weight is v: every index is a subscript.
    assert latex(S.w[2, J, K], Notation(weight="v")) == "w_{2jk}"
    assert text(S.w[2, J, K], Notation(weight="v")) == "w_2jk"


# Powers


@BOTH
def test_a_power_of_an_indexed_quantity_is_parenthesised_to_avoid_a_double_superscript(nt):
    a = S.a[L, J]
    assert latex(a**2, nt) == r"\left(a_{j}" + sup_latex(nt, "l") + r"\right)^{2}"
    assert latex(S.x[K] ** 3, nt) == r"\left(x_{k}\right)^{3}"


def test_other_powers_are_left_to_sympy():
    a = S.a[L, J]
    assert latex(a**-1, DEFAULT) == r"\frac{1}{a_{j}^{(l)}}"
    assert latex(sp.sqrt(a), DEFAULT) == r"\sqrt{a_{j}^{(l)}}"
    assert latex((a - S.y[J]) ** 2, DEFAULT) == r"\left(a_{j}^{(l)} - y_{j}\right)^{2}"


@pytest.mark.parametrize("exponent", [sp.Rational(3, 2), J], ids=["3/2", "j"])
def test_no_power_of_an_indexed_quantity_makes_a_double_superscript(exponent):
    assert "^{(l)}^" not in latex(S.a[L, J] ** exponent, DEFAULT)


def test_text_writes_powers_with_a_caret_and_products_with_a_dot():
    a = S.a[L, J]
    assert text(a**2, DEFAULT) == "a_j^(l)^2"
    assert text((a - S.y[J]) ** 2, DEFAULT) == "(a_j^(l) - y_j)^2"
    assert text(2 * a, DEFAULT) == "2·a_j^(l)"
    assert "*" not in text(3 * a**2 * S.y[J], DEFAULT)


# Sums and products


def test_products_keep_the_order_they_were_written_in():
    a, y = S.a[L, J], S.y[J]
    assert text(sp.Mul(a, y, evaluate=False), DEFAULT) == "a_j^(l)·y_j"
    assert text(sp.Mul(y, a, evaluate=False), DEFAULT) == "y_j·a_j^(l)"
    assert latex(sp.Mul(a, y, evaluate=False), DEFAULT) == "a_{j}^{(l)} y_{j}"
    assert latex(sp.Mul(y, a, evaluate=False), DEFAULT) == "y_{j} a_{j}^{(l)}"


def test_sums_are_in_sympy_s_usual_order():
    a, y = S.a[L, J], S.y[J]
    assert text(a - y, DEFAULT) == "a_j^(l) - y_j"
    assert text(1 - a, DEFAULT) == "1 - a_j^(l)"
    assert latex(y - a, DEFAULT) == latex(-a + y, DEFAULT)


def test_a_sum_over_an_index_names_its_letter_and_limits():
    top = S.n[L - 1] - 1
    body = S.w[L, J, K] * S.a[L - 1, K]
    product = latex(sp.Sum(body, (K, 0, top)), DEFAULT)
    assert product.startswith(r"\sum_{k=0}^{n^{(l - 1)} - 1} ")
    assert product.endswith(latex(body, DEFAULT))
    assert (
        text(sp.Sum(body, (K, 0, top)), DEFAULT)
        == f"Σ_{{k=0..n^(l - 1) - 1}} [{text(body, DEFAULT)}]"
    )


def test_a_sum_of_a_sum_is_parenthesised_in_latex():
    body = S.w[L, J, K] + S.a[L - 1, K]
    printed = latex(sp.Sum(body, (K, 0, 2)), DEFAULT)
    assert printed == rf"\sum_{{k=0}}^{{2}} \left({latex(body, DEFAULT)}\right)"


# Derivatives, g'(z), Heaviside


@BOTH
def test_activation_derivative_prints_as_a_prime(nt):
    z = S.z[L, J]
    up = sup_latex(nt, "l")
    assert latex(sp.Derivative(sp.Function("g")(z), z), nt) == r"g'\!\left(z_{j}" + up + r"\right)"
    assert (
        latex(sp.Derivative(sp.Function("sigma")(z), z), nt)
        == r"\sigma'\!\left(z_{j}" + up + r"\right)"
    )
    assert text(sp.Derivative(sp.Function("g")(z), z), nt) == "g'(z_j" + sup_text(nt, "l") + ")"


def test_a_derivative_of_g_by_another_variable_is_not_a_prime():
    z, w = S.z[L, J], S.w[L, J, K]
    printed = latex(sp.Derivative(sp.Function("g")(z), w), DEFAULT)
    assert printed.startswith(r"\frac{\partial}{\partial w_{jk}^{(l)}}\left(")
    assert "'" not in printed
    assert text(sp.Derivative(sp.Function("g")(z), w), DEFAULT) == "∂/∂w_jk^(l) [g(z_j^(l))]"


def test_derivative_by_a_plain_symbol_uses_d_and_by_a_quantity_uses_partial():
    t = sp.Symbol("t")
    assert latex(sp.Derivative(S.cost, t), DEFAULT) == r"\frac{d C_{0}}{d t}"
    assert text(sp.Derivative(S.cost, t), DEFAULT) == "dC_0/dt"
    assert text(sp.Derivative(S.cost, S.w[L, J, K]), NIELSEN) == "∂C_0/∂w_jk^l"


def test_derivative_of_an_expression_wraps_it():
    a, y, w = S.a[L, J], S.y[J], S.w[L, J, K]
    expr = sp.Mul(a, y, evaluate=False)
    assert (
        latex(sp.Derivative(expr, w), DEFAULT)
        == r"\frac{\partial}{\partial w_{jk}^{(l)}}\left(a_{j}^{(l)} y_{j}\right)"
    )
    assert text(sp.Derivative(expr, w), DEFAULT) == "∂/∂w_jk^(l) [a_j^(l)·y_j]"


def test_a_second_derivative_is_left_to_sympy_in_latex():
    printed = latex(sp.Derivative(S.cost, S.w[L, J, K], 2), DEFAULT)
    assert printed != latex(sp.Derivative(S.cost, S.w[L, J, K]), DEFAULT)
    assert "2" in printed


def test_a_second_derivative_in_text_differs_from_the_first():
    w = S.w[L, J, K]
    assert text(sp.Derivative(S.cost, w, 2), DEFAULT) != text(sp.Derivative(S.cost, w), DEFAULT)


def test_heaviside_prints_as_h_not_sympy_s_theta():
    z = S.z[L, J]
    assert latex(sp.Heaviside(z), DEFAULT) == r"H\left(z_{j}^{(l)}\right)"
    assert text(sp.Heaviside(z), DEFAULT) == "H(z_j^(l))"
    assert text(sp.Heaviside(z) ** 2, DEFAULT) == "H(z_j^(l))^2"


def test_a_power_of_heaviside_keeps_its_exponent_in_latex():
    z = S.z[L, J]
    assert latex(sp.Heaviside(z) ** 2, DEFAULT) != latex(sp.Heaviside(z), DEFAULT)


# Text symbols and functions


def test_text_writes_greek_names_as_letters_and_e_as_e():
    assert text(sp.Symbol("sigma"), DEFAULT) == "σ"
    assert text(sp.Symbol("eta"), DEFAULT) == "η"
    assert text(sp.Symbol("phi"), DEFAULT) == "phi"  # not in the table: unchanged
    assert text(sp.Function("sigma")(S.z[L, J]), DEFAULT) == "σ(z_j^(l))"
    assert text(sp.Function("f")(S.a[L, J], S.y[J]), DEFAULT) == "f(a_j^(l), y_j)"
    assert text(sp.E, DEFAULT) == "e"


# The matrix summary


def expected_latex(nt: Notation, layer: str) -> dict:
    up, cost = sup_latex(nt, layer), latex(nt.symbols.cost, nt)
    g = r"\sigma" if nt.activation == "sigma" else nt.activation
    return {
        MatrixKind.DELTA: (r"\delta" if nt.delta == "delta" else nt.delta) + up,
        MatrixKind.GPRIME: f"{g}'"
        + rf"\!\left({nt.preactivation}{up}\right)",  # the layer on z only
        MatrixKind.GRAD_C: rf"\nabla_{{{nt.activation_value}{up}}} {cost}",
        MatrixKind.W: nt.weight.upper() + up,
        MatrixKind.A: nt.activation_value + up,
        MatrixKind.DC_DB: rf"\frac{{\partial {cost}}}{{\partial {nt.bias}{up}}}",
        MatrixKind.DC_DW: rf"\frac{{\partial {cost}}}{{\partial {nt.weight.upper()}{up}}}",
        MatrixKind.JACOBIAN: rf"\frac{{\partial {nt.activation_value}{up}}}{{\partial {nt.preactivation}{up}}}",
    }


def expected_text(nt: Notation, layer: str) -> dict:
    up = sup_text(nt, layer)
    g = "σ" if nt.activation == "sigma" else nt.activation
    return {
        MatrixKind.DELTA: ("δ" if nt.delta == "delta" else nt.delta) + up,
        MatrixKind.GPRIME: f"{g}'({nt.preactivation}{up})",
        MatrixKind.GRAD_C: f"∇_{nt.activation_value}{up} {nt.cost}",
        MatrixKind.W: nt.weight.upper() + up,
        MatrixKind.A: nt.activation_value + up,
        MatrixKind.DC_DB: f"∂{nt.cost}/∂{nt.bias}{up}",
        MatrixKind.DC_DW: f"∂{nt.cost}/∂{nt.weight.upper()}{up}",
        MatrixKind.JACOBIAN: f"∂{nt.activation_value}{up}/∂{nt.preactivation}{up}",
    }


def test_summary_symbols_spelled_out_in_the_default_notation():
    # Written by hand once, so the helpers above are checked too.
    m = lambda kind: layer_matrix(kind, L, 3)  # noqa: E731
    assert latex(m(MatrixKind.DELTA), DEFAULT) == r"\delta^{(l)}"
    assert latex(m(MatrixKind.GPRIME), DEFAULT) == r"g'\!\left(z^{(l)}\right)"
    assert latex(m(MatrixKind.GRAD_C), DEFAULT) == r"\nabla_{a^{(l)}} C_{0}"
    assert latex(m(MatrixKind.DC_DW), NIELSEN) == r"\frac{\partial C_{0}}{\partial W^{l}}"
    assert (
        text(m(MatrixKind.GPRIME), NIELSEN) == "σ'(z^l)"
    )  # Nielsen's σ'(z^l): σ'^l reads as a power
    assert text(m(MatrixKind.DC_DB), DEFAULT) == "∂C_0/∂b^(l)"


@BOTH
@pytest.mark.parametrize("layer, printed", [(L, "l"), (L + 1, "l+1"), (L - 1, "l-1"), (3, "3")])
def test_every_summary_symbol_in_latex(nt, layer, printed):
    expected = expected_latex(nt, printed)
    for kind in MatrixKind:
        assert latex(layer_matrix(kind, layer, 3), nt) == expected[kind], kind


@BOTH
@pytest.mark.parametrize("layer, printed", [(L, "l"), (3, "3"), (12, "12")])
def test_every_summary_symbol_in_text(nt, layer, printed):
    expected = expected_text(nt, printed)
    for kind in MatrixKind:
        assert text(layer_matrix(kind, layer, 3), nt) == expected[kind], kind


CUSTOM = Notation(
    weight="v",
    bias="c",
    preactivation="u",
    activation_value="h",
    cost="J",
    activation="f",
    delta="e",
)


def test_summary_symbols_follow_custom_letters():
    expected_l, expected_t = expected_latex(CUSTOM, "l"), expected_text(CUSTOM, "l")
    assert expected_l[MatrixKind.W] == "V^{(l)}"  # the weight matrix is the capital letter
    for kind in MatrixKind:
        assert latex(layer_matrix(kind, L, 3), CUSTOM) == expected_l[kind], kind
        assert text(layer_matrix(kind, L, 3), CUSTOM) == expected_t[kind], kind


def test_the_text_error_vector_uses_the_notation_s_delta_letter():
    nt = Notation(delta="e")
    assert text(nt.symbols.delta[L, J], nt) == "e_j^(l)"  # passes: the indexed form uses the letter
    assert text(layer_matrix(MatrixKind.DELTA, L, 3), nt) == "e^(l)"


def test_the_latex_summary_writes_greek_letters_as_the_index_form_does():
    nt = Notation(activation="phi")
    z = nt.symbols.z[L, J]
    assert latex(sp.Derivative(sp.Function("phi")(z), z), nt).startswith(r"\phi'")  # passes
    assert latex(layer_matrix(MatrixKind.GPRIME, L, 3), nt).startswith(r"\phi'")


@BOTH
def test_the_error_recursion_in_matrix_form(nt):
    # delta^(l) = ((W^(l+1))^T delta^(l+1)) ⊙ g'(z^(l)): a product inside a Hadamard product is parenthesised.
    weights = layer_matrix(MatrixKind.W, L + 1, 3, 2)
    recursion = sp.HadamardProduct(
        weights.T * layer_matrix(MatrixKind.DELTA, L + 1, 3), layer_matrix(MatrixKind.GPRIME, L, 2)
    )
    up1, up = sup_latex(nt, "l+1"), sup_latex(nt, "l")
    g = r"\sigma" if nt.activation == "sigma" else nt.activation
    assert latex(recursion, nt) == (
        rf"\left(\left(W{up1}\right)^{{\mathsf{{T}}}} \delta{up1}\right) \odot "
        rf"{g}'\!\left(z{up}\right)"
    )
    g_text, up_text = ("σ" if nt.activation == "sigma" else nt.activation), sup_text(nt, "l")
    assert (
        text(recursion, nt) == f"((W^(l+1))ᵀ δ^(l+1)) ⊙ {g_text}'(z{up_text})"
    )  # (l+1) in both styles


def test_a_hadamard_product_of_plain_vectors_is_not_parenthesised():
    product = sp.HadamardProduct(
        layer_matrix(MatrixKind.GRAD_C, 3, 2), layer_matrix(MatrixKind.GPRIME, 3, 2)
    )
    assert text(product, DEFAULT) == "∇_a^(3) C_0 ⊙ g'(z^(3))"
    assert latex(product, DEFAULT) == r"\nabla_{a^{(3)}} C_{0} \odot g'\!\left(z^{(3)}\right)"


def test_plain_text_superscripts_of_a_compound_layer_are_unambiguous():
    assert text(S.a[L + 1, J], NIELSEN) != text(S.a[L, J] + 1, NIELSEN)


def test_plain_text_summary_superscripts_of_a_compound_layer_are_grouped():
    assert "^l+1" not in text(layer_matrix(MatrixKind.DELTA, L + 1, 3), NIELSEN)


# The printers themselves


def test_the_functions_are_the_printers():
    expr = sp.Derivative(S.cost, S.w[L, J, K]) * S.a[L - 1, K]
    assert NotationLatexPrinter(NIELSEN).doprint(expr) == latex(expr, NIELSEN)
    assert NotationTextPrinter(NIELSEN).doprint(expr) == text(expr, NIELSEN)


def test_latex_printer_passes_settings_on_to_sympy():
    printer = NotationLatexPrinter(DEFAULT, mul_symbol="times")
    assert printer.doprint(2 * S.a[L, J]) == r"2 \times a_{j}^{(l)}"
    assert latex(2 * S.a[L, J], DEFAULT) == "2 a_{j}^{(l)}"


def test_a_primed_activation_named_by_its_layer_takes_the_prime_after_the_layer():
    """g'^{(L)} reads as a power of g' (issue 18): the prime follows the layer, g^{(L)\\prime}, g^(L)'."""
    from derive.notation.printing import activation_latex

    nt = Notation(activation_names="layer")
    assert activation_latex(nt, "L", prime=True) == r"g^{(L)\prime}"
    assert activation_latex(nt, "L") == "g^{(L)}"
    assert (
        latex(layer_matrix(MatrixKind.GPRIME, L, 3), nt) == r"g^{(l)\prime}\!\left(z^{(l)}\right)"
    )
    assert text(layer_matrix(MatrixKind.GPRIME, L, 3), nt) == "g^(l)'(z^(l))"
    plain = Notation(activation_names="layer", superscript="plain")
    assert (
        text(layer_matrix(MatrixKind.GPRIME, L, 3), plain) == "(g^l)'(z^l)"
    )  # not g^l', read as g^(l')
