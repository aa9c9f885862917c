"""The site's generated pages: pure functions from a weighed knowledge base to ``path, text`` pairs.

Paths are relative to the docs folder. Pages are plain Markdown (with a little inline
HTML for badges, highlights and anchors) and pictures are SVG, so any generator that
reads ``mkdocs.yml`` and Python-Markdown can render them. Every string that comes from
the knowledge base goes through ``kb.site.text`` before it reaches a page.

Layout of the generated docs folder::

    index.md                 home: the disputes and their verdicts, what the base covers, reading a strength
    claims.md, claims/<id>.md
    sources.md, sources/<id>.md
    topics.md, topics/<slug>.md
    contradictions.md        each dispute (#d-...), its clashes side by side (#c-<claim>, #c-<a>--<b>),
                             pair by pair (#p-...)
    agreement.md             source against source, with a heat map whose cells link to the pairs
    report.md                the consensus report (kb.report), full width, claim ids linked
    assets/kb/graphs/<claim>.svg, assets/kb/agreement.svg
    data/kb.json, data/contradictions.json, schema/*.schema.json
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from kb import contradictions as disagreement
from kb import disputes as dispute_views
from kb import schema as schemas
from kb.contradictions import OPPOSED, AgreementMatrix, Contradiction, Side
from kb.disputes import CLEAR_MARGIN, TIE_MARGIN, Dispute
from kb.export import pretty_json, to_json
from kb.graph import build_graph
from kb.model import Claim, KnowledgeBase, Source
from kb.progress import checkpoint, pausable
from kb.site import incremental, paging, svg
from kb.site.text import attr, front_matter_title, md, md_keep_spaces, safe_id, safe_url, slug
from kb.weigh import ClaimWeight, Voice, Weights, shown, strength_words

# Pages every site has; hand-written pages may add to them but not replace them.
HOME = "index.md"
CLAIMS = "claims.md"
SOURCES = "sources.md"
TOPICS = "topics.md"
CONTRADICTIONS = "contradictions.md"
AGREEMENT = "agreement.md"
REPORT = "report.md"
# what ``generate`` asks a child that made it ahead for: the report page cut into parts (``report_split``)
REPORT_SPLIT = "report-split"
WEIGHTING = "weighting.md"  # hand-written: the weighting model, linked when the site has it
GRAPHS = "assets/kb/graphs"
HEATMAP = "assets/kb/agreement.svg"

# The most Markdown a generated page holds, in bytes: a longer page (the disagreements, the report, the
# agreement table, the claim index of a large base...) is cut into parts (kb.site.paging).
PAGE_LIMIT = 500_000
# Long loops pass a checkpoint (kb.progress: kb serve holds its rebuild there for a preview) this often.
CHECKPOINT_EVERY = 64
CONTRADICTIONS_JSON = "data/contradictions.json"
# How many characters of a topic's verdict the topics page shows (the topic's page has its disputes).
SHORT_VERDICT = 400

# How many disputes the home page shows (the ones most sources take part in).
TOP_DISPUTES = 8
# How many positions a dispute lists where it is shown in short (home, topic and claim pages); the
# Disagreements page lists them all.
SHORT_POSITIONS = 6

READING_BANDS = (
    ("0.80 to 1", "well supported"),
    ("0.60 to 0.80", "supported"),
    ("above 0.40, below 0.60", "undecided"),
    ("above 0.20, to 0.40", "doubtful"),
    ("0 to 0.20", "very doubtful"),
)
VERDICT_MEANING = {
    "clear": f"one position leads by {CLEAR_MARGIN:.2f} or more and no single source decides it",
    "leaning": f"one position leads, by less than {CLEAR_MARGIN:.2f} or only on one source's word",
    "open": f"the positions are within {TIE_MARGIN:.2f} of each other, or none has more evidence for it"
    " than against it",
}
CONSENSUS_MEANING = {
    "agreed": "two or more sources back it and none argues against it",
    "contested": "sources take both sides, directly or by backing a claim that contradicts it",
    "rejected": "two or more sources argue against it and none backs it",
    "single-source": "only one source speaks to it",
    "no-evidence": "no source speaks to it yet",
}


def claim_page(claim_id: str) -> str:
    return f"claims/{safe_id(claim_id)}.md"


def source_page(source_id: str) -> str:
    return f"sources/{safe_id(source_id)}.md"


def topic_page(topic: str) -> str:
    return f"topics/{slug(topic)}.md"


def graph_picture(claim_id: str) -> str:
    return f"{GRAPHS}/{safe_id(claim_id)}.svg"


def quote_anchor(claim_id: str, index: int) -> str:
    """The id of a quoted passage on its source's page."""
    return f"q-{safe_id(claim_id)}-{index}"


# the longest anchor made of a clash's claim ids; a longer one is made of a digest
MAX_ANCHOR = 120


def _plain_id(value: str) -> bool:
    """An id that can stand in an anchor as it is and be read back from it: letters, digits and ``._-``,
    starting with a letter or digit, never ending with ``-`` nor holding ``--`` (the separator)."""
    return (
        bool(value)
        and value[0].isascii()
        and value[0].isalnum()
        and safe_id(value) == value
        and "--" not in value
        and not value.endswith("-")
    )


@functools.lru_cache(maxsize=1 << 16)
def clash_anchor(kind: str, claim_a: str, claim_b: str) -> str:
    """The id of a clash on the Disagreements page, made of what identifies it alone (so it stays the same
    whatever else is edited): ``c-<claim>`` for a claim sources take both sides of, ``c-<a>--<b>`` for two
    contradicting claims (the lower id first). Plain ids never hold ``--`` so the two forms cannot meet;
    odd or long ids give ``c--<digest>`` instead, which no plain form starts with."""
    ids = (claim_a,) if kind == OPPOSED else tuple(sorted((claim_a, claim_b)))
    plain = "c-" + "--".join(ids)
    if all(_plain_id(i) for i in ids) and len(plain) <= MAX_ANCHOR:
        return plain
    digest = hashlib.blake2b(repr((kind, ids)).encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()
    return f"c--{digest}"


def contradiction_anchor(c: Contradiction) -> str:
    """The id of the clash's section on the Disagreements page (:func:`clash_anchor`)."""
    return clash_anchor(c.kind, c.claim_a, c.claim_b)


def pair_anchor(a: str, b: str) -> str:
    """The id of what two sources say to each other on the Disagreements page (the lower id first)."""
    first, second = sorted((a, b))
    return f"p-{safe_id(first)}--{safe_id(second)}"


@functools.lru_cache(maxsize=4096)
def _relative(from_dir: str, to_page: str) -> str:
    """``to_page`` relative to the folder ``from_dir`` (both relative to the docs root, no '..')."""
    here = from_dir.split("/") if from_dir else []
    there = to_page.split("/")
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    return "../" * (len(here) - common) + "/".join(there[common:])


def link(from_page: str, to_page: str, anchor: str = "") -> str:
    """A relative Markdown link target from one docs file to another (the generator resolves .md)."""
    target = _relative(posixpath.dirname(from_page), to_page)
    return target + (f"#{anchor}" if anchor else "")


def page_url(page: str, directory_urls: bool) -> str:
    """Where a docs file ends up in the built site, relative to the site's root."""
    stem = page[: -len(".md")]
    if not directory_urls:
        return stem + ".html"
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


@functools.lru_cache(maxsize=1 << 12)
def _relpath(path: str, start: str) -> str:
    """``posixpath.relpath`` for two paths relative to the same root, without '..' (no file system)."""
    there = [part for part in path.split("/") if part and part != "."]
    here = [part for part in start.split("/") if part and part != "."]
    common = 0
    while common < min(len(there), len(here)) and there[common] == here[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:]) or "."


def html_link(from_page: str, to_page: str, directory_urls: bool, anchor: str = "") -> str:
    """A relative href for raw HTML, which the generator does not rewrite."""
    rel = _html_target(from_page, to_page, directory_urls)
    return rel + (f"#{anchor}" if anchor else "")


# the long pages link to the same pages from the same page thousands of times
@functools.lru_cache(maxsize=1 << 16)
def _html_target(from_page: str, to_page: str, directory_urls: bool) -> str:
    here = page_url(from_page, directory_urls)
    base = here if here.endswith("/") else posixpath.dirname(here)
    target = page_url(to_page, directory_urls)
    if posixpath.dirname(target) == base and not directory_urls:  # the most common case: a sibling
        rel = posixpath.basename(target)
    else:
        rel = _relpath(target or ".", base or ".")
    if target.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return rel


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def badge(consensus: str, raw: bool = False) -> str:
    """The consensus as a badge, for a Markdown page or (``raw``) for a raw HTML block."""
    known = consensus if consensus in CONSENSUS_MEANING else "unknown"
    meaning = CONSENSUS_MEANING.get(consensus, "")
    shown_as = attr(consensus) if raw else md(consensus)
    return f'<span class="kb-badge kb-badge--{known}" title="{attr(meaning)}">{shown_as}</span>'


