"""Rebuilds that generate only the pages whose inputs changed.

Each page of a claim, source or topic (and each claim's picture) is a pure function of part of the
weighed knowledge base. A build computes a fingerprint of every claim it needs (what its file says,
its weight as the pages show it, the places of its quotes) and one of the site as a whole (kb's
code, the site's settings, kb.yaml but its disputes, every source's metadata and reliability), then
a key for each of those pages from the fingerprints of everything the page shows: a claim page, its
claim, the claims it is related to, what it shows of its disputes (the question, the verdict and the
positions it lists), its clashes, and the parts of long pages its links lead into. The keys, each
page's docs files and the anchors on parts after the first are kept in a manifest beside the docs
folder (in the render cache's folder, kb.site.rendercache.cache_folder).

On the next build a page whose key is unchanged, and whose docs files are still there with the size
and modification time the manifest recorded, is not generated again: its docs files are left as they
are (a file left alone keeps its modification time, which the renderer relies on). The manifest is
written once the docs folder is whole. A build that stops midway leaves the last one: a file it wrote
or removed no longer has the size, time and inode recorded (kb writes a file whole into a new inode),
so its page is made again, while the pages it did not touch are kept.

The pages that list everything (the disagreements, the report, the indexes) are generated on every
build. A key that missed an input would give a rebuild that differs from a cold build: the tests
apply random edits to small bases and compare both, byte for byte.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import operator
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

import kb as kb_package
from kb import __version__
from kb import disputes as dispute_views

if TYPE_CHECKING:
    from kb.contradictions import Contradiction
    from kb.disputes import Dispute, Position
    from kb.model import Claim, KnowledgeBase, Source
    from kb.site.pages import SiteData
    from kb.weigh import ClaimWeight, Weights

MANIFEST = "pages.json"
SECTIONS = "sections.json"  # the sections of the long pages, by key (Reuse.section)
FORMAT = 1


def _loads(data: bytes) -> Any:
    return orjson.loads(data)


def _dumps(value: Any) -> bytes:
    """The manifest as compact JSON (orjson: tens of thousands of entries at 10,000 claims)."""
    return orjson.dumps(value)


def _digest(value: Any) -> str:
    """A digest of a key's parts (tuples of text and numbers, and the records they hold): written by
    orjson, records by their repr (at 10,000 claims every page's key took 3.3 s of CPU this way, 4.2 s
    all by repr), and by repr alone what orjson refuses (a lone surrogate), marked apart."""
    try:
        data = orjson.dumps(
            value, default=repr, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS
        )
    except TypeError:
        data = b"\0" + repr(value).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@functools.cache
def _fields_of(cls: type) -> Callable[[Any], tuple]:
    names = [f.name for f in dataclasses.fields(cls)]
    if len(names) == 1:  # attrgetter gives a lone field's value, not a tuple
        return lambda record: (getattr(record, names[0]),)
    return operator.attrgetter(*names)


def records(items: Iterable[Any]) -> str:
    """Records (dataclasses: evidence weights, sides, voices) as text: each by its class and the values of
    all its fields, as repr writes them. A record's own repr says the same, but through the dataclass
    machinery, which took a third of the time of every page's key at 10,000 claims."""
    return repr(tuple((type(r).__name__, _fields_of(type(r))(r)) for r in items))


@functools.cache
def code_fingerprint() -> str:
    """kb's version and the text of every one of its modules: new code changes every key."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    root = Path(kb_package.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".css", ".js", ".yml", ".json") and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def site_fingerprint(
    kb: KnowledgeBase, weights: Weights, directory_urls: bool, handwritten: Iterable[str], page_limit: int
) -> str:
    """The fingerprint of the site as a whole: kb's code, the site's settings, kb.yaml but its disputes,
    every source's metadata and reliability."""
    from kb.site import pages

    config = kb.config.model_dump(mode="json", exclude={"disputes"})
    sources = [(s.id, repr(s), repr(weights.reliability.get(s.id))) for s in kb.sources.values()]
    return _digest(
        (
            code_fingerprint(),
            directory_urls,
            pages.WEIGHTING in handwritten,
            page_limit,
            json.dumps(config, sort_keys=True),
            repr(weights.settings),
            sources,
        )
    )


