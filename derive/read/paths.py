"""Paths a user names for output or input: checked before any work, each problem one line.

``what`` names the path in messages (an option such as ``--out-dir``, or "answers file"), so the
caller's words reach the user; nothing here knows about the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

from derive.errors import DeriveError
from derive.read.spec_file import check_regular_file, describe_os_error, shown_path

NAME_MAX_BYTES = (
    200  # one path component we create; the file system allows 255, temporary names add some
)
PATH_MAX_BYTES = 4000  # Linux allows 4096


def check_path_text(text: str, what: str) -> None:
    """Refuse a path no file system takes: empty, with NUL, too long, a component too long."""
    if text == "":
        raise DeriveError(f"{what} is empty; give a path")
    if "\x00" in text:
        raise DeriveError(f"{what} {shown_path(text)!r} contains a NUL character")
    raw = os.fsencode(text)
    if len(raw) > PATH_MAX_BYTES:
        raise DeriveError(
            f"{what} is {len(raw)} bytes long; paths are limited to 4096 bytes on Linux"
        )
    for part in Path(text).parts:
        if len(os.fsencode(part)) > NAME_MAX_BYTES:
            raise DeriveError(
                f"{what}: the name {shown_path(part)!r} is {len(os.fsencode(part))} bytes long; "
                f"file systems allow 255 and derive needs room for temporary names: use at most "
                f"{NAME_MAX_BYTES}"
            )


def _first_existing(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return None


def output_dir(text: str, what: str) -> Path:
    """A directory to write in: created when missing; one line when it is a file or not writable."""
    check_path_text(text, what)
    path = Path(text)
    existing = _first_existing(path.absolute())
    if existing is not None and not existing.is_dir():
        if existing == path.absolute():
            raise DeriveError(f"{what} {shown_path(text)} is a file, not a directory")
        raise DeriveError(
            f"{what} {shown_path(text)}: {shown_path(existing)} is a file, not a directory"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeriveError(
            f"cannot create {what} {shown_path(text)}: {describe_os_error(error)}"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DeriveError(f"cannot write in {what} {shown_path(text)}: permission denied")
    return path


def output_file(text: str, what: str) -> Path:
    """A file to write: not a directory, in a directory that exists or can be made."""
    check_path_text(text, what)
    path = Path(text)
    if path.is_dir():
        raise DeriveError(
            f"{what} {shown_path(text)} is a directory; give a file name, e.g. "
            f"{shown_path(path / 'out')}"
        )
    if text.endswith(os.sep):
        raise DeriveError(f"{what} {shown_path(text)} ends with '/'; give a file name")
    output_dir(str(path.parent), what)
    return path


def input_file(text: str, what: str) -> Path:
    """A file to read: it exists and is a regular file, not a directory or a device."""
    check_path_text(text, what)
    return check_regular_file(text, what)


def templates_dir(text: str, what: str) -> Path:
    """A directory of the user's own templates (``*.tex.j2``)."""
    check_path_text(text, what)
    path = Path(text)
    if not path.exists():
        raise DeriveError(f"{what} {shown_path(text)}: no such directory")
    if not path.is_dir():
        raise DeriveError(
            f"{what} {shown_path(text)} is a file; give the directory that holds your *.tex.j2"
        )
    return path
