"""Checks that nothing the engine claims is false.

* ``check_steps``: every step's two sides agree when each derivative is computed
  by SymPy itself (``sympy.diff`` of the left-hand side's own definition) and the
  network's quantities take their values at random points.
* ``check_gradients``: every general formula, instantiated at every concrete
  weight and bias, equals ``sympy.diff`` of the fully expanded cost. Exactly, with
  the activations left as undefined functions (``mode="symbolic"``: the difference,
  a rational function of the g(...) and g'(...) values, has numerator 0), and at
  random points with the real activations
  (``mode="numeric"``: exact rationals where the activation is piecewise linear,
  otherwise to 60 of 120 working digits).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.model.activations import Z
from derive.choices import Choice
from derive.engine.derivation import Form
from derive.evaluate import exact
from derive.evaluate.exact import (
    Model,
    at_point,
    precision,
    random_point,
    assignments,
    real_diff,
    covering_points,
    equal,
    expand_sums,
    expanded_cost,
    primes_as_functions,
    settle,
    vanishes,
    with_activations,
)
from derive.limits import InternalError
from derive.model.steps import AVERAGE, SUMMARY, Block
from derive.notation.symbols import MatrixKind, matrix_name

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.steps import Step


@dataclass(frozen=True)
class Mismatch:
    """A claim that failed: where, and by how much."""

    what: str
    assignment: tuple[tuple[str, object], ...]  # (index or variable, its value)
    lhs: sp.Expr
    rhs: sp.Expr
    where: str = (
        ""  # "block layer:1, step 15" (steps numbered from 1 within their block, as printed)
    )

    def __str__(self) -> str:
        at = ", ".join(f"{k}={v}" for k, v in self.assignment)
        place = f"{self.where}: " if self.where else ""
        return f"{place}{self.what} [{at}]: {self.lhs} != {self.rhs}"

    def _repr_markdown_(self) -> str:
        from derive.render.display import mismatch_markdown, notation_of  # seam: display hook

        return mismatch_markdown(self, notation_of(self))

    def _repr_latex_(self) -> str:
        from derive.render.display import mismatch_latex, notation_of  # seam: display hook

        return mismatch_latex(self, notation_of(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(str(self))


# Public checks --------------------------------------------------------------------------
def check_step(
    step: "Step", model: Model, limit: int = 24, rng: random.Random | None = None
) -> list[Mismatch]:
    """Compare both sides of a step for every (or ``limit`` sampled) index assignment."""
    rng = rng or random.Random(0)
    claim = sp.Add(step.lhs, step.rhs, evaluate=False)
    failures = []
    if step.lhs.has(Z) or step.rhs.has(Z):
        return _check_in_z(step, model, rng)
    for assignment in assignments(claim, model.net, limit, rng):
        lhs = model.value(step.lhs.xreplace(assignment))
        rhs = model.value(step.rhs.xreplace(assignment))
        if not equal(lhs, rhs):
            failures.append(
                Mismatch(
                    f"{step.rule.title}: {step.text}",
                    tuple((str(k), int(v)) for k, v in assignment.items()),
                    lhs,
                    rhs,
                )
            )
    return failures


def _check_in_z(step: "Step", model: Model, rng: random.Random) -> list[Mismatch]:
    """Activation derivations: exact symbolic equality in z, confirmed at random points."""
    lhs = with_activations(step.lhs, model.net).doit()
    rhs = with_activations(step.rhs, model.net).doit()
    params = {p: v for p, v in model.point.items() if isinstance(p, sp.Symbol)}
    kinks = {
        k for act in model.net.activations for k in act.kinks
    }  # no derivative there: a convention decides
    failures = []
    for _ in range(5):
        z = sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 60), rng.choice([7, 10, 13]))
        while z in kinks:
            z += sp.Rational(1, 17)
        values = {Z: z, **params}
        if not equal(settle(at_point(lhs, values)), settle(at_point(rhs, values))):
            failures.append(Mismatch(step.text, (("z", str(z)),), lhs, rhs))
    return failures


POINTS = (
    2  # random points at least; more when needed to see every side of every kink (covering_points)
)
NARROW = 2  # the widest layer of the network a document's check derives


@dataclass(frozen=True)
class StepsChecked:
    """A check of every step of a derivation: how many steps, at how many random points, what failed.

    ``network`` is the network whose derivation was checked (for a document, the narrow network of the
    same depth, activations and cost: the steps are in index form, so its steps are the same formulas).
    """

    network: "Network"
    steps: int
    points: int
    failures: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        """What ``derive steps --check --json`` prints under "check"."""
        return {
            "passed": self.passed,
            "steps": self.steps,
            "failures": [str(f) for f in self.failures],
        }


def narrow_network(net: "Network", width: int = NARROW) -> "Network":
    """The network with every layer at most ``width`` wide and everything else the same."""
    from derive.model.network import Network  # the class of the network given: no cycle at run time

    return Network(
        [min(size, width) for size in net.sizes],
        activation=list(net.activations),
        cost=net.cost,
        bias=net.bias,
        notation=net.notation,
        l2=net.l2,
    )


def checked_steps(
    net: "Network",
    seed: int = 0,
    limit: int = 24,
    on_step: Callable[[int, int], None] | None = None,
) -> StepsChecked:
    """Check every step of ``net``'s derivation at points that show every piecewise quantity on each side
    of its kink (``covering_points``); ``on_step(done, total)`` is told after each step (a progress bar).

    A failure is confirmed with three times the working digits (``precision``) before it is reported:
    an extreme definition can lose half of them, a wrong step differs in its first."""
    report = _checked_steps(net, seed, limit, on_step)
    if report.failures:
        with precision(3 * exact.DIGITS):
            report = _checked_steps(net, seed, limit, None)
    return report


def _checked_steps(
    net: "Network", seed: int, limit: int, on_step: Callable[[int, int], None] | None
) -> StepsChecked:
    rng = random.Random(seed)
    models = covering_points(net, rng, at_least=POINTS)
    d = net.derivation()
    numbered = _numbered_steps(net)
    failures: list[Mismatch] = []
    for done, (block, number, step) in enumerate(numbered, start=1):
        in_z = step.lhs.has(Z) or step.rhs.has(
            Z
        )  # an activation's own derivation: no network point needed
        for model in models[:1] if in_z else models:
            found = check_step(step, model, limit, rng)
            failures += [
                dataclasses.replace(f, where=f"block {block.key}, step {number}") for f in found
            ]
        if on_step is not None:
            on_step(done, len(numbered) + 1)
    for model in models:
        failures += check_summary(net, model)
    failures += check_average(net, seed, limit)
    if on_step is not None:
        on_step(len(numbered) + 1, len(numbered) + 1)
    return StepsChecked(net, len(d.steps()), len(models), tuple(failures))


def _numbered_steps(net: "Network") -> list[tuple[Block, int, "Step"]]:
    """(block, number from 1, step) for every step checked one by one (the summary and the average over
    samples have checks of their own)."""
    return [
        (block, number, step)
        for block in net.derivation().blocks
        if block.key not in (SUMMARY, AVERAGE)
        for number, step in enumerate(block.steps, start=1)
    ]


def count_checked(net: "Network") -> int:
    """How many times ``checked_steps`` reports progress: once per step, once for the rest."""
    return len(_numbered_steps(net)) + 1


def check_steps(
    net: "Network",
    seed: int = 0,
    limit: int = 24,
    on_step: Callable[[int, int], None] | None = None,
) -> list[Mismatch]:
    """Check every step of the network's derivation; returns the failures (empty when all hold)."""
    return list(checked_steps(net, seed, limit, on_step).failures)


