"""Disputes and their verdicts: the questions the sources answer differently, and who the evidence favours.

Computed once, here, for every view (the command line, the site, the report and the export all
read :attr:`kb.weigh.Weights.disputes`), so that no two views can tell different stories.

A **dispute** is one of:

``contradicts``
    A group of claims joined by ``contradicts`` (a connected component of those relations): its
    claims are the positions. It is a dispute when two different sources answer differently
    inside it: one source's author backs a position and another's backs a position that
    contradicts it, or the authors of two sources take opposite stances on one position.
``yes-no``
    A single claim, in no such group, that the author of one source supports and the author of
    another opposes: its positions are "yes" (the claim) and "no" (its negation).

``kb.yaml`` may name disputes (``disputes: [{question, claims}]``); a named group is a dispute
even when its sources agree, and keeps the question as written. Others get a generated question.

Only the sources' own voices (their authors) place a source on a side. Readers and people a
source hosts or relays are voices of their own: they are listed as theirs and still weigh (at the
reader discount) in the strengths, but never put their source on a side.

The **verdict** compares the positions' strengths as shown, to two decimals (a difference the
shown numbers cannot carry is no difference):

- ``open``: the strongest position and its strongest rival (a position that contradicts it) are
  within :data:`TIE_MARGIN` of each other, a tie; or no position is above 0.50, so none has more
  evidence for it than against it. There is no leader;
- ``clear``: the leader is ahead by at least :data:`CLEAR_MARGIN` and the verdict is robust;
- ``leaning``: any other lead.

A verdict is **robust** when no single source, left out (all its evidence, every voice in it),
would change the leader (to another position, or to a tie). The sources that would are the
ones it ``hinges_on``. Leaving a source out recomputes the strengths of the dispute's positions
with the weighting model of :mod:`kb.weigh`, the claims outside the dispute held at their
strengths (but passing on nothing of the left-out source's evidence).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kb import forked
from kb.model import KnowledgeBase
from kb.weigh import DOUBTFUL, SUPPORTED, TOLERANCE, shown, strength_words

if TYPE_CHECKING:
    from kb.weigh import ClaimWeight, Voice, Weights

# Margins in hundredths, on strengths rounded to two decimals as every view shows them.
TIE_MARGIN = 0.05
CLEAR_MARGIN = 0.15
VERDICT_LABELS = ("clear", "leaning", "open")
# How many positions of a dispute a topic's verdict names (the strongest); the rest are counted.
VERDICT_POSITIONS = 6
_LOCAL_ITERATIONS = 2_000
# kb.weigh's own stopping rule: where a loop of relations has a gain near 1 the damped rounds move
# slowly, and stopping at 1e-7 left strengths about 1e-6 away from kb.weigh's fixed point
_LOCAL_TOLERANCE = TOLERANCE


@dataclass(frozen=True)
class Position:
    claim: str
    statement: str
    answer: str | None  # "yes" or "no" in a yes-no dispute; None for a claim of a contradicts group
    strength: float
    consensus: str
    sources_for: tuple[str, ...]  # sources whose authors back this position
    sources_against: tuple[str, ...]  # sources whose authors argue against it
    voices_for: tuple[Voice, ...]  # readers and others hosted by a source, backing it
    voices_against: tuple[Voice, ...]

    @property
    def label(self) -> str:
        """The position in words: the claim's statement, or "No: ..." for the negation."""
        return f"No: {self.statement}" if self.answer == "no" else self.statement


@dataclass(frozen=True)
class Verdict:
    label: str  # "clear" | "leaning" | "open"
    leader: int | None  # index of the leading position; None for a tie
    margin: float  # the lead of the strongest position over its strongest rival, on the shown strengths
    runner_up: int  # index of that rival
    robust: bool
    hinges_on: tuple[str, ...]  # sources whose leaving out alone would change the leader


@dataclass(frozen=True)
class Dispute:
    id: str
    question: str
    named: bool  # the question comes from kb.yaml
    topic: str
    kind: str  # "contradicts" | "yes-no"
    positions: tuple[Position, ...]  # strongest first (ties by claim id)
    rivals: tuple[tuple[int, ...], ...]  # for each position, the positions it contradicts
    verdict: Verdict
    between_sources: bool  # different sources' authors answer differently

    @property
    def claims(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.claim for p in self.positions))

    @property
    def leader(self) -> Position | None:
        return None if self.verdict.leader is None else self.positions[self.verdict.leader]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({s for p in self.positions for s in (*p.sources_for, *p.sources_against)}))

    def summary(self) -> str:
        """The verdict in one sentence, with the leader's lead and what it hinges on."""
        v = self.verdict
        if self.leader is None and shown(self.positions[0].strength) <= 0.5:
            top = self.positions[0]
            return (
                "Open: no position has more evidence for it than against it; the strongest is"
                f" {_quoted(top.label)} ({shown(top.strength):.2f})."
            )
        if self.leader is None:
            top = [self.positions[0], self.positions[v.runner_up]]
            return (
                f"Open: the evidence cannot separate {_quoted(top[0].label)} ({shown(top[0].strength):.2f})"
                f" and {_quoted(top[1].label)} ({shown(top[1].strength):.2f})."
            )
        word = "Clear" if v.label == "clear" else "Leaning"
        text = (
            f"{word}: {_quoted(self.leader.label)}, {shown(self.leader.strength):.2f}"
            f" against {shown(self.positions[v.runner_up].strength):.2f} (margin {v.margin:.2f})"
        )
        if v.robust:
            return text + "; no single source decides it."
        return text + f"; it hinges on {', '.join(v.hinges_on)}."


def _quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


