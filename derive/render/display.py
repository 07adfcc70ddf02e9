"""Rich display for Jupyter (JupyterLab and Notebook 7: MathJax 3; nbconvert/nbviewer: MathJax 2.7;
VS Code: KaTeX), in the project's notation.

Three rules keep every front end happy:

* a display is one math environment with its own line breaks (``aligned``, ``gathered``), never
  pieces joined by a top-level ``\\\\`` (MathJax 3 ignores those and sets everything on one line);
* no display is wider than a page: long equations are split over lines inside ``aligned`` at a
  product or a sum, with ``\\right.`` / ``\\left.`` closing and reopening the brackets a break cuts;
* for MathJax 2.7: no ``\\textbf``, ``\\mathrm``, ``\\mathsf``... early in a long display (MathJax 2.7
  pastes a macro's expansion before the rest of the display and gives up past 5 KB).

``text/markdown`` (what JupyterLab, Notebook 7, VS Code and nbconvert's HTML pick) gives one ``$$``
display per step with its rule and reason as text; ``text/latex`` (for front ends that prefer it, and
``nbconvert --to latex``) is one ``gathered`` environment.

``show(obj, net)`` wraps anything derive returns (a SymPy expression from ``d.gradient()``, a step,
a block, ``d.steps()``, a derivation, a check report) in an object Jupyter displays this way;
``init_printing(net)`` makes a notebook print every SymPy expression in the network's notation.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import sympy as sp

from derive.model.steps import Block, BlockKey, Origin, Step
from derive.notation.letters import PRESETS, Notation, notation_named
from derive.notation.printing import latex, text
from derive.render.lines import Line, step_lines
from derive.render.reasons import Worded, word

if TYPE_CHECKING:
    from derive.engine.derivation import Derivation

#: Width, in ex of the page's math font, that one line of a display should not exceed (estimated
#: before rendering; a page of JupyterLab or nbconvert HTML is about 120 ex wide).
LINE_EX = 72.0
#: The same for a whole row of an ``aligned`` with a column of rule names (left side, right side, rule).
PAGE_EX = 92.0


# Which notation an object was made in ---------------------------------------------------------
def notation_of(obj: object, given: object = None) -> Notation:
    """The notation to print ``obj`` in: the one given (a Network, Derivation, Notation or preset
    name), else the one its derivation was made in, else the default."""
    if given is not None:
        if hasattr(given, "network"):
            given = given.network
        if hasattr(given, "notation"):
            given = given.notation
        return notation_named(given)  # type: ignore[arg-type]  # else it says which notations there are
    origin = _origin(obj)
    return origin.notation if origin is not None else PRESETS["default"]


def titles_of(obj: object) -> Mapping[BlockKey, str]:
    """Block key -> title in the derivation ``obj`` (a block or step) came from, for its references."""
    origin = _origin(obj)
    return origin.titles if origin is not None else {}


def _origin(obj: object) -> Origin | None:
    """Where a block or step was derived (``Origin``, given by its derivation), or None."""
    return obj.origin if isinstance(obj, (Block, Step)) else None


# Text inside math and markdown ----------------------------------------------------------------
_TEXT_SAFE = re.compile(r"[^A-Za-z0-9 ,.:;()'=+/-]")


def tex_text(value: object) -> str:
    """Plain text for ``\\text{...}``: characters every engine reads literally (MathJax 3 without
    textmacros, MathJax 2 and KaTeX disagree about backslashes and dollars inside \\text)."""
    return _TEXT_SAFE.sub(" ", str(value)).strip() or " "


_MD_SPECIAL = re.compile(r"([\\`*_<>|$~])")


def md_text(value: object) -> str:
    """Plain text made literal in markdown (no emphasis, links, HTML or math)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def md_reason(step: "Step", nt: Notation) -> str:
    """A step's reason in markdown: its words literal, each formula inline math ``$...$``."""
    return md_worded(word(step.reason, nt))


def md_worded(reason: Worded) -> str:
    """A worded reason in markdown: its words literal, each formula inline math ``$...$``."""
    pieces = reason.pieces
    out = "".join(
        f"${piece.tex}$" if piece.is_math else _MD_SPECIAL.sub(r"\\\1", piece.text)
        for piece in pieces
    )
    return " ".join(out.split())


