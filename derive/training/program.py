"""The standalone classifier program of ``derive code --train``: one Python file for a student to read
and run, with NumPy only (and scikit-learn when it loads the digits or iris).

Part 1 is the network's generated forward pass, cost and gradient (numeric.codegen, the same code
``derive code`` prints). Parts 2 and 3 load the data and train: they are the functions
``derive train`` itself runs (their source is copied here), joined by a short readable main loop, so
the program reaches the same accuracies as ``derive train`` with the same settings and seed.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import textwrap

from derive.training import datasets, loop
from derive.training.defaults import Classifier

DATA_FUNCTIONS = (datasets.random_generators, datasets.stratified_split, datasets.standardise)
TRAINING_FUNCTIONS = (
    loop.initial_parameters,
    loop.targets,
    loop.predict,
    loop.accuracy,
    loop.regularised_cost,
    loop.sgd_update,
    loop.run_epoch,
)

_HEAD = '''#!/usr/bin/env python3
"""A classifier for {what}, trained with mini-batch stochastic gradient descent.

Written by derive {version} (derive code --train). The network: {network}.
Part 1 is its forward pass, cost and gradient, generated from the derivation: each line names the
formula it implements. Part 2 loads the data, part 3 trains the network and reports.

Run it:  python {file}    (needs NumPy{needs})
It prints the loss and both accuracies after every epoch, then the final accuracies. With the
same settings and seed, `derive train` reaches the same accuracies (it runs these functions).
"""
{imports}
DATA = {data!r}{data_comment}
EPOCHS = {epochs!r}
BATCH_SIZE = {batch_size!r}
LEARNING_RATE = {learning_rate!r}  # eta
L2 = {l2!r}  # lambda: weight decay, w <- (1 - eta lambda / n) w - eta dC/dw (0: none)
SEED = {seed!r}  # draws the test split, the initial weights and the order of the mini-batches
TEST_FRACTION = {test_fraction!r}  # a stratified share of the samples is held out as the test set
SIZES = {sizes!r}  # nodes per layer, input layer first
BIAS = {bias!r}


# Part 1. The network: forward pass, cost and gradient ---------------------------------------------
#
{generated_doc}
'''

_MAIN = """

# The main loop ---------------------------------------------------------------------------------------
def main():
    split_rng, train_rng = random_generators(SEED)
    X_train, labels_train, X_test, labels_test, classes = load_data(split_rng)
    n = X_train.shape[0]
    print(f"{n} training samples, {len(labels_test)} test samples, {X_train.shape[1]} features, "
          f"{len(classes)} classes; network {SIZES}")
    weights, biases = initial_parameters(SIZES, BIAS, train_rng)
    Y_train = targets(labels_train, SIZES[-1])  # one-hot rows (or 0/1 for a single output node)
    for epoch in range(1, EPOCHS + 1):
        run_epoch(gradient, weights, biases, X_train, Y_train, min(BATCH_SIZE, n), LEARNING_RATE, L2, train_rng)
        loss = regularised_cost(cost, weights, biases, X_train, Y_train, L2, n)
        train_accuracy = accuracy(_forward, weights, biases, X_train, labels_train)
        test_accuracy = accuracy(_forward, weights, biases, X_test, labels_test)
        print(f"epoch {epoch:4d}   loss {loss:.6f}   train accuracy {train_accuracy:.4f}   "
              f"test accuracy {test_accuracy:.4f}")
    print(f"train accuracy {train_accuracy:.4f}")
    print(f"test accuracy {test_accuracy:.4f}")


if __name__ == "__main__":
    main()
