"""derive slides: real Beamer PDFs typeset by TeX, read back (pdfinfo, pdftotext) and looked at (pdftoppm)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive import Network
from derive.documents.slides import example_calculations
from derive.numeric.worked import worked_example
from derive.read.spec_file import load_spec
from derive.documents.tex import tex_available
from derive.render.flow import frames, sheet_order

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "derive" / "examples"
needs_tex = pytest.mark.skipif(
    not tex_available() and not os.environ.get("CI"),
    reason="no TeX on this machine (CI installs it and runs these)",
)
MAZUR = EXAMPLES / "two-two-two-biases.toml"
HIGHLIGHT = (178, 34, 34)


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def squeezed(text: str) -> str:
    """Text without spaces, line breaks or hyphens: what TeX's line breaking cannot change."""
    return re.sub(r"[\s\-‐]", "", text).replace("’", "'")


def said(line) -> list[str]:
    """The words of a line's reason (its formulas are math: pdftotext reads a_j^(2) as it is set, a(2) j)."""
    return [piece.text for piece in line.reason.pieces if not piece.is_math]


def line_labels(pdf: Path, page: int) -> list[int]:
    """The numbers (n) printed in the left margin of a page, top to bottom."""
    xml = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>\((\d+)\)</word>', xml)
    return [int(n) for x, y, n in sorted(words, key=lambda w: float(w[1])) if float(x) < 40]


