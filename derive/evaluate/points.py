"""Numbers for formulas at one point of a concrete network, fast and to 60 digits.

A point gives exact inputs, weights, biases and targets. ``PointValues`` runs the forward pass
from them with mpmath (z = Σ w a + b, a = g(z) through g's explicit definition, the cost from its
definition) and evaluates any formula in the notation there: each quantity is looked up, each
g and g' applied through its definition (g' by SymPy's own derivative of it), sums added up, and
δ is SymPy's derivative of the cost at the same point (``evaluate.exact.Model.value``, made only when
an answer uses δ), so nothing here trusts the engine's formulas. A value that is infinite,
undefined or complex, and a node index outside its layer, raise; the judge turns them into verdicts.
"""

from __future__ import annotations

from typing import Any

import functools

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from derive.model.activations import _SIGMA_DEFINITION, NAMES, SIGMA, Z, activation_named
from derive.evaluate.exact import Model, primes_as_functions, expand_sums, prime_function

DIGITS = 60


class NotFinite(ArithmeticError):
    """The value is infinite, undefined (0/0, ln 0) or not a real number."""


class TooLarge(ArithmeticError):
    """A number far beyond anything a derivation has (e^(10^30)): refused rather than computed."""


MAX_ARGUMENT = 10**4  # |x| for e^x, cosh, sinh, tanh, sech; |y ln x| for x^y (about 10^4343)


class OutOfRange(LookupError):
    """A quantity with a node index its layer does not have."""

    def __init__(self, quantity: sp.Indexed, indices: tuple[int, ...]) -> None:
        super().__init__(quantity, indices)
        self.quantity, self.indices = quantity, indices


class Functions:
    """Each function g by its explicit definition, and g' (SymPy's derivative of it) made on first use.

    The network's own functions come first; the other built-in activations (an answer may name one)
    are built only when an answer does.
    """

    def __init__(self, definitions: dict) -> None:
        self.definitions = dict(definitions)
        self.primes = {prime_function(fn): fn for fn in definitions}
        self._made: dict = {}
        self._with_builtins = False

    def get(self, fn):
        found = self._get(fn)
        if found is None and not self._with_builtins:
            self._with_builtins = True
            for builtin, lam in _builtin_definitions().items():
                if builtin not in self.definitions:
                    self.definitions[builtin] = lam
                    self.primes[prime_function(builtin)] = builtin
            found = self._get(fn)
        return found

    def _get(self, fn):
        if fn in self.definitions:
            return self.definitions[fn]
        if fn not in self.primes:
            return None
        if fn not in self._made:
            lam = self.definitions[self.primes[fn]]
            self._made[fn] = sp.Lambda(Z, sp.diff(lam(Z), Z))
        return self._made[fn]


@functools.lru_cache(maxsize=1)
def _builtin_definitions() -> dict:
    out = {SIGMA: _SIGMA_DEFINITION}
    for name in NAMES:
        for fn, lam in activation_named(name).definitions.items():
            out.setdefault(fn, lam)
    return out


@functools.lru_cache(maxsize=256)
def network_functions(activations: tuple) -> Functions:
    """σ and the network's own activations (each g and g' as an explicit Lambda); any other
    built-in activation on first use."""
    definitions = {SIGMA: _SIGMA_DEFINITION}
    for act in activations:
        definitions.update(act.definitions)
    return Functions(definitions)


@functools.lru_cache(maxsize=64)
def _forward_plan(net) -> tuple:
    """The network's forward equations with sums written out: (z or a, its definition), in order."""
    s = net.symbols
    plan = []
    for layer in range(
        1, net.L + 1
    ):  # every z of a layer before its a: a softmax output needs them all
        plan += [
            (s.z[layer, j], expand_sums(net.z_definition(layer, j))) for j in range(net.size(layer))
        ]
        plan += [
            (s.a[layer, j], expand_sums(net.a_definition(layer, j))) for j in range(net.size(layer))
        ]
    return tuple(plan), net.cost_definition()


_REAL = {
    sp.exp: mpmath.exp,
    sp.log: mpmath.log,
    sp.tanh: mpmath.tanh,
    sp.cosh: mpmath.cosh,
    sp.sinh: mpmath.sinh,
    sp.sech: mpmath.sech,
    sp.Abs: abs,
    sp.sign: mpmath.sign,
}