# Reading printed LaTeX: tokens, an estimate of their width, and line breaks -----------------
_CMD = re.compile(r"\\([A-Za-z]+|.?)", re.S)  # matches at every backslash, a last one too
_ENV = re.compile(r"\\(begin|end)\{([A-Za-z*]+)\}")
_BINARY = {
    "+",
    "-",
    "=",
    "<",
    ">",
    r"\odot",
    r"\cdot",
    r"\times",
    r"\ne",
    r"\neq",
    r"\leq",
    r"\geq",
    r"\to",
    r"\mapsto",
    r"\approx",
}
_SPACES = {r"\!": -0.4, r"\,": 0.4, r"\:": 0.5, r"\;": 0.6, r"\quad": 2.3, r"\qquad": 4.6, "~": 0.8}
_WORD_MACROS = {
    r"\operatorname",
    r"\text",
    r"\textbf",
    r"\mathrm",
    r"\mathsf",
    r"\mathit",
    r"\mathbf",
}
_SIZES = {r"\small": 0.9, r"\normalsize": 1.0, r"\large": 1.2, r"\Large": 1.44}
_BIG_OPERATORS = {r"\sum", r"\prod", r"\int"}
_NAMED_FUNCTIONS = {
    r"\tanh",
    r"\log",
    r"\ln",
    r"\exp",
    r"\sin",
    r"\cos",
    r"\sinh",
    r"\cosh",
    r"\max",
    r"\min",
}


def _group_end(tex: str, i: int) -> int:
    depth = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            i += 2
            continue
        depth += c == "{"
        depth -= c == "}"
        i += 1
        if depth == 0:
            return i
    raise ValueError(f"unbalanced braces in {tex!r}")


def _env_end(tex: str, i: int) -> int:
    depth = 0
    for m in _ENV.finditer(tex, i):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return m.end()
    raise ValueError(f"unclosed environment in {tex!r}")


def tokens(tex: str) -> list[str]:
    """Top-level tokens: a space, a character, a command (``\\left(`` with its delimiter), a whole
    ``{group}`` or a whole ``\\begin..\\end`` environment."""
    out: list[str] = []
    i, n = 0, len(tex)
    while i < n:
        c = tex[i]
        if c.isspace():
            while i < n and tex[i].isspace():
                i += 1
            out.append(" ")
        elif c == "{":
            j = _group_end(tex, i)
            out.append(tex[i:j])
            i = j
        elif c == "\\":
            m = _CMD.match(tex, i)
            assert m is not None  # _CMD matches at every backslash
            name, j = m.group(0), m.end()
            if name in (r"\left", r"\right"):
                while j < n and tex[j].isspace():
                    j += 1
                d = _CMD.match(tex, j) if tex.startswith("\\", j) else None
                j = d.end() if d else j + 1
                out.append(name + tex[m.end() : j].strip())
            elif name == r"\begin":
                j = _env_end(tex, i)
                out.append(tex[i:j])
            else:
                out.append(name)
            i = j
        else:
            out.append(c)
            i += 1
    return out


def _inner(group: str) -> str:
    return group[1:-1] if group.startswith("{") else group


def _env_width(env: str, scale: float) -> float:
    match = _ENV.match(env)
    assert match is not None, "an environment starts with \\begin{name}"
    name = match.group(2)
    body = env[env.index("}") + 1 : env.rindex(r"\end")]
    rows = _split_top(body, r"\\")
    widest = max(
        (sum(width(cell, scale) + 2.0 for cell in _split_top(row, "&")) for row in rows),
        default=0.0,
    )
    return widest + (2.5 if name in ("cases", "pmatrix", "bmatrix") else 0.0)


def _split_top(tex: str, sep: str) -> list[str]:
    """Split at ``sep`` outside groups and environments."""
    parts: list[str] = []
    current: list[str] = []
    for tok in tokens(tex):
        if tok == sep or (sep == r"\\" and tok == "\\\\"):
            parts.append("".join(current))
            current = []
        elif sep == r"\\" and tok.startswith("[") and parts and not current:
            continue  # the [1em] after a row break
        else:
            current.append(tok)
    parts.append("".join(current))
    return parts


