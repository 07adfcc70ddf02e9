"""Unit tests for derive/model/costs.py: every built-in cost's derivative chain against sympy.diff of its term,
the written form of its derivative, names and aliases, the closest-name hint for an unknown name, and costs
defined by the user."""

import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.model.costs import ALIASES, COSTS, A, Y, Cost, cost_named, defined_cost
from derive.model.differentiate import ChainStep
from derive.model.steps import Rule
from derive.render.reasons import reason_text


def _equal(left: sp.Expr, right: sp.Expr) -> bool:
    return sp.simplify(left - right) == 0


@pytest.mark.parametrize("name", sorted(COSTS))
def test_the_chains_last_step_is_the_derivative_of_the_term(name):
    cost = COSTS[name]
    assert cost.derivative_chain, name
    assert _equal(cost.derivative_chain[-1].expr, sp.diff(cost.term, A))


@pytest.mark.parametrize("name", sorted(COSTS))
def test_every_step_of_the_chain_is_the_derivative_and_is_justified(name):
    expected = sp.diff(COSTS[name].term, A)
    for step in COSTS[name].derivative_chain:
        expr, rule, reason = step.expr, step.rule, step.reason
        assert _equal(expr.doit(), expected), (
            name,
            expr,
        )  # what is still to differentiate, differentiated
        assert isinstance(rule, Rule)
        text = reason_text(reason)
        assert text.strip() and "\n" not in text


@pytest.mark.parametrize("name", sorted(COSTS))
def test_derivative_at_a_node_is_the_derivative_of_the_term_at_that_node(name):
    cost = COSTS[name]
    a, y = sp.IndexedBase("a")[2, 0], sp.IndexedBase("y")[0]
    term = cost.term_at(a, y)
    assert A not in term.free_symbols and Y not in term.free_symbols
    assert _equal(term, cost.term.xreplace({A: a, Y: y}))
    assert _equal(cost.derivative_at(a, y), sp.diff(term, a))


def test_the_quadratic_derivative_keeps_its_written_form():
    a, y = sp.symbols("a_0 y_0")
    derivative = COSTS["quadratic"].derivative_at(a, y)
    assert derivative.func is sp.Mul and derivative.args == (2, a - y)  # 2(a - y), not 2a - 2y
    assert COSTS["half-quadratic"].derivative_at(a, y) == a - y


def test_cross_entropy_ends_over_a_common_denominator():
    final = COSTS["cross-entropy"].derivative_chain[-1].expr
    numerator, denominator = sp.fraction(final)
    assert numerator == A - Y
    assert _equal(denominator, A * (1 - A))


def test_the_terms_are_the_textbook_ones():
    assert _equal(COSTS["quadratic"].term, (A - Y) ** 2)
    assert _equal(COSTS["half-quadratic"].term, (A - Y) ** 2 / 2)
    assert _equal(COSTS["cross-entropy"].term, -Y * sp.log(A) - (1 - Y) * sp.log(1 - A))


def test_each_cost_is_filed_under_its_own_name_with_a_title():
    assert set(COSTS) == {"quadratic", "half-quadratic", "cross-entropy", "log-likelihood"}
    for name, cost in COSTS.items():
        assert cost.name == name
        assert cost.title and cost.description
        assert cost_named(name) is cost


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_every_alias_names_a_built_in_cost(alias):
    assert alias not in COSTS
    assert cost_named(alias) is COSTS[ALIASES[alias]]


@pytest.mark.parametrize(
    "spelling, name",
    [
        ("MSE", "quadratic"),
        ("  Quadratic ", "quadratic"),
        ("BCE", "cross-entropy"),
        ("Half_Quadratic", "half-quadratic"),
    ],
)
def test_names_are_read_without_case_or_surrounding_space(spelling, name):
    assert cost_named(spelling) is COSTS[name]


def test_a_cost_object_is_returned_as_it_is():
    custom = Cost(
        name="c",
        title="c",
        term=A,
        derivative_chain=(ChainStep(sp.Integer(1), Rule.DIFFERENTIATION, "d"),),
    )
    assert cost_named(custom) is custom


@pytest.mark.parametrize(
    "typed, guess",
    [
        ("quadratc", "quadratic"),
        ("half-quadratik", "half-quadratic"),
        ("mes", "mse"),
        ("Cross-Entropi", "cross-entropy"),
    ],
)
def test_an_unknown_name_gets_the_closest_known_one(typed, guess):
    with pytest.raises(DeriveError) as caught:
        cost_named(typed)
    message = str(caught.value)
    assert message.startswith(f"unknown cost {typed!r}; did you mean {guess!r}?")
    assert "\n" not in message


def test_an_unknown_name_lists_every_name_and_alias_once():
    with pytest.raises(DeriveError) as caught:
        cost_named("xyz")
    message = str(caught.value)
    assert "did you mean" not in message  # nothing is close to xyz
    known = message.split("(known: ", 1)[1].rstrip(")").split(", ")
    assert sorted(known) == sorted([*COSTS, *ALIASES])


def test_a_user_cost_is_differentiated_by_sympy():
    term = (A - Y) ** 4 + sp.exp(A * Y)
    cost = defined_cost(term)
    assert cost.name == "user-defined"
    assert cost.term == term
    assert _equal(cost.derivative_chain[-1].expr, sp.diff(term, A))
    assert cost.derivative_chain[0].rule is Rule.SUM_RULE  # step by step: the sum rule first


def test_a_user_cost_from_latex_has_the_same_derivative():
    cost = cost_named(r"C_0 = \sum_j (a_j^{(L)} - y_j)^4")
    assert cost.name == "user-defined"
    assert _equal(cost.term, (A - Y) ** 4)
    assert _equal(cost.derivative_chain[-1].expr, 4 * (A - Y) ** 3)


@pytest.mark.parametrize("term", [sp.zoo * A, A + sp.oo, sp.nan * Y], ids=str)
def test_an_infinite_or_undefined_user_cost_is_refused(term):
    with pytest.raises(DeriveError, match="the cost is undefined"):
        defined_cost(term)
