"""Benchmark: `derive train` on digits with its defaults, and its epoch time against PyTorch.

1. The real command, `python -m derive train --seed S --json` (the default network [64, 32, 10], sigmoid
   then softmax with the log-likelihood cost — a sigmoid output with cross-entropy while softmax is not
   merged — and the default epochs, batch size and learning rate), once per seed: test accuracy, the
   command's wall time (start-up, data, code generation, training, curves and files) and the time per
   epoch. Goal (issue 11): at least 95 % test accuracy in at most 30 s.
2. Epoch time in-process: derive's training epoch (shuffle, mini-batches, the generated gradient, the
   SGD update) against the same network in PyTorch (autograd, torch.optim.SGD without momentum, float64
   like NumPy, and float32), when `import torch` works. Same data, same initial weights, same batch order
   and batch size, same learning rate; the implementations take turns epoch by epoch, so drift in the
   machine's speed hits all alike. Only the epochs are timed (no evaluation). With the same weights and
   order in float64, PyTorch must end with the same accuracy: a check of the generated gradient.
   PyTorch runs with 1 thread and with its default (one per core): on tiny layers its worker threads
   cost more than they bring, most of all on a busy machine.

Run: python bench/train_speed.py [--seeds 5] [--timing-seeds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from derive.training import datasets, defaults, loop

ROOT = Path(__file__).resolve().parent.parent


def command_runs(seeds: int) -> list[dict]:
    rows = []
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(seeds):
            start = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "derive",
                    "train",
                    "--seed",
                    str(seed),
                    "--json",
                    "--out",
                    os.path.join(folder, f"seed-{seed}"),
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
            )
            wall = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(done.stderr)
            data = json.loads(done.stdout)
            rows.append({**data, "wall": wall})
    return rows


class _Given:
    """A stand-in for the random generator: the epoch's batch order, given."""

    def __init__(self, order):
        self.order = order

    def permutation(self, n):
        return self.order


def torch_trainer(net, weights, biases, dtype):
    """A PyTorch copy of the network with the same initial weights; returns (epoch(order), accuracy(X, labels))."""
    import torch

    W = [torch.tensor(w, dtype=dtype, requires_grad=True) for w in weights]
    b = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in biases]
    optimiser = torch.optim.SGD([*W, *b], lr=defaults.LEARNING_RATE)
    softmax = net.cost.name == "log-likelihood"

    def logits(X):
        a = X
        for layer, (w, v) in enumerate(zip(W, b), 1):
            z = a @ w.T + v
            a = torch.sigmoid(z) if layer < len(W) else z
        return a

    def cost(X, labels, onehot):
        z = logits(X)
        if softmax:
            return torch.nn.functional.cross_entropy(z, labels)
        return (
            torch.nn.functional.binary_cross_entropy_with_logits(z, onehot, reduction="sum")
            / X.shape[0]
        )

    def prepare(X, labels, outputs):
        onehot = np.eye(outputs)[labels]
        return torch.tensor(X, dtype=dtype), torch.tensor(labels), torch.tensor(onehot, dtype=dtype)

    def epoch(X, labels, onehot, order, batch):
        X, labels, onehot = X[order], labels[order], onehot[order]
        for start in range(0, X.shape[0], batch):
            optimiser.zero_grad()
            cost(
                X[start : start + batch],
                labels[start : start + batch],
                onehot[start : start + batch],
            ).backward()
            optimiser.step()

    def accuracy(X, labels):
        with torch.no_grad():
            return float((logits(X).argmax(dim=1) == labels).double().mean())

    return prepare, epoch, accuracy


