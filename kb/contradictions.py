"""Where sources disagree, item by item, for every dispute: pure functions over a weighed knowledge base.

The disputes themselves (the questions, their positions and verdicts) are :mod:`kb.disputes`;
this module lists, for each dispute, where two sources clash, in one of two ways only (both are
a logical clash between what two sources say, not a matter of degree):

``opposed``
    On one claim X, the author of one source supports it and the author of another opposes it.
``contradicting-claims``
    The author of one source backs claim X and the author of another backs claim Y, and X and Y
    are joined by ``contradicts``: both cannot be true.

There is one :class:`Contradiction` per dispute and pair of conflicting positions (for
``opposed`` the claim with itself), carrying every source on each side, strongest first, and
the two sides' strengths. Only a source's own voice (its author) puts it on a side; readers and
other people a source hosts are listed as voices of their own (``voices_a``, ``voices_b``).

What does *not* count: a source opposing X while another backs a claim that contradicts X
(they agree that X is false); two sources opposing two contradicting claims (both can be
false); anything across a ``supports`` relation; and a source that contradicts itself.

Agreement (:func:`agreement_matrix`) counts, for every pair of sources, the claims both their
authors support or both oppose, and the clashes between them (a pair of sources on opposite
sides of one item counts once for that item). On the diagonal, ``agree`` is the number of claims
the source's author takes a stance on and ``disagree`` is 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kb import forked
from kb.model import KnowledgeBase
from kb.output import Pieces
from kb.weigh import Voice, Weights, _r, shown

if TYPE_CHECKING:
    import pandas as pd

OPPOSED = "opposed"
PAIR_COLUMNS = ("source_a", "source_b", "agree", "disagree")
CONTRADICTING_CLAIMS = "contradicting-claims"


@dataclass(frozen=True)
class Side:
    """One source's position in a disagreement: its strongest evidence item on the claim."""

    source: str
    claim: str
    stance: str  # "supports" | "opposes"
    kind: str  # evidence kind
    quote: str
    speaker: str | None
    weight: float
    index: int  # evidence index within the claim


@dataclass(frozen=True)
class Contradiction:
    kind: str  # OPPOSED | CONTRADICTING_CLAIMS
    claim_a: str  # for OPPOSED equal to claim_b; side a supports it, side b opposes it
    claim_b: str
    sides_a: tuple[Side, ...]  # every source on side a, strongest first
    sides_b: tuple[Side, ...]
    dispute: str  # the id of its dispute (kb.disputes)
    strength_a: float  # for OPPOSED: the claim's strength, and strength_b its complement
    strength_b: float
    better_supported: str | None  # "a", "b" or None for a tie (kb.disputes.better_of)
    voices_a: tuple[Voice, ...] = ()  # readers and others hosted by a source, on side a
    voices_b: tuple[Voice, ...] = ()

    @property
    def a(self) -> Side:
        """The strongest side a source takes on side a."""
        return self.sides_a[0]

    @property
    def b(self) -> Side:
        return self.sides_b[0]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({s.source for s in (*self.sides_a, *self.sides_b)}))

    def pairs(self) -> set[tuple[str, str]]:
        """The pairs of different sources on opposite sides, each as (lower id, higher id)."""
        return {
            (min(x.source, y.source), max(x.source, y.source))
            for x in self.sides_a
            for y in self.sides_b
            if x.source != y.source
        }


class PairCounts:
    """A square table of counts by source id, kept sparse: only the pairs with a count are stored.

    It reads like the pandas table it replaces where kb uses one: ``.at[a, b]`` (0 for a pair with
    nothing in common), ``index`` and ``columns`` (the sorted source ids) and ``values`` (the dense
    array, for small bases: it has a cell for every pair of sources).
    """

    def __init__(self, ids: list[str], cells: dict[tuple[str, str], int]) -> None:
        self.ids = ids
        self.cells = cells  # both (a, b) and (b, a)

    @property
    def at(self) -> PairCounts:
        return self

    def __getitem__(self, pair: tuple[str, str]) -> int:
        return self.cells.get(pair, 0)

    @property
    def index(self) -> pd.Index:
        import pandas as pd

        return pd.Index(self.ids, name="source")

    columns = index

    @property
    def values(self) -> Any:
        import numpy as np

        at = {s: i for i, s in enumerate(self.ids)}
        dense = np.zeros((len(self.ids), len(self.ids)), dtype=np.int64)
        for (a, b), n in self.cells.items():
            dense[at[a], at[b]] = n
        return dense

    def rows(self) -> dict[str, dict[str, int]]:
        """Source by source (in id order), the counts it has with others (in id order)."""
        by_source: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for (a, b), n in self.cells.items():
            by_source[a].append((b, n))
        return {a: dict(sorted(by_source[a])) for a in sorted(by_source)}