def verdict_label(margin: float, robust: bool) -> str:
    if margin < TIE_MARGIN - 1e-9:
        return "open"
    if margin >= CLEAR_MARGIN - 1e-9 and robust:
        return "clear"
    return "leaning"


def better_of(strength_a: float, strength_b: float) -> str | None:
    """``"a"``, ``"b"`` or None (a tie), by the same margin as the verdicts."""
    margin = round(shown(strength_a) - shown(strength_b), 2)
    if abs(margin) < TIE_MARGIN - 1e-9:
        return None
    return "a" if margin > 0 else "b"


# --- finding the disputes -------------------------------------------------------------------------


def group_roots(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """For every claim in ``pairs`` (claims joined by ``contradicts``), the lowest id of its connected
    group: claims share a root exactly when a chain of those links joins them (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for origin, target in pairs:
        parent.setdefault(origin, origin)
        parent.setdefault(target, target)
        a, b = find(origin), find(target)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {claim: find(claim) for claim in parent}


def contradiction_groups(
    kb: KnowledgeBase, relations: list[tuple[str, str, str]] | None = None
) -> list[tuple[str, ...]]:
    """The connected groups of claims joined by ``contradicts``, each sorted, in a stable order
    (``relations``: ``kb.relations()``, when the caller has it already)."""
    relations = kb.relations() if relations is None else relations
    roots = group_roots(
        (origin, target) for origin, target, relation in relations if relation == "contradicts"
    )
    groups: dict[str, list[str]] = defaultdict(list)
    for claim, root in roots.items():
        groups[root].append(claim)
    return sorted(tuple(sorted(g)) for g in groups.values())


def contradicting(
    kb: KnowledgeBase, relations: list[tuple[str, str, str]] | None = None
) -> dict[str, set[str]]:
    """Each claim's neighbours over ``contradicts``, both ways (``relations`` as for
    :func:`contradiction_groups`)."""
    out: dict[str, set[str]] = defaultdict(set)
    for origin, target, relation in kb.relations() if relations is None else relations:
        if relation == "contradicts":
            out[origin].add(target)
            out[target].add(origin)
    return out


def _clash_between_sources(group: tuple[str, ...], weights: Weights, contra: dict[str, set[str]]) -> bool:
    for cid in group:
        w = weights.claims[cid]
        if any(a != b for a in w.sources_for for b in w.sources_against):
            return True
        for other in contra.get(cid, ()):
            if any(a != b for a in w.sources_for for b in weights.claims[other].sources_for):
                return True
    return False


def find_disputes(
    kb: KnowledgeBase, weights: Weights, relations: list[tuple[str, str, str]] | None = None
) -> list[Dispute]:
    """Every dispute of the knowledge base with its verdict, sorted by topic, then id (``relations``:
    ``kb.relations()``, when the caller has it already).

    Linear in the size of the base: groups come from one pass over the relations, and a verdict's
    robustness looks only at the leader, its rivals and their neighbours."""
    named = {frozenset(spec.claims): spec for spec in kb.config.disputes}
    named_by_claim = {c: spec for spec in kb.config.disputes for c in spec.claims}
    relations = kb.relations() if relations is None else relations
    contra = contradicting(kb, relations)
    pending: list[tuple] = []  # (kind, group, ranked positions, rivals, spec, between)
    in_group: set[str] = set()
    for group in contradiction_groups(kb, relations):
        in_group.update(group)
        spec = next((named_by_claim[c] for c in group if c in named_by_claim), None)
        between = _clash_between_sources(group, weights, contra)
        if between or spec is not None:
            positions = [_position(kb, weights.claims[c], None) for c in group]
            pending.append(("contradicts", group, *_ranked(positions, "contradicts", contra), spec, between))
    for cid, w in weights.claims.items():
        if cid in in_group:
            continue
        spec = named.get(frozenset((cid,)))
        between = any(a != b for a in w.sources_for for b in w.sources_against)
        if between or spec is not None:
            positions = [_position(kb, w, "yes"), _position(kb, w, "no")]
            pending.append(("yes-no", (cid,), *_ranked(positions, "yes-no", contra), spec, between))
    verdicts = verdicts_of(kb, weights, [(positions, rivals) for _, _, positions, rivals, _, _ in pending])
    found = [
        _dispute(kb, kind, group, positions, rivals, verdict, spec, between)
        for (kind, group, positions, rivals, spec, between), verdict in zip(pending, verdicts, strict=True)
    ]
    taken: Counter[str] = Counter()
    unique = []
    for d in sorted(found, key=lambda d: (d.topic, d.id)):
        taken[d.id] += 1
        if taken[d.id] > 1:  # a generated id that a claim's id happens to equal
            d = Dispute(**{**d.__dict__, "id": f"{d.id}-{taken[d.id]}"})
        unique.append(d)
    return unique


def restated(kb: KnowledgeBase, weights: Weights) -> Weights:
    """The weights of ``kb`` from those of a knowledge base that differs from it in claims' statements
    only (kb.site.preview.only_statements_differ): no number depends on a statement's words, so only the
    words are written again (the statements the disputes' positions quote, the questions made of them,
    the topics' verdicts). The same weights as :func:`kb.weigh.compute` of ``kb``, without weighing."""
    from dataclasses import replace

    from kb.weigh import summarise_topics

    disputes = []
    for d in weights.disputes:
        positions = tuple(replace(p, statement=kb.claims[p.claim].statement) for p in d.positions)
        # a dispute's group is its claims in order of id (contradiction_groups), or the one claim
        question = d.question if d.named else _question(kb, d.kind, tuple(sorted(d.claims)))
        disputes.append(replace(d, question=question, positions=positions))
    found = tuple(disputes)
    return replace(weights, disputes=found, topics=summarise_topics(kb, weights.claims, found))


def disputes_by_claim(disputes: list[Dispute]) -> dict[str, list[Dispute]]:
    out: dict[str, list[Dispute]] = defaultdict(list)
    for d in disputes:
        for c in d.claims:
            out[c].append(d)
    return dict(out)


def _position(kb: KnowledgeBase, w: ClaimWeight, answer: str | None) -> Position:
    statement = kb.claims[w.id].statement
    if answer == "no":
        return Position(
            w.id, statement, "no", 1.0 - w.strength, w.consensus, w.sources_against, w.sources_for,
            w.voices_against, w.voices_for,
        )  # fmt: skip
    return Position(
        w.id, statement, answer, w.strength, w.consensus, w.sources_for, w.sources_against,
        w.voices_for, w.voices_against,
    )  # fmt: skip


def _ranked(positions: list[Position], kind: str, contra: dict[str, set[str]]):
    """The positions strongest first (ties by their order), and for each the positions it contradicts."""
    ranked = sorted(range(len(positions)), key=lambda i: (-shown(positions[i].strength), i))
    positions = [positions[i] for i in ranked]
    if kind == "yes-no":
        rivals: tuple[tuple[int, ...], ...] = ((1,), (0,))
    else:
        at = {p.claim: i for i, p in enumerate(positions)}
        rivals = tuple(tuple(sorted(at[o] for o in contra[p.claim] if o in at)) for p in positions)
    return positions, rivals


def _dispute(kb, kind, group, positions, rivals, verdict: Verdict, spec, between) -> Dispute:
    topics = Counter(kb.claims[c].topic for c in group)
    topic = sorted(topics, key=lambda t: (-topics[t], t))[0]
    if spec is not None:
        question, dispute_id = spec.question, spec.id or _dispute_id(kind, group)
    else:
        question, dispute_id = _question(kb, kind, group), _dispute_id(kind, group)
    return Dispute(
        dispute_id, question, spec is not None, topic, kind, tuple(positions), rivals, verdict, between
    )


def _dispute_id(kind: str, group: tuple[str, ...]) -> str:
    if kind == "yes-no" or len(group) == 1:
        return group[0]
    if len(group) == 2:
        return f"{group[0]}-vs-{group[1]}"
    return f"{group[0]}-and-{len(group) - 1}-more"


def _lower_first(statement: str) -> str:
    text = statement.strip().rstrip(".!?")
    first = text.split(" ", 1)[0]
    # keep acronyms and names ("HIIT", "Josh") as they are
    if len(first) > 1 and (first.isupper() or not first[1:].islower()):
        return text
    return text[:1].lower() + text[1:]


def _question(kb: KnowledgeBase, kind: str, group: tuple[str, ...]) -> str:
    statements = [_lower_first(kb.claims[c].statement) for c in group]
    if kind == "yes-no":
        return f"Is it true that {statements[0]}?"
    if len(statements) == 2:
        return f"Which is right: that {statements[0]}, or that {statements[1]}?"
    if len(statements) > 3:
        # a big group of contradicting claims: name the two strongest-looking first ones, count the rest
        return (
            f"Which is right: that {statements[0]}, that {statements[1]}, or one of the"
            f" {len(statements) - 2} other claims that contradict them?"
        )
    listed = ", that ".join(statements[:-1])
    return f"Which is right: that {listed}, or that {statements[-1]}?"


# --- the verdict and its robustness ---------------------------------------------------------------


def _leader(strengths: list[float], rivals: tuple[tuple[int, ...], ...]) -> tuple[int | None, float, int]:
    """(the leader's index or None for a tie, margin, index of the strongest rival) on the shown
    strengths: the strongest position against the strongest position that contradicts it."""
    top = min(range(len(strengths)), key=lambda i: (-shown(strengths[i]), i))
    rival = min(rivals[top], key=lambda i: (-shown(strengths[i]), i))
    margin = round(shown(strengths[top]) - shown(strengths[rival]), 2)
    if margin < TIE_MARGIN - 1e-9 or shown(strengths[top]) <= 0.5:
        return None, margin, rival  # a tie, or no position has more for it than against it
    return top, margin, rival


def _leader_with(
    values: list[float], changed: dict[int, float], order: list[int], rivals: tuple[tuple[int, ...], ...]
) -> int | None:
    """``_leader(...)[0]`` of ``values`` with the values of ``changed`` put in, where ``order`` ranks
    ``values`` as ``_leader`` does: positions a source leaves as they are keep their rank, so only
    the first of them and the changed ones can lead (at 10,000 claims a dispute can have thousands
    of positions, and a verdict asks this once per source)."""
    top = next((i for i in order if i not in changed), None)
    for i, value in changed.items():
        if top is None or (-shown(value), i) < (-shown(changed.get(top, values[top])), top):
            top = i
    assert top is not None

    def value(i: int) -> float:
        return changed.get(i, values[i])

    rival = min(rivals[top], key=lambda i: (-shown(value(i)), i))
    margin = round(shown(value(top)) - shown(value(rival)), 2)
    if margin < TIE_MARGIN - 1e-9 or shown(value(top)) <= 0.5:
        return None
    return top


# A verdict's cost, roughly: a fixed part for its sources' leave-one-out checks, and a part per
# position (at 10,000 dense claims about 0.3 ms each, and 26 microseconds a position in a dispute
# of 6,480). Verdicts are split between two processes when they add up to this much (about 0.2 s
# of CPU): below it starting the second process costs more than it saves.
_VERDICT_FIXED_COST = 12
PARALLEL_VERDICT_COST = 8_000
_FORK_COST = 2_000  # starting the child, for this process (at 10,000 claims it left it ~0.1 s behind)


def verdicts_of(
    kb, weights, jobs: list[tuple[list[Position], tuple]], workers: int | None = None
) -> list[Verdict]:
    """The verdict of each (positions, rivals), in order: :func:`_verdict` of each.

    Verdicts are independent of each other. When there are enough of them (:data:`PARALLEL_VERDICT_COST`),
    the machine has a second processor, fork is available and the process runs no other thread (a
    forked copy of a threaded process, as kb serve's, may find a lock held by a thread it does
    not have), a forked child computes about half of them, by estimated cost, while this process
    computes the rest; it hands them back pickled over a pipe (its own data, from a copy of this
    process). If the child fails in any way its share is computed here: the same verdicts either
    way. ``workers`` (1 or 2) forces the choice, for tests.
    """
    costs = [_VERDICT_FIXED_COST + len(positions) for positions, _ in jobs]
    if workers is None:
        workers = 2 if sum(costs) >= PARALLEL_VERDICT_COST and forked.can_fork() else 1
    if workers < 2 or len(jobs) < 2:
        return _verdicts(kb, weights, jobs)
    # longest first, each to the lighter share: the child's share is the first
    shares: tuple[list[int], list[int]] = ([], [])
    load = [0, _FORK_COST]  # this process also starts the child
    for i in sorted(range(len(jobs)), key=lambda i: -costs[i]):
        lighter = 0 if load[0] <= load[1] else 1
        shares[lighter].append(i)
        load[lighter] += costs[i]
    out: list[Verdict | None] = [None] * len(jobs)
    theirs = forked.start(lambda: _verdicts(kb, weights, [jobs[i] for i in shares[0]]))
    try:
        for i, verdict in zip(shares[1], _verdicts(kb, weights, [jobs[i] for i in shares[1]]), strict=True):
            out[i] = verdict
    finally:
        received = theirs()  # the child is always waited for
    if received is None or len(received) != len(shares[0]):
        received = _verdicts(kb, weights, [jobs[i] for i in shares[0]])
    for i, verdict in zip(shares[0], received, strict=True):
        out[i] = verdict
    return out  # type: ignore[return-value]


def focus(positions: list[Position] | tuple[Position, ...], rivals) -> tuple[str, ...]:
    """The claims a verdict turns on: the strongest position and its rivals."""
    return tuple(sorted({positions[0].claim, *(positions[i].claim for i in rivals[0])}))


def _value(claim: str, strength: float, answers: dict[str, set]) -> float:
    """The best shown strength a claim's positions take at ``strength`` (its yes, or its no)."""
    return max(shown(strength) if a != "no" else shown(1.0 - strength) for a in answers[claim])


def _verdict(kb, weights, positions: list[Position], rivals) -> Verdict:
    return _verdicts(kb, weights, [(positions, rivals)])[0]


def _verdicts(kb, weights, jobs: list[tuple[list[Position], tuple]]) -> list[Verdict]:
    """The verdict of each (positions, rivals): each is planned, the leave-one-out strengths every
    plan asks for are computed together (:func:`solve_rounds`), then each verdict is finished."""
    plans = [_VerdictPlan(weights, positions, rivals) for positions, rivals in jobs]
    asked = [(plan.model, source) for plan in plans for source in plan.recompute]
    solved = iter(solve_rounds([model.rounds_input(source) for model, source in asked], weights))
    return [plan.finish(solved) for plan in plans]


class _VerdictPlan:
    """One verdict's leave-one-out check, in two halves around the strengths it needs recomputed.

    The leader and its rivals are recomputed to a fixed point without each source; every other
    position is moved by one step (its own base without the source), which is exact for a position
    the source does not reach and close for one it does."""

    def __init__(self, weights, positions: list[Position], rivals) -> None:
        self.positions, self.rivals = positions, rivals
        self.leader, self.margin, self.runner_up = _leader([p.strength for p in positions], rivals)
        # (source, hinges?) in the order of the sources; None where its strengths are recomputed
        self.checks: list[tuple[str, bool | None]] = []
        self.recompute: list[str] = []
        if self.leader is None:
            return
        model = self.model = _LocalModel(None, weights, focus(positions, rivals))
        reached = self.reached = defaultdict(list)  # source -> other positions it has evidence on
        for p in positions:
            if p.claim not in model.group:
                for source in {ev.source for ev in weights.claims[p.claim].evidence}:
                    reached[source].append(p.claim)
        moving = set(model.sources())
        answers: dict[str, set] = defaultdict(set)
        for p in positions:
            answers[p.claim].add(p.answer)
        top = shown(positions[self.leader].strength)
        favouring = _favouring_sources(weights, model, positions, rivals, reached)
        self.values = [p.strength for p in positions]
        self.at = defaultdict(list)  # claim -> its positions
        for i, p in enumerate(positions):
            self.at[p.claim].append(i)
        # the positions by shown strength, strongest first: the leader without a source is the
        # strongest of the positions it moves and the first of these it does not move
        self.order = sorted(range(len(positions)), key=lambda i: (-shown(self.values[i]), i))
        for source in sorted(moving | set(reached)):
            if source in favouring:
                continue  # leaving it out can only widen the lead
            if source not in moving:
                # it reaches neither the leader nor its rivals: the lead changes only if a position it
                # reaches (moved without it) overtakes the leader
                moved = any(
                    ("no" in answers[p] or model.may_rise_above(p, source, top))
                    and _value(p, model.one_step(p, source), answers) > top
                    for p in reached[source]
                )
                self.checks.append((source, moved))
            else:
                self.checks.append((source, None))
                self.recompute.append(source)

    def finish(self, solved) -> Verdict:
        """The verdict, taking the strengths of :attr:`recompute` in order from ``solved``."""
        hinges = []
        for source, decided in self.checks:
            if decided is None:
                strengths = next(solved)
                for claim in self.reached.get(source, ()):
                    strengths[claim] = self.model.one_step(claim, source)
                changed = {
                    i: strengths[claim] if self.positions[i].answer != "no" else 1.0 - strengths[claim]
                    for claim in strengths
                    for i in self.at[claim]
                }
                decided = _leader_with(self.values, changed, self.order, self.rivals) != self.leader
            if decided:
                hinges.append(source)
        leader = self.leader
        robust = leader is not None and not hinges
        label = "open" if leader is None else verdict_label(self.margin, robust)
        return Verdict(label, leader, self.margin, self.runner_up, robust, tuple(hinges))


def _favouring_sources(weights, model: _LocalModel, positions, rivals, reached) -> set[str]:
    """The sources whose leaving out can only raise the leader and lower every other position, so
    cannot change the leader: computing their leave-one-out strengths would be wasted work.

    Each claim the recomputation touches gets the direction that helps the leader: up for the
    leader's claim (down when the leader is a "no"), down for its rivals and the other positions,
    and for a claim outside the group, whatever moves its related group claim that way (a
    supporter moves with it, a contradicting claim against it). When every relation inside the
    group agrees with those directions, the model is monotone in them (DF-QuAD's combination rises
    with the base and the support and falls with the attack; the strongest of a side and the
    confidence passed on rise with the strengths), so a source whose every item pushes its claim
    against that claim's direction (an item against a claim that should rise, for one that should
    fall) leaves the leader's lead as it is or wider. A claim asked to move both ways, or a group
    relation that disagrees, keeps the full check."""
    up = -1 if positions[0].answer == "no" else 1
    want: dict[str, int | None] = {}

    def ask(claim: str, direction: int) -> None:
        want[claim] = direction if want.get(claim, direction) == direction else None

    ask(positions[0].claim, up)
    for i in rivals[0]:
        if positions[i].claim != positions[0].claim:
            ask(positions[i].claim, -1)
    for p in positions:
        if p.claim not in model.group:
            ask(p.claim, -1)
    for c in model.group:
        for o, kind, _ in model.incoming[c]:
            if o in model.group:
                if want.get(o) is None or want.get(c) is None:
                    return set()
                if (want[o] == want[c]) != (kind == "supports"):
                    return set()  # a relation inside the group against the directions: no shortcut
            elif want.get(c) is not None:
                ask(o, want[c] if kind == "supports" else -want[c])
    touched = {*model.group, *model.outside, *(c for claims in reached.values() for c in claims)}
    verdicts: dict[str, bool] = {}
    for claim in sorted(touched):
        direction = want.get(claim)
        for ev in weights.claims[claim].evidence:
            helps = direction is not None and ev.stance == ("opposes" if direction > 0 else "supports")
            verdicts[ev.source] = verdicts.get(ev.source, True) and helps
    return {source for source, ok in verdicts.items() if ok}


class _LocalModel:
    """The strengths of a dispute's claims recomputed with one source left out.

    The dispute's claims are iterated to a fixed point among themselves exactly as kb.weigh does;
    each claim outside the dispute that is related to one of them passes on what it passes in the
    full computation, recomputed from its own evidence without the left-out source (its other
    relations held as they are).
    """

    def __init__(self, kb: KnowledgeBase, weights: Weights, group: tuple[str, ...]) -> None:
        from kb import weigh

        self.weigh = weigh
        self.weights = weights
        self.rw = weights.settings.relation_weight
        self.group = group
        members = set(group)
        self.triples = {}
        self.incoming: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {c: [] for c in group}
        for c in group:
            for r in weights.claims[c].relations:
                self.incoming[c].append((r.claim, r.type, r.shared_sources))
        self.outside = {o for c in group for o, _, _ in self.incoming[c] if o not in members}
        for c in (*group, *sorted(self.outside)):
            self.triples[c] = [(e.source, e.stance, e.weight) for e in weights.claims[c].evidence]
        self._sides: dict[str, tuple[float, float]] = {}  # one_step's claims' attack and support
        self._start: dict[str, tuple[float, float]] | None = None  # the group's sides in kb.weigh
        self._ceiling: dict[str, float] = {}  # may_rise_above's claims' strengths with every item
        # each outside claim's own aggregated attack and support, held fixed
        self.held = {}
        for o in self.outside:
            self.held[o] = weigh.relation_sides(weights.claims[o].relations)

    def sources(self) -> list[str]:
        """Every source whose leaving out can move the group: on its claims or their outside neighbours."""
        claims = (*self.group, *self.outside)
        return sorted({ev.source for c in claims for ev in self.weights.claims[c].evidence})

    def one_step(self, claim: str, without: str) -> float:
        """A claim's strength with its base recomputed without a source, its related claims held."""
        w = self.weights.claims[claim]
        if all(ev.source != without for ev in w.evidence):
            return w.strength
        weigh = self.weigh
        rest = [(e.source, e.stance, e.weight) for e in w.evidence if e.source != without]
        sides = self._sides.get(claim)
        if sides is None:
            sides = self._sides[claim] = weigh.relation_sides(w.relations)
        return weigh.combine(weigh.base_score(rest), *sides)

    def may_rise_above(self, claim: str, without: str, top: float) -> bool:
        """False when :meth:`one_step` of ``claim`` without a source cannot be shown above ``top``
        (without computing it): every item of the source on the claim supports it, so leaving it out
        can only lower the claim's base and so its strength, from the claim's strength with every
        item (its base combined with its sides, as one_step combines them). A margin far above the
        rounding of these few operations keeps the answer safe."""
        w = self.weights.claims[claim]
        if any(ev.source == without and ev.stance != "supports" for ev in w.evidence):
            return True
        ceiling = self._ceiling.get(claim)
        if ceiling is None:
            sides = self._sides.get(claim)
            if sides is None:
                sides = self._sides[claim] = self.weigh.relation_sides(w.relations)
            ceiling = self._ceiling[claim] = self.weigh.combine(w.base, *sides)
        return shown(ceiling + 1e-12) > top

    def _base(self, claim: str, leave_out: set[str]) -> float:
        return self.weigh.base_score([t for t in self.triples[claim] if t[0] not in leave_out])

    def _plan(self) -> list[tuple[str, list[tuple[str, bool, int, tuple[str, ...]]]]]:
        """For each group claim its incoming relations as (origin, attack?, mode, shared), where mode
        0 is an outside claim (its value fixed per left-out source), 1 a group claim sharing sources
        (it passes on its base without them) and 2 a group claim passing on its strength."""
        if getattr(self, "_planned", None) is None:
            plan = []
            for c in self.group:
                entries = []
                for o, kind, shared in self.incoming[c]:
                    mode = 0 if o in self.outside else (1 if shared else 2)
                    entries.append((o, kind == "contradicts", mode, shared))
                plan.append((c, entries))
            self._planned = plan
            self._sources_of = {c: {t[0] for t in self.triples[c]} for c in self.triples}
            self._memo: dict[tuple[str, frozenset[str]], float] = {}
        return self._planned

    def _base_without(self, claim: str, leave_out: frozenset[str]) -> float:
        """``_base`` memoised, keyed by the left-out sources the claim actually has."""
        key = (claim, leave_out & self._sources_of[claim])
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = self._base(claim, set(key[1]))
        return value

    def rounds_input(self, without: str | None = None) -> tuple:
        """What the rounds of :meth:`strengths` start from, leaving ``without`` out: the group's
        claims' base scores, for each claim its incoming relations as (origin, attack?, fixed value
        or None, base over the edge or None), and the strengths and sides kb.weigh ended with."""
        weigh = self.weigh
        rw = self.rw
        plan = self._plan()
        gone = frozenset((without,)) if without else frozenset()
        base = {c: self._base_without(c, gone) for c in self.group}
        rows = []
        for c, entries in plan:
            row = []
            for o, attack, mode, shared in entries:
                if mode == 0:
                    va, vs = self.held[o]
                    value = weigh.combine(self._base_without(o, gone | frozenset(shared)), va, vs)
                    row.append((o, attack, rw * max(0.0, 2.0 * value - 1.0), None))
                elif mode == 1:
                    row.append((o, attack, None, self._base_without(o, gone | frozenset(shared))))
                else:
                    row.append((o, attack, None, None))
            rows.append((c, row))
        # the rounds start where kb.weigh ended, sides included: where loops of relations allow more
        # than one fixed point, rounds from anywhere else can settle on another one, and leaving no
        # source out would then change strengths
        start = self._start
        if start is None:
            start = self._start = {
                c: weigh.relation_sides(self.weights.claims[c].relations) for c in self.group
            }
        return base, rows, start

    def strengths(self, without: str | None = None) -> dict[str, float]:
        """The group's strengths without a source, one claim at a time (:func:`solve_rounds` does the
        same rounds for many such questions at once, with the same numbers)."""
        rw = self.rw
        base, rows, start = self.rounds_input(without)
        strength = {c: self.weights.claims[c].strength for c in self.group}
        # a claim whose every incoming relation comes from outside the group receives the same attack
        # and support in every round: taken once (max is exact, so the rounds see the same numbers)
        fixed: dict[str, tuple[float, float]] = {}
        moving_rows = []
        for c, row in rows:
            if all(value is not None for _, _, value, _ in row):
                att = sup = 0.0
                for _, attack, value, _ in row:
                    if attack:
                        att = max(att, value)
                    else:
                        sup = max(sup, value)
                fixed[c] = (att, sup)
            else:
                moving_rows.append((c, row))
        if not moving_rows:
            return self._settle(strength, base, fixed, start)
        va = {c: start[c][0] for c in self.group}
        vs = {c: start[c][1] for c in self.group}
        for _ in range(_LOCAL_ITERATIONS):
            new_va, new_vs = {}, {}
            for c, (att, sup) in fixed.items():
                new_va[c], new_vs[c] = att, sup
            for c, row in moving_rows:
                att = sup = 0.0
                for o, attack, value, edge in row:
                    if value is None:
                        if edge is None:
                            s = strength[o]
                        else:
                            a_, s_ = va[o], vs[o]
                            s = edge - edge * (a_ - s_) if a_ >= s_ else edge + (1.0 - edge) * (s_ - a_)
                        value = rw * max(0.0, 2.0 * s - 1.0)
                    if attack:
                        att = max(att, value)
                    else:
                        sup = max(sup, value)
                new_va[c], new_vs[c] = att, sup
            change = 0.0
            for c in self.group:
                b, a_, s_ = base[c], new_va[c], new_vs[c]
                combined = b - b * (a_ - s_) if a_ >= s_ else b + (1.0 - b) * (s_ - a_)
                updated = 0.5 * (strength[c] + combined)
                change = max(change, abs(updated - strength[c]), abs(a_ - va[c]))
                strength[c] = updated
            va, vs = new_va, new_vs
            if change < _LOCAL_TOLERANCE:
                break
        return strength

    def _settle(
        self,
        strength: dict[str, float],
        base: dict[str, float],
        fixed: dict[str, tuple[float, float]],
        start: dict[str, tuple[float, float]],
    ) -> dict[str, float]:
        """The rounds of :meth:`strengths` when no group claim depends on another: each one's combined
        value is the same every round, so a round is one average per claim (the same arithmetic, so
        the same numbers, and the same stopping round)."""
        group = self.group
        combined = {}
        first_change = 0.0
        for c in group:
            b, (a_, s_) = base[c], fixed[c]
            combined[c] = b - b * (a_ - s_) if a_ >= s_ else b + (1.0 - b) * (s_ - a_)
            # the first round moves the attack from where it started to a_
            first_change = max(first_change, abs(a_ - start[c][0]))
        for round_ in range(_LOCAL_ITERATIONS):
            change = first_change if round_ == 0 else 0.0
            for c in group:
                before = strength[c]
                updated = 0.5 * (before + combined[c])
                change = max(change, abs(updated - before))
                strength[c] = updated
            if change < _LOCAL_TOLERANCE:
                break
        return strength


class _RelationSide:
    """One side (attack or support) of every relation the rounds of :func:`solve_rounds` iterate, as
    arrays: the edges in order of the claim (node) they point to, each with the confidence it passes
    on held fixed, or taken each round from its origin's strength or from its base over the edge."""

    def __init__(self, edges: list[tuple[int, float | None, int, float | None]], rw: float) -> None:
        self.rw = rw
        self.target = np.array([e[0] for e in edges], dtype=np.int64)
        self.fixed = np.array([0.0 if e[1] is None else e[1] for e in edges])
        self.origin = np.array([e[2] for e in edges], dtype=np.int64)
        self.edge_base = np.array([0.0 if e[3] is None else e[3] for e in edges])
        self.by_strength = np.array(
            [k for k, e in enumerate(edges) if e[1] is None and e[3] is None], dtype=np.int64
        )
        self.by_edge = np.array(
            [k for k, e in enumerate(edges) if e[1] is None and e[3] is not None], dtype=np.int64
        )
        self._runs()

    def _runs(self) -> None:
        t = self.target
        self.starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]]) if len(t) else t
        self.claims = t[self.starts]
        self.strength_origin = self.origin[self.by_strength]
        self.edge_origin = self.origin[self.by_edge]
        self.edge_bases = self.edge_base[self.by_edge]

    def keep(self, kept_edges: np.ndarray, renumber: np.ndarray) -> None:
        """Only the edges ``kept_edges`` (a mask), their nodes numbered by ``renumber``."""
        position = np.cumsum(kept_edges) - 1
        self.by_strength = position[self.by_strength[kept_edges[self.by_strength]]]
        self.by_edge = position[self.by_edge[kept_edges[self.by_edge]]]
        self.target = renumber[self.target[kept_edges]]
        self.fixed = self.fixed[kept_edges]
        origin = self.origin[kept_edges]
        self.origin = np.where(origin >= 0, renumber[origin], -1)
        self.edge_base = self.edge_base[kept_edges]
        self._runs()

    def passed(self, n: int, strength: np.ndarray, va: np.ndarray, vs: np.ndarray) -> np.ndarray:
        """The strongest confidence each node receives on this side (0 where it has no such relation),
        the arithmetic of :meth:`_LocalModel.strengths`."""
        out = np.zeros(n)
        if not len(self.target):
            return out
        rw = self.rw
        values = self.fixed.copy()
        if len(self.by_strength):
            values[self.by_strength] = rw * np.maximum(0.0, 2.0 * strength[self.strength_origin] - 1.0)
        if len(self.by_edge):
            e, a_, s_ = self.edge_bases, va[self.edge_origin], vs[self.edge_origin]
            s = np.where(a_ >= s_, e - e * (a_ - s_), e + (1.0 - e) * (s_ - a_))
            values[self.by_edge] = rw * np.maximum(0.0, 2.0 * s - 1.0)
        out[self.claims] = np.maximum.reduceat(values, self.starts)
        return out


