"""LaTeX in: student answers and user definitions, read into the engine's SymPy symbols.

latex2sympy2 (an ANTLR grammar) does the parsing; it never sees the notation. Our own scanner
first replaces each notation quantity (a_j^{(L)}, w_{jk}^{(2)}, x_k, C_0, \\delta_j^{(l)},
\\frac{\\partial C_0}{\\partial a_j^{(L)}}, \\sigma'(...), g'(...)) by a placeholder that the
grammar reads as one symbol or function, and maps the placeholders back afterwards: so
a_j^{(L)} is an indexed quantity, not a power. Nothing is eval'd or sympified; the input is
bounded in length, and parsing runs under a time limit (``derive.limits``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sympy as sp

from .activations import SIGMA, Z
from .errors import DeriveError
from .limits import run_limited

if TYPE_CHECKING:
    from .network import Network

MAX_CHARS = 600
PARSE_SECONDS = 10.0
_RESERVED = ("\\Upsilon", "\\Omega")  # our placeholders; not part of the notation


class LatexInputError(DeriveError):
    """Input that cannot be read; the message says where."""


@dataclass(frozen=True)
class Context:
    """What the names in an answer refer to: the network, and the layer 'l' means (if any)."""

    net: "Network"
    layer: int | None = None
    variable_z: bool = False  # a bare z is allowed (an activation's own variable)


@dataclass
class _Scan:
    """What each placeholder stands for, and the user's text it replaced."""

    symbols: dict[str, sp.Expr] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # the user's text each placeholder replaced

    def symbol(self, value: sp.Expr, source: str) -> str:
        name = f"Upsilon_{len(self.symbols) + 1}"
        self.symbols[name], self.sources[name] = value, source.strip()
        return f" \\Upsilon_{{{len(self.symbols)}}} "


# Scanning ---------------------------------------------------------------------------
_BASE = re.compile(r"(\\delta|(?<![A-Za-z\\])[abzwxy])(?![A-Za-z])")
_SUB = re.compile(r"\s*_(?:\{\s*([A-Za-z0-9,' ]{1,8}?)\s*\}|([A-Za-z0-9]))")
_LAYER = re.compile(r"\s*\^(?:\{\s*\(\s*([A-Za-z0-9+\- ]{1,8}?)\s*\)\s*\}|\(\s*([A-Za-z0-9+\- ]{1,8}?)\s*\))")
_COST = re.compile(r"(?<![A-Za-z\\])C(?:_\{\s*0\s*\}|_0)?(?![A-Za-z0-9])")
_FUNCTION = re.compile(
    r"(?P<head>\\sigma|\\tanh|(?<![A-Za-z\\])g|\\(?:operatorname|mathrm|text)\{\s*(?P<named>[A-Za-z]+)\s*\})"
    r"(?:\s*\^\{\s*\(\s*(?P<layer>[A-Za-z0-9+\- ]{1,8}?)\s*\)\s*\})?"
    r"\s*(?P<prime>'|\^\{\s*\\prime\s*\}|\^\\prime|\^\{\s*'\s*\})?\s*\(")
_PARTIAL = re.compile(r"\\frac\s*\{\s*\\partial\s*\\Upsilon_\{(\d+)\}\s*\}\s*\{\s*\\partial\s*\\Upsilon_\{(\d+)\}\s*\}")
_OPEN_SUM = re.compile(r"\\sum\s*_(?:\{\s*([A-Za-z]'?)\s*\}|([A-Za-z]))(?!\s*=)")
_SCIENTIFIC = re.compile(r"(\d)[eE]([+-]?\d+)")
_KNOWN_FUNCTIONS = r"known: \sigma, \tanh, g, \operatorname{ReLU}, \operatorname{softplus}"
_HEADS = {"sigma": "sigmoid", "tanh": "tanh", "relu": "relu", "softplus": "softplus",
          "leakyrelu": "leaky-relu", "g": "g", "id": "identity"}


