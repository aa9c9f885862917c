"""Search claims: ranked answers to a question, the same on the command line and on the site.

How a question is analysed (``analyse``; ``kb/site/assets/search.js`` does the same, step for
step, and tests run both on the same questions):

1. Words are the runs of letters and digits, folded (accents dropped, lower case). English stop
   words and question words (``kb.english.STOP_WORDS``) carry no subject and are dropped, in
   questions and in claims alike.
2. Each word becomes its Porter stem (``kb.stem``), after irregular forms are brought to their
   base (ran -> run). A stem then stands for a *concept*: itself, or the group it belongs to.
   Groups are the ``synonyms:`` of ``kb.yaml`` (a member may be a phrase, matched as one) and
   one group kb always has, size and amount in either direction (bigger, smaller, builds,
   shrinks, more, less: ``kb.english.SIZE_AND_AMOUNT``), so that a question about "bigger" finds
   the claims that say "shrinks". Groups that share a word are one group. A comparative the
   knowledge base does not have is read as its base word when the base has that (leaner -> lean),
   and the other way round (lean -> leaner).
3. A word no claim has is corrected only when a likely typo explains it: a word the knowledge
   base uses, with the same first letter, within an edit budget that grows with the word's
   length (none under 5 letters, 1 up to 8, 2 beyond), where swapping two letters, dropping or
   doubling one, or hitting a key next to the right one costs 1 and any other letter costs 2.
   "protien" becomes "protein"; "swimming" does not become "slimming". A correction is always
   announced; a word that cannot be corrected is reported as mentioned by no claim.

Query syntax: ``"a phrase"`` keeps only the claims whose statement, topic or a tag has those
words in that order (synonyms and word forms still match); ``-word`` or ``-"a phrase"`` leaves
out the claims whose statement, topic or tags have it. Everything else is plain words: there
are no operators (AND, OR, NEAR, * are words like any other). A query may have at most
``MAX_QUERY_CHARS`` characters and ``MAX_QUERY_TERMS`` words.

How claims are ranked (``score_claims``, the reference both the command line and the site use):
for every concept of the question, a claim that has it scores the concept's idf
(``ln(1 + N / n)`` over N claims, n of which have it: a rare word counts more, but a word most
claims have still counts, since it may be what the question is about) times ``FIELD_FACTORS``,
summed over the places that say what the claim is about: its statement (with bm25's length norm),
its topic and tags (its author's label, added to the statement), the questions and topics of the
disputes ``kb.yaml`` names that it is a position of, and its quotes (only when nothing else has the
concept). The sum is
multiplied by the share of the question the claim covers (the idf of the concepts it has over that
of all the question's concepts), so a claim with both the subject and the quantity asked about
("running" and "legs bigger", read in either direction) outranks claims that have one of them only;
and then by ``1 + STRENGTH_BOOST x strength``: among claims that match about equally the
better-supported comes first, but strength never moves a score by more than 10 %. Equal scores go
by claim id.

The index (``build_index``) is plain data, the same dict the site's search box reads as JSON
(``site_index``); the command line keeps it in ``<kb>/.kb-cache/search.json``, keyed by a hash of
every file of the knowledge base (and kb's own code), rebuilt only when one changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from kb import english
from kb.cache import CACHE_DIR, MAX_CACHE_BYTES, check_digest, seal_digest
from kb.errors import UsageError
from kb.files import FileProblem, read_bounded
from kb.load import MAX_TEXT_BYTES, did_you_mean, load_valid
from kb.model import KnowledgeBase
from kb.output import write_atomic
from kb.progress import Progress, checkpoint, pausable, quiet
from kb.stem import stem
from kb.synonyms import MAX_GROUP_MEMBERS, MAX_MEMBER_WORDS, MAX_SYNONYM_GROUPS, WORD
from kb.weigh import Weights, compute, shown

INDEX_FORMAT = 3
CACHE_FILE = "search.json"
# a concept's weight where a claim has it, by field: its statement; its topic or tags (what the
# claim is about, by its author's label: added to the statement's); its quotes (only when no other
# field has it); the questions and topics of the disputes kb.yaml names that it is a position of
# (added too)
FIELD_FACTORS = (1.0, 0.5, 0.2, 0.25)
STATEMENT, ABOUT, QUOTES, DISPUTE = range(4)
# bm25's length normalisation of the statement (one occurrence): a short statement about the
# question outranks a long one that mentions the same words among many others
BM25_K1 = 1.2
BM25_B = 0.5
STRENGTH_BOOST = 0.1
# the positions of a dispute that an answer shows (the strongest)
MAX_POSITIONS = 4
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 32
# typo correction: below this length no word is corrected; the edit budget, by word length
MIN_CORRECTED_LENGTH = 5
LONG_WORD = 9
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# texts whose analysis an index keeps for the next query (highlighting the hits)
MAX_KEPT_SPANS = 20_000
GROUP_PREFIX = "="  # concept names of groups start with it; a stem never does

_TOKEN = WORD
_QUOTES = '"\u201c\u201d\u201e'


# --- analysis ---


def fold(word: str) -> str:
    """A word as search compares it: accents dropped, lower case."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M")).lower()


