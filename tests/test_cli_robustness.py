"""The command line under bad input: a hand-written corpus of the ways users get arguments wrong.

Every case must end with exactly one line on stderr and exit status 2 (bad input), or 1 where the
input is fine and the answer is a verdict (a wrong answer); never a traceback, never a Python
exception's name, never exit 3 (an internal error). Most cases run in-process through
``derive.cli.main`` (fast); a subset runs through the real ``python -m derive`` in a fresh
interpreter, with arguments as raw bytes (non-UTF-8 included) and stdin where it matters.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main

ROOT = Path(__file__).resolve().parent.parent
NOT_UTF8 = os.fsdecode(b"\xff\xfe")  # what Python makes of a non-UTF-8 argument: lone surrogates
DEEP = 100_000

KEY_FORMAT = "derive-homework-key/2"


def _question(**fields):
    base = {
        "id": "q1",
        "kind": "weight-gradient",
        "layers": [2, 2, 1],
        "activation": ["sigmoid", "sigmoid"],
        "cost": "quadratic",
        "bias": False,
        "layer": 2,
        "digits": 4,
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not ...}


def _key(*questions):
    return json.dumps({"format": KEY_FORMAT, "version": 1, "questions": list(questions)})


VALUES = "[values]\nx = [0.5, 0.1]\ny = [1]\nweights = [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6]]]\n"

# name -> content (str: UTF-8 text; bytes: as is; None: a directory)
FILES: dict[str, str | bytes | None] = {
    "ok.toml": 'layers = [2, 2, 1]\nactivation = "sigmoid"\n' + VALUES,
    "novalues.toml": "layers = [2, 3, 1]\n",
    "ok.json": '{"layers": [2, 1]}',
    "empty.toml": "",
    "empty.json": "",
    "blank.toml": "   \n\n",
    "binary.toml": bytes(range(256)) * 4,
    "png.json": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
    "latin1.toml": 'title = "\u00dcbung"\nlayers = [2, 1]\n'.encode("latin-1"),
    "utf16.toml": "layers = [2, 1]\n".encode("utf-16"),
    "nul.toml": "layers = [2, 1]\n\x00\n",
    "deep.json": "[" * DEEP + "]" * DEEP,
    "deep-object.json": '{"a":' * DEEP + "1" + "}" * DEEP,
    "deep-layers.json": '{"layers": ' + "[" * DEEP + "]" * DEEP + "}",
    "deep.toml": "layers = " + "[" * DEEP + "]" * DEEP + "\n",
    "deep-table.toml": "a = " + "{b = " * 5_000 + "1" + "}" * 5_000 + "\n",
    "huge.toml": "layers = [2, 1]\n" + "# padding\n" * 150_000,
    "layers-string.toml": 'layers = "2 3 1"\n',
    "layers-float.toml": "layers = [2, 3.5, 1]\n",
    "layers-bool.toml": "layers = [2, true]\n",
    "layers-zero.toml": "layers = [2, 0, 1]\n",
    "layers-negative.toml": "layers = [2, -3, 1]\n",
    "layers-huge.toml": "layers = [2, 9223372036854775807]\n",
    "layers-nested.toml": "layers = [[2], [1]]\n",
    "layers-empty.toml": "layers = []\n",
    "layers-one.toml": "layers = [3]\n",
    "layers-table.toml": "[layers]\na = 1\n",
    "layers-deep.toml": "layers = [" + ", ".join(["2"] * 70) + "]\n",
    "layers-missing.toml": 'activation = "tanh"\n',
    "layers-exponent.json": '{"layers": [2, 1e-1]}',
    "long-number.json": '{"layers": [2, ' + "9" * 5000 + "]}",
    "values-long-number.json": '{"layers": [2, 1], "values": {"x": [1, '
    + "1" * 5000
    + '], "y": [1], '
    '"weights": [[[1, 2]]]}}',
    "layers-bigfloat.json": '{"layers": [2, 1e400]}',
    "layers-null.json": '{"layers": null}',
    "bias-string.toml": 'layers = [2, 1]\nbias = "yes"\n',
    "bias-int.json": '{"layers": [2, 1], "bias": 1}',
    "title-int.toml": "layers = [2, 1]\ntitle = 5\n",
    "title-long.toml": f'layers = [2, 1]\ntitle = "{"x" * 300}"\n',
    "title-control.json": '{"layers": [2, 1], "title": "a\\u0000b"}',
    "activation-int.toml": "layers = [2, 1]\nactivation = 3\n",
    "activation-list-bad.toml": 'layers = [2, 2, 1]\nactivation = ["tanh", 3]\n',
    "activation-unknown.toml": 'layers = [2, 1]\nactivation = "sigmod"\n',
    "activation-count.toml": 'layers = [2, 1]\nactivation = ["tanh", "tanh", "tanh"]\n',
    "activation-div0.toml": 'layers = [2, 1]\nactivation = "sigmoid(gain=1/0)"\n',
    "activation-table.toml": 'layers = [2, 1]\n[activation]\nname = "tanh"\n',
    "activation-empty-list.json": '{"layers": [2, 1], "activation": []}',
    "cost-int.toml": "layers = [2, 1]\ncost = 1\n",
    "cost-unknown.toml": 'layers = [2, 1]\ncost = "hinge"\n',
    "cost-domain.toml": 'layers = [2, 1]\nactivation = "tanh"\ncost = "cross-entropy"\n',
    "notation-unknown.toml": 'layers = [2, 1]\nnotation = "bishop"\n',
    "notation-int.toml": "layers = [2, 1]\nnotation = 2\n",
    "unknown-key.toml": "lyers = [2, 1]\n",
    "unknown-key2.toml": "layers = [2, 1]\nlearning_rate = 0.1\n",
    "values-string.toml": 'layers = [2, 1]\nvalues = "x"\n',
    "values-missing-x.toml": "layers = [2, 1]\n[values]\ny = [1]\nweights = [[[1, 2]]]\n",
    "values-x-length.toml": "layers = [2, 1]\n[values]\nx = [1]\ny = [1]\nweights = [[[1, 2]]]\n",
    "values-x-string.toml": 'layers = [2, 1]\n[values]\nx = ["a b", 1]\ny = [1]\nweights = [[[1, 2]]]\n',
    "values-x-bool.toml": "layers = [2, 1]\n[values]\nx = [true, 1]\ny = [1]\nweights = [[[1, 2]]]\n",
    "values-nan.toml": "layers = [2, 1]\n[values]\nx = [nan, 1]\ny = [1]\nweights = [[[1, 2]]]\n",
    "values-inf.toml": "layers = [2, 1]\n[values]\nx = [inf, 1]\ny = [1]\nweights = [[[1, 2]]]\n",
    "values-huge.toml": "layers = [2, 1]\n[values]\nx = [1e300, 1]\ny = [1]\nweights = [[[1, 2]]]\n",
    "values-hugeint.toml": "layers = [2, 1]\n[values]\nx = [9223372036854775807, 1]\ny = [1]\n"
    "weights = [[[1, 2]]]\n",
    "values-nan.json": '{"layers": [2, 1], "values": {"x": [NaN, 1], "y": [1], "weights": [[[1, 2]]]}}',
    "values-infinity.json": '{"layers": [2, 1], "values": {"x": [Infinity, 1], "y": [1], "weights": [[[1, 2]]]}}',
    "values-1e400.json": '{"layers": [2, 1], "values": {"x": [1e400, 1], "y": [1], "weights": [[[1, 2]]]}}',
    "values-rows.toml": "layers = [2, 2, 1]\n[values]\nx = [1, 2]\ny = [1]\n"
    "weights = [[[1, 2]], [[1, 2]]]\n",
    "values-ragged.toml": "layers = [2, 2, 1]\n[values]\nx = [1, 2]\ny = [1]\n"
    "weights = [[[1, 2], [3]], [[1, 2]]]\n",
    "values-weights-scalar.toml": "layers = [2, 1]\n[values]\nx = [1, 2]\ny = [1]\nweights = 3\n",
    "values-weights-count.toml": "layers = [2, 1]\n[values]\nx = [1, 2]\ny = [1]\nweights = [[[1, 2]], [[1]]]\n",
    "values-biases-unwanted.toml": "layers = [2, 1]\n[values]\nx = [1, 2]\ny = [1]\nweights = [[[1, 2]]]\n"
    "biases = [[1]]\n",
    "values-biases-missing.toml": "layers = [2, 1]\nbias = true\n[values]\nx = [1, 2]\ny = [1]\n"
    "weights = [[[1, 2]]]\n",
    "values-biases-shape.toml": "layers = [2, 1]\nbias = true\n[values]\nx = [1, 2]\ny = [1]\n"
    "weights = [[[1, 2]]]\nbiases = [[1, 2]]\n",
    "values-unknown.toml": "layers = [2, 1]\n[values]\nx = [1, 2]\ny = [1]\nweights = [[[1, 2]]]\nz = [1]\n",
    "values-overflow.toml": "layers = [1, 1]\nactivation = 'g(z) = e^{z}'\n[values]\nx = [1000]\ny = [1]\n"
    "weights = [[[1000]]]\n",
    "deep-network.toml": "layers = [" + ", ".join(["1"] * 66) + "]\n",
    "array-top.json": "[2, 1]",
    "string-top.json": '"layers"',
    "trailing-comma.json": '{"layers": [2, 1],}',
    "syntax.toml": "layers = [2, 1\n",
    "toml-in-json.json": "layers = [2, 1]\n",
    "yaml.yaml": "layers: [2, 1]\n",
    "dir.toml": None,
    "folder": None,
    # answer keys
    "keys": None,
    "key-binary.json": bytes(range(256)),
    "key-text.json": "hello",
    "key-empty.json": "",
    "key-array.json": "[1, 2]",
    "key-format.json": '{"format": "something-else", "questions": []}',
    "key-no-questions.json": json.dumps({"format": KEY_FORMAT}),
    "key-questions-string.json": json.dumps({"format": KEY_FORMAT, "questions": "q1"}),
    "key-question-number.json": json.dumps({"format": KEY_FORMAT, "questions": [1]}),
    "key-no-id.json": _key(_question(id=...)),
    "key-kind.json": _key(_question(kind="integral")),
    "key-layers-string.json": _key(_question(layers="abc")),
    "key-layers-int.json": _key(_question(layers=3)),
    "key-layer-string.json": _key(_question(layer="x")),
    "key-layer-range.json": _key(_question(layer=7)),
    "key-layer-missing.json": _key(_question(layer=...)),
    "key-activation-int.json": _key(_question(activation=[3, 4])),
    "key-activation-unknown.json": _key(_question(activation=["sigmod", "sigmoid"])),
    "key-cost.json": _key(_question(cost="hinge")),
    "key-bias-string.json": _key(_question(bias="no")),
    "key-node.json": _key(_question(kind="numeric-gradient", node=[1], values={"x": ["1", "2"]})),
    "key-values.json": _key(
        _question(
            kind="numeric-gradient",
            node=[0, 0],
            layer=2,
            values={
                "x": ["abc", "1"],
                "y": ["1"],
                "weights": [[["1", "1"], ["1", "1"]], [["1", "1"]]],
            },
        )
    ),
    "key-values-missing.json": _key(_question(kind="numeric-gradient", node=[0, 0], layer=2)),
    "key-factor.json": _key(_question(kind="missing-factor", factor=7)),
    "key-digits.json": _key(
        _question(
            kind="numeric-gradient",
            node=[0, 0],
            layer=2,
            digits="four",
            values={
                "x": ["1", "2"],
                "y": ["1"],
                "weights": [[["1", "1"], ["1", "1"]], [["1", "1"]]],
            },
        )
    ),
    "key-deep.json": '{"format": "derive-homework-key/2", "questions": '
    + "[" * DEEP
    + "]" * DEEP
    + "}",
    "key-huge-network.json": _key(_question(layers=[2] * 40, activation=["sigmoid"] * 39, layer=1)),
    "key-wide-network.json": _key(_question(layers=[100000, 100000, 100000], layer=1)),
    "key-duplicate-ids.json": _key(_question(), _question()),
    "key-latin1.json": (
        '{"format": "derive-homework-key/2", "questions": [], "title": "\u00dc"}'
    ).encode("latin-1"),
    # answers for derive grade
    "answers.csv": "student,version,question,answer\nann,1,q1,0\n",
    "answers-binary.csv": bytes(range(256)),
    "answers-empty.csv": "",
    "answers-no-header.csv": "ann,1,q1,0\n",
    "answers-missing-column.csv": "student,version,answer\nann,1,0\n",
    "answers-latin1.csv": "student,version,question,answer\n\u00e4nn,1,q1,0\n".encode("latin-1"),
    "answers-quote.csv": 'student,version,question,answer\nann,1,q1,"0\n',
    # templates
    "tpl-syntax": None,
    "tpl-syntax/sheet.tex.j2": r"\BLOCK{ if }",
    "tpl-undefined": None,
    "tpl-undefined/sheet.tex.j2": r"\VAR{no_such_variable}",
    "tpl-mro": None,
    "tpl-mro/sheet.tex.j2": r"\VAR{ ''.__class__.__mro__[1].__subclasses__() }",
    "tpl-cycler": None,
    "tpl-cycler/sheet.tex.j2": r"\VAR{ cycler.__init__.__globals__.os.popen('id').read() }",
    "tpl-joiner": None,
    "tpl-joiner/sheet.tex.j2": r"\VAR{ joiner.__init__.__globals__['os'].system('id') }",
    "tpl-lipsum": None,
    "tpl-lipsum/sheet.tex.j2": r"\VAR{ lipsum.__globals__['os'].popen('id').read() }",
    "tpl-format": None,
    "tpl-format/sheet.tex.j2": r"\VAR{ '{0.__class__}'.format(title) }",
    "tpl-range": None,
    "tpl-range/sheet.tex.j2": r"\BLOCK{ for i in range(10**9) }x\BLOCK{ endfor }",
    "tpl-binary": None,
    "tpl-binary/sheet.tex.j2": b"\xff\xfe\x00\x01 \\VAR{title}",
    "tpl-include": None,
    "tpl-include/sheet.tex.j2": r"\BLOCK{ include '/etc/passwd' }",
    "tpl-tex": None,
    "tpl-tex/sheet.tex.j2": "\\documentclass{article}\n\\begin{document}\n\\undefinedmacro\n"
    "\\end{document}\n",
    "tpl-file": "not a directory",
}


def _unwritable_directory(base: Path) -> str | None:
    """A directory nobody may create files in: as root, /sys (EPERM); else a directory with mode 0o500."""
    if os.geteuid() != 0:
        locked = base / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return str(locked)
    candidate = "/sys/derive-robustness-check"
    try:
        os.mkdir(candidate)
    except PermissionError:
        return candidate
    except OSError:
        return None
    os.rmdir(candidate)
    return None


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("robust")
    for name, content in FILES.items():
        path = base / name
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    from derive.homework.questions import make_version

    (base / "key.json").write_text(make_version(1, 1).key_json(), encoding="utf-8")
    (base / "outdir-taken").mkdir()
    (base / "outdir-taken" / "sheet.tex").mkdir()  # --out sheet: its .tex would replace a directory
    (base / "outdir-taken" / "grad.py").mkdir()
    ro = _unwritable_directory(base)
    return {
        "d": str(base),
        "ro": ro or "",
        "long": "x" * 300,
        "longpath": "/".join(["y" * 200] * 30),
    }


def fill(argv: list, files: dict[str, str]) -> list:
    def one(arg: str) -> str:
        for name, value in files.items():
            arg = arg.replace("{" + name + "}", value)
        return arg

    return [one(a) if isinstance(a, str) else a for a in argv]


OK = ["--layers", "2", "1"]
BAD = 2
VERDICT = 1
L = r"2(a_j^{(L)} - y_j)"

# (argv, expected status, stdin bytes or None). {d}: the fixture directory; {ro}: a directory nobody
# may write in; {long}: a 300-character name; {longpath}: a 6,000-character path.
CASES: list[tuple[list, int, bytes | None]] = [
    # --- no command, unknown commands and options ------------------------------------------
    ([], BAD, None),
    (["frobnicate"], BAD, None),
    (["step"], BAD, None),
    (["--bogus"], BAD, None),
    (["-x", "steps"], BAD, None),
    (["steps", "--bogus", *OK], BAD, None),
    (["steps", *OK, "stray"], BAD, None),
    (["steps", *OK, "--layer"], BAD, None),
    (["sheet", "{d}/ok.toml", "{d}/novalues.toml"], BAD, None),
    (["sheet", *OK, "--tex-only=yes"], BAD, None),
    (["steps", *OK, "--bias=yes"], BAD, None),
    (["examples", "stray"], BAD, None),
    (["code", *OK, "--out"], BAD, None),
    (["grad"], BAD, None),
    (["check"], BAD, None),
    (["check-answer"], BAD, None),
    (["check-answer", "{d}/key.json"], BAD, None),
    (["check-answer", "{d}/key.json", "q1"], BAD, None),
    (["grade"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers.csv"], BAD, None),
    (["homework"], BAD, None),
    (["completion"], BAD, None),
    (["completion", "tcsh"], BAD, None),
    (["steps", "--notation", "bishop", *OK], BAD, None),
    (["steps", "--notation", "", *OK], BAD, None),
    # --- layer sizes ------------------------------------------------------------------------
    (["steps"], BAD, None),
    (["steps", "--layers"], BAD, None),
    (["steps", "--layers", "2"], BAD, None),
    (["steps", "--layers", "2", "0", "1"], BAD, None),
    (["steps", "--layers", "2", "-3", "1"], BAD, None),
    (["steps", "--layers", "2", "1.5"], BAD, None),
    (["steps", "--layers", "2", "1e3"], BAD, None),
    (["steps", "--layers", "2", "two"], BAD, None),
    (["steps", "--layers", "2", ""], BAD, None),
    (["steps", "--layers", "2", " "], BAD, None),
    (["steps", "--layers", "2", "\u00b2"], BAD, None),  # a superscript two: isdigit() but not int()
    (["steps", "--layers", "2", "\u2460"], BAD, None),  # a circled one
    (["steps", "--layers", "2", "nan"], BAD, None),
    (["steps", "--layers", "2", "inf"], BAD, None),
    (["steps", "--layers", "2", "99999999999999999999999999"], BAD, None),
    (["steps", "--layers", "2", "9" * 5000], BAD, None),
    (["steps", "--layers", "2", "100001"], BAD, None),
    (["steps", "--layers", "2", "3,1"], BAD, None),
    (["steps", "--layers", "2 3 1"], BAD, None),
    (["steps", "--layers", "[2, 3, 1]"], BAD, None),
    (["steps", "--layers", *["2"] * 66], BAD, None),
    (["steps", "--layers", "2", NOT_UTF8], BAD, None),
    (["sheet", "--layers", "0", "1", "--tex-only"], BAD, None),
    (["code", "--layers", "-1", "2"], BAD, None),
    # --- --layer ----------------------------------------------------------------------------
    (["steps", *OK, "--layer", "0"], BAD, None),
    (["steps", *OK, "--layer", "2"], BAD, None),
    (["steps", *OK, "--layer", "-1"], BAD, None),
    (["steps", *OK, "--layer", "x"], BAD, None),
    (["steps", *OK, "--layer", "1.0"], BAD, None),
    (["steps", *OK, "--layer", ""], BAD, None),
    (["steps", *OK, "--layer", "99999999999999999999999"], BAD, None),
    # --- activations ------------------------------------------------------------------------
    (["steps", *OK, "--activation", "sigmod"], BAD, None),
    (["steps", *OK, "--activation", ""], BAD, None),
    (["steps", *OK, "--activation", " "], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=1/0)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=0/0)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=nan)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=inf)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=-inf)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=1e999)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=10**10**10)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=9" + "9" * 5000 + ")"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid("], BAD, None),
    (["steps", *OK, "--activation", "sigmoid)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=2"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=2, gain=3)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(2)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(slope=2)"], BAD, None),
    (["steps", *OK, "--activation", "relu(gain=2)"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=__import__('os'))"], BAD, None),
    (["steps", *OK, "--activation", "sigmoid(gain=(1,2))"], BAD, None),
    (["steps", *OK, "--activation", "sig" + NOT_UTF8 + "moid"], BAD, None),
    (["steps", "--layers", "2", "2", "1", "--activation", "tanh", "relu", "sigmoid"], BAD, None),
    (["steps", "--layers", "2", "2", "2", "1", "--activation", "tanh", "relu"], BAD, None),
    # activations defined in LaTeX
    (
        [
            "steps",
            "--layers",
            "2",
            "2",
            "1",
            "--activation",
            r"g(z) = \frac{z}{1+|z|}",
            "g(z) = z^2",
        ],
        BAD,
        None,
    ),
    (["steps", *OK, "--activation", "g(z) ="], BAD, None),
    (["steps", *OK, "--activation", "g(z) = "], BAD, None),
    (["steps", *OK, "--activation", r"g(z) = \frac{1}{0}"], BAD, None),
    (["steps", *OK, "--activation", "g(x) = x^2"], BAD, None),
    (["steps", *OK, "--activation", r"g(z) = \undefinedmacro{z}"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = z^{100000}"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = " + "(" * 500 + "z" + ")" * 500], BAD, None),
    (["steps", *OK, "--activation", "g(z) = " + "z+" * 5000 + "z"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = g(z)"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = y_j"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = z = 2z"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = 5"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = z\x00"], BAD, None),
    # --- costs ------------------------------------------------------------------------------
    (["steps", *OK, "--cost", "hinge"], BAD, None),
    (["steps", *OK, "--cost", ""], BAD, None),
    (["steps", *OK, "--cost", "quadratic(scale=2)"], BAD, None),
    (["steps", *OK, "--cost", "C_0 ="], BAD, None),
    (["steps", *OK, "--cost", r"C_0 = \sum_j"], BAD, None),
    (["steps", *OK, "--cost", r"C_0 = \frac{1}{0}\sum_j (a_j^{(L)} - y_j)^2"], BAD, None),
    (["steps", *OK, "--cost", r"C_1 = \sum_j (a_j^{(L)} - y_j)^2"], BAD, None),
    (["steps", *OK, "--cost", r"C_0 = \sum_j (a_j^{(L)} - y_j)^{100000}"], BAD, None),
    (["steps", *OK, "--activation", "tanh", "--cost", "cross-entropy"], BAD, None),
    (["steps", *OK, "--activation", "relu", "--cost", "cross-entropy"], BAD, None),
    (["steps", *OK, "--activation", "g(z) = z", "--cost", "cross-entropy"], BAD, None),
    # --- steps --check: too big to expand ---------------------------------------------------
    (["steps", "--layers", "784", "100", "10", "--check"], BAD, None),
    (["steps", "--layers", "16", "16", "16", "--check"], BAD, None),
    (
        ["steps", "--layers", "8", "8", "8", "8", "8", "--check"],
        BAD,
        None,
    ),  # 256 weights x 4 layers > 800
    # --- spec files -------------------------------------------------------------------------
    (["sheet", "{d}/missing.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/folder", "--tex-only"], BAD, None),
    (["sheet", "{d}/dir.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/ok.toml/inner.toml", "--tex-only"], BAD, None),
    (["sheet", "", "--tex-only"], BAD, None),
    (["sheet", "/dev/null", "--tex-only"], BAD, None),
    (["sheet", "{d}/" + NOT_UTF8 + ".toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/a\x00b.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/{long}.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/empty.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/empty.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/blank.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/binary.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/png.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/latin1.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/utf16.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/nul.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/deep.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/deep-object.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/deep-layers.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/deep.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/deep-table.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/huge.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/array-top.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/string-top.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/trailing-comma.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/syntax.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/toml-in-json.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/yaml.yaml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-string.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-float.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-bool.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-zero.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-negative.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-huge.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-nested.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-empty.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-one.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-table.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-deep.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-missing.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-exponent.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/layers-bigfloat.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/long-number.json", "--tex-only"], BAD, None),
    (["grad", "{d}/values-long-number.json"], BAD, None),
    (["sheet", "{d}/layers-null.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/bias-string.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/bias-int.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/title-int.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/title-long.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/title-control.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/activation-int.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/activation-list-bad.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/activation-unknown.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/activation-count.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/activation-div0.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/activation-table.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/activation-empty-list.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/cost-int.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/cost-unknown.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/cost-domain.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/notation-unknown.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/notation-int.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/unknown-key.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/unknown-key2.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-string.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-missing-x.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-x-length.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-x-string.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-x-bool.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-nan.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-inf.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-huge.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-hugeint.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-nan.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-infinity.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-1e400.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-rows.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-ragged.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-weights-scalar.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-weights-count.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-biases-unwanted.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-biases-missing.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-biases-shape.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/values-unknown.toml", "--tex-only"], BAD, None),
    (["sheet", "{d}/ok.toml", "--layers", "2", "1", "--tex-only"], BAD, None),
    (["sheet", "--tex-only"], BAD, None),
    # --- sheet outputs, titles, templates ---------------------------------------------------
    (["sheet", *OK, "--tex-only", "--out-dir", "{d}/ok.toml"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out-dir", "{d}/ok.toml/sub"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out-dir", "{ro}"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out-dir", "{ro}/sub"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out-dir", "{d}/{long}"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out-dir", "{d}/{longpath}"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out-dir", ""], BAD, None),
    (["sheet", *OK, "--tex-only", "--out-dir", "{d}/a\x00b"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", "{long}"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", ""], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", "."], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", ".."], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", ".hidden"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", "a/b"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", "{d}"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", "a\nb"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", "a\x00b"], BAD, None),
    (["sheet", *OK, "--tex-only", "--out", "sheet", "--out-dir", "{d}/outdir-taken"], BAD, None),
    (["sheet", *OK, "--tex-only", "--title", "x" * 5000], BAD, None),
    (["sheet", *OK, "--tex-only", "--title", "a\x00b"], BAD, None),
    (["sheet", *OK, "--tex-only", "--title", "Heft " + NOT_UTF8], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/missing"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-file"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", ""], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-syntax"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-undefined"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-mro"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-cycler"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-joiner"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-lipsum"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-format"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-range"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-binary"], BAD, None),
    (["sheet", *OK, "--tex-only", "--templates", "{d}/tpl-include"], BAD, None),
    (["sheet", *OK, "--templates", "{d}/tpl-tex", "--out-dir", "{d}/tex-failure"], BAD, None),
    (["sheet", "--layers", *["2"] * 67, "--tex-only"], BAD, None),
    # --- examples ---------------------------------------------------------------------------
    (["examples", "--tex-only", "--out-dir", "{d}/ok.toml"], BAD, None),
    (["examples", "--tex-only", "--out-dir", "{ro}"], BAD, None),
    (["examples", "--tex-only", "--out-dir", "{d}/{long}"], BAD, None),
    (["examples", "--tex-only", "--out-dir", ""], BAD, None),
    # --- code -------------------------------------------------------------------------------
    (["code"], BAD, None),
    (["code", "{d}/missing.toml"], BAD, None),
    (["code", "{d}/deep.json"], BAD, None),
    (["code", *OK, "--out", "{d}"], BAD, None),
    (["code", *OK, "--out", "{d}/outdir-taken/grad.py"], BAD, None),
    (["code", *OK, "--out", "{d}/ok.toml/grad.py"], BAD, None),
    (["code", *OK, "--out", "{ro}/grad.py"], BAD, None),
    (["code", *OK, "--out", "{d}/{long}.py"], BAD, None),
    (["code", *OK, "--out", ""], BAD, None),
    (["code", "{d}/ok.toml", *OK], BAD, None),
    # --- grad and check ---------------------------------------------------------------------
    (["grad", "{d}/novalues.toml"], BAD, None),
    (["grad", "{d}/missing.toml"], BAD, None),
    (["grad", "{d}/folder"], BAD, None),
    (["grad", "{d}/binary.toml"], BAD, None),
    (["grad", "{d}/deep.json", "--json"], BAD, None),
    (["grad", "{d}/values-overflow.toml"], BAD, None),
    (["grad", "{d}/values-overflow.toml", "--json"], BAD, None),
    (["check", "{d}/novalues.toml"], BAD, None),
    (["check", "{d}/missing.toml"], BAD, None),
    (["check", "{d}/values-nan.toml"], BAD, None),
    (["check", "{d}/values-overflow.toml"], BAD, None),
    (["check", "{d}/deep-object.json"], BAD, None),
    (["grad", "{d}/deep-network.toml"], BAD, None),
    (["code", "{d}/deep-network.toml"], BAD, None),
    (["code", "--layers", *["1"] * 66], BAD, None),
    # --- homework ---------------------------------------------------------------------------
    (["homework", "--seed", "x"], BAD, None),
    (["homework", "--seed", ""], BAD, None),
    (["homework", "--seed", "1.5"], BAD, None),
    (["homework", "--seed", "nan"], BAD, None),
    (
        ["homework", "--seed", "1", "--count", "0", "--tex-only", "--out", "{d}/hw-count0"],
        BAD,
        None,
    ),
    (
        ["homework", "--seed", "1", "--count", "-1", "--tex-only", "--out", "{d}/hw-count-1"],
        BAD,
        None,
    ),
    (["homework", "--seed", "1", "--count", "inf", "--tex-only"], BAD, None),
    (
        ["homework", "--seed", "1", "--count", "1000000000", "--tex-only", "--out", "{d}/hw-huge"],
        BAD,
        None,
    ),
    (
        ["homework", "--seed", "1", "--questions", "0", "--tex-only", "--out", "{d}/hw-q0"],
        BAD,
        None,
    ),
    (
        ["homework", "--seed", "1", "--questions", "-2", "--tex-only", "--out", "{d}/hw-q-2"],
        BAD,
        None,
    ),
    (
        ["homework", "--seed", "1", "--questions", "100000", "--tex-only", "--out", "{d}/hw-qhuge"],
        BAD,
        None,
    ),
    (
        ["homework", "--seed", "1", "--kinds", "integral", "--tex-only", "--out", "{d}/hw-kind"],
        BAD,
        None,
    ),
    (["homework", "--seed", "1", "--kinds", "", "--tex-only", "--out", "{d}/hw-kind2"], BAD, None),
    (["homework", "--seed", "1", "--jobs", "0", "--tex-only", "--out", "{d}/hw-jobs0"], BAD, None),
    (
        ["homework", "--seed", "1", "--jobs", "-4", "--tex-only", "--out", "{d}/hw-jobs-4"],
        BAD,
        None,
    ),
    (
        ["homework", "--seed", "1", "--jobs", "100000", "--tex-only", "--out", "{d}/hw-jobs-huge"],
        BAD,
        None,
    ),
    (["homework", "--seed", "1", "--tex-only", "--out", "{d}/ok.toml"], BAD, None),
    (["homework", "--seed", "1", "--tex-only", "--out", "{d}/ok.toml/hw"], BAD, None),
    (["homework", "--seed", "1", "--tex-only", "--out", "{ro}/hw"], BAD, None),
    (["homework", "--seed", "1", "--tex-only", "--out", "{d}/{long}"], BAD, None),
    (["homework", "--seed", "1", "--tex-only", "--out", ""], BAD, None),
    (["homework", "--seed", "1", "--tex-only", "--out", "{d}/keys/../folder/.."], BAD, None),
    (
        ["homework", "--seed", "1", "--tex-only", "--out", "{d}/hw-title", "--title", "x" * 5000],
        BAD,
        None,
    ),
    (
        [
            "homework",
            "--seed",
            "1",
            "--tex-only",
            "--out",
            "{d}/hw-title2",
            "--title",
            "a" + NOT_UTF8,
        ],
        BAD,
        None,
    ),
    # --- check-answer -----------------------------------------------------------------------
    (["check-answer", "{d}/missing.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/keys", "q1", "0"], BAD, None),
    (["check-answer", "{d}", "q1", "0"], BAD, None),
    (["check-answer", "", "q1", "0"], BAD, None),
    (["check-answer", "{d}/ok.toml/key.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-binary.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-text.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-empty.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-array.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-format.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-no-questions.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-questions-string.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-question-number.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-no-id.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-kind.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-layers-string.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-layers-int.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-layer-string.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-layer-range.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-layer-missing.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-activation-int.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-activation-unknown.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-cost.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-bias-string.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-node.json", "q1", "0.5"], BAD, None),
    (["check-answer", "{d}/key-values.json", "q1", "0.5"], BAD, None),
    (["check-answer", "{d}/key-values-missing.json", "q1", "0.5"], BAD, None),
    (["check-answer", "{d}/key-factor.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-digits.json", "q1", "0.5"], BAD, None),
    (["check-answer", "{d}/key-deep.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-huge-network.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-wide-network.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-duplicate-ids.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key-latin1.json", "q1", "0"], BAD, None),
    (["check-answer", "{d}/ok.toml", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key.json", "q99", "0"], BAD, None),
    (["check-answer", "{d}/key.json", "", "0"], BAD, None),
    (["check-answer", "{d}/key.json", "0", "0"], BAD, None),
    (["check-answer", "{d}/key.json", "-1", "0"], BAD, None),
    (["check-answer", "{d}/key.json", "q" + NOT_UTF8, "0"], BAD, None),
    (["check-answer", "{d}/key.json", "q1", ""], BAD, None),
    (["check-answer", "{d}/key.json", "q1", "   "], BAD, None),
    (["check-answer", "{d}/key.json", "q1", "x" * 100_000], BAD, None),
    (["check-answer", "{d}/key.json", "q1", "\\frac{" * 5000], BAD, None),
    (["check-answer", "{d}/key.json", "q1", "a\x00b"], BAD, None),
    (["check-answer", "{d}/key.json", "q1", NOT_UTF8], BAD, None),
    (["check-answer", "{d}/key.json", "q1", "\x1b[31mred"], BAD, None),
    (["check-answer", "{d}/key.json", "q1", r"\input{/etc/passwd}"], BAD, None),
    (["check-answer", "{d}/key.json", "q1", r"\frac{1}{0}"], VERDICT, None),
    (["check-answer", "{d}/key.json", "q1", "7"], VERDICT, None),
    (["check-answer", "{d}/key.json", "q3", "--", "-1e308"], BAD, None),
    (["check-answer", "{d}/key.json", "q3", "nan"], BAD, None),
    (["check-answer", "{d}/key.json", "q3", "--", "-1"], VERDICT, None),
    # --- grade ------------------------------------------------------------------------------
    (["grade", "{d}/missing.json", "{d}/answers.csv", "--out", "{d}/g1.csv"], BAD, None),
    (["grade", "{d}/keys", "{d}/answers.csv", "--out", "{d}/g2.csv"], BAD, None),
    (["grade", "{d}/key-text.json", "{d}/answers.csv", "--out", "{d}/g3.csv"], BAD, None),
    (["grade", "{d}/key-deep.json", "{d}/answers.csv", "--out", "{d}/g4.csv"], BAD, None),
    (["grade", "{d}/key-layer-string.json", "{d}/answers.csv", "--out", "{d}/g5.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/missing.csv", "--out", "{d}/g6.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/folder", "--out", "{d}/g7.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers-binary.csv", "--out", "{d}/g8.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers-empty.csv", "--out", "{d}/g9.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers-no-header.csv", "--out", "{d}/g10.csv"], BAD, None),
    (
        ["grade", "{d}/key.json", "{d}/answers-missing-column.csv", "--out", "{d}/g11.csv"],
        BAD,
        None,
    ),
    (["grade", "{d}/key.json", "{d}/answers-latin1.csv", "--out", "{d}/g12.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers-quote.csv", "--out", "{d}/g13.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{d}/answers.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{d}/folder"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{d}/ok.toml/g.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{ro}/g.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{d}/{long}.csv"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers.csv", "--out", ""], BAD, None),
    (
        ["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{d}/g14.csv", "--jobs", "0"],
        BAD,
        None,
    ),
    (
        ["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{d}/g15.csv", "--jobs", "x"],
        BAD,
        None,
    ),
    (
        ["grade", "{d}/key.json", "{d}/answers.csv", "--out", "{d}/g16.csv", "--jobs", "100000"],
        BAD,
        None,
    ),
    # --- a spec on stdin ('-') --------------------------------------------------------------
    (["sheet", "-", "--tex-only"], BAD, b""),
    (["sheet", "-", "--tex-only"], BAD, bytes(range(256))),
    (["sheet", "-", "--tex-only"], BAD, b"[" * DEEP + b"]" * DEEP),
    (["sheet", "-", "--tex-only"], BAD, b"layers = [2, 0]\n"),
    (["sheet", "-", "--tex-only"], BAD, b'{"layers": [2, 1], "bias": "no"}'),
    (["grad", "-"], BAD, b'{"layers": [2, 1]}'),
    (["check", "-"], BAD, b"layers = [2, 1\n"),
    (["code", "-"], BAD, b"\xff\xfe"),
    (["sheet", "-", "--layers", "2", "1"], BAD, b"layers = [2, 1]\n"),
]

CASE_IDS = [
    f"{i:03d}-" + re.sub(r"[^\w.=-]+", "_", " ".join(str(a)[:24] for a in argv))[:70]
    for i, (argv, _, _) in enumerate(CASES)
]
PYTHON_NAMES = re.compile(
    r"Traceback|File \"|\b[A-Z]\w*(Error|Exception|Warning)\b|\[Errno|errno|"
    r"Decimal\(|<class |0x[0-9a-f]{6,}"
)


def check_outcome(
    code: int, stdout: str, stderr: str, expected: int, verdict_text: bool = False
) -> None:
    """``verdict_text``: check-answer prints the checker's own sentence for an unreadable answer."""
    lines = stderr.splitlines()
    if expected == VERDICT:
        assert code == VERDICT, (code, stderr)
        assert not lines or len(lines) == 1, stderr
    else:
        assert code == expected, (code, stderr[-2000:])
        assert len(lines) == 1, stderr[-2000:]
        assert verdict_text or re.match(r"derive( [a-z-]+)?: error: ", lines[0]), lines[0]
    assert not PYTHON_NAMES.search(stderr), stderr[-2000:]
    assert "Traceback" not in stdout
    assert len(stderr) < 2000, "an error line should be readable"