def check_printed(
    net: "Network", on_step: Callable[[int, int], None] | None = None
) -> StepsChecked:
    """What a document runs before it prints ``net``'s steps: every step of the narrow network of the same
    depth, activations and cost, checked; raises InternalError naming the first step that fails.

    Remembered per network (a homework set shows the same network in several questions)."""
    narrow = narrow_network(net)
    key = (narrow.sizes, narrow.activations, narrow.cost, narrow.bias, narrow.l2, narrow.notation)
    if key not in _PRINTED:
        report = checked_steps(narrow, on_step=on_step)
        if report.failures:
            first = report.failures[0]
            raise InternalError(
                f"{first.where or 'a summary equation'} does not agree with SymPy's own derivative "
                f"({first.what}); nothing was written"
            )
        _PRINTED[key] = report
    return _PRINTED[key]


_PRINTED: dict = {}


SAMPLES = 3  # the cost over samples is checked with this many, each with its own inputs and targets
AVERAGE_LIMIT = 8  # (l, j, k) checked per step there


def check_average(net: "Network", seed: int = 0, limit: int = 24) -> list[Mismatch]:
    """The steps about the cost over n samples (and its L2 penalty), against SymPy's derivative of
    that cost written out for SAMPLES samples.

    Each sample's cost is an arbitrary function C_s(w, b) of every weight and bias (an undefined SymPy
    function): the claims hold for any costs, and the single-sample gradients are what the other
    checks verify. Each C_s and each of its derivatives then takes its own random value, so the
    check costs the same at every depth.
    """
    s, rng = net.symbols, random.Random(seed + 1)
    point = random_point(net, rng)
    parameters = {
        q: v for q, v in point.items() if isinstance(q, sp.Indexed) and q.base in (s.w, s.b)
    }
    lam = sp.Rational(rng.randint(1, 30), 10)
    penalty = lam / (2 * SAMPLES) * sp.Add(*(q**2 for q in parameters if q.base == s.w))
    known = {s.samples: sp.Integer(SAMPLES), s.l2: lam, s.eta: point[s.eta]}
    sizes = {s.n[m]: sp.Integer(net.size(m)) for m in range(net.L + 1)}
    drawn: dict = {}  # each C_s and each derivative of it: a random value, the same wherever it appears

    def draw(e: sp.Expr) -> sp.Expr:
        if e not in drawn:
            drawn[e] = sp.Rational(rng.randint(-999, 999), rng.randint(1, 99))
        return drawn[e]

    sums: dict = {}

    def written(total: sp.Sum) -> sp.Expr:
        """A sum written out (the penalty's inner limits are sizes n^(l'), known once l' is a number)."""
        if total not in sums:
            expr = total
            while expr.has(sp.Sum):
                expr = expr.xreplace(sizes).replace(
                    lambda e: isinstance(e, sp.Sum), _outermost_written_out
                )
            sums[total] = expr
        return sums[total]

    def evaluate(expr: sp.Expr, costs: list) -> sp.Expr:
        expr = expr.replace(
            lambda e: isinstance(e, sp.UnevaluatedExpr), lambda e: e.args[0]
        ).xreplace(known)
        expr = expr.replace(lambda e: isinstance(e, sp.Sum), written)
        total = sp.Add(*costs) / SAMPLES + (penalty if net.l2 is not None else 0)
        expr = expr.replace(  # each C_x first: its base's label is the symbol C itself
            lambda e: isinstance(e, sp.Indexed) and e.base == s.sample_cost,
            lambda e: costs[int(e.indices[0])],
        )
        expr = expr.xreplace({s.total_cost: total}).doit()
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative), draw)
        expr = expr.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func in {c.func for c in costs}, draw
        )
        return expr.xreplace(parameters)

    failures = []
    for assignment in _layer_assignments(net, min(limit, AVERAGE_LIMIT), rng):
        # the samples' costs as functions of the parameters the claims differentiate by (the penalty
        # holds every weight)
        here = [q.xreplace(assignment) for q in (s.w[s.l, s.j, s.k], s.b[s.l, s.j])]
        costs = [sp.Function(f"C_sample_{number}")(*here) for number in range(SAMPLES)]
        for step in net.derivation().block(AVERAGE).steps:
            lhs = evaluate(step.lhs.xreplace(assignment), costs)
            rhs = evaluate(step.rhs.xreplace(assignment), costs)
            if not equal(lhs, rhs):
                failures.append(
                    Mismatch(
                        f"{step.rule.title}: {step.text}",
                        tuple((str(k), int(v)) for k, v in assignment.items()),
                        lhs,
                        rhs,
                    )
                )
    return failures


