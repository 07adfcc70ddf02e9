"""Activation functions as data: definition, step-by-step derivative, classic form.

Each activation is an undefined SymPy function in the index-form derivation
(so formulas read sigma'(z) rather than a page of exponentials) together with
its explicit definition, which the checks substitute to verify every claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

import sympy as sp

from derive.errors import DeriveError
from derive.model.differentiate import Chain, ChainStep, Differentiation, Known, differentiate
from derive.model.steps import Reason, ReasonKind, Rule, because, instantiate
from derive.notation.formulas import Prime
from derive.model.steps import power, product as _mul

Z = sp.Symbol("z", real=True)
"""The variable of every activation's own derivation."""


STABLE_SIGMOID = '''def _sigmoid(z):
    """σ(z) = 1/(1 + e^(-z)) without overflow: e^(-|z|) <= 1; one exp, full relative accuracy."""
    e = numpy.exp(-numpy.abs(z))
    return numpy.where(z >= 0, 1.0, e) / (1.0 + e)
'''


@dataclass(frozen=True)
class Activation:
    """An activation g, its derivative chain, and g' written with a = g(z)."""

    name: str
    function: sp.FunctionClass
    definition: sp.Lambda
    derivative_chain: Chain
    derivative_in_output: (
        sp.Lambda | None
    )  # None: g' is not written with a = g(z) (user definitions)
    helpers: tuple[tuple[sp.FunctionClass, sp.Lambda], ...] = ()
    convention: str = ""
    kinks: tuple[sp.Expr, ...] = ()
    analytic: bool = True
    description: str = ""
    numpy_forward: str = ""  # stable NumPy code for g({z}); empty: print the definition
    numpy_helpers: tuple[str, ...] = ()  # source of helper functions numpy_forward calls
    logistic_gain: sp.Expr | None = (
        None  # g(z) = σ(gain·z): a cost on (0, 1) can be computed from gain·z
    )
    vector: bool = (
        False  # a_j depends on every z of its layer (softmax): no g'(z_j), a Jacobian instead
    )

    def __call__(self, z: sp.Expr) -> sp.Expr:
        return self.function(z)

    def prime(self, z: sp.Expr) -> sp.Derivative:
        """g'(z) in the form the chain rule writes it."""
        return sp.Derivative(self.function(z), z)

    def classic(self, z: sp.Expr) -> sp.Expr:
        """g'(z) in its classic form, in terms of g(z) itself (e.g. sigma(z)(1 - sigma(z)))."""
        return instantiate(self.derivative_chain[-1].expr, {Z: z})

    def classic_at(self, z: sp.Expr, a: sp.Expr) -> sp.Expr:
        """g' at a node in its classic form: with the output a = g(z) where the activation allows it."""
        return self.classic(z) if self.derivative_in_output is None else self.classic_in_output(a)

    def classic_in_output(self, a: sp.Expr) -> sp.Expr:
        """g'(z) written with the node's output a = g(z) (e.g. a(1 - a))."""
        in_output = self.derivative_in_output
        assert in_output is not None, f"{self.name}' is not written with the output"
        return instantiate(in_output.expr, {in_output.variables[0]: a})

    @property
    def definitions(self) -> dict[sp.FunctionClass, sp.Lambda]:
        """Every function symbol this activation uses, with its explicit definition (a vector
        activation is written out in its layer's forward equation: it has no function symbol).

        A definition written with a helper (SiLU's z sigma(z)) is given with the helper written out."""
        helpers = dict(self.helpers)
        if self.vector:
            return helpers
        explicit = self.definition
        if any(self.definition.expr.has(fn) for fn in helpers):
            body = self.definition.expr
            for fn, lam in helpers.items():
                body = body.replace(fn, lam)
            explicit = sp.Lambda(self.definition.variables, body)
        return {self.function: explicit, **helpers}


SIGMA = sp.Function("sigma")
_SIGMA_DEFINITION = sp.Lambda(Z, 1 / (1 + sp.exp(-Z)))
KNOWN: dict[sp.FunctionClass, Known] = {
    SIGMA: Known(
        sp.Lambda(Z, _mul(SIGMA(Z), 1 - SIGMA(Z)))
    ),  # the reason shows sigma'(z) = sigma(z)(1 - sigma(z))
}
"""Functions a definition may use whose derivatives are written with themselves."""
EXPLICIT: dict[sp.FunctionClass, sp.Lambda] = {SIGMA: _SIGMA_DEFINITION}
"""The same functions written out, for evaluating a definition (an activation's or a cost's) at numbers."""


