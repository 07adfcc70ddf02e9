"""Option groups several commands share, and the limits they state in their help."""

from __future__ import annotations

import argparse

# Requests that cannot finish in reasonable time are refused unless --force (times measured on the
# project machine, 2 cores; see the README's "Command line" section).
CHECK_LIMIT = 800  # steps --check: weights x weight layers; 768 ([16,16,8]) took 18-34 s, 1,536 ([16,32,8]) 103 s
MAX_VERSIONS = 200  # homework --count
MAX_QUESTIONS = 40  # homework --questions
MAX_JOBS = 256  # --jobs: processes at once

TRAINING_OPTIONS = ("data", "epochs", "batch_size", "learning_rate", "seed")

# The library's parameters as the command line spells them: a ParameterError from the library
# ("epochs must be ...") reaches the user as "--epochs must be ...".
OPTION_NAMES = {
    name: "--" + name.replace("_", "-")
    for name in (*TRAINING_OPTIONS, "l2", "layers", "out", "jobs", "count", "graph")
}


def network(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--layers, --activation, --cost, --bias, --l2, --notation: a network without a spec file."""
    from derive.notation.letters import PRESETS  # loaded with the package anyway

    parser.add_argument(
        "--layers",
        nargs="+",
        required=required,
        metavar="N",
        help="layer sizes, input first, e.g. --layers 2 3 1 (or 2,3,1)",
    )
    parser.add_argument(
        "--activation",
        nargs="+",
        default=None,
        metavar="NAME",
        help="one activation for every layer or one per weight layer: sigmoid, tanh, relu, "
        "leaky-relu, softplus, identity, elu, silu (swish), gelu, softmax (output layer); "
        "parameters as sigmoid(gain=2); or a definition such as 'g(z) = z\\sigma(z)'",
    )
    parser.add_argument(
        "--cost",
        default=None,
        help="quadratic (default), half-quadratic, cross-entropy, "
        "log-likelihood (alias categorical-cross-entropy)",
    )
    parser.add_argument(
        "--bias", action=argparse.BooleanOptionalAction, default=False, help="include biases"
    )
    l2(parser)
    parser.add_argument(
        "--notation",
        default="default",
        choices=sorted(PRESETS),
        help="notation preset: default; nielsen (w^l_jk, the summary labelled BP1-BP4); "
        "deeplizard (layers (L), (L-1) from the output, sums to n-1, g^(L))",
    )


def spec(parser: argparse.ArgumentParser, what: str) -> None:
    """The optional SPEC positional: a spec file, or - for standard input."""
    parser.add_argument("spec", nargs="?", default=None, metavar="SPEC", help=what)


def numbers_spec(parser: argparse.ArgumentParser) -> None:
    """grad and check: a SPEC with [values] (required), --l2, and --force for old scripts."""
    parser.add_argument(
        "spec", metavar="SPEC", help="spec file with [values], or - for standard input"
    )
    l2(parser)
    force(parser, None)


def typeset(parser: argparse.ArgumentParser) -> None:
    """sheet and slides: --tex-only, --graph, --force, and --json/--quiet about the files written."""
    tex_only(parser)
    graph(parser)
    force(parser, None)
    output(parser, 'print {"files": [...], "note": ...}', "no progress and no 'wrote' lines")


def output(parser: argparse.ArgumentParser, json_help: str, quiet_help: str) -> None:
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet_help)


def learning_rate(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--learning-rate",
        default=None,
        metavar="ETA",
        help=f"the learning rate eta (overrides values.learning_rate in the spec): {what}",
    )


def document(
    parser: argparse.ArgumentParser, what: str, suffix: str, learning_rate_help: str
) -> None:
    """The options sheet, slides and html share: a SPEC or the network options, where to write, a title."""
    spec(parser, "network spec file (.toml or .json), or - for standard input")
    network(parser, required=False)
    parser.add_argument(
        "--out",
        default=None,
        metavar="NAME",
        help=f"file name without extension{suffix} (default: derived from the network)",
    )
    parser.add_argument(
        "--out-dir", default="outputs", metavar="DIR", help="where to write (default: outputs)"
    )
    parser.add_argument(
        "--title", default=None, help=f"{what}'s title (any script: Greek, CJK, emoji, ...)"
    )
    learning_rate(parser, learning_rate_help)
    no_check(parser, what)


def no_check(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--no-check",
        action="store_true",
        help=f"do not check the steps before writing the {what} (by default every step is checked "
        "against SymPy on a narrow network of the same depth, activations and cost: about a "
        "second for [2, 3, 1], ten for six layers)",
    )


def tex_only(
    parser: argparse.ArgumentParser, help: str = "write the .tex only, do not run TeX"
) -> None:
    parser.add_argument("--tex-only", action="store_true", help=help)


def graph(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--graph",
        action="store_true",
        help="add the computational graph of the worked example (needs a spec with [values]; "
        "networks of up to 12 operations)",
    )


def l2(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--l2",
        default=None,
        metavar="LAMBDA",
        help="L2 regularisation: C = (1/n) sum_x C_x + (LAMBDA/2n) sum w^2 (overrides l2 in a spec)",
    )


def training(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """--data, --epochs, --batch-size, --learning-rate, --seed (train, and code --train); --l2 comes with the
    network options, and training applies it as weight decay over the training set (n its size)."""
    from derive.training import defaults  # plain data: loads no NumPy

    parser.add_argument(
        "--data",
        default=None,
        metavar="DATA",
        help=f"{prefix}digits (default), iris, xor (scikit-learn's bundled copies, no download), or "
        "FILE.csv (a header row; the last column is the class label)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help=f"{prefix}passes over the training set (default {defaults.EPOCHS}; "
        f"xor {defaults.XOR_EPOCHS})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help=f"{prefix}samples per gradient step (default {defaults.BATCH_SIZE})",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        metavar="ETA",
        help=f"{prefix}the learning rate eta (default {defaults.LEARNING_RATE:g})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"{prefix}draws the 25 %% test split, the initial weights and the mini-batches "
        f"(default {defaults.SEED})",
    )


def force(parser: argparse.ArgumentParser, what: str | None) -> None:
    """--force: run a request refused as too long. Every depth the spec format allows (64 weight
    layers) now derives in seconds; commands that no longer refuse anything keep the option, so
    that scripts using it still run."""
    parser.add_argument(
        "--force",
        action="store_true",
        help=f"run even when {what}" if what else "accepted; nothing this command does needs it",
    )


def jobs(parser: argparse.ArgumentParser, help: str, metavar: str | None = None) -> None:
    parser.add_argument("--jobs", type=int, default=None, metavar=metavar, help=help)
