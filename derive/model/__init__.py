"""The model of a network: steps as data (rules, steps, blocks, typed keys), activations, costs,
the network, its values.

No parsing, printing, NumPy or files here; a LaTeX definition given where a name is
expected is read at one documented seam (``read.latex``)."""