@dataclass(frozen=True)
class AgreementMatrix:
    """Counts for every pair of sources (sparse: pairs with nothing in common are not stored)."""

    agree: PairCounts
    disagree: PairCounts

    def pair_rows(self) -> list[tuple[str, str, int, int]]:
        """One row per unordered pair of different sources with something in common (claims they agree
        on or clashes between them), sorted: (source_a, source_b, agree, disagree)."""
        keys = sorted({(a, b) for a, b in (*self.agree.cells, *self.disagree.cells) if a < b})
        return [(a, b, self.agree[a, b], self.disagree[a, b]) for a, b in keys]

    def pairs(self) -> pd.DataFrame:
        """:meth:`pair_rows` as a table with the columns source_a, source_b, agree, disagree."""
        import pandas as pd

        return pd.DataFrame(self.pair_rows(), columns=list(PAIR_COLUMNS))


def strongest_sides(kb: KnowledgeBase, weights: Weights) -> dict[tuple[str, str, str], Side]:
    """(claim, source, stance) -> the strongest item of that stance on that claim by the source's author."""
    best: dict[tuple[str, str, str], Side] = {}
    for claim in kb.claims.values():
        for index, (ev, ew) in enumerate(zip(claim.evidence, weights.claims[claim.id].evidence, strict=True)):
            if ew.speaker_role != "author":
                continue  # other voices never put their source on a side
            key = (claim.id, ev.source, ev.stance)
            held = best.get(key)
            # strictly greater: on a tie the earlier item (lower index) stays
            if held is None or ew.weight > held.weight:
                best[key] = Side(
                    ev.source, claim.id, ev.stance, ev.kind, ev.quote, ev.speaker, ew.weight, index
                )
    return best


def _ranked(sides: list[Side]) -> tuple[Side, ...]:
    return tuple(sorted(sides, key=lambda s: (-s.weight, s.source, s.index)))


def _clash(a: tuple[Side, ...], b: tuple[Side, ...]) -> bool:
    return any(x.source != y.source for x in a for y in b)


def find_contradictions(
    kb: KnowledgeBase,
    weights: Weights,
    source: str | None = None,
    *,
    sides: dict[tuple[str, str, str], Side] | None = None,
) -> list[Contradiction]:
    """Every clash between sources inside a dispute (see the module docstring), optionally only those
    of one source. Built from an index of which source's author backs what, per dispute
    (``sides``: :func:`strongest_sides`, when the caller has it already).

    Raises ``ValueError`` for a ``source`` that is not in the knowledge base.
    """
    from kb.disputes import better_of, contradicting

    if source is not None and source not in kb.sources:
        raise ValueError(f"unknown source {source!r}; known sources: {', '.join(sorted(kb.sources))}")
    by_claim: dict[tuple[str, str], list[Side]] = defaultdict(list)  # (claim, stance) -> sides
    for (claim, _, stance), side in (strongest_sides(kb, weights) if sides is None else sides).items():
        by_claim[(claim, stance)].append(side)
    contra = contradicting(kb)

    out: list[Contradiction] = []
    for dispute in weights.disputes:
        group = dispute.claims
        for x in group:
            w = weights.claims[x]
            pro, con = _ranked(by_claim.get((x, "supports"), [])), _ranked(by_claim.get((x, "opposes"), []))
            if pro and con and _clash(pro, con):
                out.append(Contradiction(
                    OPPOSED, x, x, pro, con, dispute.id, w.strength, 1.0 - w.strength,
                    better_of(w.strength, 1.0 - w.strength), w.voices_for, w.voices_against,
                ))  # fmt: skip
        order = {c: i for i, c in enumerate(group)}
        # each contradicts link inside the group once, in the order of the positions (strongest first)
        links = sorted(
            (order[x], order[y])
            for x in group
            for y in contra.get(x, ())
            if y in order and order[x] < order[y]
        )
        for i, j in links:
            x, y = group[i], group[j]
            a, b = _ranked(by_claim.get((x, "supports"), [])), _ranked(by_claim.get((y, "supports"), []))
            if a and b and _clash(a, b):
                wa, wb = weights.claims[x], weights.claims[y]
                out.append(Contradiction(
                    CONTRADICTING_CLAIMS, x, y, a, b, dispute.id, wa.strength, wb.strength,
                    better_of(wa.strength, wb.strength), wa.voices_for, wb.voices_for,
                ))  # fmt: skip
    return [c for c in out if source is None or source in c.sources]


