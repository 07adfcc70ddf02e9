"""Checks that nothing the engine claims is false: every step against SymPy, every formula against the
fully expanded network, the generated gradient against finite differences."""
