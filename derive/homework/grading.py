"""Grading a class: every answer of a CSV file judged against the homework keys, in parallel.

``derive grade KEY_OR_DIR answers.csv --out grades.csv``. The input has a header row naming
the columns student, version, question and answer (in any order; other columns are ignored).
Each answer is judged in its own forked child with the judge's time and memory caps
(``limits.run_each``), up to ``jobs`` at once; the parent builds every question's expected
answer before the first fork, so the children inherit it instead of rebuilding it. The output
repeats the four input columns and adds verdict, feedback and score (1 correct, 0 otherwise),
in the input's order, written atomically. A cell a spreadsheet would run as a formula (a student named
=HYPERLINK(...), an answer -2+3) is written with a leading ' (``documents.files.spreadsheet_safe``);
plain numbers stay numbers. The answers are judged as they came, before that.

A row that cannot be graded (unknown version or question, empty answer, wrong number of
fields) gets the verdict "unreadable" and a feedback saying why; the rest of the class is
graded. A file that cannot be read as a whole (not UTF-8, broken quoting, no header, missing
columns) is refused with one line (DeriveError, exit status 2). A bug while judging one answer
gives that row the verdict "error" ("internal error, please report") and the command exit
status 3 after the file is written.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from derive.documents.files import check_replaceable, spreadsheet_safe
from derive.errors import DeriveError, ParameterError
from derive.limits import DEFAULT_MEMORY, InternalError, run_each

COLUMNS = ("student", "version", "question", "answer")
OUTPUT_COLUMNS = COLUMNS + ("verdict", "feedback", "score")
VERDICTS = ("correct", "wrong", "unreadable", "error")
INTERNAL = "internal error, please report"
WARM_FROM = 3  # distinct answers to a question from which warming the parent's caches pays off
FIELD_LIMIT = (
    64 * 2**20
)  # characters in one CSV field (csv's default, 128 KiB, would refuse the whole file)


# Keys -------------------------------------------------------------------------------------------
@dataclass
class Keys:
    """The answer keys to grade against: questions by version number."""

    source: Path
    versions: dict[int, dict[str, Any]]  # version -> question id -> Question
    single: bool  # one key file given: the version column may be empty

    def describe(self) -> str:
        return ", ".join(map(str, sorted(self.versions)))


def load_keys(key_or_dir: str | os.PathLike) -> Keys:
    """One key.json, or a `derive homework` output directory holding version-N/key.json; every key is
    checked while read (``derive.homework.keys``), so a bad one is refused before any answer is judged."""
    from derive.homework.keys import read_key

    source = Path(key_or_dir)
    if source.is_dir():
        found = {}
        for path in sorted(source.glob("version-*/key.json")):
            match = re.fullmatch(r"version-(\d+)", path.parent.name)
            if match:
                found[int(match.group(1))] = read_key(path).questions
        if not found:
            raise DeriveError(
                f"no version-N/key.json in {source} (give a key.json or the directory "
                f"`derive homework --out` wrote)"
            )
        return Keys(source, dict(sorted(found.items())), single=False)
    key = read_key(source)
    number = key.version if key.version is not None else _directory_version(source)
    return Keys(source, {number if number is not None else 0: key.questions}, single=True)


def _directory_version(path: Path) -> int | None:
    """The version a key file without a "version" field belongs to, by its directory's name."""
    match = re.fullmatch(r"version-(\d+)", path.parent.name)
    return int(match.group(1)) if match else None


def _version_number(text: str) -> int | None:
    match = re.fullmatch(r"(?:v|version)?[\s_-]*(\d+)", text.strip(), re.IGNORECASE)
    return int(match.group(1)) if match else None


def _question_id(text: str) -> str:
    text = text.strip()
    match = re.fullmatch(r"q?\s*(\d+)", text, re.IGNORECASE)
    return f"q{int(match.group(1))}" if match else text


