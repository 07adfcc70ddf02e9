"""derive train and derive code --train: a classifier trained with mini-batch SGD on the generated gradient.

Fast data only (xor, iris, small CSV files), except one run of the command on digits with its
defaults (a few seconds): the goal of the issue, at least 95 % test accuracy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from derive import Network
from derive.cli import main
from derive.training import datasets, defaults, loop, outputs, program

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

# FALLBACK while softmax and log-likelihood are not merged: the tests of the softmax default skip
# without them (remove this marker, and its uses, once they are merged).

ROOT = Path(__file__).resolve().parent.parent


def run(argv, capsys):
    """The command in-process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error: "), err
    assert "Traceback" not in err
    return lines[0]


# The library ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layers", [[2, 4, 2], [2, 4, 1]])
def test_xor_is_learned_to_100_percent(layers):
    chosen = defaults.classifier(2, 2, layers=layers)
    data = datasets.load("xor", 0)
    trained = loop.train(chosen.network, data, loop.Settings(epochs=defaults.XOR_EPOCHS, seed=0))
    assert trained.train_accuracy == 1.0 and trained.test_accuracy == 1.0
    assert trained.history.loss[-1] < 0.1 < trained.history.loss[0]
    A = chosen.network.numeric().forward(trained.weights, trained.biases, data.X_train)[-1]
    assert list(loop.predict(A)) == [0, 1, 1, 0]


def test_iris_reaches_90_percent_on_the_test_set():
    data = datasets.load("iris", 0)
    chosen = defaults.classifier(data.features, data.n_classes)
    trained = loop.train(chosen.network, data, loop.Settings())
    assert trained.test_accuracy >= 0.9, trained.history.test_accuracy
    assert len(trained.history.loss) == defaults.EPOCHS
    assert trained.history.loss[-1] < trained.history.loss[0]


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    data = datasets.load("iris", 3)
    net = defaults.classifier(4, 3).network
    first, again = (loop.train(net, data, loop.Settings(epochs=5, seed=3)) for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, again.weights))
    assert first.history.loss == again.history.loss
    other = loop.train(net, data, loop.Settings(epochs=5, seed=4))
    assert not np.array_equal(first.weights[0], other.weights[0])


def test_the_split_is_stratified_and_fixed_by_the_seed():
    labels = np.repeat(np.arange(3), [40, 20, 9])

    def split(seed):
        return datasets.stratified_split(labels, 0.25, datasets.random_generators(seed)[0])

    train, test = split(7)
    again_train, again_test = split(7)
    assert np.array_equal(train, again_train) and np.array_equal(test, again_test)
    assert not np.array_equal(test, split(8)[1])
    assert sorted(np.concatenate([train, test])) == list(range(len(labels)))  # every sample once
    assert [int(np.sum(labels[test] == c)) for c in range(3)] == [
        10,
        5,
        2,
    ]  # a quarter of each class, rounded
    # the split does not depend on the network or the training: digits and iris as loaded
    for name in ("iris", "digits"):
        a, b = datasets.load(name, 5), datasets.load(name, 5)
        assert np.array_equal(a.X_test, b.X_test) and np.array_equal(a.labels_test, b.labels_test)
        counts = np.bincount(a.labels_test) / np.bincount(
            np.concatenate([a.labels_train, a.labels_test])
        )
        assert np.all(np.abs(counts - 0.25) < 0.02), counts
    iris = datasets.load("iris", 0)
    assert len(iris.labels_test) == 39 and len(iris.labels_train) == 111
    assert np.allclose(iris.X_train.mean(axis=0), 0) and np.allclose(iris.X_train.std(axis=0), 1)
    assert not np.allclose(
        iris.X_test.mean(axis=0), 0
    )  # scaled with the training split's numbers only
    digits = datasets.load("digits", 0)
    assert (
        digits.X_train.min() == 0
        and digits.X_train.max() == 1
        and digits.scaling == {"divide_by": 16}
    )


def test_a_single_class_member_stays_in_training_and_a_pair_is_split():
    labels = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    train, test = datasets.stratified_split(labels, 0.25, np.random.default_rng(0))
    assert int(np.sum(labels[test] == 0)) == 1 and int(np.sum(labels[train] == 0)) == 1
    assert int(np.sum(labels[test] == 1)) == 2


