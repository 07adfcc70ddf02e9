"""Training: mini-batch stochastic gradient descent on the network's generated gradient code.

Weights start Glorot/Xavier-uniform, w ~ U(-r, r) with r = sqrt(6 / (n^(l-1) + n^(l))), biases at 0,
drawn by a NumPy Generator seeded from ``--seed``. Each epoch shuffles the training set, and each
mini-batch makes one step w <- (1 - eta lambda / n) w - eta dC/dw, b <- b - eta dC/db, where dC/dw is
the generated gradient of the batch's mean cost, n the number of training samples and lambda the L2
weight (weight decay; biases are not regularised). After every epoch: the training loss (with the
L2 term (lambda / 2n) sum w^2), the test loss, and the accuracy on both sets. The predicted class is
the output node with the largest activation; a network with one output node tells two classes
apart, class 1 when its output is at least 1/2.

Functions marked "copied into the standalone program" use nothing but NumPy: program.py copies
their source, so the program and ``derive train`` compute the same numbers.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy

from derive.errors import DeriveError, ParameterError
from derive.training import defaults
from derive.training.datasets import Dataset, random_generators

if TYPE_CHECKING:
    from derive.model.network import Network

MAX_EPOCHS = 100_000
MAX_PARAMETERS = 10_000_000
# A run's work, bounded so that no combination of --epochs, --batch-size, rows and network runs for hours:
# measured on 2 cores (digits), a gradient step costs about 36 us and a weight times a sample about 1.25 ns,
# so either bound is about 6 minutes.
MAX_STEPS = 10_000_000
MAX_WORK = 300_000_000_000  # weights x samples presented (epochs x training rows)


@dataclass(frozen=True)
class Settings:
    epochs: int = defaults.EPOCHS
    batch_size: int = defaults.BATCH_SIZE
    learning_rate: float = defaults.LEARNING_RATE
    l2: float = defaults.L2
    seed: int = defaults.SEED

    def checked(self) -> "Settings":
        """These settings, or a one-line ParameterError naming the setting that is out of range."""

        def whole(value: object, name: str, low: int, high: int) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ParameterError(
                    "{%s} must be a whole number from {low:,} to {high:,}, got {value}" % name,
                    low=low,
                    high=high,
                    value=value,
                )

        whole(self.epochs, "epochs", 1, MAX_EPOCHS)
        whole(self.batch_size, "batch_size", 1, 10**9)
        whole(self.seed, "seed", 0, 2**63 - 1)
        if not (
            isinstance(self.learning_rate, (int, float))
            and math.isfinite(self.learning_rate)
            and 0 < self.learning_rate <= 100
        ):
            raise ParameterError(
                "{learning_rate} must be a positive number of at most 100, got {value}",
                value=self.learning_rate,
            )
        if not (
            isinstance(self.l2, (int, float)) and math.isfinite(self.l2) and 0 <= self.l2 <= 1e6
        ):
            raise ParameterError("{l2} must be a number from 0 to 1e6, got {value}", value=self.l2)
        return self


@dataclass
class History:
    """One entry per epoch."""

    loss: list[float] = field(default_factory=list)  # training cost, with the L2 term
    test_loss: list[float] = field(default_factory=list)  # test cost (no L2 term)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(
        default_factory=list
    )  # the epoch's gradient steps only (no evaluation)

    def as_dict(self) -> dict:
        return {
            "loss": self.loss,
            "test_loss": self.test_loss,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "epoch_seconds": self.seconds,
        }


@dataclass(frozen=True)
class Epoch:
    number: int
    epochs: int
    loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float


@dataclass(frozen=True)
class Trained:
    network: Network
    data: Dataset
    settings: Settings
    weights: list
    biases: list | None
    history: History
    seconds: float  # the whole training: every epoch with its evaluation

    @property
    def train_accuracy(self) -> float:
        return self.history.train_accuracy[-1]

    @property
    def test_accuracy(self) -> float:
        return self.history.test_accuracy[-1]

    def as_dict(self) -> dict:
        """What ``derive train --json`` prints (the CLI adds the files written)."""
        settings, data = self.settings, self.data
        return {
            "data": data.name,
            "network": self.network.describe(),
            "layers": list(self.network.sizes),
            "train_samples": int(len(data.labels_train)),
            "test_samples": int(len(data.labels_test)),
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "epochs": settings.epochs,
            "seconds": round(self.seconds, 3),
            "batch_size": settings.batch_size,
            "learning_rate": settings.learning_rate,
            "l2": settings.l2,
            "seed": settings.seed,
            "history": self.history.as_dict(),
        }


# Copied into the standalone program -------------------------------------------------------------
def initial_parameters(sizes, bias, rng):
    """Glorot/Xavier-uniform weights: w_jk^(l) ~ U(-r, r) with r = sqrt(6 / (n^(l-1) + n^(l))), so that
    every layer's z starts with about the same spread; biases start at 0 (None without biases)."""
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        r = numpy.sqrt(6.0 / (n_in + n_out))
        weights.append(rng.uniform(-r, r, size=(n_out, n_in)))
    biases = [numpy.zeros(n_out) for n_out in sizes[1:]] if bias else None
    return weights, biases