def width(tex: str, scale: float = 1.0) -> float:
    """Rough width in ex of TeX math as MathJax sets it in display style (within about 20%)."""
    toks = tokens(tex)
    total, i = 0.0, 0
    while i < len(toks):
        tok = toks[i]
        i += 1
        if tok == " ":
            continue
        if tok in _SIZES:
            scale *= _SIZES[tok]
            continue
        if tok in ("_", "^"):
            # scripts of the base before: the wider of subscript and superscript counts
            sub = sup = 0.0
            j = i - 1
            while j < len(toks) and toks[j] in ("_", "^"):
                w = width(_inner(toks[j + 1]) if j + 1 < len(toks) else "", scale * 0.7)
                if toks[j] == "_":
                    sub = w
                else:
                    sup = w
                j += 2
            total += max(sub, sup)
            i = j
            continue
        if tok in _BIG_OPERATORS:
            limits = 0.0
            while i < len(toks) and toks[i] in ("_", "^"):
                limits = max(limits, width(_inner(toks[i + 1]), scale * 0.7))
                i += 2
            total += max(3.3 * scale, limits)
        elif tok == r"\frac" and i + 1 < len(toks):
            num, den = toks[i], toks[i + 1]
            i += 2
            inner = scale if scale == 1.0 else scale * 0.8
            total += max(width(_inner(num), inner), width(_inner(den), inner)) + 0.5 * scale
        elif tok in _WORD_MACROS and i < len(toks):
            total += len(_inner(toks[i])) * (1.1 if tok != r"\textbf" else 1.25) * scale
            i += 1
        elif tok.startswith(r"\begin"):
            total += _env_width(tok, scale)
        elif tok.startswith("{"):
            total += width(_inner(tok), scale)
        elif tok.startswith((r"\left", r"\right")):
            total += (0.1 if tok.endswith(".") else 1.3) * scale
        elif tok in _SPACES:
            total += _SPACES[tok] * scale
        elif tok in _BINARY:
            total += (2.8 if scale == 1.0 else 1.3) * scale
        elif tok == "'":
            total += 0.6 * scale
        elif tok in _NAMED_FUNCTIONS:
            total += (len(tok) - 1) * 1.1 * scale
        elif tok.startswith("\\"):
            total += 1.3 * scale
        elif tok.isalnum():
            total += 1.15 * scale
        else:
            total += 0.9 * scale
    return total


def break_lines(tex: str, limit: float = LINE_EX, first: float | None = None) -> list[str]:
    """``tex`` cut into lines of at most about ``limit`` ex (``first`` for the first line).

    Cuts fall between the factors of a product or before the + or - of a sum, never inside a
    group, an environment or the limits of a sum; the shallowest bracket level wins. A line that
    leaves brackets open ends with ``\\right.`` and the next reopens them with ``\\left.``; a line
    that continues a product starts with ``\\cdot``.
    """
    if width(tex) <= (first if first is not None else limit):
        return [tex]
    toks = _loosen(tokens(tex), limit)
    widths = [width(t) if t != " " else 0.0 for t in toks]
    # break candidates: index of a token a new line may start with, and the bracket depth there
    candidates: list[
        tuple[int, int]
    ] = []  # (index of the token a line may start with, bracket depth)
    depth = 0
    for n, tok in enumerate(toks):
        if tok.startswith(r"\left"):
            depth += 1
        elif tok.startswith(r"\right"):
            depth -= 1
        if tok != " " or n == 0 or n + 1 >= len(toks):
            continue
        before, after = _previous(toks, n), toks[n + 1]
        if (
            before is None
            or after in ("_", "^", "'")
            or after.startswith(r"\right")
            or before.startswith(r"\left")
        ):
            continue
        if before in _BINARY or before in ("_", "^") or _ends_limits(toks, n):
            continue
        candidates.append((n + 1, depth))
    lines, start, budget = [], 0, (first if first is not None else limit)
    while start < len(toks):
        run, end = 0.0, None
        for n in range(start, len(toks)):
            run += widths[n]
            if run > budget:
                end = n
                break
        if end is None:
            lines.append((start, len(toks)))
            break
        fitting = [c for c in candidates if start < c[0] <= end]
        usable = [c for c in fitting if sum(widths[start : c[0]]) >= 0.4 * budget] or fitting
        if not usable:  # nothing fits: cut at the first chance, an overfull line
            usable = [c for c in candidates if c[0] > start][:1]
        if not usable:
            lines.append((start, len(toks)))
            break
        low = min(c[1] for c in usable)
        cut = max(c[0] for c in usable if c[1] == low)
        lines.append((start, cut))
        start, budget = cut, limit
    return _assemble(toks, lines)


