"""One notation for code, text and LaTeX: letters, names and styles are data.

j indexes nodes of layer l, k nodes of layer l-1, and the downstream layers
use the letters in ``downstream`` (i for layer l+1 by default).
w_{jk}^{(l)} is the weight from node k of layer l-1 to node j of layer l.
How layers are named (2 or L), how sums are bounded (2 or n^{(L-1)} - 1), how activations are written
(sigma or g^{(L)}) and the labels of the matrix summary (BP1..BP4) are data here too: a preset
changes fields, never code.
Plain data: nothing here imports SymPy (``Notation.symbols`` builds the SymPy objects on first use).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from derive.choices import Choice
from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.notation.symbols import Symbols


class Superscript(Choice):
    """How a layer sits in a superscript."""

    PAREN = "paren"  # w^{(l)}
    PLAIN = "plain"  # w^{l}


class LayerNames(Choice):
    """How layers are named."""

    ABSOLUTE = "absolute"  # layers 0, 1, 2
    FROM_OUTPUT = "from_output"  # ..., L-2, L-1, L (needs output_layer)


class SumLimits(Choice):
    """How a sum over a layer's nodes is bounded."""

    NUMBERS = "numbers"  # up to 2
    SIZES = "sizes"  # up to n^{(l)} - 1, the size of the summed layer


class ActivationNames(Choice):
    """How an activation function is written."""

    OWN = "own"  # sigma(z_j^{(2)})
    LAYER = "layer"  # g^{(2)}(z_j^{(2)}), the letter ``activation``


LAYER_NAMES = LayerNames.words()
SUM_LIMITS = SumLimits.words()
ACTIVATION_NAMES = ActivationNames.words()
_STYLES = (
    ("superscript", "superscript style", Superscript),
    ("layer_names", "layer_names", LayerNames),
    ("sum_limits", "sum_limits", SumLimits),
    ("activation_names", "activation_names", ActivationNames),
)


@dataclass(frozen=True)
class Notation:
    """Letters and names used everywhere; a preset is a different instance.

    The four styles (``superscript``, ``layer_names``, ``sum_limits``, ``activation_names``) may be
    given as their words ("plain"); the notation holds them as enum members, equal to those words."""

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
    total_cost: str = "C"  # the cost over n samples, C = (1/n) sum_x C_x (+ the L2 penalty)
    sample: str = "x"  # the index of a sample in that sum (Nielsen's x; deeplizard's i)
    samples: str = "n"  # how many samples the cost is taken over
    regularisation: str = "lambda"  # the L2 parameter
    activation: str = "g"
    superscript: Superscript = Superscript.PAREN  # "paren": w^{(l)}; "plain": w^{l}
    default_cost: str = "quadratic"
    default_activation: str = "sigmoid"
    # "absolute": layers 0, 1, 2; "from_output": ..., L-2, L-1, L (needs output_layer)
    layer_names: LayerNames = LayerNames.ABSOLUTE
    # "numbers": sums up to 2; "sizes": up to n^{(l)} - 1, the size of the summed layer
    sum_limits: SumLimits = SumLimits.NUMBERS
    # "own": sigma(z_j^{(2)}); "layer": g^{(2)}(z_j^{(2)}), the letter `activation`
    activation_names: ActivationNames = ActivationNames.OWN
    summary_labels: tuple[
        str, ...
    ] = ()  # the four matrix-summary equations' labels (BP1..BP4), or none
    # Set by a network for the notations that need it (see ``for_network``), never by a preset:
    output_layer: int | None = (
        None  # the number L of the output layer, for layer_names "from_output"
    )
    layer_activations: tuple[
        str, ...
    ] = ()  # each layer's activation function (by name), for "layer" names

    def __post_init__(self) -> None:
        for name, what, style in _STYLES:  # a word becomes its member once, here
            object.__setattr__(self, name, style.parse(getattr(self, name), what))
        if len(self.summary_labels) not in (0, 4) or not all(
            isinstance(t, str) and t for t in self.summary_labels
        ):
            raise DeriveError(
                "summary_labels must be empty or four labels, one per backpropagation equation "
                "(output error, error recursion, bias gradient, weight gradient)"
            )
        if self.output_layer is not None and (
            isinstance(self.output_layer, bool)
            or not isinstance(self.output_layer, int)
            or self.output_layer < 1
        ):
            raise DeriveError(
                f"output_layer must be a layer number >= 1, got {self.output_layer!r}"
            )
        if not self.downstream:
            raise DeriveError(
                "a notation needs at least one letter for the nodes of downstream layers (downstream)"
            )
        letters = [self.layer, self.node, self.prev, *self.downstream]
        if len(set(letters)) != len(letters):
            raise DeriveError("notation letters for layer and node indices must all differ")

    def for_network(self, output_layer: int, activations: tuple[str, ...]) -> "Notation":
        """This notation for one network: with its output layer L and its layers' activation functions
        when the notation names layers from the output or activations by layer; itself otherwise."""
        if self.layer_names is LayerNames.ABSOLUTE and self.activation_names is ActivationNames.OWN:
            return self
        return replace(self, output_layer=output_layer, layer_activations=tuple(activations))

    def layer_name(self, layer: int) -> str:
        """How layer number ``layer`` is written, in a superscript and in prose: "2", or "L-1" counted
        from the output layer. The one place a layer number becomes a name."""
        if self.layer_names is not LayerNames.FROM_OUTPUT or self.output_layer is None:
            return str(layer)
        below = self.output_layer - layer
        return "L" if below == 0 else f"L-{below}" if below > 0 else f"L+{-below}"

    def summary_label(self, number: int) -> str | None:
        """The label of backpropagation equation ``number`` (1: output error, 2: error recursion,
        3: bias gradient, 4: weight gradient; Nielsen's BP1..BP4), or None when the notation has none."""
        return self.summary_labels[number - 1] if self.summary_labels else None

    @cached_property
    def symbols(self) -> "Symbols":
        from derive.notation.symbols import (
            Symbols,
        )  # SymPy loads with the first formula, not the letters

        return Symbols(self)


PRESETS: dict[str, Notation] = {
    "default": Notation(),
    # Nielsen, "Neural Networks and Deep Learning": C = 1/2 sum (a - y)^2, sigma, w^l_{jk}.
    "nielsen": Notation(
        superscript=Superscript.PLAIN,
        default_cost="half-quadratic",
        activation="sigma",
        summary_labels=("BP1", "BP2", "BP3", "BP4"),
    ),
    # deeplizard, "Deep Learning Fundamentals: Backpropagation explained": layers (L), (L-1) counted from the
    # output, C_0 = sum_{j=0}^{n-1} (a_j^{(L)} - y_j)^2, sums up to the layer's size n - 1, g^{(L)}(z_j^{(L)}).
    "deeplizard": Notation(
        layer_names=LayerNames.FROM_OUTPUT,
        sum_limits=SumLimits.SIZES,
        activation_names=ActivationNames.LAYER,
        default_cost="quadratic",
        default_activation="sigmoid",
        sample="i",
    ),
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
