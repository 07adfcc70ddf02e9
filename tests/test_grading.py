"""`derive grade`: a class's answers CSV judged in parallel, bad rows and bad files, exit codes."""

import csv
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from derive.cli import main
from derive.errors import DeriveError
from derive.documents.files import spreadsheet_safe
from derive.homework.grading import (
    INTERNAL,
    OUTPUT_COLUMNS,
    Keys,
    grade_rows,
    read_answers,
    write_grades,
)
from derive.limits import MiB

KEYS = Path(__file__).parent / "data" / "keys-v1"
HEADER = "student,version,question,answer\n"


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open(encoding="utf-8", newline="")))


# A stand-in judge: the grading machinery without SymPy ----------------------------------------------
@dataclass(frozen=True)
class FakeVerdict:
    status: str
    message: str


class FakeQuestion:
    def __init__(self, answer: str):
        self.answer = answer

    def expected(self):
        return self.answer


def fake_judge(latex: str, expected: str) -> FakeVerdict:
    """Test-only behaviours keyed by the answer text."""
    if latex == "loop":
        while True:
            pass
    if latex == "hoard":
        return bytearray(
            2**40
        )  # far over the cap: MemoryError at once (tests/test_limits.py: gradually)
    if latex == "bug":
        raise ZeroDivisionError("division by zero")
    if latex == expected:
        return FakeVerdict("correct", "correct")
    if latex.startswith("{"):
        return FakeVerdict("unreadable", "cannot read the answer at column 1")
    return FakeVerdict("wrong", f"not {expected}")


FAKE_KEYS = Keys(
    Path("hw"),
    {1: {"q1": FakeQuestion("a"), "q2": FakeQuestion("b")}, 2: {"q1": FakeQuestion("c")}},
    single=False,
)


def rows_of(tmp_path: Path, text: str, name: str = "answers.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_answers(path)


def test_every_row_gets_a_verdict_in_order_and_bad_rows_say_why(tmp_path):
    rows = rows_of(
        tmp_path,
        HEADER
        + "\n".join(
            [
                "ann,1,q1,a",
                "bob,1,2,b ",
                "cid,v2,Q1,x",
                "dee,3,q1,a",
                "eve,1,q7,a",
                "fay,1,q1,  ",
                "gus,1,q1,loop",
                "hal,1,q1,bug",
                "ivy,1,q1,{",
                "jon,,q1,a",
                'kim,1,q1,"a,b",extra',
                "lea,1,q2,hoard",
            ]
        )
        + "\n",
    )
    summary = grade_rows(rows, FAKE_KEYS, jobs=3, seconds=1.0, memory=64 * MiB, judge=fake_judge)
    got = {row.fields[0]: (row.verdict, row.feedback) for row in rows}
    assert [
        row.fields[0] for row in rows
    ] == "ann bob cid dee eve fay gus hal ivy jon kim lea".split()
    assert got["ann"] == got["bob"] == ("correct", "correct")
    assert got["cid"] == ("wrong", "not c")
    assert got["dee"] == ("unreadable", "no version '3' (the homework has versions 1, 2)")
    assert got["eve"] == ("unreadable", "no question 'q7' in version 1 (it has q1, q2)")
    assert got["fay"] == ("unreadable", "empty answer")
    assert got["gus"] == ("unreadable", "checking the answer took longer than 1 s; simplify it")
    assert got["hal"] == ("error", INTERNAL)
    assert got["ivy"] == ("unreadable", "cannot read the answer at column 1")
    assert got["jon"] == ("unreadable", "no version given (the homework has versions 1, 2)")
    assert got["kim"][0] == "unreadable" and "double quotes" in got["kim"][1]
    assert got["lea"] == ("unreadable", "checking the answer used more than 64 MiB; simplify it")
    assert summary.counts == {"correct": 2, "wrong": 1, "unreadable": 8, "error": 1}
    assert len(summary.internal) == 1 and "ZeroDivisionError" in summary.internal[0]


def test_a_single_key_needs_no_version_and_identical_answers_are_judged_once(tmp_path):
    keys = Keys(Path("key.json"), {4: {"q1": FakeQuestion("a")}}, single=True)
    rows = rows_of(
        tmp_path,
        HEADER + "".join(f"s{n},{('', '4', 'v4')[n % 3]},1,a\n" for n in range(30)) + "t,5,q1,a\n",
    )
    summary = grade_rows(rows, keys, jobs=2, seconds=5, judge=fake_judge)
    assert summary.judged == 1 and summary.counts["correct"] == 30
    assert rows[-1].verdict == "unreadable" and "not the key's version (4)" in rows[-1].feedback


def test_a_huge_answer_is_one_row_not_a_broken_file(tmp_path):
    rows = rows_of(tmp_path, HEADER + "ann,1,q1," + "x" * 300_000 + "\nbob,1,q1,a\n")
    grade_rows(rows, FAKE_KEYS, jobs=2, seconds=5, judge=fake_judge)
    assert [row.verdict for row in rows] == ["wrong", "correct"]


def test_the_grades_file_is_written_atomically(tmp_path):
    rows = rows_of(tmp_path, HEADER + 'ann,1,q1,"2(a-y), or so"\nbob,1,q1,a\n')
    grade_rows(rows, FAKE_KEYS, jobs=1, seconds=5, judge=fake_judge)
    out = tmp_path / "grades.csv"
    out.write_text("old")
    write_grades(out, rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "answers.csv",
        "grades.csv",
    ]  # no temporary left
    table = read_csv(out)
    assert list(table[0]) == list(OUTPUT_COLUMNS)
    assert [(r["answer"], r["verdict"], r["score"]) for r in table] == [
        ("2(a-y), or so", "wrong", "0"),
        ("a", "correct", "1"),
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty; it needs a header row"),
        (b"\n\n", "is empty"),
        (b"student,question,answer\nann,q1,a\n", "no column version"),
        (b"name,version,question,answer\n", "no column student"),
        (b"name;version;question;answer\n", "no column student, version, question, answer"),
        (b"student,version,question,answer,answer\n", "names the column answer twice"),
        (HEADER.encode() + b'ann,1,q1,"2(a - y)\n', "line 2 is not valid CSV"),
        (HEADER.encode() + b"ann,1,q1,a\nb\xe9a,1,q1,a\n", "line 3 is not UTF-8 text (byte 0xe9)"),
        (HEADER.encode() + b"ann,1,q1,a\0\n", "not a CSV text file"),
    ],
)
def test_a_malformed_file_is_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "answers.csv"
    path.write_bytes(content)
    with pytest.raises(DeriveError, match=re.escape(message)) as caught:
        read_answers(path)
    assert "\n" not in str(caught.value)


