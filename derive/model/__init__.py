"""The model of a network: steps as data (rules, steps, blocks, typed keys), activations, costs,
the network, its values.

No parsing, printing, NumPy or files here; a LaTeX definition given where a name is
expected is read by the reader in the slot ``model.definitions``, which the read layer fills."""