def _loosen(toks: list[str], limit: float) -> list[str]:
    """Open up what no cut may enter: a fraction whose numerator alone is too wide becomes
    1/denominator times the numerator in brackets; a ``cases`` row too wide is cut into an ``aligned``."""
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok == r"\frac" and i + 2 < len(toks) and width(_inner(toks[i + 1])) > limit:
            out += [r"\frac", "{1}", toks[i + 2], " ", r"\left("] + _loosen(
                tokens(_inner(toks[i + 1])), limit
            )
            out.append(r"\right)")
            i += 3
            continue
        if tok.startswith(r"\begin{cases}") and width(tok) > limit:
            tok = _narrow_cases(tok, limit)
        out.append(tok)
        i += 1
    return out


def _narrow_cases(env: str, limit: float) -> str:
    body = env[len(r"\begin{cases}") : env.rindex(r"\end{cases}")]
    rows = []
    for row in _split_top(body, r"\\"):
        if not row.strip():
            continue
        value, *conditions = _split_top(row, "&")
        room = max(limit - sum(width(c) for c in conditions) - 6.0, 0.4 * limit)
        lines = break_lines(value.strip(), room)
        if len(lines) > 1:
            value = r"\begin{aligned}&" + r" \\ &\quad ".join(lines) + r"\end{aligned}"
        rows.append(" & ".join([value.strip()] + [c.strip() for c in conditions]))
    return r"\begin{cases}" + r" \\ ".join(rows) + r"\end{cases}"


def _previous(toks: list[str], n: int) -> str | None:
    return toks[n - 1] if n > 0 else None


def _ends_limits(toks: list[str], n: int) -> bool:
    """True when the space at ``n`` follows a big operator and its limits (no cut after Σ_{i=0}^{n})."""
    j = n - 1
    while j >= 1 and toks[j - 1] in ("_", "^"):
        j -= 2
    return j >= 0 and toks[j] in _BIG_OPERATORS


def _assemble(toks: list[str], spans: list[tuple[int, int]]) -> list[str]:
    out, depth = [], 0
    for number, (a, b) in enumerate(spans):
        part = toks[a:b]
        opened = depth
        for tok in part:
            if tok.startswith(r"\left"):
                depth += 1
            elif tok.startswith(r"\right"):
                depth -= 1
        body = "".join(part).strip()
        if number > 0:
            lead = "{}" if body[:1] in "+-" else r"\cdot "
            body = r"\left." * opened + " " + lead + body if opened else lead + body
        if depth > 0:
            body += " " + r"\right." * depth
        out.append(body.strip())
    return out


# Equations -------------------------------------------------------------------------------------
def aligned_rows(lhs: str, rhs: str, relation: str = "=", limit: float = LINE_EX) -> list[str]:
    """Rows of an ``aligned`` environment for ``lhs = rhs``: ``lhs &= ...`` then ``&\\quad ...``."""
    lines = break_lines(rhs, limit, first=max(limit - width(lhs) - 3.0, 0.5 * limit))
    return [f"{lhs} &{relation} {lines[0]}"] + [rf"&\quad {line}" for line in lines[1:]]


def equation(lhs: str, rhs: str, relation: str = "=", limit: float = LINE_EX) -> str:
    """One display's body: ``lhs = rhs`` as is when it fits, else an ``aligned`` environment."""
    rows = aligned_rows(lhs, rhs, relation, limit)
    if len(rows) == 1:
        return f"{lhs} {relation} {rhs}"
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def expression(tex: str, limit: float = LINE_EX) -> str:
    """A bare expression's display body, cut into an ``aligned`` when it is too wide."""
    lines = break_lines(tex, limit)
    if len(lines) == 1:
        return tex
    return r"\begin{aligned}&" + r" \\ &\quad ".join(lines) + r"\end{aligned}"


def display_math(body: str) -> str:
    """A markdown display: ``$$`` on lines of their own, as markdown-it (VS Code), marked
    (JupyterLab) and mistune (nbconvert) all read it."""
    return "$$\n" + body + "\n$$"


