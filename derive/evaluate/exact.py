"""Exact values of a concrete network: sums written out, a random point, the forward pass, SymPy's
own derivatives of the local definitions, and formulas written out in x, y, w and b.

The checks, the worked example, the homework keys and the judge all evaluate through this module.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.errors import DeriveError
from derive.model.activations import EXPLICIT, Z

if TYPE_CHECKING:
    from derive.model.network import Network


DIGITS = 120  # working digits of exact evaluation; ``precision`` raises them for a second look


@contextlib.contextmanager
def precision(digits: int) -> Iterator[None]:
    """Evaluate with ``digits`` working digits inside the block (the tolerance stays 10^-60).

    A claimed mismatch is looked at again with more digits before it is reported: g = coth(z)^99
    through three layers loses 63 of 120 digits to powers and cancellation, while a wrong step
    differs in its first digits."""
    global DIGITS
    before, DIGITS = DIGITS, digits
    try:
        yield
    finally:
        DIGITS = before


TOLERANCE = sp.Float(10) ** -60


# Expression plumbing -----------------------------------------------------------------
def expand_sums(expr: sp.Expr) -> sp.Expr:
    """Write every Sum with numeric limits out as its terms, without evaluating anything else."""

    def write_out(s: sp.Sum) -> sp.Expr:
        # A sum of a sum is one Sum with several limits, the innermost first: write out the
        # outermost, and the inner ones on the next pass.
        *inner, (var, lo, hi) = s.limits
        body = s.func(s.function, *inner) if inner else s.function
        return sp.Add(*(body.xreplace({var: sp.Integer(v)}) for v in range(int(lo), int(hi) + 1)))

    while expr.has(sp.Sum):
        expr = expr.replace(lambda e: isinstance(e, sp.Sum), write_out)
    return expr


def real_diff(expr: sp.Expr, var: sp.Expr, count: int = 1) -> sp.Expr:
    """sympy.diff(expr, var, count) with every quantity real, as a network's are: |u - y|' is sign(u - y),
    not SymPy's re/im terms for complex symbols (which no number can be put into)."""
    quantities = expr.atoms(sp.Indexed) | {var}
    reals = {q: sp.Dummy(real=True) for q in quantities}
    written = expr.xreplace(reals)
    plain = {q: sp.Dummy(real=True) for q in written.free_symbols if not q.is_real}
    derivative = sp.diff(written.xreplace(plain), reals[var], count)
    back = {d: q for q, d in (reals | plain).items()}
    return derivative.xreplace(back)


def activation_definitions(net: "Network") -> dict:
    """Every function symbol the network's definitions use (its activations, and sigma a cost may use),
    with its explicit definition."""
    defs: dict = dict(EXPLICIT)
    for act in net.activations:
        defs.update(act.definitions)
    return defs


def with_activations(expr: sp.Expr, net: "Network") -> sp.Expr:
    """Replace every activation function symbol by its explicit definition."""
    return with_function_values(expr, activation_definitions(net))


