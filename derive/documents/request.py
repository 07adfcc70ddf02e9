"""What a document (the sheet, the slides, the web page) is asked for, with its defaults in one place:
the title, the worked example, the file name and the directory."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from derive.errors import DeriveError
from derive.numeric.worked import worked_example

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.values import Values
    from derive.numeric.worked import WorkedExample

OUT_DIR = Path("outputs")
NAME_MAX_BYTES = 200


def default_title(net: "Network") -> str:
    """A document's title when none is given: "Backpropagation for a 2-3-1 network"."""
    return f"Backpropagation for a {'-'.join(map(str, net.sizes))} network"


def default_name(net: "Network") -> str:
    """outputs/<name>: sizes, activations, cost, biases, e.g. 2-3-1-sigmoid-quadratic."""
    acts = [a.name for a in dict.fromkeys(net.activations)]
    parts = ["-".join(map(str, net.sizes)), *acts, net.cost.name] + (["bias"] if net.bias else [])
    name = "-".join(parts)
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.")


def check_name(name: str) -> str:
    """An output name (--out): a plain file name, no directories, not hidden, printable, not too long."""
    import unicodedata

    if not name or "/" in name or name.startswith(".") or "\x00" in name:
        raise DeriveError(
            f"invalid output name {name!r}: use a plain file name without directories, e.g. sheet3"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise DeriveError(f"invalid output name {name!r}: it contains a control character")
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > NAME_MAX_BYTES:
        raise DeriveError(
            f"output name is {size} bytes long; file systems allow 255 and derive adds an extension "
            f"and temporary names: use at most {NAME_MAX_BYTES}"
        )
    return name


@dataclass(frozen=True)
class DocumentRequest:
    """A document's inputs: the network, its title and the worked example's values (None: no example),
    the file name (None: from the network) and the directory to write in, the computational graph,
    and whether every step is checked first."""

    network: "Network"
    title: str | None = None
    values: "Values | None" = None
    name: str | None = None
    out_dir: Path = OUT_DIR
    graph: bool = False
    check: bool = True

    @property
    def heading(self) -> str:
        """The title the document shows: the one given, else ``default_title``."""
        return self.title or default_title(self.network)

    @functools.cached_property
    def example(self) -> "WorkedExample | None":
        """The worked example at the values, or None without values (computed once)."""
        return worked_example(self.network, self.values) if self.values is not None else None

    def stem(self, suffix: str = "") -> Path:
        """OUT_DIR/NAME``suffix``, without an extension: the name given (checked) or ``default_name``."""
        name = check_name(default_name(self.network) if self.name is None else self.name)
        return Path(self.out_dir) / (name + suffix)
