"""Find a quote in its source text, forgiving typography and nothing else.

Both texts are normalised the same way: curly quotes and apostrophes become
straight ones, dashes become hyphens, runs of white space become one space and
letters are lower-cased. ``...`` (or ``…``) in a quote joins fragments that
must appear in this order. The normalised text keeps a map back to offsets in
the original, so that views can highlight the exact passage.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from kb.model import Span

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
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class NormalText:
    """A normalised text and, for each of its characters, the offset in the original."""

    text: str
    offsets: tuple[int, ...]

    def span(self, start: int, end: int) -> Span:
        return Span(start=self.offsets[start], end=self.offsets[end - 1] + 1)


def normalise(text: str) -> str:
    # lower-case character by character, exactly as normal_text does, so both sides agree
    return "".join(ch.lower() for ch in _SPACE.sub(" ", text.translate(_TRANSLATE)).strip())


@lru_cache(maxsize=4096)
def normal_text(text: str) -> NormalText:
    """Normalise ``text`` keeping the offsets; cached because every quote of a source needs it."""
    translated = text.translate(_TRANSLATE)
    chars: list[str] = []
    offsets: list[int] = []
    for match in re.finditer(r"\s+|\S+", translated):
        if match.group().isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                offsets.append(match.start())
            continue
        for i, ch in enumerate(match.group()):
            low = ch.lower()
            # lower() of a few characters is longer than one; keep offsets aligned per character
            chars.append(low)
            offsets.extend([match.start() + i] * len(low))
    return NormalText("".join(chars), tuple(offsets))


def fragments(quote: str) -> list[str]:
    return [f for f in (normalise(part) for part in _ELLIPSIS.split(quote)) if f]


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


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def closest_passage(quote: str, text: str, limit: int = 160) -> str | None:
    """The sentence of ``text`` that best resembles the quote, to suggest a fix."""
    target = " ".join(fragments(quote))
    if not target:
        return None
    best, best_score = None, 0.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for match in _SENTENCE.finditer(text):
        sentence = " ".join(match.group().split())
        if len(sentence) < 3:
            continue
        matcher.set_seq1(normalise(sentence))
        if matcher.real_quick_ratio() <= best_score or matcher.quick_ratio() <= best_score:
            continue
        score = matcher.ratio()
        if score > best_score:
            best, best_score = sentence, score
    if best is None or best_score < 0.3:
        return None
    return best if len(best) <= limit else best[: limit - 1] + "\u2026"