def test_weight_decay_shrinks_the_weights_by_exactly_one_minus_eta_lambda_over_n():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(3, 2)), rng.normal(size=(1, 3))]
    biases = [rng.normal(size=3), rng.normal(size=1)]
    before_w, before_b = [w.copy() for w in weights], [b.copy() for b in biases]
    eta, l2, n = 0.5, 3.0, 40
    loop.sgd_update(
        weights,
        biases,
        [np.zeros_like(w) for w in weights],
        [np.zeros_like(b) for b in biases],
        eta,
        l2,
        n,
    )
    factor = 1 - eta * l2 / n
    for new, old in zip(weights, before_w):
        assert np.array_equal(new, factor * old)  # exactly
    for new, old in zip(biases, before_b):
        assert np.array_equal(new, old)  # biases are not regularised
    grads = [rng.normal(size=w.shape) for w in weights]
    grads_b = [rng.normal(size=b.shape) for b in biases]
    start = [w.copy() for w in weights]
    loop.sgd_update(weights, biases, grads, grads_b, eta, l2, n)
    for new, old, g in zip(weights, start, grads):
        assert np.allclose(new, factor * old - eta * g, rtol=0, atol=1e-15)
    # without L2 the step is plain gradient descent
    w = [np.ones((2, 2))]
    loop.sgd_update(w, None, [np.full((2, 2), 0.25)], None, 2.0, 0.0, 10)
    assert np.array_equal(w[0], np.full((2, 2), 0.5))


def test_l2_keeps_the_weights_smaller():
    data = datasets.load("iris", 0)
    net = defaults.classifier(4, 3).network
    plain = loop.train(net, data, loop.Settings(epochs=20))
    decayed = loop.train(net, data, loop.Settings(epochs=20, l2=5.0))
    norm = lambda t: sum(float(np.sum(w * w)) for w in t.weights)  # noqa: E731
    assert norm(decayed) < 0.7 * norm(plain)
    # the reported loss carries the L2 term: (lambda / 2n) sum w^2 on top of the mean cost
    n = len(data.labels_train)
    cost = float(
        net.numeric().cost(
            decayed.weights, decayed.biases, data.X_train, loop.targets(data.labels_train, 3)
        )
    )
    assert decayed.history.loss[-1] == pytest.approx(
        cost + 5.0 / (2 * n) * norm(decayed), rel=1e-12
    )


def test_initial_weights_are_glorot_uniform():
    weights, biases = loop.initial_parameters([64, 32, 10], True, np.random.default_rng(0))
    assert [w.shape for w in weights] == [(32, 64), (10, 32)] and [b.shape for b in biases] == [
        (32,),
        (10,),
    ]
    for w, (n_in, n_out) in zip(weights, [(64, 32), (32, 10)]):
        r = np.sqrt(6 / (n_in + n_out))
        assert np.abs(w).max() <= r and np.abs(w).max() > 0.9 * r
        assert abs(w.std() - r / np.sqrt(3)) < 0.1 * r
    assert all(not b.any() for b in biases)
    assert loop.initial_parameters([2, 2], False, np.random.default_rng(0))[1] is None


