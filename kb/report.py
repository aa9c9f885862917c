"""The consensus report: for each topic, the verdict, the claims by strength with their consensus
labels, the sources for and against with their key quotes, and the disagreements; then the
sources, how they agree, and the method. In Markdown, HTML, CSV and JSON.

:func:`build` gathers the report as data from a weighed knowledge base; :func:`render` turns it
into text. Every number is rounded once, by :func:`kb.weigh._r` as in ``kb export``, so the
same claim shows the same strength in every format. Nothing in the output depends on the
time or the machine: rendering twice gives the same bytes.

Text from the knowledge base is data, never markup. In Markdown, the characters that can
start inline markup are backslash-escaped (``\\ ` * _ { } [ ] # |``) and ``& < > ~`` become
entities, and every value is one line, so no statement, quote or title can become a link, an
emphasis, a heading or HTML; in HTML everything is escaped (tables through pandas' ``to_html``
with escaping on).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb import forked
from kb.contradictions import (
    OPPOSED,
    AgreementMatrix,
    Contradiction,
    Side,
    agreement_matrix,
    contradiction_to_dict,
    find_contradictions,
    matrix_to_dict,
    side_to_dict,
    strongest_sides,
)
from kb.disputes import Dispute, dispute_to_dict
from kb.export import json_pieces_in_two, pretty_json, pretty_json_bytes
from kb.model import KnowledgeBase
from kb.output import Pieces
from kb.progress import checkpoint
from kb.weigh import Weights, _r, shown, strength_words

FORMATS: tuple[str, ...] = ("md", "csv", "json", "html")
CSV_COLUMNS = (
    "topic", "rank", "claim", "statement", "strength", "base", "consensus", "sources_for", "sources_against",
    "dispute", "dispute_question", "dispute_verdict", "dispute_leader", "rival_strength",
)  # fmt: skip
WEIGHTING_PAGE = "How strengths are computed"


@dataclass(frozen=True)
class Table:
    """Rows of cells under named columns: what the report's Markdown and HTML tables are written from."""

    columns: list[str]
    rows: list[tuple]

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class ClaimEntry:
    rank: int  # 1 = strongest in its topic
    id: str
    statement: str
    strength: float
    base: float
    consensus: str
    sources_for: tuple[str, ...]
    sources_against: tuple[str, ...]
    key_quotes: tuple[Side, ...]  # one per source and stance: its strongest item; for first, by weight


@dataclass(frozen=True)
class TopicSection:
    topic: str
    verdict: str
    consensus_counts: dict[str, int]
    claims: tuple[ClaimEntry, ...]
    disagreements: tuple[Contradiction, ...]  # those with a claim in this topic
    disputes: tuple[Dispute, ...] = ()  # those with a position in this topic


@dataclass(frozen=True)
class Report:
    title: str
    description: str
    topics: tuple[TopicSection, ...]
    contradictions: tuple[Contradiction, ...]
    agreement: AgreementMatrix
    method: tuple[str, ...]  # paragraphs, plain text


def build(
    kb: KnowledgeBase,
    weights: Weights,
    contradictions: list[Contradiction] | None = None,
    agreement: AgreementMatrix | None = None,
) -> Report:
    """The report as data. ``contradictions`` (all of them, unfiltered) and their ``agreement``
    matrix may be passed when already computed, as for the site."""
    sides = strongest_sides(kb, weights)
    by_claim: dict[str, list[Side]] = {c: [] for c in kb.claims}
    for (claim, _, _), side in sorted(sides.items()):
        by_claim[claim].append(side)
    found = find_contradictions(kb, weights, sides=sides) if contradictions is None else contradictions
    if agreement is None:
        agreement = agreement_matrix(kb, weights, found)
    # each clash under the topics of its claims, in the order found (one pass, not one per topic)
    clashes_of: dict[str, list[Contradiction]] = defaultdict(list)
    for c in found:
        topic_a, topic_b = kb.claims[c.claim_a].topic, kb.claims[c.claim_b].topic
        clashes_of[topic_a].append(c)
        if topic_b != topic_a:
            clashes_of[topic_b].append(c)
    by_id = {d.id: d for d in weights.disputes}
    topics = []
    for summary in weights.topics.values():
        checkpoint()
        entries = []
        for rank, cid in enumerate(summary.claims, 1):
            w = weights.claims[cid]
            quotes = sorted(
                by_claim[cid], key=lambda s: (s.stance != "supports", -_r(s.weight), s.source, s.index)
            )
            entries.append(
                ClaimEntry(
                    rank, cid, kb.claims[cid].statement, w.strength, w.base, w.consensus,
                    w.sources_for, w.sources_against, tuple(quotes),
                )
            )  # fmt: skip
        clashes = tuple(clashes_of.get(summary.topic, ()))
        disputes = tuple(by_id[i] for i in summary.disputes)
        topics.append(
            TopicSection(
                summary.topic, summary.verdict, dict(summary.consensus_counts), tuple(entries), clashes,
                disputes,
            )
        )  # fmt: skip
    return Report(
        title=kb.config.title,
        description=kb.config.description,
        topics=tuple(topics),
        contradictions=tuple(found),
        agreement=agreement,
        method=method_paragraphs(weights),
    )


