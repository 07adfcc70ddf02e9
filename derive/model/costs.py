"""Single-sample costs C_0 = sum_j term(a_j^{(L)}, y_j) as data, with derivative chains."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import DeriveError
from derive.model.differentiate import Chain, ChainStep, differentiate
from derive.model.steps import ReasonKind, Rule, because, instantiate

A, Y = sp.symbols("a y", real=True)
"""Placeholders for one output node's activation and target."""


@dataclass(frozen=True)
class Cost:
    """A cost whose per-node term and derivative chain are expressions in A and Y."""

    name: str
    title: str
    term: sp.Expr
    derivative_chain: Chain
    description: str = ""
    target_distribution: bool = (
        False  # the targets of one sample sum to 1 (one-hot labels): the derivation uses it
    )

    def term_at(self, a: sp.Expr, y: sp.Expr) -> sp.Expr:
        return instantiate(self.term, {A: a, Y: y})

    def derivative_at(self, a: sp.Expr, y: sp.Expr) -> sp.Expr:
        """dC_0/da_j in its final (simplest) form."""
        return instantiate(self.derivative_chain[-1].expr, {A: a, Y: y})


def _mul(*factors: sp.Expr) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False)


def derived(term: sp.Expr, tidy: bool = False) -> Chain:
    """The stages of d/da of a cost's term, step by step (derive.model.differentiate)."""
    return differentiate(term, A, tidy=tidy).steps


_CROSS_ENTROPY = -(Y * sp.log(A) + (1 - Y) * sp.log(1 - A))
COSTS: dict[str, Cost] = {
    "quadratic": Cost(
        name="quadratic",
        title="quadratic cost",
        term=(A - Y) ** 2,
        derivative_chain=derived((A - Y) ** 2),
        description="sum of squared errors",
    ),
    "half-quadratic": Cost(
        name="half-quadratic",
        title="half quadratic cost",
        term=sp.Rational(1, 2) * (A - Y) ** 2,
        derivative_chain=derived(sp.Rational(1, 2) * (A - Y) ** 2),
        description="one half of the sum of squared errors",
    ),
    "cross-entropy": Cost(
        name="cross-entropy",
        title="binary cross-entropy",
        term=_CROSS_ENTROPY,
        derivative_chain=derived(_CROSS_ENTROPY)
        + (
            ChainStep(
                (A - Y) / _mul(A, 1 - A),
                Rule.SIMPLIFICATION,
                because(ReasonKind.COMMON_DENOMINATOR),
            ),
        ),
        description="binary cross-entropy for outputs in (0, 1)",
    ),
    "log-likelihood": Cost(
        name="log-likelihood",
        title="log-likelihood cost",
        term=-Y * sp.log(A),
        derivative_chain=derived(-Y * sp.log(A)),
        description="negative log-likelihood (categorical cross-entropy) for one-hot targets",
        target_distribution=True,
    ),
}
ALIASES = {
    "mse": "quadratic",
    "squared": "quadratic",
    "half_quadratic": "half-quadratic",
    "bce": "cross-entropy",
    "binary-cross-entropy": "cross-entropy",
    "cross_entropy": "cross-entropy",
    "categorical-cross-entropy": "log-likelihood",
    "categorical_cross_entropy": "log-likelihood",
    "cce": "log-likelihood",
    "nll": "log-likelihood",
    "log_likelihood": "log-likelihood",
    "negative-log-likelihood": "log-likelihood",
}


_RANGES = {
    "tanh": "gives values in (-1, 1)",
    "relu": "gives values in [0, inf)",
    "leaky-relu": "gives any real value",
    "softplus": "gives values in (0, inf)",
    "identity": "gives any real value",
    "elu": "gives values in (-alpha, inf)",
    "silu": "gives values from about -0.28 up",
    "gelu": "gives values from about -0.17 up",
}


_POSITIVE = ("softplus",)  # besides sigmoid-type and softmax outputs, which lie in (0, 1)


def check_output_domain(cost: Cost, output) -> None:
    """Refuse a cost whose domain the output activation cannot meet.

    Cross-entropy takes ln a and ln(1 - a), so it needs every output in (0, 1): a sigmoid-type
    output (any gain) or softmax. The log-likelihood takes ln a, so it needs outputs > 0: those,
    or softplus. Any other built-in activation leaves that range, and for an activation defined
    by the user derive cannot establish its range, so both are refused here rather than giving
    nan (or a confident wrong number) later.
    """
    in_unit = getattr(output, "logistic_gain", None) is not None or getattr(output, "vector", False)
    if cost.name == "cross-entropy" and not in_unit:
        need = "outputs in (0, 1)"
        fix = "use a softmax or sigmoid output layer (e.g. 'sigmoid(gain=2)') or another cost"
    elif cost.name == "log-likelihood" and not (in_unit or output.name in _POSITIVE):
        need, fix = (
            "positive outputs",
            "use a softmax output layer (or sigmoid, softplus) or another cost",
        )
    else:
        return
    known = _RANGES.get(output.name.split("(")[0])
    if known:
        raise DeriveError(
            f"the {cost.title} needs {need}, but the output activation {output.name} {known}; {fix}"
        )
    raise DeriveError(
        f"the {cost.title} needs {need}, and derive cannot confirm that for the output "
        f"activation {output.name} defined by the user; {fix}"
    )


def check_targets(cost: Cost, y) -> None:
    """Refuse targets a cost cannot take: the log-likelihood's derivation uses that the targets of a
    sample form a distribution (one-hot labels), so they must be >= 0 and sum to exactly 1."""
    if not cost.target_distribution:
        return
    if any(getattr(v, "free_symbols", None) for v in y):
        raise DeriveError(
            f"the {cost.title} needs numeric targets that sum to 1 (a one-hot label such as "
            "y = [0, 1, 0]); keep other values symbolic instead"
        )
    total = sum(y)
    if any(v < 0 for v in y) or total != 1:
        raise DeriveError(
            f"the {cost.title} needs targets that are >= 0 and sum to 1 (a one-hot label such as "
            f"y = [0, 1, 0]); these sum to {total}"
        )


def defined_cost(term: sp.Expr) -> Cost:
    """A cost C_0 = sum_j term(a_j, y_j) given by a user (in LaTeX); its derivative by SymPy."""
    if term.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise DeriveError(
            "the cost is undefined (it divides by zero or is infinite); check the definition"
        )
    return Cost(
        name="user-defined",
        title="cost defined by the user",
        term=term,
        derivative_chain=derived(term, tidy=True),
        description="defined by the user",
    )


def cost_named(spec: str | Cost) -> Cost:
    """Resolve a cost name (or alias), or a LaTeX definition 'C_0 = ...', to a Cost."""
    if isinstance(spec, Cost):
        return spec
    if "=" in str(spec):
        from derive.model.definitions import read_cost  # the reader slot, filled by the read layer

        return read_cost(str(spec))
    from derive.errors import closest_hint

    name = str(spec).strip().lower()
    name = ALIASES.get(name, name)
    if name not in COSTS:
        raise DeriveError(
            f"unknown cost {spec!r}{closest_hint(name, tuple(COSTS) + tuple(ALIASES))}"
        )
    return COSTS[name]
