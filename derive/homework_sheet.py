"""Homework out: exercise and solution sheets (LaTeX/PDF), the answer key (JSON), Moodle XML.

Versions are built in parallel, one process per core, with a progress bar on the terminal.
"""
from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from . import latex_render as lr
from .activations import Z
from .homework import FACTORS, KINDS, Question, Version, chain_factors, check_kinds, make_version
from .sheet import template_environment, write_atomic
from .tex import TexUnavailable, compile_pdf
from .worked import worked_example

TITLES = {
    "activation-derivative": "the derivative of an activation",
    "weight-gradient": "the gradient of a weight, symbolically",
    "numeric-gradient": "a gradient with numbers",
    "missing-factor": "the missing chain-rule factor",
}


def _relabel(block: lr.RenderedBlock, prefix: str) -> lr.RenderedBlock:
    """Labels unique per question (several questions show the same engine blocks)."""
    lines = tuple(replace(line, refs=tuple((title, f"{prefix}-{label}") for title, label in line.refs))
                  for line in block.lines)
    return replace(block, label=f"{prefix}-{block.label}", lines=lines)


def _blocks(question: Question, keys: list[str]) -> list[lr.RenderedBlock]:
    d = question.network().derivation()
    return [_relabel(lr.render_block(d.block(key), d), question.id) for key in keys]


def question_context(q: Question) -> dict:
    """Everything the template shows for one question, as LaTeX or plain strings."""
    net = q.network()
    s, math = net.symbols, (lambda e: lr.math(e, net))  # noqa: E731
    ctx = {"id": q.id, "title": TITLES[q.kind], "numbers": None, "display": None, "tables": None, "cost": None,
           "answer": lr.Tex(q.answer_latex())}
    if q.kind == "activation-derivative":
        act = net.activations[0]
        ctx["network"] = ""
        ctx["prompt"] = [lr.Tex(r"Derive $g'(z)$ step by step from the definition below, and write it in terms "
                                r"of $g(z)$ where you can.")]
        ctx["display"] = lr.Tex(f"g(z) = {lr.math(act.definition(Z), net)}")
        ctx["blocks"] = _blocks(q, [f"activation:{act.name}"])
        return ctx
    ctx["network"] = lr.Tex(rf"Network: {lr.escape(net.describe())}; the cost is")
    ctx["cost"] = lr.Tex(rf"{math(s.cost)} = {math(net.cost_definition())}")
    d = net.derivation()
    if q.kind == "weight-gradient":
        where = "hidden-to-output" if q.layer == net.L else "input-to-hidden"
        ctx["prompt"] = [lr.Tex(f"Derive the gradient for the {where} weights step by step by the chain rule, "
                                r"in index form (keep $g'(z)$ or write it out).")]
        ctx["display"] = lr.Tex(rf"\frac{{\partial {math(s.cost)}}}{{\partial {math(s.w[q.layer, s.j, s.k])}}} = \;?")
        ctx["blocks"] = _blocks(q, [b.key for b in d.blocks_for(q.layer) if b.key != "forward"])
    elif q.kind == "missing-factor":
        factors = chain_factors(net)
        shown = [r"\boxed{\;?\;}" if i == q.factor else rf"\left({math(value)}\right)"
                 for i, (_, value) in enumerate(factors)]
        ctx["prompt"] = [lr.Tex("One factor of the chain rule for the hidden-to-output weights is missing: "
                                f"{FACTORS[q.factor]}. Give it.")]
        ctx["display"] = lr.Tex(
            rf"\frac{{\partial {math(s.cost)}}}{{\partial {math(s.w[net.L, s.j, s.k])}}} = "
            + " ".join(math(written) for written, _ in factors) + " = " + r" \cdot ".join(shown))
        ctx["blocks"] = _blocks(q, [b.key for b in d.blocks_for(net.L) if b.key != "forward"])
    else:
        j, k = q.node
        ctx["prompt"] = ["For the numbers below, run the forward pass, compute the local gradients and the "
                         "backward pass, and give the gradient (to 4 significant digits)."]
        ctx["display"] = lr.Tex(rf"\frac{{\partial {math(s.cost)}}}{{\partial {math(s.w[q.layer, j, k])}}} = \;?")
        point = q.point()
        ctx["numbers"] = [(math(symbol), lr.number(value)) for symbol, value in point.items()]
        example = worked_example(net, q.spec_values(), differences=False)
        ctx["tables"] = lr.worked_tables(net, example)
        ctx["blocks"] = _blocks(q, [b.key for b in d.blocks_for(q.layer) if b.key != "forward"])
    return ctx


