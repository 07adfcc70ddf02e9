"""The width estimate that decides how a formula breaks in Jupyter reads any LaTeX without failing."""

import pytest

from derive.render.display import tokens, width


@pytest.mark.parametrize("tex", ["a\\", "x\\\ny", "\\", "\\\\", r"\frac{1}{2}\\", "\\\t"])
def test_a_backslash_at_the_end_or_before_a_newline_is_one_token(tex):
    found = tokens(tex)
    assert "".join(found).replace(" ", "") == tex.replace(" ", "")
    assert width(tex) > 0


def test_commands_stay_whole():
    assert tokens(r"\alpha+\beta") == [r"\alpha", "+", r"\beta"]