def method_paragraphs(weights: Weights) -> tuple[str, ...]:
    """The method in a few sentences, with the factors actually in use (kb.yaml may change them)."""
    st = weights.settings

    def table(values: dict[str, float]) -> str:
        return ", ".join(f"{name} {value:.2f}" for name, value in values.items())

    rounds = (
        f"reached a fixed point after {weights.iterations} rounds"
        if weights.converged
        else f"stopped after {weights.iterations} rounds without reaching a fixed point"
    )
    return (
        f"Each source has a reliability: a prior from its kind ({table(st.source_kind)}), plus "
        f"{st.author_bonus:.2f} when it names its author, unless the source file sets another value and "
        "says why.",
        f"Each quote weighs: source reliability x evidence kind ({table(st.evidence_kind)}) x who says it "
        f"in the source ({table(st.speaker)}).",
        "A claim's base score is 0.5 + 0.5 x (S - O): S combines the sources for it and O the sources "
        "against it by noisy-OR, 1 - (1 - w1) x (1 - w2) x ..., each source counting once per side with "
        "its strongest quote. 0.5 means no evidence either way.",
        "Its strength then takes in related claims (DF-QuAD's combination): a claim passes on "
        f"{st.relation_weight:.2f} x (2 x strength - 1) when its strength is above 0.5; the strongest "
        "supporting claim (vs) raises the base towards 1 by (1 - base) x (vs - va), the strongest "
        "contradicting claim (va) lowers it towards 0 by base x (va - vs). This is repeated until no "
        f"strength changes any more; here it {rounds}.",
        "Consensus: agreed (two or more sources for, none against), contested (sources on both sides, "
        "directly or by backing a contradicting claim), rejected (two or more sources against, none "
        "for), single-source, no evidence.",
        "Disagreements: a source supports a claim that another opposes, or two sources back two claims "
        "that contradict each other. Strengths, base scores and weights are rounded to 4 decimals, as "
        "in kb export.",
    )


# --- numbers and labels, the same in every format ---


def number(value: float) -> str:
    written = _NUMBERS.get(value)
    if written is None:
        rounded = _r(value)
        written = f"{rounded + 0.0:.4f}"  # + 0.0: never "-0.0000"
        if len(_NUMBERS) < 100_000:
            _NUMBERS[value] = written
    return written


# number() by value: evidence weights are products of a few factors, so the same few hundred
# values recur tens of thousands of times in a large report (0.0 and -0.0 are one key, and both
# are written "0.0000"; kb's numbers are never NaN, which would be a new key each time)
_NUMBERS: dict[float, str] = {}


def _joined(ids: tuple[str, ...]) -> str:
    return ", ".join(ids)


def _says(side: Side, name_claim: bool) -> str:
    speaker = f", {side.speaker}" if side.speaker else ""
    details = f"{side.kind}{speaker}, weight {number(side.weight)}"
    claim = f" {side.claim}" if name_claim else ""
    return f"{side.stance}{claim} ({details}): \u201c{side.quote}\u201d"


