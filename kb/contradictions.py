"""Where sources disagree, derived from the claim graph: pure functions over a weighed knowledge base.

Two sources disagree in one of two ways, and only these (both are a logical clash between
what the two sources say, not a matter of degree):

``opposed``
    On one claim X, source A has evidence with stance ``supports`` and a different source B
    has evidence with stance ``opposes``.
``contradicting-claims``
    Source A backs claim X and a different source B backs claim Y (each with evidence of
    stance ``supports``), and X and Y are joined by ``contradicts``: both cannot be true.

What does *not* count: a source opposing X while another backs a claim that contradicts X
(they agree that X is false); two sources opposing two contradicting claims (both can be
false); and anything across a ``supports`` relation, which says "makes more likely", not
"implies", so backing X and opposing a claim that X supports is a tension, not a clash. A
source that contradicts itself is not a disagreement *between* sources and is left out.

There is one :class:`Contradiction` per pair of sources and pair of claims (for ``opposed``
the pair is the claim with itself). When a source has several items on a claim, its side
is the item with the greatest evidence weight (the lowest index on a tie); when a pair of
sources clashes over a pair of claims in more than one way, the clash whose two sides weigh
most (product of weights) is kept. The two sides are ordered by source id, so ``a.source <
b.source``, and the list is sorted by claim pair, then by source pair.

Agreement (:func:`agreement_matrix`) counts, for every pair of sources, the claims they
agree on, meaning both have evidence with the same stance on the same claim (both support
it or both oppose it), and the claim pairs they disagree on, which is the number of
contradictions between them. Agreement is counted on the same claim only: two claims joined
by ``supports`` can both be backed by sources that still disagree about either, so such
pairs are not counted as agreement. On the diagonal, ``agree`` is the number of claims the
source takes a stance on and ``disagree`` is 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kb.model import KnowledgeBase
from kb.weigh import Weights, _r

OPPOSED = "opposed"
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
    claim_a: str  # a.claim; for OPPOSED equal to claim_b
    claim_b: str  # b.claim
    a: Side
    b: Side

    @property
    def sources(self) -> tuple[str, str]:
        return self.a.source, self.b.source


@dataclass(frozen=True)
class AgreementMatrix:
    """Counts for every pair of sources; index and columns are the sorted source ids."""

    agree: pd.DataFrame
    disagree: pd.DataFrame

    def pairs(self) -> pd.DataFrame:
        """One row per unordered pair of different sources: source_a, source_b, agree, disagree."""
        ids = list(self.agree.index)
        rows = [
            (a, b, int(self.agree.at[a, b]), int(self.disagree.at[a, b]))
            for i, a in enumerate(ids)
            for b in ids[i + 1 :]
        ]
        return pd.DataFrame(rows, columns=["source_a", "source_b", "agree", "disagree"])


def strongest_sides(kb: KnowledgeBase, weights: Weights) -> dict[tuple[str, str, str], Side]:
    """(claim, source, stance) -> that source's strongest item of that stance on that claim."""
    best: dict[tuple[str, str, str], Side] = {}
    for claim in kb.claims.values():
        for index, (ev, ew) in enumerate(zip(claim.evidence, weights.claims[claim.id].evidence, strict=True)):
            key = (claim.id, ev.source, ev.stance)
            held = best.get(key)
            # strictly greater: on a tie the earlier item (lower index) stays
            if held is None or ew.weight > held.weight:
                best[key] = Side(
                    ev.source, claim.id, ev.stance, ev.kind, ev.quote, ev.speaker, ew.weight, index
                )
    return best


def _ordered(kind: str, first: Side, second: Side) -> Contradiction:
    a, b = sorted((first, second), key=lambda s: (s.source, s.claim, s.stance, s.index))
    return Contradiction(kind, a.claim, b.claim, a, b)


