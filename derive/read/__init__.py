"""Untrusted input to model objects: spec files, LaTeX answers and definitions. Everything a user types
is checked here, with limits on size, time and memory, and never passed to eval or sympify."""
