"""Jupyter: the example notebook runs in a real kernel, and every math output renders in the
engines people use: MathJax 3 (JupyterLab, Notebook 7) and KaTeX (VS Code; also through markdown-it
with VS Code's own KaTeX plugin) under node, MathJax 2.7 (nbconvert's and nbviewer's HTML) and
MathJax 3 in headless Chromium.

No display may be wider than a page, nor join pieces with a top-level ``\\\\`` (MathJax 3 sets such
a display on one line: the old derivation display was 408 ex wide), nor fail in MathJax 2.7
(whose 5 KB buffer the old display's ``\\textbf`` overflowed).

The node packages (tests/js/package.json: mathjax-full, mathjax 2.7, katex, markdown-it and
@vscode/markdown-it-katex) are installed once with ``npm ci`` into a cache directory outside the
checkout. The node tests skip only when node or npm is missing; the browser tests try
``apt-get install chromium chromium-driver`` (as root) and skip only when Chromium still cannot be
had. The browser test leaves a screenshot of the nbconvert page in /tmp/jupyter-screenshot.png
(or $DERIVE_SCREENSHOT).

``python tests/test_jupyter.py refresh`` re-executes the notebook and saves it with its outputs.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import chromium_driver, locked
from derive import Network, show
from derive.render.display import block_aligned, block_rows, iter_math, tokens

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "derive-tour.ipynb"
JS = ROOT / "tests" / "js"
PAGE_EX = 120  # a page of JupyterLab or nbconvert HTML, in ex of the math font
SCREENSHOT = Path(os.environ.get("DERIVE_SCREENSHOT", "/tmp/jupyter-screenshot.png"))


# Shared set-up (one per test run, also under pytest-xdist) -------------------------------------
@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory) -> Path:
    """A directory every xdist worker of this run sees."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def execute_notebook(path: Path = NOTEBOOK):
    """The notebook run top to bottom in a fresh kernel of this Python (nbclient)."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as kernels:
        spec = Path(kernels) / "derive-test"
        spec.mkdir()
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "derive tests",
                    "language": "python",
                    "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
                }
            )
        )
        km = KernelManager(
            kernel_name="derive-test",
            kernel_spec_manager=KernelSpecManager(
                kernel_dirs=[kernels], ensure_native_kernel=False
            ),
        )
        NotebookClient(
            nb, km=km, timeout=180, resources={"metadata": {"path": str(path.parent)}}
        ).execute()
    return nb


@pytest.fixture(scope="session")
def executed(shared_dir):
    import nbformat

    done = shared_dir / "derive-tour-executed.ipynb"
    with locked(shared_dir / "derive-tour.lock"):
        if not done.exists():
            nbformat.write(execute_notebook(), done)
    return nbformat.read(done, as_version=4)


def math_outputs(nb) -> list[tuple[str, str]]:
    """(mime type, text) of every text/markdown and text/latex output, and every markdown cell."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found.append(("markdown cell", cell.source))
        for out in cell.get("outputs", []):
            for mime in ("text/markdown", "text/latex"):
                if mime in out.get("data", {}):
                    found.append((mime, out["data"][mime]))
    return found


def fragments(outputs) -> list[tuple[str, bool]]:
    seen: dict[tuple[str, bool], None] = {}
    for _, text in outputs:
        for frag in iter_math(text):
            seen.setdefault(frag)
    return list(seen)


def top_level_breaks(tex: str) -> bool:
    return any(tok.startswith("\\\\") for tok in tokens(tex))


# The notebook in a kernel ---------------------------------------------------------------------------
def test_the_notebook_runs_and_every_derive_object_shows_math(executed):
    errors = [
        out
        for cell in executed.cells
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]
    assert not errors, errors[0].get("traceback")
    stderr = [
        out.text
        for cell in executed.cells
        for out in cell.get("outputs", [])
        if out.output_type == "stream" and out.name == "stderr"
    ]
    assert not stderr, stderr
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    for cell in code:
        results = [
            out for out in cell.outputs if out.output_type in ("execute_result", "display_data")
        ]
        assert results, f"no output from {cell.source!r}"
        data = results[-1]["data"]
        assert "text/markdown" in data or "text/latex" in data, (
            f"{cell.source!r} shows only {sorted(data)}"
        )
    shown = "\n".join(text for _, text in math_outputs(executed))
    for notation in (
        r"w_{jk}^{(2)}",
        r"a_{j}^{(2)}",
        r"\sigma'\!\left(z_{j}^{(2)}\right)",
        r"\delta_{i}^{(2)}",
        r"w_{jk}^{1}",
        "$w^{(1)}$",
    ):
        assert notation in shown, notation
    assert "{a}_{2,j}" not in shown and "{w}_{2" not in shown  # SymPy's own Indexed notation


