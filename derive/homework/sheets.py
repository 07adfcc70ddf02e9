"""Homework out: exercise and solution sheets (LaTeX/PDF), the answer key (JSON), Moodle XML.

Versions are built in parallel, one process per core, with a progress bar on the terminal.
"""

from __future__ import annotations

import os
import re
import sys
import xml.etree.ElementTree as ET
from typing import Any
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import mpmath
import sympy as sp

from derive.render import latex as lr
from derive.homework.answers import last_digit_unit
from derive.homework.kinds import KINDS
from derive.homework.questions import Question, Version, check_kinds, make_version
from derive.documents.files import (
    cleanup_on_signals,
    output_lock,
    register_cleanup,
    staged_directory,
    terminate_processes,
    unregister_cleanup,
    worker_initializer,
    write_atomic,
)
from derive.documents.sheet import checked_note, template_environment
from derive.model.steps import BlockKey
from derive.documents.tex import TexUnavailable, compile_pdf


def _relabel(block: lr.RenderedBlock, prefix: str) -> lr.RenderedBlock:
    """Labels unique per question (several questions show the same engine blocks)."""
    lines = tuple(
        replace(line, refs=tuple(ref._replace(label=f"{prefix}-{ref.label}") for ref in line.refs))
        for line in block.lines
    )
    return replace(block, label=f"{prefix}-{block.label}", lines=lines)


def _blocks(question: Question, keys: list[BlockKey]) -> list[lr.RenderedBlock]:
    d = question.network().derivation()
    return [_relabel(lr.render_block(d.block(key), d), question.id) for key in keys]


def question_context(q: Question, check: bool = True) -> dict:
    """Everything the template shows for one question, as LaTeX or plain strings (the kind says what its
    exercise states and which blocks its solution works through); with ``check`` the steps of its solution
    are checked against SymPy first (``checked_note``)."""
    kind = q.exercise
    ctx: dict[str, Any]
    ctx = {
        "id": q.id,
        "title": kind.title,
        "network": None,
        "numbers": None,
        "display": None,
        "tables": None,
        "cost": None,
        "answer": lr.Tex(q.answer_latex()),
        "checked": checked_note(q.network(), check),
    }
    ctx.update(kind.sheet_context(q))
    ctx["blocks"] = _blocks(q, kind.solution_blocks(q))
    return ctx


def render_homework(
    version: Version, solutions: bool, title: str, contexts: list[dict] | None = None
) -> str:
    template = template_environment().get_template("homework.tex.j2")
    contexts = (
        contexts if contexts is not None else [question_context(q) for q in version.questions]
    )
    return template.render(
        title=title,
        version=version.number,
        seed=version.seed,
        solutions=solutions,
        questions=contexts,
    )


@dataclass(frozen=True)
class VersionFiles:
    number: int
    files: tuple[Path, ...]
    note: str | None = None
    moodle: tuple = ()  # this version's MoodleQuestions (built where the version was built)

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "files": [str(path) for path in self.files if path is not None],
        }


def build_version(
    seed: int,
    number: int,
    out_dir: Path,
    kinds: tuple[str, ...],
    count: int | None,
    title: str,
    tex_only: bool,
    check: bool = True,
) -> VersionFiles:
    """Write one version's exercise and solution sheets and its answer key (each file atomically)."""
    version = make_version(seed, number, kinds, count)
    folder = out_dir / f"version-{number}"
    files, note = [], None
    write_atomic(folder / "key.json", version.key_json())
    files.append(folder / "key.json")
    contexts = [question_context(q, check) for q in version.questions]
    for name, solutions in (("exercises", False), ("solutions", True)):
        source = render_homework(version, solutions, title, contexts)
        write_atomic(folder / f"{name}.tex", source)
        files.append(folder / f"{name}.tex")
        if not tex_only:
            try:
                files.append(compile_pdf(source, folder / f"{name}.pdf"))
            except TexUnavailable as missing:
                note = str(missing)
    return VersionFiles(number, tuple(files), note, tuple(moodle_questions(version, contexts)))


# Moodle XML --------------------------------------------------------------------------------
# What Moodle's XML importer (qformat_xml) reads, and how tests/test_moodle.py checks it: every
# question goes into the category of its exercise (all versions of q2 together, so a random-question
# slot on that category gives each student one version); all mathematics is \( … \) inline or
# $$ … $$ display, the two delimiters Moodle's MathJax filter always recognises (it ignores $ … $).
MOODLE_PENALTY = "0.3333333"  # Moodle's own default: a third of the mark lost per wrong try


@dataclass(frozen=True)
class MoodleQuestion:
    """One question for the Moodle export, with the category (one per exercise) it belongs in."""

    category: str  # "$course$/derive/seed 7/q2 weight-gradient"
    info: str  # the category's description (HTML)
    element: ET.Element  # <question type="numerical"> or <question type="essay">