class Fingerprints:
    """Fingerprints of the site as a whole and of each claim, computed once each and on demand."""

    def __init__(self, data: SiteData) -> None:
        self.data = data
        self.site = site_fingerprint(
            data.kb, data.weights, data.directory_urls, data.handwritten, data.page_limit
        )
        self._claims: dict[str, str] = {}
        self._listed: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._clashes: dict[int, str] = {}
        self._heads: dict[str, str] = {}
        self._shared: dict[str, tuple] | None = None
        self._positions: dict[tuple[str, int], str] = {}
        self.agreement: str | None = None  # agreement_key's, asked for the page and for its heat map

    def claim(self, claim_id: str) -> str:
        """What the claim's file says, where its quotes are in their sources, and its weight as its own
        page shows it (kb.site.pages.claim_markdown: with how it came about)."""
        found = self._claims.get(claim_id)
        if found is None:
            found = self._claims[claim_id] = _digest(
                (self.listed(claim_id), weight_as_shown(self.data.weights.claims[claim_id]))
            )
        return found

    def listed(self, claim_id: str) -> str:
        """What the claim's file says, where its quotes are in their sources, and its weight as the pages
        that list or draw it show it (its strength, consensus and backers, never how it came about)."""
        found = self._listed.get(claim_id)
        if found is None:
            data = self.data
            claim: Claim = data.kb.claims[claim_id]
            evidence = tuple(
                (
                    e.source,
                    e.stance,
                    e.kind,
                    e.quote,
                    e.speaker,
                    _spans(data.kb.quote_spans.get((claim_id, i))),
                )
                for i, e in enumerate(claim.evidence)
            )
            found = self._listed[claim_id] = _digest(
                (
                    claim_id,
                    claim.statement,
                    claim.topic,
                    tuple(claim.tags),
                    evidence,
                    tuple(claim.supports),
                    tuple(claim.contradicts),
                    weight_as_listed(data.weights.claims[claim_id]),
                )
            )
        return found

    def shared_with(self, source_id: str) -> tuple:
        """The sources that share claims with this one, with the counts (SiteData.shared), indexed once."""
        if self._shared is None:
            index: dict[str, list] = {}
            for (a, b), counts in self.data.shared.items():
                index.setdefault(a, []).append((b, counts))
            self._shared = {a: tuple(sorted(rows)) for a, rows in index.items()}
        return self._shared.get(source_id, ())

    def clash(self, c: Contradiction) -> str:
        """The clash as computed and its two claims."""
        found = self._clashes.get(id(c))
        if found is None:
            found = self._clashes[id(c)] = _digest(
                (clash_as_shown(c), self.listed(c.claim_a), self.listed(c.claim_b))
            )
        return found

    def text(self, source_id: str) -> str:
        found = self._texts.get(source_id)
        if found is None:
            text = self.data.kb.texts.get(source_id, "")
            found = self._texts[source_id] = hashlib.blake2b(
                text.encode("utf-8", "surrogatepass"), digest_size=16
            ).hexdigest()
        return found

    def dispute_view(self, d: Dispute, this_claim: str | None) -> tuple:
        """What a short view of a dispute shows (kb.site.pages.dispute_summary)."""
        from kb.site import pages

        data = self.data
        where = data.positions_of(d) if this_claim else None
        shown = pages.shown_positions(d, this_claim, pages.SHORT_POSITIONS, where)
        # the positions by what they show, not by their places among the dispute's (an edit elsewhere
        # moves a claim up or down a dispute of hundreds: the places of all between change)
        leader = d.verdict.leader
        return (self._dispute_head(d), tuple((self._position(d, i), i == leader) for i in shown))

    def _dispute_head(self, d: Dispute) -> str:
        """A dispute's question, verdict as shown, number of positions and where its section is."""
        found = self._heads.get(d.id)
        if found is None:
            anchor = dispute_views.anchor(d)
            found = self._heads[d.id] = _digest(
                (
                    d.id,
                    d.question,
                    d.kind,
                    d.verdict.label,
                    d.verdict.hinges_on,
                    d.summary(),
                    len(d.positions),
                    anchor,
                    self.data.anchor_page(anchor),
                )
            )
        return found

    def _position(self, d: Dispute, index: int) -> str:
        """Position ``index`` of the dispute, as computed, with its claim's statement."""
        key = (d.id, index)
        found = self._positions.get(key)
        if found is None:
            position = d.positions[index]
            statement = self.data.kb.claims[position.claim].statement
            found = self._positions[key] = _digest((position_as_shown(position), statement))
        return found


def _spans(spans: list[Any] | None) -> tuple | None:
    """Where a quote was found: (start, end) of each place."""
    return None if spans is None else tuple((span.start, span.end) for span in spans)


