"""The `derive` command: a thin layer over the library.

Exit status: 0 success (a correct answer), 1 a verdict against the input (a wrong answer, a
failed check), 2 bad input or usage (one line on stderr), 3 an internal error (one line,
"please report"), 141 when the reader of the output went away (``derive steps | head``: quietly,
like any program killed by SIGPIPE), 130 on Ctrl-C.
Each command imports what it needs when it runs, so that `derive --help` and `derive
check-answer` load neither NumPy nor Jinja2, rich or the sheet renderer.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from derive import __version__
from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.model.network import Network

# Requests that cannot finish in reasonable time are refused unless --force (times measured on the
# project machine, 2 cores; see the README's "Command line" section).
CHECK_LIMIT = 800  # steps --check: weights x weight layers; 768 ([16,16,8]) took 18-34 s, 1,536 ([16,32,8]) 103 s
MAX_VERSIONS = 200  # homework --count
MAX_QUESTIONS = 40  # homework --questions
MAX_JOBS = 256  # --jobs: processes at once
KEY_MAX_BYTES = 10_000_000
KEY_MAX_WEIGHT_LAYERS = 6  # a key's question network (the generator draws 1 or 2 weight layers)
KEY_MAX_NODES = 32  # nodes per layer of a key's question network (the generator draws at most 4)
NAME_MAX_BYTES = 200  # one path component we create; the file system allows 255, temporary names add some


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {_shorten(message)} (see '{self.prog} --help')\n")


# Options shared by several commands -----------------------------------------------------------
def _network_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    from derive.notation.letters import PRESETS  # loaded with the package anyway

    parser.add_argument("--layers", nargs="+", required=required, metavar="N",
                        help="layer sizes, input first, e.g. --layers 2 3 1 (or 2,3,1)")
    parser.add_argument("--activation", nargs="+", default=None, metavar="NAME",
                        help="one activation for every layer or one per weight layer: sigmoid, tanh, relu, "
                             "leaky-relu, softplus, identity, elu, silu (swish), gelu, softmax (output layer); "
                             "parameters as sigmoid(gain=2); or a definition such as 'g(z) = z\\sigma(z)'")
    parser.add_argument("--cost", default=None, help="quadratic (default), half-quadratic, cross-entropy, "
                        "log-likelihood (alias categorical-cross-entropy)")
    parser.add_argument("--bias", action=argparse.BooleanOptionalAction, default=False, help="include biases")
    _l2_option(parser)
    parser.add_argument("--notation", default="default", choices=sorted(PRESETS),
                        help="notation preset: default; nielsen (w^l_jk, the summary labelled BP1-BP4); "
                             "deeplizard (layers (L), (L-1) from the output, sums to n-1, g^(L))")


def _output_options(parser: argparse.ArgumentParser, json_help: str, quiet_help: str) -> None:
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet_help)


def _learning_rate_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--learning-rate", default=None, metavar="ETA",
                        help=f"the learning rate eta (overrides values.learning_rate in the spec): {what}")


def _document_options(parser: argparse.ArgumentParser, what: str, suffix: str, learning_rate: str) -> None:
    """The options sheet, slides and html share: a SPEC or the network options, where to write, a title."""
    parser.add_argument("spec", nargs="?", default=None, metavar="SPEC",
                        help="network spec file (.toml or .json), or - for standard input")
    _network_options(parser, required=False)
    parser.add_argument("--out", default=None, metavar="NAME", help=f"file name without extension{suffix} "
                                                                     "(default: derived from the network)")
    parser.add_argument("--out-dir", default="outputs", metavar="DIR", help="where to write (default: outputs)")
    parser.add_argument("--title", default=None, help=f"{what}'s title (any script: Greek, CJK, emoji, ...)")
    _learning_rate_option(parser, learning_rate)
    _no_check_option(parser, what)


def _no_check_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--no-check", action="store_true",
                        help=f"do not check the steps before writing the {what} (by default every step is checked "
                             "against SymPy on a narrow network of the same depth, activations and cost: about a "
                             "second for [2, 3, 1], ten for six layers)")


def _graph_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--graph", action="store_true",
                        help="add the computational graph of the worked example (needs a spec with [values]; "
                             "networks of up to 12 operations)")


def _l2_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--l2", default=None, metavar="LAMBDA",
                        help="L2 regularisation: C = (1/n) sum_x C_x + (LAMBDA/2n) sum w^2 (overrides l2 in a spec)")


def _with_l2(spec, text: str | None):
    """The spec with --l2 in place of its own l2 (when given)."""
    import dataclasses

    from derive.model.values import parse_l2

    return spec if text is None else dataclasses.replace(spec, l2=parse_l2(text, "--l2"))


def _training_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """--data, --epochs, --batch-size, --learning-rate, --seed (train, and code --train); --l2 comes with the
    network options, and training applies it as weight decay over the training set (n its size)."""
    from derive.training import defaults  # plain data: loads no NumPy

    parser.add_argument("--data", default=None, metavar="DATA",
                        help=f"{prefix}digits (default), iris, xor (scikit-learn's bundled copies, no download), or "
                             "FILE.csv (a header row; the last column is the class label)")
    parser.add_argument("--epochs", type=int, default=None, metavar="N",
                        help=f"{prefix}passes over the training set (default {defaults.EPOCHS}; "
                             f"xor {defaults.XOR_EPOCHS})")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help=f"{prefix}samples per gradient step (default {defaults.BATCH_SIZE})")
    parser.add_argument("--learning-rate", type=float, default=None, metavar="ETA",
                        help=f"{prefix}the learning rate eta (default {defaults.LEARNING_RATE:g})")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"{prefix}draws the 25 %% test split, the initial weights and the mini-batches "
                             f"(default {defaults.SEED})")


TRAINING_OPTIONS = ("data", "epochs", "batch_size", "learning_rate", "seed")


def _training_settings(args: argparse.Namespace):
    from derive.training import defaults
    from derive.training.loop import Settings

    given = {name: getattr(args, name) for name in TRAINING_OPTIONS[1:] if getattr(args, name) is not None}
    settings = Settings(**{"epochs": defaults.epochs(_data(args)), "batch_size": defaults.BATCH_SIZE,
                           "learning_rate": defaults.LEARNING_RATE, "l2": _training_l2(args), "seed": defaults.SEED,
                           **given})
    return settings.checked()


def _training_l2(args: argparse.Namespace) -> float:
    """The weight decay's lambda: --l2, else a spec's l2, else the default (the loop applies it with n the
    size of the training set, so the network it trains is built without it)."""
    from derive.model.values import parse_l2
    from derive.read.spec_file import load_spec
    from derive.training import defaults

    if getattr(args, "l2", None) is not None:
        return float(parse_l2(args.l2, "--l2") or 0)
    if getattr(args, "spec", None) is not None and args.spec != "-":
        return float(load_spec(args.spec).l2 or 0)
    return defaults.L2


def _data(args: argparse.Namespace) -> str:
    """--data, digits when not given (an empty --data is refused by the data set's checks)."""
    return args.data if args.data is not None else "digits"


def _classifier(args: argparse.Namespace, features: int, classes: int):
    """The network to train: a SPEC file, or --layers/--activation/--cost with the classifier's defaults
    for what is not given (derive.training.defaults)."""
    from derive.training.defaults import Classifier, classifier

    if args.spec is not None:
        net, spec = _network_from_spec_or_options(args)
        if net.l2 is not None:  # the training loop applies L2 itself (weight decay): not in the gradient code too
            import dataclasses

            net = dataclasses.replace(spec, l2=None).network()
        return Classifier(net, spec.activation, spec.cost, spec.notation)
    activation = args.activation if args.activation is None or len(args.activation) > 1 else args.activation[0]
    return classifier(features, classes, layers=args.layers, activation=activation, cost=args.cost, bias=args.bias,
                      notation=args.notation)


def _force_option(parser: argparse.ArgumentParser, what: str | None) -> None:
    """--force: run a request refused as too long. Every depth the spec format allows (64 weight
    layers) now derives in seconds; commands that no longer refuse anything keep the option, so
    that scripts using it still run."""
    parser.add_argument("--force", action="store_true",
                        help=f"run even when {what}" if what else "accepted; nothing this command does needs it")


def network_from(args: argparse.Namespace) -> "Network":
    from derive.model.network import Network

    activation = args.activation if args.activation is None or len(args.activation) > 1 else args.activation[0]
    from derive.model.values import parse_l2

    layers = args.layers
    if len(layers) == 1 and "," in layers[0]:  # one list, 2,3,1 (a mix such as 2 3,1 is refused as before)
        layers = [size.strip() for size in layers[0].split(",")]
    return Network(layers, activation=activation, cost=args.cost, bias=args.bias, notation=args.notation,
                   l2=parse_l2(getattr(args, "l2", None), "--l2"))


def _network_from_spec_or_options(args: argparse.Namespace) -> tuple["Network", Any]:
    from derive.read.spec_file import load_spec

    if getattr(args, "spec", None) is not None:
        given = [f"--{name}" for name in ("layers", "activation", "cost") if getattr(args, name, None) is not None]
        if given:
            raise DeriveError(f"give either a SPEC file or {', '.join(given)}, not both")
        spec = _with_l2(load_spec(args.spec), getattr(args, "l2", None))
        return spec.network(), spec
    if args.layers is None:
        raise DeriveError(f"give a SPEC file (or - for standard input) or --layers "
                          f"(e.g. derive {args.command} --layers 2 3 1)")
    return network_from(args), None


def _say(args: argparse.Namespace, text: str, file=None) -> None:
    """A line of output for people: silent with --quiet or --json (the JSON is the output then)."""
    if not (getattr(args, "quiet", False) or getattr(args, "json", False)):
        print(text, file=file or sys.stdout)


def _print_json(data: object) -> None:
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8: escaped, so the JSON stays valid UTF-8
        text = json.dumps(data)
    print(text)


def _paths(paths) -> list[str]:
    return [str(p) for p in paths if p is not None]


# Paths the user names for output ---------------------------------------------------------------
def _check_path_text(text: str, option: str) -> None:
    from derive.read.spec_file import shown_path

    if text == "":
        raise DeriveError(f"{option} is empty; give a path")
    if "\x00" in text:
        raise DeriveError(f"{option} {shown_path(text)!r} contains a NUL character")
    raw = os.fsencode(text)
    if len(raw) > 4000:
        raise DeriveError(f"{option} is {len(raw)} bytes long; paths are limited to 4096 bytes on Linux")
    for part in Path(text).parts:
        if len(os.fsencode(part)) > NAME_MAX_BYTES:
            raise DeriveError(f"{option}: the name {shown_path(part)!r} is {len(os.fsencode(part))} bytes long; "
                              f"file systems allow 255 and derive needs room for temporary names: use at most "
                              f"{NAME_MAX_BYTES}")


def _first_existing(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return None


def _output_dir(text: str, option: str) -> Path:
    """A directory to write in: created when missing; one line when it is a file or not writable."""
    from derive.read.spec_file import shown_path, describe_os_error

    _check_path_text(text, option)
    path = Path(text)
    existing = _first_existing(path.absolute())
    if existing is not None and not existing.is_dir():
        if existing == path.absolute():
            raise DeriveError(f"{option} {shown_path(text)} is a file, not a directory")
        raise DeriveError(f"{option} {shown_path(text)}: {shown_path(existing)} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeriveError(f"cannot create {option} {shown_path(text)}: {describe_os_error(error)}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DeriveError(f"cannot write in {option} {shown_path(text)}: permission denied")
    return path


def _output_file(text: str, option: str) -> Path:
    """A file to write: not a directory, in a directory that exists or can be made."""
    from derive.read.spec_file import shown_path

    _check_path_text(text, option)
    path = Path(text)
    if path.is_dir():
        raise DeriveError(f"{option} {shown_path(text)} is a directory; give a file name, e.g. "
                          f"{shown_path(path / 'out')}")
    if text.endswith(os.sep):
        raise DeriveError(f"{option} {shown_path(text)} ends with '/'; give a file name")
    _output_dir(str(path.parent), option)
    return path


def _input_file(text: str, what: str) -> Path:
    """A file to read: it exists and is a regular file, not a directory or a device."""
    from derive.read.spec_file import check_regular_file

    _check_path_text(text, what)
    return check_regular_file(text, what)


def _title(text: str | None, option: str = "--title") -> str | None:
    from derive.read.spec_file import check_text

    return None if text is None else check_text(text, option)


def _count(value: int | None, option: str, low: int, high: int | None, force: bool = False,
           why: str = "") -> None:
    if value is None:
        return
    if value < low:
        raise DeriveError(f"{option} must be at least {low}, not {value}")
    if high is not None and value > high and not force:
        raise DeriveError(f"{option} {value} is more than {high}{why}")


# Commands ---------------------------------------------------------------------------------------
def _cmd_steps(args: argparse.Namespace) -> int:
    from derive.render.terminal import render_steps, steps_data

    net = network_from(args)
    if args.check:
        _check_check_size(net, args)
    derivation = net.derivation()
    layer = args.layer
    if layer is not None:
        derivation.steps(layer)  # validates the layer number
    if not args.json:
        print(render_steps(derivation, layer))
        sys.stdout.flush()
    result = 0
    data = steps_data(derivation, layer) if args.json else None
    if args.check:
        failures, count = _check_steps_with_progress(net, derivation, quiet=args.quiet or args.json)
        if args.json:
            data["check"] = {"passed": not failures, "steps": count, "failures": [str(f) for f in failures]}
        elif failures:
            for failure in failures:
                print(f"FAILED {failure}")
        else:
            print(f"\nchecked: all {count} steps agree with SymPy's own derivatives at random points")
        result = 1 if failures else 0
    if args.json:
        _print_json(data)
    if result:
        print(f"derive: check failed: {len(failures)} step(s) disagree with SymPy", file=sys.stderr)
    return result


def check_size(net: "Network") -> tuple[int, int]:
    """(weights, weights x weight layers): what `steps --check` costs grows with the second."""
    weights = sum(net.size(layer) * net.size(layer - 1) for layer in range(1, net.L + 1))
    return weights, weights * net.L


def _check_check_size(net: "Network", args: argparse.Namespace) -> None:
    weights, size = check_size(net)
    if size > CHECK_LIMIT and not args.force:
        narrow = " ".join(["2"] * (net.L + 1))
        raise DeriveError(
            f"--check expands the network symbolically, and {list(net.sizes)} is too big for that: {weights:,} "
            f"weights x {net.L} weight layers = {size:,}, the limit is {CHECK_LIMIT} (about half a minute; time grows "
            f"with it); the steps are in index form, so check a narrow network of the same depth "
            f"(--layers {narrow}) or add --force to wait")


def _check_steps_with_progress(net: "Network", derivation, quiet: bool) -> tuple[list, int]:
    """expansion.check_steps, one step at a time, with a progress bar on a terminal."""
    from derive.checks.steps import checked_steps, count_checked
    from derive.render.terminal import progress_bar

    with progress_bar(count_checked(net), "checking steps", enabled=not quiet) as advance:
        report = checked_steps(net, progress=lambda done, total: advance())
    return list(report.failures), report.steps


def _document_inputs(args: argparse.Namespace) -> tuple["Network", str | None, Any, Path]:
    """What sheet, slides and html share: the network, the title, the values (with --learning-rate)
    and the output directory, every problem a one-line error before any work."""
    from derive.documents.sheet import check_name

    net, spec = _network_from_spec_or_options(args)
    title = _title(args.title) or (spec.title if spec is not None else None)
    values = _with_learning_rate(spec.values if spec is not None else None, args.learning_rate)
    if args.out is not None:
        check_name(args.out)
    if values is not None:  # a symbol named like the notation's letters: refused before the directory is made
        from derive.numeric.worked import check_symbol_names

        check_symbol_names(net, values)
    if getattr(args, "graph", False):  # no numbers, too big, or a symbol named like a node: the same
        from derive.documents.sheet import graph_of

        graph_of(net, values)
    return net, title, values, _output_dir(args.out_dir, "--out-dir")


def _report_typeset(args: argparse.Namespace, files) -> int:
    """The .tex and .pdf written (or the JSON of them), and TeX's note on stderr."""
    written = [files.tex, files.pdf]
    if args.json:
        _print_json({"files": _paths(written), "note": files.note})
    else:
        for path in written:
            if path is not None:
                _say(args, f"wrote {str(path)}")
    if files.note:
        print(f"derive: note: {files.note}", file=sys.stderr)
    return 0


def _cmd_sheet(args: argparse.Namespace) -> int:
    from derive.documents.sheet import write_sheet
    from derive.render.terminal import status

    net, title, values, out_dir = _document_inputs(args)
    templates = _templates(args.templates)
    with status("writing the sheet", enabled=not (args.quiet or args.json)) as update:
        files = write_sheet(net, out_dir, name=args.out, title=title, values=values,
                            templates=templates, tex_only=args.tex_only, progress=update, graph=args.graph,
                            check=not args.no_check)
    return _report_typeset(args, files)


def _cmd_slides(args: argparse.Namespace) -> int:
    from derive.documents.slides import write_slides
    from derive.render.terminal import status

    net, title, values, out_dir = _document_inputs(args)
    with status("writing the slides", enabled=not (args.quiet or args.json)) as update:
        files = write_slides(net, out_dir, name=args.out, title=title, values=values, tex_only=args.tex_only,
                             notes=args.notes, progress=update, graph=args.graph, check=not args.no_check)
    return _report_typeset(args, files)


def _cmd_html(args: argparse.Namespace) -> int:
    from derive.documents.html import write_html
    from derive.render.terminal import status

    net, title, values, out_dir = _document_inputs(args)
    with status("writing the web page", enabled=not (args.quiet or args.json)):
        path = write_html(net, out_dir, name=args.out, title=title, values=values, graph=args.graph,
                          check=not args.no_check)
    if args.json:
        _print_json({"files": _paths([path]), "bytes": path.stat().st_size})
    else:
        _say(args, f"wrote {str(path)}")
    return 0


def _with_learning_rate(values, text: str | None):
    """The spec's values, with --learning-rate (when given) as their learning rate."""
    if text is None:
        return values
    if values is None:
        raise DeriveError("--learning-rate needs numbers to update: give a spec with [values] (x, y, weights)")
    import dataclasses
    from decimal import Decimal, InvalidOperation

    from derive.read.spec_file import learning_rate

    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise DeriveError(f"--learning-rate must be a number, got {text!r}") from None
    return dataclasses.replace(values, learning_rate=learning_rate(number, "--learning-rate", "command line"))


def _templates(text: str | None) -> Path | None:
    from derive.read.spec_file import shown_path

    if text is None:
        return None
    _check_path_text(text, "--templates")
    path = Path(text)
    if not path.exists():
        raise DeriveError(f"--templates {shown_path(text)}: no such directory")
    if not path.is_dir():
        raise DeriveError(f"--templates {shown_path(text)} is a file; give the directory that holds your *.tex.j2")
    return path


def _cmd_examples(args: argparse.Namespace) -> int:
    from derive.documents.html import write_html
    from derive.documents.sheet import example_specs, write_sheet
    from derive.documents.slides import write_slides
    from derive.read.spec_file import spec_from_text
    from derive.render.terminal import progress_bar

    out_dir = _output_dir(args.out_dir, "--out-dir")
    entries = example_specs()
    written, notes = [], []
    with progress_bar(len(entries), "writing the examples", enabled=not (args.quiet or args.json)) as advance:
        for entry in entries:
            spec = spec_from_text(entry.read_text(encoding="utf-8"), entry.name)
            name, net = entry.name.rsplit(".", 1)[0], spec.network()
            for write in (write_sheet, write_slides):  # the sheet, and the same derivation as a deck
                files = write(net, out_dir, name=name, title=spec.title, values=spec.values, tex_only=args.tex_only)
                written += [files.tex, files.pdf]
                if files.note:
                    notes.append(files.note)
                _say(args, f"wrote {str(files.tex)}" + (f" and {str(files.pdf)}" if files.pdf else ""))
            page = write_html(net, out_dir, name=name, title=spec.title, values=spec.values)
            written.append(page)
            _say(args, f"wrote {str(page)}")
            advance()
    if args.json:
        _print_json({"files": _paths(written), "note": notes[0] if notes else None})
    if notes:  # the examples are PDFs: without TeX the command did not do its job
        raise DeriveError(f"{notes[0]} (the .tex files were written)")
    return 0


def _cmd_code(args: argparse.Namespace) -> int:
    from derive.numeric.codegen import generate_source
    from derive.documents.files import write_atomic

    out = _output_file(args.out, "--out") if args.out is not None else None
    if args.bias is None:  # biases by default in the training program (as in derive train), else none
        args.bias = args.train
    if args.train:
        source = _training_program(args, out)
    else:
        given = [f"--{name.replace('_', '-')}" for name in TRAINING_OPTIONS if getattr(args, name) is not None]
        if given:
            raise DeriveError(f"{given[0]} is an option of the training program: add --train")
        net, _ = _network_from_spec_or_options(args)
        source = generate_source(net)
    if out is None:
        if args.json:
            _print_json({"source": source})
        else:
            print(source, end="")
        return 0
    write_atomic(out, source)
    if args.json:
        _print_json({"files": [str(out)]})
    else:
        _say(args, f"wrote {str(out)}")
    return 0


def _training_program(args: argparse.Namespace, out: Path | None) -> str:
    """derive code --train: the standalone classifier program (network code, data, training loop)."""
    from derive.training import datasets
    from derive.training.loop import check_fits
    from derive.training.program import program_source

    settings = _training_settings(args)
    data = _data(args)
    features, classes = datasets.shape(data)
    chosen = _classifier(args, features, classes)
    check_fits(chosen.network, features, classes, data)
    return program_source(chosen, data, settings, out.name if out is not None else "classifier.py")


def _cmd_train(args: argparse.Namespace) -> int:
    from derive.render.terminal import progress_bar
    from derive.training import datasets, extras, loop, outputs
    from derive.training.plot import curves_png

    settings = _training_settings(args)
    data_name = _data(args)
    datasets.check_source(data_name)
    extras.require(data_name)
    out_text = args.out if args.out is not None else outputs.default_out_dir(data_name)
    _check_path_text(out_text, "--out")
    out_dir = Path(out_text)
    outputs.check_out_dir(out_dir)
    data = datasets.load(data_name, settings.seed)
    chosen = _classifier(args, data.features, data.n_classes)
    net = chosen.network
    loop.check_fits(net, data.features, data.n_classes, data.name)
    quiet = args.quiet or args.json
    _say(args, data.describe())
    _say(args, f"network {net.describe()}; {settings.epochs} epochs, batch size {settings.batch_size}, "
               f"learning rate {settings.learning_rate:g}, L2 {settings.l2:g}, seed {settings.seed}")
    with progress_bar(settings.epochs, "training", enabled=not quiet) as advance:
        trained = loop.train(net, data, settings, on_epoch=lambda epoch: advance(
            f"loss {epoch.loss:.4f}, test accuracy {100 * epoch.test_accuracy:.1f} %"))
    png = curves_png(trained.history, f"{data.name}: {net.describe()}", held_out=data.held_out,
                     l2=settings.l2 > 0)
    files, note = outputs.write(out_dir, trained, chosen, png)
    history = trained.history
    if args.json:
        _print_json({"data": data.name, "network": net.describe(), "layers": list(net.sizes),
                     "train_samples": int(len(data.labels_train)), "test_samples": int(len(data.labels_test)),
                     "train_accuracy": trained.train_accuracy, "test_accuracy": trained.test_accuracy,
                     "epochs": settings.epochs, "seconds": round(trained.seconds, 3),
                     "batch_size": settings.batch_size, "learning_rate": settings.learning_rate, "l2": settings.l2,
                     "seed": settings.seed, "history": history.as_dict(), "files": _paths(files), "note": note})
    else:
        shown = sorted({1, settings.epochs, *range(0, settings.epochs + 1, max(1, settings.epochs // 10))} - {0})
        for number in shown:
            _say(args, f"epoch {number:{len(str(settings.epochs))}d}   loss {history.loss[number - 1]:.4f}   "
                       f"train {100 * history.train_accuracy[number - 1]:5.1f} %   "
                       f"test {100 * history.test_accuracy[number - 1]:5.1f} %")
        print(f"train accuracy {100 * trained.train_accuracy:.1f} %, test accuracy "
              f"{100 * trained.test_accuracy:.1f} % ({settings.epochs} epochs in {trained.seconds:.2f} s)")
        _say(args, "wrote " + ", ".join(str(path) for path in files))
    if note:
        print(f"derive: note: {note}", file=sys.stderr)
    return 0


def _finite(values: list, what: str) -> None:
    import math

    flat: list = []
    stack = list(values)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif item is not None:
            flat.append(item)
    if not all(math.isfinite(v) for v in flat):
        raise DeriveError(f"the {what} overflows float64 (inf or nan) at these numbers; use smaller values")


def _cmd_grad(args: argparse.Namespace) -> int:
    from derive.read.spec_file import load_spec

    spec = _with_l2(load_spec(args.spec), args.l2)
    net = spec.network()
    values = _with_learning_rate(spec.values, args.learning_rate) if spec.values is not None else None
    if values is not None and values.symbols:
        return _symbolic_grad(args, net, values)
    weights, biases, X, Y = spec.arrays()
    numeric = net.numeric()
    import numpy as np

    with np.errstate(all="ignore"):
        grad_w, grad_b = numeric.gradient(weights, biases, X, Y)
        cost = float(numeric.cost(weights, biases, X, Y))
    result = {"cost": cost,
              "weights": [g.tolist() for g in grad_w],
              "biases": [g.tolist() for g in grad_b] if grad_b is not None else None}
    _finite([cost], "cost")
    _finite(result["weights"] + (result["biases"] or []), "gradient")
    eta = float(values.learning_rate) if values is not None and values.learning_rate is not None else None
    if eta is not None:  # one step of gradient descent: w - eta dC/dw, shaped like the weights
        result["learning_rate"] = eta
        result["updated_weights"] = [(w - eta * g).tolist() for w, g in zip(weights, grad_w)]
        result["updated_biases"] = ([(b - eta * g).tolist() for b, g in zip(biases, grad_b)]
                                    if grad_b is not None else None)
    if args.json:
        _print_json(result)
    else:
        print(f"cost {result['cost']:.12g}")
        for layer, g in enumerate(grad_w, start=1):
            print(f"dC/dw^({layer}) =\n{g}")
        for layer, g in enumerate(grad_b or [], start=1):
            print(f"dC/db^({layer}) = {g}")
        if eta is not None:
            print(f"after one step of gradient descent, learning rate {eta:g}:")
            for layer, w in enumerate(result["updated_weights"], start=1):
                print(f"w^({layer}) =\n{np.array(w)}")
            for layer, b in enumerate(result["updated_biases"] or [], start=1):
                print(f"b^({layer}) = {np.array(b)}")
    return 0


def _symbolic_grad(args: argparse.Namespace, net: "Network", values) -> int:
    """`derive grad` with symbols among the values: exact formulas (SymPy syntax strings, "9*w/2 - 3/2")."""
    from derive.numeric.worked import symbolic_gradients

    result = symbolic_gradients(net, values, differences=False)
    if args.json:
        _print_json(result)
        return 0
    shown = lambda nested: json.dumps(nested).replace('"', "")  # noqa: E731  [[9*w/2 - 3/2]]
    print(f"cost {result['cost']}")
    for layer, g in enumerate(result["weights"], start=1):
        print(f"dC/dw^({layer}) = {shown(g)}")
    for layer, g in enumerate(result["biases"] or [], start=1):
        print(f"dC/db^({layer}) = {shown(g)}")
    if "updated_weights" in result:
        print(f"after one step of gradient descent, learning rate {result['learning_rate']}:")
        for layer, w in enumerate(result["updated_weights"], start=1):
            print(f"w^({layer}) = {shown(w)}")
        for layer, b in enumerate(result["updated_biases"] or [], start=1):
            print(f"b^({layer}) = {shown(b)}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    import numpy as np

    from derive.checks.gradcheck import check_gradient
    from derive.read.spec_file import load_spec
    from derive.render.terminal import status

    spec = _with_l2(load_spec(args.spec), args.l2)
    net = spec.network()
    arrays = spec.arrays()
    with np.errstate(all="ignore"):
        cost = float(net.numeric().cost(*arrays))
    _finite([cost], "cost")
    with status(f"checking {sum(a.size for a in arrays[0]):,} weights", enabled=not (args.quiet or args.json)):
        report = check_gradient(net, *arrays)
    if args.json:
        _print_json({"network": report.network, "cost": report.cost, "passed": report.passed,
                     "rows": [{"parameters": g.name, "shape": list(g.shape), "central_abs": g.central_abs,
                               "central_rel": g.central_rel, "complex_abs": g.complex_abs,
                               "complex_rel": g.complex_rel, "kinks": [list(k) for k in g.kinks],
                               "passed": g.passed} for g in report.groups]})
    elif not args.quiet:
        print(report.table())
    if not report.passed:
        print("derive: check failed: a gradient disagrees with finite differences", file=sys.stderr)
    return 0 if report.passed else 1


def _cmd_homework(args: argparse.Namespace) -> int:
    from derive.homework.questions import KINDS, check_kinds
    from derive.homework.sheets import generate

    _count(args.count, "--count", 1, MAX_VERSIONS, args.force,
           " (each version takes a few seconds with PDFs); use --force to build them anyway")
    _count(args.questions, "--questions", 1, MAX_QUESTIONS, args.force,
           " (a sheet of more questions is no homework); use --force to build it anyway")
    _count(args.jobs, "--jobs", 1, MAX_JOBS)
    kinds = tuple(args.kinds) if args.kinds else KINDS
    check_kinds(kinds)
    title = _title(args.title)
    out = Path(args.out)
    _check_path_text(args.out, "--out")
    if out.exists() and not out.is_dir():
        raise DeriveError(f"--out {str(out)} is a file; give a directory for the homework set")
    _output_dir(str(out.parent) if str(out.parent) else ".", "--out (its parent)")
    results = generate(args.seed, args.count, out, kinds, args.questions, title, args.tex_only,
                       args.jobs, progress=not (args.quiet or args.json), check=not args.no_check)
    moodle = out / "moodle.xml"
    notes = sorted({r.note for r in results if r.note})
    if args.json:
        _print_json({"versions": [{"number": r.number, "files": _paths(r.files)} for r in results],
                     "moodle": str(moodle), "note": notes[0] if notes else None})
    else:
        for result in results:
            _say(args, f"version {result.number}: " + ", ".join(str(f) for f in result.files))
        _say(args, f"Moodle quiz: {str(moodle)}")
    for note in notes:
        print(f"derive: note: {note}", file=sys.stderr)
    return 0


def _cmd_check_answer(args: argparse.Namespace) -> int:
    from derive.homework.answers import judge
    from derive.homework.questions import load_key

    check_key_file(args.key)
    questions = load_key(args.key)
    question = args.question.strip()
    if question not in questions:
        wanted = f"q{question}" if question.isascii() and question.isdigit() else question
        if wanted not in questions:
            from derive.read.spec_file import shown_path
            from derive.errors import shown_value

            raise DeriveError(f"no question {shown_value(args.question)} in {shown_path(args.key)}; "
                              f"it has {', '.join(questions)}")
        question = wanted
    verdict = judge(args.latex, questions[question].expected())
    status = getattr(verdict.status, "value", verdict.status)
    if args.json:
        mistake = getattr(verdict.mistake, "value", verdict.mistake)
        _print_json({"verdict": status, "message": verdict.message, "mistake": mistake})
    elif not args.quiet:
        print(_shorten(verdict.message), file=sys.stdout if status in ("correct", "wrong") else sys.stderr)
    return verdict.exit_code


def _cmd_grade(args: argparse.Namespace) -> int:
    from derive.homework.grading import grade, main_grade

    _count(args.jobs, "--jobs", 1, MAX_JOBS)
    key = Path(args.key)
    if key.is_dir():
        for path in sorted(key.glob("version-*/key.json")):
            check_key_file(path)
    else:
        check_key_file(args.key)
    _input_file(args.answers, "answers file")  # the reader says what is wrong inside it
    _output_file(args.out, "--out")
    if not args.json:
        return main_grade(args.key, args.answers, args.out, args.jobs, args.quiet)
    summary = grade(args.key, args.answers, args.out, args.jobs, progress=False)
    for note in summary.notes:
        print(f"derive: warning: {note} (please report)", file=sys.stderr)
    _print_json({"answers": summary.answers, "distinct": summary.judged, "counts": dict(summary.counts),
                 "seconds": round(summary.seconds, 3), "file": str(args.out),
                 "internal_errors": list(summary.internal)})
    return 3 if summary.counts.get("error") else 0


def _cmd_completion(args: argparse.Namespace) -> int:
    from derive.homework.questions import KINDS
    from derive.model.activations import NAMES, OUTPUT_NAMES
    from derive.model.costs import COSTS
    from derive.notation.letters import PRESETS
    from derive.render.terminal import bash_completion

    from derive.training.datasets import BUILT_IN

    words = {"--activation": NAMES + OUTPUT_NAMES, "--cost": COSTS, "--kinds": KINDS, "--notation": PRESETS,
             "--data": BUILT_IN}
    print(bash_completion(build_parser(), words, or_files=["--data"]), end="")
    return 0


# Answer keys: checked before anything in them is used -------------------------------------------
def check_key_file(path: str | os.PathLike) -> dict:
    """Read an answer key and check its structure and sizes; one DeriveError line for anything wrong.

    A key is data (parameters of each question); this makes sure every field has the type and size
    `derive homework` writes, so that a hand-edited or damaged key is refused as bad input instead of
    failing deep inside the engine (or running for minutes on a huge network).
    """
    from derive.homework.questions import KEY_FORMATS, KINDS
    from derive.read.spec_file import shown_path, read_text_input

    text, name = read_text_input(path, "answer key", KEY_MAX_BYTES, stdin=False)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DeriveError(f"answer key {name} is not valid JSON (line {error.lineno}, column {error.colno}: "
                          f"{error.msg})") from None
    except (RecursionError, ValueError):
        raise DeriveError(f"answer key {name} is nested too deeply or holds absurd numbers; it is not a key "
                          "derive wrote") from None
    if not isinstance(data, dict) or data.get("format") not in KEY_FORMATS:
        raise DeriveError(f"{name} is not a derive answer key (its \"format\" should be {KEY_FORMATS[-1]})")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise DeriveError(f"answer key {name} has no list of questions")
    seen: set[str] = set()
    for number, question in enumerate(questions, 1):
        where = f"answer key {shown_path(path)}, question {number}"
        if not isinstance(question, dict):
            raise DeriveError(f"{where} is not an object")
        _check_question(question, where, KINDS)
        if question["id"] in seen:
            raise DeriveError(f"{where}: the id {question['id']!r} appears twice")
        seen.add(question["id"])
    return data


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_question(q: dict, where: str, kinds: tuple[str, ...]) -> None:
    import re

    def bad(field: str, what: str) -> DeriveError:
        from derive.errors import shown_value

        return DeriveError(f"{where}: {field!r} must be {what}, got {shown_value(q.get(field))}")

    if not isinstance(q.get("id"), str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", q["id"]):
        raise bad("id", "a short name such as \"q1\"")
    if q.get("kind") not in kinds:
        raise bad("kind", f"one of {', '.join(kinds)}")
    kind = q["kind"]
    layers = q.get("layers", [])
    if not isinstance(layers, list) or not all(_is_int(n) and 1 <= n <= KEY_MAX_NODES for n in layers):
        raise bad("layers", f"a list of layer sizes from 1 to {KEY_MAX_NODES}")
    if kind != "activation-derivative" and not 2 <= len(layers) <= KEY_MAX_WEIGHT_LAYERS + 1:
        raise bad("layers", f"a list of 2 to {KEY_MAX_WEIGHT_LAYERS + 1} layer sizes")
    activation = q.get("activation", [])
    if (not isinstance(activation, list) or not activation
            or not all(isinstance(a, str) and 0 < len(a) <= 200 for a in activation)):
        raise bad("activation", "a list of activation names")
    if "cost" in q and not isinstance(q["cost"], str):
        raise bad("cost", "a cost's name")
    for flag in ("bias", "delta_allowed"):
        if q.get(flag) is not None and not isinstance(q[flag], bool):
            raise bad(flag, "true or false")
    if "digits" in q and not (_is_int(q["digits"]) and 1 <= q["digits"] <= 15):
        raise bad("digits", "a whole number from 1 to 15")
    L = len(layers) - 1
    if kind in ("weight-gradient", "numeric-gradient") and not (_is_int(q.get("layer")) and 1 <= q["layer"] <= L):
        raise bad("layer", f"a weight layer from 1 to {L}")
    if kind == "missing-factor" and not (_is_int(q.get("factor")) and 0 <= q["factor"] <= 2):
        raise bad("factor", "0, 1 or 2")
    if kind == "numeric-gradient":
        node = q.get("node")
        layer = q["layer"]
        if not (isinstance(node, list) and len(node) == 2 and all(_is_int(i) for i in node)
                and 0 <= node[0] < layers[layer] and 0 <= node[1] < layers[layer - 1]):
            raise bad("node", f"[j, k] of a weight of layer {layer}")
        _check_key_values(q.get("values"), layers, bool(q.get("bias")), where)


_DECIMAL = r"[+-]?(\d{1,20}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?(/\d{1,20})?"


def _check_key_values(values: object, layers: list, bias: bool, where: str) -> None:
    import re

    def vector(value: object, count: int, name: str) -> None:
        if not (isinstance(value, list) and len(value) == count
                and all(isinstance(v, str) and re.fullmatch(_DECIMAL, v) and not re.search(r"/0+$", v)
                        for v in value)):
            raise DeriveError(f"{where}: values.{name} must be a list of {count} numbers written as strings")

    if not isinstance(values, dict):
        raise DeriveError(f"{where}: a numeric question needs its 'values' (x, y, weights)")
    vector(values.get("x"), layers[0], "x")
    vector(values.get("y"), layers[-1], "y")
    weights = values.get("weights")
    if not isinstance(weights, list) or len(weights) != len(layers) - 1:
        raise DeriveError(f"{where}: values.weights must hold {len(layers) - 1} matrices")
    for l, matrix in enumerate(weights, 1):
        if not isinstance(matrix, list) or len(matrix) != layers[l]:
            raise DeriveError(f"{where}: values.weights[{l - 1}] must have {layers[l]} rows")
        for j, row in enumerate(matrix):
            vector(row, layers[l - 1], f"weights[{l - 1}][{j}]")
    biases = values.get("biases")
    if bias and biases is not None:
        if not isinstance(biases, list) or len(biases) != len(layers) - 1:
            raise DeriveError(f"{where}: values.biases must hold {len(layers) - 1} vectors")
        for l, vec in enumerate(biases, 1):
            vector(vec, layers[l], f"biases[{l - 1}]")


# The parser ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Step-by-step backpropagation derivations.")
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    steps = sub.add_parser("steps", help="print the chain-rule steps for every weight layer")
    _network_options(steps)
    steps.add_argument("--layer", type=int, default=None, help="only the steps leading to this weight layer")
    steps.add_argument("--check", action="store_true",
                       help=f"also verify every step against SymPy (up to {CHECK_LIMIT} = weights x weight layers)")
    _force_option(steps, "--check would take minutes")
    _output_options(steps, "print the steps as JSON (LaTeX and text of each side, rule, sentence)",
                    "no progress bar")
    steps.set_defaults(run=_cmd_steps)

    sheet = sub.add_parser("sheet", help="write a LaTeX derivation sheet and typeset it to PDF",
                           description="Write OUT_DIR/NAME.tex and OUT_DIR/NAME.pdf for a network given by "
                                       "options or by a SPEC file (TOML or JSON, may carry numbers for a "
                                       "worked example; - reads it from standard input).")
    _document_options(sheet, "the sheet", "", "add a table of one step of gradient descent to the worked example")
    sheet.add_argument("--templates", default=None, metavar="DIR",
                       help="use your own templates from DIR first (rendered in Jinja2's sandbox)")
    sheet.add_argument("--tex-only", action="store_true", help="write the .tex only, do not run TeX")
    _graph_option(sheet)
    _force_option(sheet, None)
    _output_options(sheet, 'print {"files": [...], "note": ...}', "no progress and no 'wrote' lines")
    sheet.set_defaults(run=_cmd_sheet)

    slides = sub.add_parser("slides", help="write Beamer slides (16:9): the derivation one step per overlay",
                            description="Write OUT_DIR/NAME-slides.tex and OUT_DIR/NAME-slides.pdf: each step "
                                        "appears as an overlay with its rule and reason, the factor being derived "
                                        "highlighted and the network's nodes and weights it names lit; a SPEC "
                                        "with numbers adds a worked example that unfolds the same way.")
    _document_options(slides, "the deck", " and -slides", "add one step of gradient descent to the worked example")
    slides.add_argument("--notes", action="store_true",
                        help="show the speaker notes (each step's reason) on a second screen at the right of "
                             "every page (pages twice as wide, for a presenter console such as pdfpc)")
    slides.add_argument("--tex-only", action="store_true", help="write the .tex only, do not run TeX")
    _graph_option(slides)
    _force_option(slides, None)
    _output_options(slides, 'print {"files": [...], "note": ...}', "no progress and no 'wrote' lines")
    slides.set_defaults(run=_cmd_slides)

    page = sub.add_parser("html", help="write the derivation as one self-contained web page, step by step",
                          description="Write OUT_DIR/NAME.html: the derivation a step at a time (keys or buttons), "
                                      "the network drawing lit per step, the worked example when the SPEC has "
                                      "numbers. One file: KaTeX and its fonts are inside, no network needed.")
    _document_options(page, "the page", "", "add one step of gradient descent to the worked example")
    _graph_option(page)
    _output_options(page, 'print {"files": [...], "bytes": N}', "no progress and no 'wrote' line")
    page.set_defaults(run=_cmd_html)

    code = sub.add_parser("code", help="write the generated NumPy forward/cost/gradient code")
    code.add_argument("spec", nargs="?", default=None, metavar="SPEC",
                      help="network spec file, or - for standard input (or use --layers)")
    _network_options(code, required=False)
    code.add_argument("--out", default=None, metavar="FILE", help="write to FILE (default: print)")
    code.add_argument("--train", action="store_true",
                      help="write the whole standalone classifier program (network code, data loading, training "
                           "loop) for the data and settings below; the network defaults to derive train's")
    _training_options(code, "with --train: ")
    code.set_defaults(bias=None)  # --train: with biases unless --no-bias; without --train: only with --bias
    _force_option(code, None)
    _output_options(code, 'print {"source": ...} (or {"files": [FILE]} with --out)', "no 'wrote' line")
    code.set_defaults(run=_cmd_code)

    train = sub.add_parser("train", help="train a classifier with mini-batch SGD on the generated gradient code",
                           description="Train a classifier on digits, iris, xor or a CSV file with mini-batch "
                                       "stochastic gradient descent on the network's generated gradient; write "
                                       "OUT/curves.png (loss and accuracy per epoch), OUT/weights.json and "
                                       "OUT/network.toml (a spec with the trained weights), and print the training "
                                       "and test accuracy. Without a SPEC or --layers the network is [features, "
                                       "hidden, classes], sigmoid then softmax, log-likelihood cost, with biases. "
                                       "Needs scikit-learn (digits, iris) and matplotlib: pip install "
                                       "'derive[train]'.")
    train.add_argument("spec", nargs="?", default=None, metavar="SPEC",
                       help="network spec file, or - for standard input (its [values] are not used)")
    _network_options(train, required=False)
    train.set_defaults(bias=True)
    _training_options(train)
    train.add_argument("--out", default=None, metavar="DIR",
                       help="the output directory, replaced as a whole (default: train-DATA)")
    _output_options(train, 'print {"train_accuracy", "test_accuracy", "epochs", "seconds", "history", "files", ...}',
                    "no progress bar, no epoch table and no 'wrote' line: only the accuracies")
    train.set_defaults(run=_cmd_train)

    grad = sub.add_parser("grad", help="cost and every gradient for the numbers in a spec file")
    grad.add_argument("spec", metavar="SPEC", help="spec file with [values], or - for standard input")
    _learning_rate_option(grad, 'also print the weights after one step of gradient descent ("updated_weights", '
                                '"updated_biases" with --json)')
    _l2_option(grad)
    _force_option(grad, None)
    _output_options(grad, 'print {"cost": ..., "weights": [...], "biases": [...]}', "(nothing to silence)")
    grad.set_defaults(run=_cmd_grad)

    check = sub.add_parser("check", help="check every generated gradient against finite differences",
                           description="Exit 0 when every gradient agrees with finite differences, 1 when one "
                                       "does not, 2 on bad input.")
    check.add_argument("spec", metavar="SPEC", help="spec file with [values], or - for standard input")
    _l2_option(check)
    _force_option(check, None)
    _output_options(check, "print the table's rows as JSON", "no table and no spinner (the exit status tells)")
    check.set_defaults(run=_cmd_check)

    homework = sub.add_parser("homework", help="write exercise and solution sheets, answer keys and a Moodle quiz",
                              description="Write OUT/version-N/{exercises,solutions}.{tex,pdf} and key.json for "
                                          "each version, and OUT/moodle.xml. The same seed gives the same versions.")
    homework.add_argument("--seed", type=int, required=True)
    homework.add_argument("--count", type=int, default=1, help=f"how many versions (default 1, at most "
                                                              f"{MAX_VERSIONS} without --force)")
    homework.add_argument("--out", default="outputs/homework", metavar="DIR")
    homework.add_argument("--kinds", nargs="+", default=None, metavar="KIND",
                          help="exercise kinds (default: one of each): activation-derivative, weight-gradient, "
                               "numeric-gradient, missing-factor")
    homework.add_argument("--questions", type=int, default=None, metavar="N",
                          help=f"questions per version, cycling through the kinds (default: one per kind; at most "
                               f"{MAX_QUESTIONS} without --force)")
    homework.add_argument("--title", default="Backpropagation homework")
    homework.add_argument("--tex-only", action="store_true", help="write the .tex only, do not run TeX")
    _no_check_option(homework, "solutions")
    homework.add_argument("--jobs", type=int, default=None, help="parallel processes (default: all cores)")
    _force_option(homework, f"more than {MAX_VERSIONS} versions or {MAX_QUESTIONS} questions are asked for")
    _output_options(homework, 'print {"versions": [{"number", "files"}], "moodle": ...}',
                    "no progress bar and no list of files")
    homework.set_defaults(run=_cmd_homework)

    answer = sub.add_parser("check-answer", help="check a LaTeX answer against a homework key",
                            description="Exit 0 when the answer is correct, 1 when it is wrong, 2 when it "
                                        "cannot be read (or the key is bad), 3 on an internal error.")
    answer.add_argument("key", metavar="KEY", help="a version's key.json")
    answer.add_argument("question", metavar="QUESTION", help="question id (q2, or just 2)")
    answer.add_argument("latex", metavar="LATEX", help="the answer in LaTeX, e.g. '2(a_j^{(L)} - y_j) a_k^{(L-1)}'")
    _output_options(answer, 'print {"verdict": ..., "message": ..., "mistake": ...}',
                    "print nothing; only the exit status tells")
    answer.set_defaults(run=_cmd_check_answer)

    grade = sub.add_parser("grade", help="grade a class's answers (CSV) against the homework keys, in parallel",
                           description="Judge every row of ANSWERS (CSV with a header row naming the columns "
                                       "student, version, question, answer) against KEY_OR_DIR (one key.json, "
                                       "or the directory `derive homework` wrote) and write OUT with the columns "
                                       "student, version, question, answer, verdict, feedback, score. Exit 0 "
                                       "when every row got a verdict, 2 when the files cannot be read, 3 when "
                                       "a row hit an internal error.")
    grade.add_argument("key", metavar="KEY_OR_DIR", help="a key.json, or a homework directory with version-N/key.json")
    grade.add_argument("answers", metavar="ANSWERS", help="the answers, CSV: student,version,question,answer")
    grade.add_argument("--out", required=True, metavar="FILE", help="where to write the grades (CSV)")
    grade.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="answers judged at once, one process each (default: all cores)")
    _output_options(grade, 'print the summary as JSON: {"answers", "distinct", "counts", ...}',
                    "no progress bar and no summary line")
    grade.set_defaults(run=_cmd_grade)

    examples = sub.add_parser("examples", help="regenerate the canonical example sheets")
    examples.add_argument("--out-dir", default="outputs", metavar="DIR")
    examples.add_argument("--tex-only", action="store_true")
    _output_options(examples, 'print {"files": [...]}', "no progress and no 'wrote' lines")
    examples.set_defaults(run=_cmd_examples)

    completion = sub.add_parser("completion", help="print a shell completion script",
                                description="Print a completion script for the shell. Bash: "
                                            "eval \"$(derive completion bash)\" in ~/.bashrc, or save it as "
                                            "~/.local/share/bash-completion/completions/derive.")
    completion.add_argument("shell", choices=["bash"], help="the shell (bash)")
    completion.set_defaults(run=_cmd_completion)
    return parser


# Entry point --------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    is_command = argv is None
    if is_command:  # the real command: file names that are not UTF-8 print back as the same bytes
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(errors="surrogateescape" if stream is sys.stdout else "backslashreplace")
            except (AttributeError, ValueError):
                pass
    try:
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else list(argv)
        if not argv:
            parser.print_help()
            print(f"derive: error: no command given; choose one of {', '.join(_command_names(parser))} "
                  "(see 'derive --help')", file=sys.stderr)
            return 2
        try:
            args = parser.parse_args(argv)
        except SystemExit as stop:  # --help, --version, or a usage error (already one line on stderr)
            sys.stdout.flush()
            return stop.code if isinstance(stop.code, int) else 2
        from derive.documents.files import announce_signals, cleanup_on_signals

        if is_command:
            announce_signals()
        with cleanup_on_signals():  # SIGTERM/SIGHUP/SIGINT: every scratch file, temporary and child goes first
            code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        if is_command:
            # The process ends now: let the exit skip the final collection over SymPy's ~10^5
            # objects (about 0.1 s, a sixth of a check-answer). Exit handlers still run.
            gc.freeze()
        return code
    except DeriveError as error:
        print(f"derive: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `derive steps ... | head`: the reader left; not an error of ours
        _silence_stdout()
        return 141
    except OSError as error:  # the file system said no (permission, space, names): not a bug of ours
        from derive.read.spec_file import shown_path, describe_os_error

        where = f"{shown_path(error.filename)}: " if error.filename is not None else ""
        print(f"derive: error: {where}{describe_os_error(error)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("derive: error: out of memory; the request is too big for this machine", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a bug: one line, never a traceback
        from derive.limits import InternalError

        what = _one_line(error) if isinstance(error, InternalError) else f"{type(error).__name__}: {_one_line(error)}"
        print(f"derive: internal error: {what} (please report)", file=sys.stderr)
        return 3


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    """The subcommands, in the order --help lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _shorten(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else f"{text[:limit - 60]} ... {text[-40:]}"


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return _shorten(lines[0]) if lines else type(error).__name__


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
