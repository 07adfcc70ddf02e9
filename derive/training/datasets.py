"""Data for a classifier: digits and iris (the copies scikit-learn ships: no download), xor, CSV files.

Every data set becomes features X (rows are samples) and integer labels 0..K-1 naming its classes.
The test set is a stratified 25 % of the samples (a quarter of each class), drawn by the seed;
xor's four points are the whole problem, so they are both its training and its test set.
Features are scaled: the digits' pixels (0..16) divided by 16, everything else standardised with
the mean and standard deviation of the training split only (the test set is never looked at).

A CSV file has a header row naming the columns; the last column is the class label (any text,
e.g. ``setosa`` or ``7``), every other column a feature (a finite number). Classes are ordered by
value when every label is a number (2 before 10), else alphabetically. Anything wrong is one
line naming the file, the line and the column.

Functions marked "copied into the standalone program" use nothing but NumPy: program.py copies
their source.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy

from derive.errors import DeriveError, ParameterError, shown_value
from derive.read.spec_file import check_text, read_text_input, shown_path

BUILT_IN = ("digits", "iris", "xor")
SHAPES = {
    "digits": (64, 10),
    "iris": (4, 3),
    "xor": (2, 2),
}  # (features, classes), known without loading
TEST_FRACTION = 0.25
MAX_CSV_BYTES = 20_000_000
MAX_ROWS = 100_000
MAX_FEATURES = 1_000
MAX_CLASSES = 100
MAX_LABEL = 100  # characters of one class label
# characters of one line, checked before the csv module splits it: 1,000 numbers and a label fit many times
# over, and a 20 MB line of "1,1,1,..." is refused at once instead of becoming 10 million strings (700 MB)
MAX_LINE = 100_000

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_LABELS = [0, 1, 1, 0]


@dataclass(frozen=True)
class Dataset:
    """A data set split and scaled: training and test features and labels, and how it was scaled."""

    name: str  # digits, iris, xor, or the CSV file's name
    source: str  # what --data said
    X_train: numpy.ndarray
    labels_train: numpy.ndarray
    X_test: numpy.ndarray
    labels_test: numpy.ndarray
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    scaling: dict  # {"divide_by": 16} or {"mean": [...], "std": [...]}
    held_out: bool = True  # False: the test set is the training set (xor)

    @property
    def features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def describe(self) -> str:
        samples = (
            f"{len(self.labels_train)} training samples and {len(self.labels_test)} test samples"
            if self.held_out
            else f"{len(self.labels_train)} samples, both the training and the test set"
        )
        return f"{self.name}: {samples}, {self.features} features, {self.n_classes} classes"


# Copied into the standalone program -------------------------------------------------------------
def random_generators(seed):
    """Two independent random generators from one seed: one draws the test split, the other the
    initial weights and the order of the mini-batches (so the split does not depend on the network)."""
    split_seed, train_seed = numpy.random.SeedSequence(seed).spawn(2)
    return numpy.random.default_rng(split_seed), numpy.random.default_rng(train_seed)


def stratified_split(labels, test_fraction, rng):
    """Indices (train, test): from every class a share test_fraction of its samples (at least one,
    never all of them), drawn at random, goes to the test set; both sorted."""
    train, test = [], []
    for label in numpy.unique(labels):
        members = rng.permutation(numpy.flatnonzero(labels == label))
        n_test = min(max(1, int(test_fraction * len(members) + 0.5)), len(members) - 1)
        test.extend(members[:n_test])
        train.extend(members[n_test:])
    return numpy.sort(numpy.array(train, dtype=int)), numpy.sort(numpy.array(test, dtype=int))


def standardise(X_train, X_test):
    """Features with mean 0 and standard deviation 1 on the training set (a constant feature is only
    centred); the test set is scaled with the training set's numbers. Returns (X_train, X_test, mean, std)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    return (X_train - mean) / std, (X_test - mean) / std, mean, std


def class_order(names):
    """The distinct class labels in order: by value when every label is a finite number (2 before 10),
    else alphabetically."""
    distinct = set(names)
    try:
        values = {name: float(name) for name in distinct}
    except ValueError:
        return sorted(distinct)
    if not all(math.isfinite(value) for value in values.values()):
        return sorted(distinct)
    return sorted(distinct, key=lambda name: (values[name], name))