class Model:
    """A concrete network at one random point: values of every quantity, and local definitions.

    Derivatives are taken by SymPy with the activations as undefined functions (small trees);
    g and g' are replaced by their definitions, and SymPy's derivative of them, only once the
    point's values are in.
    """

    def __init__(
        self, net: "Network", rng: random.Random | None = None, point: dict | None = None
    ) -> None:
        self.net, self.s = net, net.symbols
        self.point = point if point is not None else random_point(net, rng or random.Random(0))
        try:
            self.values = self._forward_values()
        except (
            OverflowError
        ):  # e^{sqrt(e^{|z|})} through three layers: a number of millions of digits
            raise DeriveError(
                "the network's values grow too large to evaluate exactly (an activation such as "
                "e^{e^z} through several layers); use a gentler activation"
            ) from None
        self.functions = function_values(net)
        self._definitions: dict = {}
        self._derivatives: dict = {}
        self._partials: dict = {}

    def definition(self, quantity: sp.Expr) -> sp.Expr:
        if quantity not in self._definitions:
            self._definitions[quantity] = expand_sums(self.net.definition_of(quantity))
        return self._definitions[quantity]

    def local(self, expr: sp.Expr, variable: sp.Expr) -> sp.Expr:
        """``expr`` as a function of the quantities at ``variable``'s level (the backprop meaning of d/dvariable)."""
        cut = self.net.level(variable)
        cut = -1 if cut is None else cut
        while True:
            above = {
                q: self.definition(q)
                for q in _quantities(expr, self.net)
                if (self.net.level(q) or 0) > cut and self.net.definition_of(q) is not None
            }
            if not above:
                return expr
            expr = expr.xreplace(above)

    def _forward_values(self) -> dict:
        s, net = self.s, self.net
        values = dict(self.point)
        for layer in range(1, net.L + 1):
            for j in range(net.size(layer)):
                values[s.z[layer, j]] = at_point(expand_sums(net.z_definition(layer, j)), values)
            for j in range(net.size(layer)):  # a softmax output needs every z of its layer
                a = at_point(with_activations(expand_sums(net.a_definition(layer, j)), net), values)
                values[s.a[layer, j]] = settle(a)
        values[s.cost] = settle(
            at_point(with_activations(expand_sums(net.cost_definition()), net), values)
        )
        return values

    def value(self, expr: sp.Expr) -> sp.Expr:
        """The value of a claim's side: derivatives by sympy.diff of local definitions, then numbers."""
        s = self.s
        expr = expand_sums(expr)
        expr = expr.replace(
            lambda e: isinstance(e, sp.Indexed) and e.base == s.delta,
            lambda e: sp.Derivative(s.cost, s.z[e.indices]),
        )
        # a weight's or bias's change by gradient descent, by its definition: -eta dC_0/dw
        expr = expr.replace(
            lambda e: isinstance(e, sp.Indexed) and e.base in (s.dw, s.db),
            lambda e: -s.eta * sp.Derivative(s.cost, (s.w if e.base == s.dw else s.b)[e.indices]),
        )
        # (g'(u) written Derivative(g(ξ), ξ) at ξ = u is a function's derivative, not the network's: primes below)
        expr = expr.replace(
            lambda e: isinstance(e, sp.Derivative) and not _is_prime(e), self._derivative_value
        )
        return self._number(expr)

    def _number(self, expr: sp.Expr) -> sp.Expr:
        """The value of ``expr`` at this point, g and g' written out at their numbers (``at_point``)."""
        return settle(at_point(primes_as_functions(expr), self.values, self.functions))

    def _derivative_value(self, d: sp.Derivative) -> sp.Expr:
        """The value at this point of d(expr)/d(variable) in the backprop meaning (every quantity above the
        variable's level through its definition, the others independent); remembered, since the steps of
        a deep network ask for the same dC_0/dz_i^(l) (an error delta_i^(l)) again and again."""
        if d not in self._derivatives:
            ((var, count),) = d.variable_count
            if count == 1:
                self._derivatives[d] = self._forward_derivative(d.expr, var)
            else:
                self._derivatives[d] = self._number(real_diff(self.local(d.expr, var), var, count))
        return self._derivatives[d]

    def _forward_derivative(self, expr: sp.Expr, var: sp.Expr) -> sp.Expr:
        """d(expr)/d(var) at the point by forward accumulation through the network's own definitions:
        what ``sympy.diff`` of the written-out expression (``local``) gives, with each local partial
        derivative taken by SymPy and evaluated here, so the work grows with the network's size, not
        with the size of the written-out cost (which doubles with every layer of width 2)."""
        cut = self.net.level(var)
        cut = -1 if cut is None else cut
        rates: dict = {var: sp.Integer(1)}

        def rate(q: sp.Expr) -> sp.Expr:  # dq/dvar
            if q not in rates:
                above = (self.net.level(q) or 0) > cut and self.net.definition_of(q) is not None
                rates[q] = self._through(self.definition(q), rate) if above else sp.Integer(0)
            return rates[q]

        return self._through(expr, rate)

    def _through(self, expr: sp.Expr, rate) -> sp.Expr:
        """The chain rule at the point: sum over the quantities q of expr of d(expr)/dq times rate(q)."""
        total = sp.Integer(0)
        for q in sorted(_quantities(expr, self.net), key=sp.default_sort_key):
            q_rate = rate(q)
            if q_rate != 0:
                total += self._partial(expr, q) * q_rate
        return settle(total)

    def _partial(self, expr: sp.Expr, q: sp.Expr) -> sp.Expr:
        key = (expr, q)
        if key not in self._partials:
            self._partials[key] = self._number(real_diff(expr, q))
        return self._partials[key]


