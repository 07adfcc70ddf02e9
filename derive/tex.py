"""Running TeX safely: no shell escape, in a scratch directory, PDF moved into place only on success.

TeX runs in its own process group; the group is killed and the scratch directory removed on every
exit, SIGINT and SIGTERM included (see derive.files).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from .errors import DeriveError
from .files import cleanup_on_signals, copy_atomic, run_process_group, scratch_directory

TEX_TIMEOUT = 240
HOW_TO_GET_TEX = ("no TeX engine found (pdflatex/latexmk); install it with 'bash .ci/setup' or "
                  "'apt-get install texlive-latex-recommended texlive-pictures latexmk'")


class TexUnavailable(DeriveError):
    """No TeX engine on this machine."""


class TexFailed(DeriveError):
    """TeX ran and failed; the message holds the relevant lines of its log."""


def tex_available() -> bool:
    return shutil.which("pdflatex") is not None


def _command(name: str) -> list[str]:
    pdflatex = "pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error -file-line-error %O %S"
    if shutil.which("latexmk"):
        return ["latexmk", "-norc", "-pdf", "-quiet", f"-pdflatex={pdflatex}", name]
    return ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", name]


def compile_pdf(source: str, target: Path, timeout: int = TEX_TIMEOUT) -> Path:
    """Typeset ``source`` to ``target`` (a .pdf path). Never leaves a partial PDF at ``target``."""
    if not tex_available():
        raise TexUnavailable(HOW_TO_GET_TEX)
    env = dict(os.environ, shell_escape="f", openout_any="p", openin_any="p")
    with cleanup_on_signals(), scratch_directory("derive-tex-") as work:
        (work / "sheet.tex").write_text(source, encoding="utf-8")
        runs = 1 if shutil.which("latexmk") else 2  # plain pdflatex twice for references
        for _ in range(runs):
            try:
                result = run_process_group(_command("sheet.tex"), cwd=work, env=env, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise TexFailed(f"TeX did not finish within {timeout} s") from None
            if result.returncode != 0:
                details = relevant_log_lines(work / "sheet.log", result.stdout)
                # The first line names the first error (a one-line report shows it); the context follows.
                raise TexFailed(f"TeX failed: {details.splitlines()[0].strip() if details else 'no log'}\n{details}")
        produced = work / "sheet.pdf"
        if not produced.is_file():
            raise TexFailed("TeX reported success but wrote no PDF")
        copy_atomic(produced, target)
    return target


def relevant_log_lines(log: Path, fallback: str, context: int = 3, limit: int = 12) -> str:
    """The error lines of a TeX log (those starting with '!' or 'file:line:'), with a little context."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else fallback
    lines = text.splitlines()
    picked: list[str] = []
    for number, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+:", line):
            picked += lines[number:number + context]
    picked = picked or lines[-limit:]
    return "\n".join("  " + line for line in picked[:limit])
