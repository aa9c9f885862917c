"""Evidence weights, claim strengths and consensus labels: the weighting model.

Pure functions over a loaded knowledge base; ``site/docs/weighting.md`` (the site page
"How strengths are computed") states the same model with its formulas.

1. Reliability of a source: a prior from its kind, nudged by what its file records
   (a named author), unless the file overrides it with a stated reason.
2. Weight of an evidence item: reliability x evidence-kind factor x speaker factor.
   Evidence kinds follow the usual hierarchy (study > mechanism > expert opinion >
   personal experience > third-party testimonial); a reader quoted inside a source
   weighs less than its author.
3. Base score of a claim: for each side, each source counts once (its strongest item)
   and the sources combine by noisy-OR, ``P = 1 - prod(1 - w)``. With ``S`` for and
   ``O`` against, ``base = 0.5 + 0.5 * (S - O)``: 0.5 means "no evidence either way".
4. Strength: DF-QuAD gradual semantics over the claim graph. A claim's supporters are
   the claims that ``support`` it, its attackers the claims it ``contradicts`` (both
   ways). A related claim passes on only its confidence above neutral,
   ``c(b) = r * max(0, 2 * s(b) - 1)`` with relation weight ``r`` (at most 0.5); on each
   side the strongest related claim counts, ``va = max c(attackers)``,
   ``vs = max c(supporters)`` (not DF-QuAD's probabilistic sum: related claims often
   rest on the same sources, and with a sum a group of claims that support each other
   lifts itself, so that fixed points multiply and the iteration can cycle forever), and
   ``s = base - base * (va - vs)`` if ``va >= vs`` else ``base + (1 - base) * (vs - va)``
   (DF-QuAD's combination). The update is iterated (averaged with the previous value) to
   a fixed point, so cycles are fine.
5. Consensus: ``agreed`` (two or more sources for, none against), ``contested``
   (sources on both sides, directly or through a contradicting claim), ``rejected``
   (two or more sources against, none for), ``single-source``, ``no-evidence``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kb.errors import Problem
from kb.gcpause import paused_gc
from kb.model import EVIDENCE_KINDS, SOURCE_KINDS, KnowledgeBase, Source

Consensus = Literal["agreed", "contested", "rejected", "single-source", "no-evidence"]
CONSENSUS_LABELS: tuple[str, ...] = Consensus.__args__  # type: ignore[attr-defined]

DEFAULT_SOURCE_KIND = {
    "study": 0.80, "review": 0.85, "guide": 0.55, "article": 0.50, "blog": 0.35, "forum": 0.25, "other": 0.30,
}  # fmt: skip
DEFAULT_EVIDENCE_KIND = {
    "study": 1.00, "mechanism": 0.70, "expert-opinion": 0.50, "experience": 0.30, "testimonial": 0.15,
}  # fmt: skip
# Who says it inside the source, by the first word of ``speaker``; a missing speaker is the author.
DEFAULT_SPEAKER = {"author": 1.0, "reader": 0.5, "other": 0.8}
AUTHOR_BONUS = 0.05
RELATION_WEIGHT = 0.5
# Above this a single loop of relations can amplify itself: two weakly backed claims that support
# each other would lift each other towards certainty, and the result would depend on where the
# iteration starts. Up to it, the gain around any loop is below 1.
MAX_RELATION_WEIGHT = 0.5
TOLERANCE = 1e-9
MAX_ITERATIONS = 10_000
# rounds whose results Anderson acceleration combines (kb.weigh._accelerated)
_ANDERSON_DEPTH = 8
# rounds without a new smallest residual after which the acceleration is given up for plain rounds
_ANDERSON_STALL = 50


@dataclass(frozen=True)
class Settings:
    source_kind: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SOURCE_KIND))
    evidence_kind: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EVIDENCE_KIND))
    speaker: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEAKER))
    author_bonus: float = AUTHOR_BONUS
    relation_weight: float = RELATION_WEIGHT


def _number_in(value: object, top: float) -> bool:
    """A number (not a boolean, which YAML also reads) from 0 to ``top``."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0.0 <= value <= top