# What the pages show of the weights. The strengths are a fixed point, iterated: an edit anywhere moves
# most of them in their last bits, so a key takes a strength (and a relation's effect) as the pages
# show it, and a page is made again only when what it shows changes. What only the claim's own file
# and its sources move (its evidence's weights, its base) is taken as computed.


def weight_as_listed(w: ClaimWeight) -> tuple:
    """A claim's weight as the pages that list it (topics, sources, related claims) and the pictures
    show it: its strength, consensus and backers, and its evidence's weights."""
    from kb.site import pages

    return (
        w.id,
        w.consensus,
        pages.strength_as_shown(w.strength),
        records(w.evidence),
        (w.sources_for, w.sources_against, records(w.voices_for), records(w.voices_against)),
    )


def weight_as_shown(w: ClaimWeight) -> tuple:
    """What a claim's own page shows of its weight beyond ``weight_as_listed``: how it came about."""
    return (
        tuple((r.claim, r.type, f"{r.effect:+.3f}", r.shared_sources) for r in w.relations),
        w.explanation,
        repr((w.base, w.support, w.opposition)),
    )


def position_as_shown(p: Position) -> tuple:
    """A dispute's position as a page shows it (kb.site.pages.positions_list)."""
    from kb.site import pages

    return (
        p.claim,
        p.statement,
        p.answer,
        pages.strength_as_shown(p.strength),
        p.consensus,
        p.sources_for,
        p.sources_against,
        records(p.voices_for),
        records(p.voices_against),
    )


def clash_as_shown(c: Contradiction) -> tuple:
    """A clash as a page shows it: its sides as computed (their evidence's weights), its strengths as
    shown."""
    from kb.site import pages

    return (
        c.kind,
        c.claim_a,
        c.claim_b,
        records(c.sides_a),
        records(c.sides_b),
        c.dispute,
        pages.strength_as_shown(c.strength_a),
        pages.strength_as_shown(c.strength_b),
        c.better_supported,
        records(c.voices_a),
        records(c.voices_b),
    )


def claim_page_key(fp: Fingerprints, claim: Claim) -> str:
    """Everything a claim's page shows (kb.site.pages.claim_markdown)."""
    from kb.site import pages

    data = fp.data
    w = data.weights.claims[claim.id]
    related = dict.fromkeys([*claim.supports, *(effect.claim for effect in w.relations)])
    quotes = tuple(
        data.anchor_page(pages.quote_anchor(claim.id, i), pages.source_page(ev.source))
        for i, ev in enumerate(claim.evidence)
    )
    # the line that links its clashes, as the page has it (their anchors, parts and the other claims)
    clashes = pages.claim_clashes_line(data, pages.claim_page(claim.id), claim.id)
    return _digest(
        (
            "claim",
            fp.site,
            fp.claim(claim.id),
            tuple((other, fp.listed(other)) for other in related),
            tuple(fp.dispute_view(d, claim.id) for d in pages.claim_disputes(data, claim.id)),
            quotes,
            clashes,
        )
    )


def picture_key(fp: Fingerprints, claim_id: str) -> str:
    """Everything a claim's picture shows (kb.site.svg.neighbourhood_svg): the claim, its evidence's
    sources (in the site's fingerprint) and the claims related to it either way, each edge being in the
    claim's file or in the other claim's."""
    from kb.graph import claim_node

    graph = fp.data.graph
    claims = fp.data.kb.claims
    centre = claim_node(claim_id)
    neighbours = sorted(
        graph.nodes[node].get("id", "")
        for node in {*graph.pred[centre], *graph.succ[centre]}
        if node != centre and graph.nodes[node].get("kind") == "claim"
    )
    return _digest(
        (
            "picture",
            fp.site,
            fp.listed(claim_id),
            tuple((other, fp.listed(other)) for other in neighbours if other in claims),
        )
    )


def source_page_key(fp: Fingerprints, source: Source) -> str:
    """Everything a source's page shows (kb.site.pages.source_markdown)."""

    data = fp.data
    quoted = tuple((cid, index, fp.listed(cid)) for cid, index in data.quoted.get(source.id, []))
    shared = fp.shared_with(source.id)
    clashes = []
    for c in data.by_source.get(source.id, []):
        anchor = data.anchor(c)
        clashes.append((anchor, data.anchor_page(anchor), fp.clash(c)))
    return _digest(("source", fp.site, source.id, fp.text(source.id), quoted, shared, tuple(clashes)))