# Loading ----------------------------------------------------------------------------------------
def check_source(data: str) -> None:
    """``data``: a built-in name or a CSV file that exists (one line when not), before any work."""
    if data in BUILT_IN:
        return
    from derive.read.spec_file import check_regular_file

    if not data:
        raise ParameterError("{data} is empty; give digits, iris, xor or a CSV file")
    if "\x00" in data:
        raise ParameterError("{data} {path!r} contains a NUL character", path=shown_path(data))
    if not Path(data).exists() and "/" not in data and "." not in data:
        from derive.errors import closest_hint

        raise ParameterError(
            "{data} {path!r} is neither a data set nor a file{hint}",
            path=shown_path(data),
            hint=closest_hint(data, BUILT_IN),
        )
    check_regular_file(data, "data file")


def shape(data: str) -> tuple[int, int]:
    """(features, classes) of ``data``: known for the built-in sets, read (and checked) for a CSV file."""
    check_source(data)
    if data in SHAPES:
        return SHAPES[data]
    X, _, classes, _ = read_csv(data)
    return X.shape[1], len(classes)


def needs_scikit_learn(data: str) -> bool:
    return data in ("digits", "iris")


def load(data: str, seed: int) -> Dataset:
    """The data set ``data`` (digits, iris, xor or a CSV file), split by ``seed`` and scaled."""
    check_source(data)
    if data == "xor":
        X, labels = numpy.array(XOR_X), numpy.array(XOR_LABELS)
        X_train, X_test, mean, std = standardise(X, X)
        return Dataset(
            "xor",
            data,
            X_train,
            labels,
            X_test,
            labels.copy(),
            ("0", "1"),
            ("x1", "x2"),
            {"mean": mean.tolist(), "std": std.tolist()},
            held_out=False,
        )
    if data in ("digits", "iris"):
        X, labels, classes, feature_names = _scikit_learn(data)
        name = data
    else:
        X, labels, classes, feature_names = read_csv(data)
        name = Path(data).name
    split_rng, _ = random_generators(seed)
    train, test = stratified_split(labels, TEST_FRACTION, split_rng)
    if data == "digits":
        X_train, X_test, scaling = X[train] / 16.0, X[test] / 16.0, {"divide_by": 16}
    else:
        X_train, X_test, mean, std = standardise(X[train], X[test])
        scaling = {"mean": mean.tolist(), "std": std.tolist()}
    return Dataset(
        name, data, X_train, labels[train], X_test, labels[test], classes, feature_names, scaling
    )


def _scikit_learn(
    data: str,
) -> tuple[numpy.ndarray, numpy.ndarray, tuple[str, ...], tuple[str, ...]]:
    from sklearn.datasets import load_digits, load_iris

    bunch = load_digits() if data == "digits" else load_iris()
    names = tuple(str(name) for name in bunch.target_names)
    features = tuple(str(name) for name in getattr(bunch, "feature_names", [])) or tuple(
        f"x{k}" for k in range(bunch.data.shape[1])
    )
    return (
        numpy.asarray(bunch.data, dtype=float),
        numpy.asarray(bunch.target, dtype=int),
        names,
        features,
    )


def read_csv(
    path: str | Path,
) -> tuple[numpy.ndarray, numpy.ndarray, tuple[str, ...], tuple[str, ...]]:
    """(X, labels, classes, feature names) from a CSV file with a header row and the label last."""
    text, name = read_text_input(path, "data file", MAX_CSV_BYTES, stdin=False)
    if not text.strip():
        raise DeriveError(
            f"data file {name} is empty; it needs a header row and one row per sample"
        )
    reader = csv.reader(_bounded_lines(io.StringIO(text, newline=""), name))
    header: list[str] | None = None
    rows: list[list[float]] = []
    names: list[str] = []
    try:
        for row in reader:
            if not row:
                continue
            where = f"data file {name}, line {reader.line_num}"
            if header is None:
                header = _header(row, where)
                continue
            if any("\n" in cell or "\r" in cell for cell in row):
                raise DeriveError(
                    f'{where}: a quoted field spans several lines (is a quote " left open?); '
                    "a data file has one sample per line"
                )
            if len(row) != len(header):
                raise DeriveError(
                    f"{where}: {len(row)} fields, but the header has {len(header)}; every row needs "
                    f"the {len(header) - 1} features and the label"
                )
            if len(rows) == MAX_ROWS:
                raise DeriveError(
                    f"data file {name} has more than {MAX_ROWS:,} rows; derive train takes at most that"
                )
            rows.append([_feature(value, header[k], where) for k, value in enumerate(row[:-1])])
            names.append(_label(row[-1], header[-1], where))
    except csv.Error as error:
        raise DeriveError(
            f"data file {name}, line {reader.line_num}: not readable as CSV ({error})"
        ) from None
    if header is None or not rows:
        raise DeriveError(f"data file {name} has a header row but no samples")
    names = _same_numbers_same_class(names)
    classes = class_order(names)
    counts = {c: 0 for c in classes}
    for label in names:
        counts[label] += 1
    if len(classes) < 2:
        raise DeriveError(
            f"data file {name} has one class only ({classes[0]!r} in column {header[-1]!r}); "
            "a classifier needs at least two"
        )
    if len(classes) > MAX_CLASSES:
        raise DeriveError(
            f"data file {name} has {len(classes)} classes in column {header[-1]!r}; at most "
            f"{MAX_CLASSES} are allowed (is the last column really the class label?)"
        )
    few = [c for c in classes if counts[c] < 2]
    if few:
        raise DeriveError(
            f"data file {name}: class {few[0]!r} has 1 row; every class needs at least 2 (one for "
            "training, one for the test set)"
        )
    index = {c: i for i, c in enumerate(classes)}
    labels = numpy.array([index[label] for label in names], dtype=int)
    return numpy.array(rows, dtype=float), labels, tuple(classes), tuple(header[:-1])