def solve_rounds(inputs: list[tuple], weights: Weights) -> list[dict[str, float]]:
    """:meth:`_LocalModel.strengths` for each of ``inputs`` (:meth:`_LocalModel.rounds_input`), all at
    once: the same rounds on arrays that hold every question's claims side by side, each question
    stopping at its own round by its own rule (then taken out of the arrays), so the same numbers.

    A robustness check asks thousands of these small questions (at 10,000 dense claims, 6,500 of
    two or three claims and about 25 rounds each); one round for all of them is a few array
    operations instead of thousands of small dictionaries."""
    if not inputs:
        return []
    rw = weights.settings.relation_weight
    base: list[float] = []
    strength: list[float] = []
    va: list[float] = []
    vs: list[float] = []
    question: list[int] = []
    attack: list[tuple] = []
    support: list[tuple] = []
    for k, (bases, rows, start) in enumerate(inputs):
        node = {c: len(base) + j for j, (c, _) in enumerate(rows)}
        for c, row in rows:
            base.append(bases[c])
            strength.append(weights.claims[c].strength)
            va.append(start[c][0])
            vs.append(start[c][1])
            question.append(k)
            for origin, attacks, value, edge in row:
                (attack if attacks else support).append((node[c], value, node.get(origin, -1), edge))
    b = np.array(base)
    s = np.array(strength)
    a = np.array(va)
    v = np.array(vs)
    of = np.array(question, dtype=np.int64)  # each node's question
    node_ids = np.arange(len(b))  # each node's place in the first arrays
    sides = (_RelationSide(attack, rw), _RelationSide(support, rw))
    final = s.copy()
    for _ in range(_LOCAL_ITERATIONS):
        n = len(b)
        a_new, v_new = (side.passed(n, s, a, v) for side in sides)
        combined = np.where(a_new >= v_new, b - b * (a_new - v_new), b + (1.0 - b) * (v_new - a_new))
        updated = 0.5 * (s + combined)
        moved = np.maximum(np.abs(updated - s), np.abs(a_new - a))
        firsts = np.flatnonzero(np.r_[True, of[1:] != of[:-1]])
        settled = np.maximum.reduceat(moved, firsts) < _LOCAL_TOLERANCE
        s, a, v = updated, a_new, v_new
        if settled.any():
            done = np.repeat(settled, np.diff(np.r_[firsts, n]))
            final[node_ids[done]] = s[done]
            if done.all():
                break
            keep = ~done
            renumber = np.cumsum(keep) - 1
            for side in sides:
                side.keep(keep[side.target], renumber)
            b, s, a, v, of, node_ids = b[keep], s[keep], a[keep], v[keep], of[keep], node_ids[keep]
    else:
        final[node_ids] = s  # questions that ran out of rounds end where they are, as strengths() does
    values = final.tolist()
    out = []
    at = 0
    for _, rows, _ in inputs:
        out.append({c: values[at + j] for j, (c, _) in enumerate(rows)})
        at += len(rows)
    return out