def topic_page_key(fp: Fingerprints, topic: str) -> str:
    """Everything a topic's page shows (kb.site.pages.topic_markdown)."""
    from kb.site import pages

    data = fp.data
    summary = data.weights.topics[topic]
    return _digest(
        (
            "topic",
            fp.site,
            repr(summary),
            tuple(fp.dispute_view(d, None) for d in pages.topic_disputes(data, topic)),
            tuple(fp.listed(claim_id) for claim_id in summary.claims),
        )
    )


def dispute_block_key(fp: Fingerprints, d: Dispute) -> str:
    """Everything a dispute's block on the Disagreements page shows (its heading, verdict and every position,
    kb.site.pages.contradictions_page): source titles are in the site's fingerprint."""
    verdict = d.verdict
    # not through ``Fingerprints._dispute_head``: that says which part the block is on, unknown while
    # the page is being made (and kept once asked)
    return _digest(
        (
            "dispute block",
            fp.site,
            d.id,
            d.question,
            d.kind,
            verdict.label,
            verdict.hinges_on,
            verdict.leader,
            d.summary(),
            dispute_views.anchor(d),
            tuple(fp._position(d, i) for i in range(len(d.positions))),
        )
    )


def clash_section_key(fp: Fingerprints, c: Contradiction) -> str:
    """Everything a clash's section on the Disagreements page shows (kb.site.pages.clash_section): the clash
    and its two claims, its anchor, and the parts of the source pages its quotes lead to."""
    from kb.site import pages

    data = fp.data
    quotes = tuple(
        data.anchor_page(pages.quote_anchor(claim_id, i), pages.source_page(ev.source))
        for claim_id in (c.claim_a, c.claim_b)
        for i, ev in enumerate(data.kb.claims[claim_id].evidence)
    )
    return _digest(("clash section", fp.site, data.anchor(c), fp.clash(c), quotes))


def agreement_key(fp: Fingerprints) -> str:
    """Everything the agreement page and its heat map show (kb.site.pages.agreement_page, SiteData.heatmap):
    the counts of every pair of sources (the diagonal: each source's claims), their titles (in the site's
    fingerprint) and the parts of the disagreements page the pairs' cells and rows lead to."""
    from kb.site import pages

    if fp.agreement is not None:
        return fp.agreement
    data = fp.data
    matrix = data.matrix
    pairs = sorted((a, b) for a, b in data.shared if a < b)
    fp.agreement = _digest(
        (
            "agreement",
            fp.site,
            sorted(matrix.agree.cells.items()),
            sorted(matrix.disagree.cells.items()),
            tuple(data.anchor_page(pages.pair_anchor(a, b)) for a, b in pairs),
        )
    )
    return fp.agreement


@dataclass
class Entry:
    """A keyed page: its key, its docs files (the page first) and the anchors on its later parts."""

    key: str
    files: list[str]
    anchors: dict[str, str] = field(default_factory=dict)
    stats: dict[str, tuple[int, ...]] = field(default_factory=dict)  # file -> _stat


