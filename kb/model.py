"""The typed records of a knowledge base.

The field names and allowed values here are the file format of the design page
(a contract); ``extra="forbid"`` makes an unknown or misspelled field an error.
``id``, ``path`` and ``line`` are not written in the files: the loader fills
them in from where each record was found.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SourceKind = Literal["study", "review", "guide", "article", "blog", "forum", "other"]
Stance = Literal["supports", "opposes"]
EvidenceKind = Literal["study", "mechanism", "expert-opinion", "experience", "testimonial"]
RelationType = Literal["supports", "contradicts"]

SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]
EVIDENCE_KINDS: tuple[str, ...] = EvidenceKind.__args__  # type: ignore[attr-defined]
STANCES: tuple[str, ...] = Stance.__args__  # type: ignore[attr-defined]

# Keys the loader sets itself; a file that names them is told they are unknown.
LOADER_FIELDS = frozenset({"id", "path", "line"})


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _nonempty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


class Source(_Record):
    id: str = ""
    path: str = ""
    line: int = 1
    title: str
    author: str | None = None
    kind: SourceKind
    url: str | None = None
    published: dt.date | None = None
    text: str
    reliability: float | None = Field(default=None, ge=0.0, le=1.0)
    reliability_note: str | None = None

    _title = field_validator("title", "text")(_nonempty)

    @model_validator(mode="after")
    def _note_with_override(self) -> Source:
        if self.reliability is not None and not self.reliability_note:
            raise ValueError("reliability_note is required when reliability is given (say why)")
        return self


class Evidence(_Record):
    source: str
    stance: Stance
    kind: EvidenceKind
    quote: str
    speaker: str | None = None

    _quote = field_validator("quote", "source")(_nonempty)


class Claim(_Record):
    id: str = ""
    path: str = ""
    line: int = 1
    statement: str
    topic: str
    tags: list[str] = Field(default_factory=list)
    evidence: list[Evidence]
    supports: list[str] = Field(default_factory=list)
    contradicts: list[str] = Field(default_factory=list)

    _statement = field_validator("statement", "topic")(_nonempty)


class KbConfig(_Record):
    """``kb.yaml``: optional settings of a knowledge base."""

    title: str = "Knowledge base"
    description: str = ""
    # Weighting settings are checked by kb.weigh, which owns their meaning.
    weighting: dict[str, dict[str, float] | float] = Field(default_factory=dict)
    # Search synonyms: each group of words is treated as one word by `kb search`.
    synonyms: list[list[str]] = Field(default_factory=list)


class Span(BaseModel):
    """Where a quote was found in its source text: character offsets into the text."""

    model_config = ConfigDict(frozen=True)
    start: int
    end: int


class KnowledgeBase(BaseModel):
    """A loaded, validated knowledge base; records are ordered by id."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    root: Path
    config: KbConfig
    sources: dict[str, Source]
    claims: dict[str, Claim]
    texts: dict[str, str]
    # (claim id, evidence index) -> the spans of the quote in its source text.
    quote_spans: dict[tuple[str, int], list[Span]] = Field(default_factory=dict)

    def relations(self) -> list[tuple[str, str, RelationType]]:
        """Every relation as (from claim, to claim, type), in a stable order."""
        out: list[tuple[str, str, RelationType]] = []
        seen_pairs: set[tuple[str, str]] = set()
        for claim in self.claims.values():
            out.extend((claim.id, target, "supports") for target in dict.fromkeys(claim.supports))
            for target in claim.contradicts:
                # contradicts is symmetric: written on either side (or both), it is one relation
                pair = (min(claim.id, target), max(claim.id, target))
                if pair not in seen_pairs:
                    seen_pairs.add(pair)
                    out.append((claim.id, target, "contradicts"))
        return out

    def topics(self) -> list[str]:
        return sorted({c.topic for c in self.claims.values()})
