"""Numbers from the derivation: the worked example (values layer by layer) and generated NumPy code."""