# Reading the answers ----------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the answers file and, once graded, its verdict."""

    line: int
    fields: tuple[str, str, str, str]  # student, version, question, answer as given
    version: int | None = None
    question: str | None = None
    verdict: str = ""
    feedback: str = ""

    @property
    def answer(self) -> str:
        return self.fields[3]

    @property
    def spot(self) -> tuple[int, str]:
        """(version, question) of a row matched to its key."""
        assert self.version is not None and self.question is not None, (
            "only a matched row is judged"
        )
        return self.version, self.question


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DeriveError(
            f"{name}: line {line} is not UTF-8 text (byte 0x{data[error.start]:02x}); "
            f"save the file as UTF-8 CSV"
        ) from None


def _delimiter(text: str) -> str:
    """',' unless the header row names the columns separated by ';' or a tab (spreadsheets in
    countries with a decimal comma save CSV with ';')."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    for delimiter in (",", ";", "\t"):
        if set(COLUMNS) <= {cell.strip().strip('"').lower() for cell in first.split(delimiter)}:
            return delimiter
    return ","


def read_answers(path: str | os.PathLike) -> list[Row]:
    """The rows of an answers CSV; DeriveError when the file as a whole cannot be read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DeriveError(f"answers file not found: {path}") from None
    except IsADirectoryError:
        raise DeriveError(f"{path} is a directory, not an answers CSV file") from None
    except OSError as error:
        raise DeriveError(f"cannot read {path}: {error.strerror}") from None
    if b"\0" in data:
        raise DeriveError(f"{path.name}: not a CSV text file (it contains NUL bytes)")
    text = _decode(data, path.name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[Row] = []
    limit = csv.field_size_limit(FIELD_LIMIT)
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise DeriveError(f"{path.name} is empty; it needs a header row: {','.join(COLUMNS)}")
        names = [cell.strip().lower() for cell in header]
        missing = [column for column in COLUMNS if column not in names]
        if missing:
            raise DeriveError(
                f"{path.name}: the header row has no column {', '.join(missing)} "
                f"(it needs {','.join(COLUMNS)}; found {','.join(names) or 'nothing'})"
            )
        doubled = sorted({column for column in COLUMNS if names.count(column) > 1})
        if doubled:
            raise DeriveError(f"{path.name}: the header row names the column {doubled[0]} twice")
        where = [names.index(column) for column in COLUMNS]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            student, version, question, answer = (cells[i] if i < len(cells) else "" for i in where)
            row = Row(reader.line_num, (student, version, question, answer))
            if len(cells) != len(names):
                row.verdict = "unreadable"
                row.feedback = f"this row has {len(cells)} fields but the header {len(names)}" + (
                    "; put an answer that contains a comma in double quotes"
                    if len(cells) > len(names)
                    else ""
                )
            rows.append(row)
    except csv.Error as error:
        raise DeriveError(
            f"{path.name}: line {reader.line_num} is not valid CSV ({error})"
        ) from None
    finally:
        csv.field_size_limit(limit)
    return rows


def _match(row: Row, keys: Keys) -> None:
    """Find the row's question in the keys, or give it the verdict unreadable with the reason."""
    if row.verdict:
        return
    _, version_text, question_text, answer = row.fields
    number: int | None
    if keys.single:
        ((number, questions),) = keys.versions.items()
        if version_text.strip():
            given = _version_number(version_text)
            if given is None or (number and given != number):
                row.verdict, row.feedback = (
                    "unreadable",
                    (
                        f"version {version_text.strip()!r} is not the key's version ({number})"
                        if number
                        else f"version {version_text.strip()!r} is not a version number"
                    ),
                )
                return
    else:
        if not version_text.strip() and len(keys.versions) == 1:
            number = next(iter(keys.versions))
        else:
            number = _version_number(version_text)
        if number not in keys.versions:
            row.verdict, row.feedback = (
                "unreadable",
                (
                    f"no version given (the homework has versions {keys.describe()})"
                    if not version_text.strip()
                    else f"no version {version_text.strip()!r} (the homework has versions {keys.describe()})"
                ),
            )
            return
        questions = keys.versions[number]
    qid = _question_id(question_text)
    if qid not in questions:
        row.verdict, row.feedback = (
            "unreadable",
            (
                f"no question {question_text.strip()!r} in {f'version {number}' if number else 'the key'} "
                f"(it has {', '.join(questions)})"
                if question_text.strip()
                else "no question given"
            ),
        )
        return
    if not answer.strip():
        row.verdict, row.feedback = "unreadable", "empty answer"
        return
    row.version, row.question = number, qid


# Judging ------------------------------------------------------------------------------------------
def _judge_function() -> Callable:
    """The in-process judge the children run (they are already time- and memory-limited)."""
    from derive.homework.answers import judge_here

    return judge_here


def _seconds() -> float:
    from derive.homework.answers import JUDGE_SECONDS

    return JUDGE_SECONDS


def _status(verdict: Any) -> str:
    status = getattr(verdict.status, "value", verdict.status)
    return status if status in VERDICTS else "error"


@dataclass
class Summary:
    """What a grading run did: counts per verdict, distinct judgements, time."""

    counts: Counter = field(default_factory=Counter)
    answers: int = 0
    judged: int = 0  # distinct (question, answer) pairs sent to the judge
    seconds: float = 0.0
    prepare_seconds: float = 0.0  # loading keys and building the expected answers
    internal: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings about the keys

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self, out: str | Path) -> dict:
        """What ``derive grade --json`` prints (``out``: the grades file written)."""
        return {
            "answers": self.answers,
            "distinct": self.judged,
            "counts": dict(self.counts),
            "seconds": round(self.seconds, 3),
            "file": str(out),
            "internal_errors": list(self.internal),
        }

    def line(self) -> str:
        counts = ", ".join(
            f"{self.counts[v]} {v}" for v in VERDICTS if self.counts[v] or v != "error"
        )
        return (
            f"graded {self.answers} answers ({self.judged} distinct) in {self.seconds:.1f} s "
            f"({self.prepare_seconds:.1f} s preparing the keys), {self.rate:.1f} answers/s: {counts}"
        )


