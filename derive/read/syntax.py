"""The syntax core of the LaTeX reader: tokens, grammar and limits, producing SymPy expressions.

Our own recursive-descent parser (no grammar library, nothing eval'd or sympified) reads the
notation directly: a_j^{(L)} is an indexed quantity, not a power; \\sigma'(z) is the sigmoid's
derivative; \\frac{\\partial C_0}{\\partial w_{jk}^{(2)}} is a derivative of the cost. Every
character the user typed is consumed or the input is refused with the place quoted. Unicode
pasted from a PDF (σ ∂ − · δ ′ ²) is read like its LaTeX. Numbers are exact (0.15 is 3/20),
bounded in size, and a decimal comma is read as a decimal point. The input is bounded in length
and nesting depth.

What a name stands for is not decided here: the parser asks a ``Resolver`` for quantities (a_j^{(L)},
w_{jk}^{(2)}, C_0), layers (L, l), layer sizes and functions (\\sigma, g, ReLU). So this module imports
no model: ``derive.read.resolvers`` holds the notation resolver for a network and the resolver of a
definition in z; ``derive.read.latex`` and ``derive.read.definitions`` are the entry points.

Activations are read by name (\\operatorname{SiLU}, \\mathrm{ELU}, \\text{gelu}, or typed without a
backslash as one word, SiLU(z), in any case), each a function of one z. Softmax is a function of a
layer's whole z, outside this scalar reading: softmax(z^{(L)})_j, softmax_j(z^{(L)}), softmax(z)_j and
softmax_j are read as the entry a_j of the layer whose activation is softmax, and refused in one line
anywhere else (softmax(z_j), another layer, softmax', a question about g(z) alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol, TypeVar

import sympy as sp

from derive.notation.sums import IndexSum

from derive.errors import DeriveError

MAX_CHARS = 600
MAX_DEPTH = 40
MAX_EXPONENT = 1000
MAX_DIGITS = 30
MAX_SUM_TERMS = 100
PARSE_SECONDS = 10.0
_KNOWN_FUNCTIONS = (
    r"known: \sigma, g, \tanh, \cosh, \sinh, \operatorname{sech}, \exp, \ln, \sqrt, \max, "
    r"\operatorname{ReLU}, \operatorname{softplus}, \operatorname{ELU}, \operatorname{SiLU}, "
    r"\operatorname{GELU}, \operatorname{softmax}, H, \mathbb{1}"
)


class LatexInputError(DeriveError):
    """Input that cannot be read; the message says where."""


class IndexMisuse(LatexInputError):
    """A sum over an index that is not free to be summed: the question's own index, or the index of a
    sum around it. Readable, but an error in the answer (the judge says wrong, not unreadable)."""


_T = TypeVar("_T")


class Refusal(Exception):
    """A resolver's refusal of a name (a layer that does not exist, an index x does not have); the parser
    turns it into a LatexInputError that quotes the place."""


class Resolver(Protocol):
    """What the names in a text stand for; the parser asks, the resolver answers or raises Refusal."""

    @property
    def what(self) -> str:
        """What the text is, for messages: "answer", or "definition"."""

    @property
    def variable(self) -> sp.Symbol | None:
        """What a bare z stands for (an activation's own variable), or None: z needs a node and a layer."""

    @property
    def bare_a(self) -> sp.Expr | None:
        """What a bare a stands for (g(z) in an activation question), or None."""

    @property
    def own_indices(self) -> tuple[tuple[str, str], ...]:
        """The question's free node indices with the quantity each belongs to: a sum over them is refused."""

    @property
    def plain_layers(self) -> bool:
        """Layers are written as plain superscripts (w^2 is layer 2): a plain number after '^' is a layer."""

    @property
    def last_layer(self) -> int:
        """L, the number of the output layer (layers are 0..L)."""

    def layer(self, letter: str) -> int:
        """The layer number a letter stands for: 'L' (the output layer) or 'l' (the question's layer)."""

    def layer_size(self, layer: int) -> int:
        """The number of nodes of ``layer``."""

    def cost(self) -> sp.Expr:
        """The cost C_0."""

    def quantity(self, base: str, sub: list[str] | None, layer: int | None, where: str) -> sp.Expr:
        """The quantity ``base`` (a, b, z, w, x, y, d for delta) with its node indices as written (each
        made a symbol by ``node_index``) and its layer; ``where`` is its text, for messages."""

    def function(self, name: str, layer: int | None, primes: int, argument: sp.Expr) -> sp.Expr:
        """The function ``name`` (sigma, g, relu, softplus, leaky-relu, tanh with a prime) of the layer
        written on it, differentiated ``primes`` times (0 or 1), applied to ``argument``."""

    def vector_function(self, name: str, node: str, layer: int | None) -> sp.Expr:
        """Entry ``node`` of the vector activation ``name`` (softmax) of ``layer`` (None: the output
        layer): that layer's a_node, where ``name`` is its activation; refused anywhere else."""

    def index_range(self, body: sp.Expr, index: sp.Symbol) -> int | None:
        """How many nodes ``index`` runs over where ``body`` uses it (None: it cannot tell)."""


def one(what: str) -> str:
    """``what`` with its article: "an answer", "a definition"."""
    return ("an " if what[0] in "aeiou" else "a ") + what


@dataclass(frozen=True)
class Member:
    """One side of an answer chain ``m0 = m1 ≈ m2``: its value, the relation before it, its text."""

    expr: sp.Expr
    relation: str | None  # None for the first member, "=" or "approx"
    source: str
    digits: int | None = None  # significant digits when the member is one decimal number


SIZE = sp.Symbol("n__size")  # a bare n in a sum's limits: the size of the layer the index runs over
LAYER_SIZE = sp.Function("n__layer")  # n^{(m)} in a sum's limits: the size of layer m
_INDEX_LETTERS = set("abcdefghijkmnopqrstuvwxyz")  # any lower-case letter but l (the layer letter)


def _index_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, nonnegative=True)


def node_index(text: str) -> sp.Expr:
    """A node index as written in a subscript: a number, or a letter (but l) with primes; else Refusal."""
    if text.isdigit():
        return sp.Integer(int(text))
    letter = text.rstrip("'")
    if letter not in _INDEX_LETTERS or letter in "l":
        raise Refusal(f"'{text}' is not a node index (use j, k, i, ... or a number)")
    return _index_symbol(text)


# Normalising: Unicode from PDFs to LaTeX, keeping each character's column in the original --------
_UNICODE = {
    "σ": r"\sigma ",
    "∂": r"\partial ",
    "δ": r"\delta ",
    "−": "-",
    "–": "-",
    "‐": "-",
    "·": r"\cdot ",
    "⋅": r"\cdot ",
    "∙": r"\cdot ",
    "×": r"\times ",
    "′": "'",
    "’": "'",
    "²": "^{2}",
    "³": "^{3}",
    "¹": "^{1}",
    "∑": r"\sum ",
    "Σ": r"\sum ",
    "≈": r"\approx ",
    "∞": r"\infty ",
    "≤": r"\leq ",
    "≥": r"\geq ",
    "√": r"\sqrt ",
    "π": r"\pi ",
    "₀": "_0",
    "₁": "_1",
    "₂": "_2",
    "₃": "_3",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "（": "(",
    "）": ")",
    "η": r"\eta ",
    "ℓ": "l",
}


def _normalise(text: str) -> tuple[str, list[int]]:
    out, where = [], []
    for column, char in enumerate(text):
        replacement = _UNICODE.get(char, char)
        out.append(replacement)
        where.extend([column] * len(replacement))
    where.append(len(text))
    return "".join(out), where


# Tokens ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # "num", "letter", "cmd", "sym", "end"
    text: str
    pos: int
    spaced: bool  # whitespace before it


