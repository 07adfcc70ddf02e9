"""Unit tests for derive/model/differentiate.py: every rule on hand-written expressions, every stage of
every chain against sympy.diff of the definition, results in the user's own functions (sigma stays
sigma), kinks located from the conditions with the left slope used there, and random expression trees
of the supported grammar (hypothesis) whose chains end at sympy.diff."""

import random

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.errors import DeriveError
from derive.model import differentiate as diff_module
from derive.model.activations import KNOWN, SIGMA, Z, activation_named, defined_activation
from derive.model.costs import A, Y, defined_cost
from derive.model.differentiate import ChainStep, Known, differentiate, locate_kinks, rule_for
from derive.model.steps import Rule
from derive.render.reasons import reason_text

SIGMOID = sp.Lambda(Z, 1 / (1 + sp.exp(-Z)))
POINTS = [sp.Rational(-7, 3), sp.Rational(-2, 5), sp.Rational(3, 7), sp.Rational(5, 2)]


def explicit(expr: sp.Expr) -> sp.Expr:
    """sigma written out and every derivative still pending taken: the value a stage claims."""
    return expr.replace(SIGMA, SIGMOID).doit()


def agree(left: sp.Expr, right: sp.Expr, points=POINTS, var=Z) -> bool:
    for p in points:
        a, b = sp.N(left.xreplace({var: p}), 40), sp.N(right.xreplace({var: p}), 40)
        if a.has(sp.nan, sp.zoo) or b.has(sp.nan, sp.zoo):
            continue
        if abs(sp.N(a - b, 40)) > sp.Float(10) ** -25 * max(1, abs(a)):
            return False
    return True


def assert_every_stage_is_the_derivative(expr: sp.Expr, var=Z, known=KNOWN, points=POINTS):
    truth = sp.diff(explicit(expr), var)
    done = differentiate(expr, var, known)
    for step in done.steps:
        assert isinstance(step, ChainStep) and isinstance(step.rule, Rule)
        assert reason_text(step.reason).strip() and "\n" not in reason_text(step.reason)
        assert agree(explicit(step.expr), truth, points, var), (expr, step.expr)
    return done


# One rule at a time ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr, kind, rule",
    [
        (sp.Integer(3), "constant", Rule.CONSTANT_RULE),
        (Y**2, "constant", Rule.CONSTANT_RULE),
        (Z, "power", Rule.POWER_RULE),
        (Z**3, "power", Rule.POWER_RULE),
        ((1 + Z) ** 3, "power", Rule.CHAIN_RULE),
        (Z + sp.exp(Z), "sum", Rule.SUM_RULE),
        (3 * sp.sin(Z), "constant multiple", Rule.CONSTANT_MULTIPLE_RULE),
        (Z * sp.exp(Z), "product", Rule.PRODUCT_RULE),
        (sp.sin(Z) / (1 + Z**2), "quotient", Rule.QUOTIENT_RULE),
        (sp.exp(Z), "exponential", Rule.EXPONENTIAL_RULE),
        (sp.exp(2 * Z), "exponential", Rule.CHAIN_RULE),
        (2**Z, "exponential", Rule.EXPONENTIAL_RULE),
        (sp.log(Z), "logarithm", Rule.LOGARITHM_RULE),
        (sp.log(1 + Z**2), "logarithm", Rule.CHAIN_RULE),
        (sp.sin(Z), "trigonometric", Rule.TRIG_RULE),
        (sp.cos(Z), "trigonometric", Rule.TRIG_RULE),
        (sp.tan(3 * Z), "trigonometric", Rule.CHAIN_RULE),
        (sp.tanh(Z), "hyperbolic", Rule.HYPERBOLIC_RULE),
        (sp.cosh(Z), "hyperbolic", Rule.HYPERBOLIC_RULE),
        (sp.sech(Z), "hyperbolic", Rule.HYPERBOLIC_RULE),
        (SIGMA(Z), "named", Rule.NAMED_FUNCTION_RULE),
        (SIGMA(2 * Z), "named", Rule.CHAIN_RULE),
        (sp.Piecewise((Z, Z > 0), (0, True)), "piecewise", Rule.PIECEWISE_RULE),
        (sp.Abs(Z), "cases", Rule.DEFINITION),
        (sp.Max(0, Z), "cases", Rule.DEFINITION),
        (Z**Z, "rewrite", Rule.REWRITE),
        (sp.erf(Z), "sympy", Rule.DIFFERENTIATION),
    ],
    ids=str,
)
def test_each_rule_is_recognised_and_its_result_is_the_derivative(expr, kind, rule):
    applied = rule_for(expr, Z, KNOWN)
    assert (applied.kind, applied.rule) == (kind, rule)
    assert applied.expr == expr
    if kind not in ("piecewise", "cases"):
        assert agree(explicit(applied.result), sp.diff(explicit(expr), Z)), applied.result