def targets(labels, outputs):
    """The targets y: one-hot rows (output node j is 1 for class j), or, with a single output node,
    the label itself (0 or 1)."""
    if outputs == 1:
        return labels.reshape(-1, 1).astype(float)
    return numpy.eye(outputs)[labels]


def predict(A):
    """The predicted classes from the output activations A (a row per sample): the node with the
    largest activation, or, with a single output node, class 1 when its activation is at least 1/2."""
    if A.shape[1] == 1:
        return (A[:, 0] >= 0.5).astype(int)
    return numpy.argmax(A, axis=1)


def accuracy(forward, weights, biases, X, labels):
    """The share of samples whose predicted class is their label."""
    A = forward(weights, biases, X)[-1]
    return float(numpy.mean(predict(A) == labels))


def regularised_cost(cost, weights, biases, X, Y, l2, n):
    """The training loss: the mean cost plus the L2 term (lambda / 2n) times the sum of the squared weights."""
    penalty = l2 / (2 * n) * sum(float(numpy.sum(W * W)) for W in weights) if l2 else 0.0
    return float(cost(weights, biases, X, Y)) + penalty


def sgd_update(weights, biases, grad_w, grad_b, learning_rate, l2, n):
    """One step of gradient descent, in place: w <- (1 - eta lambda / n) w - eta dC/dw, b <- b - eta dC/db.

    The factor (1 - eta lambda / n) is weight decay: the gradient of the L2 term (lambda / 2n) sum w^2.
    Biases are not regularised."""
    decay = 1.0 - learning_rate * l2 / n
    for W, G in zip(weights, grad_w):
        if decay != 1.0:
            W *= decay
        W -= learning_rate * G
    if biases is not None:
        for b, g in zip(biases, grad_b):
            b -= learning_rate * g


def run_epoch(gradient, weights, biases, X, Y, batch_size, learning_rate, l2, rng):
    """One pass over the training set: shuffled, cut into mini-batches, one update per batch."""
    n = X.shape[0]
    order = rng.permutation(n)
    X, Y = X[order], Y[order]
    for start in range(0, n, batch_size):
        grad_w, grad_b = gradient(
            weights, biases, X[start : start + batch_size], Y[start : start + batch_size]
        )
        sgd_update(weights, biases, grad_w, grad_b, learning_rate, l2, n)


# The whole run ----------------------------------------------------------------------------------
def check_fits(net, features: int, classes: int, name: str) -> None:
    """The network takes the data's features and has one output node per class (or one for two)."""
    sizes = list(net.sizes)
    if sizes[0] != features:
        raise ParameterError(
            "the network takes {inputs} inputs, but {name} has {features} features; make the "
            "first layer {features} (e.g. {layers} {example})",
            inputs=sizes[0],
            name=name,
            features=features,
            example=" ".join(map(str, [features, *(sizes[1:-1] or [8]), classes])),
        )
    outputs = sizes[-1]
    if outputs == 1 and classes != 2:
        raise DeriveError(
            f"one output node tells two classes apart, but {name} has {classes}; give the "
            f"output layer {classes} nodes"
        )
    if outputs not in (1, classes):
        raise DeriveError(
            f"the output layer has {outputs} nodes, but {name} has {classes} classes; give it "
            f"{classes} nodes (one per class)"
        )
    parameters = weight_count(sizes)
    if parameters > MAX_PARAMETERS:
        raise DeriveError(
            f"the network has {parameters:,} weights; derive train takes at most {MAX_PARAMETERS:,}"
        )


