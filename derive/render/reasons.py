"""A step's reason worded in a notation: one sentence a kind, in the table ``WORDING``.

The sentences hold no letter: each ``{field}`` is a parameter of the reason (``derive.model.steps.Reason``),
printed as the steps' formulas are, so a reason says z_m when the formulas say z_m. A worded reason is
a row of pieces, words and math; the terminal joins their text, the sheets and slides set the math in
``$...$`` (``derive.render.tex.reason_tex``), the web page and Jupyter hand it to KaTeX or MathJax.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from derive.model.steps import LayerRef, Reason, ReasonKind as R
from derive.notation.letters import PRESETS, Notation
from derive.notation.printing import latex, text


@dataclass(frozen=True)
class Piece:
    """Words (``tex`` None), or math: ``text`` its one line of Unicode text, ``tex`` its LaTeX."""

    text: str
    tex: str | None = None

    @property
    def is_math(self) -> bool:
        return self.tex is not None


@dataclass(frozen=True)
class Worded:
    """A reason worded in one notation: words and math, in order."""

    pieces: tuple[Piece, ...]

    @property
    def text(self) -> str:
        """One line of Unicode text (the terminal's, the JSON's)."""
        return "".join(piece.text for piece in self.pieces)

    def __str__(self) -> str:
        return self.text

    @classmethod
    def plain(cls, sentence: str) -> "Worded":
        """A sentence of words only (a worked example's line, a sentence given as text)."""
        return cls((Piece(sentence),) if sentence else ())


def worded(value: "Worded | str") -> Worded:
    """``value`` as a worded reason: a plain string is words only."""
    return value if isinstance(value, Worded) else Worded.plain(str(value))


def _descent(r: Reason) -> str:
    which = (
        "the {weights} weights (layer {layer})"
        if r["weights"]
        else "the weights into hidden layer {layer}"
    )
    return f"Gradient descent: {which} move against the gradient, scaled by the learning rate."


def _average(r: Reason) -> str:
    tail = (
        "; L2 regularisation adds a penalty on the sum of every squared weight (biases are not regularised)."
        if r["regularised"]
        else "."
    )
    return (
        "Over {samples} samples the cost is the average of the single-sample costs ({cost} above is one of them)"
        + tail
    )


def _items(r: Reason, key: str) -> tuple:
    """A reason's parameter that is a list (formulas, values, kinks)."""
    value = r[key]
    assert isinstance(value, tuple), f"the reason's {key} is a tuple"
    return value


def _chain(r: Reason) -> str:
    return ", times the derivative of the inside (chain rule)" if r["chain"] else ""


def _functions(r: Reason) -> str:
    plural = "s" if len(_items(r, "formulas")) > 1 else ""
    return f"Derivative of the {{family}} function{plural}: {{formulas:,}}{_chain(r)}."


def _kink(r: Reason) -> str:
    head = "There is no derivative at {kinks:and}, where the definition switches; we use the left slope there, "
    if r.get("slopes") is not None:
        return head + "{slopes:,}."
    return (
        head
        + ", ".join(f"{{values[{n}]}} at {{kinks[{n}]}}" for n in range(len(_items(r, "values"))))
        + "."
    )


WORDING: dict[R, str | Callable[[Reason], str]] = {
    R.SENTENCE: "{text}",
    # The forward equations and the cost
    R.WEIGHTED_INPUT: "Weighted input of node {node} in layer {layer}.",
    R.ACTIVATION_OF_NODE: "Activation of node {node} in layer {layer}.",
    R.SINGLE_SAMPLE_COST: "The single-sample cost: {cost}.",
    R.START_FROM_COST: "Start from the cost.",
    R.ONLY_TERM_HAS_OUTPUT: "Only the term {term} of the sum contains this output.",
    # Activations
    R.ACTIVATION_DEFINITION: "The {description}.",
    R.START_FROM_DEFINITION: "Start from the definition.",
    R.SIGMOID_AS_POWER: "Write the sigmoid as a power of its denominator.",
    R.TANH_AS_QUOTIENT: "Write tanh as a quotient of exponentials.",
    R.SPLIT_FRACTION: "Split the fraction into two factors.",
    R.SIGMOID_FACTORS: "The first factor is the sigmoid itself and the second is one minus the sigmoid.",
    R.DIVIDE_BY_SQUARED_DENOMINATOR: "Divide both terms by the squared denominator.",
    R.TANH_ITSELF: "The quotient is tanh itself.",
    R.HEAVISIDE: "That is the Heaviside step with {formula}.",
    R.DIVIDE_BY: "Divide numerator and denominator by {factor}.",
    R.IS_SIGMOID: "That is the logistic sigmoid.",
    R.LEFT_SLOPE: "{name} has no derivative at {point}; we use the left slope there, {slope}.",
    R.COMMON_DENOMINATOR: "Bring both terms over a common denominator.",
    # Softmax
    R.SOFTMAX_DEFINITION: "Softmax: each output is its exponential divided by the sum of all of them.",
    R.SOFTMAX_DEPENDS_ON_ALL: "Every output depends on every weighted input of the layer, through the denominator.",
    R.QUOTIENT_RULE: "Quotient rule.",
    R.KRONECKER_NUMERATOR: "The numerator depends on {input} only when {same}: Kronecker's delta, 1 for {same} "
    "and 0 otherwise.",
    R.ONLY_TERM_HAS_INPUT: "Only the term {term} of the sum contains {input}.",
    R.INSERT_BOTH: "Insert both derivatives.",
    R.TAKE_OUT_FACTOR: "Take out the factor of both terms.",
    R.QUOTIENT_IS_OUTPUT: "Each quotient is an output of the softmax.",
    R.SOFTMAX_PATHS: "With softmax the weighted input reaches the cost through every output {output}: add up the "
    "paths.",
    R.COST_BY_OUTPUT: "The derivative of the cost with respect to output {output}.",
    R.SOFTMAX_JACOBIAN: "The softmax's Jacobian.",
    R.OUTPUT_CANCELS: "The output {output} cancels inside the sum.",
    R.KRONECKER_PICKS: "Kronecker's delta keeps only the term {term} of its part of the sum; the rest has a factor "
    "that does not depend on {index}.",
    R.TARGETS_SUM_TO_ONE: "The targets of one sample sum to 1 (a one-hot label): the sum of the {target} is 1.",
    # A layer's weights
    R.WEIGHT_THROUGH_INPUT: "The weight reaches the cost only through this node's weighted input.",
    R.WEIGHT_THROUGH_INPUT_AND_ACTIVATION: "The weight reaches the cost only through this node's weighted input, "
    "then its activation.",
    R.WRITE_OUT_INPUT: "Write out the weighted input.",
    R.ONLY_TERM_HAS_WEIGHT: "Only the term with {term} contains the weight; its coefficient is the input from "
    "node {node}.",
    R.NAME_ERROR: "Name the error of node {node}: every weight into the node shares this factor.",
    R.ERROR_TIMES_ACTIVATION: "The weight gradient is the node's error times the incoming activation.",
    R.ACTIVATION_DERIVATIVE_AT_NODE: "The activation's derivative at this node's weighted input.",
    R.COMBINE_FACTORS: "Combine the three factors.",
    R.WRITTEN_OUT_ERRORS: "Written out: insert every error down to the output layer.",
    R.CLASSIC_FORMS: "Insert the classic form of every activation derivative.",
    R.COST_BY_THIS_OUTPUT: "The derivative of the cost with respect to this output.",
    R.FEEDS_EVERY_NODE: "This activation feeds the weighted input of every node {node} of layer {layer}: add up the "
    "paths.",
    R.WRITE_OUT_DOWNSTREAM_INPUT: "Write out the downstream weighted input.",
    R.ONLY_TERM_HAS_ACTIVATION: "Only the term {term} contains this activation.",
    R.ERROR_DERIVED_ABOVE: "The derivative with respect to a weighted input of layer {layer} is the error of that "
    "node, derived above.",
    R.INPUT_THROUGH_ACTIVATION: "The weighted input reaches the cost through the activation.",
    R.DELTA_RECURSION: "The terms of the sum are the errors of layer {layer}: the delta recursion.",
    R.CLASSIC_WITH_OUTPUT: "The classic form of the derivative, written with the node's own output.",
    R.INTO_OUTPUT_ERROR: "Insert it into the output error.",
    R.DERIVATIVES_CANCEL: "The activation's derivative cancels against the cost's derivative.",
    R.BIAS_THROUGH_INPUT: "The bias reaches the cost only through this node's weighted input.",
    R.BIAS_COEFFICIENT: "The bias enters the weighted input with coefficient 1.",
    R.BIAS_GRADIENT_IS_ERROR: "So the bias gradient is the node's error.",
    R.WRITTEN_OUT: "Written out.",
    # Gradient descent and the cost over samples
    R.DESCENT: _descent,
    R.GRADIENT_IS_ERROR_TIMES_ACTIVATION: "The gradient is the node's error times the incoming activation.",
    R.WRITTEN_OUT_CHANGE: "Written out: the weight change of these connections.",
    R.BIASES_MOVE: "The biases move the same way.",
    R.BIAS_GRADIENT_IS_THE_ERROR: "The bias gradient is the node's error.",
    R.AVERAGE_COST: _average,
    R.SUM_OF_DERIVATIVES_CONSTANTS: "The derivative of a sum is the sum of the derivatives; constant factors stay.",
    R.ONLY_SQUARE_HAS_WEIGHT: "Only the square of this weight contains it: power rule.",
    R.AVERAGE_PLUS_DECAY: "The gradient is the average of the single-sample gradients, plus the weight times a "
    "constant.",
    R.WEIGHT_DECAY: "One step of gradient descent is weight decay: the weight first shrinks by a constant factor, "
    "then moves against the average gradient.",
    R.SUM_OF_DERIVATIVES: "The derivative of a sum is the sum of the derivatives: the gradient is the average of "
    "the single-sample gradients derived above.",
    R.AGAINST_AVERAGE: "One step of gradient descent moves against the average gradient.",
    R.BIAS_AVERAGE: lambda r: (
        "The biases' gradient is the average alone"
        + (": the penalty has no bias in it." if r["regularised"] else ".")
    ),
    # The matrix summary
    R.OUTPUT_ERROR: "Output error: the cost's gradient with respect to the outputs, times the activation's "
    "derivative, element by element.",
    R.OUTPUT_ERROR_JACOBIAN: "Output error: every output depends on every weighted input, so the cost's gradient "
    "goes back through the transposed Jacobian of the softmax.",
    R.ERROR_RECURSION: "Error recursion: the errors of layer {layer} flow back through the transposed weights.",
    R.BIAS_GRADIENT: "Bias gradient: the error itself.",
    R.WEIGHT_GRADIENT: "Weight gradient: error times incoming activation, an outer product.",
    # The rules of the step-by-step differentiator
    R.CONSTANT: "Constant rule: a term without {var} has derivative 0.",
    R.VARIABLE: "The derivative of {var} is 1.",
    R.POWER_CHAIN: "Power rule with the chain rule: {formula}.",
    R.POWER: lambda r: (
        "Power rule: {formula}; {also}." if r.get("also") is not None else "Power rule: {formula}."
    ),
    R.SUM: "Sum rule: differentiate term by term.",
    R.CONSTANT_MULTIPLE: "Constant multiple rule: {formula}.",
    R.PRODUCT_MANY: "Product rule: each factor's derivative times the other factors, added up.",
    R.PRODUCT: "Product rule: {formula}.",
    R.QUOTIENT: "Quotient rule: {formula}.",
    R.EXPONENTIAL_BASE: lambda r: (
        "Exponential rule: {formula}" + (" with {inside}." if r.get("inside") is not None else ".")
    ),
    R.EXPONENTIAL_CHAIN: "Chain rule with the exponential: {formula}.",
    R.EXPONENTIAL: "The exponential is its own derivative: {formula}.",
    R.LOGARITHM_CHAIN: "Chain rule with the logarithm: {formula}.",
    R.LOGARITHM: "The derivative of {function} is {derivative}.",
    R.FUNCTIONS: _functions,
    R.NAMED: lambda r: (
        f"The derivative written with the function itself: {{formulas:;}}{_chain(r)}."
    ),
    R.PIECES: lambda r: (
        "Differentiate each piece away from the kink"
        + ("s" if len(_items(r, "kinks")) > 1 else "")
        + " at {kinks:and}."
        if r.get("kinks")
        else "Differentiate each piece."
    ),
    R.CASES: lambda r: "Write {cases:and} by cases." if r.get("cases") else "Write it by cases.",
    R.REWRITE_POWER: "Write {power} as {exponential}.",
    R.SYMPY: "SymPy's derivative (no step-by-step rule for this function).",
    R.KINK: _kink,
    R.TIDY: "Collect the terms.",
}

_SEPARATORS = {"": ", ", ",": ", ", ";": "; ", "and": " and "}
_FORMAT = string.Formatter()


def _math(expr: sp.Basic, nt: Notation) -> Piece:
    """A formula of a reason: printed by the printers of the steps (an equation's sides one by one in text)."""
    if isinstance(expr, sp.Equality):
        return Piece(f"{text(expr.lhs, nt)} = {text(expr.rhs, nt)}", latex(expr, nt))
    return Piece(text(expr, nt), latex(expr, nt))


def _pieces(value: object, nt: Notation, spec: str) -> list[Piece]:
    """One parameter as pieces: a layer by its name in the notation, SymPy objects as math, a tuple
    joined (``spec``: "," or ";" or "and"), anything else as words."""
    if isinstance(value, LayerRef):
        layer = value.layer
        if isinstance(layer, int) or (isinstance(layer, sp.Basic) and layer.is_Integer):
            return [Piece(nt.layer_name(int(layer)))]
        return [_math(layer, nt)]
    if isinstance(value, sp.Basic):
        return [_math(value, nt)]
    if isinstance(value, tuple):
        out: list[Piece] = []
        for position, item in enumerate(value):
            if position:
                out.append(Piece(_SEPARATORS[spec]))
            out += _pieces(item, nt, spec)
        return out
    return [Piece(str(value))]


def _merged(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Neighbouring words as one piece; empty words dropped."""
    out: list[Piece] = []
    for piece in pieces:
        if not piece.is_math and not piece.text:
            continue
        if out and not piece.is_math and not out[-1].is_math:
            out[-1] = Piece(out[-1].text + piece.text)
        else:
            out.append(piece)
    return tuple(out)


def word(reason: Reason, notation: Notation | None = None) -> Worded:
    """``reason`` in the letters of ``notation`` (the default notation when None)."""
    nt = notation if notation is not None else PRESETS["default"]
    template = WORDING[reason.kind]
    if callable(template):
        template = template(reason)
    params = dict(reason.params)
    pieces: list[Piece] = []
    for literal, field, spec, _ in _FORMAT.parse(template):
        pieces.append(Piece(literal))
        if field is not None:
            value, _ = _FORMAT.get_field(field, (), params)
            pieces += _pieces(value, nt, spec or "")
    return Worded(_merged(pieces))


def reason_text(reason: Reason, notation: Notation | None = None) -> str:
    """``reason`` worded as one line of Unicode text."""
    return word(reason, notation).text
