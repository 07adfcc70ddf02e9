"""Derivation sheets: Jinja2 LaTeX templates filled with rendered derivation data, then typeset."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from derive.render import latex as lr
from derive.errors import DeriveError, ParameterError
from derive.documents.files import write_atomic
from derive.documents.request import DocumentRequest
from derive.model.network import Network
from derive.model.values import Values
from derive.model.steps import AVERAGE, COST, FORWARD, SUMMARY, UPDATE, BlockKey, Part
from derive.documents.tex import TexUnavailable, typeset
from derive.numeric.graph import computational_graph
from derive.checks.steps import check_printed
from derive.render.checked import checked_sentence
from derive.render.graph import graph_layout, graph_rows, graph_tikz

TEMPLATE = "sheet.tex.j2"
USER_TEMPLATE_SECONDS = 60  # rendering a user's templates: a forked child killed after this


def package_templates():
    """The templates shipped inside the package (derive/templates), as an importlib.resources Traversable."""
    return resources.files("derive").joinpath("templates")


def example_specs() -> list:
    """The example spec files shipped inside the package (derive/examples/*.toml), sorted by name."""
    folder = resources.files("derive").joinpath("examples")
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name
    )


class PackageTemplateLoader(jinja2.BaseLoader):
    """Jinja2 loader for the package's own templates, read through importlib.resources
    (works from a wheel, a zip or a checkout alike)."""

    def get_source(self, environment: jinja2.Environment, template: str):
        resource = package_templates()
        for part in split_template_path(template):  # refuses '..'
            resource = resource.joinpath(part)
        if not resource.is_file():
            raise jinja2.TemplateNotFound(template)
        return resource.read_text(encoding="utf-8"), str(resource), lambda: True

    def list_templates(self) -> list[str]:
        return sorted(
            entry.name for entry in package_templates().iterdir() if entry.name.endswith(".j2")
        )


def template_dirs(extra: str | Path | None = None) -> list[str]:
    """Where templates are looked up, for messages: the user's directory first, then the package's."""
    if extra is not None and not Path(extra).is_dir():
        raise DeriveError(f"templates directory not found: {extra}")
    return ([str(extra)] if extra is not None else []) + [str(package_templates())]


def template_loader(extra: str | Path | None = None) -> jinja2.BaseLoader:
    """The user's directory (when given) first, the package's templates as fallback."""
    template_dirs(extra)  # checks that the directory exists
    ours = PackageTemplateLoader()
    return (
        ours if extra is None else jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(extra)), ours])
    )


def _finalize(value: object) -> str:
    """Autoescape for TeX: anything not produced as LaTeX by derive is escaped."""
    if value is None:
        return ""
    if isinstance(value, (lr.Tex, int)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return lr.escape(value)


def template_environment(extra: str | Path | None = None) -> jinja2.Environment:
    """Jinja2 with LaTeX-friendly delimiters: \\VAR{...}, \\BLOCK{...}, \\#{...}.

    Every template (the package's and a user's from ``--templates``) renders in Jinja2's sandbox:
    no attribute starting with '_', no access to functions' globals or to Python's classes, no
    unsafe str.format, ranges of at most 100,000 items. A template can lay out the data it is given
    and nothing else.
    """
    env = SandboxedEnvironment(
        loader=template_loader(extra),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_statement_prefix="%%",
        line_comment_prefix="%#",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
    )
    # A macro's output was escaped piece by piece inside the macro: mark it as LaTeX.
    env.filters["tex"] = lambda text: lr.Tex(text)
    return env


@dataclass(frozen=True)
class GraphSection:
    """The sheet's computational graph: the TikZ picture and the table of nodes."""

    picture: lr.Tex
    rows: tuple
    operations: int
    note: str = ""  # how the network's activation appears (an identity adds no operation)


def graph_of(net: Network, values: Values | None):
    """The computational graph at the spec's numbers (DeriveError without numbers or for a big network)."""
    if values is None:
        raise ParameterError("{graph} needs numbers: give a spec with [values] (x, y, weights)")
    return computational_graph(net, values)


def graph_section(net: Network, values: Values | None) -> GraphSection:
    """The sheet's (and the slides') computational graph: TikZ picture and table."""
    graph = graph_of(net, values)
    folded = any(n.aliases for n in graph.nodes)
    note = (
        (
            "The identity activation adds no operation: a node's output equals its weighted input, so one "
            "box computes both."
        )
        if folded
        else ""
    )
    return GraphSection(
        graph_tikz(graph_layout(graph), net), graph_rows(graph, net), len(graph.operations), note
    )


def checked_note(
    net: Network, check: bool = True, say: Callable[[str], None] | None = None
) -> str | None:
    """Check every step a document prints (``check_printed``: InternalError naming the first wrong step, so
    that nothing is written) and say so in one sentence; None when not asked to check."""
    if not check:
        return None
    if say is not None:
        say("checking every step against SymPy")
    return checked_sentence(check_printed(net), net)


def sheet_context(
    net: Network,
    title: str | None = None,
    values: Values | None = None,
    graph: bool = False,
    checked: str | None = None,
) -> dict:
    """Everything the sheet's template lays out; ``graph`` adds the computational graph (needs values),
    ``checked`` the sentence about the check of its steps."""
    request = DocumentRequest(net, title, values, graph=graph)
    drawn = graph_section(net, values) if graph else None
    blocks = lr.render_blocks(net.derivation())
    example = request.example
    return {
        "title": request.heading,
        "description": net.describe(),
        "checked": checked,
        "L": net.L,
        "output_name": net.notation.layer_name(
            net.L
        ),  # the output layer as the notation names it: 2, or L
        "previous_name": net.notation.layer_name(net.L - 1),
        "notation_rows": lr.notation_rows(net),
        "drawing": lr.network_drawing(net),
        "forward": blocks[FORWARD],
        "cost": blocks[COST],
        "activations": [blocks[k] for k in blocks if k.part is Part.ACTIVATION],
        "output_layer": blocks[BlockKey.layer(net.L)],
        "hidden_layers": [blocks[BlockKey.layer(layer)] for layer in range(net.L - 1, 0, -1)],
        "summary": blocks[SUMMARY],
        "update": blocks[UPDATE],
        "average": blocks[AVERAGE],
        **dict(zip(("l2", "l2_term"), lr.l2_terms(net))),
        "eta": lr.math(net.symbols.eta, net),
        "delta_recursion": [blocks[BlockKey.layer(layer)] for layer in range(net.L - 1, 0, -1)],
        "example": lr.worked_tables(net, example) if example is not None else None,
        "bias": net.bias,
        "cost_symbol": lr.math(net.symbols.cost, net),
        "vector_output": net.activation(
            net.L
        ).vector,  # softmax: the output error is a sum, no g'(z) there
        "graph": drawn,
    }


def render_sheet(
    net: Network,
    title: str | None = None,
    values: Values | None = None,
    templates: str | Path | None = None,
    graph: bool = False,
    checked: str | None = None,
) -> str:
    """The sheet's LaTeX source. A user's templates (``templates``) render in the sandbox, in a forked
    child that is stopped after USER_TEMPLATE_SECONDS (a template that loops for ever cannot hang us)."""
    env = template_environment(templates)
    template = _load_template(env, templates)
    context = sheet_context(net, title, values, graph, checked)
    if templates is None:
        return _render(template, context)
    from derive.limits import run_limited

    return run_limited(
        _render, template, context, seconds=USER_TEMPLATE_SECONDS, what="rendering the templates"
    )


def _load_template(env: jinja2.Environment, templates: str | Path | None) -> jinja2.Template:
    try:
        return env.get_template(TEMPLATE)
    except jinja2.TemplateNotFound:
        raise DeriveError(
            f"template {TEMPLATE} not found in {', '.join(map(str, template_dirs(templates)))}"
        ) from None
    except jinja2.TemplateSyntaxError as error:
        raise DeriveError(f"template {error.filename}:{error.lineno}: {error.message}") from None
    except UnicodeDecodeError:
        raise DeriveError(f"template {TEMPLATE} in {templates} is not UTF-8 text") from None


def _render(template: jinja2.Template, context: dict) -> str:
    """Render; every failure of a template (syntax, sandbox, undefined names, huge ranges) is one line."""
    try:
        return template.render(**context)
    except SecurityError as error:
        raise DeriveError(f"template refused by the sandbox: {error}") from None
    except jinja2.TemplateSyntaxError as error:
        raise DeriveError(f"template {error.filename}:{error.lineno}: {error.message}") from None
    except UnicodeDecodeError:
        raise DeriveError("an included template is not UTF-8 text") from None
    except jinja2.TemplateError as error:
        raise DeriveError(f"template error: {error}") from None
    except OverflowError as error:  # the sandbox's range limit
        raise DeriveError(f"template error: {error}") from None
    except RecursionError:
        raise DeriveError("template error: it recurses without end") from None
    except (
        TypeError,
        ValueError,
        AttributeError,
        KeyError,
        IndexError,
        ZeroDivisionError,
    ) as error:
        raise DeriveError(
            f"template error: {str(error).splitlines()[0] if str(error) else 'invalid operation'}"
        ) from None


@dataclass(frozen=True)
class SheetFiles:
    tex: Path
    pdf: Path | None
    note: str | None = None

    def as_dict(self) -> dict:
        """What ``derive sheet --json`` (and slides) prints."""
        return {
            "files": [str(path) for path in (self.tex, self.pdf) if path is not None],
            "note": self.note,
        }


def write_sheet(
    net: Network,
    out_dir: Path,
    name: str | None = None,
    title: str | None = None,
    values: Values | None = None,
    templates: str | Path | None = None,
    tex_only: bool = False,
    progress: Callable[[str], None] | None = None,
    graph: bool = False,
    check: bool = True,
) -> SheetFiles:
    """Write outputs/<name>.tex and, unless tex_only, typeset outputs/<name>.pdf; with ``check`` (the
    default) every step is checked against SymPy first, and the sheet says so.

    ``progress(message)`` is told what is being done (checking, deriving, typesetting), for a spinner.
    """
    say = progress or (lambda message: None)
    stem = DocumentRequest(net, name=name, out_dir=out_dir).stem()
    checked = checked_note(net, check, say)
    say("deriving and writing the LaTeX")
    return write_typeset(
        render_sheet(net, title, values, templates, graph, checked), stem, tex_only, say
    )


def write_typeset(
    source: str, stem: Path, tex_only: bool, say: Callable[[str], None]
) -> SheetFiles:
    """Write STEM.tex atomically and, unless ``tex_only``, typeset STEM.pdf (the PDF appears only when TeX
    succeeded; without TeX, a note says how to get it)."""
    tex_path = stem.with_name(stem.name + ".tex")
    write_atomic(tex_path, source)
    if tex_only:
        return SheetFiles(tex_path, None)
    say("typesetting the PDF with TeX")
    try:
        result = typeset(source, stem.with_name(stem.name + ".pdf"))
    except TexUnavailable as missing:
        return SheetFiles(tex_path, None, str(missing))
    return SheetFiles(tex_path, result.pdf, result.note)