@pytest.mark.parametrize(
    "expr, expected",
    [
        (Z**3, 3 * Z**2),
        (Z + 1, sp.Derivative(Z, Z) + sp.Derivative(1, Z)),
        (sp.exp(Z), sp.exp(Z)),
        (sp.sin(Z), sp.cos(Z)),
        (sp.cosh(Z), sp.sinh(Z)),
        (sp.tanh(Z), 1 - sp.tanh(Z) ** 2),
        (sp.log(Z), 1 / Z),
        (SIGMA(Z), SIGMA(Z) * (1 - SIGMA(Z))),
    ],
)
def test_the_elementary_results_read_as_in_a_table(expr, expected):
    assert sp.expand(rule_for(expr, Z, KNOWN).result - expected) == 0


def test_the_sentences_name_the_rules():
    assert rule_for(Z * SIGMA(Z), Z).kind == "product"
    steps = differentiate(Z * SIGMA(Z), Z, KNOWN).steps
    assert reason_text(steps[0].reason) == "Product rule: (u·v)' = u'·v + u·v'."
    assert "σ'(z) = σ(z)·(1 - σ(z))" in reason_text(steps[-1].reason)
    quotient = reason_text(differentiate(sp.sin(Z) / Z, Z).steps[0].reason)
    assert quotient.startswith("Quotient rule")


# Stages: each the whole derivative, one rule per step ------------------------------------------------
EXPRESSIONS = [
    Z * SIGMA(Z),
    1 / (1 + sp.exp(-Z)),
    (sp.exp(Z) - sp.exp(-Z)) / (sp.exp(Z) + sp.exp(-Z)),
    sp.log(1 + sp.exp(Z)),
    Z / (1 + sp.Abs(Z)),
    Z / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (Z + sp.Rational(44715, 10**6) * Z**3))),
    sp.sin(Z) * sp.cos(Z) * sp.exp(Z),
    sp.sqrt(1 + Z**2),
    Z * sp.exp(-(Z**2) / 2) / sp.log(2 + Z**2),
    sp.sech(Z) ** 2 + sp.coth(Z) - sp.sinh(3 * Z),
    SIGMA(SIGMA(Z)) * sp.tanh(Z),
    3**Z + Z**Z,
    sp.Max(0, Z - 1) + sp.Min(Z, 2 * Z),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_every_stage_equals_the_derivative_of_the_definition(expr):
    assert_every_stage_is_the_derivative(expr)


@pytest.mark.parametrize("expr", EXPRESSIONS[:4], ids=str)
def test_each_stage_rewrites_one_derivative_kind_at_a_time(expr):
    steps = differentiate(expr, Z, KNOWN).steps
    pending = [len(step.expr.atoms(sp.Derivative)) for step in steps]
    assert pending[-1] == 0
    assert len({step.reason for step in steps}) >= 2


def test_h_z_sigma_keeps_the_users_sigma():
    done = differentiate(Z * SIGMA(Z), Z, KNOWN)
    result = done.result
    assert result.has(SIGMA) and not result.has(sp.exp)
    assert sp.expand(result - (SIGMA(Z) + Z * SIGMA(Z) * (1 - SIGMA(Z)))) == 0
    assert agree(explicit(result), sp.diff(explicit(Z * SIGMA(Z)), Z))


def test_a_user_activation_keeps_sigma_in_its_definition_and_derivative():
    h = defined_activation("h", Z * SIGMA(Z))
    assert h.definition.expr == Z * SIGMA(Z)
    classic = h.classic(Z)
    assert classic.has(SIGMA) and not classic.has(sp.exp)
    assert [step.rule for step in h.derivative_chain] == [
        Rule.DEFINITION,
        Rule.PRODUCT_RULE,
        Rule.POWER_RULE,
        Rule.NAMED_FUNCTION_RULE,
    ]
    assert h.definitions[h.function].expr == Z / (
        1 + sp.exp(-Z)
    )  # the helper written out for the checks
    assert h.kinks == () and h.analytic


def test_products_keep_their_written_order():
    result = differentiate(Z * SIGMA(Z), Z, KNOWN).result
    term = next(t for t in result.args if isinstance(t, sp.Mul))
    assert term.args == (Z, SIGMA(Z), 1 - SIGMA(Z))