def _outermost_written_out(total: sp.Sum) -> sp.Expr:
    """A sum's outermost limit written out as terms (its limits are numbers by then); inner ones stay."""
    *inner, (var, lo, hi) = total.limits
    body = total.func(total.function, *inner) if inner else total.function
    return sp.Add(*(body.xreplace({var: sp.Integer(v)}) for v in range(int(lo), int(hi) + 1)))


def _layer_assignments(net: "Network", limit: int, rng: random.Random) -> list[dict]:
    """Concrete (l, j, k) for formulas about a general layer l: every one, or ``limit`` of them."""
    s = net.symbols
    every = [
        {s.l: sp.Integer(layer), s.j: sp.Integer(j), s.k: sp.Integer(k)}
        for layer in range(1, net.L + 1)
        for j in range(net.size(layer))
        for k in range(net.size(layer - 1))
    ]
    return every if len(every) <= limit else rng.sample(every, limit)


def explicit_matrix(symbol: sp.MatrixSymbol, net: "Network") -> sp.Matrix:
    """The entries of a summary vector or matrix (W^(2), delta^(1), ...) as index-form quantities."""
    s = net.symbols
    name = matrix_name(symbol)
    kind, m = name.kind, name.number
    C = s.cost
    rows, cols = symbol.shape
    entry = {
        MatrixKind.DELTA: lambda j, k: s.delta[m, j],
        MatrixKind.GPRIME: lambda j, k: net.activation(m).prime(s.z[m, j]),
        MatrixKind.GRAD_C: lambda j, k: sp.Derivative(C, s.a[m, j]),
        MatrixKind.W: lambda j, k: s.w[m, j, k],
        MatrixKind.A: lambda j, k: net.previous_activation(m + 1, j),
        MatrixKind.DC_DB: lambda j, k: sp.Derivative(C, s.b[m, j]),
        MatrixKind.DC_DW: lambda j, k: sp.Derivative(C, s.w[m, j, k]),
        MatrixKind.JACOBIAN: lambda j, k: sp.Derivative(s.a[m, j], s.z[m, k]),
    }[kind]
    return sp.Matrix(int(rows), int(cols), lambda j, k: entry(j, k))


