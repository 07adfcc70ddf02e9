"""The computational graph of a small network: one node per operation, forward values, local gradients
and the backward products along the edges, as plain data.

The graph is built from the network's own forward equations (``z_definition``, ``a_definition`` and
``cost_definition``) by one walk over their SymPy expressions: a product becomes a MULTIPLY node, a sum
an ADD node (a SUBTRACT node for p - q), a square a SQUARE node, ln a LOG node, an activation g(z) an
ACTIVATION node, and so on. The network's quantities z, a and C_0 name the nodes that compute them; the
other intermediate nodes are called s (s_1, s_2, ... when there are several). An identity activation
adds no operation: its node a computes w x (+ b) itself, since a = z.

Every value is exact SymPy arithmetic (a weight may be a Symbol: the values then stay expressions);
transcendental values become 120-digit floats as in the worked example. A softmax output couples
every output (a Jacobian, not one local gradient per edge): it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import sympy as sp

from derive.notation.sums import IndexSum
from sympy.core.function import AppliedUndef

from derive.errors import ParameterError
from derive.evaluate.exact import (
    expand_sums,
    function_values,
    primes_as_functions,
    settle,
    with_function_values,
)
from derive.numeric.worked import point_from_values

if TYPE_CHECKING:
    from derive.model.activations import Activation
    from derive.model.network import Network
    from derive.model.values import Values
    from derive.notation.letters import Notation

MAX_OPERATIONS = 12
MAX_FORMULA_OPS = 12  # an activation's derivative longer than this is written g'(z) on the graph


class Op(Enum):
    """What a node does; leaves (INPUT, PARAMETER, TARGET) compute nothing."""

    INPUT = "input"
    PARAMETER = "parameter"
    TARGET = "target"
    MULTIPLY = "multiply"
    ADD = "add"
    SUBTRACT = "subtract"
    SQUARE = "square"
    POWER = "power"
    SCALE = "scale"
    NEGATE = "negate"
    ACTIVATION = "activation"
    LOG = "log"
    EXP = "exp"
    FUNCTION = "function"

    @property
    def leaf(self) -> bool:
        return self in (Op.INPUT, Op.PARAMETER, Op.TARGET)


@dataclass(frozen=True)
class Edge:
    """The edge from an input node into a node: d node / d input, symbolic and its value, and the
    backward product upstream(node) x local."""

    source: str
    formula: sp.Expr
    local: sp.Expr
    product: sp.Expr


@dataclass(frozen=True)
class OpNode:
    """One node: ``symbol = expression`` (in its inputs' symbols), its value and dC_0/d symbol."""

    id: str
    op: Op
    symbol: sp.Expr
    expression: sp.Expr  # for a leaf, its symbol
    inputs: tuple[str, ...]
    value: sp.Expr
    edges: tuple[Edge, ...]  # one per input, in the order of ``inputs``
    upstream: sp.Expr  # dC_0 / d symbol, summed over the node's consumers
    activation: str | None = None  # the activation's name, for an ACTIVATION node
    aliases: tuple[sp.Expr, ...] = ()  # other names of the same quantity: z for a = z (identity)

    def edge_from(self, source: str) -> Edge:
        return next(e for e in self.edges if e.source == source)


@dataclass(frozen=True)
class ComputationalGraph:
    """The nodes in topological order (every node after its inputs); the last is the loss C_0."""

    nodes: tuple[OpNode, ...]
    loss: str
    notation: "Notation"  # the network's, for printing the graph without the network

    MAX_OPERATIONS = MAX_OPERATIONS

    def node(self, node_id: str) -> OpNode:
        return self._by_id[node_id]

    @property
    def _by_id(self) -> dict[str, OpNode]:
        return {n.id: n for n in self.nodes}

    @property
    def operations(self) -> tuple[OpNode, ...]:
        return tuple(n for n in self.nodes if not n.op.leaf)

    def consumers(self, node_id: str) -> tuple[OpNode, ...]:
        return tuple(n for n in self.nodes if node_id in n.inputs)

    def find(self, symbol: sp.Expr) -> OpNode:
        """The node computing (or holding) ``symbol``, e.g. ``net.symbols.w[1, 0, 0]``."""
        for n in self.nodes:
            if n.symbol == symbol or symbol in n.aliases:
                return n
        raise KeyError(f"no node for {symbol}")


def _is_identity(act: "Activation") -> bool:
    lam = act.definition
    return not act.vector and len(lam.variables) == 1 and lam.expr == lam.variables[0]


def operation_count(net: "Network") -> int:
    """How many operation nodes the graph of ``net`` has, counted without building it."""
    ops = 0
    for layer in range(1, net.L + 1):
        terms = net.size(layer - 1) + int(net.bias)
        per_node = net.size(layer - 1) + (terms > 1) + (not _is_identity(net.activation(layer)))
        ops += per_node * net.size(layer)
    s = net.symbols
    one = expand_sums(
        IndexSum(net.cost.term_at(s.a[net.L, s.j_sum], s.y[s.j_sum]), (s.j_sum, 0, 0))
    )
    counter = _Walker({s.a[net.L, 0]: "a", s.y[0]: "y"}, {})
    counter.walk(one)  # one output's term, written out as the cost's definition is
    ops += counter.operations * net.size(net.L) + (net.size(net.L) > 1)
    return ops


def check_graph_size(net: "Network") -> None:
    """Refuse (one line) a network whose graph would have more than MAX_OPERATIONS operations,
    and a softmax output."""
    if net.activation(net.L).vector:
        raise ParameterError(
            "{graph} draws one local gradient per edge; the {name} output couples every output "
            "(a Jacobian), so it is not drawn: use a sigmoid output",
            name=net.activation(net.L).name,
        )
    count = operation_count(net)
    if count > MAX_OPERATIONS:
        raise ParameterError(
            "{graph} draws networks of up to {most} operations; {sizes} needs {count}",
            most=MAX_OPERATIONS,
            sizes=list(net.sizes),
            count=count,
        )


class _Walker:
    """Turns expressions into nodes; equal subexpressions share a node."""

    def __init__(self, leaves: dict, kinds: dict) -> None:
        self.known: dict[sp.Expr, str] = dict(leaves)  # expression -> node id
        self.kinds = kinds  # leaf expression -> Op
        self.order: list[str] = [i for i in leaves.values()]
        self.specs: dict[
            str, tuple
        ] = {}  # id -> (op, symbol, expression, inputs, activation, aliases)
        self.operations = 0
        self.intermediate = 0

    def leaf(self, expr: sp.Expr) -> str:
        if expr not in self.known:
            node_id = f"n{len(self.order)}"
            self.known[expr] = node_id
            self.order.append(node_id)
            self.specs[node_id] = (self.kinds.get(_base(expr), Op.INPUT), expr, expr, (), None, ())
        return self.known[expr]

    def walk(
        self, expr: sp.Expr, symbol: sp.Expr | None = None, activation: str | None = None
    ) -> str:
        """The id of the node computing ``expr``; ``symbol`` names it (z, a, C_0), else it is an s."""
        if expr in self.known and symbol is None:
            return self.known[expr]
        if isinstance(expr, (sp.Indexed, sp.Symbol)):
            if symbol is None:
                return self.leaf(expr)
        op, inputs, written = self._operation(expr)
        self.operations += 1
        if symbol is None:
            self.intermediate += 1
            symbol = sp.Symbol(f"s_{self.intermediate}")
        node_id = f"n{len(self.order)}"
        self.order.append(node_id)
        self.known.setdefault(expr, node_id)
        self.specs[node_id] = (op, symbol, written, inputs, activation, ())
        return node_id

    def _symbol(self, node_id: str) -> sp.Expr:
        return self.specs[node_id][1] if node_id in self.specs else sp.Symbol(node_id)

    def _child(self, expr: sp.Expr) -> tuple[str, sp.Expr]:
        node_id = self.walk(expr)
        return node_id, self._symbol(node_id)

    def _operation(self, expr: sp.Expr) -> tuple[Op, tuple[str, ...], sp.Expr]:
        """(op, input ids, the expression written in the inputs' symbols)."""
        if isinstance(expr, sp.Add):
            parts, inputs, positive, negative = [], [], 0, 0
            for term in expr.as_ordered_terms():
                coeff, rest = term.as_coeff_Mul()
                if rest == 1:  # a number
                    parts.append(coeff)
                    continue
                node_id, sym = self._child(rest)
                inputs.append(node_id)
                parts.append(sym if coeff == 1 else sp.Mul(coeff, sym, evaluate=False))
                positive += coeff == 1
                negative += coeff == -1
            numbers = [p for p in parts if p.is_Number]
            symbolic = [p for p in parts if not p.is_Number]
            ordered = tuple(numbers + symbolic) if numbers else tuple(parts)
            subtract = len(parts) == 2 and negative == 1 and (positive == 1 or len(numbers) == 1)
            return (
                (Op.SUBTRACT if subtract else Op.ADD),
                _unique(inputs),
                sp.Add(*ordered, evaluate=False),
            )
        if isinstance(expr, sp.Mul):
            coeff, rest = expr.as_coeff_Mul()
            factors = sp.Mul.make_args(rest)
            if len(factors) == 1 and not isinstance(factors[0], (sp.Indexed, sp.Symbol)):
                op, inner, written = self._operation(factors[0])  # 1/2 s^2 is one node
                return (
                    op,
                    inner,
                    (-written if coeff == -1 else sp.Mul(coeff, written, evaluate=False)),
                )
            if len(factors) == 1:
                node_id, sym = self._child(factors[0])
                op = Op.NEGATE if coeff == -1 else Op.SCALE
                return op, (node_id,), (-sym if coeff == -1 else sp.Mul(coeff, sym, evaluate=False))
            in_order = sorted(
                factors, key=_factor_order
            )  # w x: the parameter before what it multiplies
            children = [self._child(f) for f in in_order]
            syms = [sym for _, sym in children]
            written = sp.Mul(*([coeff] if coeff != 1 else []), *syms, evaluate=False)
            return Op.MULTIPLY, _unique([i for i, _ in children]), written
        if isinstance(expr, sp.Pow):
            node_id, sym = self._child(expr.base)
            if expr.exp == 2:
                return Op.SQUARE, (node_id,), sp.Pow(sym, 2)
            if expr.exp.free_symbols:
                raise ParameterError(
                    "{graph} cannot draw the power {expr} (a variable exponent)", expr=expr
                )
            return Op.POWER, (node_id,), sp.Pow(sym, expr.exp, evaluate=False)
        if isinstance(expr, sp.log):
            node_id, sym = self._child(expr.args[0])
            return Op.LOG, (node_id,), sp.log(sym, evaluate=False)
        if isinstance(expr, sp.exp):
            node_id, sym = self._child(expr.args[0])
            return Op.EXP, (node_id,), sp.exp(sym, evaluate=False)
        if (
            isinstance(expr, sp.Function)
            and not isinstance(expr, sp.Piecewise)
            and all(isinstance(a, sp.Expr) for a in expr.args)
        ):
            children = [self._child(a) for a in expr.args]
            op = Op.ACTIVATION if isinstance(expr, AppliedUndef) else Op.FUNCTION
            return (
                op,
                _unique([i for i, _ in children]),
                expr.func(*[s for _, s in children], evaluate=False),
            )
        raise ParameterError(
            "{graph} cannot draw {kind} ({expr}) as an operation; draw a network with a built-in "
            "cost",
            kind=type(expr).__name__,
            expr=expr,
        )

    def alias(self, quantity: sp.Expr, node_id: str, name: sp.Expr) -> None:
        """``quantity`` is computed by the node ``node_id``, which is renamed ``name`` (a = z)."""
        op, symbol, written, inputs, act, aliases = self.specs[node_id]
        self.specs[node_id] = (op, name, written, inputs, act, aliases + (symbol,))
        self.known[quantity] = node_id


def _base(expr: sp.Expr) -> sp.Expr:
    return expr.base if isinstance(expr, sp.Indexed) else expr


def _factor_order(expr: sp.Expr) -> int:
    """Factors of a product as written: weights and biases, then what they multiply."""
    if isinstance(expr, sp.Indexed) and str(expr.base.label) in ("w", "b"):
        return 0
    return 1


def _unique(ids) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def computational_graph(net: "Network", values: "Values") -> ComputationalGraph:
    """The computational graph of ``net`` at the numbers ``values``, forward and backward.

    Raises DeriveError for a network of more than MAX_OPERATIONS operations or with a softmax output.
    """
    check_graph_size(net)
    s = net.symbols
    kinds = {s.x: Op.INPUT, s.y: Op.TARGET, s.w: Op.PARAMETER, s.b: Op.PARAMETER}
    walker = _Walker({}, kinds)
    for layer in range(1, net.L + 1):
        act = net.activation(layer)
        for j in range(net.size(layer)):
            z_id = walker.walk(expand_sums(net.z_definition(layer, j)), symbol=s.z[layer, j])
            walker.known[s.z[layer, j]] = z_id
            if _is_identity(act):
                walker.alias(s.a[layer, j], z_id, s.a[layer, j])
                continue
            a_id = walker.walk(act(s.z[layer, j]), symbol=s.a[layer, j], activation=act.name)
            walker.known[s.a[layer, j]] = a_id
    loss = walker.walk(expand_sums(net.cost_definition()), symbol=s.cost)
    renames = {sp.Symbol("s_1"): sp.Symbol("s")} if walker.intermediate == 1 else {}
    names = ["s"] if renames else [f"s_{i}" for i in range(1, walker.intermediate + 1)]
    reserved = {name: f"the graph's node {name}" for name in names}
    return _evaluated(net, walker, loss, renames, point_from_values(net, values, reserved))


def _evaluated(
    net: "Network", walker: _Walker, loss: str, renames: dict, point: dict
) -> ComputationalGraph:
    functions = function_values(net)
    acts = {a.name: a for a in net.activations}
    specs = {
        i: (op, sym.xreplace(renames), written.xreplace(renames), inputs, act, aliases)
        for i, (op, sym, written, inputs, act, aliases) in walker.specs.items()
    }
    values: dict[sp.Expr, sp.Expr] = {}

    def at(expr: sp.Expr) -> sp.Expr:
        return _tidy(with_function_values(primes_as_functions(expr).xreplace(values), functions))

    forward: dict[str, sp.Expr] = {}
    formulas: dict[str, list[tuple[str, sp.Expr, sp.Expr]]] = {}
    for node_id in walker.order:
        op, sym, written, inputs, act, _ = specs[node_id]
        if op.leaf:
            value = _tidy(point[sym]) if sym in point else sym
        else:
            value = at(written)
        forward[node_id] = values[sym] = value
    for node_id in walker.order:
        op, sym, written, inputs, act, _ = specs[node_id]
        rows = []
        for source in inputs:
            var = specs[source][1]
            if op is Op.ACTIVATION:
                formula = _activation_formula(acts[act], var, sym)
            else:
                formula = _diff(written, var)
            rows.append((source, formula, at(formula)))
        formulas[node_id] = rows
    upstream: dict[str, sp.Expr] = {i: sp.Integer(0) for i in walker.order}
    upstream[loss] = sp.Integer(1)
    products: dict[tuple[str, str], sp.Expr] = {}
    for node_id in reversed(walker.order):
        for source, _, local in formulas[node_id]:
            products[node_id, source] = _tidy(upstream[node_id] * local)
            upstream[source] = _tidy(upstream[source] + products[node_id, source])
    nodes = []
    for node_id in walker.order:
        op, sym, written, inputs, act, aliases = specs[node_id]
        edges = tuple(
            Edge(source, formula, local, products[node_id, source])
            for source, formula, local in formulas[node_id]
        )
        nodes.append(
            OpNode(
                node_id,
                op,
                sym,
                written,
                inputs,
                forward[node_id],
                edges,
                upstream[node_id],
                act,
                aliases,
            )
        )
    return ComputationalGraph(tuple(nodes), loss, net.notation)


def _diff(expr: sp.Expr, variable: sp.Expr) -> sp.Expr:
    """d expr / d variable, the variable taken as real (|z| has a derivative then, sign(z))."""
    real = sp.Dummy("t", real=True)
    return sp.diff(expr.xreplace({variable: real}), real).xreplace({real: variable})


def _activation_formula(act: "Activation", z: sp.Expr, a: sp.Expr) -> sp.Expr:
    """g'(z) as the sheet writes it: with the output a where the activation allows (a(1 - a))."""
    formula = act.classic_in_output(a) if act.derivative_in_output is not None else act.classic(z)
    if sp.count_ops(formula) > MAX_FORMULA_OPS:  # GELU's: g'(z) reads better than a line of tanh
        return act.prime(z)
    return formula


def _tidy(value: sp.Expr) -> sp.Expr:
    """Numbers exact or 120 digits; a value with symbols (a symbolic weight) expanded."""
    value = sp.sympify(value).doit()
    return sp.expand(value) if value.free_symbols else settle(value)