def settings_from_config(
    weighting: dict, locate: Callable[[tuple[str, ...]], tuple[int, int]] | None = None
) -> tuple[Settings, list[Problem]]:
    """Settings from ``kb.yaml``'s ``weighting`` mapping, with a problem for every bad entry.

    ``locate`` gives the (line, column) in kb.yaml of a path inside ``weighting``, such as
    ``("speaker", "reader")``; without it problems point at the top of the file. A bad entry
    keeps its default value.
    """
    problems: list[Problem] = []

    def problem(path: tuple[str, ...], message: str) -> None:
        line, col = locate(path) if locate else (1, 1)
        problems.append(Problem("kb.yaml", line, col, message))

    base = Settings()
    tables = {"source_kind": SOURCE_KINDS, "evidence_kind": EVIDENCE_KINDS, "speaker": tuple(DEFAULT_SPEAKER)}
    values: dict = {}
    for key, value in weighting.items():
        if key in tables:
            if not isinstance(value, dict):
                problem((key,), f"weighting.{key}: expected a mapping")
                continue
            table = dict(getattr(base, key))
            for name, factor in value.items():
                if name not in tables[key]:
                    problem(
                        (key, name),
                        f"weighting.{key}: unknown name {name!r}; use one of: {', '.join(tables[key])}",
                    )
                elif not _number_in(factor, 1.0):
                    problem((key, name), f"weighting.{key}.{name}: must be a number in [0, 1]")
                else:
                    table[name] = float(factor)
            values[key] = table
        elif key in ("author_bonus", "relation_weight"):
            top = MAX_RELATION_WEIGHT if key == "relation_weight" else 1.0
            if not _number_in(value, top):
                why = " (above 0.5 a loop of relations can lift itself)" if top < 1.0 else ""
                problem((key,), f"weighting.{key}: must be a number in [0, {top:g}]{why}")
            else:
                values[key] = float(value)
        else:
            allowed = ", ".join([*tables, "author_bonus", "relation_weight"])
            problem((key,), f"weighting: unknown setting {key!r}; allowed: {allowed}")
    return Settings(**values), problems


@dataclass(frozen=True)
class Reliability:
    value: float
    prior: float
    overridden: bool
    explanation: str


@dataclass(slots=True)  # not frozen: built tens of thousands of times, and frozen init is slow
class EvidenceWeight:
    claim: str
    index: int
    source: str
    stance: str
    weight: float
    speaker_role: str
    # what the weight is the product of: the source's reliability, the evidence kind and its
    # factor, the speaker's factor (the explanation is written from them when asked for)
    reliability: float
    kind: str
    kind_factor: float
    speaker_factor: float
    # the claim's base score and its evidence as (source, stance, weight), for the effect
    claim_base: float = 0.5
    siblings: tuple[tuple[str, str, float], ...] = ()

    @property
    def explanation(self) -> str:
        return (
            f"reliability {self.reliability:.2f} x {self.kind} {self.kind_factor:.2f}"
            f" x {self.speaker_role} {self.speaker_factor:.2f} = {self.weight:.3f}"
        )

    @property
    def effect(self) -> float:
        """How much this item moves the claim's base score (base minus base without it); computed
        when a view asks for it (the export and the site do, the report does not)."""
        k = self.index
        if len(self.siblings) == 1:
            return self.claim_base - 0.5  # base_score of no items, written out (a quarter of all items)
        return self.claim_base - base_score(list(self.siblings[:k] + self.siblings[k + 1 :]))


@dataclass(slots=True)
class RelationEffect:
    claim: str  # the related claim
    type: str  # "supports" (it supports this claim) or "contradicts"
    passed: float  # c(b): the confidence it passes on
    effect: float  # strength minus strength without this relation, others held fixed
    # sources both claims rest on: over this relation they count for nothing (a source counts once)
    shared_sources: tuple[str, ...] = ()