def function_values(net: "Network") -> dict:
    """Each activation symbol g and its prime g' mapped to explicit Lambdas (g' by sympy.diff of g)."""
    out = {}
    for fn, lam in activation_definitions(net).items():
        out[fn] = lam
        out[prime_function(fn)] = sp.Lambda(Z, sp.diff(lam(Z), Z))
    return out


def prime_function(fn) -> sp.FunctionClass:
    """The opaque function standing for g' in exact comparisons."""
    return sp.Function(f"{fn.__name__}__prime")


def _quantities(expr: sp.Expr, net: "Network") -> set:
    found = {q for q in expr.atoms(sp.Indexed)}
    if expr.has(net.symbols.cost):
        found.add(net.symbols.cost)
    return found


class Unsettled(DeriveError):
    """A value at a check point that no number of digits decides: a part of a definition is not real
    or not finite there (a root or logarithm of a negative number inside max, min or cases), or
    SymPy's own derivative has no value there (0 times infinity)."""


class Singular(Unsettled):
    """A value at a check point that is infinite (e^z / z at z = 0): that point is not used."""


UNSETTLED_HINT = (
    "a part of a definition is not real or not finite there (a root or logarithm of a "
    "negative number, inside max, min or cases?); define it so that it is real for every z"
)


def unsettled(what: str) -> Unsettled:
    """The one-line refusal for a value ``what`` (SymPy's text, shortened) at a check point."""
    shown = what if len(what) <= 80 else what[:77] + "..."
    return Unsettled(f"a value at a check point cannot be compared ({shown}): {UNSETTLED_HINT}")


def at_point(expr: sp.Expr, values: dict, functions: dict | None = None) -> sp.Expr:
    """``expr`` with ``values`` put in and each g(...) of ``functions`` (``function_values``) written out at
    its numbers, comparisons decided by us (``_put_in``); SymPy's refusals to compare numbers (a max of a
    non-real part, a condition on infinity) are the one-line ``Unsettled``."""
    try:
        return _put_in(expr, values, functions or {})
    except DeriveError:
        raise
    except (TypeError, ValueError) as error:
        raise unsettled(str(error)) from None


_COMPARING = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign)


def _put_in(expr: sp.Expr, values: dict, functions: dict) -> sp.Expr:
    """``expr.xreplace(values)``, except that cases, steps, max, min, |u| and sign(u) of numbers are decided
    by the signs of the numbers compared, with as many digits as it takes (SymPy decides them with a
    few: it found ln(1/(1 + e^(-e^(23/7)))), which is -2.5e-12, to be >= 0), and that g(u) is g's
    definition at u (of a number u, settled to 120 digits)."""
    if not isinstance(expr, sp.Basic):
        return expr
    if not expr.has(*_COMPARING, *functions):
        return expr.xreplace(values)
    if isinstance(expr, sp.Piecewise):
        return _case_at(expr, values, functions)
    args = [_put_in(arg, values, functions) for arg in expr.args]
    if expr.func in functions:
        definition = functions[expr.func]
        return settle(
            _put_in(definition.expr, {**values, **dict(zip(definition.variables, args))}, functions)
        )
    if isinstance(expr, _COMPARING) and all(_numeric(arg) for arg in args):
        return _decided_at(expr.func, args)
    return expr.func(*args)


def _numeric(value: sp.Basic) -> bool:
    """A number we can sign: no symbol, and no g(...) still to be written out."""
    return value.is_number and not value.has(AppliedUndef)


def _case_at(cases: sp.Piecewise, values: dict, functions: dict) -> sp.Expr:
    """The piece of ``cases`` whose condition holds at the point (conditions in order, as SymPy reads them)."""
    for piece, condition in cases.args:
        if not _decidable(condition, values, functions):
            return sp.Piecewise(
                *((_put_in(p, values, functions), c.xreplace(values)) for p, c in cases.args)
            )
        if _holds(condition, values, functions):
            return _put_in(piece, values, functions)
    return sp.nan  # no case holds: SymPy's value of such a Piecewise


