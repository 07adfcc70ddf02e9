"""What ``derive train`` uses when it is not told: the classifier network and the training settings.

The network for K classes and F features: [F, H, K] with H = F + K hidden nodes (at least 4, at most
32), sigmoid hidden nodes, and a softmax output with the log-likelihood cost (one output node for
two classes when asked for: a sigmoid with cross-entropy). Given activations without a cost, the
cost follows the output: log-likelihood on a softmax, cross-entropy on a sigmoid, else quadratic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from derive.model.network import Network


# The settings. Measured on digits with [64, 32, 10] (bench/train_speed.py): see the README.
EPOCHS = 30
XOR_EPOCHS = 500  # xor's four points make one mini-batch: one step per epoch; every seed 0..19 learns it by 200
BATCH_SIZE = 10
LEARNING_RATE = 1.0
L2 = 0.0
SEED = 0

MIN_HIDDEN, MAX_HIDDEN = 4, 32


def epochs(data: str) -> int:
    """The default number of epochs for ``data``."""
    return XOR_EPOCHS if data == "xor" else EPOCHS


def output_layer(outputs: int) -> tuple[str, str]:
    """(activation, cost) of the default output layer with ``outputs`` nodes."""
    if outputs >= 2:  # a class per output node: softmax and the log-likelihood
        return "softmax", "log-likelihood"
    return "sigmoid", "cross-entropy"


def hidden_nodes(features: int, classes: int) -> int:
    return max(MIN_HIDDEN, min(MAX_HIDDEN, features + classes))


def default_layers(features: int, classes: int) -> list[int]:
    return [features, hidden_nodes(features, classes), classes]


def cost_for(output) -> str:
    """The cost that goes with an output activation: log-likelihood on a softmax, cross-entropy on a
    sigmoid of any gain, the quadratic cost on anything else."""
    if output.name == "softmax":
        return "log-likelihood"
    if output.logistic_gain is not None:
        return "cross-entropy"
    return "quadratic"


@dataclass(frozen=True)
class Classifier:
    """A network for training, with the activation and cost exactly as given to it (for a spec file)."""

    network: Network
    activation: object  # a name, a list of names, or None (the notation's default)
    cost: str | None
    notation: str = "default"


def classifier(
    features: int,
    classes: int,
    layers=None,
    activation=None,
    cost=None,
    bias: bool = True,
    notation: str = "default",
) -> Classifier:
    """The network to train: the given layers, activations and cost, the defaults for what is missing."""
    from derive.model.network import Network

    if layers is None:
        layers = default_layers(features, classes)
    if activation is None:
        output, _ = output_layer(int(layers[-1]) if _is_int(layers[-1]) else classes)
        activation = ["sigmoid"] * (len(layers) - 2) + [output]
    if cost is None:
        from derive.model.activations import activation_named

        last = (
            activation
            if isinstance(activation, str) or not isinstance(activation, (list, tuple))
            else (activation[-1] if activation else None)
        )
        cost = cost_for(activation_named(last)) if last is not None else None
    net = Network(layers, activation=activation, cost=cost, bias=bias, notation=notation)
    return Classifier(net, activation, cost, notation)


def _is_int(value: object) -> bool:
    try:
        int(value)  # type: ignore[call-overload]  # asking is the point
    except (TypeError, ValueError):
        return False
    return True
