"""Benchmark: the generated NumPy gradient vs a hand-written NumPy backprop, PyTorch autograd
(CPU) and JAX, when those are installed (optional; not dependencies of derive).

One run, side by side: batch 64 on [784, 100, 10] and batch 1 on [2, 3, 1], sigmoid layers,
quadratic cost, biases. Prints the median time per gradient and the ratio to hand-written NumPy.
Goals: within 1.15x of hand-written NumPy on the large net; faster than PyTorch on the small one.

Run: python bench/gradient_speed.py [--repeat 500]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from derive import Network

CASES = [([784, 100, 10], 64), ([2, 3, 1], 1)]


def handwritten(weights, biases, X, Y):
    """Plain NumPy backprop as one writes it by hand (sigmoid, quadratic cost, batch mean)."""
    activations, zs = [X], []
    for W, b in zip(weights, biases):
        z = activations[-1] @ W.T + b
        zs.append(z)
        activations.append(1.0 / (1.0 + np.exp(-z)))
    a = activations[-1]
    delta = 2.0 * (a - Y) * a * (1.0 - a) / X.shape[0]
    grad_w, grad_b = [None] * len(weights), [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grad_w[layer] = delta.T @ activations[layer]
        grad_b[layer] = delta.sum(axis=0)
        if layer:
            a = activations[layer]
            delta = (delta @ weights[layer]) * a * (1.0 - a)
    return grad_w, grad_b


def torch_gradient():
    try:
        import torch
    except ImportError:
        return None

    def run(weights, biases, X, Y):
        a = X
        for W, b in zip(weights, biases):
            a = torch.sigmoid(a @ W.T + b)
        cost = ((a - Y) ** 2).sum(dim=1).mean()
        return torch.autograd.grad(cost, [*weights, *biases])

    def prepare(weights, biases, X, Y):
        def as_tensor(array, grad=False):
            return torch.tensor(array, dtype=torch.float64, requires_grad=grad)

        return (
            [as_tensor(w, True) for w in weights],
            [as_tensor(b, True) for b in biases],
            as_tensor(X),
            as_tensor(Y),
        )

    return run, prepare


def jax_gradient():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def cost(params, X, Y):
        weights, biases = params
        a = X
        for W, b in zip(weights, biases):
            a = jax.nn.sigmoid(a @ W.T + b)
        return jnp.mean(jnp.sum((a - Y) ** 2, axis=1))

    grad = jax.jit(jax.grad(cost))

    def run(weights, biases, X, Y):
        return jax.block_until_ready(grad((weights, biases), X, Y))

    def prepare(weights, biases, X, Y):
        return (
            [jnp.asarray(w) for w in weights],
            [jnp.asarray(b) for b in biases],
            jnp.asarray(X),
            jnp.asarray(Y),
        )

    return run, prepare


def race(contestants: dict[str, tuple], repeat: int, blocks: int = 5) -> dict[str, float]:
    """Median microseconds per call. The contestants take turns in blocks (A B C D A B C D ...),
    so drift in the machine's speed hits all alike; each block starts with untimed calls, so
    one library's idle worker threads (PyTorch's OpenMP pool spins) do not slow the next one."""
    times: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(blocks):
        for name, (fn, args) in contestants.items():
            for _ in range(20):
                fn(*args)
            for _ in range(repeat // blocks):
                start = time.perf_counter()
                fn(*args)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(samples) * 1e6 for name, samples in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"gradient of the batch cost, median of {args.repeat} runs in interleaved blocks (microseconds); "
        f"NumPy {np.__version__}"
    )
    print(
        f"{'network':<16}{'batch':>6}  {'implementation':<26}{'median us':>12}{'vs hand NumPy':>15}"
    )
    for sizes, batch in CASES:
        net = Network(sizes, activation="sigmoid", cost="quadratic", bias=True)
        weights = [
            rng.normal(scale=0.1, size=(sizes[l], sizes[l - 1])) for l in range(1, len(sizes))
        ]
        biases = [rng.normal(scale=0.1, size=sizes[l]) for l in range(1, len(sizes))]
        X, Y = rng.normal(size=(batch, sizes[0])), rng.uniform(size=(batch, sizes[-1]))
        generated = net.numeric().gradient
        ours, theirs = generated(weights, biases, X, Y), handwritten(weights, biases, X, Y)
        assert all(
            np.allclose(a, b, rtol=1e-10, atol=1e-14)
            for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1])
        )
        contestants = {
            "hand-written NumPy": (handwritten, (weights, biases, X, Y)),
            "derive generated NumPy": (generated, (weights, biases, X, Y)),
        }
        missing = []
        for name, factory in (
            ("PyTorch autograd (CPU)", torch_gradient),
            ("JAX jit grad (CPU)", jax_gradient),
        ):
            made = factory()
            if made is None:
                missing.append(f"{name.split(' ')[0]} (not installed)")
                continue
            run, prepare = made
            contestants[name] = (run, prepare(weights, biases, X, Y))
        medians = race(contestants, args.repeat)
        reference = medians["hand-written NumPy"]
        for name, us in [*medians.items(), *((name, None) for name in missing)]:
            shown = (
                f"{us:>12.1f}{us / reference:>14.2f}x" if us is not None else f"{'-':>12}{'-':>15}"
            )
            print(f"{str(sizes):<16}{batch:>6}  {name:<26}{shown}")


if __name__ == "__main__":
    main()