class Reuse:
    """The keyed pages of the last build of a docs folder, and those of this one as they are made."""

    def __init__(self, docs: Path, previous: dict[str, Any] | None = None) -> None:
        self.docs = docs
        self._folder = str(docs)
        self.previous: dict[str, Any] = previous or {}  # page -> its entry as the manifest has it
        self.entries: dict[str, Entry] = {}
        self.kept = 0
        self.made = 0
        # page -> where its parts started and what was cut (kb.site.paging.split's memo), by site fingerprint
        self.previous_splits: dict[str, Any] = {}
        self.splits: dict[str, Any] = {}
        # key -> text of a section of a long page (kb.site.pages.Keyed), from the last build and this one,
        # read from the file once asked for by a build of the same site (its fingerprint: kb's code...)
        self.previous_sections: dict[str, Any] = {}
        self.sections: dict[str, str] = {}
        self.site: str | None = None
        self.previous_site: Any = None
        self._sections_file: Path | None = None

    @classmethod
    def open(cls, cache: Path) -> Reuse:
        """The manifest in ``cache`` (whose docs folder is ``cache/docs``): what the last whole build kept
        and made, each file with the status it had then (``keep`` checks it)."""
        path = cache / MANIFEST
        previous: dict[str, Any] = {}
        splits: dict[str, Any] = {}
        site = None
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            raw = _loads(path.read_bytes())
            if raw.get("format") == FORMAT and isinstance(raw.get("pages"), dict):
                previous = raw["pages"]
                site = raw.get("site")
                if isinstance(raw.get("splits"), dict):
                    splits = raw["splits"]
        reuse = cls(cache / "docs", previous)
        reuse.previous_splits = splits
        reuse.previous_site = site
        reuse._sections_file = cache / SECTIONS
        return reuse

    def _entry(self, page: str) -> Entry | None:
        """The last build's entry for ``page``, if the manifest holds a well-formed one."""
        item = self.previous.get(page)
        try:
            return Entry(
                str(item["key"]),  # type: ignore[index]
                [str(f) for f in item["files"]],  # type: ignore[index]
                {str(a): str(p) for a, p in item["anchors"].items()},  # type: ignore[index]
                {str(f): tuple(int(x) for x in s) for f, s in item["stats"].items()},  # type: ignore[index]
            )
        except (TypeError, KeyError, AttributeError, ValueError):
            return None

    def keep(self, page: str, key: str) -> Entry | None:
        """The last build's entry for ``page`` if its key is ``key`` and its files are as it left them."""
        item = self.previous.get(page)
        if not isinstance(item, dict) or item.get("key") != key:
            return None
        entry = self._entry(page)
        if entry is None or set(entry.files) != set(entry.stats):
            return None
        for name in entry.files:
            try:
                if _stat(os.path.join(self._folder, name)) != entry.stats[name]:
                    return None
            except OSError:
                return None
        self.entries[page] = entry
        self.kept += 1
        return entry

    def split_memo(self, page: str, site: str) -> Any:
        """The memo of the last split of ``page`` (kb.site.paging.split), if made for this site's fingerprint
        (kb's code, the limit of a page): it says only where parts started, checked against the text."""
        found = self.previous_splits.get(page)
        if isinstance(found, dict) and found.get("site") == site:
            return found.get("memo")
        return None

    def record_split(self, page: str, site: str, memo: dict[str, Any]) -> None:
        self.splits[page] = {"site": site, "memo": memo}

    def read(self, name: str) -> str:
        return (self.docs / name).read_text(encoding="utf-8")

    def for_site(self, site: str) -> None:
        """Say which site is built (``site``: its fingerprint, in every key). What the last build kept of
        another (kb's code or the site's settings changed) is let go, and its sections are not read."""
        if self.previous_site != site:
            self.previous = {}
        self.site = site
        file, self._sections_file = self._sections_file, None
        if file is None:
            return
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            raw = _loads(file.read_bytes())
            if (
                raw.get("format") == FORMAT
                and raw.get("site") == site
                and isinstance(raw.get("sections"), dict)
            ):
                self.previous_sections = raw["sections"]

    def section(self, key: str, make: Callable[[], str]) -> str:
        """The section of a long page whose inputs have the key ``key``: as the last build made it, else
        made by ``make``. A section's text is a function of its key alone (the site's fingerprint in it)."""
        text = self.previous_sections.get(key)
        if not isinstance(text, str):
            text = make()
        self.sections[key] = text
        return text

    def record(self, page: str, key: str, files: list[str], anchors: dict[str, str]) -> None:
        self.entries[page] = Entry(key, files, dict(anchors))
        self.made += 1

    def save(self, cache: Path) -> None:
        """Write the manifest of the docs folder as it is now (after every file was written): a kept
        page's files have the size, time and inode ``keep`` checked (nothing wrote them since)."""
        out: dict[str, Any] = {}
        for page, entry in self.entries.items():
            stats = entry.stats
            if not stats:  # made by this build: as written
                stats = {}
                for name in entry.files:
                    with contextlib.suppress(OSError):
                        stats[name] = _stat(os.path.join(self._folder, name))
            if len(stats) == len(entry.files):
                out[page] = {"key": entry.key, "files": entry.files, "anchors": entry.anchors, "stats": stats}
        from kb.site.rendercache import write_unsynced

        manifest = {"format": FORMAT, "site": self.site, "pages": out, "splits": self.splits}
        sections = {"format": FORMAT, "site": self.site, "sections": self.sections}
        write_unsynced(cache / SECTIONS, _dumps(sections))
        write_unsynced(cache / MANIFEST, _dumps(manifest))

    def summary(self) -> str:
        return f"{self.kept} pages kept, {self.made} generated"


def _stat(path: str) -> tuple[int, ...]:
    """What tells a file left alone from one written again: its size, modification time and inode
    (kb writes a file whole into a new inode, kb.site.rendercache.write_unsynced)."""
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns, info.st_ino
