"""derive train: a classifier trained by mini-batch SGD on the network's generated gradient."""

from __future__ import annotations

import argparse
from pathlib import Path

from derive.cli import inputs, options, training_inputs
from derive.cli.output import note, paths, print_json, say

DESCRIPTION = (
    "Train a classifier on digits, iris, xor or a CSV file with mini-batch stochastic gradient descent "
    "on the network's generated gradient; write OUT/curves.png (loss and accuracy per epoch), "
    "OUT/weights.json and OUT/network.toml (a spec with the trained weights), and print the training "
    "and test accuracy. Without a SPEC or --layers the network is [features, hidden, classes], sigmoid "
    "then softmax, log-likelihood cost, with biases. Needs scikit-learn (digits, iris) and matplotlib: "
    "pip install 'derive[train]'."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.spec(parser, "network spec file, or - for standard input (its [values] are not used)")
    options.network(parser, required=False)
    parser.set_defaults(bias=True)
    options.training(parser)
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="the output directory, replaced as a whole (default: train-DATA)",
    )
    options.output(
        parser,
        'print {"train_accuracy", "test_accuracy", "epochs", "seconds", "history", "files", ...}',
        "no progress bar, no epoch table and no 'wrote' line: only the accuracies",
    )


def run(args: argparse.Namespace) -> int:
    from derive.read.paths import check_path_text
    from derive.render.terminal import progress_bar
    from derive.training import datasets, extras, loop, outputs
    from derive.training.plot import curves_png

    spec = inputs.read_spec(args)
    settings = training_inputs.settings(args, spec)
    data_name = training_inputs.data_name(args)
    datasets.check_source(data_name)
    extras.require(data_name)
    out_text = args.out if args.out is not None else outputs.default_out_dir(data_name)
    check_path_text(out_text, "--out")
    out_dir = Path(out_text)
    outputs.check_out_dir(out_dir)
    data = datasets.load(data_name, settings.seed)
    chosen = training_inputs.classifier(args, spec, data.features, data.n_classes)
    net = chosen.network
    loop.check_fits(net, data.features, data.n_classes, data.name)
    say(args, data.describe())
    say(
        args,
        f"network {net.describe()}; {settings.epochs} epochs, batch size {settings.batch_size}, "
        f"learning rate {settings.learning_rate:g}, L2 {settings.l2:g}, seed {settings.seed}",
    )
    with progress_bar(
        settings.epochs, "training", enabled=not (args.quiet or args.json)
    ) as advance:
        trained = loop.train(
            net,
            data,
            settings,
            on_epoch=lambda epoch: advance(
                f"loss {epoch.loss:.4f}, test accuracy {100 * epoch.test_accuracy:.1f} %"
            ),
        )
    png = curves_png(
        trained.history,
        f"{data.name}: {net.describe()}",
        held_out=data.held_out,
        l2=settings.l2 > 0,
    )
    files, written_note = outputs.write(out_dir, trained, chosen, png)
    if args.json:
        print_json({**trained.as_dict(), "files": paths(files), "note": written_note})
    else:
        _print_table(args, trained)
        say(args, "wrote " + ", ".join(str(path) for path in files))
    note(written_note)
    return 0


def _print_table(args: argparse.Namespace, trained) -> None:
    """About ten epochs' loss and accuracies, then the final accuracies (printed even with --quiet)."""
    settings, history = trained.settings, trained.history
    shown = sorted(
        {1, settings.epochs, *range(0, settings.epochs + 1, max(1, settings.epochs // 10))} - {0}
    )
    for number in shown:
        say(
            args,
            f"epoch {number:{len(str(settings.epochs))}d}   loss {history.loss[number - 1]:.4f}   "
            f"train {100 * history.train_accuracy[number - 1]:5.1f} %   "
            f"test {100 * history.test_accuracy[number - 1]:5.1f} %",
        )
    print(
        f"train accuracy {100 * trained.train_accuracy:.1f} %, test accuracy "
        f"{100 * trained.test_accuracy:.1f} % ({settings.epochs} epochs in {trained.seconds:.2f} s)"
    )
