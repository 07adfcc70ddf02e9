"""Gradient check: every generated gradient entry against finite differences of the cost.

Central differences of fourth order, [C(p-2h) - 8C(p-h) + 8C(p+h) - C(p+2h)] / 12h, with the
step scaled to each parameter, h = eps^(1/5) * max(1, |p|) / max(1, |a_k|) (round-off
eps*|C|/h and truncation h^4 balance near eps^(1/5); the two-point formula's eps^(2/3) floor
missed 1e-7 on nets with large intermediate sums). |a_k| is the largest input over the batch
that the weight w_jk multiplies (1 for a bias): the step is scaled so that the change it makes
in z_j is the same for every parameter (an input of 8.5 otherwise made the step 8.5 times too
coarse for the curvature of the sigmoid after it), and the complex step, h = 1e-20 (exact to rounding),
wherever the network is analytic. An entry whose stencil crosses a kink (ReLU at 0) is reported as a kink, not as a
failure, and it is never silently dropped.

Relative error is |g - fd| / max(|g|, |fd|, floor) with floor = 0.01 * max(1, max |gradient|):
an entry far below the gradient's scale comes out of cancellation, and its own relative error
measures rounding there, not the formula (the complex step differs from an exact gradient by a
few ulps of the terms that cancelled). Small entries are thus held to an absolute error of
1e-9 (central) or 1e-14 (complex step) times the gradient's scale, and the floor scales with
the problem, so multiplying the cost by 1000 does not change the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np

from derive.numeric.codegen import NumericNetwork, compile_numeric

if TYPE_CHECKING:
    from derive.model.network import Network

CENTRAL_TARGET = 1e-7
COMPLEX_TARGET = 1e-12
RELATIVE_FLOOR = 1e-2  # times max(1, max |gradient|): see the module docstring
COMPLEX_STEP = 1e-20


@dataclass
class GroupReport:
    """One parameter group (weights or biases of one layer)."""

    name: str
    shape: tuple[int, ...]
    central_abs: float = 0.0
    central_rel: float = 0.0
    complex_abs: float | None = None
    complex_rel: float | None = None
    kinks: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        ok = self.central_rel <= CENTRAL_TARGET
        return ok and (self.complex_rel is None or self.complex_rel <= COMPLEX_TARGET)

    def as_dict(self) -> dict:
        return {
            "parameters": self.name,
            "shape": list(self.shape),
            "central_abs": self.central_abs,
            "central_rel": self.central_rel,
            "complex_abs": self.complex_abs,
            "complex_rel": self.complex_rel,
            "kinks": [list(k) for k in self.kinks],
            "passed": self.passed,
        }


@dataclass
class CheckReport:
    network: str
    cost: float
    groups: list[GroupReport]
    analytic: bool
    floor: float = RELATIVE_FLOOR

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.groups)

    def as_dict(self) -> dict:
        """What ``derive check --json`` prints."""
        return {
            "network": self.network,
            "cost": self.cost,
            "passed": self.passed,
            "rows": [group.as_dict() for group in self.groups],
        }

    def table(self) -> str:
        head = (
            f"{'parameters':<14}{'shape':>10}{'central abs':>14}{'central rel':>14}"
            f"{'complex abs':>14}{'complex rel':>14}{'kinks':>7}  result"
        )
        rows = [
            f"gradient check: {self.network}; cost {self.cost:.12g}",
            f"targets: central rel <= {CENTRAL_TARGET:g}, complex-step rel <= {COMPLEX_TARGET:g} "
            f"(rel = |g - fd| / max(|g|, |fd|, {self.floor:.3g}))",
            head,
            "-" * len(head),
        ]
        for g in self.groups:
            cabs = "n/a" if g.complex_abs is None else f"{g.complex_abs:.2e}"
            crel = "n/a" if g.complex_rel is None else f"{g.complex_rel:.2e}"
            rows.append(
                f"{g.name:<14}{'x'.join(map(str, g.shape)):>10}{g.central_abs:>14.2e}{g.central_rel:>14.2e}"
                f"{cabs:>14}{crel:>14}{len(g.kinks):>7}  {'ok' if g.passed else 'FAILED'}"
            )
        if not self.analytic:
            rows.append("complex step: n/a, the network has a non-analytic activation (ReLU-like)")
        kinked = [(g.name, k) for g in self.groups for k in g.kinks]
        if kinked:
            rows.append(
                "at a kink (reported, not compared): "
                + ", ".join(f"{n}{list(k)}" for n, k in kinked)
            )
        rows.append("PASSED" if self.passed else "FAILED")
        return "\n".join(rows)


def _relative(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)


def _forward_pass(numeric: NumericNetwork, weights, biases, X) -> tuple[tuple, tuple]:
    """(z^(1..L), a^(0..L)) for the batch, from the generated forward pass."""
    values = numeric.forward(weights, biases, X)
    L = numeric.network.L
    return values[:L], values[L:]


def _kink_signature(numeric: NumericNetwork, weights, biases, X) -> tuple:
    """Which side of each kink z is on, in every layer with a kinked activation (ReLU: the sign of z)."""
    zs, _ = _forward_pass(numeric, weights, biases, X)
    net = numeric.network
    return tuple(
        np.sign(Z - float(kink)).tobytes()
        for layer, Z in enumerate(zs, start=1)
        for kink in net.activation(layer).kinks
    )


def _input_scale(
    kind: str, layer: int, shape: tuple, activations: Sequence[np.ndarray]
) -> np.ndarray:
    """max(1, largest |a_k^(l-1)| over the batch) for each weight; 1 for each bias."""
    if kind == "b":
        return np.ones(shape)
    largest = np.max(np.abs(activations[layer - 1]), axis=0)
    return np.broadcast_to(np.maximum(1.0, largest), shape)


def check_gradient(
    net: "Network", weights, biases, X, Y, numeric: NumericNetwork | None = None
) -> CheckReport:
    """Compare every gradient entry with central differences and, where analytic, the complex step."""
    numeric = numeric or compile_numeric(net)
    weights = [np.array(w, dtype=float) for w in weights]
    biases = [np.array(b, dtype=float) for b in biases] if net.bias else None
    X, Y = np.atleast_2d(np.asarray(X, dtype=float)), np.atleast_2d(np.asarray(Y, dtype=float))
    grad_w, grad_b = numeric.gradient(weights, biases, X, Y)
    analytic = all(act.analytic for act in net.activations)
    inputs = _forward_pass(numeric, weights, biases, X)[1]
    floor = RELATIVE_FLOOR * max(1.0, *(float(np.max(np.abs(g))) for g in grad_w + (grad_b or [])))
    groups = []
    for kind, params, grads in (("w", weights, grad_w), ("b", biases, grad_b)):
        if params is None:
            continue
        for layer, (param, grad) in enumerate(zip(params, grads), start=1):
            scale = _input_scale(kind, layer, param.shape, inputs)
            groups.append(
                _check_group(
                    numeric,
                    f"{kind}^({layer})",
                    param,
                    grad,
                    weights,
                    biases,
                    X,
                    Y,
                    analytic,
                    floor,
                    scale,
                )
            )
    return CheckReport(
        net.describe(), float(numeric.cost(weights, biases, X, Y)), groups, analytic, floor
    )


def _check_group(
    numeric, name, param, grad, weights, biases, X, Y, analytic, floor, scale
) -> GroupReport:
    report = GroupReport(name, param.shape)
    eps = np.finfo(float).eps
    central, complex_fd = np.zeros_like(param), np.zeros_like(param)
    compared = np.ones(param.shape, dtype=bool)
    base_kinks = _kink_signature(numeric, weights, biases, X)
    for index in np.ndindex(param.shape):
        original = param[index]
        h = eps**0.2 * max(1.0, abs(original)) / scale[index]
        values, crossed = {}, False
        for shift in (-2, -1, 1, 2):
            param[index] = original + shift * h
            values[shift] = numeric.cost(weights, biases, X, Y)
            crossed |= _kink_signature(numeric, weights, biases, X) != base_kinks
        param[index] = original
        central[index] = (values[-2] - 8 * values[-1] + 8 * values[1] - values[2]) / (12 * h)
        if crossed:
            compared[index] = False
            report.kinks.append(tuple(int(i) for i in index))
        if analytic:
            complex_fd[index] = _complex_step(numeric, weights, biases, X, Y, param, index)
    if compared.any():
        report.central_abs = float(np.max(np.abs(grad - central)[compared]))
        report.central_rel = float(np.max(_relative(grad, central, floor)[compared]))
    if analytic:
        report.complex_abs = float(np.max(np.abs(grad - complex_fd)))
        report.complex_rel = float(np.max(_relative(grad, complex_fd, floor)))
    return report


def _complex_step(numeric, weights, biases, X, Y, param, index) -> float:
    """Im C(p + i h) / h: no subtraction, so no cancellation."""
    cw = [w.astype(complex) for w in weights]
    cb = [b.astype(complex) for b in biases] if biases is not None else None
    target = next(
        arr for arr, orig in zip(cw + (cb or []), weights + (biases or [])) if orig is param
    )
    target[index] += 1j * COMPLEX_STEP
    return float(
        np.imag(numeric.cost_analytic(cw, cb, X.astype(complex), Y.astype(complex))) / COMPLEX_STEP
    )