def agreement_matrix(
    kb: KnowledgeBase, weights: Weights, contradictions: list[Contradiction] | None = None
) -> AgreementMatrix:
    """For every pair of sources, the claims their authors agree on and the clashes between them.

    Counted from each claim's sources and each clash's pairs, never over every pair of sources, so
    a base of thousands of sources costs what its claims and clashes cost. ``contradictions`` may
    be passed when already computed (all of them, unfiltered).
    """
    agree: Counter[tuple[str, str]] = Counter()
    disagree: Counter[tuple[str, str]] = Counter()
    for cid in kb.claims:
        w = weights.claims[cid]
        for backers in (w.sources_for, w.sources_against):
            for i, a in enumerate(backers):
                for b in backers[i + 1 :]:
                    agree[(a, b)] += 1
                    agree[(b, a)] += 1
        for s in set(w.sources_for) | set(w.sources_against):
            agree[(s, s)] += 1
    if contradictions is None:
        contradictions = find_contradictions(kb, weights)
    for c in contradictions:
        for a, b in c.pairs():
            disagree[(a, b)] += 1
            disagree[(b, a)] += 1
    ids = sorted(kb.sources)
    return AgreementMatrix(PairCounts(ids, dict(agree)), PairCounts(ids, dict(disagree)))


# --- views: data for --json, text for a terminal ---


def side_to_dict(kb: KnowledgeBase, side: Side) -> dict[str, Any]:
    return {
        "source": side.source,
        "title": kb.sources[side.source].title,
        "claim": side.claim,
        "statement": kb.claims[side.claim].statement,
        "stance": side.stance,
        "kind": side.kind,
        "quote": side.quote,
        "speaker": side.speaker,
        "weight": _r(side.weight),
        "index": side.index,
    }