def moodle_category(seed: int, q: Question) -> str:
    """The question-bank category holding every version of exercise ``q.id`` (no '/' in the names)."""
    return f"$course$/derive/seed {seed}/{q.id} {q.kind}"


def moodle_idnumber(seed: int, version: int, q: Question) -> str:
    return f"derive-s{seed}-v{version}-{q.id}"


def moodle_tags(q: Question) -> list[str]:
    """kind, activation(s), cost and layer: what a teacher filters a question bank by."""
    tags = ["derive", f"kind:{q.kind}", *q.exercise.moodle_tags(q)]
    if q.layer is not None:
        tags.append(f"layer:{q.layer}")
    return tags


def moodle_questions(version: Version, contexts: list[dict]) -> list[MoodleQuestion]:
    """One version's questions for Moodle: numeric ones as 'numerical' (graded by Moodle to the key's
    significant digits), symbolic ones as 'essay' with the model answer for the grader (Moodle has no
    symbolic answer type); each with the worked solution of the solutions sheet as general feedback."""
    items = []
    for q, context in zip(version.questions, contexts):
        kind = q.exercise.moodle_type_of(q)
        item = ET.Element("question", type=kind)
        _text(item, "name", f"{q.id} v{version.number}: {q.exercise.title}", format=None)
        _text(item, "questiontext", moodle_question_html(context))
        _text(item, "generalfeedback", moodle_solution_html(context))
        ET.SubElement(item, "defaultgrade").text = "1"
        ET.SubElement(item, "penalty").text = MOODLE_PENALTY if kind == "numerical" else "0"
        ET.SubElement(item, "hidden").text = "0"
        ET.SubElement(item, "idnumber").text = moodle_idnumber(version.seed, version.number, q)
        if kind == "numerical":
            answer = ET.SubElement(item, "answer", fraction="100", format="moodle_auto_format")
            ET.SubElement(answer, "text").text = _plain_number(q.answer_value, 15)
            _text(answer, "feedback", "")
            ET.SubElement(answer, "tolerance").text = _plain_number(
                last_digit_unit(q.answer_value, q.digits), 1
            )
        else:
            ET.SubElement(item, "responseformat").text = "editor"
            ET.SubElement(item, "responserequired").text = "1"
            ET.SubElement(item, "responsefieldlines").text = "5"
            ET.SubElement(item, "attachments").text = "0"
            ET.SubElement(item, "attachmentsrequired").text = "0"
            _text(item, "graderinfo", moodle_grader_html(q, version.number))
            _text(item, "responsetemplate", "")
        tags = ET.SubElement(item, "tags")
        for tag in moodle_tags(q):
            ET.SubElement(ET.SubElement(tags, "tag"), "text").text = tag
        info = (
            f"<p>Every version of question {q.id[1:]} of the derive homework (seed {version.seed}): "
            f"{_html(q.exercise.title)}. A random question drawn from this category gives each student "
            "one version.</p>"
        )
        items.append(MoodleQuestion(moodle_category(version.seed, q), info, item))
    return items


def moodle_xml(questions: list[MoodleQuestion]) -> str:
    """The Moodle XML file: one category per exercise, each followed by all versions of it."""
    quiz = ET.Element("quiz")
    by_category: dict[str, list[MoodleQuestion]] = {}
    for question in questions:  # in version order: v1..vN within each category
        by_category.setdefault(question.category, []).append(question)
    for path, members in by_category.items():
        category = ET.SubElement(quiz, "question", type="category")
        ET.SubElement(ET.SubElement(category, "category"), "text").text = path
        _text(category, "info", members[0].info)
        quiz.extend(member.element for member in members)
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


def moodle_question_html(context: dict) -> str:
    """The question as the exercise sheet states it (the same context), in HTML with \\( \\) and $$ $$."""
    parts = []
    if context["network"]:
        cost = rf" \({_html(context['cost'])}\)." if context["cost"] else ""
        parts.append(f"<p>{tex_text_html(context['network'])}{cost}</p>")
    parts += [f"<p>{tex_text_html(line)}</p>" for line in context["prompt"]]
    if context["numbers"]:
        parts.append(
            "<p>"
            + ", ".join(
                rf"\({_html(symbol)} = {_html(value)}\)" for symbol, value in context["numbers"]
            )
            + "</p>"
        )
    if context["display"]:
        parts.append(_display(context["display"]))
    return "\n".join(parts)