def test_every_display_is_one_environment(executed):
    frags = fragments(math_outputs(executed))
    assert len(frags) > 50
    for tex, display in frags:
        assert not top_level_breaks(tex), tex[:300]


def test_old_derivation_display_had_top_level_breaks():
    d = Network([2, 3, 1]).derivation()
    old = r"\\[1em] ".join(block_aligned(b, d.network.notation) for b in d.blocks)
    assert top_level_breaks(old)
    assert not top_level_breaks(d._repr_latex_().strip("$"))


def test_committed_notebook_outputs_are_current(executed):
    """The notebook is committed with its outputs (GitHub shows them): they match a fresh run.
    Refresh with `python tests/test_jupyter.py refresh`."""
    import nbformat

    def stable(
        nb,
    ):  # the gradient check's error sizes (1e-13 and below) vary with NumPy and the machine
        return [(mime, re.sub(r"\d\.\d+e-\d+", "(tiny)", text)) for mime, text in math_outputs(nb)]

    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert stable(committed) == stable(executed), (
        "examples/derive-tour.ipynb is stale: run `python tests/test_jupyter.py refresh`"
    )


def test_objects_display_in_their_own_notation():
    """Steps and blocks taken out of a derivation keep its notation; show() takes the network's."""
    net = Network([2, 2, 1], notation="nielsen")
    d = net.derivation()
    step = d.block("layer:1").steps[0]
    assert r"w_{jk}^{1}" in step._repr_markdown_() and "^{(1)}" not in step._repr_markdown_()
    assert r"w_{jk}^{1}" in d.block("layer:1")._repr_latex_()
    assert r"w_{ij}^{2}" in net.show(d.gradient(1))._repr_latex_()
    assert r"w_{ij}^{(2)}" in Network([2, 2, 1]).show(d.gradient(1))._repr_latex_()
    assert (
        r"w_{ij}^{(2)}" in show(d.gradient(1))._repr_markdown_()
    )  # no network given: the default notation
    assert "σ'(z_j^1)" in repr(net.show(d.gradient(1)))


