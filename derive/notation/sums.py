"""Sums over node indices that keep their terms where they were written.

SymPy's ``Sum`` folds every ``Piecewise`` of its body that mentions its index to the top of the body,
looking through any inner sum on the way. A written-out gradient sum_i g'(z_i) w sum_p delta_p w with
a piecewise delta_p (ELU, leaky ReLU) then had its condition a_p > 0 moved out of the sum over p
that binds p. ``IndexSum`` is a ``Sum`` (printers, ``doit`` and evaluation treat it as one) that folds
nothing, so a bound index never leaves the sum that binds it; rebuilding one (``xreplace``, ``subs``)
keeps its type and so keeps the rule.
"""

from __future__ import annotations

import sympy as sp


class IndexSum(sp.Sum):
    """``Sum(term, (index, lo, hi))`` with the body kept as written: no Piecewise is folded out of it."""

    def __new__(cls, function, *symbols, **assumptions):
        function = sp.sympify(function)
        masks = {piece: sp.Dummy("piece") for piece in function.atoms(sp.Piecewise)}
        obj = super().__new__(
            cls, function.xreplace(masks) if masks else function, *symbols, **assumptions
        )
        if masks and isinstance(obj, cls):
            back = {mask: piece for piece, mask in masks.items()}
            obj._args = (obj.args[0].xreplace(back), *obj.args[1:])
        return obj
