"""The reader slot: where a LaTeX definition given in place of a name ('g(z) = ...', 'C_0 = ...') is read.

The model knows such a text is a definition, not how to read one: reading LaTeX is the read layer's
work, above the model. So the model calls the reader installed here, and never imports derive.read.
``derive/__init__.py`` installs a lazy reader that imports ``derive.read.definitions`` on first use
(``import derive`` and ``derive --help`` load no parser). This slot is the one place the model reaches
up to the read layer; it stands here, and is filled there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from derive.model.activations import Activation
    from derive.model.costs import Cost


class DefinitionReader(Protocol):
    """Reads a user's definition into a model object (derive.read.definitions does the work)."""

    def activation(self, text: str) -> "Activation":
        """'g(z) = <LaTeX>' as an Activation."""

    def cost(self, text: str) -> "Cost":
        """'C_0 = <LaTeX>' as a Cost."""


_READER: list[DefinitionReader] = []  # the installed reader (at most one)


def install_reader(reader: DefinitionReader) -> None:
    """Fill the slot (a second call replaces the reader)."""
    _READER[:] = [reader]


def installed_reader() -> DefinitionReader:
    """The reader in the slot; a DeriveError when none is installed."""
    if not _READER:
        from derive.errors import DeriveError

        raise DeriveError(
            "no reader of LaTeX definitions is installed (derive/__init__.py installs one)"
        )
    return _READER[0]


def read_activation(text: str) -> "Activation":
    """A LaTeX activation definition read by the installed reader."""
    return installed_reader().activation(text)


def read_cost(text: str) -> "Cost":
    """A LaTeX cost definition read by the installed reader."""
    return installed_reader().cost(text)