# --- a topic's verdict ----------------------------------------------------------------------------


def topic_verdict(
    kb: KnowledgeBase, ranked: list[ClaimWeight], counts: dict[str, int], disputes: list[Dispute]
) -> str:
    """A topic in a few sentences: its disputes with their verdicts first, then what the sources agree
    on, then advice that rests on one source."""
    parts = []
    for d in disputes:
        sides = "; ".join(
            f"{_quoted(p.label)} {shown(p.strength):.2f}" for p in d.positions[:VERDICT_POSITIONS]
        )
        if len(d.positions) > VERDICT_POSITIONS:
            sides += f"; and {len(d.positions) - VERDICT_POSITIONS} more"
        parts.append(f"Disputed: {d.question} ({sides}). {d.summary()}")
    agreed = [w for w in ranked if w.consensus == "agreed"]
    if agreed:
        listed = "; ".join(
            f"{_quoted(kb.claims[w.id].statement)} ({shown(w.strength):.2f})" for w in agreed[:3]
        )
        more = f" and {len(agreed) - 3} more" if len(agreed) > 3 else ""
        parts.append(f"The sources agree: {listed}{more}.")
    in_dispute = {p.claim for d in disputes for p in d.positions}
    single = [
        w for w in ranked
        if w.consensus == "single-source" and w.id not in in_dispute and shown(w.strength) >= SUPPORTED
    ]  # fmt: skip
    if single:
        top = single[0]
        backer = (top.sources_for or ("a voice in one source",))[0]
        cite = f"{_quoted(kb.claims[top.id].statement)} ({shown(top.strength):.2f}, {backer})"
        if len(single) == 1:
            parts.append(f"Supported on one source's word: {cite}.")
        else:
            parts.append(f"Supported on one source's word: {len(single)} claims, the strongest {cite}.")
    if not parts:
        top = ranked[0]
        parts.append(
            f"Nothing here is supported; the strongest claim is {_quoted(kb.claims[top.id].statement)}"
            f" ({shown(top.strength):.2f}, {strength_words(top.strength)})."
        )
    bottom = ranked[-1]
    if shown(bottom.strength) <= DOUBTFUL and len(ranked) > 1:
        parts.append(
            f"Least supported: {_quoted(kb.claims[bottom.id].statement)}"
            f" ({shown(bottom.strength):.2f}, {bottom.consensus})."
        )
    labels = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
    parts.append(f"{len(ranked)} claim{'s' if len(ranked) != 1 else ''}: {labels}.")
    return " ".join(parts)


