"""The site's generated pages: pure functions from a weighed knowledge base to ``{path: text}``.

Paths are relative to the docs folder. Pages are plain Markdown (with a little inline
HTML for badges, highlights and anchors) and pictures are SVG, so any generator that
reads ``mkdocs.yml`` and Python-Markdown can render them. Every string that comes from
the knowledge base goes through ``kb.site.text`` before it reaches a page.

Layout of the generated docs folder::

    index.md                 home: what the base covers, counts, biggest disagreements, reading a strength
    claims.md, claims/<id>.md
    sources.md, sources/<id>.md
    topics.md, topics/<slug>.md
    contradictions.md        every disagreement between two sources, side by side
    agreement.md             source against source, with a heat map
    report.md                the consensus report (kb.report)
    assets/kb/graphs/<claim>.svg, assets/kb/agreement.svg
    data/kb.json, data/contradictions.json, schema/*.schema.json
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from kb import contradictions as disagreement
from kb import schema as schemas
from kb.contradictions import OPPOSED, AgreementMatrix, Contradiction, Side
from kb.export import to_json
from kb.graph import build_graph
from kb.model import Claim, KnowledgeBase, Source
from kb.site import svg
from kb.site.text import attr, front_matter_title, md, md_keep_spaces, safe_id, safe_url, slug
from kb.weigh import DOUBTFUL, SUPPORTED, ClaimWeight, Weights

# Pages every site has; hand-written pages may add to them but not replace them.
HOME = "index.md"
CLAIMS = "claims.md"
SOURCES = "sources.md"
TOPICS = "topics.md"
CONTRADICTIONS = "contradictions.md"
AGREEMENT = "agreement.md"
REPORT = "report.md"
WEIGHTING = "weighting.md"  # hand-written: the weighting model, linked when the site has it
GRAPHS = "assets/kb/graphs"
HEATMAP = "assets/kb/agreement.svg"

# How many disagreements the home page shows.
TOP_DISAGREEMENTS = 5

READING_BANDS = (
    ("0.80 to 1", "well supported"),
    ("0.60 to 0.80", "supported"),
    ("above 0.40, below 0.60", "undecided"),
    ("above 0.20, to 0.40", "doubtful"),
    ("0 to 0.20", "very doubtful"),
)
CONSENSUS_MEANING = {
    "agreed": "two or more sources back it and none argues against it",
    "contested": "sources take both sides, directly or by backing a claim that contradicts it",
    "rejected": "two or more sources argue against it and none backs it",
    "single-source": "only one source speaks to it",
    "no-evidence": "no source speaks to it yet",
}


def strength_words(strength: float) -> str:
    """A reading of a strength in words: five equal bands, whose middle one is the undecided band of
    the topic verdicts (kb.weigh's SUPPORTED and DOUBTFUL), so a page and its verdict never disagree."""
    if strength >= 0.8:
        return "well supported"
    if strength >= SUPPORTED:
        return "supported"
    if strength > DOUBTFUL:
        return "undecided"
    if strength > 0.2:
        return "doubtful"
    return "very doubtful"


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


def contradiction_anchor(number: int) -> str:
    return f"c-{number}"


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


def html_link(from_page: str, to_page: str, directory_urls: bool, anchor: str = "") -> str:
    """A relative href for raw HTML, which the generator does not rewrite."""
    here = page_url(from_page, directory_urls)
    base = here if here.endswith("/") else posixpath.dirname(here)
    target = page_url(to_page, directory_urls)
    rel = posixpath.relpath(target or ".", base or ".")
    if target.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return rel + (f"#{anchor}" if anchor else "")


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def badge(consensus: str) -> str:
    known = consensus if consensus in CONSENSUS_MEANING else "unknown"
    meaning = CONSENSUS_MEANING.get(consensus, "")
    return f'<span class="kb-badge kb-badge--{known}" title="{attr(meaning)}">{md(consensus)}</span>'


def strength_bar(strength: float) -> str:
    percent = round(max(0.0, min(1.0, strength)) * 100)
    return (
        f'<span class="kb-strength" title="strength {strength:.2f} of 1">'
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
    report_md: str  # the consensus report (kb.report) in Markdown
    handwritten: frozenset[str] = frozenset()
    directory_urls: bool = False
    numbers: dict[int, int] = field(default_factory=dict)  # id(contradiction) -> its number
    by_claim: dict[str, list[Contradiction]] = field(default_factory=dict)
    by_source: dict[str, list[Contradiction]] = field(default_factory=dict)
    # (source, other source) -> (claims they agree on, claim pairs they clash on), pairs sharing something
    shared: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    quoted: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # source -> (claim, index)

    def __post_init__(self) -> None:
        self.numbers = {id(c): n for n, c in enumerate(self.contradictions, 1)}
        by_claim, by_source = defaultdict(list), defaultdict(list)
        for c in self.contradictions:
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
        for pair in self.matrix.pairs().itertuples(index=False):
            if pair.agree or pair.disagree:
                counts = (int(pair.agree), int(pair.disagree))
                self.shared[(pair.source_a, pair.source_b)] = counts
                self.shared[(pair.source_b, pair.source_a)] = counts

    def number(self, contradiction: Contradiction) -> int:
        return self.numbers[id(contradiction)]

    @functools.cached_property
    def heatmap(self) -> tuple[str, list[str]]:
        """The agreement heat map as SVG and the sources it shows: drawn once, for its file and its page."""
        return svg.heatmap_svg(self.kb, self.matrix.agree, self.matrix.disagree)


def site_data(
    kb: KnowledgeBase,
    weights: Weights,
    *,
    handwritten: Iterable[str] = (),
    directory_urls: bool = False,
) -> SiteData:
    from kb import report

    handwritten = frozenset(handwritten)
    found = disagreement.find_contradictions(kb, weights)
    matrix = disagreement.agreement_matrix(kb, weights, found)
    weighting_link = link(REPORT, WEIGHTING) if WEIGHTING in handwritten else None
    report_md = report.render(
        kb, weights, "md", weighting_link=weighting_link, contradictions=found, agreement=matrix
    )
    return SiteData(
        kb=kb,
        weights=weights,
        graph=build_graph(kb),
        contradictions=found,
        matrix=matrix,
        report_md=report_md,
        handwritten=handwritten,
        directory_urls=directory_urls,
    )


def generate(data: SiteData, advance: Callable[[int], None] = lambda _: None) -> dict[str, str]:
    """Every generated file of the docs folder, by path; ``advance(1)`` after each claim, source, topic."""
    kb = data.kb
    files: dict[str, str] = {
        HOME: home_page(data),
        CLAIMS: claims_index(data),
        SOURCES: sources_index(data),
        TOPICS: topics_index(data),
        CONTRADICTIONS: contradictions_page(data),
        AGREEMENT: agreement_page(data),
        REPORT: report_page(data),
    }
    for claim in kb.claims.values():
        files[claim_page(claim.id)] = claim_markdown(data, claim)
        files[graph_picture(claim.id)] = svg.neighbourhood_svg(kb, data.weights, data.graph, claim.id)
        advance(1)
    for source in kb.sources.values():
        files[source_page(source.id)] = source_markdown(data, source)
        advance(1)
    for topic in kb.topics():
        files[topic_page(topic)] = topic_markdown(data, topic)
        advance(1)
    files[HEATMAP] = data.heatmap[0]
    files["data/kb.json"] = to_json(kb, data.weights)
    files["data/contradictions.json"] = (
        json.dumps(disagreement.to_dict(kb, data.contradictions, data.matrix), ensure_ascii=False, indent=2)
        + "\n"
    )
    for name, text in schemas.schemas().items():
        files[f"schema/{name}"] = text
    return files


def generated_steps(kb: KnowledgeBase) -> int:
    """How many times ``generate`` advances its progress."""
    return len(kb.claims) + len(kb.sources) + len(kb.topics())


# --- shared pieces ---


def _claim_link(data: SiteData, here: str, claim_id: str) -> str:
    return f"[{md(data.kb.claims[claim_id].statement)}]({link(here, claim_page(claim_id))})"


def _source_link(data: SiteData, here: str, source_id: str) -> str:
    return f"[{md(data.kb.sources[source_id].title)}]({link(here, source_page(source_id))})"


def _strength_cell(w: ClaimWeight) -> str:
    return f"{w.strength:.2f} {badge(w.consensus)}"


def _weighting_note(data: SiteData, here: str) -> str:
    if WEIGHTING in data.handwritten:
        return f"[How strengths are computed]({link(here, WEIGHTING)})"
    return ""


def _quote_link(data: SiteData, here: str, claim_id: str, index: int) -> str:
    evidence = data.kb.claims[claim_id].evidence[index]
    anchor = quote_anchor(claim_id, index) if data.kb.quote_spans.get((claim_id, index)) else ""
    return f"[\u201c{md(evidence.quote)}\u201d]({link(here, source_page(evidence.source), anchor)})"


def _speaker(speaker: str | None) -> str:
    return md(speaker) if speaker else "the author"


# --- home ---


def biggest_disagreements(data: SiteData, limit: int = TOP_DISAGREEMENTS) -> list[Contradiction]:
    """The disagreements whose two sides weigh most (product of their evidence weights)."""
    ranked = sorted(data.contradictions, key=lambda c: (-(c.a.weight * c.b.weight), data.number(c)))
    return ranked[:limit]


def _sides_summary(data: SiteData, here: str, c: Contradiction) -> str:
    """One line: who says what, with the claims in quotation marks."""

    def claim(claim_id: str) -> str:
        return f"\u201c{_claim_link(data, here, claim_id)}\u201d"

    a, b = _source_link(data, here, c.a.source), _source_link(data, here, c.b.source)
    if c.kind == OPPOSED:
        return f"{claim(c.claim_a)}: {a} {c.a.stance} it, {b} {c.b.stance} it"
    return f"{a} backs {claim(c.a.claim)}, while {b} backs {claim(c.b.claim)}"


def _clash_items(data: SiteData, here: str, clashes: list[Contradiction]) -> list[str]:
    """A numbered Markdown list of disagreements, each linked to its place on the side-by-side page."""
    return [
        f"1. {_sides_summary(data, here, c)} "
        f"([side by side]({link(here, CONTRADICTIONS, contradiction_anchor(data.number(c)))}))"
        for c in clashes
    ]


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


def home_page(data: SiteData) -> str:
    kb, here = data.kb, HOME
    quotes = sum(len(c.evidence) for c in kb.claims.values())
    relations = kb.relations()
    contradicts = sum(1 for r in relations if r[2] == "contradicts")
    opposed = sum(1 for c in data.contradictions if c.kind == OPPOSED)
    out = [front_matter_title("Home"), f"# {md(kb.config.title)}\n"]
    if kb.config.description:
        out.append(md(kb.config.description) + "\n")
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
    out.append("## The biggest disagreements\n")
    top = biggest_disagreements(data)
    if top:
        out.append(
            "The clashes between two sources whose evidence weighs most on both sides "
            f"([all of them]({link(here, CONTRADICTIONS)}), "
            f"[source against source]({link(here, AGREEMENT)})):\n"
        )
        out.extend(_clash_items(data, here, top))
        out.append("")
    else:
        out.append("No two sources disagree yet.\n")
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
        f"{_speaker(ev.speaker)} \u00b7 weight **{ew.weight:.3f}** \u00b7 moves the base score by "
        f"{ew.effect:+.3f}\n"
        f'{{: .kb-evidence-meta }}\n\n<small class="kb-explanation">{md(ew.explanation)}</small>\n'
    )


def claim_markdown(data: SiteData, claim: Claim) -> str:
    here = claim_page(claim.id)
    w = data.weights.claims[claim.id]
    out = [front_matter_title(claim.statement), f"# {md(claim.statement)}\n"]
    tags = ", ".join(md(t) for t in claim.tags)
    out.append(
        f"{badge(w.consensus)} {strength_bar(w.strength)} **strength {w.strength:.2f}**, "
        f"{strength_words(w.strength)} (base {w.base:.2f})\n"
        "{: .kb-summary }\n"
    )
    out.append(
        f"Topic: [{md(claim.topic)}]({link(here, topic_page(claim.topic))})"
        + (f" \u00b7 tags: {tags}" if tags else "")
        + f" \u00b7 id `{claim.id}`\n"
    )
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
        rows.append(("this claim supports", _claim_link(data, here, target), _strength_cell(tw), "\u2014"))
    for effect in w.relations:
        tw = data.weights.claims[effect.claim]
        relation = "supports this claim" if effect.type == "supports" else "contradicts this claim"
        rows.append(
            (relation, _claim_link(data, here, effect.claim), _strength_cell(tw), f"{effect.effect:+.3f}")
        )
    if rows:
        out.append(_table(("relation", "claim", "its strength", "effect on this claim"), rows))
    else:
        out.append("No related claims.\n")

    out.append("## Why this strength\n")
    out.append(md(w.explanation) + "\n")
    out.append(
        f"For: {', '.join(_source_link(data, here, s) for s in w.sources_for) or 'no source'}. "
        f"Against: {', '.join(_source_link(data, here, s) for s in w.sources_against) or 'no source'}.\n"
    )
    note = _weighting_note(data, here)
    if note:
        out.append(note + ".\n")
    clashes = data.by_claim.get(claim.id, [])
    if clashes:
        numbers = ", ".join(
            f"[{data.number(c)}]({link(here, CONTRADICTIONS, contradiction_anchor(data.number(c)))})"
            for c in clashes
        )
        out.append(f"Sources disagree over this claim: see disagreements {numbers}.\n")

    out.append("## Neighbourhood in the graph\n")
    out.append(
        f"![The claim, the sources quoted for and against it and its related claims]"
        f"({link(here, graph_picture(claim.id))}){{: .kb-graph }}\n"
    )
    return "\n".join(out)


def claims_index(data: SiteData) -> str:
    kb, here = data.kb, CLAIMS
    out = [front_matter_title("Claims"), "# Claims\n"]
    out.append(f"{_plural(len(kb.claims), 'claim')}, by topic, strongest first.\n")
    for summary in data.weights.topics.values():
        out.append(f"## [{md(summary.topic)}]({link(here, topic_page(summary.topic))})\n")
        rows = []
        for cid in summary.claims:
            w = data.weights.claims[cid]
            rows.append((_claim_link(data, here, cid), f"{w.strength:.2f}", badge(w.consensus)))
        out.append(_table(("claim", "strength", "consensus"), rows))
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
            kind = md(claim.evidence[index].kind)
            anchor = quote_anchor(claim.id, index) if kb.quote_spans.get((claim.id, index)) else ""
            quotes.append(f"[{kind}](#{anchor})" if anchor else kind)
        strongest = max(data.weights.claims[claim.id].evidence[i].weight for i in indexes)
        rows.append(
            (
                _claim_link(data, here, claim.id),
                md(", ".join(stances)),
                ", ".join(quotes),
                f"{strongest:.3f}",
                _strength_cell(data.weights.claims[claim.id]),
            )
        )
    if rows:
        out.append(
            _table(("claim", "stance", "evidence (in the text)", "strongest weight", "claim strength"), rows)
        )
    else:
        out.append("No claim quotes this source yet.\n")

    out.append("## Agreement with other sources\n")
    rows = []
    for other in kb.sources:
        if (source.id, other) in data.shared:
            agree, disagree = data.shared[(source.id, other)]
            rows.append((_source_link(data, here, other), str(agree), str(disagree)))
    if rows:
        out.append(
            _table(("source", "claims both support or both oppose", "claim pairs they clash on"), rows)
        )
    else:
        out.append("It shares no claim with another source.\n")
    clashes = data.by_source.get(source.id, [])
    if clashes:
        out.append("### Where it disagrees\n")
        out.extend(_clash_items(data, here, clashes))
        out.append("")
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


def topic_markdown(data: SiteData, topic: str) -> str:
    here = topic_page(topic)
    summary = data.weights.topics[topic]
    out = [front_matter_title(f"Topic: {topic}"), f"# Topic: {md(topic)}\n", md(summary.verdict) + "\n"]
    counts = ", ".join(f"{n} {label}" for label, n in summary.consensus_counts.items() if n)
    out.append(f"{_plural(len(summary.claims), 'claim')}: {counts}.\n")
    rows = []
    for cid in summary.claims:
        w = data.weights.claims[cid]
        rows.append(
            (
                _claim_link(data, here, cid),
                f"{w.strength:.2f}",
                badge(w.consensus),
                ", ".join(_source_link(data, here, s) for s in w.sources_for) or "\u2014",
                ", ".join(_source_link(data, here, s) for s in w.sources_against) or "\u2014",
            )
        )
    out.append(_table(("claim", "strength", "consensus", "sources for", "sources against"), rows))
    members = set(summary.claims)
    clashes = [c for c in data.contradictions if c.claim_a in members or c.claim_b in members]
    if clashes:
        out.append("## Disagreements\n")
        out.extend(_clash_items(data, here, clashes))
        out.append("")
    out.append("## Sources\n")
    out.append(", ".join(_source_link(data, here, s) for s in summary.sources) + "\n")
    return "\n".join(out)


def topics_index(data: SiteData) -> str:
    here = TOPICS
    rows = []
    for summary in data.weights.topics.values():
        rows.append(
            (
                f"[{md(summary.topic)}]({link(here, topic_page(summary.topic))})",
                str(len(summary.claims)),
                md(summary.verdict),
            )
        )
    return front_matter_title("Topics") + "# Topics\n\n" + _table(("topic", "claims", "in short"), rows)


# --- disagreements ---


def _side_cells(data: SiteData, here: str, side: Side) -> dict[str, str]:
    return {
        "source": _source_link(data, here, side.source),
        "claim": _claim_link(data, here, side.claim),
        "stance": md(side.stance),
        "quote": _quote_link(data, here, side.claim, side.index),
        "evidence": f"{md(side.kind)}, said by {_speaker(side.speaker)}, weight {side.weight:.3f}",
    }


def contradictions_page(data: SiteData) -> str:
    here = CONTRADICTIONS
    found = data.contradictions
    opposed = sum(1 for c in found if c.kind == OPPOSED)
    out = [front_matter_title("Where sources disagree"), "# Where sources disagree\n"]
    out.append(
        f"{_plural(len(found), 'disagreement')} between two sources: {opposed} where one source backs a "
        f"claim and another argues against it, {len(found) - opposed} where two sources back claims that "
        f"cannot both be true. Each side shows the source's strongest quote. [Source against source]"
        f"({link(here, AGREEMENT)}).\n"
    )
    for c in found:
        number = data.number(c)
        if c.kind == OPPOSED:
            title = f"{number}. Opposed: {md(data.kb.claims[c.claim_a].statement)}"
        else:
            title = (
                f"{number}. Contradicting claims: {md(data.kb.claims[c.claim_a].statement)} / "
                f"{md(data.kb.claims[c.claim_b].statement)}"
            )
        out.append(f"## {title} {{: #{contradiction_anchor(number)} }}\n")
        a, b = _side_cells(data, here, c.a), _side_cells(data, here, c.b)
        rows = [("source", a["source"], b["source"])]
        if c.kind != OPPOSED:
            rows.append(("backs", a["claim"], b["claim"]))
        else:
            rows.append(("claim", a["claim"], b["claim"]))
        rows += [("stance", a["stance"], b["stance"]), ("quote", a["quote"], b["quote"])]
        rows.append(("evidence", a["evidence"], b["evidence"]))
        out.append(
            '<div class="kb-versus" markdown="1">\n\n'
            + _table(("", "one side", "the other side"), rows)
            + "\n</div>\n"
        )
    if not found:
        out.append("No two sources disagree.\n")
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
    out.append(f"![Heat map of agreement between sources]({link(here, HEATMAP)}){{: .kb-heatmap }}\n")
    rows = []
    for pair in data.matrix.pairs().itertuples(index=False):
        if pair.agree or pair.disagree:
            rows.append(
                (
                    _source_link(data, here, pair.source_a),
                    _source_link(data, here, pair.source_b),
                    str(pair.agree),
                    str(pair.disagree),
                )
            )
    out.append("## Pairs that share claims\n")
    if rows:
        out.append(_table(("source", "source", "agree on", "clash on"), rows))
    else:
        out.append("No two sources speak to the same claim.\n")
    return "\n".join(out)


def report_page(data: SiteData) -> str:
    """kb.report's Markdown (which escapes the knowledge base's text itself) with the page's title."""
    # the report repeats every claim and quote: in search it would crowd out the claim pages themselves
    return front_matter_title("Consensus report", searchable=False) + data.report_md
