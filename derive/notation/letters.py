"""One notation for code, text and LaTeX: letters, names and styles are data.

j indexes nodes of layer l, k nodes of layer l-1, and the downstream layers
use the letters in ``downstream`` (i for layer l+1 by default).
w_{jk}^{(l)} is the weight from node k of layer l-1 to node j of layer l.
Plain data: nothing here imports SymPy (``Notation.symbols`` builds the SymPy objects on first use).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.notation.symbols import Symbols


@dataclass(frozen=True)
class Notation:
    """Letters and names used everywhere; a preset is a different instance."""

    layer: str = "l"
    node: str = "j"
    prev: str = "k"
    downstream: tuple[str, ...] = ("i", "p", "q", "r", "s", "t", "u", "v")
    weight: str = "w"
    bias: str = "b"
    preactivation: str = "z"
    activation_value: str = "a"
    input: str = "x"
    target: str = "y"
    delta: str = "delta"
    size: str = "n"
    cost: str = "C_0"
    learning_rate: str = "eta"
    activation: str = "g"
    superscript: str = "paren"  # "paren": w^{(l)}; "plain": w^{l}
    default_cost: str = "quadratic"
    default_activation: str = "sigmoid"

    def __post_init__(self) -> None:
        if self.superscript not in ("paren", "plain"):
            raise DeriveError(f"superscript style must be 'paren' or 'plain', got {self.superscript!r}")
        if not self.downstream:
            raise DeriveError("a notation needs at least one letter for the nodes of downstream layers (downstream)")
        letters = [self.layer, self.node, self.prev, *self.downstream]
        if len(set(letters)) != len(letters):
            raise DeriveError("notation letters for layer and node indices must all differ")

    @cached_property
    def symbols(self) -> "Symbols":
        from derive.notation.symbols import Symbols  # SymPy loads with the first formula, not the letters

        return Symbols(self)


PRESETS: dict[str, Notation] = {
    "default": Notation(),
    # Nielsen, "Neural Networks and Deep Learning": C = 1/2 sum (a - y)^2, sigma, w^l_{jk}.
    "nielsen": Notation(superscript="plain", default_cost="half-quadratic", activation="sigma"),
}


def notation_named(name: str | Notation) -> Notation:
    """The preset called ``name`` (or ``name`` itself when it already is a Notation)."""
    if isinstance(name, Notation):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        from derive.errors import closest_hint

        raise DeriveError(f"unknown notation {name!r}{closest_hint(name, PRESETS)}") from None