"""

_SCIKIT_LEARN = '''

def load_data(split_rng):
    """{doc}
    Returns (X_train, labels_train, X_test, labels_test, class names)."""
    try:
        from sklearn.datasets import {loader}
    except ImportError:
        raise SystemExit("this program loads the {name} data set with scikit-learn: pip install scikit-learn")
    bunch = {loader}()
    X, labels = numpy.asarray(bunch.data, dtype=float), numpy.asarray(bunch.target, dtype=int)
    classes = [str(name) for name in bunch.target_names]
    train, test = stratified_split(labels, TEST_FRACTION, split_rng)
{scale}
    return X_train, labels[train], X_test, labels[test], classes
'''

_DIGITS_SCALE = "    X_train, X_test = X[train] / 16.0, X[test] / 16.0  # pixels 0..16 to 0..1"
_STANDARDISE = "    X_train, X_test, mean, std = standardise(X[train], X[test])  # the training split's numbers only"

_XOR = '''

def load_data(split_rng):
    """XOR: class 1 when exactly one input is 1. Its four points are the whole problem, so they are both
    the training and the test set (split_rng is not needed). Returns (X_train, labels_train, X_test,
    labels_test, class names)."""
    X = numpy.array({x!r})
    labels = numpy.array({labels!r})
    X_train, X_test, mean, std = standardise(X, X)
    return X_train, labels, X_test, labels.copy(), ["0", "1"]
'''

_CSV = '''

def load_data(split_rng):
    """The CSV file DATA: a header row, then one row per sample, the class label in the last column.
    Returns (X_train, labels_train, X_test, labels_test, class names)."""
    with open(DATA, newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if row]
    rows = rows[1:]  # the header
    X = numpy.array([[float(value) for value in row[:-1]] for row in rows])
    names = [row[-1].strip() for row in rows]
    classes = class_order(names)
    index = {name: i for i, name in enumerate(classes)}
    labels = numpy.array([index[name] for name in names], dtype=int)
    train, test = stratified_split(labels, TEST_FRACTION, split_rng)
    X_train, X_test, mean, std = standardise(X[train], X[test])  # with the training split's numbers only
    return X_train, labels[train], X_test, labels[test], classes
'''


def generated_parts(net) -> tuple[str, str]:
    """(the generated module's docstring, its functions without cost_analytic) from numeric.codegen."""
    from derive.numeric.codegen import generate_source

    source = generate_source(net)
    doc = ast.get_docstring(ast.parse(source)) or ""
    head, separator, body = source.partition("\nimport numpy\n")
    if not separator:
        body = source
    cut = body.find(
        "\n\n\ndef cost_analytic("
    )  # the complex-step cost is for derive check, not for training
    if cut >= 0:
        body = body[:cut] + "\n"
    return doc, body.strip("\n") + "\n"


def _copied(functions) -> str:
    return "".join(f"\n\n{textwrap.dedent(inspect.getsource(fn)).rstrip()}\n" for fn in functions)


def program_source(
    classifier: Classifier, data: str, settings: loop.Settings, file: str = "classifier.py"
) -> str:
    """The whole standalone program: network code, data loading, training loop, report."""
    from derive import __version__

    net = classifier.network
    doc, functions = generated_parts(net)
    csv_file = data not in datasets.BUILT_IN
    if data in ("digits", "iris"):
        loader = "load_digits" if data == "digits" else "load_iris"
        what = {
            "digits": "the 8x8 handwritten digits scikit-learn ships (1,797 images, no download)",
            "iris": "the iris flowers scikit-learn ships (150 samples, 3 species, no download)",
        }[data]
        loading = _SCIKIT_LEARN.format(
            doc=what[0].upper() + what[1:] + ".",
            loader=loader,
            name=data,
            scale=_DIGITS_SCALE if data == "digits" else _STANDARDISE,
        )
        title, needs = f"the {data} data set", ", and scikit-learn for the data"
    elif data == "xor":
        loading = _XOR.format(x=datasets.XOR_X, labels=datasets.XOR_LABELS)
        title, needs = "XOR", ""
    else:
        loading = _CSV
        shown = re.sub(
            r"[^A-Za-z0-9._ -]", "_", os.path.basename(data)
        )  # a docstring's text: nothing to escape
        title, needs = f"the CSV file {shown}", ""
    head = _HEAD.format(
        what=title,
        version=__version__,
        network=net.describe(),
        file=file,
        needs=needs,
        imports="import csv\n\nimport numpy\n" if csv_file else "import numpy\n",
        data=os.path.abspath(data) if csv_file else data,
        data_comment="  # the CSV file: a header row, the class label in the last column"
        if csv_file
        else "",
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        learning_rate=float(settings.learning_rate),
        l2=float(settings.l2),
        seed=settings.seed,
        test_fraction=datasets.TEST_FRACTION,
        sizes=list(net.sizes),
        bias=bool(net.bias),
        generated_doc="\n".join(f"# {line}".rstrip() for line in doc.splitlines()),
    )
    data_functions = DATA_FUNCTIONS + ((datasets.class_order,) if csv_file else ())
    return (
        head
        + "\n\n"
        + functions
        + "\n\n# Part 2. The data "
        + "-" * 80
        + _copied(data_functions)
        + loading
        + "\n\n# Part 3. Training "
        + "-" * 79
        + _copied(TRAINING_FUNCTIONS)
        + _MAIN
    )