def _contradicting_pairs(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """Every pair of claims joined by ``contradicts``, each once as (lower id, higher id)."""
    return sorted({(min(x, y), max(x, y)) for x, y, t in kb.relations() if t == "contradicts"})


def _rank(c: Contradiction) -> tuple:
    """Lower ranks first: the greatest product of weights, then a tie-break independent of input order."""
    key = (c.a.source, c.a.claim, c.a.stance, c.a.index, c.b.source, c.b.claim, c.b.stance, c.b.index)
    return (-(c.a.weight * c.b.weight), key)


def find_contradictions(
    kb: KnowledgeBase, weights: Weights, source: str | None = None
) -> list[Contradiction]:
    """Every disagreement between two sources (see the module docstring), optionally only those of one.

    Raises ``ValueError`` for a ``source`` that is not in the knowledge base.
    """
    if source is not None and source not in kb.sources:
        raise ValueError(f"unknown source {source!r}; known sources: {', '.join(sorted(kb.sources))}")
    sides = strongest_sides(kb, weights)
    by_claim: dict[tuple[str, str], list[Side]] = defaultdict(list)  # (claim, stance) -> sides
    for (claim, _, stance), side in sorted(sides.items()):
        by_claim[(claim, stance)].append(side)

    found: dict[tuple, Contradiction] = {}

    def keep(kind: str, first: Side, second: Side) -> None:
        if first.source == second.source:
            return
        clash = _ordered(kind, first, second)
        key = (clash.a.source, clash.b.source, *sorted((clash.claim_a, clash.claim_b)))
        held = found.get(key)
        if held is None or _rank(clash) < _rank(held):
            found[key] = clash

    for claim in kb.claims:
        for backer in by_claim.get((claim, "supports"), ()):
            for opponent in by_claim.get((claim, "opposes"), ()):
                keep(OPPOSED, backer, opponent)
    for x, y in _contradicting_pairs(kb):
        for backer_x in by_claim.get((x, "supports"), ()):
            for backer_y in by_claim.get((y, "supports"), ()):
                keep(CONTRADICTING_CLAIMS, backer_x, backer_y)

    out = [c for c in found.values() if source is None or source in c.sources]
    return sorted(out, key=lambda c: (*sorted((c.claim_a, c.claim_b)), c.a.source, c.b.source, c.kind))


def agreement_matrix(
    kb: KnowledgeBase, weights: Weights, contradictions: list[Contradiction] | None = None
) -> AgreementMatrix:
    """For every pair of sources, the claims they agree on and the claim pairs they disagree on.

    ``contradictions`` may be passed when already computed (all of them, unfiltered).
    """
    ids = sorted(kb.sources)
    agree = pd.DataFrame(0, index=pd.Index(ids, name="source"), columns=pd.Index(ids, name="source"))
    disagree = agree.copy()
    for claim in kb.claims.values():
        for stance in ("supports", "opposes"):
            backers = sorted({ev.source for ev in claim.evidence if ev.stance == stance})
            for i, a in enumerate(backers):
                for b in backers[i + 1 :]:
                    agree.at[a, b] += 1
                    agree.at[b, a] += 1
        for s in sorted({ev.source for ev in claim.evidence}):
            agree.at[s, s] += 1
    if contradictions is None:
        contradictions = find_contradictions(kb, weights)
    for c in contradictions:
        disagree.at[c.a.source, c.b.source] += 1
        disagree.at[c.b.source, c.a.source] += 1
    return AgreementMatrix(agree, disagree)


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


def contradiction_to_dict(kb: KnowledgeBase, c: Contradiction) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "claim_a": c.claim_a,
        "claim_b": c.claim_b,
        "a": side_to_dict(kb, c.a),
        "b": side_to_dict(kb, c.b),
    }


def matrix_to_dict(matrix: AgreementMatrix) -> dict[str, Any]:
    """``sources`` and, source by source, the ``agree`` and ``disagree`` counts."""
    ids = list(matrix.agree.index)
    return {
        "sources": ids,
        "agree": {a: {b: int(matrix.agree.at[a, b]) for b in ids} for a in ids},
        "disagree": {a: {b: int(matrix.disagree.at[a, b]) for b in ids} for a in ids},
    }


