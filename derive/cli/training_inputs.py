"""The options of train and code --train: the settings and the network to train."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from derive.cli import inputs
from derive.cli.options import TRAINING_OPTIONS

if TYPE_CHECKING:
    from derive.read.spec_file import Spec
    from derive.training.defaults import Classifier
    from derive.training.loop import Settings


def data_name(args: argparse.Namespace) -> str:
    """--data, digits when not given (an empty --data is refused by the data set's checks)."""
    return args.data if args.data is not None else "digits"


def settings(args: argparse.Namespace, spec: "Spec | None") -> "Settings":
    """The training settings: the options given, the spec's l2, the defaults for the rest."""
    from derive.training import defaults
    from derive.training.loop import Settings

    given = {
        name: getattr(args, name)
        for name in TRAINING_OPTIONS[1:]
        if getattr(args, name) is not None
    }
    chosen = Settings(
        **{
            "epochs": defaults.epochs(data_name(args)),
            "batch_size": defaults.BATCH_SIZE,
            "learning_rate": defaults.LEARNING_RATE,
            "l2": _l2(args, spec),
            "seed": defaults.SEED,
            **given,
        }
    )
    return chosen.checked()


def _l2(args: argparse.Namespace, spec: "Spec | None") -> float:
    """The weight decay's lambda: --l2, else the spec's l2 (stdin's too), else the default (the loop applies
    it with n the size of the training set, so the network it trains is built without it)."""
    from derive.model.values import parse_l2
    from derive.training import defaults

    if getattr(args, "l2", None) is not None:
        return float(parse_l2(args.l2, "--l2") or 0)
    if spec is not None:
        return float(spec.l2 or 0)
    return defaults.L2


def classifier(
    args: argparse.Namespace, spec: "Spec | None", features: int, classes: int
) -> "Classifier":
    """The network to train: the SPEC, or --layers/--activation/--cost with the classifier's defaults for
    what is not given (derive.training.defaults)."""
    from derive.training.defaults import Classifier, classifier as default_classifier

    if (
        spec is not None
    ):  # the training loop applies L2 itself (weight decay): not in the gradient code too
        net = (
            dataclasses.replace(spec, l2=None).network() if spec.l2 is not None else spec.network()
        )
        return Classifier(net, spec.activation, spec.cost, spec.notation)
    return default_classifier(
        features,
        classes,
        layers=args.layers,
        activation=inputs.activation_option(args),
        cost=args.cost,
        bias=args.bias,
        notation=args.notation,
    )