class PointValues:
    """Evaluate formulas at one point of a network (``point``: exact values of x, y, w, b and any
    activation parameter), or, without a network, at given values of z (activation formulas)."""

    def __init__(
        self,
        net=None,
        point: dict | None = None,
        parameters: dict | None = None,
        activations: tuple = (),
    ) -> None:
        self.net, self.point = net, point or {}
        self.functions = network_functions(
            tuple(net.activations) if net is not None else activations
        )
        self.values: dict[Any, Any] = {}
        self.bases: dict[Any, dict[tuple[int, ...], Any]] = {}
        self._delta: dict = {}
        self._model: Model | None = None
        self._delta_label = net.symbols.delta.label if net is not None else None
        with mpmath.workdps(DIGITS):
            for quantity, value in {**self.point, **(parameters or {})}.items():
                self._store(quantity, self._number(value))
            if net is not None:
                self._forward()

    def _store(self, quantity: sp.Expr, number) -> None:
        if isinstance(quantity, sp.Indexed):
            key = tuple(int(i) for i in quantity.indices)
            self.bases.setdefault(quantity.base.label, {})[key] = number
        else:
            self.values[quantity] = number

    def _forward(self) -> None:
        plan, cost = _forward_plan(self.net)
        for quantity, definition in plan:
            self._store(quantity, self._eval(definition, {}))
        self._store(self.net.symbols.cost, self._eval(cost, {}))

    def z(self, layer: int, node: int):
        """The weighted input z_node^{(layer)} at this point."""
        return self.bases[self.net.symbols.z.label][(layer, node)]

    @staticmethod
    def _number(value: sp.Expr):
        if value.is_Rational:
            return mpmath.mpf(value.p) / value.q
        return mpmath.mpf(sp.Float(value, DIGITS + 10))

    def __call__(self, expr: sp.Expr, env: dict | None = None):
        """The value of ``expr``; ``env`` binds free node indices (and z) to numbers."""
        return self.value_of(primes_as_functions(expr), env)

    def value_of(self, expr: sp.Expr, env: dict | None = None):
        """As calling, for an expression whose g' are already opaque functions (``prepared``)."""
        with mpmath.workdps(DIGITS):
            try:
                value = self._eval(expr, dict(env or {}))
            except ZeroDivisionError:
                raise NotFinite("division by zero") from None
            if isinstance(value, bool):
                value = mpmath.mpf(int(value))
            if isinstance(value, mpmath.mpc):
                if abs(value.imag) > mpmath.mpf(10) ** (-DIGITS // 2) * max(1, abs(value.real)):
                    raise NotFinite("not a real number")
                value = value.real
            if not mpmath.isfinite(value):
                raise NotFinite("not finite")
            return value

    # Evaluation ----------------------------------------------------------------------------------
    def _eval(self, e: sp.Basic, env: dict):
        kind = type(e)
        rule = _RULES.get(id(kind))  # by id: hashing a SymPy function class is slow
        if rule is None:
            rule = _RULES[id(kind)] = _rule_for(kind)
            _KEEP.append(kind)
        return rule(self, e, env)

    def _number_node(self, e: sp.Basic, env: dict):
        if e.is_Rational:
            return mpmath.mpf(e.p) / e.q
        if e.is_Float:
            return mpmath.mpf(e)
        raise NotFinite("not finite")  # oo, -oo, zoo, nan

    def _add(self, e: sp.Basic, env: dict):
        return mpmath.fsum(self._eval(a, env) for a in e.args)

    def _mul(self, e: sp.Basic, env: dict):
        result = mpmath.mpf(1)
        for a in e.args:
            result *= self._eval(a, env)
        return result

    def _pow(self, e: sp.Basic, env: dict):
        return self._power(self._eval(e.base, env), self._eval(e.exp, env))

    def _piecewise(self, e: sp.Basic, env: dict):
        for value, condition in e.args:
            if self._eval(condition, env):
                return self._eval(value, env)
        raise NotFinite("undefined piece")

    def _relation(self, e: sp.Basic, env: dict):
        lhs, rhs = self._eval(e.lhs, env), self._eval(e.rhs, env)
        return {
            ">": lhs > rhs,
            "<": lhs < rhs,
            ">=": lhs >= rhs,
            "<=": lhs <= rhs,
            "==": lhs == rhs,
            "!=": lhs != rhs,
        }[e.rel_op]

    def _heaviside(self, e: sp.Basic, env: dict):
        x = self._eval(e.args[0], env)
        at_zero = self._eval(e.args[1], env) if len(e.args) > 1 else mpmath.mpf(1) / 2
        return mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else at_zero

    def _extreme(self, e: sp.Basic, env: dict):
        values = [self._eval(a, env) for a in e.args]
        return max(values) if isinstance(e, sp.Max) else min(values)

    def _real(self, e: sp.Basic, env: dict):
        x = self._eval(e.args[0], env)
        if e.func is sp.log:
            if x == 0:
                raise NotFinite("log of 0")
        elif e.func is not sp.Abs and e.func is not sp.sign and abs(x) > MAX_ARGUMENT:
            raise TooLarge(f"{e.func.__name__} of {mpmath.nstr(x, 3)}")
        return _REAL_BY_ID[id(e.func)](x)

    @staticmethod
    def _power(base, exponent):
        if base == 0 and exponent < 0:
            raise NotFinite("division by zero")
        if base != 0 and abs(exponent * mpmath.log(abs(base))) > 10 * MAX_ARGUMENT:
            raise TooLarge("a power")
        if base < 0 and exponent != int(exponent):
            return mpmath.power(mpmath.mpc(base), exponent)
        return mpmath.power(base, exponent)

    def _symbol(self, symbol: sp.Symbol, env: dict):
        if symbol in env:
            return env[symbol]
        if symbol in self.values:
            return self.values[symbol]
        raise NotFinite(f"no value for {symbol}")

    def _index(self, index: sp.Expr, env: dict) -> int:
        value = index if index.is_Integer else self._eval(index, env)
        return int(value)

    def _quantity(self, q: sp.Indexed, env: dict):
        indices = tuple(self._index(i, env) for i in q.indices)
        label = q.base.label
        if label is self._delta_label:
            return self._delta_value(q, indices)
        table = self.bases.get(label, {})
        if indices not in table:
            raise OutOfRange(q, indices)
        return table[indices]

    def _delta_value(self, q: sp.Indexed, indices: tuple[int, ...]):
        if indices not in self._delta:
            s = self.net.symbols
            layer, node = indices
            if (layer, node) not in self.bases.get(s.z.label, {}):
                raise OutOfRange(q, indices)
            if self._model is None:
                self._model = Model(self.net, point=self.point)
            self._delta[indices] = self._number(
                self._model.value(sp.Derivative(s.cost, s.z[layer, node]))
            )
        return self._delta[indices]

    def _sum(self, e: sp.Sum, env: dict):
        *inner_limits, (var, lo, hi) = e.limits  # a sum of a sum is one Sum with several limits
        body = e.func(e.function, *inner_limits) if inner_limits else e.function
        total = mpmath.mpf(0)
        inner = dict(env)
        for value in range(self._index(lo, env), self._index(hi, env) + 1):
            inner[var] = mpmath.mpf(value)
            total += self._eval(body, inner)
        return total

    def _defined(self, e: AppliedUndef, env: dict):
        lam = self.functions.get(e.func)
        if lam is None:
            raise NotFinite(f"unknown function {e.func}")
        (variable,), body = lam.variables, lam.expr
        return self._eval(body, {variable: self._eval(e.args[0], env)})


_CONSTANTS = {sp.E: mpmath.e, sp.pi: mpmath.pi}
_RULES: dict = {}  # id(node type) -> how PointValues evaluates it (filled on first sight of each type)
_KEEP: list = []  # the types behind those ids stay alive
_REAL_BY_ID = {id(fn): value for fn, value in _REAL.items()}


def _rule_for(kind: type):
    """How to evaluate nodes of one SymPy type (the first matching family wins)."""
    if issubclass(kind, sp.Number):
        return PointValues._number_node
    if kind in (type(sp.E), type(sp.pi)):
        return lambda self, e, env: _CONSTANTS[e]
    if kind in (type(sp.true), type(sp.false)):
        return lambda self, e, env: bool(e)
    families = (
        (sp.Symbol, PointValues._symbol),
        (sp.Indexed, PointValues._quantity),
        (sp.Add, PointValues._add),
        (sp.Mul, PointValues._mul),
        (sp.Pow, PointValues._pow),
        (sp.Sum, PointValues._sum),
        (AppliedUndef, PointValues._defined),
        (sp.Piecewise, PointValues._piecewise),
        (sp.core.relational.Relational, PointValues._relation),
        (sp.Heaviside, PointValues._heaviside),
        (sp.Max, PointValues._extreme),
        (sp.Min, PointValues._extreme),
    )
    for family, rule in families:
        if issubclass(kind, family):
            return rule
    if kind in _REAL:
        return PointValues._real

    def unknown(self, e, env):
        raise NotFinite(f"cannot evaluate {kind.__name__}")

    return unknown


def prepared(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every g'(E) as an opaque function: evaluate it at many places with ``value_of``."""
    return primes_as_functions(expr)


def close(a, b, digits: int = 40) -> bool:
    """Equal to ``digits`` digits relative to the larger of |a|, |b| and 1."""
    with mpmath.workdps(DIGITS):
        return abs(a - b) <= mpmath.mpf(10) ** (-digits) * max(mpmath.mpf(1), abs(a), abs(b))
