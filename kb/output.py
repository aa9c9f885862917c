"""Write output files whole or not at all, and outputs the user names the way they meant them."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from kb.errors import KbError
from kb.files import file_kind

# An output given as buffers written one after another: a large document laid out in parts (kb.export's
# JSON written by two processes) is written without a copy of it whole, which at 100,000 claims is
# hundreds of megabytes.
Pieces = list[bytes | memoryview]
Data = str | bytes | Pieces


def _bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def write_data(handle: BinaryIO, data: Data) -> None:
    """``data`` written to a binary file: text as UTF-8, pieces one after another."""
    if isinstance(data, list):
        for piece in data:
            handle.write(piece)
    else:
        handle.write(_bytes(data))


def _temporary(path: Path, payload: Data) -> str:
    """``payload`` in a new temporary file beside ``path``, synced; its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write_data(handle, payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path | str, data: Data) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never a half-written one, and a
    failure midway leaves the old file as it was.
    """
    write_all({Path(path): data})


def write_unsynced(path: Path, data: bytes) -> None:
    """Write ``path`` whole (a temporary file renamed over it) without waiting for the disk: for a
    cache's files, which a reader never sees half written, and whose loss in a crash costs only
    their making again (a sealed cache that was cut short does not verify)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_all(files: Mapping[Path, Data]) -> None:
    """Write several files all or none: every one goes to a temporary file first, and only when
    all of them are written (a full disk, a folder without permission...) are they renamed into place.
    """
    done: list[tuple[str, Path]] = []
    made: list[Path] = []  # folders this call created, removed again on failure
    try:
        for path, data in files.items():
            missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
            for folder in reversed(missing):
                folder.mkdir(exist_ok=True)
                made.append(folder)
            done.append((_temporary(path, data), path))
        for tmp, path in done:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in done:
            Path(tmp).unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def write_output(path: Path, data: Data) -> None:
    """Write a file the user named on the command line (``-o FILE``), meaning what they named.

    A link is written through: its target is replaced atomically and the link stays a link. A
    named pipe or a character device (``/dev/null``, a terminal) is written to directly, as a
    shell's ``>`` would. Anything else that is not a regular file is refused; ``KbError`` for
    every failure, with the reason.
    """
    try:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            mode = None  # a new file (or a link to one that does not exist yet)
        if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            with open(path, "wb") as handle:
                write_data(handle, data)
            return
        if mode is not None and not stat.S_ISREG(mode):
            raise KbError(f"cannot write {path}: it is {file_kind(mode)}; give a file name")
        write_atomic(path.resolve() if path.is_symlink() else path, data)
    except OSError as exc:  # a folder that cannot be made, no permission, a full disk...
        raise KbError(f"cannot write {path}: {exc.strerror or exc}") from exc
