"""Gradient check: every generated gradient entry against finite differences of the cost.

Central differences with a step scaled to each parameter, h = eps^(1/3) * max(1, |p|), and
the complex step, h = 1e-20 (exact to rounding), wherever the network is analytic. An entry
whose central-difference stencil crosses a kink (ReLU at 0) is reported as a kink, not as a
failure, and it is never silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .codegen import NumericNetwork, compile_numeric

if TYPE_CHECKING:
    from .network import Network

CENTRAL_TARGET = 1e-7
COMPLEX_TARGET = 1e-12
RELATIVE_FLOOR = 1e-3  # relative errors are |g - fd| / max(|g|, |fd|, floor)
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


@dataclass
class CheckReport:
    network: str
    cost: float
    groups: list[GroupReport]
    analytic: bool

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.groups)

    def table(self) -> str:
        head = (f"{'parameters':<14}{'shape':>10}{'central abs':>14}{'central rel':>14}"
                f"{'complex abs':>14}{'complex rel':>14}{'kinks':>7}  result")
        rows = [f"gradient check: {self.network}; cost {self.cost:.12g}",
                f"targets: central rel <= {CENTRAL_TARGET:g}, complex-step rel <= {COMPLEX_TARGET:g} "
                f"(rel = |g - fd| / max(|g|, |fd|, {RELATIVE_FLOOR:g}))", head, "-" * len(head)]
        for g in self.groups:
            cabs = "n/a" if g.complex_abs is None else f"{g.complex_abs:.2e}"
            crel = "n/a" if g.complex_rel is None else f"{g.complex_rel:.2e}"
            rows.append(f"{g.name:<14}{'x'.join(map(str, g.shape)):>10}{g.central_abs:>14.2e}{g.central_rel:>14.2e}"
                        f"{cabs:>14}{crel:>14}{len(g.kinks):>7}  {'ok' if g.passed else 'FAILED'}")
        if not self.analytic:
            rows.append("complex step: n/a, the network has a non-analytic activation (ReLU-like)")
        kinked = [(g.name, k) for g in self.groups for k in g.kinks]
        if kinked:
            rows.append("at a kink (reported, not compared): " + ", ".join(f"{n}{list(k)}" for n, k in kinked))
        rows.append("PASSED" if self.passed else "FAILED")
        return "\n".join(rows)


def _relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), RELATIVE_FLOOR)


def _kink_signature(net: "Network", weights, biases, X) -> tuple:
    """Sign pattern of z in every layer with a kinked activation."""
    signs = []
    A = X
    for layer in range(1, net.L + 1):
        Z = A @ weights[layer - 1].T + (biases[layer - 1] if net.bias else 0.0)
        if net.activation(layer).kinks:
            signs.append(np.sign(Z).tobytes())
        A = _forward_activation(net, layer, Z)
    return tuple(signs)


def _forward_activation(net: "Network", layer: int, Z: np.ndarray) -> np.ndarray:
    code = net.activation(layer).numpy_forward.format(z="Z")
    return eval(code, {"numpy": np, "Z": Z})  # noqa: S307 - our own code template, never user text


def check_gradient(net: "Network", weights, biases, X, Y, numeric: NumericNetwork | None = None) -> CheckReport:
    """Compare every gradient entry with central differences and, where analytic, the complex step."""
    numeric = numeric or compile_numeric(net)
    weights = [np.array(w, dtype=float) for w in weights]
    biases = [np.array(b, dtype=float) for b in biases] if net.bias else None
    X, Y = np.atleast_2d(np.asarray(X, dtype=float)), np.atleast_2d(np.asarray(Y, dtype=float))
    grad_w, grad_b = numeric.gradient(weights, biases, X, Y)
    analytic = all(act.analytic for act in net.activations)
    groups = []
    for kind, params, grads in (("w", weights, grad_w), ("b", biases, grad_b)):
        if params is None:
            continue
        for layer, (param, grad) in enumerate(zip(params, grads), start=1):
            groups.append(_check_group(net, numeric, f"{kind}^({layer})", param, grad, weights, biases, X, Y, analytic))
    return CheckReport(net.describe(), float(numeric.cost(weights, biases, X, Y)), groups, analytic)


def _check_group(net, numeric, name, param, grad, weights, biases, X, Y, analytic) -> GroupReport:
    report = GroupReport(name, param.shape)
    eps = np.finfo(float).eps
    central, complex_fd = np.zeros_like(param), np.zeros_like(param)
    compared = np.ones(param.shape, dtype=bool)
    base_kinks = _kink_signature(net, weights, biases, X)
    for index in np.ndindex(param.shape):
        original = param[index]
        h = eps ** (1 / 3) * max(1.0, abs(original))
        param[index] = original + h
        up, up_kinks = numeric.cost(weights, biases, X, Y), _kink_signature(net, weights, biases, X)
        param[index] = original - h
        down, down_kinks = numeric.cost(weights, biases, X, Y), _kink_signature(net, weights, biases, X)
        param[index] = original
        central[index] = (up - down) / (2 * h)
        if not (up_kinks == base_kinks == down_kinks):
            compared[index] = False
            report.kinks.append(tuple(int(i) for i in index))
        if analytic:
            complex_fd[index] = _complex_step(numeric, weights, biases, X, Y, param, index)
    if compared.any():
        report.central_abs = float(np.max(np.abs(grad - central)[compared]))
        report.central_rel = float(np.max(_relative(grad, central)[compared]))
    if analytic:
        report.complex_abs = float(np.max(np.abs(grad - complex_fd)))
        report.complex_rel = float(np.max(_relative(grad, complex_fd)))
    return report


def _complex_step(numeric, weights, biases, X, Y, param, index) -> float:
    """Im C(p + i h) / h: no subtraction, so no cancellation."""
    cw = [w.astype(complex) for w in weights]
    cb = [b.astype(complex) for b in biases] if biases is not None else None
    target = next(arr for arr, orig in zip(cw + (cb or []), weights + (biases or [])) if orig is param)
    target[index] += 1j * COMPLEX_STEP
    return float(np.imag(numeric.cost_analytic(cw, cb, X.astype(complex), Y.astype(complex))) / COMPLEX_STEP)