# --- raw HTML blocks: long lists and tables of links, which Python-Markdown passes through without its
# inline processing (the main cost of rendering a page); knowledge-base text escaped with ``attr``, links
# made by ``html_link`` as the built site has them


def _a(data: SiteData, here: str, page: str, text: str, anchor: str = "") -> str:
    """A link in raw HTML; ``text`` is already HTML."""
    return f'<a href="{html_link(here, page, data.directory_urls, anchor)}">{text}</a>'


def _html_table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A table as raw HTML: cells are already HTML. Rows one to a line, so that a long table can be cut
    between them into parts of a page."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"


def strength_as_shown(strength: float) -> str:
    """All that a page or picture makes of a strength is read off its two decimals (kb.weigh.shown): its
    number, its words, its bar, its colour. A page's key takes this, not the float, whose last bits
    move with an edit anywhere in the knowledge base."""
    return _num(strength)


def strength_bar(strength: float) -> str:
    percent = round(max(0.0, min(1.0, shown(strength))) * 100)
    return (
        f'<span class="kb-strength" title="strength {_num(strength)} of 1">'
        f'<span class="kb-strength__bar" style="width: {percent}%"></span></span>'
    )


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@dataclass
class SiteData:
    """Everything the pages are made from, computed once."""

    kb: KnowledgeBase
    weights: Weights
    graph: nx.MultiDiGraph
    contradictions: list[Contradiction]
    matrix: AgreementMatrix
    # the consensus report (kb.report) in Markdown as the site shows it; None: made when first asked for
    report_md: str | None
    handwritten: frozenset[str] = frozenset()
    directory_urls: bool = False
    page_limit: int = PAGE_LIMIT
    # (page, anchor) -> the part of a page cut into parts that holds the anchor, where not the page itself
    moved: dict[tuple[str, str], str] = field(default_factory=dict)
    _positions: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    anchors: dict[int, str] = field(default_factory=dict)  # id(contradiction) -> its anchor
    ordered: list[Contradiction] = field(default_factory=list)  # the clashes by dispute, then by anchor
    by_claim: dict[str, list[Contradiction]] = field(default_factory=dict)
    by_source: dict[str, list[Contradiction]] = field(default_factory=dict)
    # (source, other source) -> (claims they agree on, claim pairs they clash on), pairs sharing something
    shared: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    quoted: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # source -> (claim, index)

    def __post_init__(self) -> None:
        taken: set[str] = set()
        for c in self.contradictions:
            anchor = contradiction_anchor(c)
            if anchor in taken:  # never from kb.contradictions (a claim is in one dispute), but be sure:
                # no anchor clash_anchor makes holds "---"
                anchor = next(
                    f"{anchor}---{n}" for n in range(2, len(taken) + 3) if f"{anchor}---{n}" not in taken
                )
            taken.add(anchor)
            self.anchors[id(c)] = anchor
        # a claim's or source's clashes in an order that an edit elsewhere does not change: by dispute (the
        # disputes are sorted by topic and id), then by anchor (made of the claims' ids)
        dispute_order = {d.id: i for i, d in enumerate(self.weights.disputes)}
        last = len(dispute_order)
        self.ordered = sorted(
            self.contradictions, key=lambda c: (dispute_order.get(c.dispute, last), self.anchor(c))
        )
        by_claim, by_source = defaultdict(list), defaultdict(list)
        for c in self.ordered:
            for claim in dict.fromkeys((c.claim_a, c.claim_b)):
                by_claim[claim].append(c)
            for source in dict.fromkeys(c.sources):
                by_source[source].append(c)
        self.by_claim, self.by_source = dict(by_claim), dict(by_source)
        quoted = defaultdict(list)
        for claim in self.kb.claims.values():
            for index, ev in enumerate(claim.evidence):
                quoted[ev.source].append((claim.id, index))
        self.quoted = dict(quoted)
        for (
            source_a,
            source_b,
            agree,
            disagree,
        ) in self.matrix.pair_rows():  # (no pandas table: see pair_rows)
            if agree or disagree:
                counts = (int(agree), int(disagree))
                self.shared[(source_a, source_b)] = counts
                self.shared[(source_b, source_a)] = counts

    def anchor(self, contradiction: Contradiction) -> str:
        """The id of the clash's section on the Disagreements page: made of its claims' ids alone
        (:func:`clash_anchor`), so that it does not move when another claim is edited."""
        return self.anchors[id(contradiction)]

    def positions_of(self, d: Dispute) -> dict[str, list[int]]:
        """Claim -> its positions in the dispute, indexed once per dispute."""
        found = self._positions.get(d.id)
        if found is None:
            found = defaultdict(list)
            for i, p in enumerate(d.positions):
                found[p.claim].append(i)
            self._positions[d.id] = found = dict(found)
        return found

    def part_href(self, here: str, there: str) -> str:
        """A raw HTML link from one part of a page to another (kb.site.paging)."""
        return html_link(here, there, self.directory_urls)

    def anchor_page(self, anchor: str, page: str = CONTRADICTIONS) -> str:
        """The docs file an anchor of ``page`` is on: the page, or the part of it that holds the anchor when
        the page is cut into parts. The disputes (``#d-``), clashes (``#c-``) and pairs of sources (``#p-``)
        are anchors of the Disagreements page; every link to an anchor goes through here."""
        return self.moved.get((page, anchor), page)

    def anchor_link(self, here: str, anchor: str, page: str = CONTRADICTIONS) -> str:
        """A link from ``here`` to ``anchor`` of ``page``, wherever its part is."""
        return link(here, self.anchor_page(anchor, page), anchor)

    def heatmap_target(self, a: str, b: str) -> tuple[str, str] | None:
        """(page, anchor) a heat-map cell leads to: what the two sources say, or the source itself."""
        if a == b:
            return source_page(a), ""
        if (a, b) in self.shared:
            anchor = pair_anchor(a, b)
            return self.anchor_page(anchor), anchor
        return None

    @functools.cached_property
    def heatmap(self) -> tuple[str, list[str]]:
        """The agreement heat map as an SVG file (its cells link from where the file is) and the sources
        it shows."""
        folder = posixpath.dirname(HEATMAP)

        def href(a: str, b: str) -> str | None:
            target = self.heatmap_target(a, b)
            if target is None:
                return None
            url = page_url(target[0], self.directory_urls)
            rel = posixpath.relpath(url or ".", folder) + ("/" if url.endswith("/") else "")
            return rel + (f"#{target[1]}" if target[1] else "")

        return svg.heatmap_svg(self.kb, self.matrix.agree, self.matrix.disagree, href)

    @functools.cached_property
    def heatmap_inline(self) -> str:
        """The heat map for the agreement page itself, its cells linked from that page."""

        def href(a: str, b: str) -> str | None:
            target = self.heatmap_target(a, b)
            return html_link(AGREEMENT, target[0], self.directory_urls, target[1]) if target else None

        return svg.heatmap_svg(self.kb, self.matrix.agree, self.matrix.disagree, href)[0]

    @functools.cached_property
    def disputes_by_claim(self) -> dict[str, list[Dispute]]:
        return dispute_views.disputes_by_claim(list(self.weights.disputes))

    @functools.cached_property
    def pair_agreements(self) -> dict[tuple[str, str], list[str]]:
        """(source, other source), the lower id first -> the claims both their authors back or both argue
        against (as the agreement matrix counts them)."""
        out: dict[tuple[str, str], list[str]] = defaultdict(list)
        for cid in self.kb.claims:
            w = self.weights.claims[cid]
            for backers in (w.sources_for, w.sources_against):
                ordered = sorted(backers)
                for i, a in enumerate(ordered):
                    for b in ordered[i + 1 :]:
                        out[(a, b)].append(cid)
        return dict(out)


def site_data(
    kb: KnowledgeBase,
    weights: Weights,
    *,
    handwritten: Iterable[str] = (),
    directory_urls: bool = False,
    page_limit: int | None = None,
) -> SiteData:
    """What the pages are made from; a page over ``page_limit`` bytes (default ``PAGE_LIMIT``) is cut into
    parts."""
    handwritten = frozenset(handwritten)
    found = disagreement.find_contradictions(kb, weights)
    checkpoint()
    matrix = disagreement.agreement_matrix(kb, weights, found)
    checkpoint()
    graph = build_graph(kb)
    checkpoint()
    return SiteData(
        kb=kb,
        weights=weights,
        graph=graph,
        contradictions=found,
        matrix=matrix,
        report_md=None,
        handwritten=handwritten,
        directory_urls=directory_urls,
        page_limit=PAGE_LIMIT if page_limit is None else page_limit,
    )


