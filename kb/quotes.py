"""Find a quote in its source text, forgiving typography and nothing else.

Both texts are normalised the same way: curly quotes and apostrophes become
straight ones, dashes become hyphens, runs of white space become one space and
letters are lower-cased. ``...`` (or ``…``) in a quote joins fragments that
must appear in this order. The normalised text keeps a map back to offsets in
the original, so that views can highlight the exact passage.
"""

from __future__ import annotations

import bisect
import difflib
import heapq
import re
from dataclasses import dataclass
from functools import lru_cache

from kb.model import Span, trusted_span

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)  # fmt: skip
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|\u2026)\s*")


@dataclass(frozen=True)
class NormalText:
    """A normalised text and where each of its characters is in the original: the normalised text
    is runs of characters that stand one after another in the original too, the run starting at
    ``starts[k]`` in the normalised text starting at ``origins[k]`` in the original."""

    text: str
    starts: list[int]
    origins: list[int]

    def offset(self, at: int) -> int:
        """The offset in the original of the normalised text's character ``at``."""
        run = bisect.bisect_right(self.starts, at) - 1
        return self.origins[run] + at - self.starts[run]

    def span(self, start: int, end: int) -> Span:
        return trusted_span(self.offset(start), self.offset(end - 1) + 1)


def normalise(text: str) -> str:
    # str.split() cuts at runs of white space and drops it at both ends, as \s+ and strip() would
    return " ".join(text.translate(_TRANSLATE).split()).lower()


# _TRANSLATE, and every white-space character a space: one character for one
_TRANSLATE_SPACES = {**_TRANSLATE, **{c: " " for c in range(0x3000 + 1) if chr(c).isspace()}}
_RUN = re.compile(" +")


@lru_cache(maxsize=4096)
def normal_text(text: str) -> NormalText:
    """Normalise ``text`` keeping the offsets; cached because every quote of a source needs it.

    The text is :func:`normalise`'d, and what that leaves out is found as runs of white space: a
    run between two words keeps its first character (as a single space), a run at either end goes.
    So a text is cut where it has two white-space characters or more in a row, a few times a
    paragraph, not character by character.
    """
    spaced = text.translate(_TRANSLATE_SPACES)
    first = len(spaced) - len(spaced.lstrip(" "))
    last = len(spaced.rstrip(" "))
    kept: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    size = 0
    at = first
    run = spaced.find("  ", at, last)
    while run >= 0:
        kept.append(spaced[at : run + 1])
        starts.append(size)
        origins.append(at)
        size += run + 1 - at
        at = _RUN.match(spaced, run).end()  # type: ignore[union-attr]
        run = spaced.find("  ", at, last)
    if at < last:
        kept.append(spaced[at:last])
        starts.append(size)
        origins.append(at)
    joined = "".join(kept)
    lowered = joined.lower()
    if len(lowered) == len(joined):
        return NormalText(lowered, starts or [0], origins or [0])
    # a few characters lower-case to two (e.g. U+0130); map those one by one
    return _one_by_one(joined, NormalText(joined, starts, origins))


def _one_by_one(joined: str, normal: NormalText) -> NormalText:
    """``joined`` lower-cased where a character may lower-case to more than one: each character of
    the result is a run of its own, at the offset of the character it came from."""
    chars: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    size = 0
    for i, ch in enumerate(joined):
        low = ch.lower()
        origin = normal.offset(i)
        for piece in low:
            chars.append(piece)
            starts.append(size)
            origins.append(origin)
            size += 1
    return NormalText("".join(chars), starts or [0], origins or [0])


def fragments(quote: str) -> list[str]:
    parts = _ELLIPSIS.split(quote) if "..." in quote or "\u2026" in quote else [quote]
    return [f for f in (normalise(part) for part in parts) if f]


def find(quote: str, text: str) -> list[Span] | None:
    """The spans of the quote's fragments in ``text``, in order; ``None`` if it is not there."""
    parts = fragments(quote)
    if not parts:
        return None
    normal = normal_text(text)
    spans: list[Span] = []
    at = 0
    for part in parts:
        found = normal.text.find(part, at)
        if found < 0:
            return None
        spans.append(normal.span(found, found + len(part)))
        at = found + len(part)
    return spans


def spans_match(quote: str, text: str, spans: list[Span]) -> bool:
    """Whether ``spans`` of ``text`` hold the quote's fragments, in order (to trust a cached find)."""
    if len(spans) == 1 and exact_at(quote, text, spans[0].start, spans[0].end):
        return True
    if _pieces_at(quote, text, spans):
        return True
    parts = fragments(quote)
    if len(parts) != len(spans) or not parts:
        return False
    at = 0
    for part, span in zip(parts, spans, strict=True):
        if not at <= span.start < span.end <= len(text) or normalise(text[span.start : span.end]) != part:
            return False
        at = span.end
    return True


def exact_at(quote: str, text: str, start: int, end: int) -> bool:
    """Whether the text from ``start`` to ``end`` is the quote itself, which has no ``...``: the
    usual case of a cached find (a quote copied exactly), checked without normalising anything."""
    return (
        end - start == len(quote)
        and 0 <= start < end <= len(text)
        and text.startswith(quote, start)
        and "..." not in quote
        and "\u2026" not in quote
        and not quote.isspace()
    )