def epoch_race(timing_seeds: int) -> tuple[dict, dict, str, int]:
    """Median seconds per epoch, and final test accuracy, per implementation."""
    try:
        import torch

        default_threads = torch.get_num_threads()
        version = f"PyTorch {torch.__version__} (autograd, torch.optim.SGD)"
    except ImportError:
        torch = None
        version = "PyTorch is not installed (pip install torch), so only derive is timed"
    times: dict[str, list[float]] = {}
    accuracy: dict[str, list[float]] = {}
    for seed in range(timing_seeds):
        data = datasets.load("digits", seed)
        net = defaults.classifier(data.features, data.n_classes).network
        numeric = net.numeric()
        _, rng = datasets.random_generators(seed)
        weights, biases = loop.initial_parameters(list(net.sizes), True, rng)
        Y = loop.targets(data.labels_train, 10)
        orders = [rng.permutation(len(Y)) for _ in range(defaults.EPOCHS)]
        contestants = {}

        def derive_epoch(
            order, w=weights, b=biases
        ):  # derive train's own epoch, in this batch order
            loop.run_epoch(
                numeric.gradient,
                w,
                b,
                data.X_train,
                Y,
                defaults.BATCH_SIZE,
                defaults.LEARNING_RATE,
                0.0,
                _Given(order),
            )

        contestants["derive generated NumPy (float64)"] = (
            derive_epoch,
            lambda w=weights, b=biases: loop.accuracy(
                numeric.forward, w, b, data.X_test, data.labels_test
            ),
        )
        if torch is not None:
            for name, dtype, threads in (
                ("PyTorch float64, 1 thread", torch.float64, 1),
                ("PyTorch float32, 1 thread", torch.float32, 1),
                (f"PyTorch float64, {default_threads} threads", torch.float64, default_threads),
            ):
                prepare, epoch, acc = torch_trainer(net, weights, biases, dtype)
                train_set, test_set = (
                    prepare(data.X_train, data.labels_train, 10),
                    prepare(data.X_test, data.labels_test, 10),
                )

                def torch_epoch(order, epoch=epoch, t=train_set, threads=threads):
                    torch.set_num_threads(threads)
                    epoch(*t, torch.tensor(order), defaults.BATCH_SIZE)

                contestants[name] = (torch_epoch, lambda acc=acc, t=test_set: acc(t[0], t[1]))
        for order in orders:
            for name, (run, _) in contestants.items():
                time.sleep(0.1)  # the previous contestant's idle worker threads stop spinning
                # derive train runs BLAS on one thread (loop._one_blas_thread); PyTorch sets its own threads
                with (
                    loop._one_blas_thread()
                    if name.startswith("derive")
                    else contextlib.nullcontext()
                ):
                    start = time.perf_counter()
                    run(order)
                    times.setdefault(name, []).append(time.perf_counter() - start)
        for name, (_, final) in contestants.items():
            accuracy.setdefault(name, []).append(final())
    return (
        {name: statistics.median(t) for name, t in times.items()},
        {name: statistics.mean(a) for name, a in accuracy.items()},
        version,
        len(Y),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="runs of the command (seeds 0..N-1)")
    parser.add_argument(
        "--timing-seeds", type=int, default=3, help="in-process training runs for the epoch race"
    )
    args = parser.parse_args()
    net = defaults.classifier(64, 10).network
    print(
        f"digits, {net.describe()}; derive train's defaults: {defaults.EPOCHS} epochs, batch size "
        f"{defaults.BATCH_SIZE}, learning rate {defaults.LEARNING_RATE:g}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    rows = command_runs(args.seeds)
    print(
        "\n`derive train --seed S` (the command, wall time including start-up and writing the files)"
    )
    print(
        f"{'seed':<6}{'test acc':>10}{'train acc':>11}{'command s':>11}{'training s':>12}{'ms/epoch':>10}"
    )
    for seed, row in enumerate(rows):
        per_epoch = statistics.median(row["history"]["epoch_seconds"]) * 1000
        print(
            f"{seed:<6}{100 * row['test_accuracy']:>9.1f}%{100 * row['train_accuracy']:>10.1f}%"
            f"{row['wall']:>11.2f}{row['seconds']:>12.2f}{per_epoch:>10.1f}"
        )
    worst = min(r["test_accuracy"] for r in rows)
    slowest = max(r["wall"] for r in rows)
    met = worst >= 0.95 and slowest <= 30
    print(
        f"goal >= 95 % test accuracy in <= 30 s: {'met' if met else 'NOT met'} (lowest {100 * worst:.1f} %, "
        f"mean {100 * statistics.mean(r['test_accuracy'] for r in rows):.1f} %, slowest {slowest:.1f} s)"
    )

    medians, accuracy, version, n = epoch_race(args.timing_seeds)
    reference = medians["derive generated NumPy (float64)"]
    print(
        f"\nOne epoch ({n:,} samples, {-(-n // defaults.BATCH_SIZE)} mini-batches), median over "
        f"{args.timing_seeds} x {defaults.EPOCHS} epochs in turns; same initial weights and batch order; {version}"
    )
    print(f"{'implementation':<36}{'ms/epoch':>10}{'vs derive':>11}{'test acc':>10}")
    for name, seconds in medians.items():
        print(
            f"{name:<36}{1000 * seconds:>10.1f}{seconds / reference:>10.2f}x{100 * accuracy[name]:>9.1f}%"
        )


if __name__ == "__main__":
    main()