def check_summary(net: "Network", model: Model) -> list[Mismatch]:
    """The matrix-form equations, for every layer they speak of, entry by entry."""
    from derive.engine.derivation import matrix_summary

    failures = []
    for layer in range(1, net.L + 1):
        for step in matrix_summary(net, layer).steps:
            if layer == net.L and any(
                matrix_name(m).kind is MatrixKind.W for m in step.rhs.atoms(sp.MatrixSymbol)
            ):
                continue  # the recursion speaks of hidden layers only
            lhs, rhs = (_explicit(_sized(side, net), net) for side in (step.lhs, step.rhs))
            for j, k in itertools.product(range(lhs.rows), range(lhs.cols)):
                if not equal(model.value(lhs[j, k]), model.value(rhs[j, k])):
                    failures.append(
                        Mismatch(
                            f"summary: {step.text}",
                            (("layer", layer), ("j", j), ("k", k)),
                            lhs[j, k],
                            rhs[j, k],
                        )
                    )
    return failures


def _explicit(expr: sp.Expr, net: "Network") -> sp.Matrix:
    """Entries of a matrix expression built from summary symbols, products, transposes, Hadamard products."""
    if isinstance(expr, sp.MatrixSymbol):
        return explicit_matrix(expr, net)
    if isinstance(expr, sp.Transpose):
        return _explicit(expr.arg, net).T
    if isinstance(expr, sp.HadamardProduct):
        first, *rest = (_explicit(arg, net) for arg in expr.args)
        for other in rest:
            first = first.multiply_elementwise(other)
        return first
    if isinstance(expr, sp.MatMul):
        result = sp.Integer(1)
        for arg in expr.args:
            result = result * (_explicit(arg, net) if isinstance(arg, sp.MatrixExpr) else arg)
        return result
    raise TypeError(f"unexpected matrix expression {expr!r}")


