"""derive html: one self-contained page, stepped through in headless Chromium.

The page is opened from a file: URL in Chromium whose host resolver maps every name to nothing
(``--host-resolver-rules``), and the test checks that the page asks for no resource but data: URIs.
Chromium comes from Debian (chromium, chromium-driver) as in tests/test_jupyter.py; the browser
tests skip only when it cannot be had. Screenshots of a desktop and a phone width are left in
/tmp/derive-html-desktop.png and /tmp/derive-html-phone.png (or $DERIVE_HTML_SCREENSHOTS/).
"""

from __future__ import annotations

import html.parser
import json
import os
import re
from pathlib import Path

import pytest

from conftest import chromium_driver, run_cli
from derive import Network
from derive.documents.html import katex_style, render_html, write_html
from derive.numeric.worked import worked_example
from derive.read.spec_file import load_spec
from derive.render.flow import frames
from derive.render.html import lit, page, svg_drawing
from derive.render.latex import calculation_lines

ROOT = Path(__file__).resolve().parent.parent
WORKED = ROOT / "derive" / "examples" / "two-two-two-biases.toml"
SHOTS = Path(os.environ.get("DERIVE_HTML_SCREENSHOTS", "/tmp"))
HOSTILE = """<script>alert(1)</script> "quoted" 'single' & <b>bold</b>"""
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND"
]  # any request for a host fails: the page must need none
# The only absolute URLs in the file: XML namespace names inside katex.min.js (never fetched).
NAMESPACES = {"http://www.w3.org/1998/Math/MathML": 3, "http://www.w3.org/2000/svg": 4}