@dataclass(slots=True)
class ClaimWeight:
    id: str
    base: float
    strength: float
    consensus: str
    support: float  # S
    opposition: float  # O
    sources_for: tuple[str, ...]
    sources_against: tuple[str, ...]
    evidence: tuple[EvidenceWeight, ...]
    relations: tuple[RelationEffect, ...]
    # readers and other people hosted by a source, on each side: shown as theirs, never as the source's
    voices_for: tuple[Voice, ...] = ()
    voices_against: tuple[Voice, ...] = ()

    @property
    def explanation(self) -> str:
        """How the strength came about, in words and numbers: written when a view asks for it."""
        return _explain(
            self.id, self.base, self.strength, self.support, self.opposition, self.evidence, self.relations
        )


@dataclass(frozen=True)
class TopicSummary:
    topic: str
    claims: tuple[str, ...]  # by strength, strongest first
    consensus_counts: dict[str, int]
    sources: tuple[str, ...]
    verdict: str
    disputes: tuple[str, ...] = ()  # ids of the disputes with a position here, the main ones first


@dataclass(frozen=True)
class Weights:
    settings: Settings
    reliability: dict[str, Reliability]
    claims: dict[str, ClaimWeight]
    topics: dict[str, TopicSummary]
    iterations: int
    converged: bool
    # the disputes and their verdicts (kb.disputes), computed once here for every view
    disputes: tuple = ()


def _r(x: float) -> float:
    """Round for display and export; the computation itself keeps full precision."""
    return round(x, 4)


def source_reliability(source: Source, settings: Settings) -> Reliability:
    prior = settings.source_kind[source.kind]
    reason = f"{source.kind} prior {prior:.2f}"
    if source.author:
        prior = min(1.0, prior + settings.author_bonus)
        reason += f" + {settings.author_bonus:.2f} for a named author"
    if source.reliability is not None:
        return Reliability(
            source.reliability,
            prior,
            True,
            f"set to {source.reliability:.2f} in the source file ({source.reliability_note});"
            f" computed prior was {prior:.2f} ({reason})",
        )
    return Reliability(prior, prior, False, reason)


def speaker_role(speaker: str | None) -> str:
    """``author``, ``reader`` or ``other``, from how ``speaker`` starts.

    A missing speaker is the author. Someone relayed through a reader ("Rusty Moore, fitness
    coach, relayed by reader Sandra") reaches the source through that reader, so weighs as one.
    """
    if not speaker or not speaker.strip():
        return "author"
    first = speaker.strip().split()[0].lower().rstrip(":,")
    if first in ("author", "reader"):
        return first
    if re.search(r"\brelayed by (a )?reader\b", speaker, re.IGNORECASE):
        return "reader"
    return "other"


def is_author(speaker: str | None) -> bool:
    """Whether an evidence item is its source's own voice: the only voice that places the source on a side."""
    return speaker_role(speaker) == "author"


@dataclass(frozen=True, slots=True)
class Voice:
    """Someone other than the author speaking inside a source: a reader, a relayed or quoted person."""

    source: str
    speaker: str
    role: str  # "reader" | "other"

    def describe(self, source_name: str) -> str:
        """'a reader of X' or 'Rusty Moore, ..., relayed by reader Y, in X'."""
        if self.role == "reader" and self.speaker.strip().lower().split()[0].rstrip(":,") == "reader":
            return f"a reader of {source_name}"
        return f"{self.speaker}, in {source_name}"


def noisy_or(weights: list[float]) -> float:
    """``1 - prod(1 - w)``; multiplied in sorted order, so the order of the items cannot change a bit."""
    rest = 1.0
    for w in sorted(weights):
        rest *= 1.0 - w
    return 1.0 - rest


def side_scores(
    items: list[tuple[str, str, float]] | tuple[tuple[str, str, float], ...],
) -> tuple[float, float]:
    """(S, O) from (source, stance, weight) items; each source counts once per side (its strongest
    item), and each side is :func:`noisy_or` of those weights, multiplied in sorted order.

    Written out by hand (the same arithmetic in the same order as ``noisy_or``): weighing a dense
    base of 10,000 claims calls it about 60,000 times, mostly on one to four items."""
    if len(items) == 1:
        _, stance, weight = items[0]
        if stance == "supports":
            return 1.0 - (1.0 - weight), 0.0
        return (0.0, 1.0 - (1.0 - weight)) if stance == "opposes" else (0.0, 0.0)
    sup: dict[str, float] = {}
    opp: dict[str, float] = {}
    for source, stance, weight in items:
        side = sup if stance == "supports" else (opp if stance == "opposes" else None)
        if side is None:
            continue
        old = side.get(source)
        if old is None or weight > old:
            side[source] = weight
    support = opposition = 0.0
    if sup:
        rest = 1.0
        for w in sorted(sup.values()):
            rest *= 1.0 - w
        support = 1.0 - rest
    if opp:
        rest = 1.0
        for w in sorted(opp.values()):
            rest *= 1.0 - w
        opposition = 1.0 - rest
    return support, opposition


