"""The typed records of a knowledge base.

The field names and allowed values here are the file format of the design page
(a contract); ``extra="forbid"`` makes an unknown or misspelled field an error.
``id``, ``path`` and ``line`` are not written in the files: the loader fills
them in from where each record was found.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from kb.files import excerpt

SourceKind = Literal["study", "review", "guide", "article", "blog", "forum", "other"]
Stance = Literal["supports", "opposes"]
EvidenceKind = Literal["study", "mechanism", "expert-opinion", "experience", "testimonial"]
RelationType = Literal["supports", "contradicts"]

SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]
EVIDENCE_KINDS: tuple[str, ...] = EvidenceKind.__args__  # type: ignore[attr-defined]
STANCES: tuple[str, ...] = Stance.__args__  # type: ignore[attr-defined]

# Keys the loader sets itself; a file that names them is told they are unknown.
LOADER_FIELDS = frozenset({"id", "path", "line"})


# The longest value each text field may hold, in characters (the README's format section lists them).
# A claim file is read by people: a statement is one sentence, a quote a passage, not a chapter.
LIMITS: dict[str, int] = {
    "statement": 500,
    "topic": 100,
    "tag": 100,
    "quote": 2000,
    "speaker": 200,
    "title": 300,
    "author": 200,
    "url": 2000,
    "text": 255,
    "reliability_note": 1000,
    "description": 5000,
    "question": 300,
    "id": 100,
}
# The most items a list field may hold.
MAX_ITEMS = 500

# Control characters other than tab and line break: a terminal would obey them (ESC sequences
# retitle windows, rewrite lines); no text of a knowledge base needs them.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def printable(value: str) -> str:
    """``value`` if it is text a knowledge base may hold, else a ``ValueError`` saying why."""
    if value.isprintable():
        # the usual case, one test: a control character or a surrogate is never printable
        return value
    bad = _SURROGATE.search(value)
    if bad:
        raise ValueError(
            f"is not valid text at character {bad.start() + 1} (bytes that are not UTF-8 came in as"
            f" U+{ord(bad.group()):04X})"
        )
    found = CONTROL.search(value)
    if found:
        raise ValueError(
            f"contains the control character U+{ord(found.group()):04X} at character {found.start() + 1};"
            " text holds printable characters, tabs and line breaks only"
        )
    return value


def _text(field: str) -> Any:
    """A text field: at most ``LIMITS[field]`` characters, no control characters."""
    return Annotated[str, Field(max_length=LIMITS[field]), AfterValidator(printable)]


def _texts(field: str) -> Any:
    return Annotated[list[_text(field)], Field(max_length=MAX_ITEMS)]  # type: ignore[misc]


_SITE_URL = re.compile(r"https?://[^\s/?#@\\]+(/[^\s?#\\]*)?")


class _Record(BaseModel):
    # defer_build: a model's validator is made when it first validates, not when kb starts (a load
    # whose claims all come from the cache validates none, and most commands validate no span)
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


def _nonempty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


class Source(_Record):
    id: str = ""
    path: str = ""
    line: int = 1
    title: _text("title")
    author: _text("author") | None = None
    kind: SourceKind
    url: _text("url") | None = None
    published: dt.date | None = None
    text: _text("text")
    reliability: float | None = Field(default=None, ge=0.0, le=1.0)
    reliability_note: _text("reliability_note") | None = None

    _title = field_validator("title", "text")(_nonempty)

    @model_validator(mode="after")
    def _note_with_override(self) -> Source:
        if self.reliability is not None and not self.reliability_note:
            raise ValueError("reliability_note is required when reliability is given (say why)")
        return self


class Evidence(_Record):
    source: _text("id")
    stance: Stance
    kind: EvidenceKind
    quote: _text("quote")
    speaker: _text("speaker") | None = None

    _quote = field_validator("quote", "source")(_nonempty)


class Claim(_Record):
    id: str = ""
    path: str = ""
    line: int = 1
    statement: _text("statement")
    topic: _text("topic")
    tags: _texts("tag") = Field(default_factory=list)
    evidence: Annotated[list[Evidence], Field(max_length=MAX_ITEMS)]
    supports: _texts("id") = Field(default_factory=list)
    contradicts: _texts("id") = Field(default_factory=list)

    _statement = field_validator("statement", "topic")(_nonempty)


class DisputeSpec(_Record):
    """A dispute named in ``kb.yaml``: the question in plain words and the claims that answer it."""

    question: _text("question")
    claims: Annotated[list[_text("id")], Field(min_length=1, max_length=MAX_ITEMS)]  # type: ignore[valid-type]
    id: _text("id") | None = None

    _question = field_validator("question")(_nonempty)


class KbConfig(_Record):
    """``kb.yaml``: optional settings of a knowledge base."""

    title: _text("title") = "Knowledge base"
    description: _text("description") = ""
    # Weighting settings are checked by kb.weigh, which owns their meaning; they reach it as
    # written (a yes/no value must not arrive there already turned into 0.0 or 1.0).
    weighting: dict[str, Any] = Field(default_factory=dict)
    # The address the site is published at (https://example.org/legs/): with it the sitemap lists
    # every page, and the 404 page links to the site under that path; without it the 404 page
    # links relatively, which works from disk and at the top of any folder the site is served from.
    site_url: _text("url") | None = None
    # Search synonyms: each group of words is treated as one word by `kb search`.
    synonyms: Annotated[list[_texts("tag")], Field(max_length=MAX_ITEMS)] = Field(default_factory=list)  # type: ignore[valid-type]
    # Disputes named in plain words; the rest are derived from the claim graph (kb.disputes).
    disputes: list[DisputeSpec] = Field(default_factory=list)

    @field_validator("site_url")
    @classmethod
    def _site_address(cls, value: str | None) -> str | None:
        if value is not None and not _SITE_URL.fullmatch(value):
            raise ValueError(
                f"{excerpt(value)} is not a site address; give one like https://example.org/legs/"
                " (http or https, no query or fragment)"
            )
        return value


class Span(BaseModel):
    """Where a quote was found in its source text: character offsets into the text."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    start: int
    end: int


class KnowledgeBase(BaseModel):
    """A loaded, validated knowledge base; records are ordered by id."""

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
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


# The fields of a model in order, with what an instance gets for one its data leaves out.
_Plan = tuple[tuple[str, Any, Any], ...]


@functools.cache
def _plan(model: type[BaseModel]) -> _Plan:
    return tuple((name, info.default, info.default_factory) for name, info in model.model_fields.items())


_new = object.__new__
_set = object.__setattr__


def construct(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """An instance of ``model`` holding ``values``, which are what validating the same data by
    ``model`` gave before (the fields the data set, validated): the same instance as that
    validation makes (fields in order, defaults for the rest, the same fields set), without
    validating again. For records kept in kb's sealed load cache, and for spans kb has found.
    Faster than pydantic's ``model_construct``, which also looks for aliases."""
    fields = {}
    for name, default, factory in _plan(model):
        if name in values:
            fields[name] = values[name]
        else:
            fields[name] = default if factory is None else factory()
    instance = _new(model)
    _set(instance, "__dict__", fields)
    _set(instance, "__pydantic_fields_set__", set(values))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def trusted_span(start: int, end: int) -> Span:
    """``Span(start=start, end=end)`` for offsets kb computed (ints), without validating them."""
    instance = _new(Span)
    _set(instance, "__dict__", {"start": start, "end": end})
    _set(instance, "__pydantic_fields_set__", {"start", "end"})
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance
