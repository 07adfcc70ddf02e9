"""Unit tests for derive/documents/request.py: a document's defaults (title, worked example, file name,
directory) in one place, shared by the sheet, the slides, the web page and the CLI."""

from pathlib import Path

import pytest

from derive import Network
from derive.documents.html import render_html
from derive.documents.request import (
    OUT_DIR,
    DocumentRequest,
    check_name,
    default_name,
    default_title,
)
from derive.documents.sheet import example_specs, sheet_context
from derive.documents.slides import slides_context
from derive.errors import DeriveError
from derive.read.spec_file import load_spec


@pytest.fixture(scope="module")
def net():
    return Network([2, 3, 1])


def test_the_defaults(net):
    request = DocumentRequest(net)
    assert request.heading == default_title(net) == "Backpropagation for a 2-3-1 network"
    assert request.example is None and request.out_dir == OUT_DIR == Path("outputs")
    assert (
        request.stem() == Path("outputs") / default_name(net)
        and default_name(net) == "2-3-1-sigmoid-quadratic"
    )
    assert request.stem("-slides").name == "2-3-1-sigmoid-quadratic-slides"
    assert request.check and not request.graph


def test_a_title_and_a_name_given_win(net, tmp_path):
    request = DocumentRequest(net, "Mine", name="sheet3", out_dir=tmp_path)
    assert request.heading == "Mine" and request.stem() == tmp_path / "sheet3"
    with pytest.raises(DeriveError, match="invalid output name"):
        DocumentRequest(net, name="../up").stem()
    assert check_name("ok-name") == "ok-name"


def test_every_document_shows_the_same_default_title(net):
    title = default_title(net)
    assert sheet_context(net)["title"] == title and slides_context(net)["title"] == title
    assert f"<title>{title}</title>" in render_html(net, checked=None)


def test_the_worked_example_is_made_once_from_the_values():
    spec = load_spec(next(s for s in example_specs() if s.name == "two-two-two-biases.toml"))
    request = DocumentRequest(spec.network(), values=spec.values)
    assert request.example is request.example and request.example.cost > 0