def render_homework(version: Version, solutions: bool, title: str, contexts: list[dict] | None = None) -> str:
    template = template_environment().get_template("homework.tex.j2")
    contexts = contexts if contexts is not None else [question_context(q) for q in version.questions]
    return template.render(title=title, version=version.number, seed=version.seed, solutions=solutions,
                           questions=contexts)


@dataclass(frozen=True)
class VersionFiles:
    number: int
    files: tuple[Path, ...]
    note: str | None = None
    moodle: tuple = ()  # this version's Moodle questions (built where the version was built)


def build_version(seed: int, number: int, out_dir: Path, kinds: tuple[str, ...], count: int | None,
                  title: str, tex_only: bool) -> VersionFiles:
    """Write one version's exercise and solution sheets and its answer key (each file atomically)."""
    version = make_version(seed, number, kinds, count)
    folder = out_dir / f"version-{number}"
    files, note = [], None
    write_atomic(folder / "key.json", version.key_json())
    files.append(folder / "key.json")
    contexts = [question_context(q) for q in version.questions]
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
def moodle_questions(version: Version, contexts: list[dict]) -> list[ET.Element]:
    """One version's questions for Moodle: numeric ones as 'numerical' (graded by Moodle), symbolic
    ones as 'essay' with the model answer for the grader (Moodle has no built-in symbolic type)."""
    category = ET.Element("question", type="category")
    ET.SubElement(ET.SubElement(category, "category"), "text").text = f"$course$/derive/version {version.number}"
    items = [category]
    for q, context in zip(version.questions, contexts):
        kind = "numerical" if q.kind == "numeric-gradient" else "essay"
        item = ET.Element("question", type=kind)
        ET.SubElement(ET.SubElement(item, "name"), "text").text = f"v{version.number} {q.id}: {TITLES[q.kind]}"
        body = " ".join(str(line) for line in context["prompt"])
        if context["numbers"]:
            body += " " + ", ".join(rf"\({symbol} = {value}\)" for symbol, value in context["numbers"])
        if context["display"]:
            body += rf" \[{context['display']}\]"
        text = ET.SubElement(item, "questiontext", format="html")
        network = str(context["network"]) + (rf" \({context['cost']}\)." if context["cost"] else "")
        ET.SubElement(text, "text").text = f"<p>{_html(network)}</p><p>{_html(body)}</p>"
        if kind == "numerical":
            value = float(q.answer_value)
            answer = ET.SubElement(item, "answer", fraction="100")
            ET.SubElement(answer, "text").text = repr(value)
            ET.SubElement(answer, "tolerance").text = f"{abs(value) * 1e-3:.3g}"
        else:
            info = ET.SubElement(item, "graderinfo", format="html")
            ET.SubElement(info, "text").text = (
                rf"<p>Model answer: \({_html(q.answer_latex())}\). Check a typed answer with "
                f"<code>derive check-answer key.json {q.id} '...'</code>.</p>")
            ET.SubElement(item, "responseformat").text = "editor"
        items.append(item)
    return items


def moodle_xml(questions: list[ET.Element]) -> str:
    """The Moodle XML quiz file holding ``questions`` (all versions, each in its own category)."""
    quiz = ET.Element("quiz")
    quiz.extend(questions)
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The whole job ------------------------------------------------------------------------------
def generate(seed: int, count: int, out_dir: Path, kinds: tuple[str, ...] = KINDS, questions: int | None = None,
             title: str = "Backpropagation homework", tex_only: bool = False, jobs: int | None = None,
             progress: bool = True) -> list[VersionFiles]:
    """Build ``count`` versions in parallel, then the Moodle export; a progress bar when asked."""
    from .errors import DeriveError

    if count < 1:
        raise DeriveError("--count must be at least 1")
    check_kinds(kinds)  # before any process starts
    jobs = max(1, min(jobs or os.cpu_count() or 1, count))
    results: list[VersionFiles] = []
    bar = _progress(progress, count)
    with bar as (advance):
        if jobs == 1:
            for number in range(1, count + 1):
                results.append(build_version(seed, number, out_dir, kinds, questions, title, tex_only))
                advance()
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(build_version, seed, number, out_dir, kinds, questions, title, tex_only)
                           for number in range(1, count + 1)]
                for future in as_completed(futures):
                    results.append(future.result())
                    advance()
    results.sort(key=lambda r: r.number)
    write_atomic(out_dir / "moodle.xml", moodle_xml([item for r in results for item in r.moodle]))
    return results


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