def base_score(items: list[tuple[str, str, float]]) -> float:
    support, opposition = side_scores(items)
    return 0.5 + 0.5 * (support - opposition)


def strongest(values: list[float]) -> float:
    """How related claims on one side combine: the strongest counts (0 when there is none)."""
    return max(values, default=0.0)


def relation_sides(relations: tuple[RelationEffect, ...] | list[RelationEffect]) -> tuple[float, float]:
    """(va, vs): the strongest a claim's contradicting and its supporting claims pass on to it."""
    va = strongest([r.passed for r in relations if r.type == "contradicts"])
    vs = strongest([r.passed for r in relations if r.type == "supports"])
    return va, vs


def combine(base: float, attack: float, support: float) -> float:
    """DF-QuAD's combination of a base score with aggregated attack and support."""
    if attack >= support:
        return base - base * (attack - support)
    return base + (1.0 - base) * (support - attack)


def passed_on(strength: float, relation_weight: float) -> float:
    return relation_weight * max(0.0, 2.0 * strength - 1.0)


@dataclass(slots=True)
class Propagation:
    strength: dict[str, float]
    # (target, origin, type) -> the confidence the origin passes on to the target over that relation
    passed: dict[tuple[str, str, str], float]
    iterations: int
    converged: bool


def _accelerated(step, strength: np.ndarray, va: np.ndarray, vs: np.ndarray, relation_weight: float):
    """The fixed point of the damped round ``step``, reached with Anderson acceleration.

    Plain damped rounds converge slowly where the gain around a loop of relations is near 1 (a
    dense base of 10,000 claims needs about 5,000 of them). Anderson's method takes each next
    point as the combination of the last :data:`_ANDERSON_DEPTH` rounds' results that best
    cancels their residuals (a small least-squares problem), which settles such bases in tens of
    rounds. The stopping rule is the plain iteration's: a round moves nothing by more than
    :data:`TOLERANCE`, and the result is that round's output, so the fixed point is the same one
    to that tolerance. Extrapolated points are kept in range (strengths in [0, 1], sides in
    [0, r]); when the residual grows the history is dropped and a plain round is taken.

    The round takes maxima, so it is not smooth, and on some loops of support and contradiction
    the extrapolation circles without settling. After :data:`_ANDERSON_STALL` rounds without a
    new smallest residual the rest are plain damped rounds from the last plain result: they
    converge, since below MAX_RELATION_WEIGHT the gain around any loop is below 1.
    """
    n = len(strength)
    x = np.concatenate([strength, va, vs])
    # the last rounds' differences of results (dg) and of residuals (df), one column each, in a ring
    dg = np.zeros((3 * n, _ANDERSON_DEPTH))
    df = np.zeros((3 * n, _ANDERSON_DEPTH))
    held = 0  # how many columns hold a difference
    g_prev = f_prev = None
    best = np.inf
    best_at = 0  # the round that reached the smallest residual
    accelerating = True
    for iteration in range(1, MAX_ITERATIONS + 1):
        updated, va_new, vs_new, change = step(x[:n], x[n : 2 * n], x[2 * n :])
        if change < TOLERANCE:
            return updated, va_new, vs_new, iteration, True
        g = np.concatenate([updated, va_new, vs_new])
        if not accelerating:
            x = g
            continue
        f = g - x
        norm = float(np.max(np.abs(f)))
        if norm > 2.0 * best:  # extrapolation went astray: start again from a plain round
            held = 0
            g_prev = f_prev = None
        if norm < best:
            best, best_at = norm, iteration
        elif iteration - best_at > _ANDERSON_STALL:  # circling: plain rounds from here on
            accelerating = False
            x = g
            continue
        if g_prev is not None and f_prev is not None:
            column = iteration % _ANDERSON_DEPTH
            np.subtract(g, g_prev, out=dg[:, column])
            np.subtract(f, f_prev, out=df[:, column])
            held = min(held + 1, _ANDERSON_DEPTH)
        g_prev, f_prev = g, f
        if held:
            columns = [(iteration - k) % _ANDERSON_DEPTH for k in range(held)]
            F, G = df[:, columns], dg[:, columns]
            # least squares through the small normal equations (held x held)
            gamma = np.linalg.lstsq(F.T @ F, F.T @ f, rcond=None)[0]
            x = g - G @ gamma
            np.clip(x[:n], 0.0, 1.0, out=x[:n])
            np.clip(x[n:], 0.0, relation_weight, out=x[n:])
        else:
            x = g
    return x[:n], x[n : 2 * n], x[2 * n :], MAX_ITERATIONS, False