class _Strict(html.parser.HTMLParser):
    """Collects the elements and whether every opened non-void element is closed in order."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "circle", "line", "path"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    """The 2-2-2 example with numbers and a learning rate, and a hostile title."""
    spec = load_spec(WORKED)
    net = spec.network()
    path = write_html(
        net, tmp_path_factory.mktemp("html"), name="worked", title=HOSTILE, values=spec.values
    )
    return net, spec, path


# The file --------------------------------------------------------------------------------------------
def test_the_page_is_one_file_of_valid_html_with_no_external_url(worked):
    net, _, path = worked
    text = path.read_text(encoding="utf-8")
    print(f"{path.name}: {len(text.encode()):,} bytes")
    assert len(text.encode()) < 1_500_000
    parser = _Strict()
    parser.feed(text)
    parser.close()
    assert not parser.problems, parser.problems[:5]
    assert parser.stack == [], parser.stack
    for tag, attrs in parser.tags:
        for name in ("src", "href", "xlink:href", "action", "poster"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
    urls = re.findall(r"https?://[^\s\"'()<>]+", text)
    assert {u: urls.count(u) for u in set(urls)} == NAMESPACES
    assert "url(fonts/" not in text and "@import" not in text
    assert re.findall(r"url\(([^)]{0,30})", text) and all(
        u.startswith("data:font/woff2;base64,") for u in re.findall(r"url\(([^)]{0,30})", text)
    )


def test_every_katex_font_is_inlined_once_as_woff2():
    css = katex_style()
    faces = re.findall(r"@font-face\{[^}]*\}", css)
    assert len(faces) == 20
    assert all(face.count("url(") == 1 and "data:font/woff2;base64," in face for face in faces)


def test_the_hostile_title_is_escaped_in_the_file(worked):
    text = worked[2].read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text
    assert "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; &#39;single&#39; &amp;" in text


def test_the_page_holds_every_step_and_line_of_the_derivation():
    net = Network([2, 3, 1], activation="tanh", bias=True)
    data = page(net)
    all_frames = frames(net.derivation())
    assert len(data.steps) == len(all_frames)
    for step, frame in zip(data.steps, all_frames):
        assert (step.block, step.step, step.steps) == (frame.block_label, frame.step, frame.steps)
    text = render_html(net)
    assert text.count('class="line"') == sum(len(b.lines) for b in data.blocks)
    assert f"step 1 of {len(all_frames)}" in text


def test_a_wide_layer_lights_only_drawn_nodes():
    net = Network([9, 8, 1])
    drawing = svg_drawing(net)
    assert {n.id for n in drawing.nodes if n.id.startswith("0-")} == {
        f"0-{j}" for j in (0, 1, 2, 7, 8)
    }
    for frame in frames(net.derivation()):
        nodes, edges = lit(frame.light, drawing)
        assert set(nodes) <= {n.id for n in drawing.nodes} and set(edges) <= {
            e.id for e in drawing.edges
        }


def test_cli_writes_the_page(tmp_path):
    result = run_cli("html", str(WORKED), "--out-dir", str(tmp_path), "--out", "page", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["files"] == [str(tmp_path / "page.html")] and data["bytes"] > 100_000
    result = run_cli("html", "--layers", "2", "2", "--out-dir", str(tmp_path), "--out", "../x")
    assert result.returncode == 2 and "invalid output name" in result.stderr
    result = run_cli(
        "html", "--layers", "2", "1", "--out-dir", str(tmp_path), "--learning-rate", "0.5"
    )
    assert result.returncode == 2 and "--learning-rate needs numbers" in result.stderr


# In Chromium -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium():
    with chromium_driver(OFFLINE + ["--window-size=1280,900"], script_timeout=120) as driver:
        yield driver


def _open(driver, path: Path) -> None:
    driver.set_window_size(1280, 900)
    driver.get(path.as_uri())
    driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "(function wait() { document.documentElement.dataset.ready ? done(true)"
        " : setTimeout(wait, 20); })();"
    )


def _severe(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def _press(driver, key: str, times: int = 1) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(times):
        ActionChains(driver).send_keys(key).perform()


SHOWN = """const block = document.querySelector('section.block.current');
const lines = Array.from(block.querySelectorAll(':scope > ol > li.line')).filter(l => l.offsetParent !== null);
const newest = block.querySelector(':scope > ol > li.line.new');
const eq = Array.from(newest.querySelectorAll('.eq > .math')).filter(m => !m.hidden)[0];
return {counter: document.getElementById('counter').textContent, block: block.id,
        title: block.querySelector('h2').textContent, lines: lines.length,
        newest: Number(newest.dataset.line), tex: eq.dataset.tex, why: newest.querySelector('.why').textContent,
        nodes: Array.from(document.querySelectorAll('[data-node].lit')).map(n => n.dataset.node).sort(),
        edges: Array.from(document.querySelectorAll('[data-edge].lit')).map(e => e.dataset.edge).sort()};"""


NEWEST_IN_VIEW = """const top = e => e.getBoundingClientRect().top;
return [top(document.querySelector('section.current li.line.new')),
        document.querySelector('.network').getBoundingClientRect().bottom - 1,
        top(document.querySelector('.controls')) - 20, document.getElementById('counter').textContent];"""


def _expect(driver, net: Network, index: int) -> None:
    """The page shows frame ``index`` of the derivation: counter, block, lines, newest line, lights."""
    all_frames = frames(net.derivation())
    frame = all_frames[index]
    shown = driver.execute_script(SHOWN)
    assert shown["counter"].startswith(f"step {index + 1} of ")
    assert (
        shown["block"] == frame.block_label.replace(":", "-")
        and shown["title"] == frame.block_title
    )
    assert shown["lines"] == frame.step == shown["newest"]
    new = frame.new
    tex = rf"\hphantom{{{new.lhs}}} = {new.rhs}" if new.continued else f"{new.lhs} = {new.rhs}"
    assert shown["tex"] == tex
    words = [
        piece.text for piece in new.reason.pieces if not piece.is_math
    ]  # KaTeX sets the formulas
    assert re.search(".*".join(map(re.escape, words)), shown["why"])
    assert shown["why"].lower().startswith(new.rule.lower())
    nodes, edges = lit(frame.light, svg_drawing(net))
    assert (shown["nodes"], shown["edges"]) == (sorted(nodes), sorted(edges)), index


def test_stepping_through_the_page_in_chromium(chromium, worked):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    net, spec, path = worked
    _open(chromium, path)
    assert _severe(chromium) == []
    assert chromium.execute_script("return window.deriveKatexErrors") == []
    assert chromium.execute_script("return document.documentElement.dataset.katexErrors") == "0"
    maths = chromium.execute_script(
        "return [document.querySelectorAll('.math[data-tex]').length,"
        " document.querySelectorAll('.math[data-tex] > .katex').length,"
        " document.querySelectorAll('.katex-error, .tex-error').length]"
    )
    assert maths[0] > 100 and maths[1] == maths[0] and maths[2] == 0, maths
    total = len(
        page(net, worked_example(net, spec.values)).steps
    )  # the derivation's, then the example's
    assert chromium.find_element(By.ID, "counter").text == f"step 1 of {total}"

    _expect(chromium, net, 0)
    for count, key in ((7, Keys.ARROW_RIGHT), (5, Keys.PAGE_DOWN), (4, Keys.SPACE)):
        before = int(chromium.find_element(By.ID, "counter").text.split()[1]) - 1
        _press(chromium, key, count)
        _expect(chromium, net, before + count)
    at = 16
    _press(chromium, Keys.ARROW_LEFT, 3)
    _expect(chromium, net, at - 3)
    _press(chromium, Keys.PAGE_UP)
    _expect(chromium, net, at - 4)
    chromium.find_element(By.ID, "next").click()
    _expect(chromium, net, at - 3)
    chromium.find_element(By.ID, "prev").click()
    chromium.find_element(By.ID, "prev").click()
    _expect(chromium, net, at - 5)
    for index in range(at - 5, 45):  # through the cost, the activation and into the output layer
        _expect(chromium, net, index)
        _press(chromium, Keys.ARROW_RIGHT)
    assert (
        chromium.execute_script("return location.hash") == "#step-46"
    )  # a link to this step (index 45)
    chromium.refresh()
    _expect(chromium, net, 45)
    _press(chromium, Keys.HOME)
    _expect(chromium, net, 0)
    assert chromium.find_element(By.ID, "prev").get_attribute("disabled") is not None
    assert _severe(chromium) == []


def test_a_sub_derivation_opens_in_place(chromium, worked):
    from selenium.webdriver.common.by import By

    net, _, path = worked
    _open(chromium, path)
    index = next(n for n, f in enumerate(frames(net.derivation())) if f.new.refs)
    chromium.execute_script(f"location.hash = '#step-{index + 1}'")
    title, label = frames(net.derivation())[index].new.refs[0]
    details = chromium.find_element(
        By.CSS_SELECTOR, "section.block.current li.line.new details.sub"
    )
    assert details.find_element(By.TAG_NAME, "summary").text == title
    assert details.get_attribute("open") is None
    details.find_element(By.TAG_NAME, "summary").click()
    from selenium.webdriver.support.ui import WebDriverWait

    # the page fills the body on the details' toggle event, which the browser fires after the click returns
    WebDriverWait(chromium, 30).until(
        lambda driver: driver.execute_script(
            "return arguments[0].querySelectorAll('li.line .katex').length", details
        )
    )
    inside = chromium.execute_script(
        "const d = arguments[0]; return [d.open, d.querySelectorAll('li.line').length,"
        " d.querySelectorAll('.katex').length, Array.from(d.querySelectorAll('li.line')).filter(l => l.offsetParent"
        " === null).length, d.querySelectorAll('.marked').length]",
        details,
    )
    referenced = next(b for b in page(net).blocks if b.label == label)
    assert (
        inside[0] is True
        and inside[1] == len(referenced.lines)
        and inside[2] >= len(referenced.lines)
    )
    assert inside[3] == 0 and inside[4] == 0  # every line shown, no highlight variants
    assert _severe(chromium) == []


def test_the_worked_example_steps_and_lights_its_node(chromium, worked):
    from selenium.webdriver.common.keys import Keys

    net, spec, path = worked
    _open(chromium, path)
    _press(chromium, Keys.END)
    shown = chromium.execute_script(SHOWN)
    assert shown["block"] == "blk-example" and shown["title"] == "Worked example with numbers"
    example = worked_example(net, spec.values)
    steps = page(net, example).steps
    calculations = calculation_lines(net, example)
    assert steps[-1].steps == len(spec.values.x) + len(spec.values.y) + len(calculations)
    last = calculations[-1]
    assert shown["tex"] == f"{last.lhs} = {' = '.join(last.members)}"
    assert r"\sigma{\left(0.3775 \right)} = 0.5933" in worked[2].read_text(
        encoding="utf-8"
    )  # handcalcs a_0^(1)
    assert shown["nodes"] == sorted(steps[-1].nodes) and shown["edges"] == sorted(steps[-1].edges)
    assert shown["counter"] == f"step {len(steps)} of {len(steps)}"
    assert len(steps) == len(page(net).steps) + steps[-1].steps
    assert shown["lines"] == steps[-1].steps


def test_no_network_request_and_the_title_is_text(chromium, worked):

    _, _, path = worked
    _open(chromium, path)
    fonts = chromium.execute_async_script(
        "var done = arguments[arguments.length - 1]; document.fonts.ready.then(() => done("
        "Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family)));"
    )
    assert {"KaTeX_Main", "KaTeX_Math"} <= set(fonts), fonts  # the inlined fonts, in use
    resources = chromium.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
    )
    assert all(name.startswith("data:") for name in resources), resources
    assert chromium.execute_script("return document.querySelector('h1').textContent") == HOSTILE
    assert chromium.execute_script("return document.title") == HOSTILE
    assert (
        chromium.execute_script("return document.querySelectorAll('b, header script, h1 *').length")
        == 0
    )
    assert (
        chromium.execute_script("return document.scripts.length") == 4
    )  # steps, macros, KaTeX, the page's own
    # an alert would be open now, and selenium would refuse to run the script (UnexpectedAlertPresentException)
    assert (
        chromium.execute_script(
            "return Array.from(document.scripts).some(s => s.text.includes('alert(1)'))"
        )
        is False
    )
    assert _severe(chromium) == []


def test_a_phone_width_does_not_overflow_and_screenshots(chromium, worked):
    from selenium.webdriver.common.keys import Keys

    net, _, path = worked
    _open(chromium, path)
    _press(chromium, Keys.ARROW_RIGHT, 40)
    chromium.execute_script(
        "document.querySelectorAll('.line.new').forEach(l => l.style.animation = 'none')"
    )
    chromium.save_screenshot(str(SHOTS / "derive-html-desktop.png"))
    chromium.set_window_size(390, 844)
    widths = chromium.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[1], widths
    for _ in range(len(page(net).steps)):  # every step: long lines scroll inside their own box
        _press(chromium, Keys.ARROW_RIGHT)
        widths = chromium.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth,"
            " document.getElementById('counter').textContent]"
        )
        assert widths[0] <= widths[1], widths
        seen = chromium.execute_script(NEWEST_IN_VIEW)  # below the drawing, above the buttons
        assert seen[1] <= seen[0] < seen[2], seen
    _press(chromium, Keys.HOME)
    _press(chromium, Keys.ARROW_RIGHT, 40)
    chromium.execute_script(
        "document.querySelectorAll('.line.new').forEach(l => l.style.animation = 'none')"
    )
    chromium.save_screenshot(str(SHOTS / "derive-html-phone.png"))
    assert (SHOTS / "derive-html-phone.png").stat().st_size > 10_000
    assert _severe(chromium) == []


def test_without_javascript_every_line_is_shown(chromium, worked, tmp_path):
    """The <noscript> fallback: Chromium with scripts off shows every block and line (as LaTeX source)."""
    _, _, path = worked
    text = path.read_text(encoding="utf-8")
    lines = text.count('<li class="line"')
    chromium.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        chromium.set_window_size(1280, 900)
        chromium.get(path.as_uri())
        shown = chromium.find_elements("css selector", "li.line")
        assert len(shown) == lines and all(
            line.is_displayed() for line in shown[:: max(1, lines // 20)]
        )
        assert not chromium.find_element("id", "prev").is_displayed()
    finally:
        chromium.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


@pytest.mark.parametrize(
    "net",
    [
        Network([2, 3, 3, 2], activation=["tanh", "relu", "sigmoid"], bias=True),
        Network([3, 4, 2], activation=["sigmoid", "softmax"], cost="log-likelihood"),
        Network(
            [2, 2, 2, 2, 2, 2],
            activation=["softplus", "leaky-relu", "elu", "gelu", "sigmoid(gain=alpha)"],
            bias=True,
            notation="nielsen",
            l2="0.1",
        ),
        Network(
            [2, 3, 3, 1], activation=["relu", "tanh", "sigmoid"], bias=True, notation="deeplizard"
        ),
        Network([2, 2, 1], activation=["g(z) = z\\sigma(z)", "sigmoid"], cost="cross-entropy"),
    ],
    ids=[
        "tanh-relu-sigmoid",
        "softmax",
        "five-activations-nielsen-l2",
        "deeplizard",
        "latex-activation",
    ],
)
def test_every_formula_of_other_networks_typesets(chromium, net, tmp_path):
    path = write_html(net, tmp_path)
    _open(chromium, path)
    counts = chromium.execute_script(
        "return [document.querySelectorAll('.math[data-tex]').length,"
        " document.querySelectorAll('.math[data-tex] > .katex').length,"
        " window.deriveKatexErrors]"
    )
    assert counts[0] == counts[1] and counts[2] == [], counts
    chromium.set_window_size(390, 844)
    for _ in range(len(page(net).steps)):
        _press(chromium, "\ue014")  # ArrowRight
    shown = chromium.execute_script(SHOWN)
    assert shown["counter"] == f"step {len(page(net).steps)} of {len(page(net).steps)}"
    assert chromium.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert _severe(chromium) == []


IDENTITY_SPEC = (
    'layers = [1, 1]\nactivation = "identity"\n[values]\nx = [1]\ny = [2]\nweights = [[[1]]]\n'
)


def test_graph_needs_values_and_is_left_out_by_default(tmp_path):
    assert "computational-graph" not in render_html(Network([1, 1], activation="identity"))
    spec = tmp_path / "identity.toml"
    spec.write_text(IDENTITY_SPEC)
    result = run_cli("html", "--layers", "1", "1", "--graph", "--out-dir", str(tmp_path))
    assert (
        result.returncode == 2
        and result.stderr.count("\n") == 1
        and "--graph needs numbers" in result.stderr
    )


def test_the_graph_section_in_chromium(chromium, tmp_path):
    """--graph: the SVG of operations (loss 1, local gradients 2s = -2, 1, x = 1, dC/dw = -2) and the table,
    typeset without error, within a phone's width."""
    spec = tmp_path / "identity.toml"
    spec.write_text(IDENTITY_SPEC)
    result = run_cli("html", str(spec), "--graph", "--out", "g", "--out-dir", str(tmp_path), "-q")
    assert result.returncode == 0, result.stderr
    _open(chromium, tmp_path / "g.html")
    svg_text = chromium.execute_script(
        "return document.querySelector('#computational-graph svg').textContent.replace(/\\s+/g, '')"
    )
    for piece in (
        "2·s=−2",
        "x₀=1",
        "square",
        "subtract",
        "multiply",
    ):  # the local gradients on the edges
        assert piece in svg_text, (piece, svg_text)
    table = chromium.execute_script("""return Array.from(document.querySelectorAll('#computational-graph tbody tr'))
        .map(r => Array.from(r.cells)
        .map(c => (c.querySelector('.katex-mathml annotation') || c).textContent.trim()))""")
    operations = [row[1] for row in table]
    assert {"square", "subtract", "multiply"} <= set(operations)
    square = table[operations.index("square")]
    assert square[3] == "1" and square[4].replace(" ", "").endswith("=2s=-2"), (
        square
    )  # loss 1; dC/ds = 2s = -2
    assert (
        chromium.execute_script(
            "return document.querySelectorAll('#computational-graph .katex').length"
        )
        >= 10
    )
    assert (
        chromium.execute_script(
            "return document.querySelectorAll('.katex-error, .tex-error').length"
        )
        == 0
    )
    chromium.execute_script("document.getElementById('computational-graph').scrollIntoView()")
    chromium.save_screenshot(str(SHOTS / "derive-html-graph.png"))
    chromium.set_window_size(390, 844)
    widths = chromium.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[1], widths
    assert _severe(chromium) == []