def _decidable(condition: sp.Basic, values: dict, functions: dict) -> bool:
    """Whether the point gives every quantity of ``condition`` a number (so that we can decide it)."""
    if condition in (sp.true, sp.false):
        return True
    return all(
        _numeric(_put_in(side, values, functions))
        for relation in condition.atoms(sp.core.relational.Relational)
        for side in relation.args
    )


def _decided_at(func, args: list) -> sp.Expr:
    """H(u), max, min, |u| or sign(u) of numbers, by signs."""
    if func is sp.Heaviside:
        sign = _sign(args[0])
        return sp.Integer(1 if sign > 0 else 0) if sign else func(*args)
    if func is sp.Abs:
        return args[0] * _sign(args[0])
    if func is sp.sign:
        return sp.Integer(_sign(args[0]))
    best = args[0]
    for arg in args[1:]:
        if _sign(arg - best) == (1 if func is sp.Max else -1):
            best = arg
    return best


def settle(value: sp.Expr) -> sp.Expr:
    """Exact rationals stay exact; anything transcendental becomes a 120-digit float.

    Where cancellation eats the digits (GELU's 1 + tanh(u) at u = -650 is 2e^-1300), SymPy's evalf
    gives up at its default working precision and returns a float with no digits left (0.e-247,
    which then turned 0.9 into 1 in a subtraction); it is asked again with room to work. Steps H(u)
    and cases whose conditions SymPy could not decide (u = ln(1 + e^X) - X is about e^-X, from the
    derivative of a max) are decided the same way (``_decided``)."""
    value = sp.sympify(value)
    if value.is_Rational:
        return value
    if value.free_symbols:
        return value
    if value.has(sp.Heaviside, sp.Piecewise):
        value = value.replace(lambda e: isinstance(e, (sp.Heaviside, sp.Piecewise)), _decided)
    result = value.evalf(DIGITS)
    if result.is_Float and result._prec < DIGITS * 3:  # fewer than ~90 digits survived
        result = value.evalf(DIGITS, maxn=DIGITS * 40)
    return result


def _decided(part: sp.Expr) -> sp.Expr:
    """H(u), or a choice of cases, of numbers that SymPy left open (H(ln(1 + e^X) - X), a condition
    e^X >= ln(1 + e^(e^X))): decided by signs, as ``_put_in`` does."""
    if part.free_symbols:
        return part
    if isinstance(part, sp.Heaviside):
        return _decided_at(sp.Heaviside, list(part.args))
    return _case_at(part, {}, {})


def _holds(condition: sp.Basic, values: dict, functions: dict) -> bool:
    """Whether a condition holds at the point (``values`` put into its sides first)."""
    if condition in (sp.true, sp.false, True, False):
        return bool(condition)
    if isinstance(condition, (sp.And, sp.Or)):
        results = (_holds(part, values, functions) for part in condition.args)
        return all(results) if isinstance(condition, sp.And) else any(results)
    if isinstance(condition, sp.Not):
        return not _holds(condition.args[0], values, functions)
    if isinstance(condition, sp.ITE):
        test, then, otherwise = condition.args
        return _holds(then if _holds(test, values, functions) else otherwise, values, functions)
    if isinstance(condition, sp.core.relational.Relational):
        sign = _sign(
            _put_in(condition.lhs, values, functions) - _put_in(condition.rhs, values, functions)
        )
        return {
            "==": sign == 0,
            "!=": sign != 0,
            ">": sign > 0,
            ">=": sign >= 0,
            "<": sign < 0,
            "<=": sign <= 0,
        }[condition.rel_op]
    raise unsettled(f"whether {condition} holds")


def _sign(number: sp.Expr) -> int:
    """-1, 0 or 1: the sign of a real number, with up to 4,800 digits to find it."""
    number = sp.sympify(number)
    if number.is_Rational:
        return int(sp.sign(number))
    if number.free_symbols or not number.is_number:
        raise unsettled(f"the sign of {number}")
    value = number.evalf(DIGITS, maxn=DIGITS * 40)
    if value.is_infinite or value is sp.nan:
        raise Singular(f"a value at a check point is infinite ({number}); {UNSETTLED_HINT}")
    if not (value.is_Float and value._prec > 10 and value != 0):
        raise unsettled(f"the sign of {number}")
    return 1 if value > 0 else -1