def title(value: object) -> str:
    """A heading inside a display: larger text. Not ``\\textbf``: MathJax 2.7 expands that macro
    into the rest of the display and fails with "internal buffer size exceeded" once the display
    is longer than 5 KB (so do ``\\mathbf``, ``\\mathrm``, ``\\mathsf``; see tests/test_jupyter.py)."""
    return rf"{{\large\text{{{tex_text(value)}}}}}"


# Steps, blocks, derivations ---------------------------------------------------------------------
def step_markdown(
    step: "Step",
    nt: Notation,
    number: int | None = None,
    titles: Mapping[BlockKey, str] | None = None,
) -> str:
    """One step: its rule and reason as text, then one display of its equation."""
    titles = titles if titles is not None else titles_of(step)
    return line_markdown(step_lines([step], nt, titles)[0], number)


def line_markdown(line: Line, number: int | None = None) -> str:
    """A printed line (LaTeX sides) in markdown: ``(n)`` rule, label and reason, then its display."""
    head = f"**({number})** " if number is not None else ""
    tag = line.tag
    label = f", **{md_text(tag)}**" if tag else ""
    reason = f"{head}*{md_text(line.rule)}*{label}: {md_worded(line.reason)}"
    if line.refs:
        names = list(dict.fromkeys(ref.title for ref in line.refs))
        reason += " (uses: " + "; ".join(md_text(n) for n in names) + ")"
    # The equation's label after it, (BP1): not \tag, whose display MathJax makes as wide as the page
    # (so no test can measure that it fits), and which no ``aligned`` may hold.
    label = rf" \qquad \text{{({tex_text(tag)})}}" if tag else ""
    return (
        reason
        + "\n\n"
        + display_math(equation(line.lhs, line.rhs, limit=LINE_EX - width(label)) + label)
    )


def step_latex(step: "Step", nt: Notation) -> str:
    return (
        "$$" + r"\begin{aligned}" + r" \\ ".join(_rule_rows([step], nt)) + r"\end{aligned}" + "$$"
    )


def block_rows(block: "Block", nt: Notation) -> list[str]:
    """The block's steps as rows of one ``aligned``: a step with the left-hand side of the one
    before shows only ``= rhs``; the rule stands in a column on the right."""
    return _rule_rows(block.steps, nt)


def _rule_rows(steps: Sequence["Step"], nt: Notation) -> list[str]:
    """Rows ``lhs &= rhs && \\text{rule}``; the right-hand sides are cut so that the widest left side,
    right side and rule together stay within a page (``aligned`` lines its columns up)."""
    printed = [
        (line, rf"\text{{{tex_text(_rule_and_tag(line))}}}") for line in step_lines(steps, nt)
    ]
    widest = max((width(line.lhs) for line, _ in printed), default=0.0) + max(
        (width(rule) for _, rule in printed), default=0.0
    )
    limit = max(PAGE_EX - widest - 6.0, 0.45 * PAGE_EX)
    rows = []
    for line, rule in printed:
        lines = break_lines(line.rhs, limit)
        rows.append(f"{'' if line.continued else line.lhs} &= {lines[0]} && {rule}")
        rows += [rf"&\quad {part}" for part in lines[1:]]
    return rows


def _rule_and_tag(line: Line) -> str:
    """The rule column of an ``aligned`` (where \\tag is not allowed): the rule, and the equation's label."""
    return line.rule + (f" ({line.tag})" if line.tag else "")


def block_aligned(block: "Block", nt: Notation) -> str:
    return r"\begin{aligned}" + r" \\ ".join(block_rows(block, nt)) + r"\end{aligned}"


def block_markdown(
    block: "Block",
    nt: Notation,
    titles: Mapping[BlockKey, str] | None = None,
    level: int = 4,
    number: int | None = None,
) -> str:
    head = "#" * level + " " + (f"{number}. " if number is not None else "") + md_text(block.title)
    titles = titles if titles is not None else titles_of(block)
    lines = step_lines(block.steps, nt, titles)
    return "\n\n".join([head] + [line_markdown(line, line.number) for line in lines])


def block_latex(block: "Block", nt: Notation) -> str:
    return (
        "$$"
        + r"\begin{gathered}"
        + title(block.title)
        + r" \\[0.5em] "
        + block_aligned(block, nt)
        + r"\end{gathered}"
        + "$$"
    )


