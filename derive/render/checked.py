"""The sentence a document prints about the check of its steps (``checks.steps.check_printed``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from derive.checks.steps import StepsChecked
    from derive.model.network import Network


def checked_sentence(report: "StepsChecked", net: "Network") -> str:
    """ "Every step ... checked against SymPy's own derivatives at 3 random points ...", saying which network."""
    checked = report.network
    where = (
        ""
        if checked.sizes == net.sizes
        else (
            f" (on the {'-'.join(map(str, checked.sizes))} network of the same depth, activations and cost: the steps "
            "are in index form, so they are the same formulas)"
        )
    )
    return f"Every step was checked against SymPy's own derivatives at {report.points} random points{where}."