def contradiction_to_dict(
    kb: KnowledgeBase, c: Contradiction, memo: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``a`` and ``b`` are each side's strongest source; ``sides_a`` and ``sides_b`` every source.

    ``memo`` keeps each side's dict by the side's identity, for a caller turning many clashes into
    data at once: a side takes part in several clashes (and is ``a`` or ``b`` as well as listed),
    and its dict is made once and shared (it is only read, to be written out as JSON)."""
    from kb.disputes import voice_to_dict

    if memo is None:
        memo = {}

    def side(s: Side) -> dict[str, Any]:
        held = memo.get(id(s))
        if held is None:
            held = memo[id(s)] = side_to_dict(kb, s)
        return held

    return {
        "kind": c.kind,
        "dispute": c.dispute,
        "claim_a": c.claim_a,
        "claim_b": c.claim_b,
        "a": side(c.a),
        "b": side(c.b),
        "sides_a": [side(s) for s in c.sides_a],
        "sides_b": [side(s) for s in c.sides_b],
        "voices_a": [voice_to_dict(kb, v) for v in c.voices_a],
        "voices_b": [voice_to_dict(kb, v) for v in c.voices_b],
        "strength_a": _r(c.strength_a),
        "strength_b": _r(c.strength_b),
        "better_supported": c.better_supported,
    }


def matrix_to_dict(matrix: AgreementMatrix) -> dict[str, Any]:
    """``sources`` and, source by source, the ``agree`` and ``disagree`` counts it has with other
    sources; a pair with nothing in common is left out (its counts are 0)."""
    agree, disagree = matrix.agree.rows(), matrix.disagree.rows()
    ids = list(matrix.agree.ids)
    return {
        "sources": ids,
        "agree": {a: agree.get(a, {}) for a in ids},
        "disagree": {a: disagree.get(a, {}) for a in ids},
    }


def to_dict(
    kb: KnowledgeBase,
    contradictions: list[Contradiction],
    matrix: AgreementMatrix,
    disputes: tuple = (),
    with_contradictions: bool = True,
) -> dict[str, Any]:
    """Stable keys: ``contradictions`` (each with kind, dispute, claim_a, claim_b, a, b, strength_a,
    strength_b, better_supported), the ``disputes`` they belong to, and ``agreement``; without the
    clashes' entries (``"contradictions": []``) when they are written apart."""
    from kb.disputes import dispute_to_dict

    used = {c.dispute for c in contradictions}
    return {
        "contradictions": _clash_dicts(kb, contradictions) if with_contradictions else [],
        "disputes": [dispute_to_dict(kb, d) for d in disputes if d.id in used],
        "agreement": {
            **matrix_to_dict(matrix),
            "pairs": [dict(zip(PAIR_COLUMNS, row, strict=True)) for row in matrix.pair_rows()],
        },
    }


def _clash_dicts(kb: KnowledgeBase, contradictions: list[Contradiction]) -> list[dict[str, Any]]:
    memo: dict[int, dict[str, Any]] = {}
    return [contradiction_to_dict(kb, c, memo) for c in contradictions]


def to_json_pieces(
    kb: KnowledgeBase,
    contradictions: list[Contradiction],
    matrix: AgreementMatrix,
    disputes: tuple = (),
    source: str | None = None,
) -> Pieces:
    """What kb contradictions --json prints: ``source`` and :func:`to_dict`, as JSON in pieces
    (kb.output); the clashes of a long list written by two processes
    (:func:`kb.export.json_pieces_in_two`), the same bytes."""
    from kb.export import json_pieces_in_two, pretty_json_bytes

    costs = [1.0] * len(contradictions)
    if len(costs) >= PARALLEL_CLASHES_COST:
        document = json_pieces_in_two(
            {"source": source, **to_dict(kb, contradictions, matrix, disputes, with_contradictions=False)},
            "contradictions",
            lambda start, stop: _clash_dicts(kb, contradictions[start:stop]),
            costs,
            PARALLEL_CLASHES_COST,
        )
        if document is not None:
            return document
    return [pretty_json_bytes({"source": source, **to_dict(kb, contradictions, matrix, disputes)})]


def to_json_bytes(
    kb: KnowledgeBase,
    contradictions: list[Contradiction],
    matrix: AgreementMatrix,
    disputes: tuple = (),
    source: str | None = None,
) -> bytes:
    """:func:`to_json_pieces` joined."""
    return b"".join(to_json_pieces(kb, contradictions, matrix, disputes, source))


def printable(text: str) -> str:
    """Text from a knowledge base made safe for a terminal: control characters shown, not obeyed."""
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    if text.isprintable():
        return text  # the usual case, without looking at each character
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    text = printable(text)
    if text and text[0] != " " and text[-1] != " " and "  " not in text:
        # words one space apart (after printable, spaces are the only whitespace left): textwrap's
        # greedy filling comes down to this, which is several times faster
        words = text.split(" ")
        if max(map(len, words)) <= width:
            lines = []
            line = words[0]
            for word in words[1:]:
                if len(line) + 1 + len(word) <= width:
                    line += " " + word
                else:
                    lines.append(line)
                    line = word
            lines.append(line)
            return lines
    return textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False) or [""]


def _column(
    kb: KnowledgeBase,
    c: Contradiction,
    which: str,
    width: int,
    weights: Weights,
    memo: dict[int, tuple[list[str], list[str]]] | None = None,
) -> list[list[str]]:
    """One side of a clash as sections: its position with strength and label, then every source.

    ``memo`` keeps each source's two sections by its side's identity, for a caller laying out many
    clashes at once: a side takes part in several clashes (at 10,000 dense claims each is laid out
    about ten times), and its wrapped lines are the same each time (they are only read)."""
    if memo is None:
        memo = {}
    sides, voices = (c.sides_a, c.voices_a) if which == "a" else (c.sides_b, c.voices_b)
    strength = c.strength_a if which == "a" else c.strength_b
    claim = c.claim_a if which == "a" else c.claim_b
    w = weights.claims[claim]
    if c.kind == OPPOSED:
        head = f"{which.upper()}: {'yes' if which == 'a' else 'no'} ({shown(strength):.2f})"
        sections = [_wrap(head, width)]
    else:
        head = f"{which.upper()}: {claim} ({shown(strength):.2f}, {w.consensus})"
        sections = [_wrap(head, width), _wrap(kb.claims[claim].statement, width)]
    for side in sides:
        held = memo.get(id(side))
        if held is None:
            title = kb.sources[side.source].title
            held = memo[id(side)] = (
                _wrap(f"{title} ({side.source}): {side.kind}, weight {_r(side.weight)}", width),
                _wrap(f"\u201c{side.quote}\u201d", width),
            )
        sections += held
    for voice in voices:
        sections.append(_wrap(f"also {voice.describe(kb.sources[voice.source].title)}", width))
    return sections