def _replace_quantities(t: str, scan: "_Scan", ctx: Context) -> str:
    """Each base letter with its subscript and (layer) superscript, in either order, by a placeholder."""
    out, pos = [], 0
    while (match := _BASE.search(t, pos)) is not None:
        out.append(t[pos:match.start()])
        end, sub, layer = match.end(), None, None
        for _ in range(2):
            if sub is None and (m := _SUB.match(t, end)):
                sub, end = m.group(1) if m.group(1) is not None else m.group(2), m.end()
            elif layer is None and (m := _LAYER.match(t, end)):
                layer, end = m.group(1) if m.group(1) is not None else m.group(2), m.end()
        source = t[match.start():end]
        out.append(scan.symbol(_quantity(match.group(1), sub, layer, source.strip(), ctx), source))
        pos = end
    out.append(t[pos:])
    return "".join(out)


def _index_symbol(name: str) -> sp.Expr:
    name = name.strip()
    if name.isdigit():
        return sp.Integer(int(name))
    return sp.Symbol(name, integer=True, nonnegative=True)


def _indices(text: str, count: int, where: str) -> list[sp.Expr]:
    text = text.strip()
    parts = [p for p in re.split(r"[,\s]+", text) if p] if ("," in text or " " in text) else (
        [text] if count == 1 else re.findall(r"[A-Za-z]'?|\d", text))
    if len(parts) != count:
        raise LatexInputError(f"{where} needs {count} index{'es' if count > 1 else ''}, got '{text}'")
    return [_index_symbol(p) for p in parts]


def _layer_number(text: str | None, ctx: Context, where: str) -> int | None:
    if text is None:
        return None
    compact = text.replace(" ", "")
    match = re.fullmatch(r"([0-9]+|[Ll])([+-][0-9]+)?", compact)
    if not match:
        raise LatexInputError(f"cannot read the layer '({text})' of {where}; write e.g. (2), (L) or (L-1)")
    base, offset = match.groups()
    if base == "L":
        value = ctx.net.L
    elif base == "l":
        if ctx.layer is None:
            raise LatexInputError(f"'l' in {where} is not fixed by this question; write the layer number")
        value = ctx.layer
    else:
        value = int(base)
    value += int(offset or 0)
    if not 0 <= value <= ctx.net.L:
        raise LatexInputError(f"{where}: layer {value} does not exist (the network has layers 0..{ctx.net.L})")
    return value


def _quantity(base: str, sub: str | None, layer_text: str | None, where: str, ctx: Context) -> sp.Expr:
    s, net = ctx.net.symbols, ctx.net
    if base == "z" and sub is None and layer_text is None and ctx.variable_z:
        return Z
    if base in "xy":
        if sub is None:
            raise LatexInputError(f"'{where}' needs a node index, e.g. {base}_k")
        return (s.x if base == "x" else s.y)[_indices(sub, 1, where)[0]]
    layer = _layer_number(layer_text, ctx, where)
    if sub is None or layer is None:
        raise LatexInputError(f"'{where}' needs a node index and a layer, e.g. "
                              f"{'w_{jk}^{(L)}' if base == 'w' else base.lstrip(chr(92)) + '_j^{(L)}'}")
    if base == "w":
        j, k = _indices(sub, 2, where)
        if layer == 0:
            raise LatexInputError(f"'{where}': weights start at layer 1")
        return s.w[layer, j, k]
    node = _indices(sub, 1, where)[0]
    if base == "a":
        return s.x[node] if layer == 0 else s.a[layer, node]
    table = {"b": s.b, "z": s.z, "\\delta": s.delta}
    return table[base][layer, node]


def _unbrace_calls(t: str) -> str:
    """SymPy prints g{\\left(z \\right)}; the grammar wants g(z): drop the braces around the call."""
    out, pos = [], 0
    while (start := t.find("{\\left(", pos)) >= 0:
        depth, i = 0, start + 1
        while i < len(t):
            if t.startswith("\\left(", i):
                depth, i = depth + 1, i + 6
            elif t.startswith("\\right)", i):
                depth, i = depth - 1, i + 7
                if depth == 0:
                    break
            else:
                i += 1
        close = i + len(t[i:]) - len(t[i:].lstrip())
        if depth == 0 and close < len(t) and t[close] == "}":
            out.append(t[pos:start] + t[start + 1:i])
            pos = close + 1
        else:
            out.append(t[pos:start + 1])
            pos = start + 1
    return "".join(out) + t[pos:]


