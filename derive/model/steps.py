"""Derivation steps as plain data: what is claimed, by which rule, and why.

A step's reason is data too (``Reason``: a kind and its parameters, the index symbols, layers and
rule formulas it speaks of); ``derive.render.reasons`` words it in a notation's letters.
Renderers (terminal, LaTeX, Jupyter) consume these; nothing here formats text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Iterable, Mapping, NamedTuple, Union

import sympy as sp

from derive.limits import InternalError

if TYPE_CHECKING:
    from derive.notation.letters import Notation


class Rule(Enum):
    """The justification of a step; ``title`` is the human name."""

    DEFINITION = "definition"
    CHAIN_RULE = "chain rule"
    SUM_RULE = "sum rule"
    POWER_RULE = "power rule"
    QUOTIENT_RULE = "quotient rule"
    EXPONENTIAL_RULE = "derivative of the exponential"
    LOGARITHM_RULE = "derivative of the logarithm"
    PIECEWISE_RULE = "derivative of each piece"
    CONVENTION = "convention at the kink"
    ACTIVATION_DERIVATIVE = "derivative of the activation"
    COST_DERIVATIVE = "derivative of the cost"
    SUBSTITUTION = "substitution"
    SIMPLIFICATION = "simplification"
    DIFFERENTIATION = "differentiation"
    CONSTANT_RULE = "constant rule"
    CONSTANT_MULTIPLE_RULE = "constant multiple rule"
    PRODUCT_RULE = "product rule"
    TRIG_RULE = "derivative of a trigonometric function"
    HYPERBOLIC_RULE = "derivative of a hyperbolic function"
    NAMED_FUNCTION_RULE = "derivative of a known function"
    REWRITE = "rewriting"

    @property
    def title(self) -> str:
        return self.value


class Part(Enum):
    """What a block derives."""

    FORWARD = "forward"
    COST = "cost"
    ACTIVATION = "activation"
    LAYER = "layer"
    SUMMARY = "summary"
    UPDATE = "update"
    AVERAGE = "average"


@dataclass(frozen=True)
class BlockKey:
    """Names a block: a part, with the layer (``Part.LAYER``) or the activation's name (``Part.ACTIVATION``).

    Printed as "layer:2", "activation:tanh", "cost" (the JSON output and LaTeX labels use that form).
    """

    part: Part
    detail: int | str | None = None

    def __str__(self) -> str:
        return self.part.value if self.detail is None else f"{self.part.value}:{self.detail}"

    @classmethod
    def layer(cls, layer: int) -> "BlockKey":
        return cls(Part.LAYER, layer)

    @classmethod
    def activation(cls, name: str) -> "BlockKey":
        return cls(Part.ACTIVATION, name)

    @classmethod
    def parse(cls, text: str) -> "BlockKey":
        """The key printed as ``text`` (``Derivation.block("layer:2")``); KeyError when there is none."""
        part, colon, detail = str(text).partition(":")
        try:
            kind = Part(part)
        except ValueError:
            raise KeyError(f"no block {text!r}") from None
        if (
            kind is Part.LAYER
            and detail.isascii()
            and detail.isdigit()
            and str(int(detail)) == detail
        ):
            key = cls(kind, int(detail))
        elif kind is Part.ACTIVATION and detail:
            key = cls(kind, detail)
        elif kind not in (Part.LAYER, Part.ACTIVATION) and not colon:
            key = cls(kind)
        else:
            raise KeyError(f"no block {text!r}")
        return key


FORWARD, COST, SUMMARY = BlockKey(Part.FORWARD), BlockKey(Part.COST), BlockKey(Part.SUMMARY)
UPDATE = BlockKey(Part.UPDATE)
AVERAGE = BlockKey(Part.AVERAGE)  # the cost over n samples, its gradient and, with L2, weight decay


class Result(Enum):
    """The named results a block offers to other blocks and to the numeric code."""

    DC_DA = "dC_da"  # dC_0/da_j: from the cost at L, sum over the errors of layer l + 1 below it
    CLASSIC = "classic"  # an activation's derivative in its classic form
    DELTA_RECURSIVE = (
        "delta_recursive"  # delta_j^(l) through delta^(l+1) (the cost's derivative at L)
    )
    WEIGHT_FROM_DELTA = "weight_from_delta"  # delta_j^(l) a_k^(l-1)
    DELTA_CLASSIC = (
        "delta_classic"  # delta_j^(L), classic derivative, simplified (output layer only)
    )


class Equation(Enum):
    """The four backpropagation equations of the matrix summary, numbered as Nielsen numbers them
    (BP1..BP4); a notation may label them (``Notation.summary_labels``)."""

    OUTPUT_ERROR = 1
    ERROR_RECURSION = 2
    BIAS_GRADIENT = 3
    WEIGHT_GRADIENT = 4


class ReasonKind(Enum):
    """What a step's reason says. ``derive.render.reasons`` words each kind; the comment names the
    parameters a kind takes (index symbols and formulas as SymPy objects, layers as ``LayerRef``)."""

    SENTENCE = (
        "sentence"  # text: a sentence given as it is (a user's, a test's, a worked example's)
    )
    # The forward equations and the cost
    WEIGHTED_INPUT = "weighted input"  # node, layer
    ACTIVATION_OF_NODE = "activation of node"  # node, layer
    SINGLE_SAMPLE_COST = "single-sample cost"  # cost: the cost's title
    START_FROM_COST = "start from the cost"
    ONLY_TERM_HAS_OUTPUT = "only term has output"  # term: Eq(bound index, node)
    # Activations
    ACTIVATION_DEFINITION = "activation definition"  # description
    START_FROM_DEFINITION = "start from the definition"
    SIGMOID_AS_POWER = "sigmoid as power"
    TANH_AS_QUOTIENT = "tanh as quotient"
    SPLIT_FRACTION = "split fraction"
    SIGMOID_FACTORS = "sigmoid factors"
    DIVIDE_BY_SQUARED_DENOMINATOR = "divide by squared denominator"
    TANH_ITSELF = "tanh itself"
    HEAVISIDE = "heaviside"  # formula: H(0) = 0
    DIVIDE_BY = "divide by"  # factor
    IS_SIGMOID = "is the sigmoid"
    LEFT_SLOPE = "left slope"  # name, point, slope: f'(point) = value
    COMMON_DENOMINATOR = "common denominator"
    # Softmax
    SOFTMAX_DEFINITION = "softmax definition"
    SOFTMAX_DEPENDS_ON_ALL = "softmax depends on all"
    QUOTIENT_RULE = "quotient rule"
    KRONECKER_NUMERATOR = (
        "kronecker numerator"  # input, output, node: z_node; the output index i, node j
    )
    ONLY_TERM_HAS_INPUT = "only term has input"  # term: Eq(bound, node), input: z_node
    INSERT_BOTH = "insert both derivatives"
    TAKE_OUT_FACTOR = "take out factor"
    QUOTIENT_IS_OUTPUT = "quotient is output"
    SOFTMAX_PATHS = "softmax paths"  # output: a_i
    COST_BY_OUTPUT = "cost by output"  # output: the index i
    SOFTMAX_JACOBIAN = "softmax jacobian"
    OUTPUT_CANCELS = "output cancels"  # output: a_i
    KRONECKER_PICKS = "kronecker picks"  # term: Eq(i, node), index: i
    TARGETS_SUM_TO_ONE = "targets sum to one"  # target: y_i
    # A layer's weights
    WEIGHT_THROUGH_INPUT = "weight through input"
    WEIGHT_THROUGH_INPUT_AND_ACTIVATION = "weight through input and activation"
    WRITE_OUT_INPUT = "write out input"
    ONLY_TERM_HAS_WEIGHT = "only term has weight"  # term: Eq(k', k), node: k
    NAME_ERROR = "name the error"  # node
    ERROR_TIMES_ACTIVATION = "error times activation"
    ACTIVATION_DERIVATIVE_AT_NODE = "activation derivative at node"
    COMBINE_FACTORS = "combine factors"
    WRITTEN_OUT_ERRORS = "written out errors"
    CLASSIC_FORMS = "classic forms"
    COST_BY_THIS_OUTPUT = "cost by this output"
    FEEDS_EVERY_NODE = "feeds every node"  # node: i, layer
    WRITE_OUT_DOWNSTREAM_INPUT = "write out downstream input"
    ONLY_TERM_HAS_ACTIVATION = "only term has activation"  # term: Eq(k', j)
    ERROR_DERIVED_ABOVE = "error derived above"  # layer
    INPUT_THROUGH_ACTIVATION = "input through activation"
    DELTA_RECURSION = "delta recursion"  # layer
    CLASSIC_WITH_OUTPUT = "classic with output"
    INTO_OUTPUT_ERROR = "into output error"
    DERIVATIVES_CANCEL = "derivatives cancel"
    BIAS_THROUGH_INPUT = "bias through input"
    BIAS_COEFFICIENT = "bias coefficient"
    BIAS_GRADIENT_IS_ERROR = "bias gradient is error"
    WRITTEN_OUT = "written out"
    # Gradient descent and the cost over samples
    DESCENT = "descent"  # weights: "hidden-to-output", "input-to-hidden", "input-to-output" or "" (hidden), layer
    GRADIENT_IS_ERROR_TIMES_ACTIVATION = "gradient is error times activation"
    WRITTEN_OUT_CHANGE = "written out change"
    BIASES_MOVE = "biases move"
    BIAS_GRADIENT_IS_THE_ERROR = "the bias gradient is the error"
    AVERAGE_COST = "average cost"  # samples: n, cost: C_0, regularised: bool
    SUM_OF_DERIVATIVES_CONSTANTS = "sum of derivatives, constants stay"
    ONLY_SQUARE_HAS_WEIGHT = "only square has weight"
    AVERAGE_PLUS_DECAY = "average plus decay"
    WEIGHT_DECAY = "weight decay"
    SUM_OF_DERIVATIVES = "sum of derivatives"
    AGAINST_AVERAGE = "against average"
    BIAS_AVERAGE = "bias average"  # regularised: bool
    # The matrix summary
    OUTPUT_ERROR = "output error"
    OUTPUT_ERROR_JACOBIAN = "output error jacobian"
    ERROR_RECURSION = "error recursion"  # layer: l + 1
    BIAS_GRADIENT = "bias gradient"
    WEIGHT_GRADIENT = "weight gradient"
    # The rules of the step-by-step differentiator (derive.model.differentiate)
    CONSTANT = "constant"  # var
    VARIABLE = "variable"  # var
    POWER_CHAIN = "power chain"  # formula
    POWER = "power"  # formula, also: var' = 1 (optional)
    SUM = "sum"
    CONSTANT_MULTIPLE = "constant multiple"  # formula
    PRODUCT_MANY = "product of many"
    PRODUCT = "product"  # formula
    QUOTIENT = "quotient"  # formula
    EXPONENTIAL_BASE = (
        "exponential base"  # formula, inside: Eq(u, var) (optional: not with the chain rule)
    )
    EXPONENTIAL_CHAIN = "exponential chain"  # formula
    EXPONENTIAL = "exponential"  # formula
    LOGARITHM_CHAIN = "logarithm chain"  # formula
    LOGARITHM = "logarithm"  # function: ln var, derivative: 1/var
    FUNCTIONS = "functions"  # family: "trigonometric" or "hyperbolic", formulas, chain: bool
    NAMED = "named"  # formulas: f' written with f, chain: bool
    PIECES = "pieces"  # kinks: Eq(var, point), ... (may be empty)
    CASES = "cases"  # cases: |u|, max(u, v), ... (may be empty)
    REWRITE_POWER = "rewrite power"  # power: u^v, exponential: e^(v ln u)
    SYMPY = "sympy"
    KINK = "kink"  # kinks: Eq(var, point), ...; slopes: f'(point) = value, ... (named) or values, at (unnamed)
    TIDY = "tidy"


@dataclass(frozen=True)
class LayerRef:
    """A layer a reason names: a number, named by the notation when worded (2, or L-1 counted from
    the output), or a symbolic layer (l + 1) written as math."""

    layer: int | sp.Expr


ReasonValue = Union[sp.Basic, LayerRef, str, int, bool, tuple]


@dataclass(frozen=True)
class Reason:
    """Why a step holds, as data: a kind and its parameters (``derive.render.reasons`` words it)."""

    kind: ReasonKind
    params: tuple[tuple[str, ReasonValue], ...] = ()

    def __getitem__(self, name: str) -> ReasonValue:
        return dict(self.params)[name]

    def get(self, name: str, default: ReasonValue | None = None) -> ReasonValue | None:
        return dict(self.params).get(name, default)

    def expressions(self) -> tuple[sp.Basic, ...]:
        """Every SymPy object among the parameters (inside tuples and layers too)."""
        found: list[sp.Basic] = []

        def visit(value: object) -> None:
            if isinstance(value, sp.Basic):
                found.append(value)
            elif isinstance(value, LayerRef):
                visit(value.layer)
            elif isinstance(value, tuple):
                for item in value:
                    visit(item)

        for _, value in self.params:
            visit(value)
        return tuple(found)

    def instantiated(self, mapping: dict) -> "Reason":
        """The reason with placeholders replaced, as ``instantiate`` replaces them in a formula (the
        cost's a and y become a_j^{(L)} and y_j in its step and in its reason alike)."""

        def swap(value: ReasonValue) -> ReasonValue:
            if isinstance(value, sp.Basic):
                return instantiate(value, mapping)
            if isinstance(value, tuple):
                return tuple(swap(item) for item in value)
            return value

        return Reason(self.kind, tuple((name, swap(value)) for name, value in self.params))


def because(kind: ReasonKind, **params: ReasonValue) -> Reason:
    """``Reason(kind, params)`` with the parameters given by name."""
    return Reason(kind, tuple(params.items()))


def as_reason(value: Reason | str) -> Reason:
    """``value`` as a reason: a plain sentence (a user's, a test's) is a ``ReasonKind.SENTENCE``."""
    return value if isinstance(value, Reason) else because(ReasonKind.SENTENCE, text=str(value))


@dataclass(frozen=True, eq=False)
class Origin:
    """Where a block or step was derived: the derivation's notation and its blocks' titles (for the
    references). A derivation gives it to its blocks and steps, so that one taken out of it still
    displays in its notation; it takes no part in their equality, hash or repr."""

    notation: "Notation"
    titles: Mapping[BlockKey, str]


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs = rhs`` justified by ``rule``, for ``reason``.

    ``refs`` names the blocks (sub-derivations) whose results this step uses; ``equation`` says which
    backpropagation equation a step of the matrix summary states. A plain string given as the reason
    is kept as a ``ReasonKind.SENTENCE``.
    """

    lhs: sp.Expr
    rhs: sp.Expr
    rule: Rule
    reason: Reason
    refs: tuple[BlockKey, ...] = ()
    equation: Equation | None = None
    origin: Origin | None = field(default=None, compare=False, hash=False, repr=False, kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", as_reason(self.reason))
        problem = index_scope_problem(self.lhs, self.rhs)
        if problem is not None:
            raise InternalError(f"a step broke an index's scope ({self.text!r}): {problem}")

    def tag(self, notation: "Notation") -> str | None:
        """The label this step carries in ``notation`` (BP1 in Nielsen's), or None."""
        return notation.summary_label(self.equation.value) if self.equation is not None else None

    @property
    def claim(self) -> sp.Eq:
        return sp.Eq(self.lhs, self.rhs, evaluate=False)

    @property
    def text(self) -> str:
        """The reason worded as one line of text, in the notation this step was derived in (the
        default notation for a step made on its own)."""
        from derive.render.reasons import reason_text  # seam: the wording lives in the render layer

        return reason_text(self.reason, self.origin.notation if self.origin is not None else None)

    def _repr_markdown_(self) -> str:
        from derive.render.display import notation_of, step_markdown  # seam: display hook

        return step_markdown(self, notation_of(self))

    def _repr_latex_(self) -> str:
        from derive.render.display import notation_of, step_latex  # seam: display hook

        return step_latex(self, notation_of(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        from derive.render.display import notation_of, step_text  # seam: display hook

        p.text(step_text(self, notation_of(self)))


class NamedResult(NamedTuple):
    """One result a block offers: its name and its formula."""

    name: Result
    value: sp.Expr


@dataclass(frozen=True)
class Block:
    """A titled sub-derivation with named results other blocks may reference.

    ``results`` may be given as (name, value) pairs; they are kept as ``NamedResult``s. ``origin`` (set
    by the derivation, see ``with_origin``) says which notation the block displays in."""

    key: BlockKey
    title: str
    steps: tuple[Step, ...]
    results: tuple[NamedResult, ...] = ()
    origin: Origin | None = field(default=None, compare=False, hash=False, repr=False, kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(NamedResult(*pair) for pair in self.results))

    @property
    def refs(self) -> tuple[BlockKey, ...]:
        seen: dict[BlockKey, None] = {}
        for step in self.steps:
            for ref in step.refs:
                if ref != self.key:
                    seen.setdefault(ref)
        return tuple(seen)

    def _repr_markdown_(self) -> str:
        from derive.render.display import block_markdown, notation_of  # seam: display hook

        return block_markdown(self, notation_of(self))

    def _repr_latex_(self) -> str:
        from derive.render.display import block_latex, notation_of  # seam: display hook

        return block_latex(self, notation_of(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        from derive.render.display import block_text, notation_of  # seam: display hook

        p.text(block_text(self, notation_of(self)))

    def result(self, name: Result) -> sp.Expr:
        for found in self.results:
            if found.name is name:
                return found.value
        raise KeyError(f"block {str(self.key)!r} has no result {getattr(name, 'value', name)!r}")


def with_origin(blocks: Iterable[Block], notation: "Notation") -> tuple[Block, ...]:
    """``blocks`` and their steps given one ``Origin``: ``notation`` and the blocks' titles.

    Copies (``replace``), not the objects given: the steps stay plain data, equal to the ones given."""
    blocks = tuple(blocks)
    origin = Origin(notation, {b.key: b.title for b in blocks})
    return tuple(
        replace(b, steps=tuple(replace(s, origin=origin) for s in b.steps), origin=origin)
        for b in blocks
    )


# The structural invariant every step keeps --------------------------------------------------
def _bound_indices(expr: sp.Basic) -> set[sp.Symbol]:
    return {limit[0] for total in expr.atoms(sp.Sum) for limit in total.limits}


def _index_symbols(expr: sp.Basic) -> set[sp.Symbol]:
    """The symbols used as indices: of an indexed quantity, or of Kronecker's delta."""
    found: set[sp.Symbol] = set()
    for atom in expr.atoms(sp.Indexed, sp.KroneckerDelta):
        for index in atom.indices if isinstance(atom, sp.Indexed) else atom.args:
            found |= index.free_symbols
    return found


def _free(expr: sp.Basic) -> set[sp.Symbol]:
    """The symbols of ``expr`` not bound by a sum in it (a derivative's variable counts as free: the
    index j of d/da_j is the node the claim is about)."""
    if isinstance(expr, sp.Symbol):
        return {expr}
    if isinstance(expr, sp.Sum):
        free = _free(expr.function)
        for var, *bounds in expr.limits:  # innermost first: a limit may use an outer index
            free = (free - {var}).union(*(_free(bound) for bound in bounds))
        return free
    return set().union(*(_free(arg) for arg in expr.args)) if expr.args else set()


def index_scope_problem(lhs: sp.Basic, rhs: sp.Basic) -> str | None:
    """What is wrong with the indices of ``lhs = rhs``, or None.

    A summation index bound in the step is never free in it (it would be used outside the sum that
    binds it, as when a condition a_p > 0 is pulled out of the sum over p), and the right-hand side
    has no free index that the left-hand side does not have.
    """
    free_lhs, free_rhs = _free(lhs), _free(rhs)
    leaked = (free_lhs | free_rhs) & (_bound_indices(lhs) | _bound_indices(rhs))
    if leaked:
        return f"{', '.join(sorted(map(str, leaked)))} used outside the sum that binds it"
    extra = (free_rhs & _index_symbols(rhs)) - free_lhs
    if extra:
        return f"the right-hand side has the free index {', '.join(sorted(map(str, extra)))} that the left has not"
    return None


def instantiate(expr: sp.Expr, mapping: dict) -> sp.Expr:
    """Replace placeholders while keeping the written form (no re-evaluation, so 2(a - y) stays)."""
    try:
        with sp.evaluate(False):
            return expr.xreplace(mapping)
    except (ArithmeticError, TypeError):  # SymPy cannot build some unevaluated forms (Piecewise)
        return expr.xreplace(mapping)


def product(*factors: sp.Expr) -> sp.Expr:
    """A product kept in the order written (chain-rule order), nested products flattened, 1s dropped.

    Its numbers are multiplied into one coefficient written first, as a textbook writes it: the 2 of
    the quadratic cost and the 1/2 of an activation's derivative cancel, -1 times eta times 2 is -2 eta,
    and no number is left in the middle of a product (SymPy prints such a product as it stands, with
    its -1 and its 1/2: "-1·η·(a - y)·1/2·(...)").
    """
    numbers: list[sp.Expr] = []
    flat: list[sp.Expr] = []
    for factor in map(sp.sympify, factors):
        if factor.is_Number:
            numbers.append(factor)
            continue
        if not isinstance(factor, sp.Mul):
            flat.append(factor)
            continue
        rest = [arg for arg in factor.args if not arg.is_Number]
        numbers += [arg for arg in factor.args if arg.is_Number]
        # A division keeps its product whole (x/a stays a fraction). Only numbers are asked: asking
        # SymPy whether a nested sum is negative walks the whole tree, at every level.
        if any(arg.is_Pow and _negative_number(arg.exp) for arg in rest):
            whole = len(rest) == len(factor.args)
            flat.append(
                factor if whole else rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
            )
        else:
            flat.extend(rest)
    flat = [f for f in flat if f != 1]
    with sp.evaluate(
        True
    ):  # the numbers multiplied out even where the caller keeps SymPy from evaluating
        coefficient = sp.Mul(*numbers)
    if coefficient == 0:
        return sp.Integer(0)
    if coefficient != 1:
        flat.insert(0, coefficient)
    if not flat:
        return sp.Integer(1)
    return flat[0] if len(flat) == 1 else sp.Mul(*flat, evaluate=False)


def power(base: sp.Expr, exponent: int) -> sp.Expr:
    """base**exponent kept as written ((1 + e^{-z})^2 stays a square, not expanded or merged)."""
    return sp.Pow(base, exponent, evaluate=False)


def _negative_number(expr: sp.Expr) -> bool:
    return bool(expr.is_Number and expr.is_negative)
