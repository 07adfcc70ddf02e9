"""The derivation as one self-contained web page: `derive html`.

The page (``derive/templates/page.html.j2``, Jinja2 with autoescaping on) shows the derivation a step
at a time, the network drawing lit per step, and the worked example when there are numbers. KaTeX,
its stylesheet and its fonts (``derive/assets/katex``, MIT) are inlined: the file needs no network.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from derive import __version__
from derive.documents.files import write_atomic
from derive.documents.request import DocumentRequest
from derive.documents.sheet import PackageTemplateLoader, checked_note, graph_of
from derive.model.network import Network
from derive.model.values import Values
from derive.render import html as rh
from derive.render import latex as lr
from derive.render.graph import graph_layout, graph_rows, graph_svg

TEMPLATE = "page.html.j2"
HIGHLIGHT = (
    "#b03030"  # the colour of the factor being derived (\derivehl), of lit nodes and weights
)
_FONT = re.compile(
    r'url\(fonts/([\w-]+)\.woff2\) format\("woff2"\)'
    r'(?:,url\(fonts/[\w-]+\.woff\) format\("woff"\))?'
    r'(?:,url\(fonts/[\w-]+\.ttf\) format\("truetype"\))?'
)


def katex_files():
    """derive/assets/katex inside the package (KaTeX 0.16.47: katex.min.js, katex.min.css, fonts/*.woff2)."""
    return resources.files("derive").joinpath("assets", "katex")


@functools.lru_cache(maxsize=1)
def katex_script() -> str:
    """katex.min.js, checked to be safe inside a <script> element."""
    text = katex_files().joinpath("katex.min.js").read_text(encoding="utf-8")
    if re.search(r"</script|<!--", text, re.IGNORECASE):
        raise AssertionError("katex.min.js cannot be inlined: it contains </script or <!--")
    return text


@functools.lru_cache(maxsize=1)
def katex_style() -> str:
    """katex.min.css with every font a data: URI (woff2 only; the woff and ttf fallbacks dropped)."""
    css = katex_files().joinpath("katex.min.css").read_text(encoding="utf-8")
    fonts = katex_files().joinpath("fonts")

    def inline(match: re.Match) -> str:
        data = base64.b64encode(fonts.joinpath(f"{match.group(1)}.woff2").read_bytes()).decode(
            "ascii"
        )
        return f'url(data:font/woff2;base64,{data}) format("woff2")'

    css = _FONT.sub(inline, css)
    if "url(fonts/" in css or re.search(r"</style", css, re.IGNORECASE):
        raise AssertionError(
            "katex.min.css cannot be inlined: a font is not woff2, or it contains </style"
        )
    return css


def script_json(data: object) -> Markup:
    """JSON safe inside a <script> element: <, > and & written as \\u escapes."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def environment() -> jinja2.Environment:
    """Jinja2 for the page: the package's templates, autoescaping on, sandboxed like the sheet's."""
    return SandboxedEnvironment(
        loader=PackageTemplateLoader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class GraphPart:
    """The page's computational graph: the SVG picture (made by derive, its text escaped) and the table."""

    svg: Markup
    rows: tuple
    operations: int


def graph_part(net: Network, values: Values | None) -> GraphPart:
    graph = graph_of(net, values)
    return GraphPart(
        Markup(graph_svg(graph_layout(graph))), graph_rows(graph, net), len(graph.operations)
    )


def render_html(
    net: Network,
    title: str | None = None,
    values: Values | None = None,
    graph: bool = False,
    checked: str | None = None,
) -> str:
    """The page's HTML: one string, no external URL; ``graph`` adds the computational graph (needs values),
    ``checked`` the sentence about the check of the steps."""
    request = DocumentRequest(net, title, values, graph=graph)
    data = rh.page(net, request.example)
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            graph=graph_part(net, values) if graph else None,
            cost_symbol=lr.math(net.symbols.cost, net),
            title=request.heading,
            description=net.describe(),
            checked=checked,
            page=data,
            version=__version__,
            steps_json=script_json([step.data() for step in data.steps]),
            highlight=HIGHLIGHT,
            katex_css=Markup(katex_style()),
            katex_js=Markup(katex_script()),
            macros_json=script_json({"\\derivehl": f"\\textcolor{{#{HIGHLIGHT}}}{{#1}}"}),
        )
    )


def write_html(
    net: Network,
    out_dir: Path,
    name: str | None = None,
    title: str | None = None,
    values: Values | None = None,
    graph: bool = False,
    check: bool = True,
) -> Path:
    """Write OUT_DIR/NAME.html (atomically) and return its path; with ``check`` (the default) every step is
    checked against SymPy first, and the page says so."""
    stem = DocumentRequest(net, name=name, out_dir=Path(out_dir)).stem()
    checked = checked_note(net, check)
    return write_atomic(
        stem.with_name(stem.name + ".html"), render_html(net, title, values, graph, checked)
    )