# --- as data --------------------------------------------------------------------------------------


def position_to_dict(kb: KnowledgeBase, p: Position) -> dict:
    return {
        "claim": p.claim,
        "statement": p.statement,
        "answer": p.answer,
        "strength": round(p.strength, 4),
        "shown": f"{shown(p.strength):.2f}",
        "consensus": p.consensus,
        "sources_for": list(p.sources_for),
        "sources_against": list(p.sources_against),
        "voices_for": [voice_to_dict(kb, v) for v in p.voices_for],
        "voices_against": [voice_to_dict(kb, v) for v in p.voices_against],
    }


def voice_to_dict(kb: KnowledgeBase, v: Voice) -> dict:
    return {
        "source": v.source,
        "speaker": v.speaker,
        "role": v.role,
        "described": v.describe(kb.sources[v.source].title),
    }


def dispute_to_dict(kb: KnowledgeBase, d: Dispute) -> dict:
    """The contract shape: id, question, topic, positions, and the verdict
    (label, leader, margin, robust, hinges_on)."""
    leader = d.leader
    return {
        "id": d.id,
        "question": d.question,
        "named": d.named,
        "topic": d.topic,
        "kind": d.kind,
        "between_sources": d.between_sources,
        "positions": [position_to_dict(kb, p) for p in d.positions],
        "verdict": {
            "label": d.verdict.label,
            "leader": leader.claim if leader else None,
            "answer": leader.answer if leader else None,
            "margin": d.verdict.margin,
            "robust": d.verdict.robust,
            "hinges_on": list(d.verdict.hinges_on),
            "summary": d.summary(),
        },
    }


_SLUG = re.compile(r"[^a-z0-9]+")


def anchor(d: Dispute) -> str:
    """A stable HTML id for a dispute."""
    return "d-" + _SLUG.sub("-", d.id.lower()).strip("-")