def moodle_solution_html(context: dict) -> str:
    """The worked solution of the solutions sheet (the same blocks, tables and answer) in HTML."""
    parts = []
    for block in context["blocks"]:
        parts.append(f"<h4>{_html(block.title)}</h4>")
        for line in block.lines:
            parts.append(_display(("{}" if line.continued else line.lhs) + " = " + line.rhs))
            see = (
                " (see " + ", ".join(f"<em>{_html(ref.title)}</em>" for ref in line.refs) + ")"
                if line.refs
                else ""
            )
            parts.append(
                f"<p>({line.number}) <strong>{_html(line.rule)}.</strong> {_html(line.text)}{see}</p>"
            )
    tables = context["tables"]
    if tables:
        parts.append("<h4>Forward pass</h4>")
        parts.append(_table(["layer", "node", r"\(z\)", r"\(a\)"], tables.forward, math_from=2))
        parts.append("<h4>Local gradients and backward pass</h4>")
        parts.append(
            _table(
                ["layer", "node", r"\(\partial C_0/\partial a\)", r"\(g'(z)\)", r"\(\delta\)"],
                tables.backward,
                math_from=2,
            )
        )
    parts.append("<h4>Answer</h4>")
    parts.append(_display(rf"\boxed{{{context['answer']}}}"))
    return "\n".join(parts)


def moodle_grader_html(q: Question, version: int) -> str:
    return (
        f"<p>Model answer (the worked solution is in the general feedback):</p>\n"
        f"{_display(q.answer_latex())}\n"
        "<p>Any equivalent form is right. To check an answer typed in LaTeX: "
        f"<code>derive check-answer version-{version}/key.json {q.id} '…'</code> "
        "(exit status 0 right, 1 wrong, with the slip named when it is a common one).</p>"
    )


def _text(parent: ET.Element, tag: str, text: str, format: str | None = "html") -> ET.Element:
    """<tag format="html"><text>…</text></tag>: the text escaped by the XML writer, as Moodle reads it."""
    element = ET.SubElement(parent, tag, format=format) if format else ET.SubElement(parent, tag)
    ET.SubElement(element, "text").text = text
    return element


def _display(tex: str) -> str:
    return f"<p>$${_html(tex)}$$</p>"


def _table(header: list[str], rows, math_from: int) -> str:
    head = "".join(f"<th>{cell}</th>" for cell in header)
    cell = lambda i, text: r"\(" + _html(text) + r"\)" if i >= math_from else _html(text)  # noqa: E731
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(i, text)}</td>" for i, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="table table-sm"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _plain_number(value, digits: int) -> str:
    """``value`` to ``digits`` significant digits as a plain decimal (no exponent, no float noise)."""
    with mpmath.workdps(digits + 10):
        number = (
            mpmath.mpf(sp.Float(value, digits + 10))
            if isinstance(value, sp.Basic)
            else mpmath.mpf(value)
        )
        return mpmath.nstr(number, digits, min_fixed=-mpmath.inf, max_fixed=mpmath.inf)


# LaTeX text mode (the sheets' prompts, with $…$ math) as Moodle HTML (with \(…\) math).
_TEXT_ESCAPES = {
    r"\$": "$",
    r"\%": "%",
    r"\&": "&",
    r"\#": "#",
    r"\_": "_",
    r"\{": "{",
    r"\}": "}",
    r"\textbackslash{}": "\\",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\textless{}": "<",
    r"\textgreater{}": ">",
    r"\textbar{}": "|",
}


def tex_text_html(text: str) -> str:
    """A line of the sheets in Moodle HTML: ``$…$`` math becomes ``\\(…\\)`` (Moodle's MathJax filter
    ignores single dollars), escaped characters (``\\$``, ``\\%``, what ``latex_render.escape`` writes)
    become themselves, the rest is HTML-escaped. A plain ``str`` (not ``Tex``) is plain text. Any other
    TeX command outside math is refused rather than shown to students as source."""
    if not isinstance(text, lr.Tex):
        return _html(text)
    out, i = [], 0
    while i < len(text):
        if text.startswith("$", i):
            display = text.startswith("$$", i)
            start = i + (2 if display else 1)
            end = _math_end(text, start, "$$" if display else "$")
            body = _html(text[start:end].strip())
            out.append(f"$${body}$$" if display else rf"\({body}\)")
            i = end + (2 if display else 1)
        elif text[i] == "\\":
            token = next((t for t in _TEXT_ESCAPES if text.startswith(t, i)), None)
            if token is None:
                raise ValueError(f"no Moodle form for the TeX {text[i : i + 20]!r} in {text!r}")
            out.append(_html(_TEXT_ESCAPES[token]))
            i += len(token)
        elif text[i] == "~":
            out.append("&nbsp;")
            i += 1
        elif text[i] in "{}":
            i += 1  # a TeX group in text mode: no mark of its own
        else:
            out.append(_html(text[i]))
            i += 1
    return "".join(out)


