"""A content-addressed cache of parsed files and found quotes, so reloads are incremental.

Stored as JSON in ``<kb>/.kb-cache/`` (never pickle: a knowledge base folder is
data, and a cache file in it must not be able to run code). Entries are keyed by
the SHA-256 of the file's bytes, so an edited file simply misses. Nothing read
from the cache is trusted blindly: parsed data still goes through validation, and
a cached quote position is used only after checking that the text at that
position really is the quote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from kb.output import write_atomic

CACHE_DIR = ".kb-cache"
FORMAT = 1


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


def _decode(data: Any, dates: list[list[Any]]) -> Any:
    for entry in dates:
        *path, is_datetime = entry
        holder = data
        for part in path[:-1]:
            holder = holder[part]
        parse = dt.datetime.fromisoformat if is_datetime else dt.date.fromisoformat
        holder[path[-1]] = parse(holder[path[-1]])
    return data


class LoadCache:
    """Parsed YAML by file hash, and quote spans by (quote, text hash)."""

    def __init__(self, root: Path, enabled: bool = True):
        self.file = root / CACHE_DIR / "parsed.json"
        self.enabled = enabled
        self.parsed: dict[str, list[Any]] = {}
        self.quotes: dict[str, list[list[int]]] = {}
        self.used_parsed: dict[str, list[Any]] = {}
        self.used_quotes: dict[str, list[list[int]]] = {}
        self.hits = 0
        self.misses = 0
        if enabled:
            self._read()

    def _read(self) -> None:
        try:
            stored = json.loads(self.file.read_bytes())
        except (OSError, ValueError):
            return  # no cache yet, or an unreadable one: start afresh
        if not isinstance(stored, dict) or stored.get("format") != FORMAT:
            return
        parsed, quotes = stored.get("parsed"), stored.get("quotes")
        if isinstance(parsed, dict) and isinstance(quotes, dict):
            self.parsed, self.quotes = parsed, quotes

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
        dates: list[list[Any]] = []
        self.used_parsed[key] = [_encode(data, [], dates), dates]

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

    def save(self) -> None:
        """Keep what this load used, drop the rest; a read-only folder just goes uncached."""
        if not self.enabled:
            return
        if self.used_parsed == self.parsed and self.used_quotes == self.quotes:
            return
        payload = {"format": FORMAT, "parsed": self.used_parsed, "quotes": self.used_quotes}
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        with contextlib.suppress(OSError):
            write_atomic(self.file, text)