def test_a_table_of_plain_lambdas_is_accepted():
    f = sp.Function("f")
    done = differentiate(f(Z**2), Z, {f: sp.Lambda(Z, 2 * f(Z))})
    assert sp.expand(done.result - 4 * Z * f(Z**2)) == 0


def test_an_unknown_function_is_left_as_its_derivative():
    f = sp.Function("f")
    done = differentiate(Z * f(Z), Z)
    assert done.result.has(sp.Derivative(f(Z), Z))
    assert sp.expand(done.result - sp.diff(Z * f(Z), Z)) == 0


def test_too_many_steps_are_refused(monkeypatch):
    monkeypatch.setattr(diff_module, "MAX_STEPS", 2)
    with pytest.raises(DeriveError, match="more than 2 steps"):
        differentiate(sp.exp(sp.sin(Z**3 + 7 * Z)), Z)


def test_tidy_collects_only_when_clearly_shorter():
    assert (
        differentiate(Z * SIGMA(Z), Z, KNOWN, tidy=True).steps[-1].rule is not Rule.SIMPLIFICATION
    )
    done = differentiate(Z * Z * Z * 4 + (Z + 1) * (Z + 1), Z, tidy=True)
    assert sp.expand(done.result - sp.diff(4 * Z**3 + (Z + 1) ** 2, Z)) == 0


# Pieces and kinks -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr, kinks",
    [
        (sp.Piecewise((Z, Z > 0), (0, True)), (0,)),
        (sp.Piecewise((Z, Z > 1), (0, True)), (1,)),
        (sp.Piecewise((-1, Z < -1), (Z, Z <= 1), (1, True)), (-1, 1)),
        (sp.Piecewise((Z**2, Z >= sp.Rational(1, 2)), (Z, True)), (sp.Rational(1, 2),)),
        (sp.Abs(Z - 2), (2,)),
        (sp.Max(0, Z - 1), (1,)),
        (Z / (1 + sp.Abs(Z + 3)), (-3,)),
        (sp.Abs(Z**2 - 1), (-1, 1)),
        (sp.exp(Z) + Z, ()),
    ],
    ids=str,
)
def test_kinks_are_located_from_the_conditions(expr, kinks):
    assert locate_kinks(expr, Z) == kinks
    done = assert_every_stage_is_the_derivative(
        expr, points=POINTS + [sp.Rational(7, 4), sp.Rational(-9, 8)]
    )
    assert done.kinks == kinks
    assert tuple(k for k, _ in done.at_kinks) == kinks


@pytest.mark.parametrize(
    "expr, at_kink",
    [
        (
            sp.Piecewise((Z, Z > 1), (0, True)),
            {1: 0},
        ),  # the left slope, whatever the piece at the kink
        (sp.Piecewise((Z, Z >= 1), (0, True)), {1: 0}),
        (sp.Piecewise((0, Z <= 1), (3 * Z, True)), {1: 0}),
        (sp.Piecewise((-Z, Z < 0), (2 * Z, True)), {0: -1}),
        (sp.Piecewise((-1, Z < -1), (Z, Z <= 1), (1, True)), {-1: 0, 1: 1}),
        (sp.Abs(Z), {0: -1}),
    ],
)
def test_the_left_slope_is_used_at_each_kink_and_said(expr, at_kink):
    done = differentiate(expr, Z, name="g")
    assert dict(done.at_kinks) == at_kink
    last = done.steps[-1]
    stage, rule, reason = last.expr, last.rule, reason_text(last.reason)
    assert rule is Rule.CONVENTION and "left slope" in reason
    for kink, value in at_kink.items():
        assert f"g'({kink}) = {value}" in reason
        assert sp.simplify(stage.xreplace({Z: kink})) == value
        left = sp.diff(expr, Z).xreplace({Z: kink - sp.Rational(1, 10**6)})
        assert sp.N(left - value) == 0 or abs(sp.N(left) - value) < 1e-5


def test_pieces_are_differentiated_away_from_the_kink_first():
    steps = differentiate(sp.Piecewise((Z, Z > 1), (0, True)), Z).steps
    first, rule, reason = steps[0].expr, steps[0].rule, steps[0].reason
    assert rule is Rule.PIECEWISE_RULE and "kink at z = 1" in reason_text(reason)
    assert first == sp.Piecewise(
        (sp.Derivative(Z, Z), Z > 1), (sp.Derivative(0, Z), Z < 1), evaluate=False
    )
    assert steps[-1].expr == sp.Piecewise((1, Z > 1), (0, True))


