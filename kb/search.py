"""Search claims: ranked answers to a question or phrase, through SQLite's FTS5.

How a query is searched:

1. Its words are the runs of letters and digits in it; everything else separates
   them, so no FTS5 syntax typed by a person reaches the engine (each word is quoted).
   English stop words and question words are dropped (``kb.english.STOP_WORDS``),
   unless nothing would be left.
2. Each remaining word matches in every form the Porter stemmer joins (run, runs,
   running), in its irregular forms (ran, ``kb.english.IRREGULAR_FORMS``), in its
   comparative forms when the knowledge base has them (big, bigger), and as any word
   of a ``synonyms:`` group of the knowledge base's ``kb.yaml`` it belongs to. A group
   member of several words (``high intensity interval training``) is matched as a
   phrase, both in the query and in the claims.
3. A word no claim has is replaced by the closest word that claims do have
   (``difflib`` ratio at least ``TYPO_CUTOFF``), and the result says so. Words shorter
   than ``MIN_CORRECTED_LENGTH`` are not replaced (is "fast" a typo of "fat"?), only
   offered close words.
4. All the alternatives are OR'ed. A synonym group is indexed as one token per
   occurrence of any of its members, so the group has one document frequency (a claim
   that says "legs" ranks like one that says "quads"). Claims are ranked by FTS5's
   bm25 over the statement, the topic and tags, and the evidence quotes, weighted by
   ``COLUMN_WEIGHTS`` (what a claim says counts most). The best ``RERANKED`` are then
   re-ranked by ``bm25 x (1 + STRENGTH_BOOST x strength)``: among claims that match
   about equally well the better-supported one comes first, but strength (0..1) moves
   a score by 10 % at most, never a poor match over a clearly better one. Equal
   scores are ordered by claim id.
5. Words that half the claims or more have get an idf of zero from bm25 (FTS5 floors
   it at 1e-6), so they change no order; they are left out of the ranking query when
   the other words find enough claims, which keeps queries on large bases fast.
6. Each hit shows its statement and its best quote (the one with the most different
   query words, then the most matches, then the most weight), with the matched words
   marked by FTS5's ``highlight()``.

The index is built from a loaded, valid knowledge base and its weights, and cached as
``<kb>/.kb-cache/search.sqlite``, keyed by a hash of the content of every file the
knowledge base is read from (and of kb's own code): it is rebuilt only when one of
them changes. The cache is written whole or not at all (``write_atomic``); a folder
that cannot be written to is searched through an index held in memory.

For benchmarks: ``build_index(kb, weights)`` builds an index in memory and
``query_index(index, text)`` queries it, so the two can be timed apart.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb import english
from kb.cache import CACHE_DIR, MAX_CACHE_BYTES, check_digest, seal_digest
from kb.errors import KbError, UsageError
from kb.files import FileProblem, read_bounded
from kb.load import MAX_TEXT_BYTES, did_you_mean, load_valid
from kb.model import KnowledgeBase
from kb.output import write_atomic
from kb.progress import Progress, quiet
from kb.weigh import Weights, compute

INDEX_FORMAT = 1
CACHE_FILE = "search.sqlite"
TOKENIZER = "porter unicode61 remove_diacritics 2"
# bm25 weight of each indexed column: what a claim says counts most, then what it is about,
# then the words of the quotes that back or oppose it.
COLUMN_WEIGHTS = {"statement": 5.0, "topic_tags": 3.0, "quotes": 1.0}
# Synonym groups are indexed as one token each (in the *_groups columns, weighted like the
# column the words are in), so that a group has one document frequency: a claim that says
# "legs" matches "thighs" as well as one that says "thighs", however rare each word is.
_GROUP_COLUMNS = {
    "statement": "statement_groups",
    "topic_tags": "topic_tags_groups",
    "quotes": "quotes_groups",
}
STRENGTH_BOOST = 0.1
TYPO_CUTOFF = 0.75
MIN_CORRECTED_LENGTH = 5
SUGGESTION_CUTOFF = 0.6
DEFAULT_LIMIT = 10
# how many of the best text matches the strength boost re-ranks (at least the limit)
RERANKED = 50

_WORD = re.compile(r"[^\W_]+")
_MARK_START, _MARK_END = "\x01", "\x02"  # highlight markers; YAML text cannot contain them

_SCHEMA = f"""
CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE claims(
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, statement TEXT NOT NULL, topic TEXT NOT NULL,
    tags TEXT NOT NULL, strength REAL NOT NULL, consensus TEXT NOT NULL, sources_for TEXT NOT NULL,
    sources_against TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX claims_by_topic ON claims(topic);
CREATE TABLE evidence(
    rowid INTEGER PRIMARY KEY, claim_row INTEGER NOT NULL, position INTEGER NOT NULL,
    source TEXT NOT NULL, stance TEXT NOT NULL, kind TEXT NOT NULL, quote TEXT NOT NULL,
    weight REAL NOT NULL);
CREATE INDEX evidence_by_source ON evidence(source, claim_row);
CREATE INDEX evidence_by_claim ON evidence(claim_row, position);
CREATE TABLE sources(id TEXT PRIMARY KEY, title TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE words(word TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE term_docs(term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE synonyms(group_id INTEGER NOT NULL, member TEXT NOT NULL, stems TEXT NOT NULL);
CREATE VIRTUAL TABLE claim_fts USING fts5(
    statement, topic_tags, quotes, statement_groups, topic_tags_groups, quotes_groups,
    tokenize='{TOKENIZER}');
CREATE VIRTUAL TABLE claim_vocab USING fts5vocab(claim_fts, instance);
"""


# --- results ---


@dataclass(frozen=True)
class Quote:
    """The evidence item shown with a hit: the one that best matches the query."""

    evidence_index: int
    source: str
    stance: str
    kind: str
    text: str
    # (start, end) character offsets of the matched words in ``text``
    highlights: tuple[tuple[int, int], ...]
    # False when no quote of the claim has a query word (the claim matched elsewhere)
    matched: bool


@dataclass(frozen=True)
class Hit:
    id: str
    statement: str
    topic: str
    tags: tuple[str, ...]
    path: str
    score: float
    strength: float
    consensus: str
    sources_for: tuple[str, ...]
    sources_against: tuple[str, ...]
    statement_highlights: tuple[tuple[int, int], ...]
    quote: Quote | None


@dataclass(frozen=True)
class Term:
    """One thing searched for: a word (or phrase) of the query and every form it matches in."""

    words: str
    # every word or phrase it matches: its own forms, its irregular forms, its synonyms
    alternatives: tuple[str, ...]
    # the FTS5 phrases searched for: the tokens of its synonym groups, the other alternatives quoted;
    # each with the index term it is (its stem or group token), None for a phrase of several words
    phrases: tuple[tuple[str, str | None], ...] = ()
    matches: bool = True
    # for a word no claim has: the closest words claims have
    close: tuple[str, ...] = ()


@dataclass(frozen=True)
class Correction:
    word: str
    replacement: str


@dataclass(frozen=True)
class SearchResult:
    query: str
    terms: tuple[Term, ...]
    corrections: tuple[Correction, ...]
    hits: tuple[Hit, ...]
    total: int
    topic: str | None = None
    source: str | None = None
    # close words that claims have, for the words no claim has
    suggestions: tuple[str, ...] = field(default=())

    @property
    def unknown_words(self) -> tuple[str, ...]:
        return tuple(t.words for t in self.terms if not t.matches)


# --- the index ---


class SearchIndex:
    """An open search index: a SQLite database, in memory or the cache file (read-only)."""

    def __init__(self, connection: sqlite3.Connection, *, rebuilt: bool, path: Path | None):
        self.connection = connection
        # True when this index was built for this call, False when the cache was reused
        self.rebuilt = rebuilt
        # the cache file, or None for an index held in memory only
        self.path = path
        connection.execute(f"CREATE VIRTUAL TABLE temp.tokens USING fts5(text, tokenize='{TOKENIZER}')")
        connection.execute("CREATE VIRTUAL TABLE temp.token_vocab USING fts5vocab(temp, tokens, instance)")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def stems(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Each text as the index sees it: its tokens, stemmed by the index's own tokenizer."""
        if not texts:
            return []
        conn = self.connection
        conn.executemany("INSERT INTO temp.tokens(rowid, text) VALUES (?, ?)", enumerate(texts, 1))
        out: list[list[str]] = [[] for _ in texts]
        for doc, term in conn.execute('SELECT doc, term FROM temp.token_vocab ORDER BY doc, "offset"'):
            out[doc - 1].append(term)
        conn.execute("DELETE FROM temp.tokens")
        return [tuple(stems) for stems in out]

    @functools.cached_property
    def topics(self) -> list[str]:
        return [row[0] for row in self.connection.execute("SELECT DISTINCT topic FROM claims ORDER BY topic")]

    @functools.cached_property
    def sources(self) -> list[str]:
        return [row[0] for row in self.connection.execute("SELECT id FROM sources ORDER BY id")]

    @functools.cached_property
    def claim_count(self) -> int:
        return self.connection.execute("SELECT count(*) FROM claims").fetchone()[0]

    @functools.cached_property
    def vocabulary(self) -> list[str]:
        """The words claims have (statements, topics, tags, quotes), for correcting typos."""
        words = (row[0] for row in self.connection.execute("SELECT word FROM words"))
        return [w for w in words if w not in english.STOP_WORDS and not w.isdigit()]

    @functools.cached_property
    def _groups(
        self,
    ) -> tuple[dict[int, list[tuple[str, tuple[str, ...]]]], dict[tuple[str, ...], list[int]]]:
        members: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
        by_stems: dict[tuple[str, ...], list[int]] = {}
        rows = self.connection.execute("SELECT group_id, member, stems FROM synonyms ORDER BY rowid")
        for group_id, member, stems in rows:
            key = tuple(stems.split(" "))
            members.setdefault(group_id, []).append((member, key))
            by_stems.setdefault(key, []).append(group_id)
        return members, by_stems

    @functools.cached_property
    def _longest_phrase(self) -> int:
        return max((len(key) for key in self._groups[1]), default=1)

    def known_words(self, words: Iterable[str]) -> list[str]:
        wanted = sorted(set(words))
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self.connection.execute(f"SELECT word FROM words WHERE word IN ({marks})", wanted)
        return sorted(row[0] for row in rows)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _fts_phrase(text: str) -> str:
    # every alternative is made of _WORD tokens already; quoting makes each a plain phrase
    return '"' + text.replace('"', '""') + '"'


def _create(connection: sqlite3.Connection) -> None:
    try:
        connection.executescript(_SCHEMA)
    except sqlite3.OperationalError as exc:
        if "fts5" not in str(exc):
            raise
        raise KbError(
            f"kb search needs SQLite's FTS5, which this Python's SQLite {sqlite3.sqlite_version} lacks"
        ) from exc


def build_index(
    kb: KnowledgeBase, weights: Weights, *, key: str = "", extra_files: Sequence[str] = ()
) -> SearchIndex:
    """Build a search index of ``kb`` in memory (``rebuilt`` is True, ``path`` None)."""
    conn = sqlite3.connect(":memory:")
    _create(conn)
    claim_rows = []
    evidence_rows = []
    fts_rows = []
    vocabulary: set[str] = set()
    evidence_row = 0
    for claim_row, claim in enumerate(kb.claims.values(), 1):
        w = weights.claims[claim.id]
        for position, (ev, ew) in enumerate(zip(claim.evidence, w.evidence, strict=True)):
            evidence_row += 1
            evidence_rows.append(
                (evidence_row, claim_row, position, ev.source, ev.stance, ev.kind, ev.quote, ew.weight)
            )
        claim_rows.append(
            (
                claim_row, claim.id, claim.statement, claim.topic, json.dumps(list(claim.tags)),
                w.strength, w.consensus, json.dumps(list(w.sources_for)),
                json.dumps(list(w.sources_against)), claim.path,
            )
        )  # fmt: skip
        topic_tags = " ".join([claim.topic, *claim.tags])
        quotes = "\n".join(ev.quote for ev in claim.evidence)
        fts_rows.append((claim_row, claim.statement, topic_tags, quotes))
        for text in (claim.statement, topic_tags, quotes):
            vocabulary.update(_words(text))
    with conn:
        conn.executemany("INSERT INTO claims VALUES (?,?,?,?,?,?,?,?,?,?)", claim_rows)
        conn.executemany("INSERT INTO evidence VALUES (?,?,?,?,?,?,?,?)", evidence_rows)
        conn.executemany(
            "INSERT INTO claim_fts(rowid, statement, topic_tags, quotes) VALUES (?,?,?,?)",
            fts_rows,
        )
        conn.executemany("INSERT INTO sources VALUES (?, ?)", [(s.id, s.title) for s in kb.sources.values()])
        conn.executemany("INSERT INTO words VALUES (?)", [(w,) for w in sorted(vocabulary)])
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("format", str(INDEX_FORMAT)),
                ("key", key),
                ("extra_files", json.dumps(list(extra_files))),
                ("title", kb.config.title),
            ],
        )
    index = SearchIndex(conn, rebuilt=True, path=None)
    _store_synonyms(index, [*kb.config.synonyms, *english.IRREGULAR_FORMS])
    _index_groups(index)
    with conn:
        conn.execute("INSERT INTO claim_fts(claim_fts) VALUES ('optimize')")
        conn.execute("CREATE VIRTUAL TABLE temp.claim_terms USING fts5vocab(main, claim_fts, row)")
        conn.execute("INSERT INTO term_docs SELECT term, doc FROM temp.claim_terms")
        conn.execute("DROP TABLE temp.claim_terms")
    return index


def _store_synonyms(index: SearchIndex, groups: Sequence[Sequence[str]]) -> None:
    """Store each group's members with their stems, so queries can find the group of a word."""
    members = [[" ".join(_words(m)) for m in group] for group in groups]
    flat = [m for group in members for m in group]
    stems = dict(zip(flat, index.stems(flat), strict=True))
    rows = []
    for group_id, group in enumerate(members):
        seen: set[tuple[str, ...]] = set()
        for member in group:
            key = stems[member]
            if key and key not in seen:  # members with the same stems add nothing
                seen.add(key)
                rows.append((group_id, member, " ".join(key)))
    with index.connection:
        index.connection.executemany("INSERT INTO synonyms VALUES (?, ?, ?)", rows)


def group_token(group_id: int) -> str:
    """The token that stands for a synonym group in the index (the stemmer leaves it as it is)."""
    return f"kbgroup{group_id}x0"


def _index_groups(index: SearchIndex) -> None:
    """Write each claim's synonym-group tokens: one per occurrence of a member, beside its column."""
    members, by_stems = index._groups
    if not by_stems:
        return
    conn = index.connection
    wanted = sorted({stem for key in by_stems for stem in key})
    marks = ",".join("?" * len(wanted))
    found: dict[tuple[int, str], dict[int, str]] = {}
    rows = conn.execute(f'SELECT doc, col, "offset", term FROM claim_vocab WHERE term IN ({marks})', wanted)
    for doc, col, offset, term in rows:
        if col in _GROUP_COLUMNS:
            found.setdefault((doc, col), {})[offset] = term
    by_first: dict[str, list[tuple[tuple[str, ...], list[int]]]] = {}
    for key, group_ids in by_stems.items():
        by_first.setdefault(key[0], []).append((key, group_ids))
    tokens: dict[int, dict[str, list[str]]] = {}
    for (doc, col), terms in sorted(found.items()):
        out = tokens.setdefault(doc, {}).setdefault(col, [])
        for offset in sorted(terms):
            for key, group_ids in by_first.get(terms[offset], []):
                if all(terms.get(offset + i) == stem for i, stem in enumerate(key)):
                    out.extend(group_token(g) for g in group_ids)
    with conn:
        conn.executemany(
            f"UPDATE claim_fts SET {', '.join(f'{c} = ?' for c in _GROUP_COLUMNS.values())} WHERE rowid = ?",
            [
                (*(" ".join(columns.get(col, [])) for col in _GROUP_COLUMNS), doc)
                for doc, columns in sorted(tokens.items())
            ],
        )


# --- the cache ---


def _kb_files(root: Path) -> list[Path]:
    """Every file the loader may read: kb.yaml, all of sources/ and the YAML files of claims/."""
    files = [root / "kb.yaml"] if (root / "kb.yaml").is_file() else []
    for folder, wanted in (("sources", None), ("claims", (".yaml", ".yml"))):
        for here, dirs, names in os.walk(root / folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files.extend(
                Path(here, name)
                for name in sorted(names)
                if not name.startswith(".") and (wanted is None or name.endswith(wanted))
            )
    return files


def _hash_files(root: Path, files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(root).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        try:
            # never blocks on a FIFO nor reads a device or a file outside the folder: the loader
            # reports those, so a marker in their place is enough to make the key differ
            data = read_bounded(file, MAX_TEXT_BYTES, root)
        except FileProblem as exc:
            data = b"\0unreadable: " + exc.message.encode()
        digest.update(str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


@functools.cache
def _code_fingerprint() -> str:
    """A hash of kb's own code and SQLite's version: a new kb rebuilds indexes built by an old one."""
    digest = hashlib.sha256(f"{INDEX_FORMAT}\0{sqlite3.sqlite_version}\0".encode())
    package = Path(__file__).parent
    for file in sorted(package.rglob("*.py")):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _texts_outside_sources(kb: KnowledgeBase) -> list[str]:
    """Source texts kept elsewhere in the folder than sources/ (they are not in _kb_files)."""
    root = kb.root.resolve()
    out = []
    for source in kb.sources.values():
        target = (kb.root / "sources" / source.text).resolve()
        if target.parent != (root / "sources") and target.is_relative_to(root):
            out.append(target.relative_to(root).as_posix())
    return sorted(set(out))


def _content_key(files_digest: str, root: Path, extra_files: Sequence[str]) -> str:
    extra = _hash_files(root, [root / name for name in extra_files])
    return hashlib.sha256(f"{_code_fingerprint()}\0{files_digest}\0{extra}".encode()).hexdigest()


def content_key(root: Path | str, extra_files: Sequence[str] = ()) -> str:
    """The hash of everything the index of the knowledge base at ``root`` is built from."""
    root = Path(root)
    return _content_key(_hash_files(root, _kb_files(root)), root, extra_files)


def cache_path(root: Path | str) -> Path:
    return Path(root) / CACHE_DIR / CACHE_FILE


def _seal_path(root: Path) -> Path:
    return cache_path(root).with_name(CACHE_FILE + ".seal")


def _open_cached(root: Path, files_digest: str) -> SearchIndex | None:
    file = cache_path(root)
    # only an index kb wrote and sealed (kb.cache) is used, from the very bytes that were checked
    try:
        data = read_bounded(file, MAX_CACHE_BYTES, root)
        seal_text = read_bounded(_seal_path(root), 200, root).decode("ascii")
    except (FileProblem, UnicodeDecodeError):
        return None
    if not check_digest(data, seal_text):
        return None
    try:
        conn = sqlite3.connect(":memory:")
        conn.deserialize(data)
    except sqlite3.Error:
        return None
    try:
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        extra = json.loads(meta.get("extra_files", "[]"))
        safe = isinstance(extra, list) and all(
            isinstance(p, str) and not Path(p).is_absolute() and ".." not in Path(p).parts for p in extra
        )
        current = meta.get("format") == str(INDEX_FORMAT) and safe
        if current and meta.get("key") == _content_key(files_digest, root, extra):
            return SearchIndex(conn, rebuilt=False, path=file)
    except (sqlite3.Error, ValueError, RecursionError):
        pass  # not an index of ours, or a damaged one: build a new one
    conn.close()
    return None


def open_index(root: Path | str, *, progress: Progress = quiet, cache: bool = True) -> SearchIndex:
    """The search index of the knowledge base at ``root``: the cached one if no file changed since.

    Otherwise the knowledge base is loaded (``InvalidKnowledgeBase`` if it has errors),
    weighed and indexed, and the index is saved for next time; if the folder cannot be
    written to, the index is used from memory.
    """
    root = Path(root)
    if not root.is_dir():
        load_valid(root)  # raises the loader's own message for a missing folder
    # hashed before loading: a file edited while the index is built makes the next search rebuild
    files_digest = _hash_files(root, _kb_files(root))
    if cache:
        found = _open_cached(root, files_digest)
        if found is not None:
            return found
    kb = load_valid(root, progress=progress)
    extra = _texts_outside_sources(kb)
    index = build_index(kb, compute(kb), key=_content_key(files_digest, root, extra), extra_files=extra)
    if cache:
        try:
            data = index.connection.serialize()
            write_atomic(cache_path(root), data)
            write_atomic(_seal_path(root), seal_digest(data))
            index.path = cache_path(root)
        except OSError:
            pass  # a read-only folder: search from memory
    return index


# --- queries ---


def _term(index: SearchIndex, words: str, key: tuple[str, ...]) -> Term:
    """The term for ``words`` (stemmed to ``key``): the words, their synonyms and their other forms."""
    members, by_stems = index._groups
    alternatives: dict[tuple[str, ...], str] = {key: words}
    if " " not in words and words.isalpha():
        variants = english.comparative_bases(words) + english.comparative_forms(words)
        found = index.known_words(variants)
        for variant, variant_key in zip(found, index.stems(found), strict=True):
            alternatives.setdefault(variant_key, variant)
    groups: list[int] = []
    phrases: list[tuple[str, str | None]] = []
    for alternative_key, alternative in list(alternatives.items()):
        in_groups = by_stems.get(alternative_key, [])
        if not in_groups:
            phrases.append(
                (_fts_phrase(alternative), alternative_key[0] if len(alternative_key) == 1 else None)
            )
        for group_id in in_groups:
            if group_id not in groups:
                groups.append(group_id)
                for member, member_key in members[group_id]:
                    alternatives.setdefault(member_key, member)
    phrases += [(group_token(g), group_token(g)) for g in groups]
    return Term(words=words, alternatives=tuple(alternatives.values()), phrases=tuple(phrases))


def _terms(index: SearchIndex, words: list[str]) -> list[Term]:
    """Group the query's words into terms: synonym phrases first, then single words."""
    stems = index.stems(words)
    _, by_stems = index._groups
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        for length in range(min(index._longest_phrase, len(words) - i), 1, -1):
            key = tuple(s for part in stems[i : i + length] for s in part)
            if key in by_stems:
                spans.append((i, i + length))
                i += length
                break
        else:
            spans.append((i, i + 1))
            i += 1
    meaningful = [(a, b) for a, b in spans if b - a > 1 or words[a] not in english.STOP_WORDS]
    terms: dict[str, Term] = {}
    for a, b in meaningful or spans:
        text = " ".join(words[a:b])
        key = tuple(s for part in stems[a:b] for s in part)
        if key and text not in terms:
            terms[text] = _term(index, text, key)
    return list(terms.values())


def _expression(terms: Iterable[Term], leave_out: frozenset[str] = frozenset()) -> str:
    """What is searched for: every term's phrases (but those of index terms in ``leave_out``), OR'ed."""
    return " OR ".join(phrase for term in terms for phrase, key in term.phrases if key not in leave_out)


def _common(index: SearchIndex, terms: Iterable[Term]) -> frozenset[str]:
    """The index terms that half the claims or more have: bm25 gives them no weight.

    FTS5 computes idf = log((N - n + 0.5) / (n + 0.5)) and uses 1e-6 where that is not
    positive, so such a word only breaks ties at the sixth decimal.
    """
    keys = sorted({key for term in terms for _, key in term.phrases if key is not None})
    if not keys:
        return frozenset()
    marks = ",".join("?" * len(keys))
    rows = index.connection.execute(f"SELECT term, docs FROM term_docs WHERE term IN ({marks})", keys)
    return frozenset(term for term, docs in rows if 2 * docs >= index.claim_count)


def _highlight_expression(terms: Iterable[Term]) -> str:
    """What is marked in statements and quotes: every word or phrase a term matches."""
    return " OR ".join(_fts_phrase(a) for term in terms for a in term.alternatives)


def _matches_any(index: SearchIndex, term: Term) -> bool:
    row = index.connection.execute(
        "SELECT 1 FROM claim_fts WHERE claim_fts MATCH ? LIMIT 1", (_expression([term]),)
    ).fetchone()
    return row is not None


def _correct(index: SearchIndex, terms: list[Term]) -> tuple[list[Term], list[Correction]]:
    """Replace each word no claim has by the closest word claims have, when one is close enough."""
    out: list[Term] = []
    corrections: list[Correction] = []
    for term in terms:
        if _matches_any(index, term):
            out.append(term)
            continue
        close = []
        if " " not in term.words and not term.words.isdigit():
            close = difflib.get_close_matches(term.words, index.vocabulary, n=3, cutoff=SUGGESTION_CUTOFF)
        best = close[0] if close else ""
        if (
            len(term.words) >= MIN_CORRECTED_LENGTH
            and difflib.SequenceMatcher(None, term.words, best).ratio() >= TYPO_CUTOFF
        ):
            corrections.append(Correction(term.words, best))
            out.append(_term(index, best, index.stems([best])[0]))
        else:
            out.append(Term(term.words, term.alternatives, term.phrases, matches=False, close=tuple(close)))
    return out, corrections


def _offsets(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The text without highlight markers, and where the marked parts are in it."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    start = 0
    for part in re.split(f"([{_MARK_START}{_MARK_END}])", marked):
        if part == _MARK_START:
            start = length
        elif part == _MARK_END:
            spans.append((start, length))
        else:
            plain.append(part)
            length += len(part)
    return "".join(plain), tuple(spans)


def _filters(topic: str | None, source: str | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    if topic is not None:
        sql += " AND rowid IN (SELECT rowid FROM claims WHERE topic = ?)"
        params.append(topic)
    if source is not None:
        sql += " AND rowid IN (SELECT claim_row FROM evidence WHERE source = ?)"
        params.append(source)
    return sql, params


def _marked(index: SearchIndex, texts: list[str], expression: str) -> list[tuple[tuple[int, int], ...]]:
    """Where ``expression`` matches in each text: FTS5's highlight() over a scratch table of them."""
    conn = index.connection
    conn.executemany("INSERT INTO temp.tokens(rowid, text) VALUES (?, ?)", enumerate(texts, 1))
    out: list[tuple[tuple[int, int], ...]] = [() for _ in texts]
    try:
        rows = conn.execute(
            "SELECT rowid, highlight(tokens, 0, ?, ?) FROM temp.tokens WHERE tokens MATCH ?",
            (_MARK_START, _MARK_END, expression),
        )
        for row, marked in rows:
            plain, spans = _offsets(marked)
            if plain == texts[row - 1]:
                out[row - 1] = spans
    finally:
        conn.execute("DELETE FROM temp.tokens")
    return out


def _best_quote(evidence: list[tuple], marks: list[tuple[tuple[int, int], ...]]) -> Quote | None:
    """The quote with the most different query words, then the most matches, then the most weight."""
    if not evidence:
        return None

    def merit(i: int) -> tuple:
        quote, weight = evidence[i][4], evidence[i][5]
        words = {quote[a:b].lower() for a, b in marks[i]}
        return (len(words), len(marks[i]), weight, -i)

    best = max(range(len(evidence)), key=merit)
    position, source, stance, kind, quote, _weight = evidence[best]
    return Quote(position, source, stance, kind, quote, marks[best], matched=bool(marks[best]))


def _hits(index: SearchIndex, ranked: list[tuple[float, int]], expression: str) -> list[Hit]:
    """The details of the ranked claims, with their matched words marked and their best quote."""
    if not ranked:
        return []
    conn = index.connection
    rows = [row for _, row in ranked]
    marks = ",".join("?" * len(rows))
    claims = {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT rowid, id, statement, topic, tags, strength, consensus, sources_for, sources_against, "
            f"path FROM claims WHERE rowid IN ({marks})",
            rows,
        )
    }
    evidence: dict[int, list[tuple]] = {row: [] for row in rows}
    for claim_row, *item in conn.execute(
        "SELECT claim_row, position, source, stance, kind, quote, weight FROM evidence "
        f"WHERE claim_row IN ({marks}) ORDER BY claim_row, position",
        rows,
    ):
        evidence[claim_row].append(tuple(item))
    texts = [claims[row][1] for row in rows] + [item[4] for row in rows for item in evidence[row]]
    found = _marked(index, texts, expression)
    statement_marks, quote_marks = found[: len(rows)], found[len(rows) :]
    hits = []
    for (score, row), statement_spans in zip(ranked, statement_marks, strict=True):
        cid, statement, topic, tags, strength, consensus, sources_for, sources_against, path = claims[row]
        items = evidence[row]
        hits.append(
            Hit(
                id=cid,
                statement=statement,
                topic=topic,
                tags=tuple(json.loads(tags)),
                path=path,
                score=round(score, 4),
                strength=round(strength, 4),
                consensus=consensus,
                sources_for=tuple(json.loads(sources_for)),
                sources_against=tuple(json.loads(sources_against)),
                statement_highlights=statement_spans,
                quote=_best_quote(items, quote_marks[: len(items)]),
            )
        )
        quote_marks = quote_marks[len(items) :]
    return hits


def _strengths(index: SearchIndex, rows: list[int]) -> dict[int, float]:
    if not rows:
        return {}
    marks = ",".join("?" * len(rows))
    return dict(
        index.connection.execute(f"SELECT rowid, strength FROM claims WHERE rowid IN ({marks})", rows)
    )


def check_filters(index: SearchIndex, topic: str | None, source: str | None) -> None:
    """Refuse an unknown topic or source id (a usage error), suggesting the closest one."""
    if topic is not None and topic not in index.topics:
        raise UsageError(
            f"--topic {topic!r}: no claim has this topic{did_you_mean(topic, index.topics)}; "
            f"topics: {', '.join(index.topics)}"
        )
    if source is not None and source not in index.sources:
        raise UsageError(f"--source {source!r}: unknown source{did_you_mean(source, index.sources)}")


def query_index(
    index: SearchIndex,
    query: str,
    *,
    limit: int = DEFAULT_LIMIT,
    topic: str | None = None,
    source: str | None = None,
) -> SearchResult:
    """The claims that best answer ``query``, best first (see the module's description)."""
    check_filters(index, topic, source)
    terms, corrections = _correct(index, _terms(index, _words(query)))
    searched = [t for t in terms if t.matches]
    hits: list[Hit] = []
    total = 0
    if searched:
        expression = _expression(searched)
        where, params = _filters(topic, source)
        weights = ", ".join(str(w) for w in [*COLUMN_WEIGHTS.values(), *COLUMN_WEIGHTS.values()])
        # the best text matches by bm25 alone (the engine's own ranking, and fast: it needs no
        # stored value of each row), then re-ranked with their strength
        wanted = max(RERANKED, limit)
        ranking = (
            f"SELECT rowid, bm25(claim_fts, {weights}) AS relevance "
            f"FROM claim_fts WHERE claim_fts MATCH ?{where} ORDER BY relevance, rowid LIMIT ?"
        )
        candidates = []
        # Words half the claims have weigh nothing in bm25 but cost the most to rank: rank by
        # the other words first, and by all of them only if those find too few claims.
        rare = _expression(searched, leave_out=_common(index, searched))
        if rare and rare != expression:
            candidates = index.connection.execute(ranking, [rare, *params, wanted]).fetchall()
        if len(candidates) < wanted:
            candidates = index.connection.execute(ranking, [expression, *params, wanted]).fetchall()
        strengths = _strengths(index, [row for row, _ in candidates])
        ranked = sorted(
            ((-relevance * (1.0 + STRENGTH_BOOST * strengths[row]), row) for row, relevance in candidates),
            key=lambda pair: (-pair[0], pair[1]),
        )
        marked = _highlight_expression(searched)
        hits = _hits(index, ranked[:limit], marked)
        total = len(candidates)
        if total == wanted:
            total = index.connection.execute(
                f"SELECT count(*) FROM claim_fts WHERE claim_fts MATCH ?{where}", [expression, *params]
            ).fetchone()[0]
    suggestions = [word for term in terms for word in term.close]
    return SearchResult(
        query=query,
        terms=tuple(terms),
        corrections=tuple(corrections),
        hits=tuple(hits),
        total=total,
        topic=topic,
        source=source,
        suggestions=tuple(dict.fromkeys(suggestions)),
    )


def search(
    root: Path | str,
    query: str,
    *,
    limit: int = DEFAULT_LIMIT,
    topic: str | None = None,
    source: str | None = None,
    progress: Progress = quiet,
) -> SearchResult:
    """Search the knowledge base at ``root`` through its cached index."""
    with open_index(root, progress=progress) as index:
        return query_index(index, query, limit=limit, topic=topic, source=source)


# --- as data ---


def result_to_dict(result: SearchResult) -> dict[str, Any]:
    """The result as plain data (``kb search --json``); keys and order are stable."""

    def spans(pairs: tuple[tuple[int, int], ...]) -> list[list[int]]:
        return [[a, b] for a, b in pairs]

    return {
        "query": result.query,
        "filters": {"topic": result.topic, "source": result.source},
        "terms": [
            {"words": t.words, "matches": list(t.alternatives), "found": t.matches} for t in result.terms
        ],
        "corrections": [{"word": c.word, "replacement": c.replacement} for c in result.corrections],
        "total": result.total,
        "hits": [
            {
                "rank": rank,
                "id": hit.id,
                "statement": hit.statement,
                "statement_highlights": spans(hit.statement_highlights),
                "topic": hit.topic,
                "tags": list(hit.tags),
                "score": hit.score,
                "strength": hit.strength,
                "consensus": hit.consensus,
                "sources_for": list(hit.sources_for),
                "sources_against": list(hit.sources_against),
                "quote": None
                if hit.quote is None
                else {
                    "evidence_index": hit.quote.evidence_index,
                    "source": hit.quote.source,
                    "stance": hit.quote.stance,
                    "kind": hit.quote.kind,
                    "text": hit.quote.text,
                    "highlights": spans(hit.quote.highlights),
                    "matched": hit.quote.matched,
                },
                "path": hit.path,
            }
            for rank, hit in enumerate(result.hits, 1)
        ],
        "suggestions": list(result.suggestions),
    }


# --- as text ---

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Knowledge-base text is data: no control character reaches the terminal."""
    return _CONTROL.sub("?", text)


def _emphasised(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``text`` with the matched words in bold (click drops the styling when output is not a terminal)."""
    import click

    out, last = [], 0
    for start, end in spans:
        out.append(_printable(text[last:start]))
        out.append(click.style(_printable(text[start:end]), bold=True))
        last = end
    out.append(_printable(text[last:]))
    return "".join(out)


def _names(ids: tuple[str, ...]) -> str:
    return ", ".join(_printable(i) for i in ids) if ids else "none"


def render_text(result: SearchResult) -> tuple[list[str], str]:
    """Notes for standard error (corrections, no match, more hits) and the hits as text."""
    notes = [
        f"no claim has {_printable(c.word)!r}: searched for {_printable(c.replacement)!r} instead"
        for c in result.corrections
    ]
    if result.hits:
        notes += [
            f"no claim has {_printable(term.words)!r}"
            + (f" (close: {', '.join(_printable(w) for w in term.close)})" if term.close else "")
            + "; searched for the other words"
            for term in result.terms
            if not term.matches
        ]
    else:
        where = f" in topic {result.topic!r}" if result.topic else ""
        where += f" with evidence from {result.source!r}" if result.source else ""
        why = "" if result.terms else " (the query has no words to search for)"
        notes.append(f"no claim matches {_printable(result.query)!r}{where}{why}")
        if result.suggestions:
            notes.append(f"did you mean: {', '.join(_printable(s) for s in result.suggestions)}?")
    if result.total > len(result.hits):
        notes.append(f"showing {len(result.hits)} of {result.total} matching claims (--limit N for more)")
    lines: list[str] = []
    for rank, hit in enumerate(result.hits, 1):
        lines.append(f"{rank}. {_emphasised(hit.statement, hit.statement_highlights)}")
        lines.append(
            f"   strength {hit.strength:.2f} ({hit.consensus})  topic: {_printable(hit.topic)}  "
            f"id: {_printable(hit.id)}"
        )
        lines.append(f"   for: {_names(hit.sources_for)}  against: {_names(hit.sources_against)}")
        if hit.quote is not None:
            q = hit.quote
            lines.append(f'   > "{_emphasised(q.text, q.highlights)}" ({_printable(q.source)}, {q.stance})')
    return notes, "".join(line + "\n" for line in lines)
