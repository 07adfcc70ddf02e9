"""derive: symbolic, step-by-step backpropagation derivations in one l/j/k notation.

The public names are loaded on first use (PEP 562), so that ``import derive.cli`` and a command
such as ``derive check-answer`` pay only for the modules they need.
"""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {"Activation": "activations", "activation_named": "activations", "Cost": "costs", "cost_named": "costs",
          "Derivation": "derivation", "init_printing": "display", "show": "display", "DeriveError": "errors",
          "Network": "network", "PRESETS": "notation", "Notation": "notation", "Block": "steps", "Rule": "steps",
          "Step": "steps"}
__all__ = ["Activation", "Block", "Cost", "Derivation", "DeriveError", "Network", "Notation", "PRESETS",
           "Rule", "Step", "activation_named", "cost_named", "init_printing", "show"]

if TYPE_CHECKING:
    from .activations import Activation, activation_named
    from .costs import Cost, cost_named
    from .derivation import Derivation
    from .display import init_printing, show
    from .errors import DeriveError
    from .network import Network
    from .notation import PRESETS, Notation
    from .steps import Block, Rule, Step


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


if "IPython" in sys.modules:  # inside IPython: gradient check reports display as tables
    from .display import register_formatters

    register_formatters()