def _side_by_side(left: list[list[str]], right: list[list[str]], width: int) -> list[str]:
    lines = []
    depth = max(len(left), len(right))
    left = left + [[""]] * (depth - len(left))
    right = right + [[""]] * (depth - len(right))
    for l_section, r_section in zip(left, right, strict=True):
        height = max(len(l_section), len(r_section))
        for i in range(height):
            l_text = l_section[i] if i < len(l_section) else ""
            r_text = r_section[i] if i < len(r_section) else ""
            lines.append(f"   {l_text:<{width}} | {r_text}".rstrip())
    return lines


def better_line(c: Contradiction) -> str:
    margin = abs(shown(c.strength_a) - shown(c.strength_b))
    if c.better_supported is None:
        return f"better supported: neither, a tie (margin {margin:.2f})"
    return f"better supported: {c.better_supported.upper()} (margin {margin:.2f})"


# From this estimated cost (a dispute and each of its clashes) on, kb contradictions lays out the
# last disputes in a forked child; at 10,000 dense claims they cost about 20,000.
PARALLEL_CLASHES_COST = 3000


def render_text(
    kb: KnowledgeBase,
    contradictions: list[Contradiction],
    matrix: AgreementMatrix,
    weights: Weights,
    width: int = 100,
    source: str | None = None,
    parallel: bool = False,
) -> str:
    """Dispute by dispute: the question, the verdict, each clash with both sides in two columns;
    then the agreement counts per pair of sources. ``parallel``: the last disputes of a long list
    may be laid out by a forked child (:func:`kb.forked.in_two`), as kb contradictions does."""
    width = max(width, 60)
    column = (width - 3 - 3) // 2  # 3 spaces of indent, " | " between the columns
    out: list[str] = []
    by_dispute: dict[str, list[Contradiction]] = defaultdict(list)
    for c in contradictions:
        by_dispute[c.dispute].append(c)
    disputes = [d for d in weights.disputes if d.id in by_dispute]
    whose = f" involving {source}" if source else ""
    out.append(
        f"{len(disputes)} dispute{'s' if len(disputes) != 1 else ''} between sources{whose}"
        f" ({len(contradictions)} clash{'es' if len(contradictions) != 1 else ''})"
    )

    def lines_of(start: int, stop: int) -> list[str]:
        """The disputes ``start`` to ``stop`` with their clashes, as one piece of text each."""
        memo: dict[int, tuple[list[str], list[str]]] = {}  # each side's lines, by identity (see _column)
        pieces = []
        for number, d in enumerate(disputes[start:stop], start + 1):
            lines = [""]
            lines += _wrap(f"{number}. {d.question}", width)
            lines += ["   " + line for line in _wrap(d.summary(), width - 3)]
            for c in by_dispute[d.id]:
                lines.append("")
                if c.kind == OPPOSED:
                    opposed = f"opposed on {c.claim_a}: {kb.claims[c.claim_a].statement}"
                    lines += ["   " + line for line in _wrap(opposed, width - 3)]
                lines += _side_by_side(
                    _column(kb, c, "a", column, weights, memo),
                    _column(kb, c, "b", column, weights, memo),
                    column,
                )
                lines.append("   " + better_line(c))
            pieces.append("\n".join(lines))
        return pieces

    costs = [1.0 + len(by_dispute[d.id]) for d in disputes]
    out += forked.in_two(lines_of, costs, PARALLEL_CLASHES_COST) if parallel else lines_of(0, len(disputes))
    out.append("")
    rows = matrix.pair_rows()
    if source:
        rows = [row for row in rows if source in (row[0], row[1])]
    if not rows:
        out.append("Agreement between sources: fewer than two sources.")
    else:
        out.append(
            "Agreement between sources (claims both authors support or both oppose; clashes between them):"
        )
        out += ["   " + line for line in pair_table(rows)]
    return "\n".join(out) + "\n"


def pair_table(rows: list[tuple[str, str, int, int]]) -> list[str]:
    """The agreement rows as lines of a table laid out as pandas' ``to_string(index=False)`` laid
    it out: columns one space apart, every cell right-aligned, a text column as wide as its
    longest cell or heading, a number column one wider than its heading at least."""
    headings = ("source A", "source B", "agree", "disagree")
    cells = [(printable(a), printable(b), str(agree), str(disagree)) for a, b, agree, disagree in rows]
    widths = [max(len(headings[i]) + (1 if i >= 2 else 0), *(len(row[i]) for row in cells)) for i in range(4)]
    lines = [" ".join(h.rjust(w) for h, w in zip(headings, widths, strict=True))]
    lines += [" ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return lines