def _claims_frame(section: TopicSection) -> Table:
    rows = [
        (e.rank, e.id, e.statement, f"{shown(e.strength):.2f}", f"{shown(e.base):.2f}", e.consensus,
         strength_words(e.strength), _joined(e.sources_for), _joined(e.sources_against))
        for e in section.claims
    ]  # fmt: skip
    columns = [
        "rank",
        "claim",
        "statement",
        "strength",
        "base",
        "consensus",
        "reads",
        "sources for",
        "against",
    ]
    return Table(list(columns), rows)


def _quotes_frame(kb: KnowledgeBase, section: TopicSection) -> Table:
    rows = [
        (e.id, q.stance, kb.sources[q.source].title, q.kind, q.speaker or "author", number(q.weight),
         f"\u201c{q.quote}\u201d")
        for e in section.claims
        for q in e.key_quotes
    ]  # fmt: skip
    columns = ["claim", "stance", "source", "evidence", "speaker", "weight", "key quote"]
    return Table(list(columns), rows)


def _position_cell(c: Contradiction, which: str, weights: Weights, claim_ref: Callable[[str], str]) -> str:
    claim = c.claim_a if which == "a" else c.claim_b
    strength = c.strength_a if which == "a" else c.strength_b
    if c.kind == OPPOSED:
        return f"{'yes' if which == 'a' else 'no'}: {claim_ref(claim)} ({shown(strength):.2f})"
    return f"{claim_ref(claim)} ({shown(strength):.2f}, {weights.claims[claim].consensus})"


def _sources_cell(kb: KnowledgeBase, c: Contradiction, which: str) -> str:
    sides, voices = (c.sides_a, c.voices_a) if which == "a" else (c.sides_b, c.voices_b)
    said = [
        f"{kb.sources[s.source].title}: \u201c{s.quote}\u201d ({s.kind}, {number(s.weight)})" for s in sides
    ]
    said += [f"also {v.describe(kb.sources[v.source].title)}" for v in voices]
    return "; ".join(said)


def _better_cell(c: Contradiction) -> str:
    if c.better_supported is None:
        return "neither (a tie)"
    return f"{c.better_supported.upper()}, by {abs(shown(c.strength_a) - shown(c.strength_b)):.2f}"


def _disagreements_frame(
    kb: KnowledgeBase,
    weights: Weights,
    clashes: tuple[Contradiction, ...],
    claim_ref: Callable[[str], str] = str,
) -> Table:
    questions = {d.id: d.question for d in weights.disputes}
    rows = [
        (questions.get(c.dispute, c.dispute),
         _position_cell(c, "a", weights, claim_ref), _sources_cell(kb, c, "a"),
         _position_cell(c, "b", weights, claim_ref), _sources_cell(kb, c, "b"), _better_cell(c))
        for c in clashes
    ]  # fmt: skip
    columns = ["dispute", "side A", "A's sources", "side B", "B's sources", "better supported"]
    return Table(list(columns), rows)


def _positions_frame(kb: KnowledgeBase, d: Dispute, claim_ref: Callable[[str], str] = str) -> Table:
    rows = []
    for i, p in enumerate(d.positions):
        role = "leads" if d.verdict.leader == i else ""
        position = f"{p.answer}: {p.statement}" if p.answer else p.statement
        voices = [f"for: {v.describe(kb.sources[v.source].title)}" for v in p.voices_for]
        voices += [f"against: {v.describe(kb.sources[v.source].title)}" for v in p.voices_against]
        rows.append((
            claim_ref(p.claim), position, f"{shown(p.strength):.2f}", p.consensus, _joined(p.sources_for),
            _joined(p.sources_against), "; ".join(voices), role,
        ))  # fmt: skip
    columns = [
        "claim",
        "position",
        "strength",
        "consensus",
        "sources for",
        "against",
        "other voices",
        "verdict",
    ]
    return Table(list(columns), rows)


MAX_LISTED_POSITIONS = 6


def _listed(items: list[str]) -> str:
    """At most MAX_LISTED_POSITIONS items, then how many more (a dispute can have thousands)."""
    shown_items = items[:MAX_LISTED_POSITIONS]
    more = len(items) - len(shown_items)
    return "; ".join(shown_items) + (f"; and {more} more" if more else "")