def report_markdown(
    kb: KnowledgeBase,
    weights: Weights,
    contradictions: list[Contradiction],
    matrix: AgreementMatrix,
    handwritten: Iterable[str],
) -> str:
    """The consensus report (kb.report) in Markdown as the site's report page holds it: every claim id
    links to the claim's page."""
    from kb import report

    weighting_link = link(REPORT, WEIGHTING) if WEIGHTING in handwritten else None
    return report.to_markdown(
        kb,
        weights,
        report.build(kb, weights, contradictions, matrix),
        weighting_link,
        claim_link=lambda claim_id: link(REPORT, claim_page(claim_id)),
    )


# Where ``generate`` gives each generated file: ``sink(path, text)``, called once per path. A text of
# ``None`` says the file is kept as the last build left it (kb.site.incremental).
Sink = Callable[[str, "str | None"], None]


def generate(
    data: SiteData,
    sink: Sink,
    advance: Callable[[int], None] = lambda _: None,
    reuse: incremental.Reuse | None = None,
    made: Callable[[str], Any] | None = None,
) -> None:
    """Every generated file of the docs folder, each given to ``sink(path, text)`` as soon as it is made
    (nothing here keeps a page once it is given); ``advance(1)`` after each claim, source, topic.

    With ``reuse`` (kb.site.incremental), a page of a claim, source or topic, or a claim's picture, whose
    inputs are those of the last build is not generated again: its text is ``None`` (the file is left as
    it is in the docs folder), but for a page's later parts, whose text is read back (the search index
    lists them as pages).

    ``made(path)``, if given, is what kb.site.build's forked child made ahead: the text of a data file, or
    (``REPORT_SPLIT``) the report page cut into parts; None: it is made here.
    """
    kb = data.kb
    fp = incremental.Fingerprints(data) if reuse is not None else None

    def cut(page: str, text: str) -> paging.Split:
        """A page cut into parts if it is over the limit; where its anchors went is kept for the links."""
        # the cuts of the page's last text: only the stretch that changed is cut again (kb.site.paging)
        memo = reuse.split_memo(page, fp.site) if reuse is not None and fp is not None else None
        split = paging.split(page, text, data.page_limit, memo, data.part_href)
        data.moved.update(((page, anchor), part) for anchor, part in split.anchors.items())
        return split

    def give(page: str, split: paging.Split) -> paging.Split:
        if reuse is not None and fp is not None and split.memo is not None:
            reuse.record_split(page, fp.site, split.memo)
        for part, part_text in split.parts.items():
            sink(part, part_text)
        return split

    def put(page: str, text: str) -> paging.Split:
        return give(page, cut(page, text))

    def put_keyed(page: str, key: Callable[[], str], make: Callable[[], str], listed: bool = False) -> None:
        """A page made by ``make`` unless ``reuse`` has it under the key ``key()`` makes; a kept page's
        first part is given as ``None`` unless the search index lists it as a page (``listed``)."""
        if reuse is None:
            put(page, make())
            return
        found = key()
        kept = reuse.keep(page, found)
        if kept is None:
            split = put(page, make())
            reuse.record(page, found, list(split.parts), split.anchors)
            return
        data.moved.update(((page, anchor), part) for anchor, part in kept.anchors.items())
        for number, name in enumerate(kept.files):
            sink(name, None if number == 0 and not listed else reuse.read(name))

    def put_file(name: str, key: Callable[[], str], make: Callable[[], str]) -> None:
        """A file that is not a page (never cut into parts), made by ``make`` unless ``reuse`` has it."""
        if reuse is None:
            sink(name, make())
            return
        found = key()
        if reuse.keep(name, found) is not None:
            sink(name, None)
            return
        sink(name, make())
        reuse.record(name, found, [name], {})

    def picture(claim_id: str) -> None:
        put_file(
            graph_picture(claim_id),
            lambda: incremental.picture_key(fp, claim_id),  # type: ignore[arg-type]
            lambda: svg.neighbourhood_svg(kb, data.weights, data.graph, claim_id),
        )

    if reuse is not None and fp is not None:
        reuse.for_site(fp.site)

    def keyed(item: Dispute | Contradiction, make: Callable[[], str]) -> str:
        if reuse is None or fp is None:
            return make()
        if isinstance(item, Contradiction):
            return reuse.section(incremental.clash_section_key(fp, item), make)
        return reuse.section(incremental.dispute_block_key(fp, item), make)

    # The Disagreements page first: every other page links into it, wherever its anchors are. Source pages
    # before claim pages, which link to their quotes.
    disagreements = contradictions_page(data, keyed)
    checkpoint()
    disagreements_split = cut(CONTRADICTIONS, disagreements)
    checkpoint()
    for source in kb.sources.values():
        put_keyed(
            source_page(source.id),
            lambda source=source: incremental.source_page_key(fp, source),  # type: ignore[arg-type]
            lambda source=source: source_markdown(data, source),
        )
        advance(1)
    # The Disagreements page links to the quotes too: where a source's page is cut into parts, its text is
    # made again with the quotes' parts, and kept if its own anchors stay where the pages made since have
    # them (else as it was, its links to those quotes leading to the source's first part)
    if any(page.startswith("sources/") for page, _ in data.moved):
        again = contradictions_page(data, keyed)
        checkpoint()
        if again != disagreements:
            split_again = paging.split(CONTRADICTIONS, again, data.page_limit, None, data.part_href)
            if split_again.anchors == disagreements_split.anchors:
                disagreements_split = split_again
    give(CONTRADICTIONS, disagreements_split)
    checkpoint()
    put(HOME, home_page(data))
    put(CLAIMS, claims_index(data))
    checkpoint()
    put(SOURCES, sources_index(data))
    put(TOPICS, topics_index(data))
    checkpoint()
    put_keyed(
        AGREEMENT,
        lambda: incremental.agreement_key(fp),  # type: ignore[arg-type]
        lambda: agreement_page(data),
        listed=True,
    )
    for claim in kb.claims.values():
        put_keyed(
            claim_page(claim.id),
            lambda claim=claim: incremental.claim_page_key(fp, claim),  # type: ignore[arg-type]
            lambda claim=claim: claim_markdown(data, claim),
        )
        picture(claim.id)
        advance(1)
    for topic in kb.topics():
        put_keyed(
            topic_page(topic),
            lambda topic=topic: incremental.topic_page_key(fp, topic),  # type: ignore[arg-type]
            lambda topic=topic: topic_markdown(data, topic),
        )
        advance(1)
    # the report last of the pages: a child may be making it meanwhile (no page links into its parts; of
    # the pages listed in search, it still comes after the others, as it always has)
    checkpoint()
    report = made(REPORT_SPLIT) if made is not None else None
    if isinstance(report, paging.Split) and data.page_limit == PAGE_LIMIT:  # as ``put`` would cut it
        data.moved.update(((REPORT, anchor), part) for anchor, part in report.anchors.items())
        give(REPORT, report)
    else:
        put(REPORT, report_page(data))
    checkpoint()
    put_file(HEATMAP, lambda: incremental.agreement_key(fp), lambda: data.heatmap[0])  # type: ignore[arg-type]
    checkpoint()
    kb_json = made("data/kb.json") if made is not None else None
    sink("data/kb.json", kb_json if isinstance(kb_json, str) else to_json(kb, data.weights))
    checkpoint()
    # the bytes the standard library makes with an indent, ten times faster (kb.export.pretty_json)
    clashes_json = made(CONTRADICTIONS_JSON) if made is not None else None
    if not isinstance(clashes_json, str):
        clashes_json = contradictions_json(kb, data.weights, data.contradictions, data.matrix)
    sink(CONTRADICTIONS_JSON, clashes_json)
    for name, text in schemas.schemas().items():
        sink(f"schema/{name}", text)


def contradictions_json(
    kb: KnowledgeBase,
    weights: Weights,
    found: list[Contradiction] | None = None,
    matrix: AgreementMatrix | None = None,
) -> str:
    """data/contradictions.json as ``generate`` writes it, from the weighed knowledge base alone (and its
    clashes and agreement matrix, where already found)."""
    if found is None or matrix is None:
        found = disagreement.find_contradictions(kb, weights)
        matrix = disagreement.agreement_matrix(kb, weights, found)
    return pretty_json(disagreement.to_dict(kb, found, matrix)) + "\n"


def generate_all(data: SiteData) -> dict[str, str]:
    """Every generated file by path, held in memory (``generate`` into a dict): for small bases and tests."""
    files: dict[str, str] = {}
    generate(data, files.__setitem__)  # type: ignore[arg-type]  (without reuse no text is None)
    return files


def generated_steps(kb: KnowledgeBase) -> int:
    """How many times ``generate`` advances its progress."""
    return len(kb.claims) + len(kb.sources) + len(kb.topics())


# --- shared pieces ---


