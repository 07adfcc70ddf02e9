"""The optional packages training needs (the ``train`` extra): scikit-learn for the digits and iris
data sets it ships, matplotlib for the curves. One line says how to install what is missing."""

from __future__ import annotations

import importlib

from derive.errors import DeriveError
from derive.training.datasets import needs_scikit_learn

INSTALL = "pip install 'derive[train]' (or: pip install scikit-learn matplotlib)"


def require(data: str, curves: bool = True) -> None:
    """Raise one DeriveError line when a package that training on ``data`` needs is not installed."""
    wanted = []
    if needs_scikit_learn(data):
        wanted.append(("sklearn", "scikit-learn", f"the {data} data set"))
    if curves:
        wanted.append(("matplotlib", "matplotlib", "the curves"))
    missing = []
    for module, package, why in wanted:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(f"{package} (for {why})")
    if missing:
        raise DeriveError(f"derive train needs {' and '.join(missing)}; install with: {INSTALL}")