_SIMPLE = ((r"\left(", "("), (r"\right)", ")"), (r"\left[", "("), (r"\right]", ")"), (r"\left.", ""),
           (r"\right.", ""), (r"\log", r"\ln"), (r"\cdot", " * "), (r"\times", " * "), (r"\mathrm{e}", "e"),
           ("\\,", " "), ("\\;", " "), ("\\!", ""))


def _closing_paren(t: str, start: int) -> int:
    """Index of the ')' matching the '(' just before ``start``."""
    depth = 1
    for i in range(start, len(t)):
        depth += {"(": 1, ")": -1}.get(t[i], 0)
        if depth == 0:
            return i
    raise LatexInputError(f"unbalanced parenthesis: no ')' closes the '(' after '{t[max(0, start - 12):start]}'")


def _prepare(text: str, scan: _Scan, ctx: Context) -> str:
    """Notation to placeholders: functions (their arguments parsed on their own), C_0, quantities,
    partial derivatives, sums without limits."""
    t = _unbrace_calls(text)
    for old, new in _SIMPLE:
        t = t.replace(old, new)
    t = _SCIENTIFIC.sub(lambda m: f"{m.group(1)} * 10^{{{m.group(2)}}}", t)
    out, pos = [], 0
    while (m := _FUNCTION.search(t, pos)) is not None:
        head = (m.group("named") or m.group("head")).lstrip("\\").lower()
        if head not in _HEADS:
            raise LatexInputError(f"unknown function '{head}'; {_KNOWN_FUNCTIONS}")
        primed = m.group("prime") is not None
        layer = _layer_number(m.group("layer"), ctx, m.group(0).strip()) if m.group("layer") else None
        close = _closing_paren(t, m.end())
        argument = _to_expr(t[m.end():close], scan, ctx)
        if head == "tanh" and not primed:
            value = sp.tanh(argument)
        else:
            act = _activation_for(_HEADS[head], layer, argument, ctx)
            value = act.prime(argument) if primed else act(argument)
        out.append(t[pos:m.start()] + scan.symbol(value, t[m.start():close + 1]))
        pos = close + 1
    t = "".join(out) + t[pos:]
    t = _COST.sub(lambda m: scan.symbol(ctx.net.symbols.cost, m.group(0)), t)
    t = _replace_quantities(t, scan, ctx)
    t = _PARTIAL.sub(lambda m: scan.symbol(sp.Derivative(scan.symbols[f"Upsilon_{m.group(1)}"],
                                                          scan.symbols[f"Upsilon_{m.group(2)}"]), m.group(0)), t)
    return _OPEN_SUM.sub(lambda m: f"\\sum_{{{m.group(1) or m.group(2)}=0}}^{{\\Omega}}", t)


def _to_expr(text: str, scan: _Scan, ctx: Context) -> sp.Expr:
    if not text.strip():
        raise LatexInputError("empty parentheses")
    prepared = _prepare(text, scan, ctx)
    return _restore(_grammar(prepared, scan), scan, ctx)


# Parsing --------------------------------------------------------------------------------
def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise LatexInputError("the answer is empty")
    if len(text) > MAX_CHARS:
        raise LatexInputError(f"the answer is {len(text)} characters long; at most {MAX_CHARS} are read")
    bad = next((i for i, c in enumerate(text) if not (c.isprintable() or c in "\t\n")), None)
    if bad is not None:
        raise LatexInputError(f"unexpected control character at column {bad + 1}")
    if "=" in re.sub(r"_\{[^{}]*=[^{}]*\}", "", text):
        raise LatexInputError("write an expression, not an equation (leave out the left-hand side)")
    for word in _RESERVED:
        if word in text:
            raise LatexInputError(f"'{word}' at column {text.index(word) + 1} is not part of the notation")


_PLACEHOLDER = re.compile(r" ?\\Upsilon_\{(\d+)\} ?")