def _claim_link(data: SiteData, here: str, claim_id: str) -> str:
    return f"[{md(data.kb.claims[claim_id].statement)}]({link(here, claim_page(claim_id))})"


def _source_link(data: SiteData, here: str, source_id: str) -> str:
    return f"[{md(data.kb.sources[source_id].title)}]({link(here, source_page(source_id))})"


def _strength_html(w: ClaimWeight) -> str:
    return f"{_num(w.strength)} {badge(w.consensus, True)}"


def _weighting_note(data: SiteData, here: str) -> str:
    if WEIGHTING in data.handwritten:
        return f"[How strengths are computed]({link(here, WEIGHTING)})"
    return ""


def _quote_link(data: SiteData, here: str, claim_id: str, index: int) -> str:
    evidence = data.kb.claims[claim_id].evidence[index]
    page = source_page(evidence.source)
    if not data.kb.quote_spans.get((claim_id, index)):
        return f"[\u201c{md(evidence.quote)}\u201d]({link(here, page)})"
    target = data.anchor_link(here, quote_anchor(claim_id, index), page)
    return f"[\u201c{md(evidence.quote)}\u201d]({target})"


def _speaker(speaker: str | None) -> str:
    return md(speaker) if speaker else "the author"


# --- disputes: the pieces every page that shows one uses ---


def _num(value: float) -> str:
    """A strength as every page shows it: two decimals (kb.weigh.shown), never more."""
    return f"{shown(value):.2f}"


def verdict_badge(label: str) -> str:
    known = label if label in VERDICT_MEANING else "unknown"
    meaning = VERDICT_MEANING.get(label, "")
    return f'<span class="kb-verdict kb-verdict--{known}" title="{attr(meaning)}">{md(label)}</span>'


def _voice(data: SiteData, voice: Voice) -> str:
    """A reader or other voice of a source, as theirs: "a reader of X"."""
    return md(voice.describe(data.kb.sources[voice.source].title))


def _backers(data: SiteData, here: str, sources: Iterable[str], voices: Iterable[Voice]) -> str:
    named = [_source_link(data, here, s) for s in sources] + [_voice(data, v) for v in voices]
    return ", ".join(named) or "\u2014"


def _claim_a(data: SiteData, here: str, claim_id: str) -> str:
    return _a(data, here, claim_page(claim_id), attr(data.kb.claims[claim_id].statement))


def _source_a(data: SiteData, here: str, source_id: str) -> str:
    return _a(data, here, source_page(source_id), attr(data.kb.sources[source_id].title))


def _backers_html(data: SiteData, here: str, sources: Iterable[str], voices: Iterable[Voice]) -> str:
    named = [_source_a(data, here, s) for s in sources]
    named += [attr(v.describe(data.kb.sources[v.source].title)) for v in voices]
    return ", ".join(named) or "\u2014"


def dispute_link(data: SiteData, here: str, d: Dispute) -> str:
    return data.anchor_link(here, dispute_views.anchor(d))


def verdict_line(data: SiteData, here: str, d: Dispute) -> str:
    """The verdict: its sentence (which starts with its label) and the sources it hinges on, linked."""
    text = f"**{md(d.summary())}**"
    if d.verdict.hinges_on:
        names = ", ".join(_source_link(data, here, s) for s in d.verdict.hinges_on)
        text += f" Left out alone, {'this source' if len(d.verdict.hinges_on) == 1 else 'any of these'}"
        text += f" would change the leader: {names}."
    label = d.verdict.label if d.verdict.label in VERDICT_MEANING else "unknown"
    return text + f"\n{{: .kb-verdict-line .kb-verdict-line--{label} }}\n"


def shown_positions(
    d: Dispute,
    this_claim: str | None = None,
    limit: int | None = None,
    where: dict[str, list[int]] | None = None,
) -> list[int]:
    """The indexes of the positions a short view of a dispute lists: all of them, or past ``limit`` the
    ``limit`` strongest, the leader's rival, and this claim's position with its strongest rivals.
    ``where``: claim -> its positions in ``d``, when known (else they are looked for)."""
    if limit is None or len(d.positions) <= limit:
        return list(range(len(d.positions)))
    keep = set(range(limit)) | {d.verdict.runner_up}
    if this_claim is not None:
        if where is None:
            where = {this_claim: [i for i, p in enumerate(d.positions) if p.claim == this_claim]}
        for i in where.get(this_claim, ()):
            keep.add(i)
            keep.update(d.rivals[i][:limit])
    return sorted(keep)


# Positions of a dispute in one raw HTML list: a list of thousands is written as several, so that a page
# can be cut between them.
POSITIONS_PER_LIST = 50


def positions_list(
    data: SiteData, here: str, d: Dispute, this_claim: str | None = None, limit: int | None = None
) -> str:
    """The positions, strongest first: strength and its words, consensus, claim, who backs it, who not."""
    items = []
    shown_here = shown_positions(d, this_claim, limit, data.positions_of(d) if this_claim else None)
    for i in shown_here:
        p = d.positions[i]
        lead = " \u2190 leads" if d.verdict.leader == i else ""
        lead += " (this claim)" if p.claim == this_claim else ""
        backers = _backers_html(data, here, p.sources_for, p.voices_for)
        against = _backers_html(data, here, p.sources_against, p.voices_against)
        answer = {"yes": "Yes: ", "no": "No: "}.get(p.answer or "", "")
        items.append(
            f"<li><strong>{_num(p.strength)}</strong> {strength_words(p.strength)} {badge(p.consensus, True)}"
            f" {answer}{_claim_a(data, here, p.claim)}{lead}<br>"
            f'<span class="kb-backers">backed by {backers}; argued against by {against}</span></li>'
        )
    more = len(d.positions) - len(shown_here)
    if more:
        anchor = dispute_views.anchor(d)
        every = _a(data, here, data.anchor_page(anchor), "every position", anchor)
        items.append(f"<li>and {_plural(more, 'more position')}: {every}</li>")
    return "\n".join(
        '<div class="kb-positions">\n<ul>\n'
        + "\n".join(items[k : k + POSITIONS_PER_LIST])
        + "\n</ul>\n</div>\n"
        for k in range(0, len(items), POSITIONS_PER_LIST)
    )


def dispute_summary(
    data: SiteData, here: str, d: Dispute, level: int = 3, this_claim: str | None = None
) -> str:
    """A dispute in short, for the home, topic and claim pages: its question (linked to it on the
    Disagreements page), the verdict, and its positions with their strengths and sources."""
    heading = f"{'#' * level} [{md(d.question)}]({dispute_link(data, here, d)}) {{: .kb-question }}\n"
    return "\n".join(
        (heading, verdict_line(data, here, d), positions_list(data, here, d, this_claim, SHORT_POSITIONS))
    )


def disputes_for_home(data: SiteData, limit: int = TOP_DISPUTES) -> list[Dispute]:
    """The disputes most sources take part in first (then in the library's order), at most ``limit``."""
    order = {d.id: n for n, d in enumerate(data.weights.disputes)}
    ranked = sorted(data.weights.disputes, key=lambda d: (-len(d.sources), order[d.id]))
    return ranked[:limit]


def _side_label(
    data: SiteData,
    here: str,
    c: Contradiction,
    which: str,
    claim_link: Callable[[SiteData, str, str], str] = _claim_link,
) -> str:
    """Side ``which`` ("a" or "b") of a clash: its claim's link (``claim_link``: Markdown, or
    ``_claim_a`` for raw HTML), after Yes or No when the two sides are one claim's answers."""
    claim = c.claim_a if which == "a" else c.claim_b
    if c.kind == OPPOSED:
        return f"{'Yes' if which == 'a' else 'No'}: {claim_link(data, here, claim)}"
    return claim_link(data, here, claim)


def better_supported_line(data: SiteData, here: str, c: Contradiction) -> str:
    a, b = _num(c.strength_a), _num(c.strength_b)
    if c.better_supported is None:
        return (
            f"**Better supported:** neither: {a} against {b}, closer than {TIE_MARGIN:.2f},"
            " a difference the evidence cannot carry."
        )
    which = c.better_supported
    lead, other = (a, b) if which == "a" else (b, a)
    margin = abs(shown(c.strength_a) - shown(c.strength_b))
    return (
        f"**Better supported:** side {which.upper()}, {_side_label(data, here, c, which)}"
        f" ({lead} against {other}, by {margin:.2f})."
    )


# --- home ---