def _is_finite_real(value: sp.Expr) -> bool:
    """A Rational, or a finite Float."""
    return bool(value.is_Rational or (value.is_Float and value.is_finite))


def _finite(value: sp.Expr) -> sp.Expr:
    """``value`` if it is a finite real number (a Rational or Float), else ``Unsettled``."""
    if _is_finite_real(value):
        return value
    raise unsettled(str(value))


def equal(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """Exact equality for rationals, else agreement to 60 digits relative to the size of the values."""
    diff = sp.sympify(lhs - rhs)
    if diff.is_Rational:
        return diff == 0
    diff = diff.evalf(DIGITS)
    if not diff.is_number:
        return sp.simplify(lhs - rhs) == 0
    scale = max(sp.Float(1), abs(_finite(sp.sympify(lhs).evalf(DIGITS))))
    return bool(abs(_finite(diff)) <= TOLERANCE * scale)


def random_point(net: "Network", rng: random.Random) -> dict:
    """Random exact rationals in about [-3, 3] for inputs, weights, biases (so sigmoids do not
    saturate to 1 - 1e-50); targets in (0, 1)."""
    s = net.symbols

    def r() -> sp.Rational:
        return sp.Rational(rng.randint(-20, 20), rng.choice([7, 8, 9, 10, 11, 12, 16]))

    point = {s.x[k]: r() for k in range(net.size(0))}
    point.update(random_targets(net, rng))
    for layer in range(1, net.L + 1):
        for j in range(net.size(layer)):
            if net.bias:
                point[s.b[layer, j]] = r()
            for k in range(net.size(layer - 1)):
                point[s.w[layer, j, k]] = r()
    point[s.eta] = sp.Rational(rng.randint(1, 20), 10)  # the learning rate, for the weight changes
    # Parameters of activations (a symbolic gain, say) get a random positive value too.
    for act in net.activations:
        for sym in act.definition.expr.free_symbols - {Z}:
            point[sym] = sp.Rational(rng.randint(5, 30), 10)
    return point


COVERING_TRIES = 48  # random points drawn at most, looking for every side of every kink
Point = TypeVar("Point")


def covering_points(net: "Network", rng: random.Random, at_least: int = 3) -> list["Model"]:
    """Random points (as ``Model``s) that, together, show every piecewise quantity on each side of its
    kink and, where the output activation can, outputs of both signs (``covering``)."""
    return covering(net, lambda: Model(net, rng), model_coverage, at_least)


def model_coverage(model: "Model") -> set | None:
    """What a ``Model``'s point shows (``kink_coverage``)."""
    net, s = model.net, model.s
    return kink_coverage(
        net, lambda layer, j: model.values[s.z[layer, j]], lambda j: model.values[s.a[net.L, j]]
    )


def covering(
    net: "Network",
    draw: Callable[[], Point],
    coverage: Callable[[Point], set | None],
    at_least: int,
) -> list[Point]:
    """At least ``at_least`` points from ``draw``, and more until together they show what
    ``coverage_wanted`` asks (``coverage(point)``: what one point shows, None when it sits on a kink or
    a value there is not a finite real number).

    Wanted: each node z_j^(l) of a layer with a kink on each side of it, at some point its layer's
    nodes on different sides, and at some point outputs of both signs (a condition like a_p > 0 read
    for the wrong p is wrong there, and only there). Points are drawn until all of that is seen, or
    COVERING_TRIES points were tried (some is impossible: a sigmoid is never negative); a point on a
    kink is never used, since the derivative there is a convention. The checks, the worked examples'
    tests and the judge all choose their points this way.
    """
    wanted = coverage_wanted(net)
    seen: set = set()
    chosen: list[Point] = []
    for _ in range(at_least + COVERING_TRIES):
        if len(chosen) >= at_least and wanted <= seen:
            break
        try:
            point = draw()
        except Singular:  # a value there is infinite (e^z / z at z = 0): try another point
            continue
        shown = coverage(point)
        if shown is None:
            continue
        if len(chosen) < at_least or shown - seen:
            chosen.append(point)
            seen |= shown
    if len(chosen) < at_least:
        raise unsettled(
            "at every point tried, a weighted input sits on a kink or a value is not a finite real number"
        )
    return chosen


def _comparable(value: object) -> Any:
    """A number ``value`` in a form that compares with 0 (a settled SymPy number or a float), or None
    when it is not a finite real number (the point is then not used)."""
    if isinstance(value, sp.Basic):
        value = settle(value)
        return value if _is_finite_real(value) else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _kinked_layers(net: "Network") -> list[tuple[int, tuple]]:
    return [
        (layer, net.activation(layer).kinks)
        for layer in range(1, net.L + 1)
        if net.activation(layer).kinks
    ]


def coverage_wanted(net: "Network") -> set:
    """What a set of points should show (see ``covering``)."""
    wanted: set = set()
    for layer, kinks in _kinked_layers(net):
        for kink in kinks:
            wanted |= {(layer, j, kink, side) for j in range(net.size(layer)) for side in (-1, 1)}
            if net.size(layer) > 1:
                wanted.add((layer, "mixed", kink))
    if net.size(net.L) > 1 and _takes_both_signs(net.activation(net.L)):
        wanted.add(("outputs", "mixed signs"))
    return wanted


def _takes_both_signs(act) -> bool:
    """Whether an activation has negative and positive values (tanh, ELU: yes; sigmoid, ReLU: no)."""
    if act.vector:
        return False
    try:
        values = [
            act.definitions[act.function](sp.Rational(z, 2)).evalf(30)
            for z in (-6, -2, -1, 1, 2, 6)
        ]
        return any(v < 0 for v in values) and any(v > 0 for v in values)
    except (TypeError, ValueError, ArithmeticError):
        return True  # unknown: look for both


KINK_DISTANCE = 1e-9  # a weighted input nearer than this to a kink counts as on it


def kink_coverage(
    net: "Network", z_of: Callable[[int, int], object], output_of: Callable[[int], object]
) -> set | None:
    """What one point shows (see ``covering``), from its weighted inputs ``z_of(layer, j)`` and its outputs
    ``output_of(j)`` (exact or floating numbers); None when a weighted input sits on a kink, or a weighted
    input or output is not a finite real number."""
    shown: set = set()
    for layer, kinks in _kinked_layers(net):
        for kink in kinks:
            sides = set()
            for j in range(net.size(layer)):
                difference = _comparable(z_of(layer, j) - kink)
                if difference is None or abs(difference) < KINK_DISTANCE:
                    return None
                side = 1 if difference > 0 else -1
                sides.add(side)
                shown.add((layer, j, kink, side))
            if len(sides) > 1:
                shown.add((layer, "mixed", kink))
    outputs = [_comparable(output_of(j)) for j in range(net.size(net.L))]
    if any(a is None for a in outputs):
        return None
    if any(a > 0 for a in outputs) and any(a < 0 for a in outputs):
        shown.add(("outputs", "mixed signs"))
    return shown


def random_targets(net: "Network", rng: random.Random) -> dict:
    """Targets in (0, 1); for a cost whose targets form a distribution (the log-likelihood, whose
    derivation uses that they sum to 1), positive rationals summing to exactly 1."""
    s, n = net.symbols, net.size(net.L)
    raw = [rng.randint(1, 19) for _ in range(n)]
    if net.cost.target_distribution:
        return {s.y[j]: sp.Rational(v, sum(raw)) for j, v in enumerate(raw)}
    return {s.y[j]: sp.Rational(v, 20) for j, v in enumerate(raw)}


# Index assignments --------------------------------------------------------------------
def index_ranges(expr: sp.Expr, net: "Network") -> dict[sp.Symbol, int]:
    """For each free node index in ``expr``, how many nodes it may range over."""
    s = net.symbols
    bound = {limit[0] for summation in expr.atoms(sp.Sum) for limit in summation.limits}
    ranges: dict[sp.Symbol, int] = {}
    for atom in expr.atoms(sp.Indexed):
        idx = atom.indices
        if atom.base in s.layered:
            layer = idx[0]
            if not layer.is_Integer:
                continue
            layer = int(layer)
            sizes = [net.size(layer)] + ([net.size(layer - 1)] if atom.base in (s.w, s.dw) else [])
            positions = idx[1:]
        elif atom.base == s.x:
            sizes, positions = [net.size(0)], idx
        elif atom.base == s.y:
            sizes, positions = [net.size(net.L)], idx
        else:
            continue
        for pos, size in zip(positions, sizes):
            if pos.is_Symbol and pos not in bound:
                ranges[pos] = min(ranges.get(pos, size), size)
    return ranges


def assignments(expr: sp.Expr, net: "Network", limit: int, rng: random.Random) -> Iterator[dict]:
    """Every assignment of the free node indices, or ``limit`` random ones when there are more."""
    ranges = index_ranges(expr, net)
    symbols = sorted(ranges, key=str)
    every = list(itertools.product(*(range(ranges[s]) for s in symbols)))
    if len(every) > limit:
        every = rng.sample(every, limit)
    for combo in every:
        yield dict(zip(symbols, map(sp.Integer, combo)))


def expanded_cost(net: "Network", concrete: bool) -> tuple[sp.Expr, dict]:
    """C_0 written out in inputs, targets, weights and biases only, and every z and a likewise."""
    s = net.symbols
    model_defs: dict[sp.Basic, sp.Expr] = {}
    for layer in range(1, net.L + 1):
        for j in range(net.size(layer)):
            model_defs[s.z[layer, j]] = expand_sums(net.z_definition(layer, j)).xreplace(model_defs)
        for j in range(net.size(layer)):  # a softmax output needs every z of its layer
            a = expand_sums(net.a_definition(layer, j)).xreplace(model_defs)
            model_defs[s.a[layer, j]] = with_activations(a, net) if concrete else a
    cost = expand_sums(net.cost_definition()).xreplace(model_defs)
    return cost, model_defs


def _is_prime(d: sp.Derivative) -> bool:
    """g'(u) written as the derivative of g by its own argument: Derivative(σ(ξ), ξ), Derivative(g(z), z)."""
    return isinstance(d.expr, AppliedUndef) and d.variables == d.expr.args


def primes_as_functions(expr: sp.Expr) -> sp.Expr:
    """g'(E) as an opaque function gprime(E), whether written Derivative(g(z), z) or Subs(...)."""

    def from_subs(e: sp.Subs) -> sp.Expr:
        return prime_function(e.expr.expr.func)(e.point[0])

    expr = expr.replace(
        lambda e: (
            isinstance(e, sp.Subs)
            and isinstance(e.expr, sp.Derivative)
            and isinstance(e.expr.expr, AppliedUndef)
        ),
        from_subs,
    )
    return expr.replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef),
        lambda e: prime_function(e.expr.func)(e.expr.args[0]),
    )