def propagate(
    base: dict[str, float],
    supporters: dict[str, list[str]],
    attackers: dict[str, list[str]],
    relation_weight: float,
    edge_base: dict[tuple[str, str], float] | None = None,
) -> Propagation:
    """Iterate the propagation to a fixed point.

    ``edge_base[(origin, target)]``, where given, is the origin's base score counting only the
    sources the target does not already have: over that relation the origin passes on what
    those sources give it (a source counts once per claim, directly or through a relation).
    Elsewhere the origin passes on its strength.

    Each step averages the new value with the old (a Krasnoselskii iteration), which
    damps the oscillation a cycle of attacks would otherwise cause. The step runs on
    arrays: the edges are sorted by the claim they point to, and the strongest of each
    claim's neighbours on a side is one ``maximum.reduceat`` over its run of edges.
    """
    ids = sorted(base)
    index = {c: i for i, c in enumerate(ids)}
    n = len(ids)
    b = np.array([base[c] for c in ids], dtype=float)
    edge_base = edge_base or {}

    def edges(table: dict[str, list[str]]):
        pairs = sorted((index[t], index[s]) for t, sources in table.items() for s in sources)
        dst = np.array([p[0] for p in pairs], dtype=np.int64)
        src = np.array([p[1] for p in pairs], dtype=np.int64)
        own = np.array([k for k, (t, s) in enumerate(pairs) if (ids[s], ids[t]) in edge_base], dtype=np.int64)
        eb = np.array([edge_base[(ids[pairs[k][1]], ids[pairs[k][0]])] for k in own], dtype=float)
        starts = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]]) if len(dst) else dst
        return pairs, src, own, eb, starts, dst[starts]

    def combine_arrays(base_, va_, vs_):
        return np.where(va_ >= vs_, base_ - base_ * (va_ - vs_), base_ + (1.0 - base_) * (vs_ - va_))

    def edge_passed(edge, strength, va_prev, vs_prev) -> np.ndarray:
        _, src, own, eb, _, _ = edge
        s = strength[src]
        if len(own):  # own: the indices of the edges whose origin shares sources with their target
            s = s.copy()
            from_ = src[own]
            s[own] = combine_arrays(eb, va_prev[from_], vs_prev[from_])
        return relation_weight * np.maximum(0.0, 2.0 * s - 1.0)

    def side(passed: np.ndarray, edge) -> np.ndarray:
        _, src, _, _, starts, claims = edge
        out = np.zeros(n)
        if len(src):
            out[claims] = np.maximum.reduceat(passed, starts)
        return out

    supporting = edges(supporters)
    attacking = edges(attackers)

    def step(strength, va, vs):
        """One damped round: the new strengths and sides, and how far they moved."""
        va_new = side(edge_passed(attacking, strength, va, vs), attacking)
        vs_new = side(edge_passed(supporting, strength, va, vs), supporting)
        updated = 0.5 * (strength + combine_arrays(b, va_new, vs_new))
        change = float(np.max(np.abs(updated - strength))) if n else 0.0
        if n:
            change = max(change, float(np.max(np.abs(va_new - va))), float(np.max(np.abs(vs_new - vs))))
        return updated, va_new, vs_new, change

    strength, va, vs, iterations, converged = _accelerated(
        step, b.copy(), np.zeros(n), np.zeros(n), relation_weight
    )
    passed: dict[tuple[str, str, str], float] = {}
    for edge, kind in ((supporting, "supports"), (attacking, "contradicts")):
        values = edge_passed(edge, strength, va, vs).tolist()
        for (t, s_), value in zip(edge[0], values, strict=True):
            passed[(ids[t], ids[s_], kind)] = value
    return Propagation(dict(zip(ids, strength.tolist(), strict=True)), passed, iterations, converged)