def test_a_user_definition_by_cases_reports_its_kinks_and_convention():
    g = defined_activation("g", sp.Piecewise((Z, Z > 1), (0, True)))
    assert g.kinks == (1,) and not g.analytic
    assert g.convention == "g'(1) = 0"


def test_relu_and_leaky_relu_keep_their_classic_forms_and_conventions():
    relu = activation_named("relu")
    assert relu.classic(Z) == sp.Heaviside(Z, 0) and relu.kinks == (0,)
    assert relu.derivative_chain[-2].rule is Rule.CONVENTION
    assert (
        reason_text(relu.derivative_chain[-2].reason)
        == "ReLU has no derivative at 0; we use the left slope there, ReLU'(0) = 0."
    )
    leaky = activation_named("leaky-relu")
    assert leaky.classic(Z) == sp.Piecewise((1, Z > 0), (sp.Rational(1, 100), True))


# Built-ins: one mechanism, same final forms -------------------------------------------------------------
def test_the_built_in_chains_start_with_the_differentiator():
    for name in ("sigmoid", "tanh", "softplus", "relu", "identity", "elu", "silu", "gelu"):
        act = activation_named(name)
        definition = act.definition(Z)
        stages = differentiate(definition, Z, KNOWN).steps
        chain = act.derivative_chain
        assert chain[0].expr == sp.Derivative(definition, Z)
        assert [s.expr for s in chain[1 : 1 + len(stages) - 1]] == [s.expr for s in stages[:-1]], (
            name
        )


@pytest.mark.parametrize(
    "term",
    [
        (A - Y) ** 2,
        sp.Rational(1, 2) * (A - Y) ** 2,
        -(Y * sp.log(A) + (1 - Y) * sp.log(1 - A)),
        (A - Y) ** 4 + sp.exp(A * Y),
        sp.log(sp.cosh(A - Y)),
    ],
    ids=str,
)
def test_cost_chains_are_the_derivative_at_every_stage(term):
    truth = sp.diff(term, A)
    points = [sp.Rational(1, 5), sp.Rational(3, 7), sp.Rational(4, 5)]
    for stage in (step.expr for step in defined_cost(term).derivative_chain):
        for y in (sp.Rational(1, 10), sp.Rational(7, 10)):
            assert agree(stage.doit().xreplace({Y: y}), truth.xreplace({Y: y}), points, A), stage


def test_known_functions_may_be_given_with_their_formula():
    f = sp.Function("f")
    done = differentiate(f(Z), Z, {f: Known(sp.Lambda(Z, f(Z) ** 2))})
    assert reason_text(done.steps[-1].reason).endswith(
        "f'(z) = f(z)^2."
    )  # by default the derivative written out
    written = sp.Eq(sp.Symbol("f'"), sp.Symbol("f") ** 2)
    done = differentiate(f(Z), Z, {f: Known(sp.Lambda(Z, f(Z) ** 2), written)})
    assert reason_text(done.steps[-1].reason).endswith("f' = f^2.")


# Random expressions from the supported grammar --------------------------------------------------------------
_UNARY = [
    sp.exp,
    sp.sin,
    sp.cos,
    sp.tanh,
    sp.sinh,
    sp.cosh,
    SIGMA,
    lambda u: sp.log(1 + u**2),
    lambda u: sp.sqrt(2 + u**2),
]
_BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / (2 + b**2), lambda a, b: a - b]


def _leaves():
    return st.one_of(
        st.just(Z),
        st.integers(-3, 3).map(sp.Integer),
        st.just(2 * Z),
        st.just(Z**2),
        st.sampled_from([sp.Rational(1, 2), sp.Rational(-3, 4)]),
    )


_trees = st.recursive(
    _leaves(),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(range(len(_UNARY))), inner).map(lambda t: _UNARY[t[0]](t[1])),
        st.tuples(st.sampled_from(range(len(_BINARY))), inner, inner).map(
            lambda t: _BINARY[t[0]](t[1], t[2])
        ),
        st.tuples(inner, st.integers(2, 3)).map(lambda t: t[0] ** t[1]),
    ),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test_random_expressions_end_at_sympys_derivative(expr):
    truth = sp.diff(explicit(expr), Z)
    done = differentiate(expr, Z, KNOWN)
    assert not done.result.atoms(sp.Derivative)
    rng = random.Random(str(expr))
    points = [sp.Rational(rng.randint(-30, 30), rng.choice([7, 11, 13])) for _ in range(3)]
    assert agree(explicit(done.result), truth, points), (expr, done.result)
    middle = done.steps[len(done.steps) // 2].expr
    assert agree(explicit(middle), truth, points), (expr, middle)