def vanishes(expr: sp.Expr) -> bool:
    """Exactly zero for every choice of the activation functions.

    Each g(E) and g'(E) becomes an independent indeterminate, so ``expr`` is a rational
    function; it vanishes when its numerator expands to 0.
    """
    applied = expr.atoms(AppliedUndef)
    expr = expr.xreplace({f: sp.Dummy(f"f{n}") for n, f in enumerate(applied)})
    numerator, _ = sp.together(expr).as_numer_denom()
    return sp.expand(numerator) == 0


def with_function_values(expr: sp.Expr, functions: dict) -> sp.Expr:
    """Apply explicit definitions to every g(...) and g'(...); numeric arguments give numbers at once."""
    for fn, lam in functions.items():
        expr = expr.replace(fn, lambda *args, lam=lam: settle(_applied(lam, args)))
    return expr


def _applied(function: sp.Lambda, args: tuple) -> sp.Expr:
    """``function(*args)``, its comparisons decided as ``at_point`` decides them."""
    return at_point(function.expr, dict(zip(function.variables, args)))


def written_out(expr: sp.Expr, net: "Network", indices: dict) -> sp.Expr:
    """A general formula at concrete node indices, in inputs, targets, weights and biases only.

    Sums are written out, activations and their derivatives replaced by explicit functions,
    and every a and z by its forward expansion.
    """
    cost, expansions = expanded_cost(net, concrete=True)
    expr = expand_sums(expr.xreplace({k: sp.Integer(v) for k, v in indices.items()}))
    return with_function_values(
        primes_as_functions(expr).xreplace(expansions), function_values(net)
    )