def _math_end(text: str, start: int, closing: str) -> int:
    """Where the math opened before ``start`` closes (an escaped ``\\$`` inside does not close it)."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(closing, i):
            return i
        else:
            i += 1
    raise ValueError(f"unclosed math in {text!r}")


def _html(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The whole job ------------------------------------------------------------------------------
def generate(
    seed: int,
    count: int,
    out_dir: Path,
    kinds: tuple[str, ...] = KINDS,
    questions: int | None = None,
    title: str = "Backpropagation homework",
    tex_only: bool = False,
    jobs: int | None = None,
    progress: bool = True,
    check: bool = True,
) -> list[VersionFiles]:
    """Build ``count`` versions in parallel, then the Moodle export; a progress bar when asked; with
    ``check`` (the default) the steps of every solution are checked against SymPy before anything is written.

    The set (every version's sheets and key, and moodle.xml) is built in a sibling temporary
    directory and swapped in at ``out_dir`` only when all of it succeeded: ``out_dir`` holds either
    the previous complete set or the new one, never a mix. A second run on the same ``out_dir``
    is refused while one is running.
    """
    from derive.errors import ParameterError

    if count < 1:
        raise ParameterError("{count} must be at least 1")
    check_kinds(kinds)  # before any process starts
    jobs = max(1, min(jobs or os.cpu_count() or 1, count))
    out_dir = Path(out_dir)
    with (
        cleanup_on_signals(),
        output_lock(out_dir),
        staged_directory(out_dir, replaceable=_refuse_foreign_files) as staging,
    ):
        results = _build_versions(
            seed, count, staging, kinds, questions, title, tex_only, jobs, progress, check
        )
        write_atomic(
            staging / "moodle.xml", moodle_xml([item for r in results for item in r.moodle])
        )
    return [
        replace(r, files=tuple(out_dir / path.relative_to(staging) for path in r.files))
        for r in results
    ]


def _build_versions(
    seed: int,
    count: int,
    folder: Path,
    kinds: tuple[str, ...],
    questions: int | None,
    title: str,
    tex_only: bool,
    jobs: int,
    progress: bool,
    check: bool = True,
) -> list[VersionFiles]:
    results: list[VersionFiles] = []
    bar = _progress(progress, count)
    with bar as (advance):
        if jobs == 1:
            for number in range(1, count + 1):
                results.append(
                    build_version(seed, number, folder, kinds, questions, title, tex_only, check)
                )
                advance()
        else:
            with ProcessPoolExecutor(
                max_workers=jobs, initializer=worker_initializer, initargs=(os.getpid(),)
            ) as pool:
                workers = lambda: list((getattr(pool, "_processes", None) or {}).values())  # noqa: E731
                token = register_cleanup(
                    lambda: terminate_processes(workers())
                )  # on a signal: end them first
                try:
                    futures = [
                        pool.submit(
                            build_version,
                            seed,
                            number,
                            folder,
                            kinds,
                            questions,
                            title,
                            tex_only,
                            check,
                        )
                        for number in range(1, count + 1)
                    ]
                    for future in as_completed(futures):
                        results.append(future.result())
                        advance()
                except BaseException:
                    terminate_processes(
                        workers()
                    )  # one version failed: the set is void, stop the others
                    raise
                finally:
                    unregister_cleanup(token)
    results.sort(key=lambda r: r.number)
    return results


def _refuse_foreign_files(out_dir: Path) -> None:
    """The set replaces ``out_dir`` as a whole: only a previous set (or nothing) may be there."""
    from derive.errors import DeriveError

    for entry in sorted(out_dir.iterdir()):
        if not (
            entry.name == "moodle.xml"
            and entry.is_file()
            or re.fullmatch(r"version-\d+", entry.name)
            and entry.is_dir()
            or re.fullmatch(r"\.moodle\.xml\..*(partial|tmp)", entry.name)
        ):  # a killed writer's temporary
            raise DeriveError(
                f"{out_dir} holds {entry.name!r}, which is not part of a homework set; the set "
                "replaces that directory as a whole: choose a new or empty directory"
            )


class _progress:
    """rich's progress bar on a terminal; silent otherwise (or when rich is missing)."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total, self.bar = enabled and sys.stderr.isatty(), total, None

    def __enter__(self):
        if self.enabled:
            try:
                from rich.console import Console
                from rich.progress import Progress
            except ImportError:
                self.enabled = False
            else:
                self.bar = Progress(console=Console(stderr=True), transient=True)
                self.bar.start()
                self.task = self.bar.add_task("building versions", total=self.total)
        return (lambda: self.bar.advance(self.task)) if self.bar else (lambda: None)

    def __exit__(self, *exc) -> None:
        if self.bar:
            self.bar.stop()
