"""Numeric code generated from the derivation: vectorised NumPy forward pass, cost and gradient.

The gradient code is the derivation's delta recursion, line by line: the output error is the
engine's (simplified) delta^{(L)}, each hidden error is (sum_i w_ij delta_i) g'(z_j) with g'
in the engine's classic form, and each gradient is delta_j a_k. Nothing is differentiated here.
Batches are rows: X (batch, n^(0)), Y (batch, n^(L)); W^(l) (n^(l), n^(l-1)); b^(l) (n^(l),).
The batch cost is the mean of the per-sample costs C_0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import sympy as sp
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize
from sympy.printing.numpy import NumPyPrinter

from derive.errors import DeriveError
from derive.model.activations import SIGMA
from derive.notation.printing import text
from derive.model.steps import BlockKey, Result

if TYPE_CHECKING:
    from derive.model.network import Network


class _ArrayPrinter(NumPyPrinter):
    """NumPy code for elementwise formulas; Heaviside and two-way Piecewise as fast ufunc calls."""

    def _print_Heaviside(self, expr) -> str:
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"numpy.heaviside({self._print(expr.args[0])}, {float(at_zero)!r})"

    def _print_Piecewise(self, expr) -> str:
        if len(expr.args) == 2 and expr.args[1].cond == True:  # noqa: E712 (SymPy's true)
            (then, cond), (otherwise, _) = expr.args
            return (
                f"numpy.where({self._print(cond)}, {self._print(then)}, {self._print(otherwise)})"
            )
        return super()._print_Piecewise(expr)

    def _print_Rational(self, expr) -> str:
        return _float_literal(expr)

    def _print_Integer(self, expr) -> str:
        """Integers past 2^53 as floats: 2^100 as a Python int made ``numpy.select`` build an object array."""
        return str(expr) if abs(expr) <= 2**53 else _float_literal(expr)

    def _print_Max(self, expr) -> str:
        return self._nested("numpy.maximum", expr.args)

    def _print_Min(self, expr) -> str:
        return self._nested("numpy.minimum", expr.args)

    def _nested(self, ufunc: str, args: tuple) -> str:
        """f(a, f(b, c)): SymPy's printer writes functools.reduce, which the generated module does not import."""
        first, *rest = args
        return (
            self._print(first)
            if not rest
            else f"{ufunc}({self._print(first)}, {self._nested(ufunc, tuple(rest))})"
        )

    def _print_Function(self, expr) -> str:
        """sigma(u) in a derivative kept in the user's sigma (SiLU'): the stable helper of STABLE_SIGMOID."""
        if expr.func == SIGMA:
            return f"_sigmoid({self._print(expr.args[0])})"
        return super()._print_Function(expr)


def _float_literal(value: sp.Expr) -> str:
    """A float literal for an exact number; one past the float range is ``numpy.inf`` (``inf`` is no name)."""
    number = float(value)
    if math.isinf(number):
        return "numpy.inf" if number > 0 else "-numpy.inf"
    return repr(number)


def array_code(expr: sp.Expr, names: dict) -> str:
    """NumPy code for an elementwise formula, with quantities renamed to array variables.

    exp(x) - 1 and log(1 + x) become expm1/log1p: softplus' = 1 - e^(-a) lost its relative
    accuracy for small a, which the complex-step check caught.
    """
    return _ArrayPrinter({"fully_qualified_modules": True}).doprint(_array_expression(expr, names))


def _per_element(expr: sp.Expr, names: dict, like: str) -> str:
    """array_code, with a constant (ln(1)/e^z, a δ whose g' is 0) spread to the shape of the array ``like``:
    one value per sample and node, as the code that uses it expects."""
    expression = _array_expression(expr, names)
    code = _ArrayPrinter({"fully_qualified_modules": True}).doprint(expression)
    return code if expression.free_symbols else f"numpy.full_like({like}, {code})"


def _array_expression(expr: sp.Expr, names: dict) -> sp.Expr:
    expr = _sigma_primes(sp.sympify(expr).xreplace(names).doit())
    return optimize(expr, [expm1_opt, log1p_opt])