def run_in_process(argv: list, stdin: bytes | None, monkeypatch, capsys) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own exits
        code = stop.code if isinstance(stop.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, expected, stdin", CASES, ids=CASE_IDS)
def test_bad_arguments_one_line_exit_2(argv, expected, stdin, files, tmp_path, monkeypatch, capsys):
    argv = fill(argv, files)
    if (
        any(
            isinstance(a, str)
            and a.startswith(("/sys/", "{ro}"))
            or a == ""
            and "{ro}" in str(argv)
            for a in argv
        )
        and not files["ro"]
    ):
        pytest.skip("no directory here refuses writes")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_in_process(argv, stdin, monkeypatch, capsys)
    check_outcome(code, out, err, expected, verdict_text=argv[:1] == ["check-answer"])


def test_corpus_size():
    assert len(CASES) >= 170
    assert len({(tuple(map(str, argv)), stdin) for argv, _, stdin in CASES}) == len(CASES), (
        "duplicate cases"
    )


# The real command line, in a fresh interpreter: raw bytes as arguments, stdin, pipes.
def run_cli(
    args: list, stdin: bytes | None = None, cwd=None, env=None
) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "derive",
        *(a if isinstance(a, bytes) else os.fsencode(a) for a in args),
    ]
    return subprocess.run(
        command,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=cwd,
        timeout=300,
        env=env,
    )