def _warm(
    question: Any, expected: Any, judge: Callable, summary: "Summary", spot: tuple[int, str]
) -> None:
    """Judge the key's own answer here, before forking: every cache the judge fills lazily for
    this question (the network's functions and their derivatives) is then inherited by each
    child instead of rebuilt in it (a judgement in a child: about 150 ms cold, 30 ms warm).
    The text is the engine's own LaTeX for the key, not a student's, so it runs unlimited.
    """
    answer_latex = getattr(question, "answer_latex", None)
    if answer_latex is None:
        return
    try:
        verdict = judge(answer_latex(), expected)
    except Exception as error:  # noqa: BLE001 - only a warm-up: the children judge for real
        summary.notes.append(
            f"judging the key's own answer to {spot[1]} of version {spot[0]} failed "
            f"({type(error).__name__})"
        )
        return
    if _status(verdict) != "correct":  # a bug in the judge or the key: say so, grade anyway
        summary.notes.append(
            f"the key's own answer to {spot[1]} of version {spot[0]} is judged "
            f"{_status(verdict)}: {verdict.message}"
        )


def _progress(total: int, enabled: bool):
    """A rich progress bar on stderr, refreshed by the caller (no refresh thread: we fork)."""
    if not enabled or total == 0:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        auto_refresh=False,
        transient=True,
    )
    progress.start()
    progress.add_task("grading", total=total)
    return progress


