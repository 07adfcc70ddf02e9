"""User-facing errors: one clear line, no traceback."""


class DeriveError(ValueError):
    """Bad input from a user: the message is shown as is, on one line."""
