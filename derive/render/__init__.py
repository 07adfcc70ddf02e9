"""Renderers of the step data: terminal text and JSON, LaTeX fragments and the network drawing, Jupyter."""