def to_dict(
    kb: KnowledgeBase, contradictions: list[Contradiction], matrix: AgreementMatrix
) -> dict[str, Any]:
    """Stable keys: ``contradictions`` (each with kind, claim_a, claim_b, a, b) and ``agreement``."""
    return {
        "contradictions": [contradiction_to_dict(kb, c) for c in contradictions],
        "agreement": {**matrix_to_dict(matrix), "pairs": matrix.pairs().to_dict(orient="records")},
    }


def printable(text: str) -> str:
    """Text from a knowledge base made safe for a terminal: control characters shown, not obeyed."""
    return "".join(
        ch if ch.isprintable() else ascii(ch)[1:-1]
        for ch in text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    )


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(printable(text), width=width, break_long_words=True, break_on_hyphens=False) or [""]


def _sections(kb: KnowledgeBase, side: Side, width: int, with_claim: bool) -> list[list[str]]:
    """One column of a disagreement as sections, so the two columns can be lined up section by section."""
    source = kb.sources[side.source]
    sections = [_wrap(f"{source.title} ({side.source})", width)]
    if with_claim:
        sections.append(_wrap(f"backs {side.claim}: {kb.claims[side.claim].statement}", width))
    sections.append(_wrap(f"{side.stance}, {side.kind}, weight {_r(side.weight)}", width))
    sections.append(_wrap(f"speaker: {side.speaker}", width) if side.speaker else [""])
    sections.append(_wrap(f"\u201c{side.quote}\u201d", width))
    return sections


def _side_by_side(left: list[list[str]], right: list[list[str]], width: int) -> list[str]:
    lines = []
    for l_section, r_section in zip(left, right, strict=True):
        height = max(len(l_section), len(r_section))
        if not any(l_section + r_section):
            continue  # neither side names a speaker
        for i in range(height):
            l_text = l_section[i] if i < len(l_section) else ""
            r_text = r_section[i] if i < len(r_section) else ""
            lines.append(f"   {l_text:<{width}} | {r_text}".rstrip())
    return lines


def render_text(
    kb: KnowledgeBase,
    contradictions: list[Contradiction],
    matrix: AgreementMatrix,
    width: int = 100,
    source: str | None = None,
) -> str:
    """The disagreements with both sides in two columns, then the agreement counts per pair of sources."""
    width = max(width, 60)
    column = (width - 3 - 3) // 2  # 3 spaces of indent, " | " between the columns
    out: list[str] = []
    opposed = sum(1 for c in contradictions if c.kind == OPPOSED)
    whose = f" involving {source}" if source else ""
    count = len(contradictions)
    out.append(
        f"{count} disagreement{'s' if count != 1 else ''} between sources{whose}: "
        f"{opposed} on the same claim, {count - opposed} between contradicting claims"
    )
    for number, c in enumerate(contradictions, 1):
        out.append("")
        if c.kind == OPPOSED:
            out.append(f"{number}. opposed on {c.claim_a}")
            out += ["   " + line for line in _wrap(kb.claims[c.claim_a].statement, width - 3)]
        else:
            out.append(f"{number}. contradicting claims: {c.claim_a} / {c.claim_b}")
        with_claims = c.kind != OPPOSED
        out += _side_by_side(
            _sections(kb, c.a, column, with_claims), _sections(kb, c.b, column, with_claims), column
        )
    out.append("")
    pairs = matrix.pairs()
    if source:
        pairs = pairs[(pairs.source_a == source) | (pairs.source_b == source)]
    if pairs.empty:
        out.append("Agreement between sources: fewer than two sources.")
    else:
        out.append("Agreement between sources (claims both support or both oppose; claim pairs in conflict):")
        table = pairs.rename(columns={"source_a": "source A", "source_b": "source B"})
        table = table.map(lambda v: printable(v) if isinstance(v, str) else v)
        out += ["   " + line for line in table.to_string(index=False).splitlines()]
    return "\n".join(out) + "\n"
