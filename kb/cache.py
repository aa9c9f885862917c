"""A content-addressed cache of parsed files and found quotes, so reloads are incremental.

Stored as JSON in ``<kb>/.kb-cache/`` (never pickle: a knowledge base folder is
data, and a cache file in it must not be able to run code). Entries are keyed by
the SHA-256 of the file's bytes, so an edited file simply misses. Nothing read
from the cache is trusted blindly:

- every cache file kb writes is sealed with an HMAC under a key kept outside the
  knowledge base (``~/.cache/kb/cache.key``, private to the user): a cache file that
  was edited, damaged, or came with a knowledge base from somewhere else does not
  verify, and is ignored and rebuilt, so it cannot put a statement into a claim
  that no YAML file holds;
- cache files are read as regular files with a bounded size, JSON nested too deeply
  is a damaged cache, not a ``RecursionError``;
- parsed data still goes through validation, and a cached quote position is used only
  after checking that the text at that position really is the quote;
- a claim kb validated is kept as its validated record (the fields its file set) with the
  warnings found in it, by its path and the hash of its bytes, and rebuilt from there while the
  file keeps those bytes: what validating it again would give. A file's entry also keeps its
  stat (:func:`kb.files.vouched_stat`: size, times, inode), and while the file has that stat it is
  not read at all, as git's index does; a file changed too recently for its times to tell is
  kept without one, and read and hashed every time. Those records are used only
  under the same ``code`` (a hash of the code that validates, :func:`kb.load.code_version`):
  another kb drops them and validates afresh.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import json
import math
import os
from pathlib import Path
from typing import Any

from kb.files import FileProblem, read_bounded
from kb.output import write_unsynced

CACHE_DIR = ".kb-cache"
FORMAT = 3
# Largest cache file kb reads back (a 10,000-claim base's is a few MB).
MAX_CACHE_BYTES = 512_000_000
_SEAL = b"kb-cache-hmac-sha256 "
_KEY_BYTES = 32


def key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kb" / "cache.key"


@functools.cache
def _secret() -> bytes:
    """This user's key for sealing caches, made on first use; a fresh one per process if it
    cannot be kept (then caches are simply rebuilt by the next process)."""
    file = key_file()
    with contextlib.suppress(FileProblem):
        key = read_bounded(file, _KEY_BYTES)
        if len(key) == _KEY_BYTES:
            return key
    key = os.urandom(_KEY_BYTES)
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        with contextlib.suppress(FileProblem):  # made by another kb at the same moment
            existing = read_bounded(file, _KEY_BYTES)
            if len(existing) == _KEY_BYTES:
                return existing
        return key
    except OSError:
        return key
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def _mac(data: bytes) -> bytes:
    return hmac.new(_secret(), data, hashlib.sha256).hexdigest().encode("ascii")


def seal(data: bytes) -> bytes:
    """``data`` behind a first line that proves kb wrote it, for this user."""
    return _SEAL + _mac(data) + b"\n" + data


def unseal(blob: bytes) -> bytes | None:
    """The data ``seal`` wrapped, or ``None`` if the seal is missing or does not match."""
    head, newline, data = blob.partition(b"\n")
    if not newline or not head.startswith(_SEAL):
        return None
    return data if hmac.compare_digest(head[len(_SEAL) :], _mac(data)) else None


def read_sealed(file: Path, root: Path, begins: bytes = b"") -> bytes | None:
    """The verified content of a cache file of the knowledge base at ``root``, else ``None``. With
    ``begins``, content that does not begin so is ``None`` too, found before the seal is checked (a cache
    kept for other files is passed over without reading it all)."""
    try:
        blob = read_bounded(file, MAX_CACHE_BYTES, root)
    except FileProblem:
        return None  # no cache yet, or an unreadable one
    if begins and not blob.startswith(begins, blob.find(b"\n") + 1):
        return None
    return unseal(blob)


def read_sealed_json(file: Path, root: Path, begins: bytes = b"") -> Any | None:
    """The JSON value of a sealed cache file (:func:`read_sealed`), else ``None``: no file, one kb
    cannot vouch for, or one that is not JSON."""
    data = read_sealed(file, root, begins)
    if data is None:
        return None
    try:
        return _loads(data)
    except (ValueError, RecursionError):
        return None


def seal_digest(data: bytes) -> str:
    """A seal for data kept elsewhere (the search index is an SQLite file, with no room for a line)."""
    return _mac(data).decode("ascii")


def check_digest(data: bytes, seal_text: str) -> bool:
    return hmac.compare_digest(seal_text.encode("ascii", "replace"), _mac(data))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode(value: Any, path: list[Any], dates: list[list[Any]]) -> Any:
    """JSON-ready copy of parsed YAML; dates are listed by path, since JSON has none."""
    if isinstance(value, dict):
        return {k: _encode(v, [*path, k], dates) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v, [*path, i], dates) for i, v in enumerate(value)]
    if isinstance(value, dt.date):
        dates.append([*path, isinstance(value, dt.datetime)])
        return value.isoformat()
    return value


def _unusual(value: Any) -> tuple[bool, bool]:
    """(whether parsed YAML holds a date, whether it holds a number that is not finite) anywhere:
    it seldom does (a source's ``published`` date), and then it needs more than plain JSON."""
    if isinstance(value, dict):
        values: Any = value.values()
    elif isinstance(value, list):
        values = value
    elif isinstance(value, float):
        return False, not math.isfinite(value)
    else:
        return isinstance(value, dt.date), False
    dates = special = False
    for v in values:
        d, s = _unusual(v)
        dates, special = dates or d, special or s
    return dates, special


def _dumps(payload: dict[str, Any], standard: bool) -> bytes:
    """``payload`` as compact JSON with sorted keys: by orjson, about ten times faster than the
    standard library at 10,000 claims; by the standard library when ``standard`` (orjson writes a
    number that is not finite as null) or for what orjson refuses (an integer beyond 64 bits)."""
    try:
        if standard:
            raise TypeError("not finite")
        import orjson

        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except (ImportError, TypeError):
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return text.encode("utf-8")


def _loads(data: bytes) -> Any:
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency
        return json.loads(data)
    return orjson.loads(data)


def _decode(data: Any, dates: list[list[Any]]) -> Any:
    for entry in dates:
        *path, is_datetime = entry
        holder = data
        for part in path[:-1]:
            holder = holder[part]
        parse = dt.datetime.fromisoformat if is_datetime else dt.date.fromisoformat
        holder[path[-1]] = parse(holder[path[-1]])
    return data


def entry_of(data: Any) -> tuple[list[Any], bool]:
    """A cache entry for parsed data, ``[data, dates]`` (see :func:`_encode`), and whether the data
    holds a number that is not finite (then the cache is written by the standard library)."""
    dates_in, special = _unusual(data)
    if not dates_in:
        return [data, []], special  # already JSON (the loader never changes it)
    dates: list[list[Any]] = []
    return [_encode(data, [], dates), dates], special


class LoadCache:
    """Parsed YAML by file hash, quote spans by (quote, text hash), and validated claims by path
    (with their file's hash), those only as written by the same ``code`` (see the module's doc)."""

    def __init__(self, root: Path, enabled: bool = True, code: str | None = None):
        self.file = root / CACHE_DIR / "parsed.json"
        self.enabled = enabled
        self.code = code
        self.parsed: dict[str, list[Any]] = {}
        self.quotes: dict[str, list[list[int]]] = {}
        self.claims: dict[str, list[Any]] = {}
        self.used_parsed: dict[str, list[Any]] = {}
        self.used_quotes: dict[str, list[list[int]]] = {}
        self.used_claims: dict[str, list[Any]] = {}
        # data parsed by this load, made into entries when saved (a valid claim's never is)
        self.fresh: dict[str, Any] = {}
        self.hits = 0
        self.misses = 0
        # something was put or absorbed: the file differs from what this load used
        self.changed = False
        # a number that is not finite was parsed: orjson would write it as null (see _dumps)
        self.standard_json = False
        if enabled:
            self._read()

    def _read(self) -> None:
        stored = read_sealed_json(self.file, self.file.parent.parent)
        # no cache yet, or one kb cannot vouch for: start afresh
        if not isinstance(stored, dict) or stored.get("format") != FORMAT:
            return
        parsed, quotes, claims = stored.get("parsed"), stored.get("quotes"), stored.get("claims")
        if isinstance(parsed, dict) and isinstance(quotes, dict):
            self.parsed, self.quotes = parsed, quotes
        if self.code is not None and stored.get("code") == self.code and isinstance(claims, dict):
            self.claims = claims

    def known(self) -> int:
        """How many files the cache holds (parsed or validated)."""
        return len(self.parsed) + len(self.claims)

    def get_parsed(self, key: str) -> Any | None:
        entry = self.parsed.get(key)
        if entry is None or not isinstance(entry, list) or len(entry) != 2:
            self.misses += 1
            return None
        self.hits += 1
        self.used_parsed[key] = entry
        data, dates = entry
        if not dates:
            return data  # callers never change what they get, so no copy is needed
        try:
            # dates are restored on a copy: the entry itself must stay JSON for saving
            return _decode(json.loads(json.dumps(data)), dates)
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    def put_parsed(self, key: str, data: Any) -> None:
        self.fresh[key] = data
        self.changed = True

    def absorb(
        self,
        entries: dict[str, list[Any]],
        special: bool,
        claims: dict[str, list[Any]] | None = None,
        quotes: dict[str, list[list[int]]] | None = None,
    ) -> None:
        """Parsed files made by :func:`entry_of`, claims as :meth:`put_claim` keeps them and quotes'
        spans, made elsewhere (by a forked child of this load, meanwhile), as if read from the cache
        file: each is used only if a file has its bytes (a claim: at its path), a quote's spans only
        once checked against its text."""
        for key, entry in entries.items():
            self.parsed.setdefault(key, entry)
        if self.code is not None:
            for path, entry in (claims or {}).items():
                self.claims.setdefault(path, entry)
        for key, spans in (quotes or {}).items():
            self.quotes.setdefault(key, spans)
        self.standard_json = self.standard_json or special
        self.changed = True

    def get_claim(self, path: str, key: str, stat: list[int] | None = None) -> list[Any] | None:
        """``[record, warnings]`` of the claim file at ``path`` if it was valid with the bytes hashed
        to ``key`` (see :meth:`put_claim`), else None. ``stat``: what :func:`kb.files.vouched_stat`
        says of the file now, kept with the entry (if the cache is written again) in place of what
        it was kept with."""
        entry = self.claims.get(path)
        if entry is None or not isinstance(entry, list) or len(entry) not in (3, 4) or entry[0] != key:
            return None
        self.hits += 1
        if stat is not None and (len(entry) == 3 or entry[3] != stat):
            entry = [*entry[:3], stat]  # the file is kept by these bytes and this stat from now on
        self.used_claims[path] = entry
        return entry[1:3]

    def get_claim_by_stat(self, path: str, stat: list[int]) -> list[Any] | None:
        """``[record, warnings]`` of the claim file at ``path`` if its entry was kept with ``stat``
        (:func:`kb.files.vouched_stat`: the same file, not changed since, as git's index finds it),
        else None: then the file is read and looked up by the hash of its bytes."""
        entry = self.claims.get(path)
        if entry is None or not isinstance(entry, list) or len(entry) != 4 or entry[3] != stat:
            return None
        self.hits += 1
        self.used_claims[path] = entry
        return entry[1:3]

    def put_claim(
        self,
        path: str,
        key: str,
        record: dict[str, Any],
        warnings: list[list[Any]],
        stat: list[int] | None = None,
    ) -> None:
        """The validated ``record`` of the claim file at ``path`` with the bytes hashed to ``key``, and
        the warnings found in it (line, column, message); its parsed data is no longer needed.
        ``stat``: :func:`kb.files.vouched_stat` of the file, taken before its bytes were read (a
        change meanwhile gives it another stat), or None if it cannot vouch for the file."""
        self.used_claims[path] = [key, record, warnings] if stat is None else [key, record, warnings, stat]
        self.used_parsed.pop(key, None)
        self.fresh.pop(key, None)
        self.changed = True

    @staticmethod
    def quote_key(quote: str, text_digest: str) -> str:
        return digest(f"{text_digest}\0{quote}".encode("utf-8", "surrogatepass"))

    def get_quote(self, key: str) -> list[list[int]] | None:
        spans = self.quotes.get(key)
        if spans is not None:
            self.used_quotes[key] = spans
        return spans

    def put_quote(self, key: str, spans: list[list[int]]) -> None:
        self.used_quotes[key] = spans
        self.changed = True

    def save(self) -> None:
        """Keep what this load used, drop the rest; a read-only folder just goes uncached."""
        if not self.enabled:
            return
        if (
            not self.changed
            # without a put, what was used came from the file: as much of it is all of it
            and len(self.used_parsed) == len(self.parsed)
            and len(self.used_quotes) == len(self.quotes)
            and len(self.used_claims) == len(self.claims)
        ):
            return
        for key, data in self.fresh.items():
            self.used_parsed[key], special = entry_of(data)
            self.standard_json = self.standard_json or special
        self.fresh = {}
        payload = {
            "format": FORMAT,
            "code": self.code,
            "parsed": self.used_parsed,
            "quotes": self.used_quotes,
            "claims": self.used_claims if self.code is not None else {},
        }
        try:
            data = _dumps(payload, self.standard_json)
        except UnicodeEncodeError:
            return  # text that is not UTF-8 (an escaped lone surrogate): this load goes uncached
        with contextlib.suppress(OSError):
            # not synced: a file lost in a crash or cut short does not verify and is made again
            write_unsynced(self.file, seal(data))