_TOKEN = re.compile(
    r"(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<cmd>\\[A-Za-z]+|\\.)|(?P<letter>[A-Za-z])|(?P<sym>\S)"
)
_SKIPPED = {
    r"\,",
    r"\;",
    r"\:",
    r"\!",
    r"\ ",
    r"\quad",
    r"\qquad",
    r"\displaystyle",
    r"\textstyle",
    r"\limits",
    r"\nolimits",
    r"\left",
    r"\right",
    r"\big",
    r"\Big",
    r"\bigg",
    r"\Bigg",
    r"\bigl",
    r"\bigr",
    r"\Bigl",
    r"\Bigr",
    r"\biggl",
    r"\biggr",
    r"\Biggl",
    r"\Biggr",
    r"\middle",
    "\\\\",
}
_ALIASES = {
    r"\dfrac": r"\frac",
    r"\tfrac": r"\frac",
    r"\cfrac": r"\frac",
    r"\lbrack": "[",
    r"\rbrack": "]",
    r"\{": "{(",
    r"\}": ")}",
    r"\lbrace": "{(",
    r"\rbrace": ")}",
    r"\lvert": "|",
    r"\rvert": "|",
    r"\vert": "|",
    r"\lparen": "(",
    r"\rparen": ")",
    r"\ge": r"\geq",
    r"\le": r"\leq",
    r"\gt": ">",
    r"\lt": "<",
    r"\ast": "*",
    r"\div": "/",
    r"\colon": ":",
    r"\dots": r"\cdots",
    r"\ldots": r"\cdots",
}


_TEXT_COMMANDS = (r"\text", r"\mathrm", r"\textrm", r"\mbox", r"\textit")
_CASE_WORDS = {"and", "if", "for", "when", "where", "whenever", "otherwise", "else", "elsewhere"}
_ENVIRONMENT = re.compile(r"\\(begin|end)\s*\{\s*(d?cases)\s*\}")
BEGIN_CASES, END_CASES, NEXT_CASE = r"\begin{cases}", r"\end{cases}", "\\\\"


def has_cases(text: str) -> bool:
    """The text has a \\begin{cases} or \\end{cases} (whose conditions may hold an '=')."""
    return _ENVIRONMENT.search(text) is not None


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    spaced = False
    pos = 0
    cases = (
        0  # inside \begin{cases}: \\ separates the cases (elsewhere it is a line break, skipped)
    )
    while pos < len(text):
        if text[pos].isspace():
            spaced, pos = True, pos + 1
            continue
        environment = _ENVIRONMENT.match(text, pos)
        if environment:
            begin = environment.group(1) == "begin"
            cases += 1 if begin else -1
            out.append(Token("cmd", BEGIN_CASES if begin else END_CASES, pos, spaced))
            spaced, pos = False, environment.end()
            continue
        match = _TOKEN.match(text, pos)
        assert match is not None and match.lastgroup is not None  # \S takes any character left
        kind = match.lastgroup
        value = match.group(kind)
        if value == NEXT_CASE and cases > 0:
            out.append(Token("sym", NEXT_CASE, pos, spaced))
            spaced, pos = False, match.end()
            continue
        if kind == "cmd" and value in _SKIPPED:
            if value in (r"\left", r"\right") and text.startswith(".", match.end()):
                pos = match.end() + 1  # a null delimiter
            else:
                pos = match.end()
            spaced = True
            continue
        value = _ALIASES.get(value, value) if kind == "cmd" else value
        if (
            kind == "cmd"
            and len(value) <= 2
            and not value[1:].isalpha()
            and value not in (r"\cdots",)
        ):
            for piece in (
                value
            ):  # a command standing for delimiters, e.g. \{ -> "{(" (a group, then a bracket)
                out.append(Token("sym", piece, match.start(), spaced))
        elif kind == "cmd" and not value.startswith("\\"):
            out.append(Token("sym", value, match.start(), spaced))
        else:
            out.append(Token(kind, value, match.start(), spaced))
        spaced, pos = False, match.end()
    out.append(Token("end", "", len(text), spaced))
    return out


# Functions by name -------------------------------------------------------------------------------
_OPERATOR_NAMES = {  # \operatorname{...}, \mathrm{...}, \text{...} and bare commands, lower-cased
    "sigma": "sigma",
    "sigmoid": "sigma",
    "sig": "sigma",
    "tanh": "tanh",
    "cosh": "cosh",
    "sinh": "sinh",
    "sech": "sech",
    "exp": "exp",
    "ln": "ln",
    "log": "ln",
    "relu": "relu",
    "softplus": "softplus",
    "elu": "elu",
    "silu": "silu",
    "swish": "silu",
    "gelu": "gelu",
    "softmax": "softmax",
    "max": "max",
    "min": "min",
    "sqrt": "sqrt",
    "leakyrelu": "leaky-relu",
    "heaviside": "H",
}
_ELEMENT_WISE = {
    "relu",
    "softplus",
    "leaky-relu",
    "elu",
    "silu",
    "gelu",
}  # activations by name, each of one z: the resolver says which (the network's, else the built-in)
_VECTOR = {"softmax"}  # a function of a whole layer's z: softmax(z^{(L)})_j is an entry, a_j^{(L)}
_TAKES_BARE_ARGUMENT = {
    "tanh",
    "cosh",
    "sinh",
    "sech",
    "exp",
    "ln",
}  # \tanh z, \ln a: no parentheses needed
_REAL = {
    "tanh": sp.tanh,
    "cosh": sp.cosh,
    "sinh": sp.sinh,
    "sech": sp.sech,
    "exp": sp.exp,
    "ln": sp.log,
}


@dataclass(frozen=True)
class _Head:
    """A function about to be applied: its name, the layer written on it, primes and a power."""

    name: str
    text: str
    layer: int | None = None
    primes: int = 0
    power: sp.Expr | None = None


