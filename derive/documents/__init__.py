"""Documents on disk: the Jinja2 environment and derivation sheets, the TeX runner, atomic files."""