def _consensus(for_: set[str], against: set[str], has_evidence: bool) -> str:
    """From the sources whose authors take a side; evidence only from hosted voices is single-source."""
    if not has_evidence:
        return "no-evidence"
    if not for_ and not against:
        return "single-source"
    if any(a != b for a in for_ for b in against):
        return "contested"
    if len(for_ | against) == 1:
        return "single-source"
    if len(for_) >= 2:
        return "agreed"
    return "rejected"


def compute(kb: KnowledgeBase, settings: Settings | None = None, *, disputes: bool = True) -> Weights:
    """Every number kb shows: reliabilities, evidence weights, strengths, consensus, topics.

    ``disputes=False`` weighs the claims only: ``topics`` and ``disputes`` are left empty, for the
    views that show claims and sources alone (GraphML, the CSV tables, ClaimReview), which at
    10,000 dense claims need not wait for the verdicts of thousands of disputes."""
    with paused_gc():
        return _compute(kb, settings, disputes)


def _compute(kb: KnowledgeBase, settings: Settings | None, with_disputes: bool = True) -> Weights:
    if settings is None:
        settings, _ = settings_from_config(kb.config.weighting)
    reliability = {sid: source_reliability(s, settings) for sid, s in kb.sources.items()}

    items: dict[str, list[EvidenceWeight]] = {}
    base: dict[str, float] = {}
    speaker_roles: dict[str | None, str] = {}
    sides: dict[str, tuple[float, float]] = {}
    for claim in kb.claims.values():
        parts = []
        for ev in claim.evidence:
            rel = reliability[ev.source].value
            kind_factor = settings.evidence_kind[ev.kind]
            if ev.speaker not in speaker_roles:
                speaker_roles[ev.speaker] = speaker_role(ev.speaker)
            role = speaker_roles[ev.speaker]
            speaker_factor = settings.speaker[role]
            weight = rel * kind_factor * speaker_factor
            parts.append((ev, role, weight, rel, kind_factor, speaker_factor))
        triples = tuple((ev.source, ev.stance, weight) for ev, _, weight, *_ in parts)
        sides[claim.id] = side_scores(list(triples))
        claim_base = base[claim.id] = 0.5 + 0.5 * (sides[claim.id][0] - sides[claim.id][1])
        items[claim.id] = [
            EvidenceWeight(
                claim.id, k, ev.source, ev.stance, weight, role, rel, ev.kind, kind_factor, speaker_factor,
                claim_base, triples,
            )
            for k, (ev, role, weight, rel, kind_factor, speaker_factor) in enumerate(parts)
        ]  # fmt: skip

    supporters: dict[str, list[str]] = defaultdict(list)
    attackers: dict[str, list[str]] = defaultdict(list)
    relations = kb.relations()
    for origin, target, relation in relations:
        if relation == "supports":
            supporters[target].append(origin)
        else:
            attackers[target].append(origin)
            attackers[origin].append(target)
    for table in (supporters, attackers):
        for key in table:
            table[key] = sorted(set(table[key]))

    # A source counts once per claim: over a relation, a claim passes on only what the sources
    # its neighbour does not already have give it.
    sources_of = {cid: {ev.source for ev in claim.evidence} for cid, claim in kb.claims.items()}
    triples_of = {cid: [(ev.source, ev.stance, ev.weight) for ev in items[cid]] for cid in kb.claims}
    edge_base: dict[tuple[str, str], float] = {}
    shared: dict[tuple[str, str], tuple[str, ...]] = {}
    for table in (supporters, attackers):
        for target, origins in table.items():
            for origin in origins:
                common = sources_of[origin] & sources_of[target]
                if common:
                    rest = [t for t in triples_of[origin] if t[0] not in common]
                    edge_base[(origin, target)] = base_score(rest)
                    shared[(origin, target)] = tuple(sorted(common))

    result = propagate(base, supporters, attackers, settings.relation_weight, edge_base)
    strength, iterations, converged = result.strength, result.iterations, result.converged

    # Sources behind each claim, for consensus, count by their authors' voices only: direct
    # evidence, plus the authors backing a contradicting claim, who by that disagree with this one.
    # Readers and other people a source hosts are voices of their own; they never place the source.
    direct_for: dict[str, set[str]] = {}
    direct_against: dict[str, set[str]] = {}
    voices: dict[str, dict[str, list[Voice]]] = {}
    for cid, claim in kb.claims.items():
        direct_for[cid], direct_against[cid] = set(), set()
        voices[cid] = {"supports": [], "opposes": []}
        for ev, item in zip(claim.evidence, items[cid], strict=True):
            if item.speaker_role == "author":
                (direct_for if ev.stance == "supports" else direct_against)[cid].add(ev.source)
            else:
                voice = Voice(ev.source, ev.speaker or "", item.speaker_role)
                if voice not in voices[cid][ev.stance]:
                    voices[cid][ev.stance].append(voice)

    claims: dict[str, ClaimWeight] = {}
    for cid, claim in kb.claims.items():
        for_, against = set(direct_for[cid]), set(direct_against[cid])
        for other in attackers.get(cid, ()):
            against |= direct_for[other]
        consensus = _consensus(for_, against, bool(claim.evidence))
        relation_effects = _relation_effects(cid, base[cid], result.passed, supporters, attackers, shared)
        s, o = sides[cid]
        claims[cid] = ClaimWeight(
            id=cid,
            base=base[cid],
            strength=strength[cid],
            consensus=consensus,
            support=s,
            opposition=o,
            sources_for=tuple(sorted(direct_for[cid])),
            sources_against=tuple(sorted(direct_against[cid])),
            evidence=tuple(items[cid]),
            relations=relation_effects,
            voices_for=tuple(sorted(voices[cid]["supports"], key=lambda v: (v.source, v.speaker))),
            voices_against=tuple(sorted(voices[cid]["opposes"], key=lambda v: (v.source, v.speaker))),
        )
    partial = Weights(settings, reliability, claims, {}, iterations, converged)
    if not with_disputes:
        return partial
    from kb.disputes import find_disputes

    disputes = tuple(find_disputes(kb, partial, relations))
    topics = summarise_topics(kb, claims, disputes)
    return Weights(settings, reliability, claims, topics, iterations, converged, disputes)


