"""A worked numeric example: the derivation's own formulas evaluated at the spec's numbers.

Forward pass, local derivatives, the backward pass through the delta recursion, every
gradient, and a central finite difference of the cost beside each one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Callable

import sympy as sp

from derive.errors import DeriveError
from derive.model.costs import check_targets

from derive.evaluate.exact import Model, expand_sums, function_values, primes_as_functions
from derive.model.steps import BlockKey, Result, instantiate, product
from derive.notation.letters import ActivationNames
from derive.notation.printing import Given

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.values import Values

FD_STEP = sp.Rational(1, 10**6)
FD_LIMIT = 400  # parameters; beyond this the finite-difference column is left out


@dataclass(frozen=True)
class NodeValues:
    """One node's numbers: forward (z, a) and backward (g'(z), dC_0/da, delta)."""

    layer: int
    j: int
    z: sp.Expr
    a: sp.Expr
    gprime: sp.Expr | None  # None for softmax, whose error sums over its whole Jacobian
    dC_da: sp.Expr
    delta: sp.Expr


@dataclass(frozen=True)
class ParameterGradient:
    """dC_0/dw_{jk}^{(l)} (k set) or dC_0/db_j^{(l)} (k None) with a finite-difference estimate."""

    layer: int
    j: int
    k: int | None
    value: sp.Expr
    gradient: sp.Expr
    finite_difference: sp.Expr | None
    change: sp.Expr | None = None  # -eta * step_gradient, with a learning rate
    updated: sp.Expr | None = None  # value + change
    step_gradient: sp.Expr | None = (
        None  # the gradient the step follows: with L2, + lambda w for a weight (n = 1)
    )
    derivative: sp.Expr | None = (
        None  # with symbols among the values: SymPy's derivative of the written-out cost
    )


class Stage(Enum):
    """Where a calculation of the worked example belongs."""

    FORWARD = "forward pass"
    COST = "cost"
    BACKWARD = "backward pass"
    GRADIENT = "gradients"
    UPDATE = "one step of gradient descent"


@dataclass(frozen=True)
class Calculation:
    """One formula of the worked example three ways (handcalcs): the derivation's formula at this node,
    the same with the values put in, and the result. With symbols among the values, ``written_out``
    is the formula in the network's inputs, targets and weights (2(w x - y) x), and ``substituted``
    puts the values into that."""

    stage: Stage
    layer: int | None
    lhs: sp.Expr
    formula: sp.Expr
    substituted: sp.Expr
    result: sp.Expr
    written_out: sp.Expr | None = None

    @property
    def members(self) -> tuple[sp.Expr, ...]:
        """The right-hand sides in order: formula [= written out] = substituted = result."""
        return (
            self.formula,
            *((self.written_out,) if self.written_out is not None else ()),
            self.substituted,
            self.result,
        )


@dataclass(frozen=True)
class WorkedExample:
    x: tuple
    y: tuple
    cost: sp.Expr
    nodes: tuple[NodeValues, ...]
    gradients: tuple[ParameterGradient, ...]
    fd_step: sp.Expr
    learning_rate: sp.Expr | None = None
    calculations: tuple[Calculation, ...] = ()

    @property
    def symbolic(self) -> bool:
        """Whether some value is a symbol (then results are formulas, checked by SymPy's own derivative)."""
        return bool(self.cost.free_symbols)

    def stage(self, stage: Stage) -> tuple[Calculation, ...]:
        return tuple(c for c in self.calculations if c.stage is stage)

    def layer_nodes(self, layer: int) -> tuple[NodeValues, ...]:
        return tuple(n for n in self.nodes if n.layer == layer)

    @property
    def max_fd_difference(self) -> sp.Expr | None:
        diffs = [
            abs(g.gradient - g.finite_difference)
            for g in self.gradients
            if g.finite_difference is not None
        ]
        return max(diffs) if diffs else None


def check_symbol_names(
    net: "Network", values: "Values", reserved: dict[str, str] | None = None
) -> None:
    """Refuse a symbol among the values that prints exactly as another quantity the network's formulas
    name: an input x_k or target y_j (except as that very input or target), the cost C_0 (and C), the
    learning rate eta (except as the learning rate), lambda with L2, an activation's function (sigma),
    and ``reserved`` (the computational graph's intermediate nodes). Weights and biases are always
    written with their layer (w_00^(1)), so a bare "w" or "w_00" is fine. One DeriveError line."""
    nt = net.notation
    taken: dict[
        str, tuple[str, str | None]
    ]  # a name -> (what it is, where in the values it may be)
    taken = {
        f"{nt.input}_{k}": (f"the input {nt.input}_{k}", f"values.x[{k}]")
        for k in range(net.size(0))
    }
    taken.update(
        {
            f"{nt.target}_{j}": (f"the target {nt.target}_{j}", f"values.y[{j}]")
            for j in range(net.size(net.L))
        }
    )
    taken.update(
        {
            nt.cost: ("the cost", None),
            nt.total_cost: ("the cost over n samples", None),
            nt.learning_rate: ("the learning rate", "values.learning_rate"),
        }
    )
    if net.l2 is not None:
        taken[nt.regularisation] = ("the L2 parameter", None)
    for act in net.activations:
        for function in (act.function, *(helper for helper, _ in act.helpers)):
            taken.setdefault(function.__name__, (f"the function {function.__name__}", None))
    if nt.activation_names is ActivationNames.LAYER:
        taken.setdefault(nt.activation, ("the activation function", None))
    for name, what in (reserved or {}).items():
        taken.setdefault(name, (what, None))
    for where, value in values.symbols:
        for symbol in sorted(value.free_symbols, key=str):
            use = taken.get(str(symbol))
            if use is not None and where != use[1]:
                what = use[0]
                raise DeriveError(
                    f"{where} is the symbol {symbol}, which the formulas already use for {what}; "
                    "the worked example would read wrongly, so name it otherwise (e.g. u, v or theta)"
                )


def point_from_values(
    net: "Network", values: "Values", reserved: dict[str, str] | None = None
) -> dict:
    check_symbol_names(net, values, reserved)
    s = net.symbols
    point = {s.x[k]: v for k, v in enumerate(values.x)}
    point.update({s.y[j]: v for j, v in enumerate(values.y)})
    for layer, matrix in enumerate(values.weights, start=1):
        for j, row in enumerate(matrix):
            point.update({s.w[layer, j, k]: v for k, v in enumerate(row)})
    if values.biases is not None:
        for layer, vector in enumerate(values.biases, start=1):
            point.update({s.b[layer, j]: v for j, v in enumerate(vector)})
    return point


def worked_example(net: "Network", values: "Values", differences: bool = True) -> WorkedExample:
    """Evaluate the derivation at concrete numbers, layer by layer backwards, as a student would;
    with ``differences``, each gradient beside a 120-digit central difference (with symbols among the
    values, beside SymPy's own derivative of the written-out cost instead)."""
    check_targets(net.cost, values.y)
    s, d = net.symbols, net.derivation()
    point = point_from_values(net, values)
    model = Model(net, point=point)
    symbolic = any(getattr(v, "free_symbols", None) for v in point.values())
    deltas: dict = {}
    nodes: list[NodeValues] = []
    for layer in range(net.L, 0, -1):
        for j in range(net.size(layer)):
            at = {s.j: sp.Integer(j)}
            recursion = expand_sums(d.delta(layer).xreplace(at)).xreplace(deltas)
            delta = tidy(model.value(recursion))
            deltas[s.delta[layer, j]] = delta
            act = net.activation(
                layer
            )  # softmax has no g'(z_j): its error sums over the whole Jacobian
            gprime = None if act.vector else tidy(model.value(act.prime(s.z[layer, j])))
            dC_da = tidy(
                model.value(
                    expand_sums(
                        d.block(BlockKey.layer(layer)).result(Result.DC_DA).xreplace(at)
                    ).xreplace(deltas)
                )
            )
            nodes.append(
                NodeValues(
                    layer,
                    j,
                    tidy(model.values[s.z[layer, j]]),
                    tidy(model.values[s.a[layer, j]]),
                    gprime,
                    dC_da,
                    delta,
                )
            )
    nodes.sort(key=lambda n: (n.layer, n.j))
    count = (
        sum(net.size(l) * (net.size(l - 1) + net.bias) for l in range(1, net.L + 1))
        if differences
        else FD_LIMIT + 1
    )
    check = count <= FD_LIMIT
    gradients = []
    for layer in range(1, net.L + 1):
        for j in range(net.size(layer)):
            parameters: list[tuple[int | None, sp.Indexed]]
            parameters = [(k, s.w[layer, j, k]) for k in range(net.size(layer - 1))]
            parameters += [(None, s.b[layer, j])] if net.bias else []
            for k, parameter in parameters:
                grad = tidy(model.value(_gradient_formula(net, layer, j, k).xreplace(deltas)))
                fd = _central_difference(net, point, parameter) if check and not symbolic else None
                exact = _exact_derivative(net, point, parameter) if check and symbolic else None
                gradients.append(
                    ParameterGradient(layer, j, k, point[parameter], grad, fd, derivative=exact)
                )
    eta = values.learning_rate
    if (
        eta is not None
    ):  # one step of gradient descent: every weight and bias moves by -eta times its gradient
        decay = (
            net.l2 if net.l2 is not None else 0
        )  # (lambda/n) w with n = 1: the example is one sample
        gradients = [
            replace(g, step_gradient=tidy(g.gradient + (decay * g.value if g.k is not None else 0)))
            for g in gradients
        ]
        gradients = [replace(g, change=tidy(-eta * g.step_gradient)) for g in gradients]
        gradients = [replace(g, updated=tidy(g.value + g.change)) for g in gradients]
    example = WorkedExample(
        values.x, values.y, tidy(model.values[s.cost]), tuple(nodes), tuple(gradients), FD_STEP, eta
    )
    return replace(example, calculations=calculations(net, model, example, symbolic))


def _gradient_formula(net: "Network", layer: int, j: int, k: int | None) -> sp.Expr:
    """dC_0/dw_jk^(l) = delta_j^(l) a_k^(l-1) at concrete nodes, or dC_0/db_j^(l) = delta_j^(l)."""
    s = net.symbols
    if k is None:
        return s.delta[layer, j]
    at = {s.j: sp.Integer(j), s.k: sp.Integer(k)}
    return instantiate(
        net.derivation().block(BlockKey.layer(layer)).result(Result.WEIGHT_FROM_DELTA), at
    )


def _as_written(expr: sp.Expr) -> sp.Expr:
    """Sums written out as their terms, each term as the formula writes it (w x, not x w)."""
    with sp.evaluate(False):
        return _without_ones(_flat_sums(expand_sums(expr)))


def _flat_sums(expr: sp.Expr) -> sp.Expr:
    """Sums inside sums merged ((w x + w x) + b is w x + w x + b), nothing evaluated."""
    if not expr.args or isinstance(expr, sp.Indexed):
        return expr
    args = [_flat_sums(a) for a in expr.args]
    if isinstance(expr, sp.Add):
        args = [term for a in args for term in (a.args if isinstance(a, sp.Add) else (a,))]
    with sp.evaluate(False):
        return expr.func(*args)


def tidy(value: sp.Expr) -> sp.Expr:
    """A result as a reader wants it: numbers as they are; with symbols, a polynomial expanded (9w/2 - 3/2),
    a rational function cancelled, anything else left as computed."""
    value = sp.sympify(value)
    if not value.free_symbols:
        return value
    symbols = tuple(value.free_symbols)
    if value.is_polynomial(*symbols):
        return sp.expand(value)
    if value.is_rational_function(*symbols):
        return sp.cancel(value)
    return value


# Handcalcs: formula, values put in, result --------------------------------------------------------
MAX_WRITTEN_OUT_OPS = (
    40  # a formula written out in x, y and w is shown only while it stays this short
)


def calculations(
    net: "Network", model: Model, example: WorkedExample, symbolic: bool
) -> tuple[Calculation, ...]:
    """Every formula of the worked example: forward pass, cost, errors, gradients and the step."""
    s, d = net.symbols, net.derivation()
    known = dict(model.values)
    known.update({s.delta[n.layer, n.j]: n.delta for n in example.nodes})
    for g in example.gradients:
        known[
            sp.Derivative(s.cost, s.w[g.layer, g.j, g.k] if g.k is not None else s.b[g.layer, g.j])
        ] = g.gradient
    if example.learning_rate is not None:
        known[s.eta] = example.learning_rate
    if net.l2 is not None:
        known[s.l2] = net.l2
    value_of = _values_lookup(known, model)
    out: list[Calculation] = []

    def add(
        stage: Stage,
        layer: int | None,
        lhs: sp.Expr,
        formula: sp.Expr,
        result: sp.Expr,
        expand: bool = False,
    ) -> None:
        written = _in_leaves(net, formula) if symbolic and expand else None
        if written is not None and (
            sp.count_ops(written) > MAX_WRITTEN_OUT_OPS or written == formula
        ):
            written = None
        shown = written if written is not None else formula
        out.append(
            Calculation(stage, layer, lhs, formula, _put_in(shown, value_of), result, written)
        )

    for layer in range(1, net.L + 1):
        for j in range(net.size(layer)):
            add(
                Stage.FORWARD,
                layer,
                s.z[layer, j],
                _as_written(net.z_definition(layer, j)),
                known[s.z[layer, j]],
            )
        for j in range(net.size(layer)):
            add(
                Stage.FORWARD,
                layer,
                s.a[layer, j],
                _as_written(net.a_definition(layer, j)),
                known[s.a[layer, j]],
            )
    add(Stage.COST, None, s.cost, _as_written(net.cost_definition()), example.cost)
    for layer in range(net.L, 0, -1):
        for node in example.layer_nodes(layer):
            formula = _as_written(instantiate(d.delta(layer), {s.j: sp.Integer(node.j)}))
            add(Stage.BACKWARD, layer, s.delta[layer, node.j], formula, node.delta, expand=True)
    for g in example.gradients:
        parameter = s.w[g.layer, g.j, g.k] if g.k is not None else s.b[g.layer, g.j]
        add(
            Stage.GRADIENT,
            g.layer,
            sp.Derivative(s.cost, parameter),
            _gradient_formula(net, g.layer, g.j, g.k),
            g.gradient,
            expand=True,
        )
    for g in example.gradients:
        if g.change is None:
            continue
        parameter = s.w[g.layer, g.j, g.k] if g.k is not None else s.b[g.layer, g.j]
        gradient = sp.Derivative(s.cost, parameter)
        if net.l2 is not None and g.k is not None:
            gradient = sp.Add(gradient, sp.Mul(s.l2, parameter, evaluate=False), evaluate=False)
        change = s.dw[g.layer, g.j, g.k] if g.k is not None else s.db[g.layer, g.j]
        add(Stage.UPDATE, g.layer, change, sp.Mul(-1, s.eta, gradient, evaluate=False), g.change)
    return tuple(out)


def _values_lookup(known: dict, model: Model) -> Callable[[sp.Expr], sp.Expr | None]:
    """The value of a quantity (x, w, a, delta, C_0, dC_0/dw, eta) or of g'(z) at this example; None for
    anything else (a number, an operation)."""
    derivatives: dict = {}

    def value_of(expr: sp.Expr) -> sp.Expr | None:
        if expr in known:
            return known[expr]
        if isinstance(
            expr, sp.Derivative
        ):  # g'(z_j): SymPy's derivative of the definition at z_j's value
            if expr not in derivatives:
                derivatives[expr] = tidy(model.value(expr))
            return derivatives[expr]
        return None

    return value_of


def _put_in(expr: sp.Expr, value_of: Callable[[sp.Expr], sp.Expr | None]) -> sp.Expr:
    """``expr`` with every quantity replaced by its value, marked Given, nothing evaluated; sums keep the
    order they are printed in (a - y stays a - y)."""
    value = value_of(expr)
    if value is not None:
        return Given(value)
    if not expr.args or isinstance(expr, (sp.Indexed, sp.Symbol)):
        return expr
    args = expr.as_ordered_terms() if isinstance(expr, sp.Add) else expr.args
    parts = [_put_in(arg, value_of) for arg in args]
    try:
        with sp.evaluate(False):
            return expr.func(*parts)
    except (TypeError, ValueError, ArithmeticError):
        return expr.func(*parts)


def _in_leaves(net: "Network", formula: sp.Expr) -> sp.Expr:
    """A formula at concrete nodes written in inputs, targets, weights and biases: each error by its
    formula, each a and z by its definition, each g and g' by its function; nothing else evaluated."""
    s, d = net.symbols, net.derivation()
    functions = function_values(net)
    expr = formula
    for _ in range(4 * net.L + 4):
        mapping = {}
        for q in expr.atoms(sp.Indexed):
            if len(q.indices) < 2:  # an input or a target: nothing to write out
                continue
            layer = q.indices[0]
            if q.base == s.delta:
                mapping[q] = _as_written(instantiate(d.delta(int(layer)), {s.j: q.indices[1]}))
            elif q.base == s.a and int(layer) > 0:
                mapping[q] = _as_written(net.a_definition(int(layer), int(q.indices[1])))
            elif q.base == s.z:
                mapping[q] = _as_written(net.z_definition(int(layer), int(q.indices[1])))
        if not mapping:
            break
        with sp.evaluate(False):
            expr = primes_as_functions(expr).xreplace(mapping)
    with sp.evaluate(False):
        for fn, lam in functions.items():  # each g and its g' (function_values holds both)
            expr = expr.replace(fn, lambda *args, lam=lam: lam(*args))
        return _without_ones(_flat_sums(expr))


def _without_ones(expr: sp.Expr) -> sp.Expr:
    """Factors of 1 (the identity's derivative) dropped from products, nothing else changed."""
    if not expr.args or isinstance(expr, sp.Indexed):
        return expr
    args = [_without_ones(a) for a in expr.args]
    if isinstance(expr, sp.Mul):
        return product(*args)  # nested products flattened in the order written, 1s dropped
    with sp.evaluate(False):
        return expr.func(*args)


def _exact_derivative(net: "Network", point: dict, parameter: sp.Indexed) -> sp.Expr:
    """SymPy's derivative of the cost, written out in the parameter, at the example's values."""
    free = dict(point)
    value = free.pop(parameter)
    cost = Model(net, point=free).values[net.symbols.cost]
    return tidy(sp.diff(cost, parameter).xreplace({parameter: value}))


def _central_difference(net: "Network", point: dict, parameter: sp.Indexed) -> sp.Expr:
    """(C(p + h) - C(p - h)) / 2h from the forward pass alone, at 120 digits."""

    def cost(shift: sp.Expr) -> sp.Expr:
        shifted = dict(point)
        shifted[parameter] = point[parameter] + shift
        return Model(net, point=shifted).values[net.symbols.cost]

    return sp.N((cost(FD_STEP) - cost(-FD_STEP)) / (2 * FD_STEP), 30)


def json_value(value: sp.Expr) -> float | str:
    """A number as a float; a value with symbols as a string in SymPy's syntax ("9*w/2 - 3/2")."""
    value = sp.sympify(value)
    return sp.sstr(value) if value.free_symbols else float(value)


def symbolic_gradients(net: "Network", values: "Values", differences: bool = False) -> dict:
    """`derive grad`'s answer, exactly: cost, gradients shaped like the weights and biases and, with a
    learning rate, the updated parameters; entries with symbols as SymPy-syntax strings."""
    example = worked_example(net, values, differences=differences)
    by_layer: dict = {}
    for g in example.gradients:
        by_layer.setdefault((g.layer, g.k is None), []).append(g)

    def shaped(field: str, bias: bool) -> list:
        out: list = []
        for layer in range(1, net.L + 1):
            cells = by_layer.get((layer, bias), [])
            if bias:
                out.append([json_value(getattr(g, field)) for g in cells])
            else:
                out.append(
                    [
                        [json_value(getattr(g, field)) for g in cells if g.j == j]
                        for j in range(net.size(layer))
                    ]
                )
        return out

    result: dict = {
        "cost": json_value(example.cost),
        "weights": shaped("gradient", False),
        "biases": shaped("gradient", True) if net.bias else None,
        "symbols": sorted({str(s) for _, v in values.symbols for s in v.free_symbols}),
    }
    if example.learning_rate is not None:
        result["learning_rate"] = json_value(example.learning_rate)
        result["updated_weights"] = shaped("updated", False)
        result["updated_biases"] = shaped("updated", True) if net.bias else None
    return result