def test_a_byte_order_mark_crlf_and_semicolons_are_fine(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_bytes(
        "\ufeffStudent , Version,Question,Answer,comment\r\nann,1,q1,a,hi\r\n".encode()
    )
    (row,) = read_answers(path)
    assert row.fields == ("ann", "1", "q1", "a") and not row.verdict
    path.write_bytes("student;version;question;answer\nann;1;q3;0,0713\n".encode())
    (row,) = read_answers(path)
    assert row.fields == ("ann", "1", "q3", "0,0713") and not row.verdict


# The command line, with the real judge --------------------------------------------------------------
def _class_csv(path: Path) -> list[tuple[str, str, str]]:
    """Answers to two versions' keys: the key's own answer, a sign slip, a factor 2 slip, garbage."""
    answers = []
    for version in (1, 2):
        key = json.loads((KEYS / f"seed1-v{version}.json").read_text())
        for question in key["questions"][:4]:
            right = question["answer_latex"]
            answers += [
                (str(version), question["id"], right),
                (str(version), question["id"], f"-({right})"),
                (str(version), question["id"], f"2 ({right})"),
                (str(version), question["id"], r"\frac{1}{"),
            ]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "version", "question", "answer"])
        for n, (version, question, answer) in enumerate(answers):
            writer.writerow([f"student {n}", version, question, answer])
    return answers


@pytest.fixture
def homework_dir(tmp_path):
    for version in (1, 2):
        folder = tmp_path / "hw" / f"version-{version}"
        folder.mkdir(parents=True)
        (folder / "key.json").write_bytes((KEYS / f"seed1-v{version}.json").read_bytes())
    return tmp_path / "hw"