SUBPROCESS_CASES = [
    ([b"steps", b"--layers", b"2", b"\xff"], BAD, None),
    ([b"steps", b"--layers", b"2", b"1", b"--activation", b"sigm\xc3oid"], BAD, None),
    ([b"check-answer", b"{d}/key.json", b"q1", b"\xff\xfe\xfd"], BAD, None),
    ([b"sheet", b"{d}/\xff.toml", b"--tex-only"], BAD, None),
    ([b"sheet", b"--layers", b"2", b"1", b"--tex-only", b"--title", b"\xff"], BAD, None),
    (["steps", "--layers", "2", "1", "--activation", "sigmoid(gain=1/0)"], BAD, None),
    (
        [
            "steps",
            "--layers",
            "2",
            "2",
            "1",
            "--activation",
            r"g(z) = \frac{z}{1+|z|}",
            "g(z) = z^2",
        ],
        BAD,
        None,
    ),
    (["sheet", "{d}/deep.json", "--tex-only"], BAD, None),
    (["sheet", "{d}/deep-object.json", "--tex-only"], BAD, None),
    (["sheet", "--layers", "2", "1", "--tex-only", "--out-dir", "{d}/ok.toml"], BAD, None),
    (["sheet", "--layers", "2", "1", "--tex-only", "--out", "{long}"], BAD, None),
    (
        [
            "sheet",
            "--layers",
            "2",
            "1",
            "--tex-only",
            "--out",
            "sheet",
            "--out-dir",
            "{d}/outdir-taken",
        ],
        BAD,
        None,
    ),
    (["sheet", "--layers", "2", "1", "--tex-only", "--templates", "{d}/tpl-cycler"], BAD, None),
    (["check-answer", "{d}/keys", "q1", "0"], BAD, None),
    (["check-answer", "{d}/key-layer-string.json", "q1", L], BAD, None),
    (["check-answer", "{d}/key.json", "q1", "7"], VERDICT, None),
    (["steps", "--layers", "784", "100", "10", "--check"], BAD, None),
    (["homework", "--seed", "1", "--count", "0"], BAD, None),
    (["grade", "{d}/key.json", "{d}/answers-binary.csv", "--out", "{d}/g.csv"], BAD, None),
    (["code", "-"], BAD, b"\xff\xfe"),
    (["sheet", "-", "--tex-only"], BAD, b"[" * DEEP + b"]" * DEEP),
    (["frobnicate"], BAD, None),
    ([], BAD, None),
]