def _sized(expr: sp.Expr, net: "Network") -> sp.Expr:
    """Replace the symbolic sizes n^{(l)} of summary matrices by the network's sizes."""
    s = net.symbols
    return expr.xreplace({s.n[m]: sp.Integer(net.size(m)) for m in range(net.L + 1)})


def _parameters(net: "Network") -> Iterator[tuple[str, int, sp.Indexed, dict]]:
    s = net.symbols
    for layer in range(1, net.L + 1):
        for j in range(net.size(layer)):
            for k in range(net.size(layer - 1)):
                yield "weight", layer, s.w[layer, j, k], {s.j: j, s.k: k}
            if net.bias:
                yield "bias", layer, s.b[layer, j], {s.j: j}


def _formula(net: "Network", kind: str, layer: int, form: Form) -> sp.Expr:
    d = net.derivation()
    return d.gradient(layer, form) if kind == "weight" else d.bias_gradient(layer, form)


class CheckMode(Choice):
    """How ``check_gradients`` compares a formula with the truth."""

    SYMBOLIC = "symbolic"  # activations undefined: the difference must vanish identically
    NUMERIC = "numeric"  # real activations at covering points: both forms must agree with the truth


def check_gradients(
    net: "Network",
    mode: CheckMode | str = CheckMode.SYMBOLIC,
    seed: int = 0,
    layers: Iterable[int] | None = None,
) -> list[Mismatch]:
    """Every general formula at every concrete weight and bias (of ``layers``, all when None) against
    diff of the expanded cost.

    symbolic: activations stay undefined; formula - truth must vanish identically.
    numeric: at random points that show every piecewise quantity on each side of its kink and, where
    they can, outputs of both signs (``covering_points``), g and g' take their real values (g' by
    sympy.diff of g's definition); both forms (chain and classic) must agree with the truth.
    """
    numeric = CheckMode.parse(mode, "mode") is CheckMode.NUMERIC
    cost, expansions = expanded_cost(net, concrete=False)
    models = covering_points(net, random.Random(seed), at_least=1) if numeric else [None]
    forms = tuple(Form) if numeric else (Form.CHAIN,)
    failures = []
    wanted = set(range(1, net.L + 1) if layers is None else layers)
    for kind, layer, param, assignment in _parameters(net):
        if layer not in wanted:
            continue
        derivative = primes_as_functions(real_diff(cost, param))
        for model in models:
            truth = (
                settle(at_point(derivative, model.point, model.functions))
                if model is not None
                else derivative
            )
            for form in forms:
                formula = expand_sums(_formula(net, kind, layer, form).xreplace(assignment))
                if model is None:
                    value = primes_as_functions(formula).xreplace(expansions)
                    ok = vanishes(value - truth)
                else:
                    value = model.value(formula)
                    ok = equal(value, truth)
                if not ok:
                    failures.append(
                        Mismatch(
                            f"{kind} gradient, layer {layer}, {form} form",
                            tuple((str(k), int(v)) for k, v in assignment.items()),
                            value,
                            truth,
                        )
                    )
    return failures