def _heading(derivation: "Derivation") -> str:
    net = derivation.network
    nt = net.notation
    return (
        f"Derivation for the network {net.describe()}: L = {net.L}; {nt.node} is a node of layer "
        f"{nt.layer}, {nt.prev} of layer {nt.layer}-1, {nt.downstream[0]} of layer {nt.layer}+1"
    )


def derivation_markdown(derivation: "Derivation") -> str:
    nt = derivation.network.notation
    titles = derivation.titles
    parts = [f"**{md_text(_heading(derivation))}**"]
    parts += [block_markdown(b, nt, titles, 4, n) for n, b in enumerate(derivation.blocks, 1)]
    return "\n\n".join(parts) + "\n"


def derivation_latex(derivation: "Derivation") -> str:
    """The whole derivation as one ``gathered`` environment: each block's title, then its steps as
    an ``aligned`` (no top-level ``\\\\``: MathJax 3 would set everything on one line)."""
    nt = derivation.network.notation
    rows = []
    for n, block in enumerate(derivation.blocks, 1):
        rows.append(title(f"{n}. {block.title}"))
        rows.append(block_aligned(block, nt))
    return "$$" + r"\begin{gathered}" + r" \\[0.6em] ".join(rows) + r"\end{gathered}" + "$$"


def steps_markdown(steps: Sequence["Step"], nt: Notation) -> str:
    return "\n\n".join(step_markdown(step, nt, n) for n, step in enumerate(steps, 1)) + "\n"


def steps_latex(steps: Sequence["Step"], nt: Notation) -> str:
    return "$$" + r"\begin{aligned}" + r" \\ ".join(_rule_rows(steps, nt)) + r"\end{aligned}" + "$$"


# Check results ----------------------------------------------------------------------------------
def _short(value: object) -> sp.Expr:
    """A checked value with its 120 working digits cut to 12 (a display, not a proof)."""
    expr: sp.Expr = sp.sympify(value)  # a number the check computed, never a user's text
    return expr.xreplace({f: sp.Float(f, 12) for f in expr.atoms(sp.Float)})


def mismatch_markdown(mismatch, nt: Notation) -> str:
    where = ", ".join(f"{k} = {v}" for k, v in mismatch.assignment)
    body = equation(latex(_short(mismatch.lhs), nt), latex(_short(mismatch.rhs), nt), r"\ne")
    return f"**Mismatch** in {md_text(mismatch.what)} (at {md_text(where)}):\n\n" + display_math(
        body
    )


def mismatch_latex(mismatch, nt: Notation) -> str:
    where = ", ".join(f"{k}={v}" for k, v in mismatch.assignment)
    rows = aligned_rows(latex(_short(mismatch.lhs), nt), latex(_short(mismatch.rhs), nt), r"\ne")
    return (
        "$$"
        + r"\begin{gathered}"
        + rf"\text{{mismatch: {tex_text(mismatch.what)} ({tex_text(where)})}}"
        + r" \\ \begin{aligned}"
        + r" \\ ".join(rows)
        + r"\end{aligned}\end{gathered}"
        + "$$"
    )


def mismatches_markdown(mismatches: Sequence, nt: Notation) -> str:
    if not mismatches:
        return "**Every claim holds** (no mismatch).\n"
    head = f"**{len(mismatches)} mismatch{'es' if len(mismatches) != 1 else ''}**"
    return head + "\n\n" + "\n\n".join(mismatch_markdown(m, nt) for m in mismatches) + "\n"


_GROUP_NAME = re.compile(r"^([A-Za-z]+)\^\(([^)]*)\)$")


def _group_math(name: str) -> str:
    m = _GROUP_NAME.match(name)
    return f"${m.group(1)}^{{({m.group(2)})}}$" if m else md_text(name)