def _sides_summary(data: SiteData, here: str, c: Contradiction) -> str:
    """One line of HTML: who says what, every source on each side, with the strengths and the better side."""

    def claim(claim_id: str) -> str:
        return f"\u201c{_claim_a(data, here, claim_id)}\u201d"

    def sources(sides: tuple[Side, ...]) -> str:
        return ", ".join(_source_a(data, here, s.source) for s in sides)

    a, b = _num(c.strength_a), _num(c.strength_b)
    if c.kind == OPPOSED:
        text = f"{claim(c.claim_a)} ({a}): for it {sources(c.sides_a)}; against it {sources(c.sides_b)}"
        better = {"a": "for it", "b": "against it"}.get(c.better_supported or "", "neither")
    else:
        text = (
            f"{sources(c.sides_a)}: {claim(c.claim_a)} ({a}); {sources(c.sides_b)}: {claim(c.claim_b)} ({b})"
        )
        better = {"a": f"the first ({a})", "b": f"the second ({b})"}.get(c.better_supported or "", "neither")
    return f"{text}; better supported: {better}"


def _clash_items(data: SiteData, here: str, clashes: list[Contradiction]) -> str:
    """A numbered list (raw HTML) of disagreements, each linked to its place on the side-by-side page."""
    items = []
    for c in clashes:
        anchor = data.anchor(c)
        side_by_side = _a(data, here, data.anchor_page(anchor), "side by side", anchor)
        items.append(f"<li>{_sides_summary(data, here, c)} ({side_by_side})</li>")
    return "<ol>\n" + "\n".join(items) + "\n</ol>\n"


def reading_guide(data: SiteData, here: str) -> str:
    rows = [(badge(label), md(meaning)) for label, meaning in CONSENSUS_MEANING.items()]
    note = _weighting_note(data, here)
    return (
        "Every claim has a **strength** between 0 and 1. At 0.5 the evidence leans neither way (or there "
        "is none); above 0.5 the evidence for the claim outweighs the evidence against it, below 0.5 the "
        "other way round. The strength starts from a base score made of the quotes behind the claim, each "
        "weighed by the reliability of its source, the kind of evidence it is (a study counts more than an "
        "opinion, an opinion more than an anecdote) and who says it; then related claims move it: a "
        "well-supported claim that contradicts it pulls it down, one that supports it pushes it up. Every "
        "claim page explains its own number.\n\n" + _table(("strength", "reading"), READING_BANDS) + "\n"
        "The **badge** says how the sources stand, whatever the strength:\n\n"
        + _table(("badge", "meaning"), rows)
        + (f"\n{note}.\n" if note else "")
    )


def home_disputes(data: SiteData, here: str = HOME) -> str:
    """The home page's lead: the questions the sources answer differently and who the evidence favours."""
    disputes = data.weights.disputes
    out = ["## Disputes and their verdicts\n"]
    if not disputes:
        out.append("The sources answer no question differently yet.\n")
        return "\n".join(out)
    labels = [d.verdict.label for d in disputes]
    counts = ", ".join(f"{labels.count(label)} {label}" for label in VERDICT_MEANING if label in labels)
    shown_here = disputes_for_home(data)
    which = (
        "Each"
        if len(shown_here) == len(disputes)
        else f"The {len(shown_here)} most sources take part in, each"
    )
    meanings = "; ".join(f"{verdict_badge(label)} when {md(text)}" for label, text in VERDICT_MEANING.items())
    out.append(
        f"The sources answer {_plural(len(disputes), 'question')} differently ({counts}). {which} with its "
        "verdict and its positions, strongest first "
        f"([all of them, side by side]({link(here, CONTRADICTIONS)})). A verdict is {meanings}.\n"
    )
    out.extend(dispute_summary(data, here, d) for d in shown_here)
    return "\n".join(out)


def home_page(data: SiteData) -> str:
    kb, here = data.kb, HOME
    quotes = sum(len(c.evidence) for c in kb.claims.values())
    relations = kb.relations()
    contradicts = sum(1 for r in relations if r[2] == "contradicts")
    opposed = sum(1 for c in data.contradictions if c.kind == OPPOSED)
    out = [front_matter_title("Home"), f"# {md(kb.config.title)}\n"]
    if kb.config.description:
        out.append(md(kb.config.description) + "\n")
    out.append(home_disputes(data, here))
    out.append("## What it covers\n")
    out.append(
        f"[{_plural(len(kb.sources), 'source')}]({link(here, SOURCES)}), "
        f"[{_plural(len(kb.claims), 'claim')}]({link(here, CLAIMS)}) in "
        f"[{_plural(len(kb.topics()), 'topic')}]({link(here, TOPICS)}), "
        f"{_plural(quotes, 'quote')} checked against their sources, "
        f"{_plural(len(relations), 'relation')} between claims ({contradicts} of them contradictions), and "
        f"[{_plural(len(data.contradictions), 'disagreement')} between sources]"
        f"({link(here, CONTRADICTIONS)}) "
        f"({opposed} on the same claim, {len(data.contradictions) - opposed} between contradicting claims).\n"
    )
    rows = []
    for summary in data.weights.topics.values():
        counts = summary.consensus_counts
        rows.append(
            (
                f"[{md(summary.topic)}]({link(here, topic_page(summary.topic))})",
                str(len(summary.claims)),
                str(counts.get("contested", 0)),
                str(counts.get("agreed", 0)),
                str(len(summary.sources)),
            )
        )
    if rows:
        out.append(_table(("topic", "claims", "contested", "agreed", "sources"), rows))
    out.append("## How to read a strength\n")
    out.append(reading_guide(data, here))
    more = [
        f"[The consensus report]({link(here, REPORT)})",
        f"[The knowledge base as JSON]({link(here, 'data/kb.json')})",
        f"JSON Schemas of [source]({link(here, 'schema/source.schema.json')}) and "
        f"[claim]({link(here, 'schema/claim.schema.json')}) files",
    ]
    out.append("## More\n")
    out.extend(f"- {item}" for item in more)
    return "\n".join(out) + "\n"


# --- claims ---


def _evidence_item(data: SiteData, here: str, claim: Claim, index: int) -> str:
    ev = claim.evidence[index]
    ew = data.weights.claims[claim.id].evidence[index]
    source = data.kb.sources[ev.source]
    return (
        f"> {_quote_link(data, here, claim.id, index)}\n\n"
        f"{_source_link(data, here, source.id)} ({md(source.kind)}) \u00b7 {md(ev.kind)} \u00b7 said by "
        f"{_said_by(data, ev.source, ev.speaker, ew.speaker_role)} \u00b7 weight **{ew.weight:.3f}**"
        " \u00b7 moves the base score by "
        f"{ew.effect:+.3f}\n"
        f'{{: .kb-evidence-meta }}\n\n<small class="kb-explanation">{md(ew.explanation)}</small>\n'
    )


def _said_by(data: SiteData, source: str, speaker: str | None, role: str) -> str:
    """Who says it: the source's author, or a voice of its own ("a reader of X"), which never puts the
    source on a side."""
    if role == "author":
        return _speaker(speaker)
    voice = _voice(data, Voice(source, speaker or "", role))
    named = f" ({md(speaker)})" if speaker and md(speaker) not in voice else ""
    return f"{voice}{named}, a voice of its own, not the source's author"


def claim_disputes(data: SiteData, claim_id: str) -> list[Dispute]:
    return data.disputes_by_claim.get(claim_id, [])


def claim_markdown(data: SiteData, claim: Claim) -> str:
    here = claim_page(claim.id)
    w = data.weights.claims[claim.id]
    out = [front_matter_title(claim.statement), f"# {md(claim.statement)}\n"]
    tags = ", ".join(md(t) for t in claim.tags)
    out.append(
        f"{badge(w.consensus)} {strength_bar(w.strength)} **strength {_num(w.strength)}**, "
        f"{strength_words(w.strength)} (base {_num(w.base)})\n"
        "{: .kb-summary }\n"
    )
    out.append(
        f"Topic: [{md(claim.topic)}]({link(here, topic_page(claim.topic))})"
        + (f" \u00b7 tags: {tags}" if tags else "")
        + f" \u00b7 id `{claim.id}`\n"
    )
    disputes = claim_disputes(data, claim.id)
    if disputes:
        out.append("## In dispute\n")
        out.append(
            f"This claim is a position in {_plural(len(disputes), 'dispute')}: the question, the verdict, "
            "and every position with its strength (this claim's rivals among them).\n"
        )
        out.extend(dispute_summary(data, here, d, this_claim=claim.id) for d in disputes)
    for stance, heading in (("supports", "Evidence for"), ("opposes", "Evidence against")):
        items = [i for i, ev in enumerate(claim.evidence) if ev.stance == stance]
        out.append(f"## {heading} ({len(items)})\n")
        if not items:
            out.append(f"No source {'backs' if stance == 'supports' else 'argues against'} this claim.\n")
        out.extend(_evidence_item(data, here, claim, i) for i in items)

    out.append("## Related claims\n")
    rows = []
    for target in dict.fromkeys(claim.supports):
        tw = data.weights.claims[target]
        rows.append(("this claim supports", _claim_a(data, here, target), _strength_html(tw), "\u2014"))
    for effect in w.relations:
        tw = data.weights.claims[effect.claim]
        relation = "supports this claim" if effect.type == "supports" else "contradicts this claim"
        rows.append(
            (relation, _claim_a(data, here, effect.claim), _strength_html(tw), f"{effect.effect:+.3f}")
        )
    if rows:
        out.append(_html_table(("relation", "claim", "its strength", "effect on this claim"), rows))
    else:
        out.append("No related claims.\n")

    out.append("## Why this strength\n")
    out.append(md(w.explanation) + "\n")
    out.append(
        f"For: {', '.join(_source_link(data, here, s) for s in w.sources_for) or 'no source'}. "
        f"Against: {', '.join(_source_link(data, here, s) for s in w.sources_against) or 'no source'}.\n"
    )
    voices = [("for", v) for v in w.voices_for] + [("against", v) for v in w.voices_against]
    if voices:
        listed = "; ".join(f"{_voice(data, v)}, {side}" for side, v in voices)
        out.append(
            f"Other voices (they weigh, at a discount, but never put their source on a side): {listed}.\n"
        )
    note = _weighting_note(data, here)
    if note:
        out.append(note + ".\n")
    clashes = claim_clashes_line(data, here, claim.id)
    if clashes:
        out.append(clashes)

    out.append("## Neighbourhood in the graph\n")
    out.append(
        f"![The claim, the sources quoted for and against it and its related claims]"
        f"({link(here, graph_picture(claim.id))}){{: .kb-graph }}\n"
    )
    return "\n".join(out)