def _grammar(text: str, scan: _Scan) -> sp.Expr:
    """latex2sympy2 on prepared text; its errors become one line that quotes the user's own text."""
    from latex2sympy2 import latex2sympy

    try:
        return latex2sympy(text)
    except Exception as error:  # noqa: BLE001 - the grammar raises bare Exceptions
        lines = str(error).splitlines()
        caret = next((line.index("^") for line in lines if line.lstrip().startswith(("~", "^"))), None)
        before = text[:caret] if caret is not None else text
        original = _PLACEHOLDER.sub(lambda m: scan.sources.get(f"Upsilon_{m.group(1)}", m.group(0)), before)
        where = (" at the end (is a bracket or brace not closed?)" if caret is not None and caret >= len(text.rstrip())
                 else f" after '{original.strip()[-30:]}'" if original.strip() else " at the start")
        raise LatexInputError(f"cannot parse the LaTeX{where}") from None


def _parse(text: str, ctx: Context) -> sp.Expr:
    _check_text(text)
    return _to_expr(text, _Scan(), ctx)


def _restore(expr: sp.Expr, scan: _Scan, ctx: Context) -> sp.Expr:
    """Placeholders back to the engine's quantities, functions, sums; anything unknown is refused."""
    if isinstance(expr, (sp.Eq, sp.Rel)) or not isinstance(expr, sp.Expr):
        raise LatexInputError("write an expression, not an equation (leave out the left-hand side)")
    _bounded(expr)
    undefined = expr.atoms(sp.core.function.AppliedUndef)  # the grammar's own f(x): not in the notation
    if undefined:
        names = sorted({type(f).__name__.lstrip("\\") for f in undefined})
        raise LatexInputError(f"unknown function {', '.join(names)}; {_KNOWN_FUNCTIONS}")
    placeholders = {}
    for sym in expr.atoms(sp.Symbol):
        name = re.sub(r"[{}]", "", sym.name)
        if name in scan.symbols:
            placeholders[sym] = scan.symbols[name]
    expr = expr.xreplace(placeholders)
    expr = _fix_sums(expr, ctx)
    if expr.has(sp.Symbol("e")):
        expr = expr.xreplace({sp.Symbol("e"): sp.E})
    unknown = {str(s) for s in expr.free_symbols if isinstance(s, sp.Symbol) and s not in _allowed(expr, ctx)}
    if unknown:
        raise LatexInputError(f"unknown symbol{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))}: "
                              "write quantities in the notation, e.g. a_j^{(L)}, w_{jk}^{(l)}, x_k, y_j, C_0")
    return expr


MAX_EXPONENT = 1000
MAX_DIGITS = 30


def _bounded(expr: sp.Expr) -> None:
    """Refuse numbers no hand derivation has (they would make every later step slow)."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and not node.exp.free_symbols:
            if not (node.exp.is_Number and abs(node.exp) <= MAX_EXPONENT):
                raise LatexInputError(f"exponents must be plain numbers up to {MAX_EXPONENT}")
        elif isinstance(node, sp.Integer) and abs(node) >= 10 ** MAX_DIGITS:
            raise LatexInputError(f"numbers are limited to {MAX_DIGITS} digits")


def _allowed(expr: sp.Expr, ctx: Context) -> set:
    """Free symbols an answer may contain: node indices, the cost, z where allowed."""
    allowed = {ctx.net.symbols.cost}
    for atom in expr.atoms(sp.Indexed):
        allowed |= {i for i in atom.indices if i.is_Symbol} | {atom.base.label}
    if ctx.variable_z:
        allowed.add(Z)
    return allowed


def _activation_for(head: str, layer: int | None, arg: sp.Expr, ctx: Context):
    from .activations import activation_named

    net = ctx.net
    if layer is None and isinstance(arg, sp.Indexed) and arg.base == net.symbols.z and arg.indices[0].is_Integer:
        layer = int(arg.indices[0])
    if head == "g":
        if layer is not None and 1 <= layer <= net.L:
            return net.activation(layer)
        if len(net.distinct_activations) == 1:
            return net.activations[0]
        raise LatexInputError("g is ambiguous here (the layers use different activations); write g^{(l)}")
    # sigma is the standard sigmoid (a gain is written out: \sigma(3z)); other names mean the
    # network's own activation of that kind (a leaky ReLU keeps its slope)
    for act in net.activations:
        if act.name == head or (head != "sigmoid" and act.name.split("(")[0] == head):
            return act
    return activation_named(head)


def _fix_sums(expr: sp.Expr, ctx: Context) -> sp.Expr:
    """Sum variables get the index assumptions; an open sum runs over its index's layer."""
    from .expansion import index_ranges

    omega = sp.Symbol("Omega")

    def rebuild(s: sp.Sum) -> sp.Expr:
        (var, lo, hi), = s.limits
        index = _index_symbol(var.name)
        body = s.function.xreplace({var: index})
        if hi == omega:
            ranges = index_ranges(body, ctx.net)
            if index not in ranges:
                raise LatexInputError(f"cannot tell which nodes the sum over {var} runs over; "
                                      f"write limits, e.g. \\sum_{{{var}=0}}^{{2}}")
            hi = ranges[index] - 1
        return sp.Sum(body, (index, lo, hi))

    if any(len(s.limits) != 1 for s in expr.atoms(sp.Sum)):
        raise LatexInputError("write one summation index per \\sum")
    return expr.replace(lambda e: isinstance(e, sp.Sum), rebuild)


