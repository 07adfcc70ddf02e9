"""SymPy printers for the notation: w_{jk}^{(l)}, dC_0/dw, g'(z), in LaTeX and plain text.

Products keep the order the engine wrote them in (chain-rule order). What the notation makes a
matter of presentation is decided here, on the same expressions: layer names ((2) or (L)), the upper
limit of a sum (2 or n^{(L-1)} - 1) and an activation's name (sigma or g^{(L)}).
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from derive.notation.symbols import MatrixKind, matrix_name
from derive.notation.formulas import signed_sum
from derive.notation.letters import ActivationNames, Notation, SumLimits, Superscript

_GREEK_TEXT = {
    "sigma": "σ",
    "delta": "δ",
    "alpha": "α",
    "beta": "β",
    "eta": "η",
    "gamma": "γ",
    "lambda": "λ",
}
_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class Highlight(sp.Function):
    """A factor marked for the reader (the one a step derives): printed \\derivehl{...} in LaTeX, as is in
    text. The documents that show highlights define \\derivehl (a colour)."""

    nargs = 1


class Given(sp.Function):
    """A value put in for a quantity (handcalcs' middle line: 2(0.7514 - 0.01)(0.1868)); printed as the
    value, parenthesised where a product or a sign needs it."""

    nargs = 1


def _is_activation_prime(expr: sp.Derivative) -> bool:
    """Derivative(g(z), z) for an undefined g: printed g'(z)."""
    inner = expr.expr
    return (
        isinstance(inner, AppliedUndef)
        and len(inner.args) == 1
        and len(expr.variable_count) == 1
        and expr.variable_count[0][1] == 1
        and inner.args[0] == expr.variable_count[0][0]
    )


def _is_fraction(expr: sp.Expr) -> bool:
    """A product with a division in it (y/a), kept whole as a factor of a larger product."""
    return isinstance(expr, sp.Mul) and any(
        arg.is_Pow and arg.exp.is_Number and arg.exp.is_negative for arg in expr.args
    )


def _negative_term(term: sp.Expr) -> bool:
    """A term of a sum written with a minus: a negative number or a product with a negative coefficient
    (only the leading number is asked; asking SymPy about a nested sum's sign walks the whole tree)."""
    lead = term.args[0] if isinstance(term, sp.Mul) and term.args else term
    return bool(lead.is_Number and lead.is_negative)


def _is_quantity(expr: sp.Expr) -> bool:
    return isinstance(expr, (sp.Indexed, sp.Symbol))


class _NotationMixin:
    notation: Notation
    _print: Callable[..., str]  # the printer's own (LatexPrinter's, StrPrinter's)
    _change_prefix = "Δ"

    def _as_ordered_terms(self, expr, order=None):
        """Sums in SymPy's usual order (a - y, 1 - a); products keep the order they were written in.

        A sum does not open with a minus when it has a positive term (SymPy's order opens 1 - a with
        the 1, but w - eta dC/dw with -eta dC/dw): w - eta dC/dw, as every textbook writes a step of
        gradient descent, and 1 - eta lambda/n, not -eta lambda/n + 1."""
        terms = expr.as_ordered_terms()
        if len(terms) > 1 and _negative_term(terms[0]):
            for n, term in enumerate(terms):
                if not _negative_term(term):
                    return [term, *terms[:n], *terms[n + 1 :]]
        return terms

    def _index_parts(self, expr: sp.Indexed) -> tuple[str, list[str], str | None]:
        s = self.notation.symbols
        indices = [self._print(i) for i in expr.indices]
        if expr.base in (s.dw, s.db):  # a weight's or bias's change: Δw, Δb
            letter = self.notation.weight if expr.base == s.dw else self.notation.bias
            return self._change_prefix + letter, indices[1:], self._layer(expr.indices[0])
        if expr.base in s.layered:
            return self._print(expr.base.label), indices[1:], self._layer(expr.indices[0])
        return self._print(expr.base.label), indices, None

    def _layer(self, layer: sp.Expr | str) -> str:
        """A layer as written: a number by the notation's layer names (2, or L-1), a symbolic layer
        (l, l + 1) as SymPy prints it."""
        if isinstance(layer, str):  # the layer of a summary matrix, as its name holds it
            return self.notation.layer_name(int(layer)) if layer.isdigit() else layer
        return self.notation.layer_name(int(layer)) if layer.is_Integer else self._print(layer)

    def _upper_limit(self, expr: sp.Sum) -> sp.Expr:
        """A sum's upper limit: the number, or with ``sum_limits="sizes"`` the summed layer's size
        n^{(m)} - 1 (only printed so: the expression keeps the number the checks expand)."""
        ((var, _, hi),) = expr.limits
        if self.notation.sum_limits is not SumLimits.SIZES or not hi.is_Integer:
            return hi
        layer = _summed_layer(var, expr.function, self.notation)
        return (
            hi
            if layer is None
            else sp.Add(self.notation.symbols.n[layer], sp.S.NegativeOne, evaluate=False)
        )

    def _layer_activation(self, expr: sp.Expr) -> str | None:
        """The layer of an activation applied at a weighted input, g(z_j^{(m)}), when the notation names
        activations by layer (then printed g^{(m)}); None otherwise."""
        nt = self.notation
        if (
            nt.activation_names is not ActivationNames.LAYER
            or not isinstance(expr, AppliedUndef)
            or len(expr.args) != 1
        ):
            return None
        arg = expr.args[0]
        if not isinstance(arg, sp.Indexed) or arg.base != nt.symbols.z:
            return None
        layer = arg.indices[0]
        if (
            nt.layer_activations
        ):  # bound to a network: only its layers' activations, not their helpers
            if layer.is_Integer:
                if (
                    not 1 <= int(layer) <= len(nt.layer_activations)
                    or nt.layer_activations[int(layer) - 1] != expr.func.__name__
                ):
                    return None
            elif expr.func.__name__ not in nt.layer_activations:
                return None
        return self._layer(layer)

    @staticmethod
    def _joined(indices: list[str]) -> str:
        return "".join(indices) if all(len(i) == 1 for i in indices) else ",".join(indices)


class NotationLatexPrinter(_NotationMixin, LatexPrinter):
    """LaTeX in the project's notation."""

    _change_prefix = r"\Delta "

    def __init__(self, notation: Notation, **settings) -> None:
        settings.setdefault("order", "none")
        super().__init__(settings)
        self.notation = notation

    def _print_Pow(self, expr: sp.Pow) -> str:
        plain = expr.exp.is_Number and (
            expr.exp.is_negative or expr.exp == sp.S.Half
        )  # 1/a, sqrt(a): SymPy's
        if (
            isinstance(expr.base, (sp.Indexed, sp.Sum)) and not plain
        ):  # no double superscript; (sum e^z)^2
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_Mul(self, expr: sp.Mul) -> str:
        coefficient, *rest = expr.args
        if (
            coefficient.is_Rational
            and not coefficient.is_Integer
            and len(rest) >= 2
            and not any(f.is_Pow and f.exp.is_Number and f.exp.is_negative for f in rest)
        ):
            # A fraction leads a product of several factors, \frac{1}{2} (a - y) (...) x: a fraction of the
            # whole product would be one box no line break can enter (lambda/(2n) stays one fraction).
            sign = "- " if coefficient.is_negative else ""
            return rf"{sign}\frac{{{abs(coefficient.p)}}}{{{coefficient.q}}} " + self._print(
                sp.Mul(*rest, evaluate=False)
            )
        return super()._print_Mul(expr)

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        base, subs, layer = self._index_parts(expr)
        if layer is None:
            return f"{base}_{{{self._joined(subs)}}}"
        sup = layer_superscript(layer, self.notation, tex=True)
        if not subs:
            return f"{base}{sup}"
        return f"{base}_{{{self._joined(subs)}}}{sup}"

    def _print_Function(self, expr, exp=None) -> str:
        layer = self._layer_activation(expr)
        if layer is None:
            return super()._print_Function(expr, exp)
        printed = (
            activation_latex(self.notation, layer)
            + rf"{{\left({self._print(expr.args[0])} \right)}}"
        )
        return printed if exp is None else rf"\left({printed}\right)^{{{exp}}}"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        if _is_activation_prime(expr):
            layer = self._layer_activation(expr.expr)
            name = (
                self._function_name(expr.expr) + "'"
                if layer is None
                else activation_latex(self.notation, layer, prime=True)
            )
            return rf"{name}\!\left({self._print(expr.expr.args[0])}\right)"
        ((var, count),) = expr.variable_count if len(expr.variable_count) == 1 else ((None, 0),)
        if var is None or count != 1:
            return super()._print_Derivative(expr)
        d = r"\partial" if isinstance(var, sp.Indexed) else "d"
        v = self._print(var)
        if _is_quantity(expr.expr):
            return rf"\frac{{{d} {self._print(expr.expr)}}}{{{d} {v}}}"
        return rf"\frac{{{d}}}{{{d} {v}}}\left({self._print(expr.expr)}\right)"

    def _function_name(self, applied: AppliedUndef) -> str:
        full = self._print(applied)
        return full.split(r"{\left(")[0]

    def _print_Highlight(self, expr: Highlight) -> str:
        inner = self._print(expr.args[0])
        return (
            rf"\derivehl{{\left({inner}\right)}}"
            if isinstance(expr.args[0], sp.Add)
            else rf"\derivehl{{{inner}}}"
        )

    def _print_Heaviside(self, expr, exp=None) -> str:
        power = f"^{{{exp}}}" if exp is not None else ""
        return rf"H{power}\left({self._print(expr.args[0])}\right)"

    def _print_MatrixSymbol(self, expr: sp.MatrixSymbol) -> str:
        name = matrix_name(expr)
        kind = name.kind
        nt, sup = self.notation, layer_superscript(self._layer(name.layer), self.notation, tex=True)
        cost = self._print(nt.symbols.cost)
        names = {
            MatrixKind.DELTA: f"{_tex_letter(nt.delta)}{sup}",
            MatrixKind.GPRIME: (
                rf"{self._primed_activation(name.layer)}"
                rf"\!\left({_tex_letter(nt.preactivation)}{sup}\right)"
            ),
            MatrixKind.GRAD_C: rf"\nabla_{{{_tex_letter(nt.activation_value)}{sup}}} {cost}",
            MatrixKind.W: f"{nt.weight.upper()}{sup}",
            MatrixKind.A: f"{_tex_letter(nt.activation_value)}{sup}",
            MatrixKind.DC_DB: rf"\frac{{\partial {cost}}}{{\partial {nt.bias}{sup}}}",
            MatrixKind.DC_DW: rf"\frac{{\partial {cost}}}{{\partial {nt.weight.upper()}{sup}}}",
            MatrixKind.JACOBIAN: (
                rf"\frac{{\partial {_tex_letter(nt.activation_value)}{sup}}}"
                rf"{{\partial {_tex_letter(nt.preactivation)}{sup}}}"
            ),
        }
        return names[kind]

    def _primed_activation(self, layer: str) -> str:
        """The activation's derivative in a summary matrix g'(z^{(l)}): the layer stands on z alone
        (sigma'^{2} reads as a square), or with activations named by layer inside g's own superscript,
        g^{(L)\\prime}."""
        nt = self.notation
        if nt.activation_names is ActivationNames.LAYER:
            return activation_latex(nt, self._layer(layer), prime=True)
        return _tex_letter(nt.activation) + "'"

    def _print_Transpose(self, expr) -> str:
        return rf"\left({self._print(expr.arg)}\right)^{{\mathsf{{T}}}}"

    def _print_HadamardProduct(self, expr) -> str:
        return r" \odot ".join(
            rf"\left({self._print(a)}\right)" if isinstance(a, sp.MatMul) else self._print(a)
            for a in expr.args
        )

    def _print_Sum(self, expr: sp.Sum) -> str:
        if (
            len(expr.limits) > 1
        ):  # a sum of sums (SymPy keeps one Sum with the innermost limit first)
            *inner, (var, lo, _) = expr.limits
            hi = self._print(self._upper_limit(expr.func(expr.function, expr.limits[-1])))
            inside = self._print(expr.func(expr.function, *inner))
            return rf"\sum_{{{self._print(var)}={self._print(lo)}}}^{{{hi}}} {inside}"
        ((var, lo, hi),) = expr.limits
        body = self._print(expr.function)
        if isinstance(expr.function, sp.Add):
            body = rf"\left({body}\right)"
        return rf"\sum_{{{self._print(var)}={self._print(lo)}}}^{{{self._print(self._upper_limit(expr))}}} {body}"


class NotationTextPrinter(_NotationMixin, StrPrinter):
    """Readable one-line Unicode text in the project's notation (products in chain-rule order)."""

    printmethod = "_derive_text"  # bypass Indexed._sympystr

    def __init__(self, notation: Notation) -> None:
        super().__init__({"order": "none"})
        self.notation = notation

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        name = expr.name
        return _GREEK_TEXT.get(name, name)

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        base, subs, layer = self._index_parts(expr)
        base = _GREEK_TEXT.get(base, base)
        sub = self._joined(subs)
        if layer is None:
            return f"{base}_{sub}"
        sup = layer_superscript(layer, self.notation, tex=False)
        return f"{base}_{sub}{sup}" if sub else f"{base}{sup}"

    def _function_text(self, applied, prime: str = "") -> str:
        """An activation's name in text: its own (σ, tanh), or the notation's letter with the layer (g^(L)),
        primed after the layer (g^(L)'; a prime before it, g'^(L), reads as a power of g')."""
        layer = self._layer_activation(applied)
        if layer is None:
            return _GREEK_TEXT.get(applied.func.__name__, applied.func.__name__) + prime
        return _primed_text(self.notation, layer, prime)

    def _print_Function(self, expr) -> str:
        return f"{self._function_text(expr)}({', '.join(self._print(a) for a in expr.args)})"

    _print_AppliedUndef = _print_Function

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        if _is_activation_prime(expr):
            return (
                f"{self._function_text(expr.expr, prime=chr(39))}({self._print(expr.expr.args[0])})"
            )
        (var, count), *more = expr.variable_count
        d = "∂" if isinstance(var, sp.Indexed) else "d"
        if more or count != 1:  # higher or mixed derivatives: each variable with its order
            top = f"{d}^{sum(c for _, c in expr.variable_count)}"
            below = " ".join(
                f"{d}{self._print(v)}" + (f"^{c}" if c != 1 else "") for v, c in expr.variable_count
            )
            return f"{top}/{below} [{self._print(expr.expr)}]"
        if _is_quantity(expr.expr):
            return f"{d}{self._print(expr.expr)}/{d}{self._print(var)}"
        return f"{d}/{d}{self._print(var)} [{self._print(expr.expr)}]"

    def _print_Sum(self, expr: sp.Sum) -> str:
        if (
            len(expr.limits) > 1
        ):  # a sum of sums (SymPy keeps one Sum with the innermost limit first)
            *inner, (var, lo, _) = expr.limits
            hi = self._print(self._upper_limit(expr.func(expr.function, expr.limits[-1])))
            return f"Σ_{{{self._print(var)}={self._print(lo)}..{hi}}} [{self._print(expr.func(expr.function, *inner))}]"
        ((var, lo, _),) = expr.limits
        hi = self._print(self._upper_limit(expr))
        return f"Σ_{{{self._print(var)}={self._print(lo)}..{hi}}} [{self._print(expr.function)}]"

    def _print_Highlight(self, expr: Highlight) -> str:
        inner = self._print(expr.args[0])
        return f"({inner})" if isinstance(expr.args[0], sp.Add) else inner

    def _print_Heaviside(self, expr) -> str:
        return f"H({self._print(expr.args[0])})"

    def _print_KroneckerDelta(self, expr) -> str:
        return f"δ_{self._joined([self._print(i) for i in expr.args])}"

    def _print_MatrixSymbol(self, expr: sp.MatrixSymbol) -> str:
        name = matrix_name(expr)
        kind = name.kind
        nt = self.notation
        sup = layer_superscript(self._layer(name.layer), nt, tex=False)
        g = _GREEK_TEXT.get(nt.activation, nt.activation)
        names = {
            MatrixKind.DELTA: f"{_GREEK_TEXT.get(nt.delta, nt.delta)}{sup}",
            MatrixKind.GPRIME: (
                _primed_text(nt, self._layer(name.layer), "'")
                if nt.activation_names is ActivationNames.LAYER
                else f"{g}'"
            )
            + f"({nt.preactivation}{sup})",
            MatrixKind.GRAD_C: f"∇_{nt.activation_value}{sup} {nt.cost}",
            MatrixKind.W: f"{nt.weight.upper()}{sup}",
            MatrixKind.A: f"{nt.activation_value}{sup}",
            MatrixKind.DC_DB: f"∂{nt.cost}/∂{nt.bias}{sup}",
            MatrixKind.DC_DW: f"∂{nt.cost}/∂{nt.weight.upper()}{sup}",
            MatrixKind.JACOBIAN: f"∂{nt.activation_value}{sup}/∂{nt.preactivation}{sup}",
        }
        return names[kind]

    def _print_Transpose(self, expr) -> str:
        return f"({self._print(expr.arg)})ᵀ"

    def _print_HadamardProduct(self, expr) -> str:
        return " ⊙ ".join(
            f"({self._print(a)})" if isinstance(a, sp.MatMul) else self._print(a) for a in expr.args
        )

    def _print_MatMul(self, expr) -> str:
        return " ".join(self._print(arg) for arg in expr.args)

    def _print_Pow(self, expr, rational=False) -> str:
        if (
            isinstance(expr.base, sp.Sum) and expr.exp.is_positive
        ):  # (Σ_j [e^z_j])^2, not a sum of squares
            return f"({self._print(expr.base)})^{self.parenthesize(expr.exp, PRECEDENCE['Pow'], strict=False)}"
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Mul(self, expr) -> str:
        factors = list(expr.args)
        coefficient = factors.pop(0) if len(factors) > 2 and factors[0].is_Number else None
        if any(
            _is_fraction(f) for f in factors[:-1]
        ):  # a fraction inside a product: -(y/a)·a·(1 - a)
            parts = [
                f"({self._print(f)})"
                if _is_fraction(f) or f.is_Add
                else self.parenthesize(f, PRECEDENCE["Mul"], strict=True)
                for f in factors
            ]
            lead = (
                ""
                if coefficient is None
                else "-"
                if coefficient == -1
                else (self.parenthesize(coefficient, PRECEDENCE["Mul"], strict=True) + "·")
            )
            return lead + "·".join(parts)
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Exp1(self, expr) -> str:
        return "e"


class NumbersLatexPrinter(NotationLatexPrinter):
    """LaTeX for worked numbers: short exact rationals as decimals (3/2 is 1.5), other numbers to
    ``digits`` significant digits, given values in parentheses inside products (2(0.75)(0.19))."""

    def __init__(self, notation: Notation, digits: int = 4) -> None:
        super().__init__(notation)
        self.digits = digits

    def _print_Rational(self, expr: sp.Rational) -> str:
        decimal = terminating_decimal(expr)
        if decimal is None:
            return super()._print_Rational(expr)
        return decimal

    def _print_Integer(self, expr: sp.Integer) -> str:
        return str(int(expr))

    def _print_Float(self, expr: sp.Float) -> str:
        return significant(expr, self.digits)

    def _print_Given(self, expr: Given) -> str:
        value = expr.args[0]
        if value.is_Rational and terminating_decimal(value) is None:  # 1/126 put in reads 0.007937
            return significant(value, self.digits)
        return self._print(value)  # bracketed by the product, power or sum around it where needed

    def _print_Pow(self, expr: sp.Pow) -> str:
        base = expr.base
        if isinstance(base, Given) and (
            isinstance(base.args[0], (sp.Add, sp.Mul, sp.Pow)) or _negative(base.args[0])
        ):
            return rf"\left({self._print(base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _as_ordered_terms(self, expr, order=None):
        """A sum with values put in keeps the order of the formula it came from (a - y stays first - second)."""
        if any(arg.has(Given) for arg in expr.args):
            return list(expr.args)
        return super()._as_ordered_terms(expr, order)

    def _print_Add(self, expr: sp.Add, order=None) -> str:
        if not expr.has(Given):
            return super()._print_Add(expr, order)
        texts = []
        for position, term in enumerate(self._as_ordered_terms(expr)):
            text = self._print(term)
            if isinstance(_value(term), sp.Add) and position > 0:
                text = rf"\left({text}\right)"
            texts.append(text)
        return signed_sum(texts)

    def _print_Mul(self, expr: sp.Mul) -> str:
        if not any(isinstance(f, Given) for f in expr.args):
            coefficient, rest = expr.as_coeff_Mul()
            if (
                coefficient.is_Rational
                and not coefficient.is_Integer
                and terminating_decimal(coefficient)
            ):
                return self._print(coefficient) + " " + self._print(rest)  # 4.5 w, not 9w/2
            return super()._print_Mul(expr)
        factors = list(expr.args)
        sign = ""
        if factors[0] == -1:
            sign, factors = "-", factors[1:]
        if all(
            isinstance(f, Given) or f.is_Number for f in factors
        ):  # numbers before symbols: 1.5 w
            factors.sort(key=lambda f: 0 if _value(f).is_number else 1)
        parts = []
        for position, factor in enumerate(factors):
            text = self._print(factor)
            # a number after another factor is bracketed (2 (0.75)), and a negative one after a sign
            bracket = position > 0 or (bool(sign) and _negative(_value(factor)))
            if isinstance(_value(factor), sp.Add) or (
                _value(factor).is_number and bracket and not text.startswith(r"\left(")
            ):
                text = rf"\left({text}\right)"
            parts.append(text)
        return sign + " ".join(parts)


def _negative(value: sp.Expr) -> bool:
    return bool(value.is_number and value.is_negative)


def _value(factor: sp.Expr) -> sp.Expr:
    return factor.args[0] if isinstance(factor, Given) else factor


def terminating_decimal(value: sp.Rational, max_digits: int = 8) -> str | None:
    """3/2 as '1.5', -1/8 as '-0.125'; None when the decimal does not end within ``max_digits`` places."""
    for places in range(0, max_digits + 1):
        if (value.p * 10**places) % value.q == 0:
            digits = value.p * 10**places // value.q
            sign = "-" if digits < 0 else ""
            text = str(abs(digits)).rjust(places + 1, "0")
            whole, fraction = (text[:-places], text[-places:]) if places else (text, "")
            return sign + whole + ("." + fraction if fraction else "")
    return None


def significant(value: sp.Expr, digits: int = 4) -> str:
    """A number to ``digits`` significant digits, in LaTeX (1.5\\times 10^{-7} when small or large)."""
    f = float(value)
    if f == 0:
        return "0"
    text = f"{f:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def numbers_latex(expr: sp.Expr, notation: Notation, digits: int = 4) -> str:
    """LaTeX of a worked formula with its numbers (given values and results) as a reader writes them; a
    result that is a number is a decimal (1/126 reads 0.007937)."""
    expr = sp.sympify(expr)
    if expr.is_Rational and terminating_decimal(expr) is None:
        return significant(expr, digits)
    return NumbersLatexPrinter(notation, digits).doprint(expr)


def latex(expr: sp.Expr, notation: Notation) -> str:
    """LaTeX for an expression in the given notation."""
    return NotationLatexPrinter(notation).doprint(expr)


def text(expr: sp.Expr, notation: Notation) -> str:
    """One line of Unicode text for an expression in the given notation."""
    return NotationTextPrinter(notation).doprint(expr)


def layer_superscript(layer: str, notation: Notation, tex: bool) -> str:
    """The superscript of a layer already named (``_layer``): ^{(2)} or ^{2} in LaTeX, ^(L-1) or ^L in
    text (where a plain superscript of more than one token keeps its parentheses). Every layered
    quantity, summary matrix and activation prints its layer through this function."""
    if tex:
        return f"^{{({layer})}}" if notation.superscript is Superscript.PAREN else f"^{{{layer}}}"
    return (
        f"^({layer})"
        if notation.superscript is Superscript.PAREN or not _simple(layer)
        else f"^{layer}"
    )


def activation_latex(notation: Notation, layer: str, prime: bool = False) -> str:
    """The notation's activation letter for a named layer, as LaTeX: g^{(L)}, or with a prime g^{(L)\\prime},
    the prime after the layer in the superscript (g'^{(L)} reads as a power of g')."""
    sup = layer_superscript(layer, notation, tex=True)
    return _tex_letter(notation.activation) + (sup[:-1] + r"\prime}" if prime else sup)


def _primed_text(notation: Notation, layer: str, prime: str) -> str:
    """The activation letter of a named layer in text, g^(L), primed after its layer: g^(L)'; a plain
    superscript is bracketed first, (g^L)', so that the prime is not read as part of the layer."""
    letter = _GREEK_TEXT.get(notation.activation, notation.activation)
    name = letter + layer_superscript(layer, notation, tex=False)
    if not prime:
        return name
    return name + prime if name.endswith(")") else f"({name}){prime}"


def _summed_layer(var: sp.Symbol, body: sp.Expr, notation: Notation) -> sp.Expr | None:
    """The layer whose nodes the index ``var`` of a sum runs over, read from the quantities it indexes
    in ``body``: a_var^{(m)}, z, delta, b -> m; w_{var k}^{(m)} -> m; w_{j var}^{(m)} -> m - 1; x_var -> 0;
    y_var -> the output layer (when known). None when nothing tells."""
    s = notation.symbols
    nodes = {s.a, s.z, s.delta, s.b, s.db}
    for node in sp.preorder_traversal(body):
        if not isinstance(node, sp.Indexed):
            continue
        base, indices = node.base, node.indices
        if base == s.x and indices == (var,):
            return sp.Integer(0)
        if base == s.y and indices == (var,) and notation.output_layer is not None:
            return sp.Integer(notation.output_layer)
        if base in nodes and len(indices) == 2 and indices[1] == var:
            return indices[0]
        if base in (s.w, s.dw) and len(indices) == 3:
            if indices[1] == var:
                return indices[0]
            if indices[2] == var:
                return indices[0] - 1
    return None


def _simple(layer: str) -> bool:
    """A layer printed as one token (l, 2, L): a plain superscript needs no parentheses."""
    return layer.isalnum()


def _tex_letter(name: str) -> str:
    """A letter as LaTeX, the way SymPy writes the same symbol (sigma, phi, delta -> \\sigma ...)."""
    return sp.latex(sp.Symbol(name))