def _sigma_primes(expr: sp.Expr) -> sp.Expr:
    """σ'(u) that SymPy left as a Derivative (σ of an inner expression) written as σ(u)(1 - σ(u))."""

    def written(d: sp.Expr) -> sp.Expr | None:
        inner, point = (d.expr, d.point[0]) if isinstance(d, sp.Subs) else (d, None)
        if not (
            isinstance(inner, sp.Derivative)
            and inner.expr.func == SIGMA
            and inner.derivative_count == 1
        ):
            return None
        (var,) = inner.variables
        if inner.expr.args[0] != var:
            return None
        u = var if point is None else point
        return SIGMA(u) * (1 - SIGMA(u))

    expr = expr.replace(
        lambda e: isinstance(e, (sp.Subs, sp.Derivative)) and written(e) is not None, written
    )
    return expr.replace(
        lambda e: isinstance(e, sp.Subs), lambda e: e.doit()
    )  # Subs(σ(ξ)(1 - σ(ξ)), ξ, u)


def forward_code(act, z_name: str, analytic: bool = False) -> str:
    """NumPy code for g(z): the activation's stable form, or its printed definition (complex-safe)."""
    if (
        analytic and not act.vector
    ) or not act.numpy_forward:  # softmax's stable form is analytic too
        return _per_element(
            act.definitions[act.function](sp.Symbol(z_name)), {}, z_name
        )  # helpers written out
    return act.numpy_forward.format(z=z_name)


def _numbers_only(net: "Network") -> None:
    for act in net.activations:
        free = act.definition.expr.free_symbols - act.definition.variables[0].free_symbols
        if free:
            raise DeriveError(
                f"activation {act.name} has a symbolic parameter ({', '.join(map(str, free))}); "
                "numeric code needs a number, e.g. sigmoid(gain=2)"
            )


def _logit_gain(net: "Network") -> sp.Expr | None:
    """The gain α when the cost is cross-entropy on a sigmoid-type output a = σ(α z), else None.

    Such a cost is computed from u = α z, never from a: ln(1 - a) is -inf once a rounds to 1
    (α z > 37), and loses digits long before (9 of them at α z = 20).
    """
    if net.cost.name not in ("cross-entropy", "log-likelihood"):
        return None
    return net.activation(net.L).logistic_gain


def _log_softmax(net: "Network") -> bool:
    """The log-likelihood of a softmax output: computed from z by log-sum-exp, never from ln a
    (a rounds to 0 once z_j is 745 below the row's largest z, and ln 0 = -inf)."""
    return net.cost.name == "log-likelihood" and net.activation(net.L).vector


@dataclass(frozen=True)
class Line:
    code: str
    comment: str = ""


def _forward_lines(net: "Network", analytic: bool) -> list[Line]:
    s, nt = net.symbols, net.notation
    lines = [Line("A0 = X", "a_k^(0) = x_k")]
    for layer in range(1, net.L + 1):
        z_text = text(net.z_definition(layer, s.j), nt)
        bias = f" + biases[{layer - 1}]" if net.bias else ""
        lines.append(
            Line(
                f"Z{layer} = A{layer - 1} @ weights[{layer - 1}].T{bias}",
                f"z_j^({layer}) = {z_text}",
            )
        )
        act = net.activation(layer)
        code = forward_code(act, f"Z{layer}", analytic)
        lines.append(
            Line(f"A{layer} = {code}", f"a_j^({layer}) = {text(net.a_definition(layer, s.j), nt)}")
        )
    return lines