def test_predictions_are_the_largest_output_or_a_threshold_for_one_node():
    assert list(loop.predict(np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]))) == [1, 0]
    assert list(loop.predict(np.array([[0.49], [0.5], [0.9]]))) == [0, 1, 1]
    assert loop.targets(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert loop.targets(np.array([1, 0]), 1).tolist() == [[1.0], [0.0]]


def test_any_network_the_code_generator_supports_trains():
    data = datasets.load("iris", 1)
    for activation, cost in [
        (["tanh", "sigmoid"], "quadratic"),
        (["relu", "sigmoid(gain=2)"], "cross-entropy"),
        (["softplus", "identity"], "half-quadratic"),
    ]:
        net = Network([4, 6, 3], activation=activation, cost=cost, bias=True)
        trained = loop.train(net, data, loop.Settings(epochs=30, learning_rate=0.1))
        assert trained.test_accuracy >= 0.8, (activation, cost, trained.history.test_accuracy)


def test_the_default_network_and_its_fallback():
    chosen = defaults.classifier(64, 10)
    net = chosen.network
    assert list(net.sizes) == [64, 32, 10] and net.bias
    assert defaults.classifier(4, 3).network.sizes == (4, 7, 3)
    assert defaults.classifier(2, 2).network.sizes == (2, 4, 2)
    assert defaults.output_layer(10) == ("softmax", "log-likelihood")
    assert [a.name for a in net.activations] == [
        "sigmoid",
        "softmax",
    ] and net.cost.name == "log-likelihood"
    # one output node: a sigmoid with cross-entropy; the cost follows a given output activation
    assert defaults.classifier(2, 2, layers=[2, 4, 1]).network.cost.name == "cross-entropy"
    assert defaults.classifier(4, 3, activation="tanh").network.cost.name == "quadratic"
    assert (
        defaults.classifier(4, 3, activation=["tanh", "sigmoid(gain=2)"]).network.cost.name
        == "cross-entropy"
    )
    assert defaults.classifier(4, 3, cost="quadratic").network.cost.name == "quadratic"


def test_the_default_digits_network_is_softmax_with_log_likelihood():
    net = defaults.classifier(64, 10).network
    assert [a.name for a in net.activations] == ["sigmoid", "softmax"]
    assert net.cost.name == "log-likelihood"
    data = datasets.load("iris", 0)
    trained = loop.train(defaults.classifier(4, 3).network, data, loop.Settings())
    assert trained.test_accuracy >= 0.9


def test_a_diverging_run_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        [
            "train",
            "--data",
            "iris",
            "--activation",
            "identity",
            "--cost",
            "quadratic",
            "--learning-rate",
            "100",
            "--quiet",
        ],
        capsys,
    )
    assert "diverged" in one_line_error(code, err) and "learning rate" in err
    assert list(tmp_path.iterdir()) == []