def _disputes_frame(disputes: tuple[Dispute, ...]) -> Table:
    rows = [
        (d.question, d.verdict.label, _listed([f"{p.label} ({shown(p.strength):.2f})" for p in d.positions]),
         f"{d.verdict.margin:.2f}", "yes" if d.verdict.robust else "no", _joined(d.verdict.hinges_on))
        for d in disputes
    ]  # fmt: skip
    return Table(["question", "verdict", "positions", "margin", "robust", "hinges on"], rows)


def _sources_frame(kb: KnowledgeBase, weights: Weights) -> Table:
    rows = [
        (
            s.id,
            s.title,
            s.kind,
            number(weights.reliability[s.id].value),
            weights.reliability[s.id].explanation,
        )
        for s in sorted(kb.sources.values(), key=lambda s: s.id)
    ]
    return Table(["source", "title", "kind", "reliability", "why"], rows)


def _agreement_frame(matrix: AgreementMatrix) -> Table:
    rows = [(a, b, str(agree), str(disagree)) for a, b, agree, disagree in matrix.pair_rows()]
    return Table(["source A", "source B", "claims both take the same side on", "disagreements"], rows)


# --- Markdown ---

# each character that can start inline markup gets a backslash; & < > become entities, and so does ~
# (one table: the same as escaping the markup characters first and then the HTML ones)
_MD_ESCAPES = str.maketrans(
    {**{c: "\\" + c for c in "\\`*_{}[]#|"}, "&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;"}
)
# translating is slow per character: most cells (ids, numbers, labels) have nothing to escape
_MD_SPECIAL = re.compile(r"[\\`*_{}\[\]#|&<>~]")


# a text that is already one line of single spaces with nothing to escape: most cells are
# (\s is the white space str.split splits on, so such a text is its own normal form)
_MD_AS_IS = re.compile(r"[\\`*_{}\[\]#|&<>~]|[^\S ]|  |^ | $")


# The characters md() escapes, each looked for with ``in`` (a search in C over the text; a
# regular expression over all of them at once steps through every character in Python's engine).
_MD_SPECIAL_CHARS = tuple("\\`*_{}[]#|&<>~")
_CELL_BREAK = "\xa6"  # joins a row's cells for _row_as_is: printable, and nothing md() escapes


def _row_as_is(cells: list[str]) -> bool:
    """Whether every cell is already what md() makes of it (``_MD_AS_IS`` finds nothing in any cell),
    tested on the row at once: no character to escape, nothing but printable characters and single
    spaces (every white space but the space is unprintable), no cell that starts or ends with a
    space. A cell holding the joining character can only make a row fail the test, and then each
    cell is escaped on its own."""
    row = _CELL_BREAK.join(cells)
    for char in _MD_SPECIAL_CHARS:
        if char in row:
            return False
    return (
        row.isprintable()
        and "  " not in row
        and _CELL_BREAK + " " not in row
        and " " + _CELL_BREAK not in row
        and not row.startswith(" ")
        and not row.endswith(" ")
    )


def md(text: str) -> str:
    """Text as inert inline Markdown: one line, markup characters escaped, HTML as entities."""
    if type(text) is not str:
        text = str(text)
    if _MD_AS_IS.search(text) is None:
        return text
    line = " ".join(text.split())
    if _MD_SPECIAL.search(line) is None:
        return line
    escaped = line.translate(_MD_ESCAPES)
    # as kb.site.text escapes it: "]:" could make a line that starts with a link a reference definition
    return escaped.replace("\\]:", "\\]&#58;") if "]:" in escaped else escaped


