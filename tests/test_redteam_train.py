"""Red team: `derive train --data FILE.csv` and its options, as careless users and attackers use them.

Each data file below is written by hand the way people really produce them (a spreadsheet's export, a
paste, a typo, a file that is not a CSV at all, one built to exhaust memory or time). Each one either
trains (exit 0) or is refused in one line, exit 2, before anything is written: no traceback, no
warning on stderr, no output directory left behind. Extreme --epochs and --batch-size values are
refused or bounded the same way (derive.training.loop.MAX_STEPS and MAX_WORK bound a run's work).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tests.redteam import Surface  # noqa: E402

from derive.cli import main  # noqa: E402
from derive.training import datasets, loop  # noqa: E402

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

GOOD = "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n1,1,x\n2,2,y\n"

# name: (file content: text, or bytes as written, or a callable writing the file; the words of the
# one-line refusal, or None when the file trains)
FILES: dict[str, tuple[object, str | None]] = {
    "one row": ("a,b,label\n1,2,x\n", "one class only"),
    "one row per class": ("a,b,label\n1,2,x\n3,4,y\n", "has 1 row"),
    "one column": ("label\nx\ny\nx\ny\n", "at least one feature column"),
    "header only": ("a,b,label\n", "no samples"),
    "empty": ("", "is empty"),
    "only spaces": ("   \n\t\n", "is empty"),
    "NaN": ("a,b,label\n1,2,x\n3,NaN,y\n5,6,x\n7,8,y\n", "'NaN' is not a finite number"),
    "nan lower": ("a,b,label\n1,2,x\n3,nan,y\n5,6,x\n7,8,y\n", "'nan' is not a finite number"),
    "-nan": ("a,b,label\n1,2,x\n3,-nan,y\n5,6,x\n7,8,y\n", "is not a finite number"),
    "inf": ("a,b,label\n1,2,x\n3,inf,y\n5,6,x\n7,8,y\n", "'inf' is not a finite number"),
    "-Infinity": (
        "a,b,label\n1,2,x\n3,-Infinity,y\n5,6,x\n7,8,y\n",
        "'-Infinity' is not a finite number",
    ),
    "1e999": ("a,b,label\n1,2,x\n3,1e999,y\n5,6,x\n7,8,y\n", "'1e999' is not a finite number"),
    "1e308": ("a,label\n1e308,x\n-1e308,y\n1,x\n2,y\n", "'1e308' is too large"),
    "text in a number": ("a,b,label\n1,2,x\n3,four,y\n5,6,x\n7,8,y\n", "'four' is not a number"),
    "decimal comma": ('a,b,label\n"1,5",2,x\n3,4,y\n5,6,x\n7,8,y\n', "'1,5' is not a number"),
    "hex": ("a,b,label\n0x10,2,x\n3,4,y\n5,6,x\n7,8,y\n", "'0x10' is not a number"),
    "1_000": (
        "a,b,label\n1_000,2,x\n3,4,y\n5,6,x\n7,8,y\n",
        "'1_000' is not a number written with the digits",
    ),
    "Arabic-Indic digits": (
        "a,b,label\n١٢,2,x\n3,4,y\n5,6,x\n7,8,y\n",
        "is not a number written with the digits",
    ),
    "percent": ("a,b,label\n50%,2,x\n3,4,y\n5,6,x\n7,8,y\n", "'50%' is not a number"),
    "thousands separator": (
        'a,b,label\n"1,000",2,x\n3,4,y\n5,6,x\n7,8,y\n',
        "'1,000' is not a number",
    ),
    "empty cell": ("a,b,label\n1,,x\n3,4,y\n5,6,x\n7,8,y\n", "the value is empty"),
    "empty label": (
        "a,b,label\n1,2,\n3,4,y\n5,6,x\n7,8,y\n",
        "the class label (column 'label') is empty",
    ),
    "ragged": ("a,b,label\n1,2,x\n3,4,y\n5,x\n1,1,x\n", "2 fields, but the header has 3"),
    "trailing comma": ("a,b,label,\n1,2,x,\n3,4,y,\n", "'x' is not a number"),
    "semicolons": ("a;b;label\n1;2;x\n3;4;y\n", "at least one feature column"),
    "tabs": ("a\tb\tlabel\n1\t2\tx\n3\t4\ty\n", "at least one feature column"),
    "no header": ("1,2,x\n3,4,y\n5,6,x\n7,8,y\n", "needs a header row"),
    "repeated column": ("a,a,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", "names the column 'a' twice"),
    "newline in a label": (
        'a,b,label\n1,2,"x\ny"\n3,4,y\n5,6,x\n7,8,y\n',
        "a quoted field spans several lines",
    ),
    "unclosed quote": ('a,b,label\n1,2,"x\n3,4,y\n5,6,x\n', 'is a quote " left open?'),
    "NUL byte": (b"a,b,label\n1,2,x\x00\n3,4,y\n", "binary"),
    "Latin-1": (
        "a,b,label\n1,2,caf\xe9\n3,4,y\n5,6,caf\xe9\n7,8,y\n".encode("latin-1"),
        "is not UTF-8",
    ),
    "UTF-16": (GOOD.encode("utf-16"), "UTF-16"),
    "a PNG": (b"\x89PNG\r\n\x1a\n" + bytes(200), "binary"),
    "a 300-character label": (
        "a,label\n1," + "x" * 300 + "\n2,y\n3," + "x" * 300 + "\n4,y\n",
        "characters",
    ),
    "10,000 classes": (
        lambda p: p.write_text(
            "a,label\n" + "".join(f"{i},c{i}\n{i},c{i}\n" for i in range(10_000))
        ),
        "10000 classes",
    ),
    "200 float labels": (
        "a,label\n" + "".join(f"{i},{i * 0.37:.2f}\n" for i in range(200)),
        "200 classes",
    ),
    "10^6 columns": (
        lambda p: p.write_text(",".join(f"f{k}" for k in range(10**6)) + ",label\n1,x\n"),
        "characters long",
    ),
    "1,001 features": (
        lambda p: p.write_text(",".join(f"f{k}" for k in range(1001)) + ",label\n"),
        "at most 1000 are allowed",
    ),
    "150,000 rows": (
        lambda p: p.write_text(
            "a,label\n" + "".join(f"{i % 7},{'xy'[i % 2]}\n" for i in range(150_000))
        ),
        "more than 100,000 rows",
    ),
    "1 GB sparse": (lambda p: p.open("wb").truncate(10**9), "larger than 20 MB"),
    "a 200,000-character line": (
        lambda p: p.write_text("a,label\n" + "1" * 200_000 + ",x\n"),
        "characters long",
    ),
    # These train: what a spreadsheet exports is read as it means.
    "byte-order mark": ("\ufeff" + GOOD, None),
    "CR line ends": (GOOD.replace("\n", "\r"), None),
    "CRLF line ends": (GOOD.replace("\n", "\r\n"), None),
    "spaces around cells": (GOOD.replace(",", " , "), None),
    "quoted numbers": ('a,b,label\n"1","2",x\n"3","4",y\n"5","6",x\n"7","8",y\n', None),
    "1 and 1.0 one class": ("a,label\n1,1\n2,1.0\n3,0\n4,0.0\n5,+1\n6,0\n", None),
    "exponents": ("a,b,label\n1e-3,2E2,x\n.5,4.,y\n-5,+6,x\n7,8,y\n", None),
    "formula-looking labels": (
        "a,label\n1,=cmd|' /C calc'!A0\n2,x\n3,=cmd|' /C calc'!A0\n4,x\n",
        None,
    ),
    "blank lines": ("\n" + GOOD.replace("\n", "\n\n"), None),
}

OPTIONS: list[
    tuple[list[str], str | None]
] = [  # (train options on xor or digits, refusal words or None)
    (["--data", "xor", "--epochs", "0"], "--epochs must be a whole number from 1"),
    (["--data", "xor", "--epochs", "-1"], "--epochs must be a whole number from 1"),
    (["--data", "xor", "--epochs", "100001"], "--epochs must be a whole number from 1 to 100,000"),
    (["--data", "xor", "--epochs", str(10**30)], "--epochs must be a whole number"),
    (["--data", "xor", "--epochs", "1e3"], "invalid int value"),
    (["--data", "xor", "--epochs", "ten"], "invalid int value"),
    (["--data", "xor", "--batch-size", "0"], "--batch-size must be a whole number from 1"),
    (["--data", "xor", "--batch-size", str(10**10)], "--batch-size must be a whole number from 1"),
    (["--data", "xor", "--learning-rate", "inf"], "--learning-rate must be a positive number"),
    (["--data", "xor", "--learning-rate", "1e-400"], "--learning-rate must be a positive number"),
    (
        ["--data", "xor", "--learning-rate", "101"],
        "--learning-rate must be a positive number of at most 100",
    ),
    (
        ["--data", "digits", "--epochs", "100000", "--batch-size", "1"],
        "gradient steps; derive train takes at most",
    ),
    (["--data", "digits", "--epochs", "100000"], "gradient steps; derive train takes at most"),
    (
        [
            "--data",
            "digits",
            "--layers",
            "64",
            "1000",
            "10",
            "--epochs",
            "10000",
            "--batch-size",
            "1000",
        ],
        "weight-sample products; derive train takes at most",
    ),
    (
        ["--data", "xor", "--epochs", "100000", "--batch-size", "1"],
        None,
    ),  # 3 samples: 300,000 steps, seconds
    (
        ["--data", "xor", "--epochs", "2", "--batch-size", str(10**9)],
        None,
    ),  # one batch of all samples
    (["--data", "digits", "--epochs", "1", "--batch-size", "1"], None),
]

REDTEAM = [
    Surface(
        surface="derive train --data FILE.csv",
        tried="1 row, 10^6 columns, NaN, inf, 1e308, text, decimal "
        "commas, 10,000 classes, 150,000 rows, a 1 GB sparse file, binary, other encodings, exports that must "
        "train",
        cases=len(FILES),
        limit=f"{datasets.MAX_CSV_BYTES // 10**6} MB, {datasets.MAX_ROWS:,} rows, "
        f"{datasets.MAX_FEATURES:,} features, {datasets.MAX_CLASSES} classes, {datasets.MAX_LINE:,}-character "
        "lines",
        holds="each trains or is refused in one line (exit 2), nothing written",
    ),
    Surface(
        surface="train's --epochs, --batch-size, --learning-rate",
        tried="0, negative, 10^30, 10^10, inf, 1e-400, runs of 10^8 steps",
        cases=len(OPTIONS),
        limit=f"{loop.MAX_STEPS:,} gradient steps, {loop.MAX_WORK:.0e} weight-sample products",
        holds="refused in one line before training, or bounded",
    ),
]


def _train(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(["train", *argv, "--quiet"])
    except SystemExit as stop:  # argparse's own usage errors
        code = stop.code if isinstance(stop.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def _refused_in_one_line(code: int, err: str, words: str) -> None:
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert (
        lines
        and lines[-1].startswith(("derive: error: ", "derive train: error: "))
        or "usage:" in err
    ), err
    assert words in err, (words, err)
    assert "Traceback" not in err and "Warning" not in err, err


@pytest.mark.parametrize("name", list(FILES))
def test_data_files(name, tmp_path, capsys, monkeypatch):
    content, words = FILES[name]
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data.csv"
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    code, out, err = _train(["--data", "data.csv", "--epochs", "2", "--out", "run"], capsys)
    if words is None:
        assert code == 0 and err == "", (code, err)
        assert (tmp_path / "run" / "weights.json").is_file()
    else:
        _refused_in_one_line(code, err, words)
        assert err.count("\n") == 1 and out == "", err
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "data.csv"
        ]  # no output, no lock, no scratch


def test_one_and_one_point_zero_are_one_class(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(FILES["1 and 1.0 one class"][0])
    _, labels, classes, _ = datasets.read_csv(path)
    assert classes == ("0", "1") and list(labels) == [1, 1, 0, 0, 1, 0]


@pytest.mark.parametrize("argv, words", OPTIONS, ids=[" ".join(a) for a, _ in OPTIONS])
def test_training_options(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _train([*argv, "--out", "run"], capsys)
    if words is None:
        assert code == 0 and err == "", (code, err)
    else:
        _refused_in_one_line(code, err, words)
        assert list(tmp_path.iterdir()) == []