def derived(definition: sp.Expr, name: str = "", tidy: bool = False) -> Differentiation:
    """The definition differentiated step by step (derive.model.differentiate), sigma kept as sigma."""
    return differentiate(definition, Z, KNOWN, name=name, tidy=tidy)


def _chain(
    definition: sp.Expr,
    start: Reason = because(ReasonKind.START_FROM_DEFINITION),
    name: str = "",
    left_slope: bool = False,
) -> Chain:
    """d/dz of the definition, then the differentiator's stages; ``left_slope``: the kink step (one
    kink) says "ReLU has no derivative at 0; we use the left slope there, ReLU'(0) = 0"."""
    done = derived(definition, name)
    stages = done.steps
    if left_slope:
        ((point, slope),) = done.at_kinks
        said = because(
            ReasonKind.LEFT_SLOPE,
            name=name,
            point=point,
            slope=sp.Eq(Prime(sp.Function(name)(Z), point), slope, evaluate=False),
        )
        stages = tuple(
            replace(stage, reason=said) if stage.rule is Rule.CONVENTION else stage
            for stage in stages
        )
    return (ChainStep(sp.Derivative(definition, Z), Rule.DEFINITION, start),) + stages


def sigmoid(gain: sp.Expr = sp.Integer(1)) -> Activation:
    """Logistic sigmoid 1/(1 + e^{-alpha z}); alpha = 1 is the standard sigma."""
    gain = sp.sympify(gain)
    fn = SIGMA if gain == 1 else sp.Function(f"sigma_{gain}")
    e = sp.exp(-gain * Z)
    d = 1 + e
    classic = _mul(gain, fn(Z), 1 - fn(Z)) if gain != 1 else _mul(fn(Z), 1 - fn(Z))
    chain = _chain(1 / d, because(ReasonKind.SIGMOID_AS_POWER)) + (
        ChainStep(
            sp.Mul(
                *([gain] if gain != 1 else []),
                sp.UnevaluatedExpr(1 / d),
                sp.UnevaluatedExpr(e / d),
                evaluate=False,
            ),
            Rule.SIMPLIFICATION,
            because(ReasonKind.SPLIT_FRACTION),
        ),
        ChainStep(classic, Rule.SUBSTITUTION, because(ReasonKind.SIGMOID_FACTORS)),
    )
    return Activation(
        name="sigmoid" if gain == 1 else f"sigmoid(gain={gain})",
        function=fn,
        definition=sp.Lambda(Z, 1 / d),
        derivative_chain=chain,
        derivative_in_output=sp.Lambda(Z, _mul(Z, 1 - Z) if gain == 1 else _mul(gain, Z, 1 - Z)),
        description="logistic sigmoid" + ("" if gain == 1 else f" with gain {gain}"),
        numpy_forward="_sigmoid({z})" if gain == 1 else f"_sigmoid(({gain}) * {{z}})",
        numpy_helpers=(STABLE_SIGMOID,),
        logistic_gain=gain,
    )


def tanh() -> Activation:
    """Hyperbolic tangent (e^z - e^{-z})/(e^z + e^{-z})."""
    fn = sp.Function("tanh")
    p, q = sp.exp(Z) - sp.exp(-Z), sp.exp(Z) + sp.exp(-Z)
    chain = _chain(p / q, because(ReasonKind.TANH_AS_QUOTIENT)) + (
        ChainStep(
            1 - power(p / q, 2),
            Rule.SIMPLIFICATION,
            because(ReasonKind.DIVIDE_BY_SQUARED_DENOMINATOR),
        ),
        ChainStep(1 - fn(Z) ** 2, Rule.SUBSTITUTION, because(ReasonKind.TANH_ITSELF)),
    )
    return Activation(
        name="tanh",
        function=fn,
        definition=sp.Lambda(Z, p / q),
        derivative_chain=chain,
        derivative_in_output=sp.Lambda(Z, 1 - Z**2),
        description="hyperbolic tangent",
        numpy_forward="numpy.tanh({z})",
    )


