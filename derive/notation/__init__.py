"""Notation: letters and presets (plain data), their SymPy symbols, and the printers that write formulas in them."""
