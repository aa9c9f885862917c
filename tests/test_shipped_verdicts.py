"""The shipped knowledge base's disputes and verdicts: what a careful reader of the four sources would say."""

from __future__ import annotations

import pytest

from kb.contradictions import find_contradictions
from kb.load import load_valid
from kb.weigh import compute, shown
from tests.conftest import REPO

BLOG, GUIDE, RUNNING_POST = (
    "how-to-get-smaller-legs",
    "how-to-lose-muscle-in-your-legs",
    "will-running-slim-down-my-thighs",
)
SHRINKS, BUILDS = "long-slow-running-shrinks-leg-muscle", "running-builds-lean-muscle"


@pytest.fixture(scope="module")
def shipped():
    kb = load_valid(REPO)
    return kb, compute(kb)


def test_the_running_verdict_leads_with_the_running_dispute_and_both_strengths(shipped) -> None:
    kb, weights = shipped
    verdict = weights.topics["running"].verdict
    running = next(d for d in weights.disputes if {SHRINKS, BUILDS} <= set(d.claims))
    assert weights.topics["running"].disputes[0] == running.id
    assert verdict.startswith(f"Disputed: {running.question} (")
    for claim in (SHRINKS, BUILDS):
        assert f"\u201c{kb.claims[claim].statement}\u201d {weights.claims[claim].strength:.2f}" in verdict
    assert running.summary() in verdict


def test_no_source_is_on_both_sides_of_a_clash(shipped) -> None:
    kb, weights = shipped
    for c in find_contradictions(kb, weights):
        assert not {s.source for s in c.sides_a} & {s.source for s in c.sides_b}, c
    for d in weights.disputes:
        for p in d.positions:
            assert not set(p.sources_for) & set(p.sources_against), (d.id, p.claim)


def test_a_reader_relayed_coach_is_not_the_blogs_word(shipped) -> None:
    _, weights = shipped
    fasting = weights.claims["fast-3-to-4-hours-before-running"]
    assert fasting.sources_for == ()
    assert [v.source for v in fasting.voices_for] == [BLOG]
    assert fasting.voices_for[0].describe("How To Get Smaller Legs").startswith("Rusty Moore")
    # the fasting question is the blog's author against someone he hosts: named, but not between sources
    dispute = next(d for d in weights.disputes if "fast-3-to-4-hours-before-running" in d.claims)
    assert dispute.named and not dispute.between_sources
    assert dispute.id not in {c.dispute for c in find_contradictions(*shipped)}


def test_verdicts_are_what_the_evidence_can_carry(shipped) -> None:
    """Every clash between the four sources is one author's opinion against another's: no study, no
    second source behind either side. So no verdict may be clear, and each lead hinges on the source
    behind it; the guide, the best-reputed of the four, is never on the losing side."""
    kb, weights = shipped
    between = [d for d in weights.disputes if d.between_sources]
    assert len(between) == 7
    for d in between:
        assert d.verdict.label in ("leaning", "open"), d.id
        assert not d.verdict.robust
        if d.leader is not None:
            assert set(d.leader.sources_for) <= set(d.verdict.hinges_on), d.id
            assert d.verdict.margin >= 0.05
            assert shown(d.leader.strength) > 0.5
        if d.leader is not None:
            # the guide is never on the losing side: no position it backs contradicts the leader
            rivals = [d.positions[i] for i in d.rivals[d.verdict.leader]]
            assert not any(GUIDE in p.sources_for for p in rivals), d.id
    # the question the sources fight over most: the guide's reading (steady, easy activity barely works
    # the muscle) leads, and long slow running shrinking it comes before running building it
    running = next(d for d in between if {SHRINKS, BUILDS} <= set(d.claims))
    order = [p.claim for p in running.positions]
    assert order.index(SHRINKS) < order.index(BUILDS)
    assert running.leader is not None and GUIDE in running.leader.sources_for


def test_every_strength_a_verdict_quotes_is_two_decimals(shipped) -> None:
    import re

    _, weights = shipped
    too_precise = re.compile(r"\b[01]\.\d{3,}\b")
    for d in weights.disputes:
        assert not too_precise.search(d.summary()), d.summary()
        if d.leader is not None:
            assert f"{d.leader.strength:.2f} against" in d.summary()
    for summary in weights.topics.values():
        assert not too_precise.search(summary.verdict), summary.verdict