def _md_table(frame: Table, raw: tuple[str, ...] = (), ref: Callable[[str], str] = md) -> str:
    """A pipe table, every cell escaped; the ``raw`` columns hold claim ids, rendered by ``ref``.

    Cells are not padded to a common width: padding every row to the widest cell makes a table
    with one long cell grow with rows x width, and Markdown does not need it.
    """
    columns = list(frame.columns)
    render = [ref if c in raw else md for c in columns]
    lines = ["| " + " | ".join(md(c) for c in columns) + " |", "|" + "|".join(":---" for _ in columns) + "|"]
    linked = [i for i, f in enumerate(render) if f is not md]
    width = len(columns)
    for row in frame.rows:
        cells = [v if type(v) is str else str(v) for v in row]
        if len(cells) != width:
            raise ValueError(f"a row of {len(cells)} cells in a table of {width} columns")
        # most rows have nothing to escape in any cell: one search over the row instead of one per cell
        plain = cells if not linked else [c for i, c in enumerate(cells) if i not in linked]
        if not _row_as_is(plain):
            cells = [f(v) for f, v in zip(render, cells, strict=True)]
        else:
            for i in linked:
                cells[i] = render[i](cells[i])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# From this estimated cost of the topics' sections on (about a claim, a clash or a position each),
# kb report writes the last ones in a forked child (kb.forked.in_two); at 10,000 dense claims they
# cost about 60,000 and are most of the report's writing.
PARALLEL_TOPICS_COST = 6000


def _topic_cost(section: TopicSection) -> float:
    return (
        2.0
        + len(section.claims)
        + len(section.disagreements)
        + sum(len(d.positions) for d in section.disputes)
    )


def _topics_in_two(report: Report, parallel: bool, write: Callable[[TopicSection], Any]) -> list[Any]:
    """``write`` of each topic's section, in order; with ``parallel``, the last ones written by a
    forked child when there is enough to write (:func:`kb.forked.in_two`): the same sections."""
    topics = report.topics
    if not parallel:
        return [write(section) for section in topics]
    return forked.in_two(
        lambda start, stop: [write(section) for section in topics[start:stop]],
        [_topic_cost(section) for section in topics],
        PARALLEL_TOPICS_COST,
    )


def _md_topic(
    kb: KnowledgeBase, weights: Weights, section: TopicSection, ref: Callable[[str], str]
) -> list[str]:
    """A topic's section of the Markdown report, as lines."""
    checkpoint()  # kb serve holds its rebuild here while a preview runs (kb.progress)
    out = [f"## Topic: {md(section.topic)}", ""]
    out += [f"**Verdict.** {md(section.verdict)}", ""]
    for d in section.disputes:
        out += [
            f"### Dispute: {md(d.question)}",
            "",
            f"**Verdict.** {md(d.summary())}",
            "",
        ]
        if d.topic != section.topic:  # a dispute's positions are listed once, under its own topic
            out += [f"Its positions are listed under the topic {md(d.topic)}.", ""]
            continue
        out += [_md_table(_positions_frame(kb, d), raw=("claim",), ref=ref), ""]
    out += ["### Claims by strength", "", _md_table(_claims_frame(section), raw=("claim",), ref=ref), ""]
    out += ["### Sources for and against, with their key quotes", ""]
    quotes = _quotes_frame(kb, section)
    out += [_md_table(quotes) if not quotes.empty else "No evidence on these claims yet.", ""]
    out += ["### Disagreements", ""]
    if section.disagreements:
        out += [_md_table(_disagreements_frame(kb, weights, section.disagreements)), ""]
    else:
        out += ["No two sources disagree on these claims.", ""]
    return out


def to_markdown(
    kb: KnowledgeBase,
    weights: Weights,
    report: Report,
    weighting_link: str | None = None,
    claim_link: Callable[[str], str] | None = None,
    parallel: bool = False,
) -> str:
    """``claim_link``, when given, maps a claim id to the URL of its page: claim ids become links.
    ``parallel``: the topics' sections of a large report may be written by two processes
    (:func:`_topics_in_two`), as kb report does."""
    ref = (lambda cid: f"[{md(cid)}]({claim_link(cid)})") if claim_link else md
    out = [f"# {md(report.title)}: consensus report", ""]
    if report.description:
        out += [md(report.description), ""]
    out += [
        f"{len(kb.sources)} sources, {len(kb.claims)} claims in {len(report.topics)} topics, "
        f"{len(weights.disputes)} disputes, {len(report.contradictions)} clashes between sources."
        " Strengths run from 0 (refuted) through 0.5 (no evidence either way) to 1 (established);"
        " the method is at the end.",
        "",
    ]
    out += ["## Disputes and verdicts", ""]
    if weights.disputes:
        out += [_md_table(_disputes_frame(weights.disputes)), ""]
    else:
        out += ["The sources do not answer any question differently.", ""]
    out += _topics_in_two(report, parallel, lambda section: "\n".join(_md_topic(kb, weights, section, ref)))
    checkpoint()
    out += ["## Sources", "", _md_table(_sources_frame(kb, weights)), ""]
    out += ["## Agreement between sources", ""]
    agreement = _agreement_frame(report.agreement)
    out += [_md_table(agreement) if not agreement.empty else "Only one source.", ""]
    out += ["## Method", ""]
    for paragraph in report.method:
        out += [md(paragraph), ""]
    pointer = f"[{WEIGHTING_PAGE}]({weighting_link})" if weighting_link else f"\u201c{WEIGHTING_PAGE}\u201d"
    out += [f"The page {pointer} of the site (kb build) states the model with its formulas.", ""]
    return "\n".join(out)


