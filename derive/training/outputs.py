"""What ``derive train`` leaves behind: a directory with the curves, the trained weights and a spec.

* ``curves.png``: loss and accuracy per epoch (plot.py);
* ``weights.json``: the trained ``weights`` and ``biases``, shaped like ``derive grad --json``'s
  (weights[l-1][j][k] = w_jk^(l)), with the network, the classes, the feature scaling and the settings;
* ``network.toml``: a spec file with the trained weights in ``[values]`` and the first test sample
  as x and y, so that ``derive grad``, ``derive check`` and ``derive sheet`` read it back. Left out
  (with a note) when it would be larger than a spec file may be (1 MB) or a weight is beyond 1e6.

The directory is built aside and swapped in whole (documents.files.staged_directory): it holds the
previous run's complete set or the new one, never a mix, and nothing at all when training fails.
It may only replace a directory that holds nothing but such a set.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from derive.errors import ParameterError
from derive.read.spec_file import MAX_SPEC_BYTES, shown_path
from derive.training.datasets import BUILT_IN
from derive.training.defaults import Classifier
from derive.training.loop import Trained

FILES = ("curves.png", "weights.json", "network.toml")
FORMAT = "derive-trained/1"
MAX_SPEC_NUMBER = 1e6  # what a spec file accepts


def default_out_dir(data: str) -> str:
    """train-digits, train-iris, train-xor, or train-NAME for a CSV file NAME.csv."""
    name = data if data in BUILT_IN else Path(data).stem
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "data"
    return f"train-{safe}"


def check_out_dir(path: Path) -> None:
    """Before any work: ``path`` (the parameter ``out``) can become the output directory (nothing is
    created here)."""
    shown, absolute = shown_path(path), Path(os.path.abspath(path))
    if os.path.lexists(absolute):
        if not absolute.is_dir():
            raise ParameterError("{out} {path} is a file, not a directory", path=shown)
        _only_ours(absolute)
    home = next(
        p for p in absolute.parents if os.path.lexists(p)
    )  # where the new set is built and swapped in
    if not home.is_dir():
        raise ParameterError(
            "{out} {path}: {home} is a file, not a directory", path=shown, home=shown_path(home)
        )
    if not os.access(home, os.W_OK | os.X_OK):
        raise ParameterError(
            "cannot write {out} {path}: permission denied in {home}",
            path=shown,
            home=shown_path(home),
        )


def _only_ours(path: Path) -> None:
    """The set replaces the directory as a whole: only a previous set (or nothing) may be in it."""
    for entry in sorted(path.iterdir()):
        if (
            entry.name in FILES
            and entry.is_file()
            or re.fullmatch(
                r"\.(" + "|".join(re.escape(f) for f in FILES) + r")\..*\.tmp", entry.name
            )
        ):
            continue
        raise ParameterError(
            "{path} holds {name!r}, which derive train did not write; the output directory is "
            "replaced as a whole: choose a new or empty one ({out})",
            path=shown_path(path),
            name=entry.name,
        )


def weights_data(trained: Trained, classifier: Classifier) -> dict:
    """The trained network as JSON data (weights.json)."""
    net, data, settings = trained.network, trained.data, trained.settings
    return {
        "format": FORMAT,
        "network": {
            "layers": list(net.sizes),
            "activation": [a.name for a in net.activations],
            "cost": net.cost.name,
            "bias": net.bias,
            "description": net.describe(),
        },
        "data": {
            "name": data.name,
            "classes": list(data.classes),
            "features": list(data.feature_names),
            "scaling": data.scaling,
            "train_samples": int(len(data.labels_train)),
            "test_samples": int(len(data.labels_test)),
            "test_is_training_set": not data.held_out,
        },
        "settings": {
            "epochs": settings.epochs,
            "batch_size": settings.batch_size,
            "learning_rate": settings.learning_rate,
            "l2": settings.l2,
            "seed": settings.seed,
        },
        "train_accuracy": trained.train_accuracy,
        "test_accuracy": trained.test_accuracy,
        "weights": [W.tolist() for W in trained.weights],
        "biases": [b.tolist() for b in trained.biases] if trained.biases is not None else None,
    }


def spec_text(trained: Trained, classifier: Classifier) -> str | None:
    """network.toml: a spec with the trained weights and the first test sample; None when a spec file
    cannot hold it (too large, or a weight beyond 1e6)."""
    net, data, settings = trained.network, trained.data, trained.settings
    arrays = list(trained.weights) + list(trained.biases or [])
    if any(abs(float(v)) > MAX_SPEC_NUMBER for array in arrays for v in array.ravel()):
        return None
    outputs = net.sizes[-1]
    label = int(data.labels_test[0])
    y = [float(label)] if outputs == 1 else [1.0 if j == label else 0.0 for j in range(outputs)]
    percent = (
        f"training accuracy {100 * trained.train_accuracy:.1f} %, "
        f"test accuracy {100 * trained.test_accuracy:.1f} %"
    )
    lines = [
        f"# Trained by derive train on {_comment(data.name)}: {percent}",
        f"# ({settings.epochs} epochs, batch size {settings.batch_size}, "
        f"learning rate {settings.learning_rate:g}, L2 {settings.l2:g}, seed {settings.seed}). "
        "[values] holds the trained weights and the first test",
        f"# sample (class {_comment(data.classes[label])}), so that `derive grad` computes the gradient there.",
        f"title = {_string(f'{net.describe()}, trained on {_comment(data.name)}'[:200])}",
        f"layers = [{', '.join(str(int(n)) for n in net.sizes)}]",
    ]
    if classifier.activation is not None:
        activation = classifier.activation
        lines.append(
            f"activation = {_string(activation) if isinstance(activation, str) else _strings(activation)}"
        )
    if classifier.cost is not None:
        lines.append(f"cost = {_string(classifier.cost)}")
    lines.append(f"bias = {'true' if net.bias else 'false'}")
    if classifier.notation != "default":
        lines.append(f"notation = {_string(classifier.notation)}")
    lines += [
        "",
        "[values]",
        f"x = {_numbers(data.X_test[0])}",
        f"y = {_numbers(y)}",
        "weights = [",
    ]
    for layer, W in enumerate(trained.weights, 1):
        lines.append(f"  [  # w^({layer}): {W.shape[0]} rows (j) of {W.shape[1]} (k)")
        lines += [f"    {_numbers(row)}," for row in W]
        lines.append("  ],")
    lines.append("]")
    if trained.biases is not None:
        lines.append("biases = [")
        lines += [f"  {_numbers(b)},  # b^({layer})" for layer, b in enumerate(trained.biases, 1)]
        lines.append("]")
    lines.append(f"learning_rate = {_number(settings.learning_rate)}")
    text = "\n".join(lines) + "\n"
    return text if len(text.encode("utf-8")) <= MAX_SPEC_BYTES else None


def _number(value: float) -> str:
    text = repr(float(value))
    return "0.0" if text == "-0.0" else text


def _numbers(values) -> str:
    return "[" + ", ".join(_number(v) for v in values) + "]"


def _string(text: str) -> str:
    return json.dumps(str(text), ensure_ascii=False)  # a JSON string is a TOML basic string


def _strings(items) -> str:
    return "[" + ", ".join(_string(item) for item in items) + "]"


def _comment(text: str) -> str:
    """Text safe in a TOML comment or a spec's title: printable, one line, short."""
    printable = "".join(
        ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "?" for ch in str(text)
    )
    return " ".join(printable.split())[:80]


def write(
    out_dir: Path, trained: Trained, classifier: Classifier, png: bytes
) -> tuple[list[Path], str | None]:
    """Write the set into ``out_dir`` atomically; (the files, a note when network.toml was left out)."""
    from derive.documents.files import (
        cleanup_on_signals,
        output_lock,
        staged_directory,
        write_atomic,
    )

    spec = spec_text(trained, classifier)
    note = (
        None
        if spec is not None
        else (
            "network.toml was not written: the trained network does not fit in a spec "
            "file (at most 1 MB, weights of at most 1e6); weights.json has the weights"
        )
    )
    contents: dict[str, str | bytes]
    contents = {
        "curves.png": png,
        "weights.json": json.dumps(weights_data(trained, classifier)) + "\n",
    }
    if spec is not None:
        contents["network.toml"] = spec
    with (
        cleanup_on_signals(),
        output_lock(out_dir),
        staged_directory(out_dir, replaceable=_only_ours) as staging,
    ):
        for name, data in contents.items():
            write_atomic(staging / name, data)
    return [Path(out_dir) / name for name in contents], note
