"""Running TeX safely: no shell escape, in a scratch directory, PDF moved into place only on success.

TeX runs in its own process group; the group is killed and the scratch directory removed on every
exit, SIGINT and SIGTERM included (see derive.documents.files).

Any script typesets. A source that is ASCII, or uses only the Latin-1 letters and dashes and quotes
pdfLaTeX's default fonts have, goes to pdflatex as always. Anything else (Greek, Cyrillic, CJK,
emoji, ... in a title or name) goes to lualatex with fonts that cover it: Latin Modern for the text
and, as fallbacks, the first of DejaVu Serif/Sans (Greek, Cyrillic, many symbols), a CJK font
(Noto Sans CJK, WenQuanYi Micro Hei, Droid Sans Fallback) and Symbola (emoji, in outline) found
on the machine; the mathematics stays in TeX's own fonts. A character no font has is typeset as
its name in brackets ("[brain]"), never dropped. Without lualatex (Debian: texlive-luatex), such
characters are written as TeX macros where TeX has them (Greek letters) and as "[U+53CD]" or
their name otherwise, and pdflatex typesets that; the sheet's note says how to get the rest.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from derive.errors import DeriveError
from derive.documents.files import (
    cleanup_on_signals,
    copy_atomic,
    run_process_group,
    scratch_directory,
)

TEX_TIMEOUT = 240
HOW_TO_GET_TEX = (
    "no TeX engine found (pdflatex/latexmk); install it with 'bash .ci/setup' or "
    "'apt-get install texlive-latex-recommended texlive-pictures latexmk'"
)
HOW_TO_GET_UNICODE = (
    "typeset without full Unicode support (characters beyond Latin-1 written as macros or "
    "[names]); for Greek, CJK and emoji install lualatex and fonts: 'apt-get install "
    "texlive-luatex fonts-wqy-microhei fonts-symbola'"
)

# Non-ASCII characters pdfLaTeX typesets with its default (OT1) fonts through LaTeX's UTF-8 input.
PDFLATEX_TEXT = frozenset("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßŒœ–—‘’“”…")

# Fallback fonts for lualatex, tried in order; only those installed are used.
FALLBACK_FONTS = (
    "DejaVu Serif",
    "DejaVu Sans",
    "Noto Serif",
    "Noto Sans CJK SC",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Symbola",
    "Noto Emoji",
)

_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρςστυφχψω",
        r"\alpha \beta \gamma \delta \varepsilon \zeta \eta \theta \iota \kappa \lambda \mu \nu \xi o "
        r"\pi \rho \varsigma \sigma \tau \upsilon \varphi \chi \psi \omega".split(),
    )
)
_GREEK.update(
    zip(
        "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
        r"A B \Gamma \Delta E Z H \Theta I K \Lambda M N \Xi O \Pi P \Sigma T \Upsilon \Phi X \Psi "
        r"\Omega".split(),
    )
)


class TexUnavailable(DeriveError):
    """No TeX engine on this machine."""


class TexFailed(DeriveError):
    """TeX ran and failed; the message holds the relevant lines of its log."""


@dataclass(frozen=True)
class Typeset:
    pdf: Path
    engine: str
    note: str | None = None


def tex_available() -> bool:
    return shutil.which("pdflatex") is not None


@functools.lru_cache(maxsize=1)
def unicode_engine_available() -> bool:
    """lualatex with fontspec and luaotfload (Debian: texlive-luatex)."""
    if shutil.which("lualatex") is None or shutil.which("kpsewhich") is None:
        return False
    try:
        found = subprocess.run(
            ["kpsewhich", "fontspec.sty", "luaotfload.sty"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return len(found) == 2


def needs_unicode_engine(source: str) -> bool:
    """True when ``source`` has a character pdflatex's default fonts cannot typeset."""
    return any(ord(ch) > 127 and ch not in PDFLATEX_TEXT for ch in source)


def _command(name: str, engine: str) -> list[str]:
    flags = "-no-shell-escape -interaction=nonstopmode -halt-on-error -file-line-error"
    if shutil.which("latexmk"):
        return [
            "latexmk",
            "-norc",
            f"-{'lualatex' if engine == 'lualatex' else 'pdf'}",
            "-quiet",
            f"-{engine}={engine} {flags} %O %S",
            name,
        ]
    return [engine, *flags.split(), name]


def _char_name(ch: str) -> str:
    """'[brain]' for an emoji or symbol, '[U+53CD]' for a letter of a script without a font here."""
    if unicodedata.category(ch).startswith("S"):
        name = unicodedata.name(ch, "").lower()
        if name:
            return "{[}" + name + "{]}"
    return "{[}U+" + f"{ord(ch):04X}" + "{]}"