def relu() -> Activation:
    """Rectified linear unit max(0, z), with ReLU'(0) = 0 by convention."""
    fn = sp.Function("ReLU")
    definition = sp.Piecewise((Z, Z > 0), (0, True))
    chain = _chain(definition, name="ReLU", left_slope=True) + (
        ChainStep(
            sp.Heaviside(Z, 0),
            Rule.DEFINITION,
            because(
                ReasonKind.HEAVISIDE,
                formula=sp.Eq(sp.Heaviside(0, 0, evaluate=False), 0, evaluate=False),
            ),
        ),
    )
    return Activation(
        name="relu",
        function=fn,
        definition=sp.Lambda(Z, definition),
        derivative_chain=chain,
        derivative_in_output=sp.Lambda(Z, sp.Heaviside(Z, 0)),
        convention="ReLU'(0) = 0",
        kinks=derived(definition).kinks,
        analytic=False,
        description="rectified linear unit",
        numpy_forward="numpy.maximum({z}, 0.0)",
    )


def leaky_relu(slope: sp.Expr = sp.Rational(1, 100)) -> Activation:
    """Leaky ReLU: z for z > 0, slope * z otherwise; the left slope is used at 0."""
    slope = sp.sympify(slope)
    fn = sp.Function("LeakyReLU" if slope == sp.Rational(1, 100) else f"LeakyReLU_{slope}")
    definition = sp.Piecewise((Z, Z > 0), (slope * Z, True))
    chain = _chain(definition, name="LeakyReLU", left_slope=True)
    return Activation(
        name="leaky-relu" if slope == sp.Rational(1, 100) else f"leaky-relu(slope={slope})",
        function=fn,
        definition=sp.Lambda(Z, definition),
        derivative_chain=chain,
        derivative_in_output=sp.Lambda(Z, sp.Piecewise((1, Z > 0), (slope, True))),
        convention=f"LeakyReLU'(0) = {slope}",
        kinks=derived(definition).kinks,
        analytic=False,
        description=f"leaky ReLU with slope {slope} for negative inputs",
        numpy_forward=f"numpy.where({{z}} > 0, {{z}}, ({slope}) * {{z}})",
    )


def softplus() -> Activation:
    """Softplus ln(1 + e^z), whose derivative is the sigmoid."""
    fn = sp.Function("softplus")
    inner = 1 + sp.exp(Z)
    chain = _chain(sp.log(inner)) + (
        ChainStep(
            1 / (1 + sp.exp(-Z)),
            Rule.SIMPLIFICATION,
            because(ReasonKind.DIVIDE_BY, factor=sp.exp(Z)),
        ),
        ChainStep(SIGMA(Z), Rule.SUBSTITUTION, because(ReasonKind.IS_SIGMOID)),
    )
    return Activation(
        name="softplus",
        function=fn,
        definition=sp.Lambda(Z, sp.log(inner)),
        derivative_chain=chain,
        derivative_in_output=sp.Lambda(Z, 1 - sp.exp(-Z)),
        helpers=((SIGMA, _SIGMA_DEFINITION),),
        description="softplus",
        numpy_forward="numpy.logaddexp(0.0, {z})",
    )


def identity() -> Activation:
    """The identity g(z) = z (a linear output)."""
    fn = sp.Function("id")
    chain = _chain(Z)
    return Activation(
        name="identity",
        function=fn,
        definition=sp.Lambda(Z, Z),
        derivative_chain=chain,
        derivative_in_output=sp.Lambda(Z, sp.Integer(1)),
        description="identity",
        numpy_forward="{z}",
    )


