"""Reading the files of a knowledge base: regular files only, inside the folder, size-bounded.

A knowledge-base folder is data someone else may have prepared. Anything kb reads from
it goes through ``read_bounded``:

- the path is resolved (links followed) and must stay inside the knowledge-base folder,
  so a link to a file elsewhere is refused and its content is never read;
- the file is opened non-blocking and checked on the open descriptor: a FIFO, a device
  or a socket is refused instead of hanging kb or filling its memory;
- at most ``limit + 1`` bytes are read, whatever the file system says its size is.

``walk`` lists a folder the same way, turning every folder that cannot be read and
every entry that is not a regular file or a folder into a problem, never a silent skip.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path

# How much of a file's content an error message may quote.
EXCERPT_CHARS = 60


class FileProblem(Exception):
    """A file kb may not or cannot read; ``message`` says why, without its content."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``repr`` of at most ``limit`` characters of ``text``: an error never echoes a whole file."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({len(text):,} characters)"


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for messages: "a folder", "a named pipe (FIFO)"..."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, links resolved, lies inside ``root`` (links resolved too)."""
    return path.resolve().is_relative_to(_resolved(str(root)))


# How long ago a file must have been changed for its stat to vouch for its bytes: a file changed
# within this time of being looked at (more than the coarsest file-system clock, FAT's 2 seconds)
# might be changed again within the same timestamp, leaving its stat as it was.
RACY_NS = 3_000_000_000


def vouched_stat(path: str, now_ns: int) -> list[int] | None:
    """What kb keeps of the regular file at ``path`` (not a link) to know it again unchanged without
    reading it, as git's index does: ``[size, mtime_ns, ctime_ns, inode, device]``; None if it is
    not a regular file or cannot be looked at, or if it was changed (its mtime or ctime) less than
    :data:`RACY_NS` before ``now_ns`` (the wall clock taken before looking): the racy-timestamp rule,
    such a file is read and hashed. Taken before a file's bytes are read, a stat kept with their hash
    vouches for them: any change since gives another ctime, which no one can set back."""
    try:
        info = os.lstat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    limit = now_ns - RACY_NS
    if info.st_mtime_ns >= limit or info.st_ctime_ns >= limit:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]


@functools.lru_cache(maxsize=64)
def _resolved(root: str) -> Path:
    return Path(root).resolve()


def read_bounded(path: Path | str, limit: int, root: Path | None = None) -> bytes:
    """The bytes of the regular file at ``path``; ``FileProblem`` for anything else.

    With ``root``, a file that is a link must point inside that folder (links resolved); the
    folders leading to ``path`` are the caller's to vouch for (``walk`` refuses links to folders).
    More than ``limit`` bytes is a ``FileProblem`` too, found without reading past ``limit + 1``.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    nofollow = getattr(os, "O_NOFOLLOW", 0) if root is not None else 0
    try:
        try:
            fd = os.open(path, flags | nofollow)
        except OSError as exc:
            if not nofollow or exc.errno != errno.ELOOP:
                raise
            # the file is a link: followed only when it stays inside the folder
            target = Path(path).resolve()
            if not target.is_relative_to(_resolved(str(root))):
                raise FileProblem(
                    "is a link to a file outside the knowledge-base folder; kb does not read it"
                ) from None
            fd = os.open(target, flags)
    except FileNotFoundError as exc:
        raise FileProblem("file not found") from exc
    except OSError as exc:
        raise FileProblem(f"cannot read file: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = file_kind(info.st_mode)
            raise FileProblem(f"is {kind}, not a regular file; kb reads regular files only")
        if info.st_size > limit:
            raise FileProblem(too_large(limit))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileProblem(too_large(limit))
        return b"".join(chunks)
    except OSError as exc:
        raise FileProblem(f"cannot read file: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def too_large(limit: int) -> str:
    if limit >= 1_000_000:
        return f"file is larger than {limit // 1_000_000} MB"
    return f"file is larger than {limit // 1000} kB; kb files are small"


@dataclass(frozen=True)
class Unreadable:
    """A folder entry kb cannot or may not read, and why."""

    path: Path
    message: str


def walk(folder: Path, root: Path) -> tuple[list[Path], list[Unreadable]]:
    """Every regular file under ``folder`` (hidden names skipped), and every entry that is not one.

    Links to files are listed (``read_bounded`` confines them when they are read); a link
    to a folder is not followed, and is a problem. Folders that cannot be listed, FIFOs,
    devices and sockets are problems too. Paths come in "/"-separated path order.
    """
    found, problems = walk_names(str(folder), root)
    return [Path(name) for name in found], problems


def walk_names(folder: str, root: Path) -> tuple[list[str], list[Unreadable]]:
    """:func:`walk` with the files' paths as strings (``folder`` joined with their names below it),
    for the loader, which handles thousands of them: a ``Path`` for each costs more than reading it."""
    files: list[str] = []
    problems: list[Unreadable] = []
    todo = [folder]
    while todo:
        here = todo.pop()
        try:
            with os.scandir(here) as entries:
                listed = list(entries)
        except OSError as exc:
            problems.append(Unreadable(Path(here), f"cannot read folder: {exc.strerror or exc}"))
            continue
        for entry in listed:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    todo.append(entry.path)
                    continue
                if not entry.is_symlink() and entry.is_file(follow_symlinks=False):
                    files.append(entry.path)  # the common case: no further system call
                    continue
                mode = os.stat(entry.path).st_mode  # a link, or something odd: what it points at
            except OSError as exc:
                message = "is a broken link" if entry.is_symlink() else f"cannot read: {exc.strerror}"
                problems.append(Unreadable(Path(entry.path), message))
                continue
            path = Path(entry.path)
            if stat.S_ISREG(mode):
                files.append(entry.path)
            elif stat.S_ISDIR(mode):
                where = "inside" if inside(path, root) else "outside"
                message = f"is a link to a folder {where} the knowledge-base folder; kb does not follow it"
                problems.append(Unreadable(path, message))
            else:
                problems.append(
                    Unreadable(path, f"is {file_kind(mode)}; a knowledge base holds regular files only")
                )
    problems.sort(key=lambda u: _slashed(str(u.path)))
    if os.sep == "/":
        files.sort()
    else:
        files.sort(key=_slashed)
    return files, problems


def _slashed(path: str) -> str:
    return path.replace(os.sep, "/")
