"""The knowledge base the project ships at its root."""

from __future__ import annotations

import pytest

from kb.cli import cli
from kb.load import load
from tests.conftest import REPO


def test_shipped_base_validates(runner) -> None:
    result = runner.invoke(cli, ["validate", "--kb", str(REPO)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "", "the shipped base must have no warnings either"


def test_every_source_has_claims_and_every_claim_has_evidence() -> None:
    kb, problems = load(REPO)
    assert kb is not None, problems
    cited = {ev.source for claim in kb.claims.values() for ev in claim.evidence}
    assert set(kb.sources) == cited
    assert len(kb.sources) == 4
    for claim in kb.claims.values():
        assert claim.evidence, f"{claim.id} has no evidence"
        assert claim.path.startswith(f"claims/{claim.topic}/"), f"{claim.id} is not in its topic folder"


def test_sources_disagree_on_every_point_the_documents_dispute() -> None:
    """The four documents clash on running, leg training, cycling, protein, intervals and how fast
    results show; each clash must be in the base as a disagreement between two sources."""
    from kb.contradictions import find_contradictions
    from kb.weigh import compute

    kb, _ = load(REPO)
    assert kb is not None
    clashes = find_contradictions(kb, compute(kb))
    disputed = {frozenset((c.claim_a, c.claim_b)) for c in clashes if c.a.source != c.b.source}
    expected = [
        ("long-slow-running-shrinks-leg-muscle", "running-builds-lean-muscle"),
        ("long-slow-running-shrinks-leg-muscle", "long-slow-running-shrinks-leg-muscle"),
        ("stop-all-direct-leg-training", "combine-running-with-strength-training"),
        ("never-ride-a-bike", "low-resistance-cycling-suits-atrophy"),
        ("protein-down-to-rda", "protein-floor-0-6-g-per-pound"),
        ("steady-pace-beats-intervals", "intervals-shape-thighs"),
        ("hiit-no-evidence-legs-look-leaner", "intervals-shape-thighs"),
        ("changes-show-after-three-weeks", "muscle-loss-shows-within-a-week"),
    ]
    for pair in expected:
        assert frozenset(pair) in disputed, pair


def test_points_of_agreement_have_quotes_from_several_sources() -> None:
    kb, _ = load(REPO)
    assert kb is not None
    agreed = {
        "fat-loss-slims-legs": 4,
        "genetics-limit-leg-shape": 2,
        "response-to-training-varies": 2,
        "be-patient-and-consistent": 3,
        "calorie-deficit-needed": 2,
        "avoid-the-pump-and-burn": 2,
        "walking-does-not-enlarge-legs": 2,
        "low-intensity-long-duration-activity-for-atrophy": 2,
        "stop-all-direct-leg-training": 2,
        "lower-protein-speeds-atrophy": 2,
    }
    for claim_id, sources in agreed.items():
        backing = {ev.source for ev in kb.claims[claim_id].evidence if ev.stance == "supports"}
        assert len(backing) >= sources, (claim_id, backing)


def test_readers_are_never_weighed_as_the_author() -> None:
    """Comments under the blog post are recorded as readers' words, with anecdote-level kinds."""
    kb, _ = load(REPO)
    assert kb is not None
    readers = [
        ev for claim in kb.claims.values() for ev in claim.evidence if (ev.speaker or "").startswith("reader")
    ]
    assert len(readers) >= 8
    assert all(ev.source == "how-to-get-smaller-legs" for ev in readers)
    assert all(ev.kind in ("testimonial", "experience", "mechanism") for ev in readers)


def test_source_texts_are_the_seed_documents_in_full() -> None:
    """The shipped texts are the four documents word for word (the seeds sit beside the repository)."""
    seeds = REPO.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"the seed documents are not at {seeds}")
    kb, _ = load(REPO)
    assert kb is not None
    assert sorted(kb.sources[s].text for s in kb.sources) == sorted(p.name for p in seeds.glob("*.txt"))
    for source in kb.sources.values():
        seed = (seeds / source.text).read_text(encoding="utf-8")
        assert kb.texts[source.id] == seed.replace("\r\n", "\n"), source.id