def elu(alpha: sp.Expr = sp.Integer(1)) -> Activation:
    """Exponential linear unit: z for z > 0, alpha(e^z - 1) otherwise; the left slope, alpha, is used at 0."""
    alpha = sp.sympify(alpha)
    if not alpha.is_positive:
        raise DeriveError(f"ELU's alpha must be positive, got {alpha}")
    fn = sp.Function("ELU" if alpha == 1 else f"ELU_{alpha}")
    definition = sp.Piecewise((Z, Z > 0), (_mul(alpha, sp.exp(Z) - 1), True))
    chain = _chain(definition, name="ELU", left_slope=True)
    return Activation(
        name="elu" if alpha == 1 else f"elu(alpha={alpha})",
        function=fn,
        definition=sp.Lambda(Z, definition),
        derivative_chain=chain,
        # for z <= 0, a = alpha(e^z - 1) <= 0 and g' = alpha e^z = a + alpha; for z > 0, a > 0 and g' = 1
        derivative_in_output=sp.Lambda(Z, sp.Piecewise((1, Z > 0), (Z + alpha, True))),
        convention=f"ELU'(0) = {alpha}",
        kinks=derived(definition).kinks,
        analytic=False,
        description="exponential linear unit" + ("" if alpha == 1 else f" with alpha {alpha}"),
        numpy_forward=f"numpy.where({{z}} > 0, {{z}}, ({alpha}) * numpy.expm1(numpy.minimum({{z}}, 0.0)))",
    )


def silu() -> Activation:
    """SiLU (swish) z sigma(z): its derivative sigma(z) + z sigma(z)(1 - sigma(z)) keeps sigma."""
    fn = sp.Function("SiLU")
    definition = Z * SIGMA(Z)
    return Activation(
        name="silu",
        function=fn,
        definition=sp.Lambda(Z, definition),
        derivative_chain=_chain(definition),
        derivative_in_output=None,
        helpers=((SIGMA, _SIGMA_DEFINITION),),
        description="SiLU (swish)",
        numpy_forward="{z} * _sigmoid({z})",
        numpy_helpers=(STABLE_SIGMOID,),
    )


GELU_CUBIC = sp.Float("0.044715", 60)
"""The cubic coefficient of GELU's tanh approximation (Hendrycks and Gimpel), to 60 digits: the
decimal 0.044715 itself at the judge's precision (a 53-bit float differs from it in the 18th digit,
and the reader reads 0.044715 exactly)."""


def gelu() -> Activation:
    """GELU in its tanh approximation: z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))."""
    fn = sp.Function("GELU")
    definition = Z / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (Z + GELU_CUBIC * Z**3)))
    return Activation(
        name="gelu",
        function=fn,
        definition=sp.Lambda(Z, definition),
        derivative_chain=_chain(definition),
        derivative_in_output=None,
        description="GELU (tanh approximation)",
        numpy_forward="0.5 * {z} * (1.0 + numpy.tanh(0.7978845608028654 * ({z} + 0.044715 * {z} * {z} * {z})))",
    )


STABLE_SOFTMAX = '''def _softmax(Z):
    """e^(z_j) / sum_p e^(z_p) for each row, shifted by the row's largest z: no overflow, and the
    shift is real, so complex inputs (the complex-step check) stay analytic."""
    E = numpy.exp(Z - Z.real.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
'''


def softmax() -> Activation:
    """Softmax a_j = e^{z_j} / sum_p e^{z_p}: every output of the layer depends on every z of it.

    Its forward equation and Jacobian da_i/dz_j = a_i(delta_ij - a_j) are derived by the engine in
    the layer's own indices; ``definition`` is the numerator only (used for nothing but its parameters).
    """
    return Activation(
        name="softmax",
        function=sp.Function("softmax"),
        definition=sp.Lambda(Z, sp.exp(Z)),
        derivative_chain=(),
        derivative_in_output=None,
        description="softmax",
        numpy_forward="_softmax({z})",
        numpy_helpers=(STABLE_SOFTMAX,),
        vector=True,
    )


_NON_ANALYTIC = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.Heaviside, sp.sign)


def defined_activation(name: str, rhs: sp.Expr) -> Activation:
    """An activation g(z) = rhs given by a user (in LaTeX): derived step by step, checked like any other.

    sigma stays sigma (a helper with its definition, for the checks and the generated code); the
    kinks are located from the definition, and the left slope is used at each.
    """
    fn = sp.Function(name)
    done = derived(rhs, name, tidy=True)
    chain = (
        ChainStep(
            sp.Derivative(rhs, Z), Rule.DEFINITION, because(ReasonKind.START_FROM_DEFINITION)
        ),
    ) + done.steps
    uses_sigma = rhs.has(SIGMA)
    analytic = not rhs.has(*_NON_ANALYTIC)
    return Activation(
        name=name,
        function=fn,
        definition=sp.Lambda(Z, rhs),
        derivative_chain=chain,
        derivative_in_output=None,
        analytic=analytic,
        kinks=done.kinks,
        helpers=((SIGMA, _SIGMA_DEFINITION),) if uses_sigma else (),
        numpy_helpers=(STABLE_SIGMOID,) if uses_sigma else (),
        description=f"activation {name} defined by the user",
        convention="; ".join(f"{name}'({k}) = {sp.sstr(v)}" for k, v in done.at_kinks),
    )