def check_report_markdown(report) -> str:
    """A gradient check (``derive.checks.gradcheck.CheckReport``) as a markdown table."""
    from derive.checks.gradcheck import CENTRAL_TARGET, COMPLEX_TARGET

    def num(value) -> str:
        return "n/a" if value is None else f"{value:.2e}"

    lines = [
        f"**Gradient check** of the network {md_text(report.network)}: cost {report.cost:.12g}; "
        f"targets: central relative error ≤ {CENTRAL_TARGET:g}, complex step ≤ {COMPLEX_TARGET:g} "
        f"(relative to max(|g|, |fd|, {report.floor:.3g}))",
        "",
        "| parameters | shape | central abs | central rel | complex abs | complex rel | kinks | result |",
        "|:--|--:|--:|--:|--:|--:|--:|:--|",
    ]
    for g in report.groups:
        lines.append(
            f"| {_group_math(g.name)} | {'×'.join(map(str, g.shape))} | {num(g.central_abs)} | "
            f"{num(g.central_rel)} | {num(g.complex_abs)} | {num(g.complex_rel)} | {len(g.kinks)} | "
            f"{'ok' if g.passed else '**FAILED**'} |"
        )
    lines.append("")
    if not report.analytic:
        lines.append("Complex step: n/a, the network has a non-analytic activation (ReLU-like).")
        lines.append("")
    kinked = [(g.name, k) for g in report.groups for k in g.kinks]
    if kinked:
        lines.append(
            "At a kink (reported, not compared): "
            + ", ".join(f"{_group_math(n)} {md_text(list(k))}" for n, k in kinked)
        )
        lines.append("")
    lines.append("**PASSED**" if report.passed else "**FAILED**")
    return "\n".join(lines) + "\n"


# The public wrapper --------------------------------------------------------------------------
@dataclass(frozen=True)
class View:
    """How one kind of value displays in a notation: markdown, LaTeX (None: markdown only) and plain text."""

    markdown: Callable[[Any, Notation], str]
    latex: Callable[[Any, Notation], "str | None"]
    text: Callable[[Any, Notation], str]


def _equality_body(v: sp.Equality, nt: Notation) -> str:
    return equation(latex(v.lhs, nt), latex(v.rhs, nt))


def _expression_body(v: sp.Basic, nt: Notation) -> str:
    return expression(latex(v, nt))


def _math_view(body: Callable[[Any, Notation], str], plain: Callable[[Any, Notation], str]) -> View:
    return View(
        lambda v, nt: display_math(body(v, nt)) + "\n",
        lambda v, nt: "$$" + body(v, nt) + "$$",
        plain,
    )


def _derivation_text(v: "Derivation", nt: Notation) -> str:
    from derive.render.terminal import render_steps

    return render_steps(v)


STEP = View(step_markdown, step_latex, lambda v, nt: step_text(v, nt))
BLOCK = View(block_markdown, block_latex, lambda v, nt: block_text(v, nt))
STEPS = View(
    steps_markdown, steps_latex, lambda v, nt: "\n".join(step_text(step, nt) for step in v)
)
DERIVATION = View(
    lambda v, nt: derivation_markdown(v), lambda v, nt: derivation_latex(v), _derivation_text
)
MISMATCH = View(mismatch_markdown, mismatch_latex, lambda v, nt: str(v))
MISMATCHES = View(
    mismatches_markdown, lambda v, nt: None, lambda v, nt: "\n".join(map(str, v)) or "no mismatch"
)
REPORT = View(lambda v, nt: check_report_markdown(v), lambda v, nt: None, lambda v, nt: v.table())
EQUALITY = _math_view(_equality_body, lambda v, nt: f"{text(v.lhs, nt)} = {text(v.rhs, nt)}")
EXPRESSION = _math_view(_expression_body, lambda v, nt: text(v, nt))


@functools.singledispatch
def view_of(value: object) -> View:
    """The ``View`` of ``value``, by its class; TypeError for what derive cannot display."""
    raise TypeError(f"derive cannot display {type(value).__name__}")


view_of.register(Step, lambda v: STEP)
view_of.register(Block, lambda v: BLOCK)
view_of.register(sp.Equality, lambda v: EQUALITY)
view_of.register(sp.Basic, lambda v: EXPRESSION)
view_of.register(sp.MatrixBase, lambda v: EXPRESSION)


@view_of.register(list)
@view_of.register(tuple)
def _sequence_view(value: Sequence) -> View:
    """A run of steps (``d.steps(1)``), or of mismatches (``check_steps``: none at all is a report too)."""
    from derive.checks.steps import Mismatch

    if value and all(isinstance(x, Step) for x in value):
        return STEPS
    if all(isinstance(x, Mismatch) for x in value):
        return MISMATCHES
    raise TypeError(f"derive cannot display {type(value).__name__}")