def _cost_lines(net: "Network", analytic: bool) -> list[Line]:
    s, L = net.symbols, net.L
    names = {s.a[L, s.j_sum]: sp.Symbol(f"A{L}"), s.y[s.j_sum]: sp.Symbol("Y")}
    term = net.cost.term_at(s.a[L, s.j_sum], s.y[s.j_sum])
    lines, note = [], ""
    gain = _logit_gain(net)
    if gain is not None:
        # -[y ln σ(u) + (1-y) ln(1-σ(u))] = ln(1 + e^u) - y u = max(u, 0) - y u + ln(1 + e^-|u|):
        # for 0 <= y <= 1 both parts are >= 0 ((1-y) u for u > 0, -y u otherwise), so nothing
        # cancels (logaddexp(0, u) - y u lost every digit at y = 1), and e^-|u| <= 1 never overflows.
        # analytic: each branch is analytic and chosen by Re u, so the complex step stays valid
        # (log(1 - σ(z)) in complex arithmetic lost digits near σ(z) = 1).
        u = array_code(gain * sp.Symbol(f"Z{L}"), {})
        positive = "U.real > 0" if analytic else "U > 0"
        small = "numpy.where(U.real > 0, -U, U)" if analytic else "-numpy.abs(U)"
        lines.append(
            Line(
                f"U = {u}",
                f"u_j = {'' if gain == 1 else f'{gain}·'}z_j^({L}), so a_j^({L}) = σ(u_j)",
            )
        )
        if (
            net.cost.name == "log-likelihood"
        ):  # -y ln σ(u) = y ln(1 + e^-u) = y (max(-u, 0) + ln(1 + e^-|u|))
            code = f"Y * (numpy.where({positive}, 0.0, -U) + numpy.log1p(numpy.exp({small})))"
            note = " (from u: -y ln σ(u) = y (max(-u,0) + ln(1+e^-|u|)))"
        else:
            code = (
                f"numpy.where({positive}, (1.0 - Y) * U, -Y * U) + numpy.log1p(numpy.exp({small}))"
            )
            note = " (from u: ln(1+e^u) - y u = max(u,0) - y u + ln(1+e^-|u|))"
    elif _log_softmax(net):
        # ln a_j = z_j - ln Σ_j' e^(z_j'): shifted by the row's largest z (real, so the complex step stays
        # analytic), every exponential is at most 1 and the largest is 1: no overflow, no ln 0.
        lines.append(
            Line(
                f"S = Z{L} - Z{L}.real.max(axis=1, keepdims=True)",
                f"z_j^({L}) shifted by the largest z of the sample",
            )
        )
        lines.append(
            Line(
                "LOG_A = S - numpy.log(numpy.sum(numpy.exp(S), axis=1, keepdims=True))",
                f"ln a_j^({L}) = z_j - ln Σ_j' e^(z_j') (log-sum-exp)",
            )
        )
        code, note = "-Y * LOG_A", " (from ln a by log-sum-exp)"
    else:
        code = array_code(term, names)
    lines.append(
        Line(
            f"mean = numpy.mean(numpy.sum({code}, axis=1))",
            f"mean over the batch of {text(s.cost, net.notation)} = "
            f"{text(net.cost_definition(), net.notation)}{note}",
        )
    )
    if net.l2 is not None:
        lam = repr(float(net.l2))
        lines.append(
            Line(
                f"return mean + {lam} / (2 * X.shape[0]) * sum(numpy.sum(W * W) for W in weights)",
                "+ (λ/2n) Σ w², n the batch size: L2 regularisation (biases are not regularised)",
            )
        )
    else:
        lines.append(Line("return mean"))
    return lines


def _gradient_lines(net: "Network") -> list[Line]:
    s, nt, L, d = net.symbols, net.notation, net.L, net.derivation()
    out = d.block(BlockKey.layer(L)).result(Result.DELTA_CLASSIC)
    names = {
        s.a[L, s.j]: sp.Symbol(f"A{L}"),
        s.y[s.j]: sp.Symbol("Y"),
        s.z[L, s.j]: sp.Symbol(f"Z{L}"),
    }
    if out.has(
        sp.Sum
    ):  # softmax without a cancelling cost: the Jacobian times the cost's gradient, row by row
        grad = net.cost.derivative_at(s.a[L, s.j], s.y[s.j])
        lines = [
            Line(f"G = {array_code(grad, names)}", f"∂C_0/∂a_j^({L}) = {text(grad, nt)}"),
            Line(
                f"D{L} = A{L} * (G - numpy.sum(G * A{L}, axis=1, keepdims=True)) / X.shape[0]",
                f"δ_j^({L}) = {text(out, nt)} = a_j (∂C_0/∂a_j - Σ_i ∂C_0/∂a_i a_i), divided by the batch "
                "size",
            ),
        ]
    else:
        lines = [
            Line(
                f"D{L} = ({_per_element(out, names, f'Z{L}')}) / X.shape[0]",
                f"δ_j^({L}) = {text(out, nt)}, divided by the batch size (the cost is a mean)",
            )
        ]
    for layer in range(L, 0, -1):
        prev = f"A{layer - 1}"
        from_delta = d.block(BlockKey.layer(layer)).result(Result.WEIGHT_FROM_DELTA)
        lines.append(
            Line(
                f"grad_w[{layer - 1}] = D{layer}.T @ {prev}",
                f"∂C/∂w_jk^({layer}) = {text(from_delta, nt)}, summed over the batch",
            )
        )
        if net.l2 is not None:
            lines.append(
                Line(
                    f"grad_w[{layer - 1}] += {float(net.l2)!r} / X.shape[0] * weights[{layer - 1}]",
                    "+ (λ/n) w: the L2 term (weight decay)",
                )
            )
        if net.bias:
            lines.append(
                Line(
                    f"grad_b[{layer - 1}] = D{layer}.sum(axis=0)",
                    f"∂C/∂b_j^({layer}) = δ_j^({layer})",
                )
            )
        if layer > 1:
            below = layer - 1
            gprime = net.activation(below).classic_at(s.z[below, s.j], s.a[below, s.j])
            g_code = array_code(
                gprime,
                {s.a[below, s.j]: sp.Symbol(f"A{below}"), s.z[below, s.j]: sp.Symbol(f"Z{below}")},
            )
            factor = "" if g_code in ("1", "1.0") else f" * ({g_code})"
            lines.append(
                Line(
                    f"D{below} = (D{layer} @ weights[{layer - 1}]){factor}",
                    f"δ_j^({below}) = {text(d.delta(below), nt)} with "
                    f"{text(net.activation(below).prime(s.z[below, s.j]), nt)} = {text(gprime, nt)}",
                )
            )
    return lines


