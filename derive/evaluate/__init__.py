"""Exact values of a concrete network: sums written out, forward pass, derivatives by SymPy, points
evaluated to 60 digits. Used by the engine, the checks, the worked example and the judge."""