def parse_answer(text: str, ctx: Context, seconds: float = PARSE_SECONDS) -> sp.Expr:
    """A student's LaTeX as a SymPy expression in the engine's notation (time-limited)."""
    return run_limited(_parse, text, ctx, seconds=seconds, what="reading the LaTeX")


# Definitions --------------------------------------------------------------------------------
_ACTIVATION_LHS = re.compile(r"^\s*([A-Za-z])\s*\(\s*z\s*\)\s*$")


def _split_definition(text: str, what: str, example: str) -> tuple[str, str]:
    if text.count("=") != 1:
        raise LatexInputError(f"write the {what} as one equation, e.g. {example}")
    lhs, rhs = text.split("=")
    return lhs, rhs


def _parse_activation(text: str):
    from .activations import defined_activation
    from .network import Network

    lhs, rhs = _split_definition(text, "activation", "'g(z) = \\frac{z}{1+|z|}'")
    match = _ACTIVATION_LHS.match(lhs)
    if not match:
        raise LatexInputError(f"the left-hand side must be g(z) (any one letter), got '{lhs.strip()}'")
    _check_text(rhs)
    expr = _to_expr(rhs, _Scan(), Context(Network([1, 1], activation="identity"), variable_z=True))
    if expr.free_symbols - {Z}:
        raise LatexInputError("an activation may use only z")
    if not expr.has(Z):
        raise LatexInputError("the activation does not depend on z")
    return defined_activation(match.group(1), expr)


def _parse_cost(text: str):
    from .costs import A, Y, defined_cost
    from .network import Network

    lhs, rhs = _split_definition(text, "cost", "'C_0 = \\frac{1}{2}\\sum_j (a_j^{(L)} - y_j)^2'")
    if not _COST.fullmatch(lhs.strip()):
        raise LatexInputError(f"the left-hand side must be C_0, got '{lhs.strip()}'")
    _check_text(rhs)
    net = Network([1, 1], activation="identity")
    s = net.symbols
    expr = _to_expr(rhs, _Scan(), Context(net))
    factors = sp.Mul.make_args(expr)
    sums = [f for f in factors if isinstance(f, sp.Sum)]
    coefficient = sp.Mul(*(f for f in factors if not isinstance(f, sp.Sum)))
    if len(sums) != 1 or coefficient.free_symbols:
        raise LatexInputError("write the cost as (a number times) one sum over the output nodes j, "
                              "e.g. \\sum_j (a_j^{(L)} - y_j)^2")
    (total,) = sums
    index = total.limits[0][0]
    term = coefficient * total.function.xreplace({s.a[1, index]: A, s.y[index]: Y})
    if term.free_symbols - {A, Y}:
        raise LatexInputError("the summed term may use only a_j^{(L)} and y_j")
    return defined_cost(term)


def parse_activation(text: str, seconds: float = PARSE_SECONDS):
    """'g(z) = <LaTeX>' as an Activation (time-limited parse)."""
    return run_limited(_parse_activation, text, seconds=seconds, what="reading the activation")


def parse_cost(text: str, seconds: float = PARSE_SECONDS):
    """'C_0 = <LaTeX>' as a Cost (time-limited parse)."""
    return run_limited(_parse_cost, text, seconds=seconds, what="reading the cost")