def _relation_effects(
    cid: str,
    base: float,
    passed: dict[tuple[str, str, str], float],
    supporters: dict[str, list[str]],
    attackers: dict[str, list[str]],
    shared: dict[tuple[str, str], tuple[str, ...]],
) -> tuple[RelationEffect, ...]:
    sup_ids = supporters.get(cid, ())
    att_ids = attackers.get(cid, ())
    if not sup_ids and not att_ids:
        return ()
    sup = [passed[(cid, b, "supports")] for b in sup_ids]
    att = [passed[(cid, b, "contradicts")] for b in att_ids]
    va, vs = strongest(att), strongest(sup)
    full = combine(base, va, vs)
    effects = []
    for ids, values, kind in ((sup_ids, sup, "supports"), (att_ids, att, "contradicts")):
        if len(values) < 2:
            # no relation or one: the side without it is empty
            without = [0.0] * len(values)
        else:
            # the strongest of the others: the runner-up for the strongest (ties: the larger id),
            # the strongest for every other one
            top = max(range(len(values)), key=lambda i: (values[i], ids[i]))
            best = values[top]
            runner_up = max(values[i] for i in range(len(values)) if i != top)
            without = [best] * len(values)
            without[top] = runner_up
        for b, v, rest in zip(ids, values, without, strict=True):
            changed = combine(base, va, rest) if kind == "supports" else combine(base, rest, vs)
            effects.append(RelationEffect(b, kind, v, full - changed, shared.get((b, cid), ())))
    return tuple(effects)


