"""Trusted LaTeX and plain text made safe for it: ``Tex``, ``escape``, and a worded reason as LaTeX.

Everything returned as ``Tex`` is trusted LaTeX made by our printers; plain ``str`` (rule names,
titles, anything a user typed) is escaped. The sheet, the slides and the view model of printed
lines (``derive.render.lines``) share these.
"""

from __future__ import annotations

from derive.render.reasons import Worded, worded


class Tex(str):
    """A string of LaTeX that is safe to insert as is (made by derive, not typed by a user)."""


_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\n": " ",
    "\r": " ",
    "`": r"\textasciigrave{}",
}  # a backquote typed is one, not TeX's opening quote (`` would be “)


# Symbols in sentences (derive's reasons: "σ'(z) = σ(z)·(1 − σ(z))", "(u^n)' = n·u^(n-1)·u'") are set as
# TeX math, so that a sheet needs no Unicode engine for them; a Greek letter counts as a symbol when it
# stands alone (σ(z)), not inside a word of Greek text, which stays text.
MATH_SYMBOLS = {
    "·": r"\ensuremath{\cdot}",
    "²": r"\ensuremath{^{2}}",
    "³": r"\ensuremath{^{3}}",
    "−": r"\ensuremath{-}",
    "′": r"\ensuremath{'}",
    "∂": r"\ensuremath{\partial}",
    "⊙": r"\ensuremath{\odot}",
    "≈": r"\ensuremath{\approx}",
    "→": r"\ensuremath{\to}",
    "×": r"\ensuremath{\times}",
    "∑": r"\ensuremath{\sum}",
    "≤": r"\ensuremath{\le}",
    "≥": r"\ensuremath{\ge}",
}
GREEK_MATH = dict(
    zip(
        "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
        (
            rf"\ensuremath{{\{name}}}"
            for name in (
                "alpha beta gamma delta varepsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
                "tau upsilon varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega"
            ).split()
        ),
    )
)


def escape(text: object) -> Tex:
    """Plain text made safe for TeX: every special character neutralised; math symbols set as math."""
    if isinstance(text, Tex):
        return text
    text = str(text)
    out = []
    for position, ch in enumerate(text):
        if not (ch.isprintable() or ch in "\n\r"):
            out.append("?")
        elif ch in GREEK_MATH and not _in_word(text, position):
            out.append(GREEK_MATH[ch])
        else:
            out.append(_SPECIALS.get(ch) or MATH_SYMBOLS.get(ch, ch))
    return Tex("".join(out))


def _in_word(text: str, position: int) -> bool:
    """Whether the letter at ``position`` has a letter beside it (a word, not a symbol)."""
    return any(0 <= p < len(text) and text[p].isalpha() for p in (position - 1, position + 1))


def reason_tex(reason: Worded | str) -> Tex:
    """A worded reason as LaTeX for text mode: the words escaped, each formula in ``$...$``."""
    return Tex(
        "".join(
            f"${piece.tex}$" if piece.is_math else escape(piece.text)
            for piece in worded(reason).pieces
        )
    )
