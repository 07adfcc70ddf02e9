"""Red team: what a user types that reaches a sheet, a deck or a web page (issue 19, item 4).

Titles and symbolic values in spec files, tried the way attackers and careless users type them: TeX
that reads files or runs commands, unbalanced braces, HTML and JavaScript that would run in the page,
Jinja and template delimiters, control and bidirectional characters, very long names, and symbols
named like the notation's own letters. Each one is shown as literal text (pdftotext, the browser's
DOM) or refused in one line with exit status 2; no script runs in headless Chromium; TeX reads no
file it was not given, writes none and runs no shell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sympy as sp

ROOT = Path(__file__).resolve().parent.parent
if (
    str(ROOT) not in sys.path
):  # plain `pytest` puts tests/ on the path; tests.redteam needs the checkout
    sys.path.insert(0, str(ROOT))
from tests.redteam import Surface  # noqa: E402

from conftest import chromium_driver, run_cli  # noqa: E402
from derive.cli import main  # noqa: E402
from derive.documents.html import write_html  # noqa: E402
from derive.documents.tex import tex_available  # noqa: E402
from derive.errors import DeriveError  # noqa: E402
from derive.numeric.worked import worked_example  # noqa: E402
from derive.read.spec_file import spec_from_text  # noqa: E402

needs_tex = pytest.mark.skipif(
    not (tex_available() and shutil.which("pdftotext")) and not os.environ.get("CI"),
    reason="no TeX or pdftotext here (CI has them)",
)

# Titles that reach TeX: each must come out of the PDF as the very characters typed. {secret} is an
# absolute path to a file the test writes; its content must never show.
TEX_TITLES = [
    r"\input{{secret}}",
    r"\include{secret}",
    r"\immediate\write18{touch PWNED}",
    r"\write18{rm -rf ~}",
    r"\openout5=pwned.tex \write5{x}\closeout5",
    r"\catcode`\{=12 \catcode`\\=12",
    r"\def\title#1{x}\title",
    r"}\end{document}",
    r"{{{{ \begin{verbatim}",
    r"\csname @@input\endcsname /etc/passwd",
    r"^^5cinput{/etc/passwd}",
    r"\makeatletter\@@input /etc/hostname",
    r"\usepackage{shellesc}\ShellEscape{id}",
    r"\href{javascript:alert(1)}{click} \url{file:///etc/passwd}",
    r"$\sum$ 100% ~ ^ _ & # $$",
    r"a % the rest is a comment",
    r"\\ \newline \par \relax \iffalse",
    r"\VAR{title} \BLOCK{if 1} \#{x}",
    "{{ config }} {% for x in range(9) %}x{% endfor %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Übung 3 — café: naïve «quotes»",
]
# Titles that reach the page (and its <title>): none may run; each is the page's title and heading.
HTML_TITLES = [
    "<script>window.__pwned=1</script>",
    "</script><script>window.__pwned=1</script>",
    "</title><script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "<svg onload=window.__pwned=1>",
    '"><script>window.__pwned=1</script>',
    "'><img src=x onerror=alert(1)>",
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    "javascript:window.__pwned=1",
    '<a href="javascript:window.__pwned=1">x</a>',
    "<!-- <script>window.__pwned=1</script> -->",
    "<style>body{display:none}</style>",
    "{{ config }} {% for x in range(3) %}x{% endfor %} ${window.__pwned=1}",
    "&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; &#60;",
    "<math><mtext><script>window.__pwned=1</script></mtext></math>",
    "\\href{javascript:window.__pwned=1}{x} $\\htmlData{a=1}{x}$",
]
# Symbolic values that are not names (the grammar allows a letter, a subscript, a prime): refused in one line.
SYMBOL_PAYLOADS = [
    r"\input{/etc/passwd}",
    r"\write18{id}",
    r"\catcode",
    r"\def\w{x}",
    "w}",
    "{w",
    "w_{0}}",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ config }}",
    "{% for x in y %}",
    "${7*7}",
    "javascript:alert(1)",
    "__import__('os').system('id')",
    "w" * 21,
    "w" * 100_000,
    "w\u202e",
    "\u202ew",
    "w\x00",
    "\x00",
    "w\n1",
    "w\t1",
    "\u200bw",
    "w\u0301",
    "x_{\\input{a}}",
    "w_{<b>}",
    "\\href{javascript:alert(1)}{w}",
    "\\htmlData{a=1}{w}",
    "pi",
    "e",
    "oo",
    "nan",
    "I*I",
    "lambda x: x",
]
# Titles refused before anything is written (control, bidirectional, too long).
REFUSED_TITLES = [
    "a\x00b",
    "\x1b[31mred",
    "line\nbreak",
    "back\bspace",
    "abc\u202eevil.exe",
    "\u2066isolate\u2069",
    "\u202dforced",
    "x" * 201,
    "x" * 100_000,
]
# Symbols named like the notation's letters, with where they stand, on a [1, 1] sigmoid network with L2 (so x_1
# names no input there): the accepted ones must give exactly the gradients of a number put in their place.
COLLISIONS = [
    # (symbol, place, refused)
    ("w", "weight", False),
    ("a", "weight", False),
    ("z", "weight", False),
    ("b", "weight", False),
    ("delta", "weight", False),
    ("j", "weight", False),
    ("k", "weight", False),
    ("L", "weight", False),
    ("l", "weight", False),
    ("n", "weight", False),
    ("w_00", "weight", False),
    ("x", "weight", False),
    ("x_0", "weight", True),
    ("x_1", "weight", False),
    ("y_0", "weight", True),
    ("C_0", "weight", True),
    ("C", "weight", True),
    ("eta", "weight", True),
    ("η", "weight", True),
    ("sigma", "weight", True),
    ("σ", "weight", True),
    ("lambda", "weight", True),
    ("x_0", "input", False),
    ("y_0", "target", False),
    ("eta", "learning rate", False),
    ("x_1", "input", False),
    ("y_0", "input", True),
    ("C_0", "learning rate", True),
    ("sigma", "bias", True),
]

REDTEAM = [
    Surface(
        surface="titles through TeX (sheet, slides, graph)",
        tried="\\input of a secret, \\write18, \\catcode, "
        "unbalanced braces, ^^5c, template and HTML text",
        cases=len(TEX_TITLES),
        limit="200 characters",
        holds="every title is its literal text in the PDF; no file read or written, no shell escape",
    ),
    Surface(
        surface="titles in the web page",
        tried="script, event handlers, </title>, javascript: URLs, Jinja, KaTeX commands",
        cases=len(HTML_TITLES),
        limit="200 characters",
        holds="no script runs in Chromium (no alert, window.__pwned unset); the title shows as text",
    ),
    Surface(
        surface="symbolic values in specs",
        tried="TeX, HTML, JavaScript, Jinja, long names, RTL overrides, NUL",
        cases=len(SYMBOL_PAYLOADS),
        limit="20 characters, a letter and a subscript",
        holds="each refused in one line, exit 2, nothing written",
    ),
    Surface(
        surface="titles with control characters",
        tried="NUL, escape sequences, newlines, bidirectional "
        "overrides and isolates, 201 and 100,000 characters",
        cases=len(REFUSED_TITLES),
        limit="200 characters",
        holds="each refused in one line, exit 2, nothing written",
    ),
    Surface(
        surface="symbols named like the notation's letters",
        tried="w, a, z, delta, j, k, L, x_0, y_0, C_0, eta, "
        "sigma, lambda as weights, inputs, targets, learning rates",
        cases=len(COLLISIONS),
        limit="",
        holds="one that prints as another quantity is refused in one line; the others give exact gradients",
    ),
]


def _flat(text: str) -> str:
    return "".join(text.split())


def _in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(code: int, err: str) -> None:
    assert code == 2, (code, err)
    assert err.startswith("derive: error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and len(err) < 600, err


def _spec(title: str | None = None, weight: object = 0.5, place: str = "weight") -> str:
    values = {
        "x": [1.5],
        "y": [0.25],
        "weights": [[[0.5]]],
        "biases": [[0.1]],
        "learning_rate": 0.5,
    }
    slot = {
        "weight": ("weights", lambda v: [[[v]]]),
        "input": ("x", lambda v: [v]),
        "target": ("y", lambda v: [v]),
        "bias": ("biases", lambda v: [[v]]),
        "learning rate": ("learning_rate", lambda v: v),
    }[place]
    values[slot[0]] = slot[1](weight)
    spec = {"layers": [1, 1], "activation": "sigmoid", "bias": True, "l2": 0.1, "values": values}
    if title is not None:
        spec["title"] = title
    return json.dumps(spec)


# Symbols ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", SYMBOL_PAYLOADS, ids=range(len(SYMBOL_PAYLOADS)))
def test_a_symbolic_value_that_is_not_a_name_is_refused_in_one_line(payload, tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(_spec(weight=payload), encoding="utf-8")
    out = tmp_path / "out"
    for command in ("sheet", "html", "slides", "grad"):
        extra = (
            ["--out-dir", str(out), "--tex-only"]
            if command in ("sheet", "slides")
            else ["--out-dir", str(out)]
            if command == "html"
            else []
        )
        code, stdout, err = _in_process([command, str(spec), *extra], capsys)
        _one_line(code, err)
        assert "values.weights[0][0][0] must be a number or a symbol" in err or "Euler" in err, err
        assert payload[:20] not in err or payload.isprintable(), (
            err
        )  # control characters shown escaped
        assert "\x00" not in err and "\u202e" not in err
        assert stdout == ""
    assert not out.exists()


def _exact_gradients(weight: object, place: str) -> tuple:
    spec = spec_from_text(_spec(weight=weight, place=place), "spec.json")
    example = worked_example(spec.network(), spec.values)
    return [(g.gradient, g.updated) for g in example.gradients], spec


@pytest.mark.parametrize(
    "name, place, refused", COLLISIONS, ids=[f"{n}-{p}" for n, p, _ in COLLISIONS]
)
def test_a_symbol_named_like_the_notation(name, place, refused, tmp_path, capsys):
    if refused:
        with pytest.raises(DeriveError) as error:
            _exact_gradients(name, place)
        message = str(error.value)
        assert (
            "\n" not in message and "already use" in message and "name it otherwise" in message
        ), message
        spec = tmp_path / "spec.json"
        spec.write_text(_spec(weight=name, place=place), encoding="utf-8")
        for command in (
            ["html", str(spec), "--out-dir", str(tmp_path / "out")],
            ["grad", str(spec), "--json"],
        ):
            code, stdout, err = _in_process(command, capsys)
            _one_line(code, err)
            assert stdout == ""
        assert not (tmp_path / "out").exists()
        return
    got, spec = _exact_gradients(name, place)
    symbol = next(iter(spec.values.symbols[0][1].free_symbols))
    number = 0.3 if place != "learning rate" else 0.5
    want, _ = _exact_gradients(number, place)
    for (g, u), (wg, wu) in zip(got, want):
        at = {symbol: sp.Rational(str(number))}
        assert abs(sp.N(g.subs(at) - wg, 40)) < 1e-30
        assert abs(sp.N(u.subs(at) - wu, 40)) < 1e-30
    assert any(g.has(symbol) for g, _ in got) or place == "learning rate"


# Titles refused ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("title", REFUSED_TITLES, ids=range(len(REFUSED_TITLES)))
def test_a_title_with_control_characters_is_refused(title, tmp_path, capsys):
    out = tmp_path / "out"
    spec = tmp_path / "spec.json"
    spec.write_text(_spec(title=title), encoding="utf-8")
    for argv in (
        ["html", "--layers", "1", "1", "--title", title, "--out-dir", str(out)],
        ["sheet", "--layers", "1", "1", "--title", title, "--out-dir", str(out), "--tex-only"],
        ["slides", str(spec), "--out-dir", str(out), "--tex-only"],
    ):
        code, stdout, err = _in_process(argv, capsys)
        _one_line(code, err)
        assert "title" in err and stdout == ""
        assert not any(ch in err for ch in "\x00\x1b\b\u202e\u2066\u202d"), err
    assert not out.exists()


# Through TeX ------------------------------------------------------------------------------------------
def _groups(titles: list[str], limit: int = 200) -> list[list[str]]:
    """The titles packed into as few titles of at most ``limit`` characters as fit, in order."""
    groups: list[list[str]] = [[]]
    for title in titles:
        if groups[-1] and len(" | ".join(groups[-1] + [title])) > limit:
            groups.append([])
        groups[-1].append(title)
    return groups


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> tuple[Path, str]:
    where = tmp_path_factory.mktemp("secret")
    token = "TOPSECRET" + os.urandom(6).hex()
    (where / "secret.tex").write_text(token + "\n")
    (where / "secret").write_text(token + "\n")
    return where / "secret", token


SECRET_PATH = (
    90  # characters the secret's path may take in a title (the groups are made with that many)
)


def _tex_titles(secret_path: Path) -> list[str]:
    return [t.replace("{secret}", str(secret_path)) for t in TEX_TITLES]


@needs_tex
@pytest.mark.parametrize("group", range(len(_groups(_tex_titles(Path("x" * SECRET_PATH))))))
def test_titles_reach_the_pdf_as_literal_text(group, secret, tmp_path):
    secret_path, token = secret
    assert len(str(secret_path)) <= SECRET_PATH
    grouped = _groups(_tex_titles(Path("x" * SECRET_PATH)))[group]
    titles = [t.replace("x" * SECRET_PATH, str(secret_path)) for t in grouped]
    title = " | ".join(titles)
    work, out = tmp_path / "cwd", tmp_path / "out"
    work.mkdir()
    spec = work / "spec.json"
    spec.write_text(_spec(title=title, weight="w"), encoding="utf-8")
    command = "slides" if group % 2 else "sheet"
    result = run_cli(
        command,
        str(spec),
        "--no-check",
        "--graph",
        "--out-dir",
        str(out),
        "--out",
        "p",
        "-q",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pdf = out / ("p-slides.pdf" if command == "slides" else "p.pdf")
    assert sorted(p.name for p in out.iterdir()) == sorted([pdf.name, pdf.with_suffix(".tex").name])
    assert sorted(p.name for p in work.iterdir()) == ["spec.json"]  # nothing written beside it
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = _flat(text).replace("ˆ", "^").replace("˜", "~")
    for shown in titles:
        assert _flat(shown) in flat, (shown, text[:600])
    assert token not in text
    source = pdf.with_suffix(".tex").read_text(encoding="utf-8")
    for shown in titles:
        if any(ch in shown for ch in "\\{}^%$#&~_"):
            assert shown not in source, shown  # only in its escaped form
    for stray in ("PWNED", "pwned.tex"):
        assert (
            not list(tmp_path.rglob(stray)) and not (Path(tempfile.gettempdir()) / stray).exists()
        )


@needs_tex
def test_tex_runs_without_shell_escape_and_reads_no_file_outside(secret, tmp_path):
    """TeX started as derive starts it (its command, flags and environment), on sources that do on purpose
    what an escaped title cannot: \\write18, \\input of the secret by absolute and by relative path, and
    \\openout outside the scratch directory. The log says nothing of \\write18 being enabled, no command
    runs, neither file is read, and the write is refused."""
    from derive.documents.tex import _command

    secret_path, token = secret
    shutil.copy(f"{secret_path}.tex", tmp_path / "secret.tex")
    env = dict(os.environ, shell_escape="f", openout_any="p", openin_any="p")

    def run(body: str) -> tuple[subprocess.CompletedProcess, Path]:
        work = tmp_path / f"work{len(list(tmp_path.glob('work*')))}"
        work.mkdir()
        (work / "sheet.tex").write_text(
            "\\documentclass{article}\\begin{document}" + body + "\\end{document}\n"
        )
        result = subprocess.run(
            _command("sheet", "pdflatex"),
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result, work

    result, work = run(
        "\\immediate\\write18{touch PWNED}"
        f"\\IfFileExists{{{secret_path}.tex}}{{\\input{{{secret_path}.tex}}}}{{NOFILE}} "
        "\\IfFileExists{../secret.tex}{\\input{../secret.tex}}{NOREL} done"
    )
    log = (work / "sheet.log").read_text(errors="replace")
    assert result.returncode == 0, log[-1500:]
    assert "write18 enabled" not in log, log[:500]
    assert not list(tmp_path.rglob("PWNED"))
    text = subprocess.run(
        ["pdftotext", str(work / "sheet.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert token not in text and _flat(text).startswith("NOFILENORELdone"), text

    result, work = run(
        "\\immediate\\openout5=../escaped.tex\\immediate\\write5{x}\\immediate\\closeout5 done"
    )
    log = (work / "sheet.log").read_text(errors="replace")
    assert result.returncode != 0 and "I can't write on file `../escaped.tex'" in log, log[-1500:]
    assert not (tmp_path / "escaped.tex").exists()


# In the browser ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[tuple[str, Path]]:
    from derive.model.network import Network

    where = tmp_path_factory.mktemp("pages")
    spec = spec_from_text(_spec(weight="w"), "spec.json")
    net: Network = spec.network()
    out = []
    for number, title in enumerate(HTML_TITLES):
        out.append(
            (
                title,
                write_html(
                    net,
                    where,
                    name=f"p{number}",
                    title=title,
                    values=spec.values,
                    check=False,
                    graph=number % 4 == 0,
                ),
            )
        )
    return out


@pytest.fixture(scope="module")
def chromium():
    with chromium_driver(
        ["--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,900"], script_timeout=60
    ) as driver:
        yield driver


def test_no_title_runs_a_script_in_chromium(chromium, pages):
    from selenium.common.exceptions import NoAlertPresentException

    for title, path in pages:
        chromium.get(path.as_uri())
        try:
            chromium.switch_to.alert.dismiss()
            opened = True
        except NoAlertPresentException:
            opened = False
        assert not opened, title
        chromium.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "(function wait() { document.documentElement.dataset.ready ? done(true)"
            " : setTimeout(wait, 20); })();"
        )
        state = chromium.execute_script(
            "return {pwned: typeof window.__pwned, title: document.title,"
            " h1: document.querySelector('h1').textContent, h1children: document.querySelector('h1').children.length,"
            " iframes: document.querySelectorAll('iframe').length, visible: document.body.offsetHeight > 0,"
            " scripts: document.scripts.length}"
        )
        assert state["pwned"] == "undefined", title
        assert state["title"] == title and state["h1"] == title, (title, state)
        assert state["h1children"] == 0 and state["iframes"] == 0 and state["visible"], (
            title,
            state,
        )
        assert state["scripts"] == 4, (title, state)  # steps, macros, KaTeX, the page's own
        errors = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], (title, errors)


def test_the_command_line_page_keeps_a_spec_title_as_text(tmp_path):
    title = "</script><script>window.__pwned=1</script>"
    spec = tmp_path / "spec.json"
    spec.write_text(_spec(title=title, weight="w"), encoding="utf-8")
    result = run_cli(
        "html", str(spec), "--graph", "--out-dir", str(tmp_path / "out"), "--out", "p", "-q"
    )
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "p.html").read_text(encoding="utf-8")
    assert title not in text and "<script>window.__pwned" not in text
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text
