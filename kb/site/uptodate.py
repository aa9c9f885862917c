"""``kb build`` with nothing changed: the site in place is left as it is.

Each build swapped into place records, in its cache folder beside the site:

- what it was built from, looked at before anything was read: kb's code, the versions of Python and
  of the packages that make the site, the output folder, ``SOURCE_DATE_EPOCH``, and every file it
  reads (kb.yaml, claims, sources, the site folder with its configuration, hand-written pages and
  theme overrides) by its status, as git's index keeps it (:func:`kb.files.vouched_stat`); a file
  changed too recently for its status to vouch for it is kept by the SHA-256 of its bytes;
- the site it made: every file by its size, modification time and inode; its page count and the
  site generator's warnings.

The next ``kb build`` looks the same way before it reads anything. When it finds what the record
says, file for file, and the site still as recorded, there is nothing to build: it says so and
gives the warnings again. Anything else (a file touched or edited, added or removed, a file of the
site changed by hand, kb upgraded) is a build, which keeps what it can (kb.site.keep).

A site configuration that may read more than its own folder (``!ENV``, ``INHERIT``, a theme folder
elsewhere, a Markdown extension that is not Python-Markdown's own) or has plugins of its own (the
render cache is off, kb.site.rendercache) gets no record: such a site is always built.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from kb.cache import read_sealed_json, seal
from kb.files import vouched_stat
from kb.output import write_unsynced

FORMAT = 1
RECORD = "built-from.json"
# The packages whose code makes the pages and the numbers on them.
PACKAGES = (
    "mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2", "pygments", "babel",
    "pydantic", "numpy", "networkx", "pandas", "pyyaml", "orjson",
)  # fmt: skip
# Site configuration that makes MkDocs read what the record does not look at.
READS_MORE = (b"!ENV", b"INHERIT")
# Python-Markdown's own extensions, none of which reads a file; a site with another one (which may,
# as pymdownx.snippets does) gets no record.
READ_NOTHING = frozenset(
    {
        "abbr", "admonition", "attr_list", "codehilite", "def_list", "extra", "fenced_code", "footnotes",
        "legacy_attrs", "legacy_em", "md_in_html", "meta", "nl2br", "sane_lists", "smarty", "tables",
        "toc", "wikilinks",
    }
)  # fmt: skip
SKIPPED_FOLDERS = ("__pycache__",)


@dataclass(frozen=True)
class Look:
    """What a build saw of its inputs before reading them."""

    setting: str  # digest of kb's code, the packages' versions, the output folder, SOURCE_DATE_EPOCH
    files: dict[str, Any]  # path -> its vouched status, or "sha256:..." when changed too recently


@dataclass(frozen=True)
class Current:
    """The site in place, built from the inputs as they are."""

    pages: int
    warnings: list[str]


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def _entry(path: str, now_ns: int) -> Any:
    """A file as the record keeps it: its status when that vouches for its bytes, else their digest."""
    vouched = vouched_stat(path, now_ns)
    if vouched is not None:
        return vouched
    return _sha256(path) or "unreadable"


def _walk(folder: str, skip: set[str], found: list[str]) -> None:
    """Every file below ``folder`` but hidden ones (kb and MkDocs read none), in no set order."""
    try:
        with os.scandir(folder) as entries:
            listed = list(entries)
    except OSError:
        return
    for entry in listed:
        if entry.name.startswith(".") or entry.name in SKIPPED_FOLDERS or entry.path in skip:
            continue
        try:
            is_folder = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_folder = False
        if is_folder:
            _walk(entry.path, skip, found)
        else:
            found.append(entry.path)


def look(kb_root: Path, config: Path, out: Path, code: str) -> Look | None:
    """The inputs of a build into ``out`` as they are now, before anything reads them (``code``:
    kb.site.incremental.code_fingerprint); None when the configuration reads more than the record
    would look at."""
    try:
        text = config.read_bytes()
    except OSError:
        return None
    if any(word in text for word in READS_MORE):
        return None
    from kb.site.rendercache import cache_folder, package_version

    out = out.absolute()
    setting = orjson.dumps(
        [
            FORMAT,
            code,
            sys.version,
            [package_version(name) for name in PACKAGES],
            str(out),
            os.environ.get("SOURCE_DATE_EPOCH", ""),
        ]
    )
    now_ns = time.time_ns()
    skip = {str(out), str(cache_folder(out))}
    paths = [str(kb_root / "kb.yaml")]
    for folder in (kb_root / "claims", kb_root / "sources", config.parent):
        _walk(str(folder), skip, paths)
    files = {path: _entry(path, now_ns) for path in sorted(set(paths))}
    return Look(hashlib.sha256(setting).hexdigest(), files)


def site_files(out: Path) -> dict[str, list[int]]:
    """Every file of the site at ``out`` (hidden ones too): size, modification time, inode. Not the
    change time: deleting the site it replaced unlinks names of the same files (kept pages are
    hard links), which changes theirs."""
    found: dict[str, list[int]] = {}

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    walk(entry.path, f"{prefix}{entry.name}/")
                else:
                    found[prefix + entry.name] = [info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino]

    walk(str(out), "")
    return found


def _same_file(path: str, recorded: Any, now: Any) -> bool:
    if recorded == now:
        return True
    # kept by its digest (it had just changed): the same bytes now are the same file
    return isinstance(recorded, str) and recorded.startswith("sha256:") and _sha256(path) == recorded


def current(cache: Path, out: Path, seen: Look) -> Current | None:
    """What the record says of the site at ``out``, when it was built from the inputs ``seen`` and
    is still as it was made; else None."""
    record = read_sealed_json(cache / RECORD, cache)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None
    if record.get("setting") != seen.setting:
        return None
    files, site = record.get("files"), record.get("site")
    if not isinstance(files, dict) or not isinstance(site, dict) or files.keys() != seen.files.keys():
        return None
    if not all(_same_file(path, files[path], now) for path, now in seen.files.items()):
        return None
    try:
        if site_files(out) != site:
            return None
    except OSError:  # no site, or one that cannot be read whole
        return None
    pages, warnings = record.get("pages"), record.get("warnings")
    if not isinstance(pages, int) or not isinstance(warnings, list):
        return None
    if any(isinstance(files[path], str) and isinstance(now, list) for path, now in seen.files.items()):
        # files kept by their bytes that their status now vouches for: the next look need not read them
        with contextlib.suppress(OSError):
            write_unsynced(cache / RECORD, seal(orjson.dumps({**record, "files": seen.files})))
    return Current(pages, [str(w) for w in warnings])


def save(cache: Path, out: Path, seen: Look, pages: int, warnings: list[str]) -> None:
    """Record the site just swapped into ``out`` as built from ``seen`` (a folder that cannot be
    written just goes without: the next build builds)."""
    with contextlib.suppress(OSError):
        data = {
            "format": FORMAT,
            "setting": seen.setting,
            "files": seen.files,
            "site": site_files(out),
            "pages": pages,
            "warnings": warnings,
        }
        write_unsynced(cache / RECORD, seal(orjson.dumps(data)))


def forget(cache: Path) -> None:
    with contextlib.suppress(OSError):
        (cache / RECORD).unlink()