def test_a_class_graded_end_to_end_agrees_with_the_judge(tmp_path, homework_dir):
    from derive.homework.answers import judge_here
    from derive.homework.questions import load_key

    answers = _class_csv(tmp_path / "answers.csv")
    done = run_cli(
        "grade",
        str(homework_dir),
        str(tmp_path / "answers.csv"),
        "--out",
        str(tmp_path / "g.csv"),
        "--jobs",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith(f"graded {len(answers)} answers")
    table = read_csv(tmp_path / "g.csv")
    # -(key) is written '-(key): a cell starting with - is not a formula in the grades file
    assert [(r["version"], r["question"], r["answer"]) for r in table] == [
        (version, question, spreadsheet_safe(answer)) for version, question, answer in answers
    ]
    keys = {v: load_key(homework_dir / f"version-{v}" / "key.json") for v in ("1", "2")}
    for row, (_, _, answer) in zip(table, answers):
        verdict = judge_here(answer, keys[row["version"]][row["question"]].expected())
        status = getattr(verdict.status, "value", verdict.status)
        assert (row["verdict"], row["score"]) == (status, "1" if status == "correct" else "0"), row
    assert {r["verdict"] for r in table} >= {"correct", "wrong", "unreadable"}
    assert all(r["verdict"] == "correct" for r in table[::4])  # the keys' own answers


def test_cli_bad_files_exit_2_in_one_line(tmp_path, homework_dir):
    (tmp_path / "bad.csv").write_text("student,question\nann,q1\n")
    done = run_cli(
        "grade", str(homework_dir), str(tmp_path / "bad.csv"), "--out", str(tmp_path / "g.csv")
    )
    assert (
        done.returncode == 2 and done.stderr.count("\n") == 1 and "no column version" in done.stderr
    )
    assert not (tmp_path / "g.csv").exists()
    done = run_cli(
        "grade", str(tmp_path), str(tmp_path / "bad.csv"), "--out", str(tmp_path / "g.csv")
    )
    assert done.returncode == 2 and "no version-N/key.json" in done.stderr
    done = run_cli(
        "grade", str(homework_dir), str(tmp_path / "bad.csv"), "--out", str(tmp_path / "bad.csv")
    )
    assert done.returncode == 2 and "would overwrite the answers file" in done.stderr


def test_an_internal_error_on_a_row_is_reported_and_exits_3(tmp_path, capsys, monkeypatch):
    import derive.homework.grading

    def broken(latex, expected):
        raise AttributeError("'NoneType' object has no attribute 'args'")

    monkeypatch.setattr(derive.homework.grading, "_judge_function", lambda: broken)
    (tmp_path / "a.csv").write_text(HEADER + "ann,,q8,a_k^{(1)}\nbob,,q8,\n")
    code = main(
        [
            "grade",
            str(KEYS / "seed1-v1.json"),
            str(tmp_path / "a.csv"),
            "--out",
            str(tmp_path / "g.csv"),
            "--quiet",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 3 and out == ""
    assert err.strip().splitlines() == [
        "derive: internal error at line 2 (q8): checking the answer: AttributeError: "
        "'NoneType' object has no attribute 'args' (please report)"
    ]
    table = read_csv(tmp_path / "g.csv")
    assert [(r["verdict"], r["feedback"], r["score"]) for r in table] == [
        ("error", INTERNAL, "0"),
        ("unreadable", "empty answer", "0"),
    ]


def test_any_unexpected_exception_is_one_line_and_exit_3():
    code = (
        "import sys, derive.cli as cli, derive.cli.commands.check_answer as command\n"
        "def boom(args): raise KeyError('x')\n"
        "command.run = boom\n"
        "sys.exit(cli.main(['check-answer', 'k.json', 'q1', 'x']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stderr == "derive: internal error: KeyError: 'x' (please report)\n"


def test_check_answer_exit_codes_without_loading_numpy_jinja2_rich_or_the_renderer():
    key = str(KEYS / "seed1-v1.json")
    right = json.loads(Path(key).read_text())["questions"][7]["answer_latex"]
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['derive'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('derive', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    heavy = [m for m in ('numpy', 'jinja2', 'rich', 'derive.render.latex', 'derive.documents.sheet', "
        "'derive.render.display') if m in sys.modules]\n"
        "    print('HEAVY', heavy)\n    raise\n"
    )
    for args, code in (
        (["check-answer", key, "q8", right], 0),
        (["check-answer", key, "8", "2 a_k^{(1)}"], 1),
        (["check-answer", key, "q8", r"\frac{"], 2),
        (["--help"], 0),
    ):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == code, done
        assert "HEAVY []" in done.stdout and "Traceback" not in done.stderr
