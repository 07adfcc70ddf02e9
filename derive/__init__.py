"""derive: symbolic, step-by-step backpropagation derivations in one l/j/k notation."""
from .activations import Activation, activation_named
from .costs import Cost, cost_named
from .derivation import Derivation
from .display import init_printing, register_formatters, show
from .errors import DeriveError
from .network import Network
from .notation import PRESETS, Notation
from .steps import Block, Rule, Step

__all__ = ["Activation", "Block", "Cost", "Derivation", "DeriveError", "Network", "Notation", "PRESETS",
           "Rule", "Step", "activation_named", "cost_named", "init_printing", "show"]
__version__ = "0.1.0"

register_formatters()  # inside IPython: gradient check reports display as tables