def page_size(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
    return float(width), float(height)


def red_pixels(pdf: Path, page: int, left: float = 0.0, right: float = 1.0) -> int:
    """Pixels of the highlight colour between the fractions ``left`` and ``right`` of the page's width."""
    ppm = subprocess.run(
        ["pdftoppm", "-r", "50", "-f", str(page), "-l", str(page), str(pdf)],
        capture_output=True,
        check=True,
    ).stdout
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    width, height = int(header.group(1)), int(header.group(2))
    data = ppm[header.end() :]
    count = 0
    for row in range(height):
        for column in range(int(left * width), int(right * width)):
            r, g, b = data[3 * (row * width + column) : 3 * (row * width + column) + 3]
            count += r > 140 and g < 90 and b < 90
    return count


@pytest.fixture(scope="module")
def mazur(tmp_path_factory):
    """The 2-2-2 worked example's deck (no notes), typeset once for the tests below."""
    if not tex_available():
        pytest.skip("no TeX on this machine")
    folder = tmp_path_factory.mktemp("slides")
    result = subprocess.run(
        [sys.executable, "-m", "derive", "slides", str(MAZUR), "--out", "mazur"],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "wrote outputs/mazur-slides.tex",
        "wrote outputs/mazur-slides.pdf",
    ]
    return folder / "outputs/mazur-slides.pdf"


@pytest.fixture(scope="module")
def mazur_steps():
    """(block title, step frames) of the derivation in the deck's order, and the worked example's calculations."""
    net = load_spec(str(MAZUR)).network()
    d = net.derivation()
    blocks = [(block.title, frames(d, [block])) for block in sheet_order(d)]
    calculations = example_calculations(net, worked_example(net, load_spec(str(MAZUR)).values))
    return blocks, calculations


def first_page(blocks, title: str) -> int:
    """The page of a block's first step: the title page, then one page per step."""
    page = 2
    for block_title, steps in blocks:
        if block_title == title:
            return page
        page += len(steps)
    raise KeyError(title)


@needs_tex
def test_pages_are_16_by_9_one_per_step(mazur, mazur_steps):
    width, height = page_size(mazur)
    assert abs(width / height - 16 / 9) < 0.01
    blocks, calculations = mazur_steps
    steps = sum(len(s) for _, s in blocks) + sum(len(c) for c in calculations.values())
    assert pdf_pages(mazur) == 1 + steps  # the title page, then one overlay per step


@needs_tex
def test_lines_accumulate_with_the_newest_lines_rule_and_reason(mazur, mazur_steps):
    blocks, _ = mazur_steps
    title, steps = next((t, s) for t, s in blocks if t.startswith("Weights into hidden layer 1"))
    start = first_page(blocks, title)
    frame_start = 1
    for offset, step in enumerate(steps):
        page = start + offset
        labels = line_labels(mazur, page)
        if labels == [
            step.step
        ]:  # a new frame (the block split over several) starts with this step
            frame_start = step.step
        assert labels == list(range(frame_start, step.step + 1)), (page, labels)
        text = squeezed(page_text(mazur, page))
        assert squeezed(step.new.rule) in text and all(
            squeezed(words) in text for words in said(step.new)
        ), page
        assert title.split(":")[0].replace(" ", "") in text
        if offset:  # the reason before is gone unless it says the same
            before = steps[offset - 1].new
            assert before.text == step.new.text or not all(
                squeezed(words) in text for words in said(before)
            )
    assert frame_start > 1, "the 15 steps of a hidden layer are split over frames"


@needs_tex
def test_the_factor_being_derived_is_red_on_its_overlay_only(mazur, mazur_steps):
    blocks, _ = mazur_steps
    title, steps = next((t, s) for t, s in blocks if t.startswith("Weights into the output"))
    start = first_page(blocks, title)
    assert not steps[0].new.highlighted and steps[1].new.highlighted
    lines = 0.6  # the lines' column; the drawing (lit in the same red) is to its right
    assert red_pixels(mazur, start, right=lines) == 0
    assert red_pixels(mazur, start + 1, right=lines) > 20
    assert red_pixels(mazur, start, left=lines) > 20  # the weight and its nodes, lit
    source = mazur.with_suffix(".tex").read_text()
    assert re.search(r"\\only<2>\{\\slideline\{2\}\{\}\{\}\{\\derivehl\{", source)


@needs_tex
def test_nothing_overflows(mazur):
    """Every word of every page inside the page, above the page number, and the lines left of the drawing."""
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(mazur), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = xml.split("<page ")[1:]
    assert len(pages) == pdf_pages(mazur)
    for number, page in enumerate(pages, 1):
        width, height = map(float, re.match(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        words = [
            (float(x0), float(x1), float(y1), text)
            for x0, x1, y1, text in re.findall(
                r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page
            )
        ]
        body = [
            w for w in words if not re.fullmatch(r"\d+|/", w[3])
        ]  # not the page number "3 / 24"
        assert max(w[2] for w in body) < height - 18, number
        assert max(w[1] for w in words) < width, number
        if number > 1:  # past the title page: the lines' column ends before the drawing
            assert all(w[1] < 0.66 * width for w in body if w[0] < 0.6 * width), number


@needs_tex
def test_no_notes_by_default(mazur):
    text = subprocess.run(
        ["pdftotext", str(mazur), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Step 1 of" not in text
    assert r"\note<1>{Step 1 of" in mazur.with_suffix(".tex").read_text()


@needs_tex
def test_the_worked_example_unfolds(mazur, mazur_steps):
    blocks, calculations = mazur_steps
    start = 1 + sum(len(s) for _, s in blocks) + 1
    forward = page_text(mazur, start)
    assert (
        "Worked example: forward pass" in forward and "0.5933" not in forward
    )  # a^(1) comes at overlay 3
    assert "0.5933" in page_text(mazur, start + 2)
    text = "".join(page_text(mazur, p) for p in range(start, pdf_pages(mazur) + 1))
    # Matt Mazur's numbers, handcalcs style: the cost, dE/dw5 = delta a = 0.1385 (0.5933), dE/dw1, the step of w5
    for number in ("0.2984", "0.1385 (0.5933) = 0.08217", "0.0004386", "−0.5 (0.08217) = −0.04108"):
        assert number in text, number
    assert "one step of gradient descent" in text
    backward = start + len(calculations["Worked example: forward pass"])
    assert "backward pass" in page_text(mazur, backward) and line_labels(mazur, backward) == [1]


@needs_tex
def test_notes_title_and_user_activation(cli, tmp_path):
    """--notes puts each reason beside its page; a title with TeX specials and a user's activation come out as typed."""
    spec = tmp_path / "evil.toml"
    spec.write_text(
        'title = "$\\\\input{/etc/passwd}#%_^ & ~"\nlayers = [1, 1]\n'
        'activation = "g(z) = z\\\\sigma(z)"\n'
    )
    result = cli("slides", str(spec), "--out", "evil", "--notes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "outputs/evil-slides.pdf"
    width, height = page_size(pdf)
    assert abs(width / height - 32 / 9) < 0.01  # the slide and its note side by side
    first = page_text(pdf, 1)
    assert "$\\input{/etc/passwd}#%_^ & ~" in first and "root:" not in first
    assert r"\input{/etc/passwd}" not in pdf.with_suffix(".tex").read_text()
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Step 1 of" in text and "defined by the user" in text
    net = Network([1, 1], activation=["g(z) = z\\sigma(z)"])
    assert pdf_pages(pdf) == 1 + len(frames(net.derivation()))


def test_tex_only_writes_the_source(cli, tmp_path):
    result = cli("slides", "--layers", "2", "1", "--tex-only", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"files": ["outputs/2-1-sigmoid-quadratic-slides.tex"]' in result.stdout
    source = (tmp_path / "outputs/2-1-sigmoid-quadratic-slides.tex").read_text()
    assert r"\documentclass[aspectratio=169" in source and r"\derivehl" in source
    assert (
        "show notes" not in source
        and not (tmp_path / "outputs/2-1-sigmoid-quadratic-slides.pdf").exists()
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "give a SPEC file"),
        (("--layers", "2", "x"), "must be a positive integer"),
        (("missing.toml",), "missing.toml"),
        (("--layers", "2", "1", "--out", "a/b"), "invalid output name"),
        (("--layers", "2", "1", "--learning-rate", "0.5"), "--learning-rate needs numbers"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    result = cli("slides", *args, "--tex-only", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "outputs").exists()


def test_bad_spec_file(cli, tmp_path):
    (tmp_path / "bad.toml").write_text("layers = [2, 1\n")
    result = cli("slides", str(tmp_path / "bad.toml"), cwd=tmp_path)
    assert result.returncode == 2 and "invalid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@needs_tex
def test_tex_failure_keeps_the_tex_and_the_pdf_before(tmp_path, monkeypatch):
    """A TeX error raises one message with the log's lines; the .tex stays, no half-written PDF replaces the old."""
    from derive.documents import slides
    from derive.documents.tex import TexFailed

    out = tmp_path / "outputs"
    out.mkdir()
    (out / "broken-slides.pdf").write_bytes(b"%PDF- the deck before")
    monkeypatch.setattr(
        slides,
        "render_slides",
        lambda *args, **kwargs: (
            "\\documentclass{beamer}\\begin{document}\\begin{frame}\\nosuchmacro\\end{frame}\\end{document}\n"
        ),
    )
    with pytest.raises(TexFailed, match="Undefined control sequence"):
        slides.write_slides(Network([1, 1]), out, name="broken")
    assert sorted(p.name for p in out.iterdir()) == ["broken-slides.pdf", "broken-slides.tex"]
    assert (out / "broken-slides.pdf").read_bytes() == b"%PDF- the deck before"


def test_without_tex_the_tex_is_written_and_the_way_to_tex_is_named(tmp_path):
    import shutil

    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    if shutil.which("pdflatex", path=env["PATH"]):
        pytest.skip("pdflatex lives beside python here")
    result = subprocess.run(
        [sys.executable, "-m", "derive", "slides", "--layers", "2", "1", "--out", "n"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert (tmp_path / "outputs/n-slides.tex").is_file() and not (
        tmp_path / "outputs/n-slides.pdf"
    ).exists()
    assert result.stderr.count("\n") == 1 and "apt-get install" in result.stderr


IDENTITY_SPEC = (
    'layers = [1, 1]\nactivation = "identity"\n[values]\nx = [1]\ny = [2]\nweights = [[[1]]]\n'
)


@needs_tex
def test_graph_frames_show_the_computational_graph(cli, tmp_path):
    """--graph adds the picture and the node table: loss 1, local gradients -2, 1, 1, dC/dw = -2."""
    spec = tmp_path / "identity.toml"
    spec.write_text(IDENTITY_SPEC)
    result = cli("slides", str(spec), "--graph", "--out", "g", "--out-dir", str(tmp_path), "-q")
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "g-slides.pdf"
    pages = pdf_pages(pdf)
    picture, table = squeezed(page_text(pdf, pages - 1)), squeezed(page_text(pdf, pages))
    assert "Thecomputationalgraph" in picture and "2s" in picture
    assert "nodebynode" in table
    for row in ("square", "subtract", "multiply"):
        assert row in table
    assert "=2s=−2" in table and "=x0=1" in table  # the local gradients along C_0 -> s -> a -> w
    without = cli("slides", str(spec), "--out", "n", "--out-dir", str(tmp_path), "--tex-only", "-q")
    assert (
        without.returncode == 0
        and "computational graph" not in (tmp_path / "n-slides.tex").read_text()
    )


def test_graph_needs_values(cli, tmp_path):
    result = cli(
        "slides", "--layers", "1", "1", "--graph", "--out-dir", str(tmp_path), "--tex-only"
    )
    assert (
        result.returncode == 2
        and result.stderr.count("\n") == 1
        and "--graph needs numbers" in result.stderr
    )