def claim_clashes_line(data: SiteData, here: str, claim_id: str) -> str:
    """Where sources clash over a claim, each clash linked to its place on the Disagreements page by what it
    is (never by its place among the others), or '' for a claim no sources clash over."""
    clashes = data.by_claim.get(claim_id, [])
    if not clashes:
        return ""
    statements = data.kb.claims
    items = []
    for c in clashes:
        if c.kind == OPPOSED:
            text = "for and against it"
        else:
            other = c.claim_b if c.claim_a == claim_id else c.claim_a
            text = f"it against \u201c{md(statements[other].statement)}\u201d"
        items.append(f"[{text}]({data.anchor_link(here, data.anchor(c))})")
    return f"Sources clash over this claim, side by side: {'; '.join(items)}.\n"


def claims_index(data: SiteData) -> str:
    kb, here = data.kb, CLAIMS
    out = [front_matter_title("Claims"), "# Claims\n"]
    out.append(f"{_plural(len(kb.claims), 'claim')}, by topic, strongest first.\n")
    for summary in data.weights.topics.values():
        out.append(f"## [{md(summary.topic)}]({link(here, topic_page(summary.topic))})\n")
        rows = []
        for cid in summary.claims:
            w = data.weights.claims[cid]
            rows.append((_claim_a(data, here, cid), f"{_num(w.strength)}", badge(w.consensus, True)))
        out.append(_html_table(("claim", "strength", "consensus"), rows))
    return "\n".join(out)


# --- sources ---

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")