# --- HTML ---

_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; color: #1d2330; margin: 0 auto; max-width: 80rem; }
body { padding: 1rem 2rem; }
h1 { font-size: 1.8rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #d5dae3; }
h3 { margin-top: 1.5rem; font-size: 1.1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #d5dae3; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eef1f6; }
tbody tr:nth-child(even) { background: #f7f8fb; }
.verdict { background: #f2f6ff; border-left: 4px solid #4a6fd1; padding: 0.5rem 1rem; }
nav ul { columns: 3; }
""".strip()


_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


_HTML_CELL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _html_table(frame: Table) -> str:
    """An HTML table, every cell escaped, laid out as pandas' ``to_html`` laid it out."""

    def cell(tag: str, value: object) -> str:
        text = str(value)
        if "&" in text or "<" in text or ">" in text:
            text = text.translate(_HTML_CELL)
        return f"      <{tag}>{text}</{tag}>"

    out = ['<table class="dataframe kb-table">', "  <thead>", '    <tr style="text-align: right;">']
    out += [cell("th", c) for c in frame.columns]
    out += ["    </tr>", "  </thead>", "  <tbody>"]
    for row in frame.rows:
        cells = [v if type(v) is str else str(v) for v in row]
        if not cells:
            out += ["    <tr>", "    </tr>"]
            continue
        # a row with nothing to escape in any cell (most) is joined at once, the same lines
        plain = "\n".join(cells)
        if "&" in plain or "<" in plain or ">" in plain:
            cells = [c.translate(_HTML_CELL) for c in cells]
        out.append("    <tr>\n      <td>" + "</td>\n      <td>".join(cells) + "</td>\n    </tr>")
    out += ["  </tbody>", "</table>"]
    return "\n".join(out)


def _anchor(topic: str, taken: set[str]) -> str:
    base = "topic-" + (re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-") or "x")
    anchor, n = base, 1
    while anchor in taken:
        n += 1
        anchor = f"{base}-{n}"
    taken.add(anchor)
    return anchor


def _html_topic(kb: KnowledgeBase, weights: Weights, section: TopicSection, anchor: str) -> list[str]:
    """A topic's section of the HTML report, as lines."""
    e = html.escape
    out = [f'<section id="{anchor}">']
    out.append(f"<h2>Topic: {e(section.topic)}</h2>")
    out.append(f'<p class="verdict"><strong>Verdict.</strong> {e(section.verdict)}</p>')
    for d in section.disputes:
        out.append(f"<h3>Dispute: {e(d.question)}</h3>")
        out.append(f'<p class="verdict"><strong>Verdict.</strong> {e(d.summary())}</p>')
        if d.topic != section.topic:  # a dispute's positions are listed once, under its own topic
            out.append(f"<p>Its positions are listed under the topic {e(d.topic)}.</p>")
            continue
        out.append(_html_table(_positions_frame(kb, d)))
    out += ["<h3>Claims by strength</h3>", _html_table(_claims_frame(section))]
    out.append("<h3>Sources for and against, with their key quotes</h3>")
    quotes = _quotes_frame(kb, section)
    out.append(_html_table(quotes) if not quotes.empty else "<p>No evidence on these claims yet.</p>")
    out.append("<h3>Disagreements</h3>")
    if section.disagreements:
        out.append(_html_table(_disagreements_frame(kb, weights, section.disagreements)))
    else:
        out.append("<p>No two sources disagree on these claims.</p>")
    out.append("</section>")
    return out


def to_html(
    kb: KnowledgeBase,
    weights: Weights,
    report: Report,
    weighting_link: str | None = None,
    parallel: bool = False,
) -> str:
    """``parallel``: as for :func:`to_markdown`."""
    e = html.escape
    title = f"{report.title}: consensus report"
    taken: set[str] = set()
    anchors = [_anchor(s.topic, taken) for s in report.topics]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        # nothing is fetched and nothing runs, whatever the data holds
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{e(title)}</h1>",
    ]
    if report.description:
        out.append(f"<p>{e(report.description)}</p>")
    out.append(
        f"<p>{len(kb.sources)} sources, {len(kb.claims)} claims in {len(report.topics)} topics, "
        f"{len(weights.disputes)} disputes, {len(report.contradictions)} clashes between sources."
        " Strengths run"
        ' from 0 (refuted) through 0.5 (no evidence either way) to 1 (established); see <a href="#method">the'
        " method</a>.</p>"
    )
    out.append("<nav><ul>")
    out += [f'<li><a href="#{a}">{e(s.topic)}</a></li>' for a, s in zip(anchors, report.topics, strict=True)]
    out.append("</ul></nav>")
    out.append("<h2>Disputes and verdicts</h2>")
    if weights.disputes:
        out.append(_html_table(_disputes_frame(weights.disputes)))
    else:
        out.append("<p>The sources do not answer any question differently.</p>")
    anchor_of = {id(section): anchor for anchor, section in zip(anchors, report.topics, strict=True)}
    out += _topics_in_two(
        report, parallel, lambda section: "\n".join(_html_topic(kb, weights, section, anchor_of[id(section)]))
    )
    out += ["<h2>Sources</h2>", _html_table(_sources_frame(kb, weights))]
    out.append("<h2>Agreement between sources</h2>")
    agreement = _agreement_frame(report.agreement)
    out.append(_html_table(agreement) if not agreement.empty else "<p>Only one source.</p>")
    out.append('<h2 id="method">Method</h2>')
    out += [f"<p>{e(p)}</p>" for p in report.method]
    page = e(WEIGHTING_PAGE)
    pointer = f'<a href="{e(weighting_link)}">{page}</a>' if weighting_link else f"\u201c{page}\u201d"
    out.append(f"<p>The page {pointer} of the site (kb build) states the model with its formulas.</p>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# --- CSV and JSON ---


def _dispute_columns(disputes: dict[str, tuple[Dispute, int]], cid: str) -> tuple:
    """A claim's dispute (the first, by topic and id), its verdict and leader, and the strength of
    its strongest rival. ``disputes`` maps a claim to its dispute and its position's index there."""
    found = disputes.get(cid)
    if found is None:
        return ("", "", "", "", "")
    d, index = found
    rival = max((d.positions[i].strength for i in d.rivals[index]), default=None)
    leader = d.leader.claim if d.leader else ""
    if d.leader is not None and d.leader.answer == "no":
        leader = f"not {leader}"
    return (d.id, d.question, d.verdict.label, leader, "" if rival is None else _r(rival))


def to_csv(report: Report, weights: Weights) -> str:
    """One row per claim, with the dispute it belongs to; lists of sources joined with ';' as in kb
    export's CSV tables."""
    disputes: dict[str, tuple[Dispute, int]] = {}
    for d in weights.disputes:
        for i, p in enumerate(d.positions):
            if p.answer != "no":
                disputes.setdefault(p.claim, (d, i))
    rows = [
        (section.topic, e.rank, e.id, e.statement, _r(e.strength), _r(e.base), e.consensus,
         ";".join(e.sources_for), ";".join(e.sources_against), *_dispute_columns(disputes, e.id))
        for section in report.topics
        for e in section.claims
    ]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def _topic_dicts(kb: KnowledgeBase, sections: tuple[TopicSection, ...]) -> list[dict[str, Any]]:
    """The JSON report's entries of ``sections``."""
    memo: dict[int, dict[str, Any]] = {}  # each side's dict, made once (contradiction_to_dict)

    def side(q: Side) -> dict[str, Any]:
        held = memo.get(id(q))
        if held is None:
            held = memo[id(q)] = side_to_dict(kb, q)
        return held

    return [
        {
            "topic": section.topic,
            "verdict": section.verdict,
            "consensus_counts": section.consensus_counts,
            "claims": [
                {
                    "rank": e.rank,
                    "id": e.id,
                    "statement": e.statement,
                    "strength": _r(e.strength),
                    "base": _r(e.base),
                    "consensus": e.consensus,
                    "sources_for": list(e.sources_for),
                    "sources_against": list(e.sources_against),
                    "key_quotes": [side(q) for q in e.key_quotes],
                }
                for e in section.claims
            ],
            "disagreements": [contradiction_to_dict(kb, c, memo) for c in section.disagreements],
        }
        for section in sections
    ]


def to_dict(kb: KnowledgeBase, weights: Weights, report: Report) -> dict[str, Any]:
    return _to_dict(kb, weights, report, with_topics=True)


def _to_dict(kb: KnowledgeBase, weights: Weights, report: Report, with_topics: bool) -> dict[str, Any]:
    """The report as data; without the topics' entries (``"topics": []``) when they are written apart."""
    return {
        "title": report.title,
        "description": report.description,
        "topics": _topic_dicts(kb, report.topics) if with_topics else [],
        "sources": [
            {
                "id": s.id,
                "title": s.title,
                "kind": s.kind,
                "reliability": _r(weights.reliability[s.id].value),
                "reliability_explanation": weights.reliability[s.id].explanation,
            }
            for s in sorted(kb.sources.values(), key=lambda s: s.id)
        ],
        "disputes": [dispute_to_dict(kb, d) for d in weights.disputes],
        "agreement": matrix_to_dict(report.agreement),
        "method": {
            "text": list(report.method),
            "iterations": weights.iterations,
            "converged": weights.converged,
            "settings": weights.settings.__dict__,
        },
    }


def render(
    kb: KnowledgeBase,
    weights: Weights,
    fmt: str = "md",
    *,
    weighting_link: str | None = None,
    contradictions: list[Contradiction] | None = None,
    agreement: AgreementMatrix | None = None,
    parallel: bool = False,
) -> str:
    """The report as text in ``fmt`` (one of FORMATS). ``weighting_link``: where the weighting page
    is, relative to the report, to link it from the method section (Markdown and HTML);
    ``contradictions`` and ``agreement``: as for :func:`build`; ``parallel``: as for
    :func:`to_markdown`."""
    report = build(kb, weights, contradictions, agreement)
    renderers: dict[str, Callable[[], str]] = {
        "md": lambda: to_markdown(kb, weights, report, weighting_link, parallel=parallel),
        "html": lambda: to_html(kb, weights, report, weighting_link, parallel=parallel),
        "csv": lambda: to_csv(report, weights),
        "json": lambda: pretty_json(to_dict(kb, weights, report)) + "\n",
    }
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return renderers[fmt]()


def render_pieces(kb: KnowledgeBase, weights: Weights, fmt: str = "md") -> Pieces:
    """:func:`render` as UTF-8 pieces (kb.output); JSON is written straight to bytes, by two processes
    on a large base (no copy of it as text, nor whole)."""
    if fmt == "json":
        report = build(kb, weights)
        topics = report.topics
        document = json_pieces_in_two(
            _to_dict(kb, weights, report, with_topics=False),
            "topics",
            lambda start, stop: _topic_dicts(kb, topics[start:stop]),
            [_topic_cost(section) for section in topics],
            PARALLEL_TOPICS_COST,
        )
        return document if document is not None else [pretty_json_bytes(to_dict(kb, weights, report))]
    return [render(kb, weights, fmt, parallel=True).encode("utf-8")]


def render_bytes(kb: KnowledgeBase, weights: Weights, fmt: str = "md") -> bytes:
    """:func:`render_pieces` joined."""
    return b"".join(render_pieces(kb, weights, fmt))
