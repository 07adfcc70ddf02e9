"""The derivation: dC_0/dw and dC_0/db for every layer, step by step in index form, and the matrix summary."""