def grade_rows(
    rows: list[Row],
    keys: Keys,
    jobs: int | None = None,
    progress: bool = False,
    seconds: float | None = None,
    memory: int | None = DEFAULT_MEMORY,
    judge: Callable | None = None,
) -> Summary:
    """Fill in every row's verdict and feedback; the summary of the run.

    ``judge(latex, expected) -> Verdict`` runs in the children (default: the answer checker's
    in-process judge). Identical answers to the same question are judged once.
    """
    started = time.perf_counter()
    summary = Summary(answers=len(rows))
    for row in rows:
        _match(row, keys)
    todo = [row for row in rows if not row.verdict]
    expected: dict[tuple[int, str], Any] = {}
    for row in todo:  # built here, before the first fork: every child inherits them
        spot = row.spot
        if spot not in expected:
            expected[spot] = keys.versions[spot[0]][spot[1]].expected()
    judge = judge or _judge_function()
    seconds = _seconds() if seconds is None else seconds
    distinct: dict[tuple[int, str, str], list[Row]] = {}
    for row in todo:
        distinct.setdefault((*row.spot, row.answer.strip()), []).append(row)
    work = list(distinct)
    summary.judged = len(work)
    per_question = Counter((version, question) for version, question, _ in work)
    for spot, count in per_question.items():
        if count >= WARM_FROM:
            _warm(keys.versions[spot[0]][spot[1]], expected[spot], judge, summary, spot)
    summary.prepare_seconds = time.perf_counter() - started

    def one(item: tuple[int, str, str]) -> tuple[str, str]:
        version, question, answer = item
        verdict = judge(answer, expected[(version, question)])
        return _status(verdict), str(verdict.message)

    bar = _progress(len(rows), progress)
    done = len(rows) - len(todo)
    shown = 0.0
    try:
        if bar is not None:
            bar.update(0, completed=done)
            bar.refresh()
        for index, ok, value in run_each(
            one, work, jobs, seconds=seconds, memory=memory, what="checking the answer"
        ):
            group = distinct[work[index]]
            if ok:
                verdict, feedback = value
            elif isinstance(value, InternalError):
                verdict, feedback = "error", INTERNAL
                summary.internal.append(f"line {group[0].line} ({group[0].question}): {value}")
            else:  # a DeriveError: over the time or memory cap, or refused by the judge
                verdict, feedback = "unreadable", str(value)
            if verdict == "error":  # the judge caught a bug of its own
                if feedback != INTERNAL:
                    summary.internal.append(
                        f"line {group[0].line} ({group[0].question}): {feedback}"
                    )
                feedback = INTERNAL
            for row in group:
                row.verdict, row.feedback = verdict, feedback
            done += len(group)
            if bar is not None and (time.perf_counter() - shown > 0.1 or done == len(rows)):
                bar.update(0, completed=done)
                bar.refresh()
                shown = time.perf_counter()
    finally:
        if bar is not None:
            bar.stop()
    summary.counts = Counter(row.verdict for row in rows)
    summary.seconds = time.perf_counter() - started
    return summary


# Writing ------------------------------------------------------------------------------------------
def write_grades(path: str | os.PathLike, rows: list[Row]) -> None:
    """The graded rows as CSV, atomically: a unique temporary file beside the target, then os.replace."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise DeriveError(f"cannot write {path}: the directory {directory} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise DeriveError(f"cannot write in {directory}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            # csv quotes a field with \n but not one with a lone \r (not in the line terminator), which a
            # reader takes for the end of the row: such rows have every text field quoted
            quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(OUTPUT_COLUMNS)
            for row in rows:
                cells = [
                    spreadsheet_safe(cell) for cell in row.fields + (row.verdict, row.feedback)
                ]
                (quoted if any("\r" in cell for cell in cells) else writer).writerow(
                    cells + [int(row.verdict == "correct")]
                )
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def grade(
    key_or_dir: str | os.PathLike | Keys,
    answers: str | os.PathLike,
    out: str | os.PathLike,
    jobs: int | None = None,
    progress: bool = False,
) -> Summary:
    """Grade an answers CSV against a key (or a homework directory, or keys already loaded by ``load_keys``)
    and write the grades CSV; a key is checked as ``derive grade`` checks it."""
    if jobs is not None and jobs < 1:
        raise ParameterError("{jobs} must be at least 1, not {value}", value=jobs)
    answers, out = Path(answers), Path(out)
    if out.exists() and answers.exists() and out.resolve() == answers.resolve():
        raise ParameterError(
            "{out} {path} would overwrite the answers file; choose another name", path=out
        )
    if out.is_dir():
        raise ParameterError(
            "{out} {path} is a directory; give a file name, e.g. {example}",
            path=out,
            example=out / "grades.csv",
        )
    check_replaceable(
        out
    )  # before any judging: --out /dev/null is refused, never replaced by a file
    keys = key_or_dir if isinstance(key_or_dir, Keys) else load_keys(key_or_dir)
    rows = read_answers(answers)
    summary = grade_rows(rows, keys, jobs or default_jobs(), progress=progress)
    write_grades(out, rows)
    return summary
