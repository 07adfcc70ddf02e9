"""derive: symbolic, step-by-step backpropagation derivations in one l/j/k notation.

The public names are loaded on first use (PEP 562), so that ``import derive.cli`` and a command
such as ``derive check-answer`` pay only for the modules they need.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "Activation": "model.activations",
    "activation_named": "model.activations",
    "Cost": "model.costs",
    "cost_named": "model.costs",
    "Derivation": "engine.derivation",
    "init_printing": "render.display",
    "show": "render.display",
    "DeriveError": "errors",
    "Network": "model.network",
    "PRESETS": "notation.letters",
    "Notation": "notation.letters",
    "Block": "model.steps",
    "Rule": "model.steps",
    "Step": "model.steps",
}
__all__ = [
    "Activation",
    "Block",
    "Cost",
    "Derivation",
    "DeriveError",
    "Network",
    "Notation",
    "PRESETS",
    "Rule",
    "Step",
    "activation_named",
    "cost_named",
    "init_printing",
    "show",
]

if TYPE_CHECKING:
    from derive.model.activations import Activation, activation_named
    from derive.model.costs import Cost, cost_named
    from derive.engine.derivation import Derivation
    from derive.render.display import init_printing, show
    from derive.errors import DeriveError
    from derive.model.network import Network
    from derive.notation.letters import PRESETS, Notation
    from derive.model.steps import Block, Rule, Step


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


class _LazyDefinitionReader:
    """The model's reader of LaTeX definitions (``derive.model.definitions``): derive.read.definitions,
    imported on the first definition read, so that ``import derive`` and ``derive --help`` load no parser."""

    def activation(self, text: str) -> Any:
        from derive.read.definitions import parse_activation

        return parse_activation(text)

    def cost(self, text: str) -> Any:
        from derive.read.definitions import parse_cost

        return parse_cost(text)


def _install_definition_reader() -> None:
    from derive.model.definitions import install_reader

    install_reader(_LazyDefinitionReader())


_install_definition_reader()

if "IPython" in sys.modules:  # inside IPython: gradient check reports display as tables
    from derive.render.display import register_formatters

    register_formatters()