@pytest.mark.parametrize(
    "args, expected, stdin",
    SUBPROCESS_CASES,
    ids=[f"{i:02d}" for i in range(len(SUBPROCESS_CASES))],
)
def test_bad_arguments_through_the_real_command(args, expected, stdin, files, tmp_path):
    args = [
        a.replace(b"{d}", os.fsencode(files["d"])) if isinstance(a, bytes) else fill([a], files)[0]
        for a in args
    ]
    result = run_cli(args, stdin, cwd=tmp_path)
    stderr = result.stderr.decode("utf-8", "replace")
    check_outcome(
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        stderr,
        expected,
        verdict_text=args[:1] in (["check-answer"], [b"check-answer"]),
    )


# --- Pipes, --json, --quiet, stdin, completion, progress, limits ----------------------------------
def test_a_closed_pipe_is_quiet():
    """`derive steps | head`: the reader goes away; derive stops without a word, status 141 (as if
    killed by SIGPIPE, like cat or yes)."""
    for args in (
        ["steps", "--layers", "2", "3", "1"],
        ["steps", "--layers", "2", "3", "1", "--json"],
        ["completion", "bash"],
    ):
        process = subprocess.Popen(
            [sys.executable, "-m", "derive", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        process.stdout.close()  # before derive writes anything
        stderr = process.stderr.read()
        process.stderr.close()
        assert process.wait(timeout=120) == 141, stderr
        assert stderr == b""


def test_head_reads_the_first_line_only(tmp_path):
    result = subprocess.run(
        f"'{sys.executable}' -m derive steps --layers 2 3 3 2 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=300,
        executable="/bin/bash",
    )
    assert result.stdout.startswith("Network [2, 3, 3, 2]")
    assert result.stderr == ""


def test_steps_json(capsys):
    assert main(["steps", "--layers", "2", "3", "1", "--layer", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["layers"] == [2, 3, 1] and data["weight_layers"] == 2
    steps = [step for block in data["blocks"] for step in block["steps"]]
    assert steps and all(
        set(step) == {"number", "lhs", "rhs", "rule", "sentence", "refs"} for step in steps
    )
    assert all(set(step["lhs"]) == {"latex", "text"} for step in steps)
    chain = next(step for step in steps if step["rule"] == "chain rule")
    assert "\\partial" in chain["lhs"]["latex"] and "∂" in chain["lhs"]["text"]
    assert any(step["rule"] == "substitution" for step in steps)


def test_steps_check_json_and_progress_free_output(capsys):
    assert main(["steps", "--layers", "1", "1", "--check", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["check"] == {
        "passed": True,
        "steps": json.loads(out)["check"]["steps"],
        "failures": [],
    }
    assert err == ""


def test_json_everywhere(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = files["d"]

    def run(*argv: str) -> object:
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert code in (0, 1), err
        return json.loads(out)

    sheet = run("sheet", "--layers", "2", "1", "--tex-only", "--json")
    assert sheet == {"files": ["outputs/2-1-sigmoid-quadratic.tex"], "note": None}
    assert run("code", "--layers", "2", "1", "--json")["source"].startswith(
        '"""Generated by derive'
    )
    assert run("code", "--layers", "2", "1", "--out", "g.py", "--json") == {"files": ["g.py"]}
    grad = run("grad", f"{d}/ok.toml", "--json")
    assert set(grad) == {"cost", "weights", "biases"}
    check = run("check", f"{d}/ok.toml", "--json")
    assert check["passed"] is True and [row["parameters"] for row in check["rows"]]
    assert set(check["rows"][0]) >= {"parameters", "shape", "central_rel", "complex_rel", "passed"}
    answer = run("check-answer", f"{d}/key.json", "q1", "7", "--json")
    assert answer["verdict"] == "wrong" and answer["message"] and "mistake" in answer
    examples = run("examples", "--tex-only", "--out-dir", "ex", "--json")
    files = examples["files"]  # per example: the sheet's .tex, the deck's .tex, the page
    assert (
        len(files) == 6 and sorted(f.rsplit(".", 1)[1] for f in files) == ["html"] * 2 + ["tex"] * 4
    ), files
    assert sum(f.endswith("-slides.tex") for f in files) == 2


def test_grade_and_homework_json(files, tmp_path, capsys):
    out = tmp_path / "grades.csv"
    assert (
        main(
            [
                "grade",
                f"{files['d']}/key.json",
                f"{files['d']}/answers.csv",
                "--out",
                str(out),
                "--json",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["answers"] == 1 and sum(summary["counts"].values()) == 1 and out.is_file()
    assert (
        main(
            [
                "homework",
                "--seed",
                "3",
                "--tex-only",
                "--out",
                str(tmp_path / "hw"),
                "--json",
                "--jobs",
                "1",
                "--kinds",
                "missing-factor",
            ]
        )
        == 0
    )
    homework = json.loads(capsys.readouterr().out)
    assert homework["versions"][0]["number"] == 1 and homework["moodle"].endswith("moodle.xml")
    assert any(f.endswith("key.json") for f in homework["versions"][0]["files"])


def test_quiet(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sheet", "--layers", "2", "1", "--tex-only", "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    assert (tmp_path / "outputs/2-1-sigmoid-quadratic.tex").is_file()
    assert main(["check-answer", f"{files['d']}/key.json", "q1", "7", "--quiet"]) == 1
    assert capsys.readouterr() == ("", "")
    assert main(["examples", "--tex-only", "--out-dir", "ex", "-q"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "text",
    [
        b"layers = [2, 1]\nactivation = 'tanh'\n",
        b'{"layers": [2, 1], "activation": "tanh"}',
        b'\xef\xbb\xbf{"layers": [2, 1], "activation": "tanh"}',
    ],
)
def test_spec_from_stdin(text, tmp_path):
    result = run_cli(["code", "-"], stdin=text, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"[2, 1] tanh" in result.stdout
    result = run_cli(["sheet", "-", "--tex-only", "--out", "piped"], stdin=text, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outputs/piped.tex").is_file()


def test_bash_completion(tmp_path):
    result = run_cli(["completion", "bash"])
    assert result.returncode == 0
    script = tmp_path / "derive.bash"
    script.write_bytes(result.stdout)

    def complete(*words: str) -> list[str]:
        words_text = " ".join(f"'{w}'" for w in words)
        command = (
            f"source '{script}'; COMP_WORDS=(derive {words_text}); COMP_CWORD={len(words)}; _derive; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("st") == ["steps"]
    assert "check-answer" in complete("check")
    assert complete("steps", "--che") == ["--check"]
    assert "sigmoid" in complete("sheet", "--activation", "")
    assert complete("homework", "--kinds", "weight") == ["weight-gradient"]
    assert "half-quadratic" in complete("steps", "--cost", "")
    assert complete("completion", "") == ["bash"]
    assert "--json" in complete("check-answer", "--")


def _on_a_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run derive with stderr on a pseudo-terminal (stdout a pipe); return (status, what the terminal saw)."""
    import pty
    import select

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "derive", *args],
        stdout=subprocess.PIPE,
        stderr=terminal,
        cwd=cwd,
        env=dict(os.environ, TERM="xterm", COLUMNS="100"),
    )
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    process.stdout.read()
    code = process.wait(timeout=300)
    os.close(controller)
    return code, seen.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_only(tmp_path):
    code, seen = _on_a_terminal(["steps", "--layers", "2", "2", "1", "--check"], tmp_path)
    assert code == 0
    assert "checking steps" in seen
    code, seen = _on_a_terminal(
        ["steps", "--layers", "2", "2", "1", "--check", "--quiet"], tmp_path
    )
    assert code == 0 and seen.strip() == ""
    result = run_cli(
        ["steps", "--layers", "2", "2", "1", "--check"], cwd=tmp_path
    )  # stderr a pipe: no bar
    assert result.returncode == 0 and result.stderr == b""


@pytest.mark.parametrize(
    "argv, words",
    [
        (
            ["steps", "--layers", "784", "100", "10", "--check"],
            ["79,400 weights", f"limit is {800}", "--force", "--layers 2 2 2"],
        ),
        (["steps", "--layers", *["2"] * 66], ["at most 64 weight layers", "got 65"]),
        (["sheet", "--layers", *["2"] * 66, "--tex-only"], ["at most 64 weight layers", "got 65"]),
        (["homework", "--seed", "1", "--count", "201", "--tex-only"], ["more than 200", "--force"]),
        (
            ["homework", "--seed", "1", "--questions", "41", "--tex-only"],
            ["more than 40", "--force"],
        ),
        (["grade", "k", "a", "--out", "g", "--jobs", "257"], ["more than 256"]),
    ],
)
def test_requests_too_big_are_refused_at_once_saying_why(argv, words, capsys):
    import time

    start = time.perf_counter()
    assert main(argv) == 2
    assert time.perf_counter() - start < 5
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    for word in words:
        assert word in err, (word, err)


# --- Templates in the sandbox ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        r"\VAR{ ''.__class__.__mro__[1].__subclasses__() }",
        r"\VAR{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }",
        r"\VAR{ joiner.__init__.__globals__['os'].system('touch {marker}') }",
        r"\VAR{ lipsum.__globals__['os'].popen('touch {marker}').read() }",
        r"\VAR{ namespace.__init__.__globals__ }",
        r"\VAR{ '{0.__class__.__init__.__globals__}'.format(title) }",
        r"\VAR{ self.__init__.__globals__.__builtins__['__import__']('os').system('touch {marker}') }",
        r"\BLOCK{ set x = range.__self__ }\VAR{ x }",
    ],
)
def test_user_templates_cannot_escape_the_sandbox(body, tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "sheet.tex.j2").write_text(body.replace("{marker}", str(marker)), encoding="utf-8")
    result = run_cli(
        ["sheet", "--layers", "2", "1", "--tex-only", "--templates", str(folder)], cwd=tmp_path
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith("derive: error: ")
    assert "Traceback" not in stderr and "uid=" not in result.stdout.decode()
    assert not marker.exists()
    assert not (tmp_path / "outputs").exists() or not list((tmp_path / "outputs").glob("*.tex"))


def test_a_template_that_never_ends_is_stopped(tmp_path, monkeypatch):
    from derive import Network
    from derive.documents import sheet
    from derive.errors import DeriveError

    monkeypatch.setattr(sheet, "USER_TEMPLATE_SECONDS", 2)
    (tmp_path / "sheet.tex.j2").write_text(
        r"\BLOCK{for i in range(100000)}\BLOCK{for j in range(100000)}"
        r"\BLOCK{endfor}\BLOCK{endfor}",
        encoding="utf-8",
    )
    with pytest.raises(DeriveError, match="longer than 2 s"):
        sheet.render_sheet(Network([2, 1]), templates=tmp_path)


def test_a_user_template_still_renders(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "sheet.tex.j2").write_text(
        "\\documentclass{article}\n\\begin{document}\nMine: \\VAR{title}, "
        "\\VAR{description}, \\VAR{ L * 2 }\n\\end{document}\n",
        encoding="utf-8",
    )
    result = run_cli(
        [
            "sheet",
            "--layers",
            "2",
            "1",
            "--tex-only",
            "--templates",
            str(folder),
            "--title",
            "A & B",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "Mine: A \\& B, [2, 1] sigmoid"
        in (tmp_path / "outputs/2-1-sigmoid-quadratic.tex").read_text()
    )


# --- Titles in any script --------------------------------------------------------------------------
def _tex_ready(unicode: bool = False) -> bool:
    from derive.documents import tex

    return tex.tex_available() and (not unicode or tex.unicode_engine_available())


needs_tex = pytest.mark.skipif(
    not _tex_ready() and not os.environ.get("CI"), reason="no TeX here (CI has it)"
)
needs_unicode_tex = pytest.mark.skipif(
    not _tex_ready(unicode=True) and not os.environ.get("CI"),
    reason="no lualatex here (CI installs texlive-luatex)",
)


def pdf_text(pdf: Path) -> str:
    """The PDF's text, NFC-normalised (pdflatex's accented letters come out as letter + combining accent)."""
    import unicodedata

    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return unicodedata.normalize("NFC", text)


@needs_unicode_tex
@pytest.mark.parametrize(
    "title, shown",
    [
        ("Übung 3 — σ-Netze", ["Übung 3 — σ-Netze"]),
        ("Ασκηση", ["Ασκηση"]),
        ("反向传播练习", ["反向传播练习"]),
        (
            "🧠 backprop",
            ["🧠 backprop", "[brain] backprop"],
        ),  # Symbola draws it; without it, its name
    ],
)
def test_titles_in_any_script_typeset(title, shown, tmp_path):
    result = run_cli(
        ["sheet", "--layers", "2", "1", "--title", title, "--out-dir", str(tmp_path), "--out", "t"]
    )
    assert result.returncode == 0, result.stderr.decode()
    assert any(text in pdf_text(tmp_path / "t.pdf") for text in shown), pdf_text(
        tmp_path / "t.pdf"
    )[:200]


@needs_unicode_tex
def test_homework_title_in_chinese(tmp_path):
    result = run_cli(
        [
            "homework",
            "--seed",
            "2",
            "--kinds",
            "activation-derivative",
            "--title",
            "反向传播 作业 σ",
            "--out",
            str(tmp_path / "hw"),
            "--jobs",
            "1",
        ]
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "反向传播 作业 σ" in pdf_text(tmp_path / "hw/version-1/exercises.pdf")


@needs_unicode_tex
def test_a_character_no_font_has_is_written_as_its_name(tmp_path, monkeypatch):
    from derive import Network
    from derive.documents import tex
    from derive.documents.sheet import write_sheet

    monkeypatch.setattr(tex, "_fallback_candidates", lambda: ("DejaVu Serif",))  # no emoji font
    files = write_sheet(Network([2, 1]), tmp_path, name="t", title="🧠 backprop σ")
    assert "[brain] backprop σ" in pdf_text(files.pdf)
    assert "U+1F9E0" in files.note


@needs_tex
def test_without_lualatex_the_title_still_typesets(tmp_path, monkeypatch):
    from derive import Network
    from derive.documents import tex
    from derive.documents.sheet import write_sheet

    monkeypatch.setattr(tex, "unicode_engine_available", lambda: False)
    files = write_sheet(Network([2, 1]), tmp_path, name="t", title="Übung Ασκηση 反向 🧠 backprop")
    text = pdf_text(files.pdf)
    assert "Übung Aσκηση [U+53CD][U+5411] [brain] backprop" in text, text[:200]
    assert "texlive-luatex" in files.note


@needs_tex
def test_latin_titles_stay_with_pdflatex(tmp_path):
    from derive import Network
    from derive.documents.sheet import write_sheet
    from derive.documents.tex import needs_unicode_engine

    assert not needs_unicode_engine("Übung 3 — Netze, café, “quoted” …")
    assert needs_unicode_engine("σ") and needs_unicode_engine("反") and needs_unicode_engine("🧠")
    files = write_sheet(Network([2, 1]), tmp_path, name="t", title="Übung 3 — Netze, café")
    assert "Übung 3 — Netze, café" in pdf_text(files.pdf) and files.note is None


def test_file_names_that_are_not_utf8_print_back_as_they_were(tmp_path):
    result = run_cli(
        [b"sheet", b"--layers", b"2", b"1", b"--tex-only", b"--out-dir", b"caf\xe9"], cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"wrote caf\xe9/2-1-sigmoid-quadratic.tex\n"
    assert (tmp_path / os.fsdecode(b"caf\xe9") / "2-1-sigmoid-quadratic.tex").is_file()
    result = run_cli(
        [b"sheet", b"--layers", b"2", b"1", b"--tex-only", b"--out-dir", b"caf\xe9", b"--json"],
        cwd=tmp_path,
    )
    assert json.loads(result.stdout)["files"] == [
        os.fsdecode(b"caf\xe9") + "/2-1-sigmoid-quadratic.tex"
    ]


def test_the_deepest_network_a_spec_allows_derives(tmp_path, capsys):
    """64 weight layers (the spec limit): steps and the .tex of the sheet, no --force needed."""
    assert main(["steps", "--layers", *["2"] * 65, "--quiet"]) == 0
    assert (
        main(
            ["sheet", "--layers", *["2"] * 65, "--tex-only", "--out-dir", str(tmp_path), "--quiet"]
        )
        == 0
    )
    assert len(list(tmp_path.glob("*.tex"))) == 1