def tokens(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` as (folded word, start, end), offsets into ``text``."""
    return [(fold(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def words_of(text: str) -> list[str]:
    """The folded words of ``text`` (``tokens`` without offsets, faster)."""
    if text.isascii():
        return _TOKEN.findall(text.lower())
    return [fold(w) for w in _TOKEN.findall(text)]


class Unit(NamedTuple):
    """One thing a text says: a concept, from the words ``first`` to ``last`` (token indices)."""

    concept: str
    words: str  # the folded words it was read from
    first: int
    last: int
    word: str  # the single word, for a one-word unit ("" for a phrase)


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return stem(word)


def _key_of(word: str, irregular: dict[str, str]) -> str:
    return _stem(irregular.get(word, word))


def _adjacent() -> dict[str, frozenset[str]]:
    where = {ch: (r, c) for r, row in enumerate(KEYBOARD_ROWS) for c, ch in enumerate(row)}
    out = {}
    for ch, (r, c) in where.items():
        near = {(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)}
        out[ch] = frozenset(
            KEYBOARD_ROWS[rr][cc]
            for rr, cc in near
            if 0 <= rr < len(KEYBOARD_ROWS) and 0 <= cc < len(KEYBOARD_ROWS[rr])
        )
    return out


_ADJACENT = _adjacent()
_VOWELS = frozenset("aeiouy")


def _substitution(a: str, b: str) -> int:
    if a == b:
        return 0
    if b in _ADJACENT.get(a, ()) or (a in _VOWELS and b in _VOWELS):
        return 1
    return 2


def typo_distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: a swap, a dropped or extra letter, a near key cost 1; another letter 2."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            best = min(
                rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + _substitution(a[i - 1], b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, rows[i - 2][j - 2] + 1)
            row[j] = best
        rows.append(row)
    return rows[len(a)][len(b)]


def typo_budget(word: str) -> int:
    if len(word) < MIN_CORRECTED_LENGTH:
        return 0
    return 1 if len(word) < LONG_WORD else 2


# --- the index ---


class SearchIndex:
    """A search index: the plain data of ``build_index`` (what the site reads) and lookups over it."""

    def __init__(self, data: dict[str, Any], *, rebuilt: bool = True, path: Path | None = None):
        self.data = data
        # True when this index was built for this call, False when the cache was reused
        self.rebuilt = rebuilt
        # the cache file, or None for an index held in memory only
        self.path = path
        self.stop = frozenset(data["stop"])
        self.irregular: dict[str, str] = data["irregular"]
        self.alias: dict[str, str] = data["alias"]
        self.phrases: dict[str, str] = data["phrases"]
        self.longest_phrase = max((len(k.split(" ")) for k in self.phrases), default=1)
        self.phrase_starts = frozenset(k.split(" ")[0] for k in self.phrases)
        self.claims: list[list[Any]] = data["claims"]
        self.postings: dict[str, tuple[float, tuple[list[int], ...]]] = {
            concept: (entry[0], tuple(_undelta(ids) for ids in entry[1:]))
            for concept, entry in data["postings"].items()
        }
        self.ids = {claim[0]: i for i, claim in enumerate(self.claims)}
        self._arrays: dict[str, tuple[float, tuple[np.ndarray, ...]]] = {}
        self._spans: dict[str, list[tuple[str, int, int]]] = {}
        self.questions = [(tuple(phrase), word) for phrase, word in data["questions"]]

    def close(self) -> None:
        pass

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @functools.cached_property
    def norms(self) -> np.ndarray:
        return np.array([claim[7] for claim in self.claims], dtype=np.float64)

    @functools.cached_property
    def boosts(self) -> np.ndarray:
        strengths = np.array([claim[4] for claim in self.claims], dtype=np.float64)
        return 1.0 + STRENGTH_BOOST * strengths

    def arrays(self, concept: str) -> tuple[float, tuple[np.ndarray, ...]] | None:
        """A concept's postings as arrays of claim rows, per field, then the rows of every claim
        that has it in any field (made on first use)."""
        found = self._arrays.get(concept)
        if found is None and concept in self.postings:
            idf, lists = self.postings[concept]
            arrays = tuple(np.array(ids, dtype=np.int64) for ids in lists)
            found = (idf, (*arrays, np.unique(np.concatenate(arrays))))
            self._arrays[concept] = found
        return found

    @functools.cached_property
    def topics(self) -> list[str]:
        return sorted({claim[2] for claim in self.claims})

    @functools.cached_property
    def sources(self) -> list[str]:
        return list(self.data["sources"])

    @functools.cached_property
    def claim_count(self) -> int:
        return len(self.claims)

    @functools.cached_property
    def vocabulary_by_letter(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for word in self.data["vocab"]:
            out.setdefault(word[0], []).append(word)
        return out

    def resolve(self, word: str) -> str:
        """The concept of one (folded, non-stop) word."""
        key = _key_of(word, self.irregular)
        if key in self.alias:
            return self.alias[key]
        if key in self.postings:
            return key
        for other in english.comparative_bases(word) + english.comparative_forms(word):
            other_key = _key_of(other, self.irregular)
            if other_key in self.alias:
                return self.alias[other_key]
            if other_key in self.postings:
                return other_key
        return key

    def units(self, words: Sequence[str], resolve: Callable[[str], str] | None = None) -> list[Unit]:
        """What a run of folded words says: its concepts, synonym phrases read as one."""
        resolve = resolve or self.resolve
        kept = [(i, w) for i, w in enumerate(words) if w not in self.stop]
        keys = [_key_of(w, self.irregular) for _, w in kept]
        out: list[Unit] = []
        i = 0
        while i < len(kept):
            longest = min(self.longest_phrase, len(kept) - i) if keys[i] in self.phrase_starts else 1
            for length in range(longest, 1, -1):
                concept = self.phrases.get(" ".join(keys[i : i + length]))
                if concept is not None:
                    words_read = " ".join(w for _, w in kept[i : i + length])
                    out.append(Unit(concept, words_read, kept[i][0], kept[i + length - 1][0], ""))
                    i += length
                    break
            else:
                position, word = kept[i]
                out.append(Unit(resolve(word), word, position, position, word))
                i += 1
        return out

    def question_words(self, words: list[str]) -> list[str]:
        """The words of a question, with those that ask for a concept ("how long") replaced by it."""
        out: list[str] = []
        i = 0
        while i < len(words):
            for phrase, word in self.questions:
                if tuple(words[i : i + len(phrase)]) == phrase and self.resolve(word) in self.postings:
                    out.append(word)
                    i += len(phrase)
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def concept_spans(self, text: str) -> list[tuple[str, int, int]]:
        """What ``text`` says, as (concept, start, end) character spans (kept for the next query)."""
        found = self._spans.get(text)
        if found is None:
            words = tokens(text)
            found = [
                (unit.concept, words[unit.first][1], words[unit.last][2])
                for unit in self.units([w for w, _, _ in words])
            ]
            if len(self._spans) >= MAX_KEPT_SPANS:
                self._spans.clear()
            self._spans[text] = found
        return found

    def concepts_of(self, text: str) -> list[str]:
        return [u.concept for u in self.units([w for w, _, _ in tokens(text)])]

    def correction(self, word: str) -> str | None:
        """The word of the knowledge base that a likely typo turned into ``word``, if there is one."""
        budget = typo_budget(word)
        if budget == 0 or not word.isalpha():
            return None
        best: tuple[int, str] | None = None
        for candidate in self.vocabulary_by_letter.get(word[0], []):
            if abs(len(candidate) - len(word)) > budget:
                continue
            distance = typo_distance(word, candidate)
            if distance <= budget and (best is None or (distance, candidate) < best):
                best = (distance, candidate)
        return best[1] if best else None

    def close_words(self, word: str) -> list[str]:
        """For a short word no claim has: words of the base one likely typo away (offered, not used)."""
        if len(word) < 3 or not word.isalpha():
            return []
        return [
            c
            for c in self.vocabulary_by_letter.get(word[0], [])
            if abs(len(c) - len(word)) <= 1 and typo_distance(word, c) <= 1
        ]


def _delta(ids: list[int]) -> list[int]:
    out, last = [], 0
    for i in ids:
        out.append(i - last)
        last = i
    return out


def _undelta(deltas: list[int]) -> list[int]:
    out, last = [], 0
    for d in deltas:
        last += d
        out.append(last)
    return out


def _groups(kb: KnowledgeBase, irregular: dict[str, str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Synonym groups as (concept name, [(member, member key)]); groups sharing a key are merged."""
    raw: list[list[str]] = [list(english.SIZE_AND_AMOUNT), list(english.DURATION), list(english.FREQUENCY)]
    raw += [list(group) for group in kb.config.synonyms[:MAX_SYNONYM_GROUPS]]
    parent = list(range(len(raw)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    members: list[list[tuple[str, str]]] = []
    for g, group in enumerate(raw):
        out = []
        for member in group[:MAX_GROUP_MEMBERS]:
            words = [fold(w) for w in _TOKEN.findall(member)]
            words = [w for w in words if w not in english.STOP_WORDS] if len(words) > 1 else words
            if not words or len(words) > MAX_MEMBER_WORDS:
                continue
            key = " ".join(_key_of(w, irregular) for w in words)
            out.append((" ".join(words), key))
            if key in owner:
                parent[find(g)] = find(owner[key])
            else:
                owner[key] = g
        members.append(out)
    merged: dict[int, list[tuple[str, str]]] = {}
    for g in range(len(raw)):
        merged.setdefault(find(g), []).extend(members[g])
    out_groups = []
    for root, items in sorted(merged.items()):
        unique = list(dict.fromkeys(items))
        name = GROUP_PREFIX + (
            english.SIZE_AND_AMOUNT_NAME if root == 0 else unique[0][1] if unique else str(root)
        )
        out_groups.append((name, unique))
    return out_groups


def _dispute_text(question: str, topic: str | None) -> str:
    """What a dispute is about, as search reads it: its question and its topic."""
    return f"{question}\n{(topic or '').replace('-', ' ')}"


def _idf(total: int, having: int) -> float:
    return round(math.log(1.0 + total / having), 6)


def build_index(
    kb: KnowledgeBase, weights: Weights, *, key: str = "", extra_files: Sequence[str] = ()
) -> SearchIndex:
    """Build the search index of ``kb`` in memory (``rebuilt`` is True, ``path`` None)."""
    return SearchIndex(build_data(kb, weights, key=key, extra_files=extra_files))


def _disputes(
    kb: KnowledgeBase, weights: Weights, position: dict[str, int]
) -> tuple[list[list[Any]], dict[str, list[int]]]:
    """Each dispute as [question, positions, verdict label, leading position or -1, robust, how many
    positions it has, topic], with its ``MAX_POSITIONS`` strongest positions only (a dispute of a big base
    can have thousands); a position is [claim row, answer ("yes"/"no", or None for a claim of
    contradicting claims), strength, consensus]. And for each claim row (a string, as JSON keys
    are), the disputes it is a position of."""
    out: list[list[Any]] = []
    member: dict[str, list[int]] = {}
    for number, dispute in enumerate(weights.disputes):
        positions = [
            [position[p.claim], p.answer, round(p.strength, 4), p.consensus]
            for p in dispute.positions[:MAX_POSITIONS]
        ]
        leader = dispute.verdict.leader
        shown_leader = leader if leader is not None and leader < MAX_POSITIONS else -1
        out.append(
            [
                dispute.question,
                positions,
                dispute.verdict.label,
                shown_leader,
                dispute.verdict.robust,
                len(dispute.positions),
                dispute.topic,
            ]
        )
        for p in dispute.positions:
            rows = member.setdefault(str(position[p.claim]), [])
            if not rows or rows[-1] != number:
                rows.append(number)
    return out, member


def build_data(
    kb: KnowledgeBase,
    weights: Weights,
    *,
    key: str = "",
    extra_files: Sequence[str] = (),
    details: bool = True,
) -> dict[str, Any]:
    """The index as plain data: analysis tables, postings by concept, the claims to show (and, with
    ``details``, what only the command line shows of them: their files, sources and evidence)."""
    irregular = {form: group[0] for group in english.IRREGULAR_FORMS for form in group[1:]}
    stop = english.STOP_WORDS
    alias: dict[str, str] = {}
    phrases: dict[str, str] = {}
    groups = _groups(kb, irregular)
    for name, items in groups:
        for _member, member_key in items:
            if " " in member_key:
                phrases[member_key] = name
            else:
                alias[member_key] = name
    claims = list(kb.claims.values())
    fields: list[tuple[list[str], list[str], list[str]]] = []
    vocabulary: set[str] = set()
    # kb serve holds its rebuild at the checkpoints while a preview runs (kb.progress)
    for claim in pausable(claims, 512):
        texts = (
            claim.statement,
            " ".join([claim.topic, *claim.tags]).replace("-", " "),
            "\n".join(ev.quote for ev in claim.evidence),
        )
        words = [words_of(t) for t in texts]
        fields.append(tuple(words))  # type: ignore[arg-type]
        for ws in words:
            vocabulary.update(w for w in ws if w not in stop and w.isalpha() and len(w) > 1)
    # what each dispute kb.yaml names is about (its question and topic), said once for all its
    # positions; a question kb made up only repeats its positions' statements, so it adds nothing
    dispute_words = [
        words_of(_dispute_text(d.question, d.topic)) if d.named else [] for d in weights.disputes
    ]
    for ws in dispute_words:
        vocabulary.update(w for w in ws if w not in stop and w.isalpha() and len(w) > 1)
    # comparatives the base has of a word it has: one concept (leaner and lean)
    keys = {_key_of(w, irregular) for w in vocabulary}
    for word in sorted(vocabulary):
        word_key = _key_of(word, irregular)
        if word_key in alias:
            continue
        for base in english.comparative_bases(word):
            base_key = _key_of(base, irregular)
            if base_key != word_key and (base_key in keys or base_key in alias):
                alias[word_key] = alias.get(base_key, base_key)
                break
    data: dict[str, Any] = {
        "format": INDEX_FORMAT,
        "key": key,
        "extra_files": list(extra_files),
        "title": kb.config.title,
        "fields": list(FIELD_FACTORS),
        "boost": STRENGTH_BOOST,
        "limits": {"query_chars": MAX_QUERY_CHARS, "query_terms": MAX_QUERY_TERMS},
        "stop": sorted(stop),
        "irregular": irregular,
        "questions": [[list(phrase), word] for phrase, word in english.QUESTION_PHRASES],
        "alias": alias,
        "phrases": phrases,
        "groups": {name: [m for m, _ in items] for name, items in groups},
        "postings": {},
        "vocab": sorted(vocabulary),
        "claims": [],
        "sources": sorted(kb.sources),
        "disputes": [],
        "dispute_of": {},
    }
    index = SearchIndex(data)

    @functools.cache
    def resolve(word: str) -> str:
        key = _key_of(word, irregular)
        return alias.get(key, key)

    position = {claim.id: i for i, claim in enumerate(claims)}
    disputed: dict[int, set[str]] = {}
    for d, words in zip(weights.disputes, dispute_words, strict=True):
        said = {unit.concept for unit in index.units(words, resolve)}
        for p in d.positions:
            disputed.setdefault(position[p.claim], set()).update(said)
    by_concept: dict[str, list[list[int]]] = {}
    having: dict[str, int] = {}
    lengths = []  # each statement's units, for the length norm
    for row, claim_fields in enumerate(fields):
        units = [index.units(words, resolve) for words in claim_fields]
        lengths.append(len(units[0]))
        statement, about, quotes = ({unit.concept for unit in field_units} for field_units in units)
        in_disputes = disputed.get(row, set())
        for concept in statement | about | quotes | in_disputes:
            lists = by_concept.setdefault(concept, [[], [], [], []])
            having[concept] = having.get(concept, 0) + 1
            if concept in statement:
                lists[STATEMENT].append(row)
            if concept in about:
                lists[ABOUT].append(row)
            if concept in in_disputes:
                lists[DISPUTE].append(row)
            if (
                concept in quotes
                and concept not in statement
                and concept not in about
                and concept not in in_disputes
            ):
                lists[QUOTES].append(row)
    checkpoint()
    total = len(claims)
    data["postings"] = {
        concept: [_idf(total, having[concept]), *(_delta(ids) for ids in lists)]
        for concept, lists in sorted(by_concept.items())
    }
    against: dict[str, list[str]] = {c.id: [] for c in claims}
    for a, b, kind in kb.relations():
        if kind == "contradicts":
            against[a].append(b)
            against[b].append(a)
    checkpoint()
    listed = []
    average = (sum(lengths) / len(lengths)) if lengths else 1.0
    for claim, length in zip(claims, lengths, strict=True):
        w = weights.claims[claim.id]
        norm = (BM25_K1 + 1) / (1 + BM25_K1 * (1 - BM25_B + BM25_B * length / (average or 1.0)))
        data["claims"].append(
            [
                claim.id, claim.statement, claim.topic, list(claim.tags), round(w.strength, 4), w.consensus,
                sorted(position[o] for o in set(against[claim.id])),
                round(norm, 4),
            ]
        )  # fmt: skip
        if not details:
            continue
        listed.append(
            [
                claim.path,
                list(w.sources_for),
                list(w.sources_against),
                [
                    [ev.source, ev.stance, ev.kind, ev.quote, round(ew.weight, 4)]
                    for ev, ew in zip(claim.evidence, w.evidence, strict=True)
                ],
            ]
        )
    if details:
        data["details"] = listed
    data["disputes"], data["dispute_of"] = _disputes(kb, weights, position)
    return data


def site_index(
    kb: KnowledgeBase,
    weights: Weights,
    claim_url: Callable[[str], str],
    pages: Sequence[Sequence[str]] = (),
    built: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the site's search box reads: the index without what only the command line shows, and
    the site's other pages (``[title, url, summary, kind]``, see ``kb.site.searchpages``), offered
    after the claims. ``built``: ``build_data(kb, weights, details=False)`` made ahead (the site
    build's forked child), taken over and changed here."""
    data = built if built is not None else build_data(kb, weights, details=False)
    for name in ("key", "extra_files", "sources"):
        data.pop(name)
    for claim in data["claims"]:
        claim.append(claim_url(claim[0]))
    checkpoint()
    data.update(page_data(SearchIndex(data), pages))
    return data


# --- the site's other pages ---

# a concept's weight in a page's title and in its summary (added); how many pages an answer offers
PAGE_FIELDS = (1.0, 0.5)
MAX_PAGES = 5


def page_data(index: SearchIndex, pages: Sequence[Sequence[str]]) -> dict[str, Any]:
    """The pages as the search box reads them: each ``[title, url, summary, kind]``, and postings by
    concept ``[idf, title rows, summary rows]`` (delta coded), read with the claims' analysis."""
    lists: dict[str, list[list[int]]] = {}
    for row, (title, _url, summary, _kind) in enumerate(pages):
        for f, text in enumerate((title, summary)):
            for concept in dict.fromkeys(index.concepts_of(text)):
                lists.setdefault(concept, [[], []])[f].append(row)
    postings = {
        concept: [_idf(len(pages), len(set(rows[0]) | set(rows[1]))), _delta(rows[0]), _delta(rows[1])]
        for concept, rows in sorted(lists.items())
    }
    return {"pages": [list(page) for page in pages], "page_postings": postings}


def page_concepts(query: Query) -> list[str]:
    """The concepts a query looks for in pages: those of its words and phrases, in order, whether
    or not a claim has them (a page may be about what no claim says)."""
    out = [c for t in query.terms if t.kind != "exclude" for c in t.concepts]
    return list(dict.fromkeys(out))


def rank_pages(data: dict[str, Any], query: Query, limit: int = MAX_PAGES) -> list[tuple[float, int]]:
    """The pages that best match ``query``, as (score, row), best first (the site's ``rankPages``).

    A page scores, for each concept of the query, the concept's idf over the pages times
    ``PAGE_FIELDS`` for its title and its summary (summed), times the share of the query it covers;
    a page whose title or summary has every concept of an excluded word or phrase is left out.
    """
    postings = data.get("page_postings", {})
    rows_of: dict[str, tuple[float, list[int], list[int]]] = {}
    for concept in page_concepts(query) + [c for t in query.terms if t.kind == "exclude" for c in t.concepts]:
        entry = postings.get(concept)
        if entry is not None and concept not in rows_of:
            rows_of[concept] = (entry[0], _undelta(entry[1]), _undelta(entry[2]))
    scores: dict[int, float] = {}
    covered: dict[int, float] = {}
    total = 0.0
    for concept in page_concepts(query):
        if concept not in rows_of:
            continue
        idf, title, summary = rows_of[concept]
        total = total + idf
        for factor, rows in zip(PAGE_FIELDS, (title, summary), strict=True):
            for row in rows:
                scores[row] = scores.get(row, 0.0) + idf * factor
        for row in dict.fromkeys(title + summary):
            covered[row] = covered.get(row, 0.0) + idf
    left_out: set[int] = set()
    for term in query.terms:
        if term.kind == "exclude":
            having = [
                set(rows_of[c][1]) | set(rows_of[c][2]) if c in rows_of else set() for c in term.concepts
            ]
            left_out |= set.intersection(*having) if having else set()
    ranked = [(score * (covered[row] / total), row) for row, score in scores.items() if row not in left_out]
    ranked.sort(key=lambda pair: (-pair[0], pair[1]))
    return ranked[:limit]


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
    """A hash of kb's own code: a new kb rebuilds indexes built by an old one."""
    digest = hashlib.sha256(f"{INDEX_FORMAT}\0".encode())
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
        raw = read_bounded(file, MAX_CACHE_BYTES, root)
        seal_text = read_bounded(_seal_path(root), 200, root).decode("ascii")
    except (FileProblem, UnicodeDecodeError):
        return None
    if not check_digest(raw, seal_text):
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        extra = data.get("extra_files", [])
        safe = isinstance(extra, list) and all(
            isinstance(p, str) and not Path(p).is_absolute() and ".." not in Path(p).parts for p in extra
        )
        if (
            data.get("format") == INDEX_FORMAT
            and safe
            and data.get("key") == _content_key(files_digest, root, extra)
        ):
            return SearchIndex(data, rebuilt=False, path=file)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError):
        pass  # not an index of ours, or a damaged one: build a new one
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
            payload = json.dumps(index.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            write_atomic(cache_path(root), payload)
            write_atomic(_seal_path(root), seal_digest(payload))
            index.path = cache_path(root)
        except OSError:
            pass  # a read-only folder: search from memory
    return index


# --- queries ---


@dataclass(frozen=True)
class Term:
    """One part of a query: plain words, a quoted phrase or an excluded word or phrase."""

    words: str
    kind: str  # "word", "phrase" or "exclude"
    concepts: tuple[str, ...]
    found: bool  # some claim has it (every word of a phrase)

    @property
    def matches(self) -> bool:
        return self.found


@dataclass(frozen=True)
class Correction:
    word: str
    replacement: str


@dataclass(frozen=True)
class Query:
    """A parsed query: its terms, what was corrected and the words no claim has."""

    text: str
    terms: tuple[Term, ...]
    corrections: tuple[Correction, ...]
    unknown: tuple[str, ...]
    close: tuple[str, ...]

    @property
    def scored(self) -> list[str]:
        """The concepts that rank claims, in the order they first appear."""
        out = []
        for term in self.terms:
            if term.kind != "exclude" and term.found:
                out.extend(term.concepts)
        return list(dict.fromkeys(out))

    @property
    def answerable(self) -> bool:
        """Whether enough of the question is in the knowledge base: no more unknown words than known."""
        known = sum(1 for t in self.terms if t.kind != "exclude" and t.found)
        return known > 0 and len(self.unknown) <= known

    @property
    def required(self) -> list[tuple[str, ...]]:
        return [t.concepts for t in self.terms if t.kind == "phrase"]

    @property
    def excluded(self) -> list[tuple[str, ...]]:
        return [t.concepts for t in self.terms if t.kind == "exclude" and t.found]


def split_query(text: str) -> list[tuple[str, str]]:
    """The query's parts as (kind, text): "word" runs, quoted "phrase"s, "exclude"d words or phrases.

    An unclosed quote runs to the end of the query; a lone '-' is nothing.
    """
    parts: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        exclude = ch == "-" and i + 1 < n and not text[i + 1].isspace()
        if exclude:
            i += 1
            ch = text[i]
        if ch in _QUOTES:
            end = i + 1
            while end < n and text[end] not in _QUOTES:
                end += 1
            parts.append(("exclude" if exclude else "phrase", text[i + 1 : end]))
            i = end + 1
        else:
            end = i
            while end < n and not text[end].isspace():
                end += 1
            parts.append(("exclude" if exclude else "word", text[i:end]))
            i = end
    return parts


def parse_query(index: SearchIndex, text: str) -> Query:
    """Analyse a query: its terms' concepts, with likely typos corrected (see the module's description)."""
    if len(text) > MAX_QUERY_CHARS:
        raise UsageError(f"the query has {len(text)} characters; at most {MAX_QUERY_CHARS} are allowed")
    parts = split_query(text)
    count = sum(len(tokens(part)) for _, part in parts)
    if count > MAX_QUERY_TERMS:
        raise UsageError(f"the query has {count} words; at most {MAX_QUERY_TERMS} are allowed")
    terms: list[Term] = []
    corrections: list[Correction] = []
    unknown: list[str] = []
    close: list[str] = []

    def corrected(words: list[str]) -> list[Unit]:
        """The units of ``words`` once each word no claim has is replaced by its likely spelling."""
        fixed = list(words)
        for unit in index.units(words):
            if unit.word and unit.concept not in index.postings:
                replacement = index.correction(unit.word)
                if replacement is not None:
                    corrections.append(Correction(unit.word, replacement))
                    fixed[unit.first] = replacement
        return index.units(fixed)

    plain = index.question_words([w for kind, part in parts if kind == "word" for w, _, _ in tokens(part)])
    for unit in corrected(plain):
        found = unit.concept in index.postings
        if not found:
            unknown.append(unit.words)
            close.extend(index.close_words(unit.word) if unit.word else [])
        terms.append(Term(unit.words, "word", (unit.concept,), found))
    for kind, part in parts:
        if kind == "word":
            continue
        units = corrected([w for w, _, _ in tokens(part)])
        if not units:
            continue
        missing = [u.words for u in units if u.concept not in index.postings]
        if kind != "exclude":
            unknown.extend(missing)
        words = " ".join(u.words for u in units)
        terms.append(Term(words, kind, tuple(u.concept for u in units), not missing))
    return Query(
        text=text,
        terms=tuple(terms),
        corrections=tuple(dict.fromkeys(corrections)),
        unknown=tuple(dict.fromkeys(unknown)),
        close=tuple(dict.fromkeys(close)),
    )


def _query_weight(index: SearchIndex, concepts: Sequence[str]) -> float:
    """The idf of all the query's concepts the base has, summed in order: what a claim may cover."""
    total = 0.0
    for concept in concepts:
        entry = index.postings.get(concept)
        if entry is not None:
            total = total + entry[0]
    return total


def score_claims(index: SearchIndex, concepts: Sequence[str]) -> dict[int, float]:
    """The reference ranking: every claim that has a concept, with its relevance (before strength).

    A claim's relevance is the sum of its fields' scores for each concept, times the share of the
    query it covers (the idf of the concepts it has, over that of all the query's concepts): a claim
    that has both the subject and the quantity a question asks about outranks one that has one of
    them only. The site's search box computes the same sums in the same order (``search.js``,
    ``scoreClaims``).
    """
    scores: dict[int, float] = {}
    covered: dict[int, float] = {}
    claims = index.claims
    for concept in concepts:
        entry = index.postings.get(concept)
        if entry is None:
            continue
        idf, lists = entry
        weight = idf * FIELD_FACTORS[STATEMENT]
        for row in lists[STATEMENT]:
            scores[row] = scores.get(row, 0.0) + weight * claims[row][7]
        for f in (ABOUT, QUOTES, DISPUTE):
            weight = idf * FIELD_FACTORS[f]
            for row in lists[f]:
                scores[row] = scores.get(row, 0.0) + weight
        for row in {row for ids in lists for row in ids}:
            covered[row] = covered.get(row, 0.0) + idf
    total = _query_weight(index, concepts)
    return {row: score * (covered[row] / total) for row, score in scores.items()}


def relevance(index: SearchIndex, concepts: Sequence[str], row: int) -> float:
    """The reference score of one claim: what ``score_claims`` gives it, summed in the same order."""
    total = 0.0
    covered = 0.0
    for concept in concepts:
        entry = index.postings.get(concept)
        if entry is None:
            continue
        idf, lists = entry
        has = False
        for f, ids in enumerate(lists):
            i = bisect_left(ids, row)
            if i < len(ids) and ids[i] == row:
                has = True
                weight = idf * FIELD_FACTORS[f]
                total = total + (weight * index.claims[row][7] if f == STATEMENT else weight)
        if has:
            covered = covered + idf
    return total * (covered / _query_weight(index, concepts)) if covered else 0.0


def final_score(relevance: float, strength: float) -> float:
    return relevance * (1.0 + STRENGTH_BOOST * strength)


def score_vector(index: SearchIndex, concepts: Sequence[str]) -> np.ndarray:
    """``score_claims`` for every claim at once (0 for a claim without any concept): the same
    operations in the same order on arrays, so the same numbers to the last bit (a test checks)."""
    scores = np.zeros(index.claim_count, dtype=np.float64)
    covered = np.zeros(index.claim_count, dtype=np.float64)
    for concept in concepts:
        entry = index.arrays(concept)
        if entry is None:
            continue
        idf, lists = entry
        statement = lists[STATEMENT]
        weight = idf * FIELD_FACTORS[STATEMENT]
        scores[statement] += weight * index.norms[statement]
        for f in (ABOUT, QUOTES, DISPUTE):
            scores[lists[f]] += idf * FIELD_FACTORS[f]
        covered[lists[-1]] += idf
    total = _query_weight(index, concepts)
    return scores * (covered / total) if total else scores


def _has_sequence(sequence: Sequence[str], wanted: Sequence[str]) -> bool:
    n = len(wanted)
    return any(list(sequence[i : i + n]) == list(wanted) for i in range(len(sequence) - n + 1))


def _says(index: SearchIndex, row: int, wanted: Sequence[str]) -> bool:
    """Whether the claim's statement, topic or a tag has the concepts ``wanted`` in that order."""
    _, statement, topic, tags = index.claims[row][:4]
    texts = (statement, topic.replace("-", " "), *(t.replace("-", " ") for t in tags))
    return any(_has_sequence(index.concepts_of(text), wanted) for text in texts)


def rank(
    index: SearchIndex,
    query: Query,
    *,
    allowed: Callable[[int], bool] | None = None,
    limit: int | None = None,
) -> tuple[list[tuple[float, int]], int]:
    """The best matching claims as (score, row), best first, and how many claims match.

    Candidates are scored on arrays; the ``limit`` best (all, if None) are then scored again by
    the reference (``relevance``) and ordered by that score, then by row: the order the site's
    search box shows too.
    """
    if not query.answerable:
        return [], 0
    concepts = query.scored
    scores = score_vector(index, concepts)
    rows = np.flatnonzero(scores)
    required, excluded = query.required, query.excluded
    if allowed is not None or required or excluded:
        keep = [
            row
            for row in rows.tolist()
            if (allowed is None or allowed(row))
            and all(_says(index, row, phrase) for phrase in required)
            and not any(_says(index, row, phrase) for phrase in excluded)
        ]
        rows = np.array(keep, dtype=np.int64)
    total = len(rows)
    final = scores[rows] * index.boosts[rows]
    if limit is not None and total > limit:
        # the limit best, and every claim tied with the last of them
        threshold = np.partition(final, total - limit)[total - limit]
        chosen = final >= threshold
        rows, final = rows[chosen], final[chosen]
    ranked = [
        (final_score(relevance(index, concepts, row), index.claims[row][4]), row) for row in rows.tolist()
    ]
    ranked.sort(key=lambda pair: (-pair[0], pair[1]))
    return (ranked if limit is None else ranked[:limit]), total


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
class Related:
    """A claim named beside a hit: one that contradicts it, with its strength."""

    id: str
    statement: str
    strength: float
    consensus: str


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
    contradicted_by: tuple[Related, ...] = ()


@dataclass(frozen=True)
class PositionShown:
    """One position of a dispute: a claim (or its yes or no answer) with its strength."""

    claim: str
    statement: str
    answer: str | None
    strength: float
    consensus: str


@dataclass(frozen=True)
class DisputeShown:
    """A dispute that top hits belong to, with its positions side by side."""

    question: str
    positions: tuple[PositionShown, ...]
    verdict: str
    leader: int | None  # the index of the leading position; None for a tie (or one not shown)
    robust: bool
    count: int  # how many positions the dispute has (the strongest are shown)


@dataclass(frozen=True)
class SearchResult:
    query: str
    terms: tuple[Term, ...]
    corrections: tuple[Correction, ...]
    hits: tuple[Hit, ...]
    total: int
    topic: str | None = None
    source: str | None = None
    # close words that claims have, for short words no claim has
    suggestions: tuple[str, ...] = field(default=())
    unknown_words: tuple[str, ...] = ()
    disputes: tuple[DisputeShown, ...] = ()


# how many of the top hits are looked at for the disputes they belong to, and how many are shown
DISPUTE_HITS = 5
MAX_DISPUTES = 2


def _marks(index: SearchIndex, text: str, concepts: frozenset[str]) -> tuple[tuple[int, int], ...]:
    """Where ``text`` has one of ``concepts``: the spans of the words that say it."""
    return tuple((start, end) for concept, start, end in index.concept_spans(text) if concept in concepts)


def _related(index: SearchIndex, row: int) -> Related:
    claim = index.claims[row]
    return Related(claim[0], claim[1], claim[4], claim[5])


def _hit(index: SearchIndex, score: float, row: int, concepts: frozenset[str]) -> Hit:
    cid, statement, topic, tags, strength, consensus, against = index.claims[row][:7]
    path, sources_for, sources_against, evidence = index.data["details"][row]
    quote = None
    if evidence:
        marks = [_marks(index, item[3], concepts) for item in evidence]

        def merit(i: int) -> tuple:
            text = evidence[i][3]
            words = {text[a:b].lower() for a, b in marks[i]}
            return (len(words), len(marks[i]), evidence[i][4], -i)

        best = max(range(len(evidence)), key=merit)
        source, stance, kind, text, _weight = evidence[best]
        quote = Quote(best, source, stance, kind, text, marks[best], matched=bool(marks[best]))
    return Hit(
        id=cid,
        statement=statement,
        topic=topic,
        tags=tuple(tags),
        path=path,
        score=round(score, 4),
        strength=strength,
        consensus=consensus,
        sources_for=tuple(sources_for),
        sources_against=tuple(sources_against),
        statement_highlights=_marks(index, statement, concepts),
        quote=quote,
        contradicted_by=tuple(
            sorted((_related(index, o) for o in against), key=lambda r: (-r.strength, r.id))
        ),
    )


def disputes_of(index: SearchIndex, rows: Sequence[int], concepts: Sequence[str] = ()) -> list[list[Any]]:
    """The disputes the given claims (the top hits) belong to, at most ``MAX_DISPUTES``: those whose
    question says most of what the query asks first (the idf of the query's concepts it has, plus
    ``FIELD_FACTORS[ABOUT]`` of it for those its topic names, as for a claim's topic), then by hit."""
    found: list[list[Any]] = []
    for row in rows:
        for number in index.data["dispute_of"].get(str(row), []):
            dispute = index.data["disputes"][number]
            if dispute not in found:
                found.append(dispute)

    def asked(dispute: list[Any]) -> float:
        said = set(index.concepts_of(dispute[0]))
        named = set(index.concepts_of(dispute[6].replace("-", " ")))
        total = 0.0
        for concept in concepts:
            if concept in index.postings:
                idf = index.postings[concept][0]
                if concept in said:
                    total = total + idf
                if concept in named:
                    total = total + idf * FIELD_FACTORS[ABOUT]
        return total

    order = sorted(range(len(found)), key=lambda i: (-asked(found[i]), i))
    return [found[i] for i in order[:MAX_DISPUTES]]


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
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit {limit}: give a number from 1 to {MAX_LIMIT}")
    parsed = parse_query(index, query)
    allowed = None
    if topic is not None or source is not None:
        details = index.data["details"]

        def allowed(row: int) -> bool:
            if topic is not None and index.claims[row][2] != topic:
                return False
            return source is None or any(item[0] == source for item in details[row][3])

    ranked, total = rank(index, parsed, allowed=allowed, limit=max(limit, DISPUTE_HITS))
    concepts = frozenset(c for t in parsed.terms if t.kind != "exclude" and t.found for c in t.concepts)
    hits = [_hit(index, score, row, concepts) for score, row in ranked[:limit]]
    disputes_shown = [
        DisputeShown(
            question,
            tuple(
                PositionShown(index.claims[row][0], index.claims[row][1], answer, strength, consensus)
                for row, answer, strength, consensus in positions
            ),
            verdict,
            None if leader < 0 else leader,
            robust,
            count,
        )
        for question, positions, verdict, leader, robust, count, _topic in disputes_of(
            index, [row for _, row in ranked[:DISPUTE_HITS]], parsed.scored
        )
    ]
    return SearchResult(
        query=query,
        terms=parsed.terms,
        corrections=parsed.corrections,
        hits=tuple(hits),
        total=total,
        topic=topic,
        source=source,
        suggestions=parsed.close,
        unknown_words=parsed.unknown,
        disputes=tuple(disputes_shown),
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


def _related_dict(r: Related) -> dict[str, Any]:
    return {"id": r.id, "statement": r.statement, "strength": r.strength, "consensus": r.consensus}


def result_to_dict(result: SearchResult) -> dict[str, Any]:
    """The result as plain data (``kb search --json``); keys and order are stable."""

    def spans(pairs: tuple[tuple[int, int], ...]) -> list[list[int]]:
        return [[a, b] for a, b in pairs]

    return {
        "query": result.query,
        "filters": {"topic": result.topic, "source": result.source},
        "terms": [
            {"words": t.words, "kind": t.kind, "concepts": list(t.concepts), "found": t.found}
            for t in result.terms
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
                "contradicted_by": [_related_dict(r) for r in hit.contradicted_by],
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
        "unknown_words": list(result.unknown_words),
        "disputes": [
            {
                "question": d.question,
                "positions": [
                    {
                        "claim": p.claim,
                        "statement": p.statement,
                        "answer": p.answer,
                        "strength": p.strength,
                        "consensus": p.consensus,
                    }
                    for p in d.positions
                ],
                "positions_in_all": d.count,
                "verdict": {
                    "label": d.verdict,
                    "leader": d.positions[d.leader].claim if d.leader is not None else None,
                    "robust": d.robust,
                },
            }
            for d in result.disputes
        ],
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


def _quoted_words(words: Iterable[str]) -> str:
    return ", ".join(repr(_printable(w)) for w in words)


def render_text(result: SearchResult) -> tuple[list[str], str]:
    """Notes for standard error (corrections, words no claim has, more hits) and the answer as text."""
    notes = [
        f"no claim mentions {_printable(c.word)!r}: searched for {_printable(c.replacement)!r} instead"
        for c in result.corrections
    ]
    if result.unknown_words:
        notes.append(
            f"no claim mentions {_quoted_words(result.unknown_words)}"
            + ("; results are for the other words" if result.hits else "")
        )
    if not result.hits:
        where = f" in topic {result.topic!r}" if result.topic else ""
        where += f" with evidence from {result.source!r}" if result.source else ""
        if not result.terms:
            notes.append(
                f"no claim matches {_printable(result.query)!r} (the query has no words to search for)"
            )
        elif not result.unknown_words or where:
            notes.append(f"no claim matches {_printable(result.query)!r}{where}")
        if result.suggestions:
            notes.append(f"did you mean: {', '.join(_printable(s) for s in result.suggestions)}?")
    if result.total > len(result.hits):
        notes.append(f"showing {len(result.hits)} of {result.total} matching claims (--limit N for more)")
    lines: list[str] = []
    for dispute in result.disputes:
        lines.append(f"The sources disagree: {_printable(dispute.question)}")
        for i, p in enumerate(dispute.positions):
            lead = "  <- leads" if i == dispute.leader else ""
            said = f"{p.answer}: " if p.answer else ""
            lines.append(
                f"  {shown(p.strength):.2f} ({p.consensus})  {said}{_printable(p.statement)}  "
                f"[{_printable(p.claim)}]{lead}"
            )
        if dispute.count > len(dispute.positions):
            lines.append(f"  and {dispute.count - len(dispute.positions)} more claims")
        lines.append(f"  verdict: {dispute.verdict}{'' if dispute.robust else ' (not robust)'}")
        lines.append("")
    for rank, hit in enumerate(result.hits, 1):
        lines.append(f"{rank}. {_emphasised(hit.statement, hit.statement_highlights)}")
        lines.append(
            f"   strength {shown(hit.strength):.2f} ({hit.consensus})  topic: {_printable(hit.topic)}  "
            f"id: {_printable(hit.id)}"
        )
        against = _names(hit.sources_against)
        if not hit.sources_against and hit.contradicted_by:
            against = "no source directly; see the claims contradicting it"
        lines.append(f"   for: {_names(hit.sources_for)}  against: {against}")
        if hit.contradicted_by:
            lines.append(
                "   contradicted by: "
                + "; ".join(
                    f"{_printable(r.id)} ({shown(r.strength):.2f}, {r.consensus})"
                    for r in hit.contradicted_by
                )
            )
        if hit.quote is not None:
            q = hit.quote
            lines.append(f'   > "{_emphasised(q.text, q.highlights)}" ({_printable(q.source)}, {q.stance})')
    return notes, "".join(line + "\n" for line in lines)