# The command ---------------------------------------------------------------------------------------
def test_train_json_has_the_accuracies_and_the_history(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["train", "--data", "iris", "--epochs", "12", "--json"], capsys)
    assert code == 0, err
    assert err == ""  # no progress bar with --json
    data = json.loads(out)
    for key in (
        "train_accuracy",
        "test_accuracy",
        "epochs",
        "seconds",
        "history",
        "files",
        "network",
        "data",
        "train_samples",
        "test_samples",
        "batch_size",
        "learning_rate",
        "l2",
        "seed",
    ):
        assert key in data, key
    assert data["epochs"] == 12 and data["data"] == "iris" and data["seed"] == defaults.SEED
    assert 0 <= data["test_accuracy"] <= 1 and data["seconds"] >= 0
    assert data["train_samples"] == 111 and data["test_samples"] == 39
    for key in ("loss", "test_loss", "train_accuracy", "test_accuracy", "epoch_seconds"):
        assert len(data["history"][key]) == 12
    assert data["history"]["test_accuracy"][-1] == data["test_accuracy"]
    assert data["files"] == [os.path.join("train-iris", name) for name in outputs.FILES]
    assert sorted(p.name for p in (tmp_path / "train-iris").iterdir()) == sorted(outputs.FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train-iris"]  # no lock or temporary left


def test_train_prints_the_accuracies_and_quiet_only_them(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["train", "--data", "xor", "--out", "xor-run"], capsys)
    assert code == 0, err
    assert "xor: 4 samples" in out and "[2, 4, 2]" in out
    assert re.search(
        r"^train accuracy 100\.0 %, test accuracy 100\.0 % \(500 epochs in [\d.]+ s\)$", out, re.M
    ), out
    assert "wrote xor-run/curves.png, xor-run/weights.json, xor-run/network.toml" in out
    assert len(re.findall(r"^epoch ", out, re.M)) == 11
    code, out, err = run(["train", "--data", "xor", "--out", "xor-run", "--quiet"], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [out.strip()] and out.startswith("train accuracy 100.0 %")


def test_the_curves_are_a_real_png(tmp_path, capsys):
    import matplotlib.image

    out = tmp_path / "run"
    code, _, err = run(
        ["train", "--data", "iris", "--epochs", "5", "--l2", "0.1", "--out", out, "--quiet"], capsys
    )
    assert code == 0, err
    png = out / "curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(png)
    assert image.shape[:2] == (400, 1000)
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_weights_and_spec_read_back(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(
        ["train", "--data", "iris", "--epochs", "5", "--out", out, "--quiet"], capsys
    )
    assert code == 0, err
    saved = json.loads((out / "weights.json").read_text())
    assert [np.array(w).shape for w in saved["weights"]] == [(7, 4), (3, 7)]
    assert [np.array(b).shape for b in saved["biases"]] == [(7,), (3,)]
    assert saved["data"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert len(saved["data"]["scaling"]["mean"]) == 4
    # network.toml: derive grad computes the gradient at the first test sample with the trained weights
    code, grad_out, err = run(["grad", out / "network.toml", "--json"], capsys)
    assert code == 0, err
    grad = json.loads(grad_out)
    assert [np.array(g).shape for g in grad["weights"]] == [
        np.array(w).shape for w in saved["weights"]
    ]
    data = datasets.load("iris", defaults.SEED)
    net = defaults.classifier(4, 3).network
    weights = [np.array(w) for w in saved["weights"]]
    biases = [np.array(b) for b in saved["biases"]]
    X, Y = data.X_test[:1], loop.targets(data.labels_test[:1], 3)
    expected, _ = net.numeric().gradient(weights, biases, X, Y)
    for got, want in zip(grad["weights"], expected):
        assert np.allclose(got, want, rtol=1e-12, atol=1e-15)
    assert grad["cost"] == pytest.approx(
        float(net.numeric().cost(weights, biases, X, Y)), rel=1e-12
    )
    # the accuracy in weights.json is the trained weights' accuracy
    A = net.numeric().forward(weights, biases, data.X_test)[-1]
    assert saved["test_accuracy"] == pytest.approx(
        float(np.mean(loop.predict(A) == data.labels_test))
    )


def test_a_spec_file_gives_the_network(tmp_path, capsys):
    spec = tmp_path / "net.toml"
    spec.write_text(
        'layers = [4, 5, 3]\nactivation = ["tanh", "sigmoid"]\ncost = "cross-entropy"\nbias = true\n'
    )
    code, out, err = run(
        ["train", spec, "--data", "iris", "--epochs", "3", "--out", tmp_path / "o", "--json"],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)["network"] == "[4, 5, 3] tanh/sigmoid, cross-entropy cost, with biases"
    assert 'activation = ["tanh", "sigmoid"]' in (tmp_path / "o" / "network.toml").read_text()
    code, _, err = run(["train", spec, "--layers", "4", "3", "--data", "iris"], capsys)
    assert "not both" in one_line_error(code, err)


def test_a_spec_on_standard_input_is_read_once_with_its_l2(tmp_path, capsys, monkeypatch):
    """`derive train - < spec.toml` trains with the spec's l2 (it once read the spec twice, and standard
    input's second reading was empty, so l2 silently became 0); --l2 still overrides it."""
    import io

    text = 'layers = [4, 5, 3]\nactivation = ["tanh", "softmax"]\ncost = "log-likelihood"\nbias = true\nl2 = 0.25\n'
    settings = []
    for extra in ([], ["--l2", "0.5"]):
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
        code, out, err = run(
            [
                "train",
                "-",
                "--data",
                "iris",
                "--epochs",
                "2",
                "--out",
                tmp_path / f"o{len(extra)}",
                "--json",
                *extra,
            ],
            capsys,
        )
        assert code == 0, err
        settings.append(json.loads(out)["l2"])
    assert settings == [0.25, 0.5]


def test_the_output_directory_is_replaced_as_a_set_and_never_a_foreign_one(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["train", "--data", "xor", "--epochs", "2", "--out", out, "--quiet"], capsys)[0] == 0
    first = (out / "weights.json").read_text()
    assert run(["train", "--data", "xor", "--epochs", "3", "--out", out, "--quiet"], capsys)[0] == 0
    assert (out / "weights.json").read_text() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    (out / "notes.txt").write_text("mine")
    code, _, err = run(["train", "--data", "xor", "--epochs", "2", "--out", out, "--quiet"], capsys)
    assert "notes.txt" in one_line_error(code, err)
    assert (out / "notes.txt").read_text() == "mine"
    file = tmp_path / "file"
    file.write_text("x")
    code, _, err = run(["train", "--data", "xor", "--out", file], capsys)
    assert "is a file" in one_line_error(code, err)


BAD_CSV = {
    "ragged": (
        "a,b,label\n1,2,x\n3,4,y\n5,x\n1,1,x\n2,2,y\n",
        "line 4: 2 fields, but the header has 3",
    ),
    "text": (
        "a,b,label\n1,2,x\n3,four,y\n5,6,x\n7,8,y\n",
        "line 3, column 'b': 'four' is not a number",
    ),
    "empty": ("", "is empty"),
    "blank": ("\n\n  \n", "is empty"),
    "header-only": ("a,b,label\n", "no samples"),
    "no-header": ("1,2,x\n3,4,y\n5,6,x\n7,8,y\n", "needs a header row"),
    "one-class": ("a,b,label\n1,2,x\n3,4,x\n5,6,x\n", "one class only ('x'"),
    "lonely": ("a,b,label\n1,2,x\n3,4,x\n5,6,y\n", "class 'y' has 1 row"),
    "nan": (
        "a,b,label\n1,2,x\n3,nan,y\n5,6,x\n7,8,y\n",
        "line 3, column 'b': 'nan' is not a finite number",
    ),
    "inf": ("a,b,label\n1,2,x\n3,4,y\n5,-inf,x\n7,8,y\n", "'-inf' is not a finite number"),
    "overflow": ("a,b,label\n1,2,x\n3,1e999,y\n5,6,x\n7,8,y\n", "'1e999' is not a finite number"),
    "missing": ("a,b,label\n1,,x\n3,4,y\n5,6,x\n7,8,y\n", "line 2, column 'b': the value is empty"),
    "no-label": (
        "a,b,label\n1,2,\n3,4,y\n5,6,x\n7,8,y\n",
        "line 2: the class label (column 'label') is empty",
    ),
    "one-column": ("label\nx\ny\n", "at least one feature column"),
    "semicolons": ("a;b;label\n1;2;x\n3;4;y\n", "at least one feature column"),
    "binary": ("a,b,label\n1,2,\x00\n", "binary"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_files_are_one_line_exit_2_and_leave_nothing(case, tmp_path, capsys, monkeypatch):
    text, words = BAD_CSV[case]
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    code, out, err = run(["train", "--data", path.name, "--epochs", "2"], capsys)
    line = one_line_error(code, err)
    assert words in line, line
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no output directory, no lock
    code, _, err = run(
        ["code", "--train", "--data", path.name], capsys
    )  # the program needs the same file
    assert words in one_line_error(code, err)


def test_huge_and_odd_data_files_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.truncate(datasets.MAX_CSV_BYTES + 1)  # sparse: no disk used
    code, _, err = run(["train", "--data", "huge.csv"], capsys)
    assert "larger than 20 MB" in one_line_error(code, err)
    (tmp_path / "folder.csv").mkdir()
    code, _, err = run(["train", "--data", "folder.csv"], capsys)
    assert "is a directory" in one_line_error(code, err)
    code, _, err = run(["train", "--data", "missing.csv"], capsys)
    assert "not found" in one_line_error(code, err)
    code, _, err = run(["train", "--data", "digitz"], capsys)
    assert "did you mean 'digits'" in one_line_error(code, err)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"f{k}" for k in range(datasets.MAX_FEATURES + 1)) + ",label\n")
    code, _, err = run(["train", "--data", "wide.csv"], capsys)
    assert "at most 1000" in one_line_error(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.csv", "huge.csv", "wide.csv"]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--epochs", "0"], "--epochs must be a whole number from 1"),
        (["--batch-size", "0"], "--batch-size must be"),
        (["--learning-rate", "nan"], "--learning-rate must be a positive number"),
        (["--learning-rate", "-1"], "--learning-rate must be a positive number"),
        (["--l2", "inf"], "--l2 must be a finite number from 0"),
        (["--seed", "-3"], "--seed must be a whole number from 0"),
        (["--epochs", "x"], "invalid int value"),
        (["--layers", "4", "5", "2"], "the output layer has 2 nodes, but iris has 3 classes"),
        (["--layers", "3", "5", "3"], "the network takes 3 inputs, but iris has 4 features"),
        (["--layers", "4", "5", "1"], "one output node tells two classes apart, but iris has 3"),
        (
            ["--activation", "tanh", "--cost", "cross-entropy"],
            "cross-entropy needs outputs in (0, 1)",
        ),
        (["--activation", "sigmoid(gain=a)"], "symbolic parameter"),
    ],
)
def test_bad_options_are_one_line(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["train", "--data", "iris", *argv], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err
    assert list(tmp_path.iterdir()) == []


def test_missing_packages_are_named_with_the_install_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now fails
    code, _, err = run(["train", "--data", "digits"], capsys)
    line = one_line_error(code, err)
    assert (
        "scikit-learn" in line
        and "pip install 'derive[train]'" in line
        and "matplotlib (" not in line
    )
    assert (
        run(["train", "--data", "xor", "--epochs", "1", "--quiet"], capsys)[0] == 0
    )  # xor needs no scikit-learn
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(["train", "--data", "xor"], capsys)
    assert "matplotlib (for the curves)" in one_line_error(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train-xor"]


def test_digits_with_the_defaults_reaches_95_percent(tmp_path, capsys):
    """The issue's goal: [64, 32, 10], the default settings, at least 95 % test accuracy (and quickly)."""
    start = time.perf_counter()
    code, out, err = run(["train", "--out", tmp_path / "digits", "--json"], capsys)
    seconds = time.perf_counter() - start
    assert code == 0, err
    data = json.loads(out)
    assert data["layers"] == [64, 32, 10] and data["epochs"] == defaults.EPOCHS
    assert data["test_accuracy"] >= 0.95, data["history"]["test_accuracy"]
    assert seconds < 30


# The standalone program ------------------------------------------------------------------------------
def run_program(source: str, folder: Path) -> str:
    folder.mkdir()
    (folder / "classifier.py").write_text(source)
    env = {
        k: v for k, v in os.environ.items() if k != "PYTHONPATH"
    }  # NumPy (and scikit-learn) only
    done = subprocess.run(
        [sys.executable, "classifier.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["classifier.py"]  # it writes nothing
    return done.stdout


def final_accuracies(stdout: str) -> tuple[float, float]:
    train = re.search(r"^train accuracy (\d\.\d+)$", stdout, re.M)
    test = re.search(r"^test accuracy (\d\.\d+)$", stdout, re.M)
    assert train and test, stdout
    return float(train.group(1)), float(test.group(1))


def test_code_train_writes_a_program_that_trains_like_derive_train(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(
        [
            "code",
            "--train",
            "--data",
            "iris",
            "--epochs",
            "15",
            "--seed",
            "2",
            "--out",
            "classifier.py",
        ],
        capsys,
    )
    assert code == 0, err
    source = (tmp_path / "classifier.py").read_text()
    assert "def gradient(weights, biases, X, Y):" in source and "def run_epoch(" in source
    assert (
        "cost_analytic" not in source
        and "from derive" not in source
        and "import derive" not in source
    )
    stdout = run_program(source, tmp_path / "empty")
    assert len(re.findall(r"^epoch ", stdout, re.M)) == 15
    train_accuracy, test_accuracy = final_accuracies(stdout)
    assert test_accuracy >= 0.9
    code, out, err = run(
        ["train", "--data", "iris", "--epochs", "15", "--seed", "2", "--json"], capsys
    )
    trained = json.loads(out)
    assert (train_accuracy, test_accuracy) == (
        round(trained["train_accuracy"], 4),
        round(trained["test_accuracy"], 4),
    )
    loss = float(re.findall(r"loss (\d\.\d+)", stdout)[-1])
    assert loss == round(trained["history"]["loss"][-1], 6)


def test_code_train_on_xor_and_on_a_csv_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, source, err = run(["code", "--train", "--data", "xor"], capsys)
    assert code == 0, err
    assert final_accuracies(run_program(source, tmp_path / "xor")) == (1.0, 1.0)
    rng = np.random.default_rng(0)
    rows = ["width,height,kind"]
    for _ in range(60):  # two blobs, labels as text
        kind = rng.choice(["big", "small"])
        centre = 3.0 if kind == "big" else 0.0
        rows.append(f"{centre + rng.normal():.3f},{centre + rng.normal():.3f},{kind}")
    (tmp_path / "blobs.csv").write_text("\n".join(rows) + "\n")
    code, source, err = run(["code", "--train", "--data", "blobs.csv", "--epochs", "20"], capsys)
    assert code == 0, err
    assert "import csv" in source and str(tmp_path / "blobs.csv") in source
    train_accuracy, test_accuracy = final_accuracies(run_program(source, tmp_path / "blobs"))
    assert test_accuracy >= 0.9
    code, out, err = run(["train", "--data", "blobs.csv", "--epochs", "20", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["files"][0] == os.path.join("train-blobs", "curves.png")
    assert round(json.loads(out)["test_accuracy"], 4) == test_accuracy


def test_code_options_of_the_program_need_train(capsys):
    code, _, err = run(["code", "--layers", "2", "1", "--epochs", "3"], capsys)
    assert "--epochs is an option of the training program: add --train" in one_line_error(code, err)
    code, out, _ = run(["code", "--layers", "2", "1"], capsys)
    assert code == 0 and "biases[" not in out  # without --train, no biases unless asked
    code, out, _ = run(["code", "--train", "--data", "xor", "--no-bias"], capsys)
    assert code == 0 and "BIAS = False" in out


def test_the_program_copies_the_functions_derive_train_runs():
    source = program.program_source(defaults.classifier(4, 3), "iris", loop.Settings())
    for fn in program.DATA_FUNCTIONS + program.TRAINING_FUNCTIONS:
        assert f"\ndef {fn.__name__}(" in source
    compile(source, "classifier.py", "exec")


def test_the_real_command_trains(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "derive", "train", "--data", "xor", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["test_accuracy"] == 1.0


def test_odd_paths_and_encodings_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin1.csv").write_bytes("a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    code, _, err = run(["train", "--data", "latin1.csv"], capsys)
    assert "not UTF-8" in one_line_error(code, err)
    code, _, err = run(["train", "--data", "xor", "--out", ""], capsys)
    assert "--out is empty" in one_line_error(code, err)
    code, _, err = run(["train", "--data", ""], capsys)
    assert "--data is empty" in one_line_error(code, err)
    code, _, err = run(["train", "--data", "xor", "--out", "x" * 300], capsys)
    assert "300 bytes long" in one_line_error(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latin1.csv"]


def test_numeric_labels_are_ordered_by_value_and_a_constant_feature_is_only_centred(tmp_path):
    assert datasets.class_order(["10", "2", "1", "2"]) == ["1", "2", "10"]
    assert datasets.class_order(["b", "a", "10"]) == ["10", "a", "b"]
    assert datasets.class_order(["nan", "1"]) == ["1", "nan"]
    path = tmp_path / "d.csv"
    path.write_text("x,const,y\n" + "".join(f"{i},5,{10 if i % 2 else 2}\n" for i in range(8)))
    data = datasets.load(str(path), 0)
    assert data.classes == ("2", "10")
    assert np.all(data.X_train[:, 1] == 0) and data.scaling["std"][1] == 1.0


def test_odd_file_names_reach_every_output_intact(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = 'q"""\\N$\\frac{\x01 é.csv'
    (tmp_path / name).write_text(
        "a,b,label\n" + "".join(f"{i},{i % 3},{'x' if i % 2 else 'y'}\n" for i in range(12))
    )
    code, _, err = run(["train", "--data", name, "--epochs", "2", "--out", "o", "--quiet"], capsys)
    assert code == 0 and err == "", err  # no warning about glyphs, no mathtext error
    assert run(["grad", tmp_path / "o" / "network.toml", "--json"], capsys)[0] == 0
    code, source, err = run(["code", "--train", "--data", name, "--epochs", "2"], capsys)
    assert code == 0, err
    compile(source, "classifier.py", "exec")
    assert repr(str(tmp_path / name)) in source