_BUILDERS: dict[str, tuple[Callable[..., Activation], str | None]] = {
    "sigmoid": (sigmoid, "gain"),
    "tanh": (tanh, None),
    "relu": (relu, None),
    "leaky-relu": (leaky_relu, "slope"),
    "softplus": (softplus, None),
    "identity": (identity, None),
    "elu": (elu, "alpha"),
    "silu": (silu, None),
    "gelu": (gelu, None),
}
_OUTPUT_BUILDERS: dict[str, Callable[[], Activation]] = {
    "softmax": softmax
}  # vector: the output layer only
ALIASES = {
    "logistic": "sigmoid",
    "linear": "identity",
    "leaky_relu": "leaky-relu",
    "leakyrelu": "leaky-relu",
    "swish": "silu",
}
NAMES = tuple(_BUILDERS)  # element-wise: any layer
OUTPUT_NAMES = tuple(_OUTPUT_BUILDERS)  # a vector activation, for the output layer

_SPEC = re.compile(r"^\s*([A-Za-z_-]+)\s*(?:\(\s*([A-Za-z_]+)\s*=\s*([^()]{1,40})\s*\))?\s*$")
_DEFINITION = re.compile(r"^\s*[A-Za-z]\s*\(\s*z\s*\)\s*=")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(/\d+)?$")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,20}$")


def _parameter(text: str) -> sp.Expr:
    """A parameter value: a decimal or fraction (exact), or a symbol name. Never sympified."""
    text = text.strip()
    if _NUMBER.match(text):
        if re.search(r"/0+$", text):
            raise DeriveError(f"activation parameter {text!r} divides by zero")
        return sp.Rational(text)
    if text.lower() in ("nan", "inf", "infinity", "oo", "zoo"):
        raise DeriveError(f"activation parameter must be a finite number or a name, got {text!r}")
    if _IDENT.match(text):
        return sp.Symbol(text, positive=True)
    raise DeriveError(f"activation parameter must be a number or a name, got {text!r}")


def activation_named(spec: str | Activation) -> Activation:
    """Resolve 'sigmoid', 'sigmoid(gain=2)', 'leaky-relu(slope=1/10)', ... to an Activation."""
    if isinstance(spec, Activation):
        return spec
    from derive.errors import closest_hint

    match = _SPEC.match(str(spec))
    if not match and _DEFINITION.match(str(spec)):  # a definition in LaTeX, g(z) = ...
        from derive.model.definitions import (
            read_activation,
        )  # the reader slot, filled by the read layer

        return read_activation(str(spec))
    if not match:
        raise DeriveError(
            f"cannot read activation {spec!r}; write a name such as 'sigmoid' or 'sigmoid(gain=2)', "
            "or a definition such as 'g(z) = \\frac{z}{1+|z|}'"
        )
    name, key, value = match.groups()
    name = ALIASES.get(name.lower(), name.lower())
    if name in _OUTPUT_BUILDERS and key is None:
        return _OUTPUT_BUILDERS[name]()
    if name in _OUTPUT_BUILDERS:
        raise DeriveError(f"activation {name!r} has no parameter {key!r}; it takes no parameter")
    if name not in _BUILDERS:
        raise DeriveError(
            f"unknown activation {spec!r}{closest_hint(name, NAMES + OUTPUT_NAMES + tuple(ALIASES))}"
        )
    builder, param = _BUILDERS[name]
    if key is None:
        return builder()
    if key != param:
        allowed = f"its parameter is '{param}'" if param else "it takes no parameter"
        raise DeriveError(f"activation {name!r} has no parameter {key!r}; {allowed}")
    return builder(_parameter(value))