def _pieces_at(quote: str, text: str, spans: list[Span]) -> bool:
    """Whether each span of ``text`` is, as it stands, the piece of the quote between its ``...``:
    the usual case of a quote with ``...`` copied exactly; the text at a span is then its fragment
    normalised. Otherwise (other case or typography) the fragments are compared normalised."""
    pieces = [piece for piece in _ELLIPSIS.split(quote) if piece and not piece.isspace()]
    if len(pieces) != len(spans):
        return False
    at = 0
    for piece, where in zip(pieces, spans, strict=True):
        start, end = where.start, where.end
        if (
            not at <= start < end <= len(text)
            or end - start != len(piece)
            or not text.startswith(piece, start)
        ):
            return False
        at = end
    return True


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORDS = re.compile(r"\w+")
# The closest-passage hint is bounded whatever the sizes: the quote is compared by its first
# characters, long sentences are cut into windows of words, and only the windows sharing the
# most words with the quote are compared character by character.
HINT_QUOTE_CHARS = 200
HINT_WINDOW_WORDS = 50
HINT_CANDIDATES = 20


def _windows(text: str) -> list[str]:
    """The sentences of ``text``, each sentence longer than a window cut into overlapping windows."""
    out = []
    for match in _SENTENCE.finditer(text):
        words = match.group().split()
        if len(words) <= HINT_WINDOW_WORDS:
            out.append(" ".join(words))
            continue
        step = HINT_WINDOW_WORDS // 2
        for start in range(0, len(words) - step, step):
            out.append(" ".join(words[start : start + HINT_WINDOW_WORDS]))
    return out


def closest_passage(quote: str, text: str, limit: int = 160) -> str | None:
    """The sentence of ``text`` that best resembles the quote, to suggest a fix.

    Linear in the size of the text and bounded in the comparisons it makes: the candidates are
    the ``HINT_CANDIDATES`` windows sharing the most words with the quote (in text order), and
    only those are compared closely.
    """
    target = " ".join(fragments(quote))[:HINT_QUOTE_CHARS]
    if not target:
        return None
    wanted = set(_WORDS.findall(target))
    windows = [w for w in _windows(text) if len(w) >= 3]
    if len(windows) > HINT_CANDIDATES:
        shared = [len(wanted.intersection(_WORDS.findall(normalise(w)))) for w in windows]
        best_first = heapq.nlargest(HINT_CANDIDATES, range(len(windows)), key=lambda i: (shared[i], -i))
        windows = [windows[i] for i in sorted(best_first)]
    best, best_score = None, 0.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for sentence in windows:
        matcher.set_seq1(normalise(sentence)[: HINT_QUOTE_CHARS + HINT_QUOTE_CHARS // 2])
        if matcher.real_quick_ratio() <= best_score or matcher.quick_ratio() <= best_score:
            continue
        score = matcher.ratio()
        if score > best_score:
            best, best_score = sentence, score
    if best is None or best_score < 0.3:
        return None
    return best if len(best) <= limit else best[: limit - 1] + "\u2026"


_EDGE_PUNCTUATION = "\"'.,;:!?()[]"


def _bare(word: str) -> str:
    return word.strip(_EDGE_PUNCTUATION)


def word_difference(quote: str, passage: str, limit: int = 4) -> str | None:
    """The words in which ``quote`` differs from ``passage`` (the part of it the quote covers).

    ``'lose' where the source has 'shrink'``, ``'really' not in the source``, ``the source
    has 'long' here``; ``None`` when they differ only in punctuation or not at all. Words
    of the passage before and after the quote's stretch of it are not differences.
    """
    mine = " ".join(fragments(quote)).split()
    theirs = normalise(passage.rstrip("\u2026")).split()
    bare_mine, bare_theirs = [_bare(w) for w in mine], [_bare(w) for w in theirs]
    matcher = difflib.SequenceMatcher(a=bare_mine, b=bare_theirs, autojunk=False)
    ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    # passage words outside the quote's stretch are context, not differences
    if ops and ops[0][0] == "insert" and ops[0][1] == 0:
        ops = ops[1:]
    if ops and ops[-1][0] == "insert" and ops[-1][1] == len(mine):
        ops = ops[:-1]
    notes = []
    for tag, i1, i2, j1, j2 in ops:
        ours, source = " ".join(mine[i1:i2]), " ".join(theirs[j1:j2])
        if tag == "replace":
            notes.append(f"{ours!r} where the source has {source!r}")
        elif tag == "delete":
            notes.append(f"{ours!r} not in the source")
        else:
            notes.append(f"the source has {source!r} here")
    if not notes:
        return None
    more = f" and {len(notes) - limit} more" if len(notes) > limit else ""
    return "; ".join(notes[:limit]) + more


def not_found_message(quote: str, text: str) -> str:
    """What to say of a quote not in ``text``: the closest passage and the words that differ."""
    hint = closest_passage(quote, text)
    if not hint:
        return ""
    message = f"; closest passage: {hint!r}"
    difference = word_difference(quote, hint)
    if difference:
        message += f"; differs in: {difference}"
    return message