@functools.lru_cache(maxsize=None)
def _register_upper_layers() -> None:
    """Register the classes of the layers that import this module's callers (on first display, once)."""
    from derive.checks.gradcheck import CheckReport
    from derive.checks.steps import Mismatch
    from derive.engine.derivation import Derivation

    view_of.register(Derivation, lambda v: DERIVATION)
    view_of.register(Mismatch, lambda v: MISMATCH)
    view_of.register(CheckReport, lambda v: REPORT)


class Shown:
    """Anything derive returns, displayed in a notation: ``text/markdown``, ``text/latex`` and a
    plain-text repr. Made by ``show(obj, net)``; ``obj`` is kept as ``.value``."""

    def __init__(self, value: object, notation: Notation) -> None:
        self.value = value
        self.notation = notation

    @property
    def view(self) -> View:
        """How the value displays (``view_of``); TypeError for what derive cannot display."""
        _register_upper_layers()
        return view_of(self.value)

    def _repr_markdown_(self) -> str:
        return self.view.markdown(self.value, self.notation)

    def _repr_latex_(self) -> str | None:
        return self.view.latex(self.value, self.notation)

    def _body(self) -> str:
        v, nt = self.value, self.notation
        return _equality_body(v, nt) if isinstance(v, sp.Equality) else _expression_body(v, nt)

    def latex(self) -> str:
        """The LaTeX of the display (what ``text/latex`` holds)."""
        return self._repr_latex_() or ""

    def __str__(self) -> str:
        return self.view.text(self.value, self.notation)

    def __repr__(self) -> str:
        return str(self)


def step_text(step: "Step", nt: Notation) -> str:
    """One line of Unicode text (IPython's plain-text view of a step)."""
    line = step_lines([step], nt, printer=text)[0]
    return f"{line.lhs} = {line.rhs}    [{_rule_and_tag(line)}]"


def block_text(block: "Block", nt: Notation, titles: Mapping[BlockKey, str] | None = None) -> str:
    """A block as plain text (IPython's view of it), as the terminal prints a derivation's blocks."""
    from derive.render.terminal import block_text as terminal_block

    return terminal_block(block, nt, titles if titles is not None else titles_of(block))


def show(obj: object, notation: object = None) -> Shown:
    """Display ``obj`` in Jupyter in the project's notation.

    ``obj``: a SymPy expression (``d.gradient(2)``, ``d.delta(1)``...), an equation, a step, a block,
    a sequence of steps (``d.steps(1)``), a derivation, a mismatch list (``check_steps``) or a
    gradient check report. ``notation``: the network (or derivation, notation or preset name)
    the expression belongs to; by default the notation the object was derived in.
    """
    shown = Shown(obj, notation_of(obj, notation))
    shown.view  # refuse what cannot be shown now, not when Jupyter asks for a display
    return shown


def init_printing(notation: object = "default") -> None:
    """Print every SymPy expression in this IPython session in the given notation (a network,
    derivation, Notation or preset name): ``d.gradient(2)`` then shows w_{jk}^{(2)}, not SymPy's
    ``{w}_{2,j,k}``. Outside IPython this does nothing."""
    nt = notation_of(None, notation)
    shell = _ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/latex"]
    formatter.for_type(sp.Basic, lambda expr: "$$" + Shown(expr, nt)._body() + "$$")
    shell.display_formatter.formatters["text/plain"].for_type(
        sp.Basic, lambda expr, p, cycle: p.text(text(expr, nt))
    )


def _ipython():
    import sys

    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def register_formatters() -> None:
    """Teach a running IPython to show gradient check reports as tables (their class has no
    ``_repr_markdown_`` of its own); called when derive is imported."""
    shell = _ipython()
    if shell is None:
        return
    formatters = shell.display_formatter.formatters
    formatters["text/markdown"].for_type_by_name(
        "derive.checks.gradcheck", "CheckReport", check_report_markdown
    )
    formatters["text/plain"].for_type_by_name(
        "derive.checks.gradcheck", "CheckReport", lambda report, p, cycle: p.text(report.table())
    )


def iter_math(markdown: str) -> Iterable[tuple[str, bool]]:
    """Every math fragment of a markdown or LaTeX output: (tex, display)."""
    for m in re.finditer(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", markdown, re.S):
        if m.group(1) is not None:
            yield m.group(1).strip(), True
        else:
            yield m.group(2).strip(), False