def _emit(lines: list[Line], indent: str = "    ") -> str:
    width = max(len(line.code) for line in lines)
    return "\n".join(
        f"{indent}{line.code.ljust(width)}  # {line.comment}"
        if line.comment
        else f"{indent}{line.code}"
        for line in lines
    )


def _emit_each(lines: list[Line]) -> str:
    """Lines whose comments are not aligned with each other (one long line would push the rest)."""
    return "\n".join(_emit([line]) for line in lines)


def generate_source(net: "Network") -> str:
    """Standalone Python source (imports NumPy only) for the network's forward pass, cost and gradient."""
    _numbers_only(net)
    L = net.L
    fwd, fwd_analytic = _forward_lines(net, False), _forward_lines(net, True)
    if _logit_gain(net) is not None:
        fwd_analytic.pop()  # the cost is computed from Z{L}; a^(L) from the definition overflows for z << 0
    bias_doc = (
        f"biases: list of {L} arrays, biases[l-1][j] = b_j^(l)"
        if net.bias
        else "biases: None (no biases)"
    )
    keep = (
        ", ".join(f"Z{l}" for l in range(1, L + 1))
        + ", "
        + ", ".join(f"A{l}" for l in range(L + 1))
    )
    grad_b = f"grad_b = [None] * {L}" if net.bias else "grad_b = None"
    helpers = "".join(f"\n\n{source}" for source in helper_sources(net.activations))
    return f'''"""Generated by derive {__import__("derive").__version__} from the derivation of the network
{net.describe()}.

Shapes: X (batch, {net.sizes[0]}), Y (batch, {net.sizes[-1]}); weights: list of {L} arrays,
weights[l-1] has shape (n^(l), n^(l-1)) with row j, column k = w_jk^(l); {bias_doc}.
The cost is the batch mean of the single-sample cost C_0. Each line names the formula it implements.
"""
import numpy
{helpers}

def _forward(weights, biases, X):
{_emit(fwd)}
    return {keep}


def cost(weights, biases, X, Y):
    """Mean single-sample cost over the batch (numerically stable forms)."""
    {", ".join(f"Z{l}" for l in range(1, L + 1))}, *A = _forward(weights, biases, X)
    A{L} = A[-1]
{_emit_each(_cost_lines(net, False))}


def gradient(weights, biases, X, Y):
    """Gradient of the batch cost: (list like weights, list like biases or None)."""
    {keep} = _forward(weights, biases, X)
    grad_w = [None] * {L}
    {grad_b}
{_emit(_gradient_lines(net))}
    return grad_w, grad_b


def cost_analytic(weights, biases, X, Y):
    """The same cost from the plain definitions: analytic, so it accepts complex inputs (complex step)."""
{_emit(fwd_analytic)}
{_emit_each(_cost_lines(net, True))}
'''


def helper_sources(activations) -> list[str]:
    """The helper functions the activations' NumPy code calls, each once, in first-use order."""
    return list(dict.fromkeys(source for act in activations for source in act.numpy_helpers))


@dataclass(frozen=True)
class NumericNetwork:
    """Generated numeric functions of one network (see ``generate_source`` for the code)."""

    network: "Network"
    source: str
    cost: Callable
    gradient: Callable
    cost_analytic: Callable
    forward: Callable  # (weights, biases, X) -> (Z1..ZL, A0..AL)


def compile_numeric(net: "Network") -> NumericNetwork:
    """Generate and load the numeric functions (our own generated source, never user text)."""
    source = generate_source(net)
    namespace: dict = {"__name__": "derive_generated"}
    exec(compile(source, f"<derive generated: {net.describe()}>", "exec"), namespace)  # noqa: S102
    return NumericNetwork(
        net,
        source,
        namespace["cost"],
        namespace["gradient"],
        namespace["cost_analytic"],
        namespace["_forward"],
    )