# MathJax 3 and KaTeX under node ---------------------------------------------------------------------
def render_items(items: list[dict], node_modules: Path) -> list[dict]:
    """tests/js/render.js: MathJax 3 and KaTeX for {"tex", "display"}, VS Code's markdown for {"markdown"}."""
    result = subprocess.run(
        ["node", str(JS / "render.js")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def render(frags: list[tuple[str, bool]], node_modules: Path) -> list[dict]:
    return render_items([{"tex": tex, "display": display} for tex, display in frags], node_modules)


def assert_renders(frags, node_modules) -> float:
    """Every fragment renders in MathJax 3 and KaTeX, each display narrower than a page; the widest (ex)."""
    results = render(frags, node_modules)
    widest = 0.0
    for (tex, display), r in zip(frags, results):
        assert r["mathjax"]["error"] is None, f"MathJax 3: {r['mathjax']['error']} in {tex[:300]}"
        assert r["katex"]["error"] is None, f"KaTeX: {r['katex']['error']} in {tex[:300]}"
        assert r["mathjax"]["width_ex"] < PAGE_EX, (
            f"{r['mathjax']['width_ex']} ex wide: {tex[:300]}"
        )
        widest = max(widest, r["mathjax"]["width_ex"])
    return widest


def test_notebook_math_renders_in_mathjax3_and_katex(executed, node_modules):
    frags = fragments(math_outputs(executed))
    widest = assert_renders(frags, node_modules)
    print(f"{len(frags)} fragments, widest {widest} ex")


def test_notebook_markdown_renders_as_vscode_reads_it(executed, node_modules):
    """Each markdown output and cell through markdown-it with VS Code's KaTeX plugin: no error, and
    every $$ display (and $ formula) is read as math, not left as text."""
    texts = [text for mime, text in math_outputs(executed) if mime != "text/latex"]
    results = render_items([{"markdown": text} for text in texts], node_modules)
    assert sum(r["vscode"]["displays"] for r in results) > 50
    for text, r in zip(texts, results):
        assert not r["vscode"]["errors"], r["vscode"]["errors"][:3]
        dollars = len(re.findall(r"(?<!\\)\$", text))
        displays = len(re.findall(r"(?<!\\)\$\$", text)) // 2
        assert r["vscode"]["displays"] == displays, text[:300]
        assert r["vscode"]["inline"] - displays == (dollars - 4 * displays) // 2, text[:300]


def test_old_top_level_join_is_caught(node_modules):
    """The regression: the blocks joined by top-level \\\\[1em] are one line of about 408 ex in MathJax 3."""
    d = Network([2, 3, 1], activation="sigmoid").derivation()
    old = r"\\[1em] ".join(block_aligned(b, d.network.notation) for b in d.blocks)
    new = d._repr_latex_().strip("$")
    old_result, new_result = render([(old, True), (new, True)], node_modules)
    assert old_result["mathjax"]["width_ex"] > 300
    assert new_result["mathjax"]["error"] is None and new_result["mathjax"]["width_ex"] < PAGE_EX


@pytest.mark.parametrize(
    "net",
    [
        Network([2, 3, 3, 2], activation=["tanh", "relu", "sigmoid"], bias=True),
        Network([3, 4, 4, 4, 2], activation="sigmoid", cost="cross-entropy", bias=True),
        Network(
            [2, 2, 2, 2, 2, 2],
            activation=["softplus", "leaky-relu", "tanh", "identity", "sigmoid(gain=alpha)"],
            bias=True,
            notation="nielsen",
        ),
        Network([2] * 9, activation="tanh"),
        Network(
            [2, 3, 3, 1], activation=["relu", "tanh", "sigmoid"], bias=True, notation="deeplizard"
        ),
    ],
    ids=[
        "tanh-relu-sigmoid",
        "deep-cross-entropy",
        "five-activations-nielsen",
        "nine-layers",
        "deeplizard",
    ],
)
def test_long_derivations_fit_a_page(net, node_modules):
    """Deep networks have long right-hand sides: they are cut over lines, in every display."""
    d = net.derivation()
    outputs = [("md", d._repr_markdown_()), ("latex", d._repr_latex_())]
    outputs += [
        ("show", net.show(d.gradient(layer, form))._repr_latex_())
        for layer in (1, 2)
        for form in ("chain", "classic")
    ]
    assert_renders(fragments(outputs), node_modules)


# nbconvert HTML in headless Chromium ------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium():
    # a busy 2-core machine typesets a long page slowly
    with chromium_driver(["--window-size=1200,900"], script_timeout=600) as driver:
        yield driver


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site(tmp_path, node_modules):
    """A local web server (127.0.0.1 only) with MathJax 2.7 and 3 from the npm packages."""
    (tmp_path / "mathjax2").symlink_to(node_modules / "mathjax")
    (tmp_path / "mathjax3").symlink_to(node_modules / "mathjax-full" / "es5")
    (tmp_path / "favicon.ico").write_bytes(b"")
    (tmp_path / "require.js").write_text("")  # nbconvert's page loads require.js for widgets only
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


MATHJAX2_WAIT = (
    "var done = arguments[arguments.length - 1]; MathJax.Hub.Queue(function () { done(true); });"
)
MATHJAX3_WAIT = (
    "var done = arguments[arguments.length - 1];"
    "var wait = function () { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
    " { MathJax.startup.promise.then(function () { done(true); }); } else { setTimeout(wait, 50); } };"
    "wait();"
)
ERROR_NODES = ".MathJax_Error, .noError, merror, .mjx-merror, mjx-merror, [data-mjx-error]"
OVERFLOWING = """const label = e => Array.from((e.closest('.jp-Cell') || e).innerText).slice(0, 100).join('');
return Array.from(document.querySelectorAll('.MJXc-display, mjx-container[display]'))
  .map(e => [e.getBoundingClientRect().width,
             (e.querySelector('.mjx-math, mjx-math') || e).getBoundingClientRect().width, label(e)]);"""
MATHJAX3_PAGE_CONFIG = """<script>
window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
                        processEscapes: true, processEnvironments: true},
                  options: {ignoreHtmlClass: 'tex2jax_ignore', processHtmlClass: 'tex2jax_process'}};
</script>
<script src="%s/mathjax3/tex-chtml-full.js"></script>"""


def typeset(driver, url: str, engine: str) -> dict:
    driver.get(url)
    driver.execute_async_script(MATHJAX2_WAIT if engine == "mathjax2" else MATHJAX3_WAIT)
    console = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    errors = driver.execute_script(
        f"return Array.from(document.querySelectorAll('{ERROR_NODES}'))"
        ".map(e => e.outerHTML.slice(0, 300));"
    )
    displays = driver.execute_script(OVERFLOWING)
    return {"console": console, "errors": errors, "displays": displays}


def nbconvert_html(nb, base: str, engine: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    exporter.require_js_url = f"{base}/require.js"
    # nbconvert's own default: MathJax 2.7 with this configuration, from a CDN; here from the npm package
    exporter.mathjax_url = f"{base}/mathjax2/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    body, _ = exporter.from_notebook_node(nb)
    if engine == "mathjax3":  # as JupyterLab and Notebook 7 typeset: MathJax 3, every TeX package
        start, end = (
            body.index("<!-- Load mathjax -->"),
            body.index("<!-- End of mathjax configuration -->"),
        )
        body = body[:start] + MATHJAX3_PAGE_CONFIG % base + body[end:]
    assert "cdnjs.cloudflare.com/ajax/libs/mathjax" not in body
    return body


@pytest.mark.parametrize("engine", ["mathjax2", "mathjax3"])
def test_nbconvert_html_typesets_in_chromium(executed, chromium, site, engine):
    root, base = site
    (root / "index.html").write_text(nbconvert_html(executed, base, engine))
    seen = typeset(chromium, f"{base}/index.html", engine)
    assert not seen["console"], seen["console"]
    assert not seen["errors"], seen["errors"][:3]
    assert len(seen["displays"]) > 50
    overflowing = [d for d in seen["displays"] if d[1] > d[0] + 1]
    assert not overflowing, overflowing[:3]
    if engine == "mathjax2":  # what nbconvert and nbviewer show
        height = chromium.execute_script("return document.body.scrollHeight")
        chromium.set_window_size(1200, min(height + 50, 30000))
        chromium.save_screenshot(str(SCREENSHOT))
        assert SCREENSHOT.stat().st_size > 10000


def test_latex_outputs_typeset_in_mathjax2_and_the_old_display_did_not(executed, chromium, site):
    """text/latex (what LaTeX-preferring front ends use) in nbconvert's MathJax 2.7: every output of the
    notebook and a 9-layer derivation typeset; the old display overflowed MathJax 2.7's buffer."""
    root, base = site
    latex = [text for mime, text in math_outputs(executed) if mime == "text/latex"]
    latex.append(Network([2] * 9, activation="tanh").derivation()._repr_latex_())
    d = Network([2, 3, 1], activation="sigmoid").derivation()
    nt = d.network.notation
    old = (
        "$$"
        + r"\\[1em] ".join(
            rf"\begin{{aligned}}&\textbf{{{b.title}}}\\ "
            + r"\\ ".join(block_rows(b, nt))
            + r"\end{aligned}"
            for b in d.blocks
        )
        + "$$"
    )  # as derive 0.1 showed it
    items = [(f"new{n}", text) for n, text in enumerate(latex)] + [("old", old)]
    page = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{base}/mathjax2/MathJax.js?'
        'config=TeX-AMS_CHTML-full,Safe"></script><script type="text/x-mathjax-config">MathJax.Hub.Config('
        '{tex2jax: {inlineMath: [["$","$"]], displayMath: [["$$","$$"]], processEscapes: true,'
        ' processEnvironments: true}, messageStyle: "none", CommonHTML: {linebreaks: {automatic: true}}});'
        "</script></head><body>"
        + "".join(
            f'<div id="{key}" style="width:1100px">{html.escape(text)}</div>' for key, text in items
        )
        + "</body></html>"
    )
    (root / "latex.html").write_text(page)
    typeset(chromium, f"{base}/latex.html", "mathjax2")
    broken = chromium.execute_script(
        f"return {json.dumps([key for key, _ in items])}.filter(k => document.getElementById(k)"
        f".querySelectorAll('{ERROR_NODES}').length > 0 || !document.getElementById(k).querySelector('.mjx-math'));"
    )
    assert broken == ["old"], broken


# ------------------------------------------------------------------------------------------------
def _refresh() -> None:
    import nbformat

    nb = execute_notebook()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] == ["refresh"]:
        _refresh()
    else:
        print(__doc__)
        sys.exit(2)