def _explain(cid, base, strength, s, o, items, relations) -> str:
    if not items:
        text = "No evidence: base 0.50 (neutral)."
    else:
        text = f"Evidence for S = {s:.3f}, against O = {o:.3f}; base = 0.5 + 0.5 x (S - O) = {base:.3f}."
    moved = [r for r in relations if abs(r.effect) >= 0.0005]
    if moved:
        va, vs = relation_sides(relations)
        if va >= vs:
            formula = f"base - base x (va - vs) = {strength:.3f}"
        else:
            formula = f"base + (1 - base) x (vs - va) = {strength:.3f}"
        parts = [
            f"{r.claim} ({r.type}, {r.effect:+.3f}"
            + (f"; counts none of {', '.join(r.shared_sources)}, already here" if r.shared_sources else "")
            + ")"
            for r in moved
        ]
        text += (
            f" Strongest contradicting claim passes va = {va:.3f}, strongest supporting claim vs = {vs:.3f};"
            f" strength = {formula}. Effect of each relation (with it minus without it): "
            + ", ".join(parts)
            + "."
        )
    elif relations:
        text += f" Related claims are not established enough to move it; strength {strength:.3f}."
    else:
        text += f" No related claims; strength {strength:.3f}."
    discounted = [r for r in relations if r.shared_sources and abs(r.effect) < 0.0005]
    if discounted:
        text += (
            " "
            + "; ".join(
                f"{r.claim} rests on {', '.join(r.shared_sources)}, already counted here,"
                " so passes nothing of it"
                for r in discounted
            )
            + "."
        )
    return text


def summarise_topics(
    kb: KnowledgeBase, claims: dict[str, ClaimWeight], disputes: tuple = ()
) -> dict[str, TopicSummary]:
    from kb.disputes import topic_verdict

    by_topic: dict[str, list[str]] = defaultdict(list)
    for cid, claim in kb.claims.items():
        by_topic[claim.topic].append(cid)
    # each dispute listed under every topic it has a position in, in the order of ``disputes``
    by_dispute_topic: dict[str, list] = defaultdict(list)
    rank: dict[int, tuple[int, int, str]] = {}
    for d in disputes:
        rank[id(d)] = (-len(d.sources), -len(d.positions), d.id)
        for topic in dict.fromkeys(kb.claims[c].topic for c in d.claims):
            by_dispute_topic[topic].append(d)
    out = {}
    for topic in sorted(by_topic):
        ids = sorted(by_topic[topic], key=lambda c: (-round(claims[c].strength, 9), c))
        counts = {label: sum(1 for c in ids if claims[c].consensus == label) for label in CONSENSUS_LABELS}
        sources = sorted({ev.source for c in ids for ev in kb.claims[c].evidence})
        # the disputes most sources take part in lead: they are the topic's main questions
        touching = sorted(by_dispute_topic.get(topic, ()), key=lambda d: rank[id(d)])
        verdict = topic_verdict(kb, [claims[c] for c in ids], counts, touching)
        out[topic] = TopicSummary(
            topic, tuple(ids), counts, tuple(sources), verdict, tuple(d.id for d in touching)
        )
    return out


# How a claim's strength reads in words, on the strength as shown (two decimals): at or above
# SUPPORTED it is supported, at or below DOUBTFUL doubtful, anything between undecided.
SUPPORTED = 0.6
DOUBTFUL = 0.4


def shown(value: float) -> float:
    """A strength as every view shows it: two decimals, half up; words are read off this value."""
    return int(value * 100 + 0.5 + 1e-9) / 100


def strength_words(strength: float) -> str:
    """Five equal bands of the shown strength; the middle one is undecided."""
    value = shown(strength)
    if value >= 0.8:
        return "well supported"
    if value >= SUPPORTED:
        return "supported"
    if value > DOUBTFUL:
        return "undecided"
    if value > 0.2:
        return "doubtful"
    return "very doubtful"