class _Parser:
    """Recursive descent over the tokens; builds SymPy objects for the engine's notation."""

    def __init__(self, text: str, original: str, where: list[int], names: Resolver) -> None:
        self.text, self.original, self.where, self.names = text, original, where, names
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.abs_depth = 0
        self.limits_mode = 0  # inside a sum's limits: n means a layer size
        self.open_sums: list[str] = []  # the indices of the sums whose body is being read
        self._was_number = False  # the factor just read was a plain number (2 3 is refused)

    # Plumbing ----------------------------------------------------------------------------------
    @property
    def one(self) -> str:
        """What the text is with its article, for messages: "an answer"."""
        return one(self.names.what)

    def resolved(self, answer: Callable[[], _T], token: Token | None = None) -> _T:
        """The resolver's ``answer()``; its Refusal as an error quoting ``token`` (the current one if None)."""
        try:
            return answer()
        except Refusal as refusal:
            raise self.error(str(refusal), token) from None

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tok
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at(self, *texts: str) -> bool:
        return self.tok.kind != "end" and self.tok.text in texts

    def error(self, message: str, token: Token | None = None) -> LatexInputError:
        token = token or self.tok
        column = self.where[min(token.pos, len(self.where) - 1)]
        src = self.original
        start, stop = max(0, column - 18), min(len(src), column + 12)
        quote = (
            ("…" if start > 0 else "")
            + " ".join(src[start:stop].split())
            + ("…" if stop < len(src) else "")
        )
        place = "at the end" if column >= len(src) else f"at column {column + 1}"
        return LatexInputError(
            f"cannot read the {self.names.what} {place}: {message} (in '{quote}')"
        )

    def expect(self, text: str, what: str) -> Token:
        if not self.at(text):
            found = "the end" if self.tok.kind == "end" else f"'{self.tok.text}'"
            raise self.error(f"expected {what}, found {found}")
        return self.advance()

    def nested(self, parse: Callable[[], sp.Expr]) -> sp.Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} deep")
        try:
            return parse()
        finally:
            self.depth -= 1

    def source(self, start: Token, stop: Token) -> str:
        a = self.where[start.pos]
        b = self.where[min(stop.pos, len(self.where) - 1)]
        return self.original[a:b].strip()

    # Chains ------------------------------------------------------------------------------------
    def chain(self) -> list[Member]:
        members = []
        relation = None
        while True:
            start = self.tok
            expr = self.expression()
            members.append(Member(expr, relation, self.source(start, self.tok)))
            if self.at("="):
                relation = "="
            elif self.at(r"\approx", r"\simeq"):
                relation = "approx"
            else:
                break
            self.advance()
            if self.tok.kind == "end":
                raise self.error("nothing after the last '='")
        if self.tok.kind != "end":
            raise self.error(self._unexpected())
        return members

    def _unexpected(self) -> str:
        t = self.tok.text
        if t in (")", "]", "}"):
            return f"'{t}' closes a bracket that was never opened"
        if t in ("<", ">", r"\leq", r"\geq"):
            return f"an inequality is not {self.one}"
        if t == END_CASES:
            return "'\\end{cases}' closes a \\begin{cases} that was never opened"
        if t == "&":
            return f"an alignment '&' is not part of {self.one} (in \\begin{{cases}} it comes before a condition)"
        if t == ",":
            return "unexpected ','; write decimals with a point, e.g. 0.0713"
        return f"unexpected '{t}'"

    # Expressions -------------------------------------------------------------------------------
    def expression(self) -> sp.Expr:
        return self.nested(self._expression)

    def _expression(self) -> sp.Expr:
        terms = []
        sign = 1
        if self.at("+", "-"):
            sign = -1 if self.advance().text == "-" else 1
        terms.append(sign * self.term())
        while self.at("+", "-"):
            sign = -1 if self.advance().text == "-" else 1
            if self.at("+", "-"):
                raise self.error("two signs in a row")
            terms.append(sign * self.term())
        return sp.Add(*terms)

    def term(self) -> sp.Expr:
        factors = [self.signed_factor()]
        previous_number = self._was_number
        while True:
            if self.at(r"\cdot", r"\times", "*"):
                self.advance()
                factors.append(self.signed_factor())
            elif self.at("/"):
                self.advance()
                factors.append(1 / self.signed_factor())  # 1/0 stays zoo: judged not finite
            elif self._starts_factor():
                if previous_number and self.tok.kind == "num":
                    raise self.error("two numbers side by side; write \\cdot between them")
                factors.append(self.factor())
            else:
                break
            previous_number = self._was_number
        return sp.Mul(*factors)

    def signed_factor(self) -> sp.Expr:
        if self.at("-", "+"):
            sign = -1 if self.advance().text == "-" else 1
            return sign * self.signed_factor()
        return self.factor()

    def _starts_factor(self) -> bool:
        t = self.tok
        if t.kind in ("num", "letter"):
            return True
        if t.kind == "cmd":
            return (
                t.text
                not in (
                    r"\cdot",
                    r"\times",
                    r"\approx",
                    r"\simeq",
                    r"\leq",
                    r"\geq",
                    END_CASES,
                    r"\land",
                    r"\wedge",
                )
                and self._peek_text_word() not in _CASE_WORDS
            )
        if t.text == "|":
            return self.abs_depth == 0
        return t.text in ("(", "[", "{")

    def factor(self) -> sp.Expr:
        return self.nested(self._factor)

    def _factor(self) -> sp.Expr:
        self._was_number = self.tok.kind == "num"
        base = self.primary()
        if self.at("'"):
            raise self.error("a prime belongs on a function, as in \\sigma'(z)")
        if self.at("^"):
            self._was_number = False
            base = self._power(base, self.superscript())
        if self.at("!"):
            raise self.error(f"factorials are not part of {self.one}")
        return base

    def _power(self, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        if exponent.is_number:
            if exponent.is_Rational:
                small = abs(exponent.p) <= MAX_EXPONENT and exponent.q <= MAX_EXPONENT
            else:
                value = sp.N(exponent, 15)
                small = value.is_real and abs(value) <= MAX_EXPONENT
            if not small:
                raise self.error(f"exponents must be numbers up to {MAX_EXPONENT} (or formulas)")
            if (
                base.is_Rational
                and exponent.is_Rational
                and max(len(str(abs(base.p))), len(str(base.q))) * abs(exponent.p) > 4000
            ):
                raise self.error(f"that number is too large to be part of {self.one}")
        if self.at("^"):
            raise self.error("double superscript; use braces, e.g. a^{b^{c}}")
        return sp.Pow(base, exponent)

    def superscript(self) -> sp.Expr:
        self.expect("^", "'^'")
        return self._script_value()

    def _script_value(self) -> sp.Expr:
        """A superscript: a braced group, or one token (one digit, one letter, or -token)."""
        if self.at("{"):
            return self.group()
        token = self.tok
        if token.kind == "num":
            if len(token.text) > 1:
                raise self.error(
                    f"write ^{{{token.text}}} with braces (without them only the first digit is raised)"
                )
            self.advance()
            return sp.Integer(token.text)
        if self.at("-"):
            self.advance()
            value = -self._script_value()
            if self._starts_factor() and not self.tok.spaced:
                raise self.error("ambiguous exponent; use braces, e.g. e^{-2z}")
            return value
        if token.kind in ("letter", "cmd"):
            return self.primary()
        raise self.error("expected an exponent after '^'")

    def group(self) -> sp.Expr:
        self.expect("{", "'{'")
        if self.at("}"):
            raise self.error("empty braces")
        value = self.expression()
        self.expect("}", "'}' to close the '{'")
        return value

    def bracketed(self) -> sp.Expr:
        opening = self.advance()
        closing = {"(": ")", "[": "]"}[opening.text]
        if self.at(closing):
            raise self.error("empty parentheses")
        value = self.expression()
        if not self.at(closing):
            if self.tok.kind == "end":
                raise self.error(f"the '{opening.text}' is never closed", opening)
            raise self.error(
                f"expected '{closing}' to close the '{opening.text}', found '{self.tok.text}'"
            )
        self.advance()
        return value

    # Primaries ---------------------------------------------------------------------------------
    def primary(self) -> sp.Expr:
        t = self.tok
        if t.text in ("=", r"\approx", r"\simeq", r"\cdot", r"\times", "*", "/"):
            raise self.error(f"nothing before '{t.text}'")
        if t.kind == "num":
            return self.number()
        if t.text in ("(", "["):
            return self.bracketed()
        if t.text == "{":
            return self.group()
        if t.text == "|":
            return self.absolute()
        if t.kind == "letter":
            return self.letter()
        if t.kind == "cmd":
            return self.command()
        if t.kind == "end":
            raise self.error(
                f"the {self.names.what} stops in the middle (something is missing at the end)"
            )
        raise self.error(self._unexpected())

    def number(self) -> sp.Expr:
        first = self.advance()
        text = first.text
        if (
            self.at(",")
            and not self.tok.spaced
            and self.peek().kind == "num"
            and not self.peek().spaced
            and "." not in text
        ):
            self.advance()
            text += "." + self._decimals()  # a decimal comma: 0,0713
        elif (
            self.at("{")
            and self.peek().text == ","
            and self.peek(2).text == "}"
            and self.peek(3).kind == "num"
            and "." not in text
        ):
            for _ in range(3):
                self.advance()
            text += "." + self._decimals()  # 0{,}0713
        if self.tok.kind == "num" and not self.tok.spaced and self.tok.text.startswith("."):
            raise self.error("a number with two decimal points")
        digits = text.replace(".", "").lstrip("0")
        if len(digits) > MAX_DIGITS:
            raise self.error(f"numbers are limited to {MAX_DIGITS} digits")
        value = sp.Rational(text)
        if (
            self.tok.kind == "letter"
            and self.tok.text in "eE"
            and not self.tok.spaced
            and self.peek().text != "^"
        ):
            value = self._scientific(value)  # 7.13e-2; 2e^{-z} is Euler's e
        return value

    def _decimals(self) -> str:
        token = self.advance()
        if not token.text.isdigit():
            raise self.error("a number with two decimal points", token)
        return token.text

    def _scientific(self, mantissa: sp.Expr) -> sp.Expr:
        save = self.i
        self.advance()
        sign = 1
        if self.at("+", "-") and not self.tok.spaced:
            sign = -1 if self.advance().text == "-" else 1
        if self.tok.kind == "num" and not self.tok.spaced and self.tok.text.isdigit():
            exponent = sign * int(self.advance().text)
            if abs(exponent) > 300:
                raise self.error("that exponent is too large")
            return mantissa * sp.Integer(10) ** exponent
        self.i = save
        return mantissa

    def absolute(self) -> sp.Expr:
        opening = self.advance()
        self.abs_depth += 1
        try:
            value = self.expression()
        finally:
            self.abs_depth -= 1
        if not self.at("|"):
            raise self.error("the '|' is never closed", opening if self.tok.kind == "end" else None)
        self.advance()
        return sp.Abs(value, evaluate=False)

    # Letters -------------------------------------------------------------------------------------
    def letter(self) -> sp.Expr:
        c = self.tok.text
        word = self._function_word()
        if word:
            return self.call(self.head(name=word, token=self.tok, letters=len(word)))
        if c == "z" and self.names.variable is not None and not self._has_scripts():
            self.advance()
            return self.names.variable
        if c == "a" and self.names.bare_a is not None and not self._has_scripts():
            self.advance()
            return self.names.bare_a
        if c in "abzwxy":
            return self.quantity(c)
        if c == "C":
            return self.cost()
        if c == "e":
            self.advance()
            return sp.E
        if c == "n" and self.limits_mode:
            return self.size()
        if c in ("g", "H"):
            return self.call(self.head())
        if c in "ijkpqrstuv":
            raise self.error(
                f"the index {c} cannot stand on its own; it belongs in a subscript, as in a_{c}^{{(2)}}"
            )
        raise self.error(
            f"unknown symbol {c}: write quantities in the notation, "
            "e.g. a_j^{(L)}, z_j^{(l)}, w_{jk}^{(l)}, x_k, y_j, C_0"
        )

    def _function_word(self) -> str | None:
        """A function name typed without its backslash (tanh(z), sigmoid(z), exp(-z)): read as the function."""
        start = self.tok.pos
        match = re.match(r"[A-Za-z]+", self.text[start:])
        word = match.group(0) if match else ""
        return word if len(word) > 1 and word.lower() in _OPERATOR_NAMES else None

    def _has_scripts(self) -> bool:
        return self.peek().text in ("_", "^") and not (
            self.peek().text == "^" and self.names.variable is not None
        )

    def cost(self) -> sp.Expr:
        self.advance()
        if self.at("_"):
            self.advance()
            value = self.group() if self.at("{") else self._one_token_index()
            if value != 0:
                raise self.error("the cost is C_0 (the single-sample cost)")
        return self.names.cost()

    def _one_token_index(self) -> sp.Expr:
        token = self.advance()
        if token.kind == "num" and len(token.text) == 1:
            return sp.Integer(token.text)
        raise self.error("expected one index after '_'", token)

    def size(self) -> sp.Expr:
        self.advance()
        if self.at("^", "_"):
            mark = self.advance()
            layer = self.layer_text(allow_plain=True)
            if layer is None:
                raise self.error("write the layer of n as n^{(l)}", mark)
            return LAYER_SIZE(sp.Integer(layer))
        return SIZE

    # Quantities --------------------------------------------------------------------------------
    def quantity(self, base: str) -> sp.Expr:
        start = self.advance()
        name = base
        sub: list[str] | None = None
        layer: int | None = None
        for _ in range(2):
            if self.at("_") and sub is None:
                self.advance()
                sub = self.subscript(two=(name == "w"))
            elif self.at("^") and layer is None:
                mark = self.i
                self.advance()
                layer = self.layer_text(allow_plain=sub is None or self._plain_layers())
                if layer is None:  # a power after the subscript: a_j^2
                    self.i = mark
                    break
            else:
                break
        where = self.source(start, self.tok)
        return self.resolved(lambda: self.names.quantity(name, sub, layer, where), start)

    def _plain_layers(self) -> bool:
        return self.names.plain_layers

    def subscript(self, two: bool) -> list[str]:
        if self.at("{"):
            self.advance()
            parts: list[str] = []
            while not self.at("}"):
                t = self.advance()
                if t.kind == "end":
                    raise self.error("the subscript's '{' is never closed")
                if t.text == ",":
                    continue
                if t.kind == "num":
                    parts.extend(t.text)
                elif t.kind == "letter":
                    parts.append(t.text)
                elif t.text == "'" and parts:
                    parts[-1] += "'"
                else:
                    raise self.error(f"'{t.text}' cannot be part of a node index", t)
            self.advance()
            return parts
        t = self.advance()
        if t.kind == "num":
            parts = [t.text[0]]
            if len(t.text) > 1:
                if two and len(t.text) == 2:
                    return list(t.text)
                raise self.error("write several index digits in braces, e.g. w_{10}", t)
        elif t.kind == "letter":
            parts = [t.text]
        else:
            raise self.error("expected a node index after '_'", t)
        if self.at("'"):
            self.advance()
            parts[-1] += "'"
        nxt = self.tok
        if (
            two
            and not nxt.spaced
            and (
                (nxt.kind == "letter" and nxt.text in _INDEX_LETTERS - set("abwxyzen"))
                or (nxt.kind == "num" and len(nxt.text) == 1)
            )
        ):
            parts.append(self.advance().text)  # w_jk typed without braces
        return parts

    def layer_text(self, allow_plain: bool, primes: list[str] | None = None) -> int | None:
        """A layer superscript after '^' (or '_' for n): (2), {(L-1)}, L, {l+1}; None for a plain number
        where the notation reads it as a power. With ``primes`` (a function's layer), primes after the
        layer inside the braces, {(L)\\prime}, are taken and appended to it."""
        start = self.i
        braces = self.at("{")
        if braces:
            self.advance()
        parens = self.at("(")
        if parens:
            self.advance()
        text, tokens = "", []
        while self.tok.kind in ("num", "letter") or self.at("+", "-"):
            tokens.append(self.tok)
            text += self.advance().text
            if (
                not braces
                and not parens
                and tokens[0].kind in ("num", "letter")
                and len(tokens) == 1
            ):
                break
        if parens:
            if not self.at(")"):
                raise self.error("the layer in parentheses is never closed, e.g. ^{(2)}")
            self.advance()
        if braces:
            while primes is not None and tokens and self.at("'", r"\prime"):
                primes.append(self.advance().text)
            if not self.at("}"):
                self._not_a_layer(start, primes)
                return None
            self.advance()
        letter_layer = bool(re.fullmatch(r"[Ll]([+-]\d)?", text))
        if not parens and not letter_layer and not allow_plain:
            self._not_a_layer(start, primes)
            return None
        if not parens and not letter_layer and not re.fullmatch(r"\d", text):
            self._not_a_layer(start, primes)
            return None
        return self._layer_number(text, tokens[0] if tokens else self.tok)

    def _not_a_layer(self, start: int, primes: list[str] | None) -> None:
        """Back to ``start``: what follows the '^' is no layer (a power, read by the caller)."""
        self.i = start
        if primes:
            primes.clear()
        return None

    def _layer_number(self, text: str, token: Token) -> int:
        match = re.fullmatch(r"([0-9]+|[Ll])([+-][0-9]+)?", text)
        if not match:
            raise self.error(
                f"cannot read the layer '({text})'; write e.g. (2), (L) or (L-1)", token
            )
        base, offset = match.groups()
        value = (
            self.resolved(lambda: self.names.layer(base), token)
            if base in ("L", "l")
            else int(base)
        )
        value += int(offset or 0)
        last = self.names.last_layer
        if not 0 <= value <= last:
            raise self.error(
                f"layer {value} does not exist (the network has layers 0..{last})", token
            )
        return value

    # Commands ------------------------------------------------------------------------------------
    def command(self) -> sp.Expr:
        c = self.tok.text
        if c == r"\frac":
            return self.fraction()
        if c == r"\sqrt":
            return self.root()
        if c == r"\sum":
            return self.summation()
        if c == r"\boxed":
            self.advance()
            return self.group()
        if c == BEGIN_CASES:
            return self.cases()
        if c == END_CASES:
            raise self.error("'\\end{cases}' closes a \\begin{cases} that was never opened")
        if c == r"\delta":
            return self.quantity("d")
        if c == r"\infty":
            self.advance()
            return sp.oo
        if c == r"\pi":
            self.advance()
            return sp.pi
        if c == r"\partial":
            return self.slash_partial()
        if c in (
            r"\mathrm",
            r"\mathit",
            r"\textrm",
            r"\mathbf",
            r"\text",
            r"\operatorname",
            r"\mathbb",
            r"\mathds",
            r"\mathcal",
            r"\operatorname*",
        ):
            return self.styled()
        name = c[1:].lower()
        if name in _OPERATOR_NAMES:
            return self.call(self.head())
        if c == r"\cdots":
            raise self.error(f"'\\cdots' is not part of {self.one}; write the sum with \\sum")
        raise self.error(f"unknown command {c}; {_KNOWN_FUNCTIONS}")

    def styled(self) -> sp.Expr:
        """\\mathrm{e}, \\mathrm{d}, \\operatorname{ReLU}, \\mathbb{1}: a letter or a function name."""
        command = self.advance()
        name = self.word()
        if command.text in (r"\mathbb", r"\mathbf", r"\mathds") and name == "1":
            return self.indicator()
        if len(name) == 1 and name.isalpha():
            if name == "e":
                return sp.E
            self.tokens.insert(
                self.i, Token("letter", name, command.pos, False)
            )  # read as the letter itself
            return self.letter()
        if name.lower() in _OPERATOR_NAMES:
            return self.call(self.head(name=name, token=command))
        raise self.error(f"unknown function '{name}'; {_KNOWN_FUNCTIONS}", command)

    def word(self) -> str:
        """The name in the {...} argument of \\operatorname and friends (or one token)."""
        if not self.at("{"):
            return self.advance().text

        def piece(t: Token) -> str:
            if t.kind == "cmd" or t.text in "{}()^":
                raise self.error("expected a name in braces", t)
            return t.text if t.text not in "-_ " else ""

        return self._braced(self.advance(), piece)

    def _braced(self, opening: Token, piece: Callable[[Token], str]) -> str:
        """The text of the {...} group ``opening`` begins (already read), each token through ``piece``
        (which refuses a token that does not belong), up to and past the closing '}'."""
        text = ""
        while not self.at("}"):
            t = self.advance()
            if t.kind == "end":
                raise self.error("the '{' is never closed", opening)
            text += piece(t)
        self.advance()
        return text

    def head(self, name: str | None = None, token: Token | None = None, letters: int = 0) -> _Head:
        """A function name with what may follow it before the argument: a layer, primes, a power.

        ``letters``: the name was typed as that many letter tokens (without a backslash)."""
        token = token or self.tok
        for _ in range(letters):
            self.advance()
        if name is None:
            name = self.advance().text.lstrip("\\")
        key = _OPERATOR_NAMES.get(name.lower(), name)
        primes = 0
        layer = None
        power = None
        for _ in range(3):
            if self.at("'"):
                while self.at("'"):
                    self.advance()
                    primes += 1
            elif (
                self.at("^")
                and self.peek().text in (r"\prime",)
                or (
                    self.at("^")
                    and self.peek().text == "{"
                    and self.peek(2).text in ("'", r"\prime")
                    and self.peek(3).text == "}"
                )
            ):
                self.advance()
                braced = self.at("{")
                self.advance() if braced else None
                self.advance()
                if braced:
                    self.advance()
                primes += 1
            elif self.at("^") and key == "g" and layer is None and self._layer_ahead():
                self.advance()
                inside: list[
                    str
                ] = []  # g^{(L)\prime}: the prime printed after the layer, in its superscript
                layer = self.layer_text(allow_plain=True, primes=inside)
                primes += len(inside)
            elif self.at("^") and power is None:
                self.advance()
                power = self._script_value()
                if not (power.is_Integer and 1 <= power <= 10):
                    raise self.error(
                        "write a power of a function as a whole number, e.g. \\sigma^2(z), "
                        "or put the function in parentheses",
                        token,
                    )
            elif self.at("_") and key == "g" and layer is None:
                self.advance()
                layer = self._layer_number(self.group_text(), token)
            else:
                break
        if primes > 1:
            raise self.error("a second derivative is not asked for here", token)
        return _Head(key, name, layer, primes, power)

    def group_text(self) -> str:
        if self.at("{"):
            self.advance()
            text = ""
            while not self.at("}"):
                t = self.advance()
                if t.kind == "end":
                    raise self.error("a '{' is never closed")
                text += t.text
            self.advance()
            return text.strip("()")
        return self.advance().text

    def _layer_ahead(self) -> bool:
        nxt = self.peek()
        if nxt.text == "(":
            return True
        if nxt.text == "{":
            return self.peek(2).text == "(" or self.peek(2).text in ("L", "l")
        return nxt.text in ("L", "l")

    def call(self, head: _Head) -> sp.Expr:
        """Apply a function head to its argument(s)."""
        if head.name == "H":
            argument = self.argument(head)
            return self._powered(sp.Heaviside(argument, evaluate=False), head)
        if head.name in ("max", "min"):
            return self._powered(self.pair(head), head)
        if head.name == "sqrt":
            return self.root(head_taken=True)
        if head.name in _VECTOR:
            return self._powered(self.vector_entry(head), head)
        argument = self.argument(head)
        value = self.apply(head, argument)
        z = self.names.variable
        if z is not None and not head.primes and argument != z and argument.has(type(value)):
            value = (
                self.apply(head, z) * argument
            )  # g(1-g) in an activation question: g times (1 - g)
        return self._powered(value, head)

    def _powered(self, value: sp.Expr, head: _Head) -> sp.Expr:
        return value if head.power is None else sp.Pow(value, head.power)

    def argument(self, head: _Head) -> sp.Expr:
        if self.at("(", "["):
            return self.bracketed()
        if self.at("{"):
            value = self.group()
            return value
        if head.name in _TAKES_BARE_ARGUMENT and self._starts_factor():
            return self.factor()
        if self.names.variable is not None and (
            head.name in ("g", "sigma", "tanh") or head.name in _ELEMENT_WISE
        ):
            return self.names.variable  # g' = ..., 3g(1-g): the activation's own variable
        raise self.error(f"write the argument of {head.text} in parentheses, e.g. {head.text}(z)")

    def vector_entry(self, head: _Head) -> sp.Expr:
        """An entry of a vector activation: softmax_j(z^{(L)}), softmax(z^{(L)})_j, softmax(z)_j (z: the
        output layer's) or softmax_j, read as a_j of the layer whose activation it is (the resolver
        refuses it anywhere else). The argument is the layer's whole z; softmax(z_j) is refused."""
        example = f"\\operatorname{{{head.text}}}(z^{{(L)}})_j"
        start = self.tok
        if head.primes:
            raise self.error(
                f"{head.text}' is a Jacobian, not a function of one z; write its entries out "
                "in a^{(L)}, e.g. a_j^{(L)}(1 - a_j^{(L)})",
                start,
            )
        node = self._vector_index() if self.at("_") else None
        layer = None
        if node is None or (self.at("(", "[") and self._vector_argument_ahead()):
            layer = self._vector_argument(head, example)
        if node is None:
            if not self.at("_"):
                raise self.error(
                    f"{head.text} of a layer is a vector: say which entry, e.g. {example}"
                )
            node = self._vector_index()
        return self.resolved(lambda: self.names.vector_function(head.name, node, layer), start)

    def _vector_index(self) -> str:
        """The one node index of ``_j`` after a vector function."""
        at = self.advance()
        parts = self.subscript(two=False)
        if len(parts) != 1:
            raise self.error("an entry of softmax has one node index, e.g. _j", at)
        return parts[0]

    def _vector_argument_ahead(self) -> bool:
        """A bracket that holds the layer's z (z, z^{(L)}, \\mathbf{z}^{(L)}), not a factor after it."""
        nxt = self.peek()
        return nxt.text == "z" or (
            nxt.text in (r"\mathbf", r"\boldsymbol") and self.peek(3).text == "z"
        )

    def _vector_argument(self, head: _Head, example: str) -> int | None:
        """(z), (z^{(L)}), (\\mathbf{z}^{(2)}): the layer of the z (None: unwritten)."""
        if not self.at("(", "["):
            raise self.error(f"write the argument of {head.text} in parentheses, e.g. {example}")
        opening = self.advance()
        if self.at(r"\mathbf", r"\boldsymbol") and self.peek().text == "{":
            self.advance()
            self.advance()
            if not self.at("z") or self.peek().text != "}":
                raise self.error(f"{head.text} takes the layer's z: write {example}")
            self.advance()
        elif not self.at("z"):
            raise self.error(f"{head.text} takes the layer's z: write {example}")
        self.advance()
        layer = None
        if self.at("^"):
            self.advance()
            layer = self.layer_text(allow_plain=True)
            if layer is None:
                raise self.error(f"expected the layer of z, e.g. {example}")
        if not self.at(")", "]"):
            raise self.error(
                f"{head.text} takes the layer's whole z (no node index inside): write {example}",
            )
        closing = self.advance()
        if {"(": ")", "[": "]"}[opening.text] != closing.text:
            raise self.error("the bracket is closed with the wrong kind", closing)
        return layer

    def pair(self, head: _Head) -> sp.Expr:
        opening = self.tok
        if not self.at("(", "[", "{"):
            raise self.error(f"write \\{head.name}(0, z)")
        closing = {"(": ")", "[": "]", "{": "}"}[self.advance().text]
        if self.at("("):  # \max\{0, z\}: the alias gave "{(" ... ")}"
            self.advance()
            closing = ")" + closing
        first = self.expression()
        self.expect(",", "',' between the two arguments")
        second = self.expression()
        for piece in closing:
            if not self.at(piece):
                raise self.error(f"the bracket of {head.text} is never closed", opening)
            self.advance()
        return (sp.Max if head.name == "max" else sp.Min)(first, second, evaluate=False)

    def apply(self, head: _Head, argument: sp.Expr) -> sp.Expr:
        """A real function as written (tanh(-z) stays; no hidden work); \\sigma, g and the activations
        by name, and tanh', from the resolver."""
        name = head.name
        if name in _REAL and not head.primes:
            return _REAL[name](argument, evaluate=False)
        if name in _REAL and name != "tanh":
            raise self.error(f"write the derivative of {head.text} out", None)
        return self.resolved(lambda: self.names.function(name, head.layer, head.primes, argument))

    def fraction(self) -> sp.Expr:
        start = self.advance()
        if self.at("{") and self.peek().text == r"\partial":
            return self.partial_fraction(start)
        if self.at("{") and self._is_d(1):
            return self.d_fraction(start)
        numerator = self._fraction_argument()
        denominator = self._fraction_argument()
        return numerator / denominator

    def _is_d(self, ahead: int) -> bool:
        """A 'd' of a derivative at that token: d, or \\mathrm{d}."""
        t = self.peek(ahead)
        return t.text == "d" or (
            t.text in (r"\mathrm", r"\text")
            and self.peek(ahead + 1).text == "{"
            and self.peek(ahead + 2).text == "d"
            and self.peek(ahead + 3).text == "}"
        )

    def _skip_d(self) -> None:
        if self.at("d"):
            self.advance()
        elif self._is_d(0):
            for _ in range(4):
                self.advance()
        else:
            raise self.error("expected 'd' of a derivative")

    def d_fraction(self, start: Token) -> sp.Expr:
        """\\frac{dg}{dz}, \\frac{d}{dz} g(z), \\frac{d C_0}{d w}: a derivative (judged as one)."""
        self.advance()  # {
        self._skip_d()
        operand = None if self.at("}") else self.expression()
        self.expect("}", "'}'")
        self.expect("{", "'{' for the denominator")
        self._skip_d()
        variable = self.expression()
        self.expect("}", "'}'")
        if operand is None:
            operand = self.factor()
        if not isinstance(variable, (sp.Indexed, sp.Symbol)):
            raise self.error("the denominator of a derivative must be one quantity", start)
        return sp.Derivative(operand, variable)

    def _fraction_argument(self) -> sp.Expr:
        token = self.tok
        if self.at("{"):
            return self.group()
        if token.kind == "num":  # \frac12: TeX takes one digit per argument
            if len(token.text) > 1 and token.text[1:].isdigit():
                self.tokens[self.i] = Token("num", token.text[1:], token.pos + 1, False)
            else:
                self.advance()
            return sp.Integer(token.text[0])
        if token.kind == "letter":
            return self.letter()
        raise self.error("\\frac needs two arguments in braces, \\frac{a}{b}")

    def partial_fraction(self, start: Token) -> sp.Expr:
        self.advance()  # {
        self.advance()  # \partial
        if self.at("}"):  # \frac{\partial}{\partial w} X
            self.advance()
            variable = self._partial_denominator()
            return sp.Derivative(self.factor(), variable)
        quantity = self.expression()
        self.expect("}", "'}'")
        variable = self._partial_denominator()
        return sp.Derivative(quantity, variable)

    def _partial_denominator(self) -> sp.Expr:
        self.expect("{", "'{' for the denominator")
        self.expect(r"\partial", "\\partial in the denominator")
        variable = self.expression()
        self.expect("}", "'}'")
        if not isinstance(variable, (sp.Indexed, sp.Symbol)):
            raise self.error("the denominator of a partial derivative must be one quantity")
        return variable

    def slash_partial(self) -> sp.Expr:
        start = self.advance()
        quantity = self.factor()
        if not self.at("/"):
            raise self.error(
                "write a partial derivative as \\frac{\\partial C_0}{\\partial w_{jk}^{(l)}}", start
            )
        self.advance()
        self.expect(r"\partial", "\\partial after '/'")
        variable = self.factor()
        return sp.Derivative(quantity, variable)

    def root(self, head_taken: bool = False) -> sp.Expr:
        if not head_taken:
            self.advance()
        degree = sp.Integer(2)
        if self.at("["):
            self.advance()
            token = self.advance()
            if token.kind != "num" or not token.text.isdigit() or not 2 <= int(token.text) <= 10:
                raise self.error("the degree of a root must be a whole number from 2 to 10", token)
            degree = sp.Integer(token.text)
            self.expect("]", "']'")
        argument = self.group() if self.at("{") else self.factor()
        return sp.Pow(argument, 1 / degree)

    def indicator(self) -> sp.Expr:
        """\\mathbb{1}(z > 0), \\mathbb{1}_{z>0}, \\mathbb{1}_{\\{z > 0\\}}, \\mathbb{1}[z>0]."""
        if self.at("_"):
            self.advance()
            if not self.at("{"):
                raise self.error("write the condition in braces, \\mathbb{1}_{z>0}")
            self.advance()
            inner_braces = self.at("{") and self.peek().text == "("
            if inner_braces:
                self.advance()
                self.advance()
            condition = self.condition()
            if inner_braces:
                self.expect(")", "'\\}'")
                self.expect("}", "'\\}'")
            self.expect("}", "'}'")
            return condition
        if self.at("(", "["):
            closing = {"(": ")", "[": "]"}[self.advance().text]
            condition = self.condition()
            self.expect(closing, f"'{closing}'")
            return condition
        if self.at("{"):
            self.advance()
            condition = self.condition()
            self.expect("}", "'}'")
            return condition
        raise self.error("write the indicator's condition, e.g. \\mathbb{1}(z > 0)")

    def condition(self) -> sp.Expr:
        lhs = self.expression()
        if not self.at(">", "<", r"\geq", r"\leq"):
            raise self.error("expected a condition such as z > 0")
        relation = self.advance().text
        rhs = self.expression()
        test = {
            ">": sp.StrictGreaterThan,
            "<": sp.StrictLessThan,
            r"\geq": sp.GreaterThan,
            r"\leq": sp.LessThan,
        }[relation](lhs, rhs)
        return sp.Piecewise((sp.Integer(1), test), (sp.Integer(0), True))

    # Cases -------------------------------------------------------------------------------------
    def cases(self) -> sp.Expr:
        """\\begin{cases} value & condition \\\\ ... \\end{cases}: a function by cases (first true case wins)."""
        start = self.advance()
        pieces: list[tuple[sp.Expr, sp.Basic]] = []
        while not self.at(END_CASES):
            if self.tok.kind == "end":
                raise self.error(
                    "the \\begin{cases} is never closed; end it with \\end{cases}", start
                )
            if self.at("&", NEXT_CASE):
                raise self.error(
                    f"case {len(pieces) + 1} has no value; write each case as 'value & condition'"
                )
            value = self.expression()
            self._skip_punctuation()
            if not self.at("&"):
                raise self.error(
                    f"case {len(pieces) + 1} needs '&' before its condition, e.g. z & z > 0"
                )
            self.advance()
            if self.at(NEXT_CASE, END_CASES) or self.tok.kind == "end":
                raise self.error(
                    f"case {len(pieces) + 1} has no condition; write one such as z > 0, "
                    "or \\text{otherwise}"
                )
            pieces.append((value, self.case_condition()))
            self._skip_punctuation()
            if self.at(NEXT_CASE):
                self.advance()
            elif not self.at(END_CASES) and self.tok.kind != "end":
                raise self.error("expected '\\\\' before the next case, or \\end{cases}")
        if not pieces:
            raise self.error("the cases are empty", start)
        if any(cond == sp.false for _, cond in pieces):
            raise self.error("a case's condition is never true", start)
        gaps = _gaps([cond for _, cond in pieces])
        if gaps:
            raise self.error(
                f"the cases leave {gaps} undefined; add it to a case (e.g. with \\le) "
                "or end with \\text{otherwise}",
                start,
            )
        self.advance()
        return sp.Piecewise(*pieces)

    def _peek_text_word(self) -> str | None:
        """The word of a \\text{...} group at this token, without reading it (None: not such a group)."""
        if not (self.at(*_TEXT_COMMANDS) and self.peek().text == "{"):
            return None
        word, ahead = "", 2
        while self.peek(ahead).kind == "letter":
            word += self.peek(ahead).text.lower()
            ahead += 1
        return word if self.peek(ahead).text == "}" else None

    def _skip_punctuation(self) -> None:
        while self.at(",", ".", ";"):
            self.advance()

    def _text_word(self) -> str | None:
        """The words of \\text{...} (\\mathrm, \\textrm, \\mbox), lower-case without spaces; None if no such group."""
        if not (self.at(*_TEXT_COMMANDS) and self.peek().text == "{"):
            return None
        self.advance()

        def piece(t: Token) -> str:
            if t.kind != "letter" and t.text not in (",", ".", ":"):
                raise self.error(
                    "\\text{...} holds words only; write the condition after it, "
                    "e.g. \\text{if } z > 0",
                    t,
                )
            return t.text.lower() if t.kind == "letter" else ""

        return self._braced(self.advance(), piece)

    def case_condition(self) -> sp.Basic:
        """z > 0, 0 \\le z < 1, z = 0, \\text{if } z < 0, \\text{otherwise}; several joined by \\text{and} or \\land."""
        word = self._text_word()
        if word in ("otherwise", "else", "elsewhere"):
            return sp.true
        if word is not None and word not in ("if", "for", "when", "where", "whenever"):
            raise self.error(
                f"'{word}' is not a condition; write e.g. \\text{{if }} z > 0 or \\text{{otherwise}}"
            )
        parts = [self.relation_chain()]
        while True:
            save = self.i
            if self.at(r"\land", r"\wedge") or (
                self.at(",") and self.peek().kind in ("letter", "num")
            ):
                self.advance()
            elif self._text_word() == "and":
                pass
            else:
                self.i = save
                break
            parts.append(self.relation_chain())
        return sp.And(*parts)

    def relation_chain(self) -> sp.Basic:
        relations = {
            ">": sp.StrictGreaterThan,
            "<": sp.StrictLessThan,
            r"\geq": sp.GreaterThan,
            r"\leq": sp.LessThan,
            "=": sp.Eq,
        }
        lhs = self.expression()
        if not self.at(*relations):
            raise self.error(
                "expected a condition such as z > 0, 0 \\le z < 1 or \\text{otherwise}"
            )
        parts = []
        while self.at(*relations):
            relation = relations[self.advance().text]
            rhs = self.expression()
            parts.append(relation(lhs, rhs))
            lhs = rhs
        return sp.And(*parts)

    # Sums --------------------------------------------------------------------------------------
    def summation(self) -> sp.Expr:
        start = self.advance()
        if not self.at("_"):
            raise self.error("write the summation index, e.g. \\sum_i", start)
        self.advance()
        lower: sp.Expr | None = None
        if self.at("{"):
            self.advance()
            index = self._sum_index()
            if self.at("="):
                self.advance()
                lower = self._limit()
            self.expect("}", "'}' after the summation index")
        else:
            index = self._sum_index()
        upper = None
        if self.at("^"):
            self.advance()
            if lower is None:
                raise self.error(
                    "a sum with an upper limit needs a lower one, e.g. \\sum_{i=0}^{n-1}"
                )
            upper = self.group_limit() if self.at("{") else self._limit_token()
        elif lower is not None:
            raise self.error("a sum with a lower limit needs an upper one, e.g. \\sum_{i=0}^{n-1}")
        if self.tok.kind == "end" or self.at("+", "-", "=", "}", ")"):
            raise self.error("the sum has nothing to add up", start)
        self._check_sum_index(index, start)
        self.open_sums.append(index.name)
        try:
            body = self.term()
        finally:
            self.open_sums.pop()
        return self._sum(body, index, lower, upper, start)

    def _check_sum_index(self, index: sp.Symbol, start: Token) -> None:
        """Refuse a sum over the question's own free index or over the index of a sum around it."""
        column = self.where[min(start.pos, len(self.where) - 1)] + 1
        owners = dict(self.names.own_indices)
        if index.name in owners:
            raise IndexMisuse(
                f"{index} is the question's own index ({owners[index.name]}); it cannot also be "
                f"summed over (the sum at column {column}); sum over another letter"
            )
        if index.name in self.open_sums:
            raise IndexMisuse(
                f"the sum over {index} at column {column} is inside another sum over {index}; "
                "give the inner sum another letter"
            )

    def _sum_index(self) -> sp.Symbol:
        token = self.advance()
        if token.kind != "letter" or token.text not in _INDEX_LETTERS:
            raise self.error("the summation index must be one letter, e.g. \\sum_i", token)
        name = token.text
        if self.at("'"):
            self.advance()
            name += "'"
        return _index_symbol(name)

    def _limit(self) -> sp.Expr:
        self.limits_mode += 1
        try:
            return self.expression()
        finally:
            self.limits_mode -= 1

    def group_limit(self) -> sp.Expr:
        self.expect("{", "'{'")
        value = self._limit()
        self.expect("}", "'}' after the upper limit")
        return value

    def _limit_token(self) -> sp.Expr:
        token = self.tok
        if token.kind == "num" and len(token.text) == 1:
            self.advance()
            return sp.Integer(token.text)
        if token.kind == "letter" and token.text in "nN":
            self.advance()
            return SIZE
        raise self.error("write the upper limit in braces, e.g. ^{n-1}", token)

    def _sum(self, body: sp.Expr, index: sp.Symbol, lower, upper, start: Token) -> sp.Expr:
        size = self.names.index_range(body, index)
        if lower is None:
            if size is None:
                raise self.error(
                    f"cannot tell which nodes the sum over {index} runs over; write limits, "
                    f"e.g. \\sum_{{{index}=0}}^{{2}}",
                    start,
                )
            return IndexSum(body, (index, 0, size - 1))
        counted = upper.has(SIZE, LAYER_SIZE)  # the upper limit is written with n: its layer's size
        if upper.has(SIZE):
            if size is None:
                raise self.error(
                    f"cannot tell which layer's n the sum over {index} means; write n^{{(l)}}",
                    start,
                )
            upper = upper.xreplace({SIZE: sp.Integer(size)})
        upper = upper.replace(LAYER_SIZE, lambda m: sp.Integer(self.names.layer_size(int(m))))
        if not (lower.is_Integer and upper.is_Integer):
            raise self.error("the limits of a sum must be numbers or n^{(l)}-1", start)
        if counted and lower == 1 and size is not None and upper == size:
            lower, upper = (
                sp.Integer(0),
                sp.Integer(size - 1),
            )  # nodes counted from 1 to n: every node
        if upper - lower + 1 > MAX_SUM_TERMS:
            raise self.error(f"a sum of more than {MAX_SUM_TERMS} terms is not {self.one}", start)
        if upper < lower:
            return sp.Integer(0)
        return IndexSum(body, (index, lower, upper))


def _gaps(conditions: list[sp.Basic]) -> str:
    """Where cases in one real variable leave it undefined, in words ('' when they cover every value;
    overlaps are fine: the first true case wins)."""
    variables = set().union(*(cond.free_symbols for cond in conditions))
    if sp.true in conditions or len(variables) != 1 or not next(iter(variables)).is_real:
        return ""
    (var,) = variables
    try:
        gaps = sp.S.Reals - sp.Union(*(cond.as_set() for cond in conditions))
    except (NotImplementedError, TypeError, ValueError):
        return ""
    return "" if gaps == sp.S.EmptySet else _describe(gaps, var)


def _describe(where: sp.Set, var: sp.Symbol) -> str:
    """A set of real numbers in words a student reads: z = 0, 0 < z < 1, z > 2."""
    parts = []
    for piece in where.args if isinstance(where, sp.Union) else (where,):
        if isinstance(piece, sp.FiniteSet):
            parts += [f"{var} = {p}" for p in piece.args]
        elif isinstance(piece, sp.Interval):
            low = "" if piece.inf == -sp.oo else f"{piece.inf} {'<' if piece.left_open else '≤'} "
            high = "" if piece.sup == sp.oo else f" {'<' if piece.right_open else '≤'} {piece.sup}"
            parts.append(f"{low}{var}{high}")
        else:
            parts.append(f"{var} in {piece}")
    return " and ".join(parts)


# Entry points --------------------------------------------------------------------------------------
def check_text(text: str, what: str = "answer") -> None:
    """Refuse a text that is empty, longer than MAX_CHARS or holds a control character."""
    if not isinstance(text, str) or not text.strip():
        raise LatexInputError(f"the {what} is empty")
    if len(text) > MAX_CHARS:
        raise LatexInputError(
            f"the {what} is {len(text)} characters long; at most {MAX_CHARS} are read"
        )
    bad = next((i for i, c in enumerate(text) if not (c.isprintable() or c in "\t\n\r")), None)
    if bad is not None:
        raise LatexInputError(f"unexpected control character at column {bad + 1}")


_MATH_DELIMITERS = re.compile(r"^\s*(\$\$|\$|\\\(|\\\[)(.*?)(\$\$|\$|\\\)|\\\])\s*$", re.S)


def _strip_math_delimiters(text: str) -> str:
    """$...$, $$...$$, \\(...\\) and \\[...\\] around the whole answer are fine (replaced by spaces)."""
    match = _MATH_DELIMITERS.match(text)
    if match and {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}[match.group(1)] == match.group(
        3
    ):
        return " " * match.start(2) + match.group(2) + " " * (len(text) - match.end(2))
    return text


def read_members(text: str, names: Resolver, numbers: bool = False) -> list[Member]:
    """The members of ``m0 = m1 ≈ …`` as SymPy expressions, each name as ``names`` resolves it (no time
    limit); with ``numbers``, a member that is one decimal number is told its significant digits."""
    check_text(text, names.what)
    normalised, where = _normalise(_strip_math_delimiters(text))
    parser = _Parser(normalised, text, where, names)
    members = parser.chain()
    return [_with_digits(m, numbers) for m in members]


def read_expression(text: str, names: Resolver) -> sp.Expr:
    """One expression (not an equation) as a SymPy expression, each name as ``names`` resolves it."""
    members = read_members(text, names)
    if len(members) != 1:
        raise LatexInputError("write an expression, not an equation (leave out the left-hand side)")
    return members[0].expr


_DECIMAL_MEMBER = re.compile(
    r"^\s*(?:\\boxed\s*\{)?\s*[+\-−]?\s*(?P<mantissa>\d+(?:[.,]\d*)?|[.,]\d+|\d+\{,\}\d+)"
    r"\s*(?:(?:\\times|\\cdot|\*|×|·)\s*10\s*\^\s*\{?\s*[+\-−]?\s*\d+\s*\}?|[eE][+\-]?\d+)?\s*\}?\s*$"
)


def significant_digits(mantissa: str) -> int:
    """Significant digits of a decimal as written: 0.07130 has 4, 12 has 2."""
    digits = re.sub(r"[.,{}]", "", mantissa).lstrip("0")
    return max(len(digits), 1)


def _with_digits(member: Member, numbers: bool) -> Member:
    if not numbers:
        return member
    match = _DECIMAL_MEMBER.match(member.source)
    if not match:
        return member
    return Member(
        member.expr, member.relation, member.source, significant_digits(match.group("mantissa"))
    )