def ascii_fallback(source: str) -> str:
    """``source`` with every character pdflatex cannot typeset replaced: Greek letters by TeX's own,
    others by their name or code point in brackets; invisible joiners and variation selectors dropped."""
    out = []
    for ch in source:
        if ord(ch) < 128 or ch in PDFLATEX_TEXT:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFD", ch)[0]  # ά -> α
        if base in _GREEK:
            macro = _GREEK[base]
            out.append(r"\ensuremath{" + macro + "}" if macro.startswith("\\") else macro)
        elif unicodedata.category(ch) in ("Mn", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F:
            continue  # combining marks, zero-width joiners, emoji variation selectors
        else:
            out.append(_char_name(ch))
    return "".join(out)


def with_text_fonts(source: str) -> str:
    """The source with pdflatex's text fonts set to T1-encoded Latin Modern, inserted after
    \\documentclass: _ ^ ~ < > | and accented letters are real glyphs, which copy and search as typed."""
    return _after_documentclass(
        source,
        "% derive: text fonts (pdflatex), when Latin Modern is installed\n"
        r"\IfFileExists{t1lmr.fd}{\usepackage[T1]{fontenc}\usepackage{lmodern}}{}" + "\n",
    )


def _after_documentclass(source: str, setup: str) -> str:
    match = re.search(r"^\\documentclass(\[[^\]]*\])?\{[^}]*\}[^\n]*\n", source, flags=re.MULTILINE)
    if match is None:
        return source
    return source[: match.end()] + setup + source[match.end() :]


def with_unicode_fonts(source: str) -> str:
    """The source with a font set-up for lualatex inserted after \\documentclass (fonts for any script)."""
    tests = "".join(
        rf"\IfFontExistsTF{{{font}}}{{\directlua{{table.insert(derivefallback, "
        rf"'{font}:mode=harf;')}}}}{{}}" + "\n"
        for font in _fallback_candidates()
    )
    setup = (
        "% derive: fonts for any script (lualatex)\n"
        r"\usepackage[no-math]{fontspec}" + "\n"
        r"\directlua{derivefallback = {}}"
        + "\n"
        + tests
        + r"\directlua{luaotfload.add_fallback('derivefallback', derivefallback)}"
        + "\n"
        r"\setmainfont{Latin Modern Roman}[RawFeature={fallback=derivefallback}]" + "\n"
        r"\setsansfont{Latin Modern Sans}[RawFeature={fallback=derivefallback}]" + "\n"
        r"\setmonofont{Latin Modern Mono}[RawFeature={fallback=derivefallback}]" + "\n"
    )
    return _after_documentclass(source, setup)


@functools.lru_cache(maxsize=1)
def _fallback_candidates() -> tuple[str, ...]:
    """FALLBACK_FONTS that fontconfig knows (asking lualatex for a font it lacks costs seconds: it
    rescans the system's fonts); all of them when fc-list is not there to ask (TeX checks again)."""
    try:
        listed = subprocess.run(
            ["fc-list", ":", "family"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return FALLBACK_FONTS
    families = {name.strip() for line in listed.splitlines() for name in line.split(",")}
    return tuple(font for font in FALLBACK_FONTS if font in families)


_MISSING = re.compile(r"Missing character: There is no .*? \(U\+([0-9A-F]{4,6})\)")


def typeset(source: str, target: Path, timeout: int = TEX_TIMEOUT) -> Typeset:
    """Typeset ``source`` to ``target`` (a .pdf path) with the engine its characters need.

    Never leaves a partial PDF at ``target``.
    """
    if not tex_available():
        raise TexUnavailable(HOW_TO_GET_TEX)
    engine, note = "pdflatex", None
    if needs_unicode_engine(source) and unicode_engine_available():
        engine, source = "lualatex", with_unicode_fonts(source)
    else:
        if needs_unicode_engine(source):
            source, note = ascii_fallback(source), HOW_TO_GET_UNICODE
        source = with_text_fonts(source)
    env = dict(os.environ, shell_escape="f", openout_any="p", openin_any="p")
    with cleanup_on_signals(), scratch_directory("derive-tex-") as work:
        for attempt in range(2):
            _run(source, work, engine, env, timeout)
            missing = _missing_characters(work / "sheet.log") if engine == "lualatex" else set()
            if not missing or attempt:
                break
            # No installed font has these (an emoji without Symbola, say): their names, then once more.
            source = "".join(_char_name(ch) if ch in missing else ch for ch in source)
            note = note or (
                "no installed font has "
                + ", ".join(f"U+{ord(ch):04X}" for ch in sorted(missing))
                + "; written as names in brackets (Debian: fonts-symbola has emoji, "
                "fonts-wqy-microhei Chinese, Japanese and Korean)"
            )
        produced = work / "sheet.pdf"
        if not produced.is_file():
            raise TexFailed("TeX reported success but wrote no PDF")
        copy_atomic(produced, target)
    return Typeset(target, engine, note)


def _run(source: str, work: Path, engine: str, env: dict, timeout: int) -> None:
    (work / "sheet.tex").write_text(source, encoding="utf-8")
    for stale in ("sheet.pdf", "sheet.fdb_latexmk", "sheet.aux"):
        (work / stale).unlink(missing_ok=True)
    runs = 1 if shutil.which("latexmk") else 2  # plain pdflatex twice for references
    for _ in range(runs):
        try:
            result = run_process_group(
                _command("sheet.tex", engine), cwd=work, env=env, timeout=timeout, scratch=work
            )
        except subprocess.TimeoutExpired:
            raise TexFailed(f"TeX did not finish within {timeout} s") from None
        if result.returncode != 0:
            details = relevant_log_lines(work / "sheet.log", result.stdout)
            # The first line names the first error (a one-line report shows it); the context follows.
            raise TexFailed(
                f"TeX failed: {details.splitlines()[0].strip() if details else 'no log'}\n{details}"
            )


def _missing_characters(log: Path) -> set[str]:
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    return {chr(int(code, 16)) for code in _MISSING.findall(text)}


def compile_pdf(source: str, target: Path, timeout: int = TEX_TIMEOUT) -> Path:
    """Typeset ``source`` to ``target`` (a .pdf path). Never leaves a partial PDF at ``target``."""
    return typeset(source, target, timeout).pdf


def relevant_log_lines(log: Path, fallback: str, context: int = 3, limit: int = 12) -> str:
    """The error lines of a TeX log (those starting with '!' or 'file:line:'), with a little context."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else fallback
    lines = text.splitlines()
    picked: list[str] = []
    for number, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+:", line):
            picked += lines[number : number + context]
    picked = picked or lines[-limit:]
    return "\n".join("  " + line for line in picked[:limit])