def _bounded_lines(lines, name: str):
    """The file's lines, each at most MAX_LINE characters (one DeriveError line for a longer one)."""
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE:
            raise DeriveError(
                f"data file {name}, line {number} is {len(line):,} characters long; a line may have at "
                f"most {MAX_LINE:,} (a row holds at most {MAX_FEATURES:,} features and the label)"
            )
        yield line


def _header(row: list[str], where: str) -> list[str]:
    header = [cell.strip() for cell in row]
    if len(header) < 2:
        raise DeriveError(
            f"{where}: the header names {len(header)} column; a data file needs at least one feature "
            "column and the label column, separated by commas"
        )
    if len(header) - 1 > MAX_FEATURES:
        raise DeriveError(
            f"{where}: the header names {len(header) - 1} features; at most {MAX_FEATURES} are allowed"
        )
    repeated = next((cell for k, cell in enumerate(header) if cell in header[:k]), None)
    if repeated is not None:
        raise DeriveError(
            f"{where}: the header names the column {repeated!r} twice; name every column once"
        )
    if all(_is_number(cell) for cell in header[:-1]):
        raise DeriveError(
            f"{where}: the first row holds numbers; the file needs a header row naming the columns "
            "(the last column is the class label)"
        )
    return header


# A number as a spreadsheet or pandas writes one: decimal digits 0-9, a point, an exponent. Python's float()
# also takes 1_000, Arabic-Indic digits and "Infinity", which no other reader of the file would.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_MAGNITUDE = 1e100  # beyond it the standardisation's squares overflow


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text.strip()) is not None


def _feature(value: str, column: str, where: str) -> float:
    text = value.strip()
    if not text:
        raise DeriveError(
            f"{where}, column {column!r}: the value is empty; every feature needs a number"
        )
    try:
        number = float(text)
    except ValueError:
        raise DeriveError(
            f"{where}, column {column!r}: {shown_value(text)} is not a number"
        ) from None
    if not math.isfinite(number):
        raise DeriveError(f"{where}, column {column!r}: {shown_value(text)} is not a finite number")
    if not _is_number(text):
        raise DeriveError(
            f"{where}, column {column!r}: {shown_value(text)} is not a number written with the "
            "digits 0-9 (like 1000, -0.5 or 2e-3)"
        )
    if abs(number) > MAX_MAGNITUDE:
        raise DeriveError(
            f"{where}, column {column!r}: {shown_value(text)} is too large; features may be at most "
            f"{MAX_MAGNITUDE:g} in size"
        )
    return number


def _same_numbers_same_class(names: list[str]) -> list[str]:
    """Labels that are all numbers, written one way (1, 1.0, +1 and 01 are one class, "1"); others as typed."""
    if not all(_is_number(name) for name in names):
        return names

    def canonical(name: str) -> str:
        value = float(name)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)

    return [canonical(name) for name in names]


def _label(value: str, column: str, where: str) -> str:
    label = value.strip()
    if not label:
        raise DeriveError(f"{where}: the class label (column {column!r}) is empty")
    return check_text(label, f"{where}: the class label", MAX_LABEL)