@dataclass(frozen=True)
class _Quote:
    claim: str
    index: int
    stance: str
    spans: tuple[tuple[int, int], ...]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: text between blank lines, white space at its ends left out."""
    out = []
    position = 0
    for gap in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = gap.start() if gap else len(text)
        chunk = text[position:end]
        stripped = chunk.strip()
        if stripped:
            start = position + (len(chunk) - len(chunk.lstrip()))
            out.extend(_split_long(text, start, start + len(stripped)))
        if gap:
            position = gap.end()
    return out


# The longest paragraph of source text on a page: the Markdown renderer's work on a paragraph
# grows faster than its length, so a long text without blank lines is shown as several.
MAX_PARAGRAPH = 2000


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of ``text[start:end]`` cut at line breaks (else spaces) into pieces of at most
    ``MAX_PARAGRAPH`` characters where possible, white space at their ends left out."""
    out = []
    while end - start > MAX_PARAGRAPH:
        limit = start + MAX_PARAGRAPH
        cut = text.rfind("\n", start + 1, limit)
        if cut < 0:
            cut = text.rfind(" ", start + 1, limit)
        if cut < 0:
            cut = limit  # one very long word: cut it
        piece_end = cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        if piece_end > start:
            out.append((start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return out


def _render_run(text: str) -> str:
    """A run of source text inside a paragraph: escaped, each line break kept as a line break."""
    lines = text.replace("\r", "").split("\n")
    return "<br>\n".join(md_keep_spaces(re.sub(r"[ \t\f\v]+", " ", line)) for line in lines)


def highlighted_text(data: SiteData, source_id: str, here: str) -> str:
    """The source's full text as Markdown paragraphs, every quoted passage marked and linked."""
    text = data.kb.texts.get(source_id, "")
    quotes = []
    for claim_id, index in data.quoted.get(source_id, []):
        spans = data.kb.quote_spans.get((claim_id, index))
        if spans:
            stance = data.kb.claims[claim_id].evidence[index].stance
            quotes.append(_Quote(claim_id, index, stance, tuple((s.start, s.end) for s in spans)))
    paragraphs = _paragraphs(text)
    if not paragraphs:
        return "*The text of this source is empty.*\n"

    # events at a position: anchors where a quote starts, links to its claim where it ends;
    # a position between paragraphs moves to the nearest paragraph on its side
    starts: dict[int, list[_Quote]] = {}
    ends: dict[int, list[_Quote]] = {}

    def snap(position: int, forward: bool) -> int:
        for number, (start, end) in enumerate(paragraphs):
            if position <= end:
                if position >= start or number == 0:
                    return max(position, start)
                return start if forward else paragraphs[number - 1][1]
        return paragraphs[-1][1]

    for q in quotes:
        starts.setdefault(snap(q.spans[0][0], True), []).append(q)
        ends.setdefault(snap(q.spans[-1][1], False), []).append(q)

    out = []
    for p_start, p_end in paragraphs:
        cuts = {p_start, p_end}
        cuts |= {k for k in starts if p_start <= k <= p_end} | {k for k in ends if p_start <= k <= p_end}
        for q in quotes:
            for s, e in q.spans:
                cuts |= {x for x in (s, e) if p_start < x < p_end}
        points = sorted(cuts)
        pieces: list[str] = []
        for i, position in enumerate(points):
            for q in ends.get(position, ()):
                if p_start <= position <= p_end:
                    target = link(here, claim_page(q.claim))
                    pieces.append(f'<sup class="kb-quote-ref">[{md(q.claim)}]({target})</sup>')
            for q in starts.get(position, ()):
                if p_start <= position <= p_end:
                    pieces.append(f'<span class="kb-anchor" id="{quote_anchor(q.claim, q.index)}"></span>')
            if i + 1 == len(points):
                break
            nxt = points[i + 1]
            covering = [q for q in quotes if any(s <= position and nxt <= e for s, e in q.spans)]
            run = _render_run(text[position:nxt])
            if covering:
                stances = {q.stance for q in covering}
                kind = stances.pop() if len(stances) == 1 else "both"
                pieces.append(f'<mark class="kb-quote kb-quote--{kind}">{run}</mark>')
            else:
                pieces.append(run)
        out.append("".join(pieces))
    return "\n\n".join(out) + "\n"


def source_markdown(data: SiteData, source: Source) -> str:
    kb, here = data.kb, source_page(source.id)
    reliability = data.weights.reliability[source.id]
    out = [front_matter_title(source.title), f"# {md(source.title)}\n"]
    facts = [f"**Kind:** {md(source.kind)}"]
    if source.author:
        facts.append(f"**Author:** {md(source.author)}")
    if source.published:
        facts.append(f"**Published:** {source.published.isoformat()}")
    if source.url:
        url = safe_url(source.url)
        shown = md(source.url)
        facts.append(
            f'**Address:** <a href="{attr(url)}" rel="nofollow noopener noreferrer">{shown}</a>'
            if url
            else f"**Address:** {shown}"
        )
    facts.append(
        f"**Reliability:** {strength_bar(reliability.value)} **{reliability.value:.2f}**: "
        f"{md(reliability.explanation)}"
    )
    facts.append(f"**Id:** `{source.id}`")
    out.append("\n".join(f"- {fact}" for fact in facts) + "\n")

    out.append("## Its claims\n")
    # one row per claim, however many of its quotes come from this source: each quote links to its
    # place in the text, and the weight is the strongest, the one that counts for the claim
    by_claim: dict[str, list[int]] = {}
    for claim_id, index in data.quoted.get(source.id, []):
        by_claim.setdefault(claim_id, []).append(index)
    rows = []
    for claim_id, indexes in by_claim.items():
        claim = kb.claims[claim_id]
        stances = list(dict.fromkeys(claim.evidence[i].stance for i in indexes))
        quotes = []
        for index in indexes:
            kind = attr(claim.evidence[index].kind)
            anchor = quote_anchor(claim.id, index) if kb.quote_spans.get((claim.id, index)) else ""
            quotes.append(f'<a href="#{anchor}">{kind}</a>' if anchor else kind)
        strongest = max(data.weights.claims[claim.id].evidence[i].weight for i in indexes)
        rows.append(
            (
                _claim_a(data, here, claim.id),
                attr(", ".join(stances)),
                ", ".join(quotes),
                f"{strongest:.3f}",
                _strength_html(data.weights.claims[claim.id]),
            )
        )
    if rows:
        out.append(
            _html_table(
                ("claim", "stance", "evidence (in the text)", "strongest weight", "claim strength"), rows
            )
        )
    else:
        out.append("No claim quotes this source yet.\n")

    out.append("## Agreement with other sources\n")
    rows = []
    for other in kb.sources:
        if (source.id, other) in data.shared:
            agree, disagree = data.shared[(source.id, other)]
            rows.append((_source_a(data, here, other), str(agree), str(disagree)))
    if rows:
        out.append(
            _html_table(("source", "claims both support or both oppose", "claim pairs they clash on"), rows)
        )
    else:
        out.append("It shares no claim with another source.\n")
    clashes = data.by_source.get(source.id, [])
    if clashes:
        out.append("### Where it disagrees\n")
        out.append(_clash_items(data, here, clashes))
    out.append(f"[Source against source]({link(here, AGREEMENT)}).\n")

    out.append("## Full text\n")
    out.append(
        "Quoted passages are highlighted: green where the quote backs its claim, red where it argues "
        "against it; the link after each passage leads to its claim.\n"
    )
    out.append('<div class="kb-source-text" markdown="1">\n')
    out.append(highlighted_text(data, source.id, here))
    out.append("</div>\n")
    return "\n".join(out)


def sources_index(data: SiteData) -> str:
    kb, here = data.kb, SOURCES
    rows = []
    for source in kb.sources.values():
        cited = len({claim for claim, _ in data.quoted.get(source.id, [])})
        rows.append(
            (
                _source_link(data, here, source.id),
                md(source.author or ""),
                md(source.kind),
                f"{data.weights.reliability[source.id].value:.2f}",
                str(cited),
            )
        )
    return (
        front_matter_title("Sources")
        + "# Sources\n\n"
        + f"{_plural(len(kb.sources), 'source')}; reliability is explained on each source's page.\n\n"
        + _table(("source", "author", "kind", "reliability", "claims"), rows)
    )


# --- topics ---


def _claim_item(data: SiteData, here: str, w: ClaimWeight) -> str:
    """A claim in a list: its strength with its words and consensus, the claim, who backs it."""
    backers = _backers(data, here, w.sources_for, w.voices_for)
    return (
        f"- **{_num(w.strength)}** {strength_words(w.strength)} {badge(w.consensus)}"
        f' {_claim_link(data, here, w.id)}<br><span class="kb-backers">backed by {backers}</span>'
    )


def topic_disputes(data: SiteData, topic: str) -> list[Dispute]:
    """The disputes with a position in this topic, the main ones first (as its verdict has them)."""
    by_id = {d.id: d for d in data.weights.disputes}
    return [by_id[i] for i in data.weights.topics[topic].disputes]


def topic_markdown(data: SiteData, topic: str) -> str:
    """A topic: its disputes with their verdicts first, then what the sources agree on, then what rests
    on one source's word, then every claim."""
    here = topic_page(topic)
    summary = data.weights.topics[topic]
    weights = data.weights.claims
    out = [front_matter_title(f"Topic: {topic}"), f"# Topic: {md(topic)}\n"]
    counts = ", ".join(f"{n} {label}" for label, n in summary.consensus_counts.items() if n)
    out.append(f"{_plural(len(summary.claims), 'claim')}: {counts}.\n")
    disputes = topic_disputes(data, topic)
    out.append("## Disputes\n")
    if disputes:
        out.extend(dispute_summary(data, here, d) for d in disputes)
    else:
        out.append("The sources answer no question of this topic differently.\n")
    out.append("## What the sources agree on\n")
    agreed = [weights[c] for c in summary.claims if weights[c].consensus == "agreed"]
    if agreed:
        out.append("\n".join(_claim_item(data, here, w) for w in agreed) + "\n")
    else:
        out.append("No claim of this topic is backed by two sources with none against it.\n")
    out.append("## On one source's word\n")
    in_dispute = {c for d in disputes for c in d.claims}
    single = [
        weights[c] for c in summary.claims if weights[c].consensus == "single-source" and c not in in_dispute
    ]
    if single:
        out.append("Claims only one source speaks to, strongest first:\n")
        out.append("\n".join(_claim_item(data, here, w) for w in single) + "\n")
    else:
        out.append("No claim of this topic rests on one source alone.\n")
    out.append("## Every claim\n")
    rows = []
    for cid in summary.claims:
        w = weights[cid]
        rows.append(
            (
                _claim_a(data, here, cid),
                f"{_num(w.strength)} {strength_words(w.strength)}",
                badge(w.consensus, True),
                _backers_html(data, here, w.sources_for, w.voices_for),
                _backers_html(data, here, w.sources_against, w.voices_against),
            )
        )
    out.append(_html_table(("claim", "strength", "consensus", "backed by", "argued against by"), rows))
    out.append("## Sources\n")
    out.append(", ".join(_source_link(data, here, s) for s in summary.sources) + "\n")
    return "\n".join(out)


def _short_verdict(verdict: str) -> str:
    """A topic's verdict for the topics page: whole, or past ``SHORT_VERDICT`` characters cut at a space."""
    text = " ".join(verdict.split())
    if len(text) <= SHORT_VERDICT:
        return md(text)
    cut = text.rfind(" ", 0, SHORT_VERDICT)
    return md(text[: cut if cut > 0 else SHORT_VERDICT]) + " \u2026"


def topics_index(data: SiteData) -> str:
    here = TOPICS
    rows = []
    for summary in data.weights.topics.values():
        rows.append(
            (
                f"[{md(summary.topic)}]({link(here, topic_page(summary.topic))})",
                str(len(summary.claims)),
                _short_verdict(summary.verdict),
            )
        )
    return front_matter_title("Topics") + "# Topics\n\n" + _table(("topic", "claims", "in short"), rows)


# --- disagreements ---


def _quote_a(data: SiteData, here: str, claim_id: str, index: int) -> str:
    """A quote in raw HTML, linked to its passage in its source's text."""
    evidence = data.kb.claims[claim_id].evidence[index]
    page = source_page(evidence.source)
    quote = f"\u201c{attr(evidence.quote)}\u201d"
    if not data.kb.quote_spans.get((claim_id, index)):
        return _a(data, here, page, quote)
    anchor = quote_anchor(claim_id, index)
    return _a(data, here, data.anchor_page(anchor, page), quote, anchor)


def _said(data: SiteData, here: str, side: Side) -> str:
    """One source on a side (raw HTML): its title, its quote (linked to the passage) and what kind of
    evidence it is."""
    return (
        f"{_source_a(data, here, side.source)}: {_quote_a(data, here, side.claim, side.index)} "
        f"({attr(side.kind)}, weight {side.weight:.3f})"
    )


def _voice_said(data: SiteData, here: str, claim_id: str, stance: str, voice: Voice) -> str:
    """A reader or other voice on a side (raw HTML), as theirs, with what they said."""
    claim = data.kb.claims[claim_id]
    quotes = [
        _quote_a(data, here, claim_id, i)
        for i, ev in enumerate(claim.evidence)
        if ev.source == voice.source and ev.stance == stance and (ev.speaker or "") == voice.speaker
    ]
    who = attr(voice.describe(data.kb.sources[voice.source].title))
    return f"{who}: {', '.join(quotes)}" if quotes else who


def _versus_table(data: SiteData, here: str, c: Contradiction) -> str:
    """The two sides of a clash side by side, a raw HTML table."""
    stances = ("supports", "opposes") if c.kind == OPPOSED else ("supports", "supports")
    weights = data.weights.claims

    def strength(value: float, claim_id: str) -> str:
        shown_badge = badge(weights[claim_id].consensus, True)
        return f"<strong>{_num(value)}</strong> {strength_words(value)} {shown_badge}"

    rows = [
        ("position", _side_label(data, here, c, "a", _claim_a), _side_label(data, here, c, "b", _claim_a))
    ]
    rows.append(("strength", strength(c.strength_a, c.claim_a), strength(c.strength_b, c.claim_b)))
    rows.append(
        (
            "sources",
            "<br>".join(_said(data, here, side) for side in c.sides_a),
            "<br>".join(_said(data, here, side) for side in c.sides_b),
        )
    )
    if c.voices_a or c.voices_b:
        rows.append(
            (
                "other voices",
                "<br>".join(_voice_said(data, here, c.claim_a, stances[0], v) for v in c.voices_a)
                or "\u2014",
                "<br>".join(_voice_said(data, here, c.claim_b, stances[1], v) for v in c.voices_b)
                or "\u2014",
            )
        )
    return '<div class="kb-versus">\n' + _html_table(("", "side A", "side B"), rows) + "</div>\n"


def clash_title(data: SiteData, c: Contradiction) -> str:
    """What a clash is about, in Markdown: for and against a claim, or one claim against the other."""
    statement = data.kb.claims
    if c.kind == OPPOSED:
        return f"For and against \u201c{md(statement[c.claim_a].statement)}\u201d"
    return (
        f"\u201c{md(statement[c.claim_a].statement)}\u201d against"
        f" \u201c{md(statement[c.claim_b].statement)}\u201d"
    )


def _clash_heading(data: SiteData, c: Contradiction) -> str:
    title = clash_title(data, c)
    return f"### {title} {{: #{data.anchor(c)} }}\n"


def clash_section(data: SiteData, here: str, c: Contradiction) -> str:
    """One clash between sources, both sides side by side, and which side the evidence favours."""
    return "\n".join(
        (_clash_heading(data, c), _versus_table(data, here, c), better_supported_line(data, here, c) + "\n")
    )


# How a page of many sections gets each: ``keyed(item, make)`` gives ``make()``, or the same text kept
# from the last build (kb.site.incremental.Reuse.section), for a dispute's block or a clash's section.
Keyed = Callable[["Dispute | Contradiction", Callable[[], str]], str]


def _made(item: Dispute | Contradiction, make: Callable[[], str]) -> str:
    return make()


def contradictions_page(data: SiteData, keyed: Keyed = _made) -> str:
    """The Disagreements page. ``keyed``: where each dispute's block (its verdict and positions) and each
    clash's section comes from: made here, or kept from the last build (``generate``)."""
    here = CONTRADICTIONS
    found = data.contradictions
    disputes = data.weights.disputes
    by_dispute: dict[str, list[Contradiction]] = defaultdict(list)
    for c in found:
        by_dispute[c.dispute].append(c)
    out = [front_matter_title("Where sources disagree"), "# Where sources disagree\n"]
    note = _weighting_note(data, here)
    out.append(
        f"{_plural(len(disputes), 'question')} the sources answer differently, each with its verdict and "
        f"its positions, then every clash between sources in it side by side "
        f"({_plural(len(found), 'clash', 'clashes')} in all): each side with its strength, every source on "
        "it with its quote, and the side the evidence favours. Only a source's author puts it on a side; "
        "readers and people it quotes are shown as voices of their own. "
        f"[Source against source]({link(here, AGREEMENT)})"
        + (f", {note[0].lower()}{note[1:]}" if note else "")
        + ".\n"
    )
    if disputes:
        out.extend(
            f"1. [{md(d.question)}](#{dispute_views.anchor(d)}) {verdict_badge(d.verdict.label)}"
            for d in disputes
        )
        out.append("")
    placed = set()
    for d in pausable(disputes, CHECKPOINT_EVERY):
        out.append(
            keyed(
                d,
                lambda d=d: (
                    f"## {md(d.question)} {{: #{dispute_views.anchor(d)} .kb-question }}\n\n"
                    + verdict_line(data, here, d)
                    + "\n"
                    + positions_list(data, here, d)
                ),
            )
        )
        clashes = by_dispute.get(d.id, [])
        if not clashes:
            out.append("No two sources' authors clash in this dispute.\n")
        for c in clashes:
            out.append(keyed(c, lambda c=c: clash_section(data, here, c)))
            placed.add(id(c))
    rest = [c for c in found if id(c) not in placed]
    if rest:  # a clash outside every dispute: kb.disputes finds one for each, but show it all the same
        out.append("## Other disagreements\n")
        out.extend(keyed(c, lambda c=c: clash_section(data, here, c)) for c in rest)
    if not found and not disputes:
        out.append("No two sources disagree.\n")
    out.append(pairs_section(data, here))
    return "\n".join(out)


def pairs_section(data: SiteData, here: str) -> str:
    """For every two sources that speak to a claim in common: where they clash and what they agree on (the
    cells of the heat map lead here)."""
    out = ["## Pair by pair {: #pairs }\n"]
    pairs = sorted((a, b) for a, b in data.shared if a < b)
    if not pairs:
        out.append("No two sources speak to the same claim.\n")
        return "\n".join(out)
    out.append(
        f"What each two sources that speak to the same claims say to each other ([source against source]"
        f"({link(here, AGREEMENT)})).\n"
    )
    clashes: dict[tuple[str, str], list[Contradiction]] = defaultdict(list)
    for c in data.ordered:
        for pair in sorted(c.pairs()):
            clashes[pair].append(c)
    for a, b in pausable(pairs, CHECKPOINT_EVERY):
        title_a, title_b = md(data.kb.sources[a].title), md(data.kb.sources[b].title)
        out.append(f"### {title_a} and {title_b} {{: #{pair_anchor(a, b)} }}\n")
        theirs = clashes.get((a, b), [])
        if theirs:
            listed = "; ".join(f"[{clash_title(data, c)}](#{data.anchor(c)})" for c in theirs)
            out.append(f"They clash {len(theirs)} {'time' if len(theirs) == 1 else 'times'}: {listed}.\n")
        else:
            out.append("They do not clash.\n")
        agreed = data.pair_agreements.get((a, b), [])
        if agreed:
            listed = "; ".join(_claim_link(data, here, cid) for cid in agreed)
            out.append(f"They agree on {_plural(len(agreed), 'claim')}: {listed}\n")
        else:
            out.append("They agree on no claim.\n")
    return "\n".join(out)


def agreement_page(data: SiteData) -> str:
    kb, here = data.kb, AGREEMENT
    out = [front_matter_title("Source against source"), "# Source against source\n"]
    out.append(
        "For every pair of sources: the claims they agree on (both back it, or both argue against it) "
        f"and the claim pairs they clash on ([the disagreements]({link(here, CONTRADICTIONS)})). "
        "The diagonal counts the claims each source speaks to.\n"
    )
    _, shown = data.heatmap
    if len(shown) < len(kb.sources):
        out.append(f"The picture shows the {len(shown)} sources that speak to most claims.\n")
    # drawn into the page, so that its cells are links; at its own size in a box that scrolls sideways,
    # so that its labels stay whole and readable on a phone
    out.append(
        f'<div class="kb-heatmap" role="figure" aria-label="Heat map of agreement between sources">\n'
        f"{data.heatmap_inline.strip()}\n</div>\n"
    )
    out.append(
        "A cell leads to what the two sources say to each other; a source's own cell to its page. "
        f"[The picture as a file]({link(here, HEATMAP)}).\n"
    )
    rows = []
    for source_a, source_b, agree, disagree in data.matrix.pair_rows():
        if agree or disagree:
            anchor = pair_anchor(source_a, source_b)
            rows.append(
                (
                    _source_a(data, here, source_a),
                    _source_a(data, here, source_b),
                    str(agree),
                    str(disagree),
                    _a(data, here, data.anchor_page(anchor), "what they say", anchor),
                )
            )
    out.append("## Pairs that share claims\n")
    if rows:
        out.append(_html_table(("source", "source", "agree on", "clash on", ""), rows))
    else:
        out.append("No two sources speak to the same claim.\n")
    return "\n".join(out)


def report_page(data: SiteData) -> str:
    """kb.report's Markdown (which escapes the knowledge base's text itself) with the page's title, full
    width: no navigation or table of contents beside it, and its wide tables scroll inside the page."""
    # the report repeats every claim and quote: in search it would crowd out the claim pages themselves
    if data.report_md is None:
        data.report_md = report_markdown(
            data.kb, data.weights, data.contradictions, data.matrix, data.handwritten
        )
    return report_page_text(data.report_md)


def report_page_text(report_md: str) -> str:
    """The report page around the report's Markdown."""
    title = front_matter_title("Consensus report", searchable=False, hide=("navigation", "toc"))
    return title + '<div class="kb-report" markdown="1">\n\n' + report_md + "\n</div>\n"


def report_split(
    kb: KnowledgeBase,
    weights: Weights,
    contradictions: list[Contradiction],
    matrix: AgreementMatrix,
    handwritten: Iterable[str],
    directory_urls: bool,
    memo: Any = None,
) -> paging.Split:
    """The report page cut into parts as ``generate`` cuts it at the default limit, from the weighed
    knowledge base alone (``memo``: that of the page's last split, kb.site.paging.split)."""
    text = report_page_text(report_markdown(kb, weights, contradictions, matrix, handwritten))
    return paging.split(
        REPORT, text, PAGE_LIMIT, memo, lambda here, there: html_link(here, there, directory_urls)
    )