def weight_count(sizes) -> int:
    """Weights and biases of a network with these layer sizes."""
    return sum(sizes[l] * sizes[l - 1] + sizes[l] for l in range(1, len(sizes)))


def check_work(net, rows: int, settings: Settings) -> None:
    """A one-line DeriveError when the run would take more than MAX_STEPS gradient steps or MAX_WORK."""
    batch = min(settings.batch_size, rows)
    steps = settings.epochs * -(-rows // batch)
    if steps > MAX_STEPS:
        raise ParameterError(
            "{epochs} {value:,} on {rows:,} training samples in batches of {batch:,} is {steps:,} "
            "gradient steps; derive train takes at most {most:,} (about 6 minutes): lower {epochs} "
            "or raise {batch_size}",
            value=settings.epochs,
            rows=rows,
            batch=batch,
            steps=steps,
            most=MAX_STEPS,
        )
    weights = weight_count(net.sizes)
    work = settings.epochs * rows * weights
    if work > MAX_WORK:
        raise ParameterError(
            "{epochs} {value:,} on {rows:,} training samples with {weights:,} weights is "
            "{work:.1e} weight-sample products; derive train takes at most {most:.0e} (about 6 "
            "minutes): lower {epochs} or use a smaller network",
            value=settings.epochs,
            rows=rows,
            weights=weights,
            work=work,
            most=MAX_WORK,
        )


def train(
    net,
    data: Dataset,
    settings: Settings = Settings(),
    on_epoch: Callable[[Epoch], None] | None = None,
) -> Trained:
    """Train ``net`` on ``data`` with mini-batch SGD; ``on_epoch`` hears about every finished epoch.

    The same seed gives the same weights, history and accuracies (the epochs' times aside).
    """
    settings.checked()
    check_fits(net, data.features, data.n_classes, data.name)
    check_work(net, data.X_train.shape[0], settings)
    numeric = net.numeric()
    _, rng = random_generators(settings.seed)
    weights, biases = initial_parameters(list(net.sizes), net.bias, rng)
    outputs = net.sizes[-1]
    Y_train, Y_test = targets(data.labels_train, outputs), targets(data.labels_test, outputs)
    n = data.X_train.shape[0]
    batch = min(settings.batch_size, n)
    history = History()
    start = time.perf_counter()
    with _one_blas_thread():
        for number in range(1, settings.epochs + 1):
            with numpy.errstate(all="ignore"):
                began = time.perf_counter()
                run_epoch(
                    numeric.gradient,
                    weights,
                    biases,
                    data.X_train,
                    Y_train,
                    batch,
                    settings.learning_rate,
                    settings.l2,
                    rng,
                )
                seconds = time.perf_counter() - began
                loss = regularised_cost(
                    numeric.cost, weights, biases, data.X_train, Y_train, settings.l2, n
                )
                test_loss = float(numeric.cost(weights, biases, data.X_test, Y_test))
                train_accuracy = accuracy(
                    numeric.forward, weights, biases, data.X_train, data.labels_train
                )
                test_accuracy = accuracy(
                    numeric.forward, weights, biases, data.X_test, data.labels_test
                )
            if not (math.isfinite(loss) and all(numpy.isfinite(W).all() for W in weights)):
                raise DeriveError(
                    f"training diverged in epoch {number}: the loss is {loss}; use a smaller learning "
                    f"rate (now {settings.learning_rate:g})"
                )
            for values, value in (
                (history.loss, loss),
                (history.test_loss, test_loss),
                (history.train_accuracy, train_accuracy),
                (history.test_accuracy, test_accuracy),
                (history.seconds, seconds),
            ):
                values.append(value)
            if on_epoch is not None:
                on_epoch(
                    Epoch(
                        number,
                        settings.epochs,
                        loss,
                        test_loss,
                        train_accuracy,
                        test_accuracy,
                        seconds,
                    )
                )
    return Trained(net, data, settings, weights, biases, history, time.perf_counter() - start)


def _one_blas_thread():
    """BLAS on one thread while training: the layers are small, and BLAS's worker threads cost more than
    they bring (on a busy 2-core machine a 1346 x 64 by 64 x 32 product took 4.4 ms on two threads and
    0.6 ms on one). threadpoolctl comes with scikit-learn; without it nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
