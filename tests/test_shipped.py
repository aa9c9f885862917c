"""The knowledge base the project ships at its root: what it says, and the recording rules it keeps.

The rules are those of the README's "Recording rules"; each test below holds one where a test can.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from kb.cli import cli
from kb.contradictions import find_contradictions
from kb.disputes import contradiction_groups, find_disputes
from kb.load import load
from kb.model import KnowledgeBase, Span
from kb.quotes import fragments, normal_text
from kb.weigh import compute, speaker_role
from tests.conftest import REPO

BLOG = "how-to-get-smaller-legs"
GUIDE = "how-to-lose-muscle-in-your-legs"
HIIT = "does-hiit-make-legs-bigger-or-smaller"
RUNNER = "will-running-slim-down-my-thighs"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    loaded, problems = load(REPO)
    assert loaded is not None, problems
    return loaded


def authors_sources(kb: KnowledgeBase, claim_id: str, stance: str = "supports") -> set[str]:
    """The sources whose own author takes this stance on the claim (readers and relayed voices excluded)."""
    return {
        ev.source
        for ev in kb.claims[claim_id].evidence
        if ev.stance == stance and speaker_role(ev.speaker) == "author"
    }


def test_shipped_base_validates(runner) -> None:
    result = runner.invoke(cli, ["validate", "--kb", str(REPO)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "", "the shipped base must have no warnings either"


def test_every_source_has_claims_and_every_claim_has_evidence(kb: KnowledgeBase) -> None:
    cited = {ev.source for claim in kb.claims.values() for ev in claim.evidence}
    assert set(kb.sources) == cited
    assert len(kb.sources) == 4
    for claim in kb.claims.values():
        assert claim.evidence, f"{claim.id} has no evidence"
        assert claim.path.startswith(f"claims/{claim.topic}/"), f"{claim.id} is not in its topic folder"


# --- what the sources agree and disagree on ---

# Every disagreement between two sources, as the pair of claims it is about. Nothing more: a
# pair that is not here is a spurious disagreement (two claims that can both be true).
DISAGREEMENTS = {
    # running: long, easy running shrinks leg muscle (blog) or builds it (runner's post)
    ("long-slow-running-shrinks-leg-muscle", "running-builds-lean-muscle"),
    ("long-slow-running-shrinks-leg-muscle", "long-slow-running-shrinks-leg-muscle"),
    # ...and the guide: low-intensity activity taxes the aerobic system, not the muscle fibres
    ("low-intensity-activity-spares-muscle-fibres", "running-builds-lean-muscle"),
    # leg training: stop it (blog), minimize it (guide), or add strength training (runner's post)
    ("stop-all-direct-leg-training", "combine-running-with-strength-training"),
    ("minimize-low-load-leg-exercise", "combine-running-with-strength-training"),
    # cycling: never (blog) or very low resistance is fine (guide)
    ("never-ride-a-bike", "low-resistance-cycling-suits-atrophy"),
    # protein: down to the RDA (guide) or not below 0.6 g per pound (blog)
    ("protein-down-to-rda", "protein-floor-0-6-g-per-pound"),
    # intervals: the HIIT article finds their effect on leg size unsettled or unproven
    ("hiit-effect-on-leg-size-is-mixed", "intervals-build-more-muscle"),
    ("hiit-no-evidence-legs-look-leaner", "intervals-shape-thighs"),
    # an hour of running every day (blog) against no muscle fatigue (guide)
    ("run-more-until-results", "avoid-leg-muscle-fatigue"),
}


def test_sources_disagree_exactly_where_the_documents_do(kb: KnowledgeBase) -> None:
    clashes = find_contradictions(kb, compute(kb))
    found = {frozenset((c.claim_a, c.claim_b)) for c in clashes if c.a.source != c.b.source}
    assert found == {frozenset(pair) for pair in DISAGREEMENTS}


def test_no_disagreement_where_the_audit_found_none(kb: KnowledgeBase) -> None:
    """Pairs once recorded as contradicting that can both be true."""
    related = {frozenset((a, b)) for a, b, kind in kb.relations() if kind == "contradicts"}
    # intervals add muscle (blog) and shape the thighs (runner's post): the two agree on intervals
    assert frozenset(("steady-pace-beats-intervals", "intervals-shape-thighs")) not in related
    # a visible change after three weeks and a measured cross-section after one week of disuse
    assert "muscle-loss-shows-within-a-week" not in kb.claims
    assert not any("changes-show-after-three-weeks" in pair for pair in related)


# Claims that two or more sources' authors back and none opposes, with those sources.
AGREED = {
    "avoid-the-pump-and-burn": {BLOG, GUIDE},
    "be-patient-and-consistent": {BLOG, GUIDE, RUNNER},
    "changes-show-after-three-weeks": {BLOG, GUIDE},
    "combine-diet-with-exercise": {GUIDE, RUNNER},
    "fat-loss-slims-legs": {BLOG, GUIDE, HIIT, RUNNER},
    "genetics-influence-leg-size": {GUIDE, HIIT},
    "hiit-can-build-muscle": {BLOG, HIIT},
    "inactivity-loses-leg-muscle": {BLOG, GUIDE},
    "keep-moving-lightly-not-immobile": {BLOG, GUIDE},
    "low-intensity-long-duration-activity-for-atrophy": {BLOG, GUIDE},
    "lower-protein-speeds-atrophy": {BLOG, GUIDE},
    "pump-signals-muscle-growth": {BLOG, GUIDE},
    "response-to-training-varies": {BLOG, HIIT},
    "walking-does-not-enlarge-legs": {BLOG, GUIDE},
}


def test_points_of_agreement_are_exactly_these(kb: KnowledgeBase) -> None:
    agreed = {
        claim_id: authors_sources(kb, claim_id)
        for claim_id in kb.claims
        if len(authors_sources(kb, claim_id)) >= 2 and not authors_sources(kb, claim_id, "opposes")
    }
    assert agreed == AGREED
    labels = compute(kb).claims
    assert {c for c, w in labels.items() if w.consensus == "agreed"} == set(AGREED)


def test_the_three_false_agreements_are_gone(kb: KnowledgeBase) -> None:
    """Each rested on a quote that did not say what its claim says; the guide alone says them."""
    for claim_id in ("genetics-limit-leg-shape", "smaller-legs-through-muscle-atrophy"):
        assert authors_sources(kb, claim_id) == {GUIDE}, claim_id
    # the blog's "stop every exercise" and the guide's "minimize" are two claims, linked
    assert authors_sources(kb, "stop-all-direct-leg-training") == {BLOG}
    assert authors_sources(kb, "minimize-low-load-leg-exercise") == {GUIDE}
    assert "stop-all-direct-leg-training" in kb.claims["minimize-low-load-leg-exercise"].supports


def test_every_dispute_is_named_in_plain_words(kb: KnowledgeBase) -> None:
    """Each group of claims joined by ``contradicts`` has its question in kb.yaml; seven are fought
    between sources, and one (fasting before a run) between the blog's author and a coach a reader quotes."""
    named = {frozenset(spec.claims) for spec in kb.config.disputes}
    assert named == {frozenset(group) for group in contradiction_groups(kb)}
    disputes = find_disputes(kb, compute(kb))
    assert all(d.named for d in disputes)
    assert len(disputes) == len(named) == 8
    inside = [set(d.claims) for d in disputes if not d.between_sources]
    assert inside == [{"fasted-cardio-unnecessary", "fast-3-to-4-hours-before-running"}]


# --- recording rules ---


def _overlap(a: list[Span], b: list[Span]) -> bool:
    return any(x.start < y.end and y.start < x.end for x in a for y in b)


def test_no_passage_of_a_source_backs_both_ends_of_a_supports_link(kb: KnowledgeBase) -> None:
    """A claim that supports another brings other evidence; the same words counted twice are not."""
    bad = []
    for a, b, kind in kb.relations():
        if kind != "supports":
            continue
        for i, ev_a in enumerate(kb.claims[a].evidence):
            for j, ev_b in enumerate(kb.claims[b].evidence):
                if ev_a.source == ev_b.source and _overlap(kb.quote_spans[(a, i)], kb.quote_spans[(b, j)]):
                    bad.append((a, b, ev_a.quote))
    assert not bad


def test_every_quote_points_at_one_passage(kb: KnowledgeBase) -> None:
    """A quote (or each fragment of it) occurs once in its source, so its highlight is the right one."""
    ambiguous = []
    for claim in kb.claims.values():
        for ev in claim.evidence:
            text = normal_text(kb.texts[ev.source]).text
            if any(text.count(part) != 1 for part in fragments(ev.quote)):
                ambiguous.append((claim.id, ev.quote))
    assert not ambiguous


def _comment_blocks(text: str) -> list[tuple[int, int, str]]:
    """The blog's comment thread as (start, end, first line) per comment: each starts at a bullet."""
    start = text.index("Came across this page accidentally")
    bullets = [m.start() for m in re.finditer(r"^\s*\u2022", text, flags=re.MULTILINE)]
    bullets = [at for at in bullets if at >= start - 10]
    blocks = []
    for at, end in zip(bullets, [*bullets[1:], len(text)], strict=True):
        first = text[at:end].strip().lstrip("\u2022").strip().splitlines()[0]
        blocks.append((at, end, first))
    return blocks


# The reply under Angel del Rosario's comment is unsigned; it sits in the author's thread and answers
# as the author, so it is recorded as his.
UNSIGNED_AUTHOR_REPLIES = {"This will absolutely help you! Give it a try and let me know how it goes!"}


def test_every_voice_in_the_blog_is_recorded_as_whose_it_is(kb: KnowledgeBase) -> None:
    """The post is the author's; a reply is the author's, and says so; a comment is the reader's."""
    text = kb.texts[BLOG]
    blocks = _comment_blocks(text)
    comments_start = blocks[0][0]
    seen = defaultdict(int)
    for claim in kb.claims.values():
        for index, ev in enumerate(claim.evidence):
            if ev.source != BLOG:
                continue
            at = kb.quote_spans[(claim.id, index)][0].start
            where = (claim.id, ev.quote, ev.speaker)
            if at < comments_start:
                seen["post"] += 1
                assert ev.speaker in (None, "author"), where
                continue
            first = next(first for start, end, first in blocks if start <= at < end)
            if first.startswith("Josh Vales") or first in UNSIGNED_AUTHOR_REPLIES:
                seen["reply"] += 1
                assert (ev.speaker or "").startswith("author (Josh Vales), replying to "), where
            else:
                seen["comment"] += 1
                assert speaker_role(ev.speaker) == "reader", where
    assert seen["post"] >= 10 and seen["reply"] >= 10 and seen["comment"] >= 8, dict(seen)


def test_readers_weigh_as_readers_and_count_as_anecdotes(kb: KnowledgeBase) -> None:
    evidence = [ev for claim in kb.claims.values() for ev in claim.evidence]
    readers = [ev for ev in evidence if (ev.speaker or "").startswith("reader")]
    assert len(readers) >= 8
    assert all(ev.source == BLOG for ev in readers)
    assert all(speaker_role(ev.speaker) == "reader" for ev in readers)
    assert [ev.quote for ev in readers if ev.kind != "testimonial"] == []


RELAYED = re.compile(r"^[A-Z][\w.' -]+, [^,]+, relayed by reader \S.*$")


def test_relayed_experts_are_recorded_as_relayed(kb: KnowledgeBase) -> None:
    """Words a reader reports from someone else ("he said") are that person's, relayed by the reader."""
    relayed = []
    for claim in kb.claims.values():
        for ev in claim.evidence:
            reported = re.search(r"\b(he|she|they) said\b", ev.quote, flags=re.IGNORECASE)
            if reported or "relayed" in (ev.speaker or ""):
                relayed.append(ev)
                assert reported and RELAYED.match(ev.speaker or ""), (claim.id, ev.quote, ev.speaker)
                assert speaker_role(ev.speaker) == "reader", ev.speaker
                assert ev.kind == "expert-opinion", (claim.id, ev.kind)
    assert len(relayed) == 2


def test_a_statement_is_one_sentence_without_a_second_clause_tacked_on(kb: KnowledgeBase) -> None:
    """A colon or semicolon joining two clauses marked 8 of the 66 statements before the audit,
    bundles such as "Losing leg size needs a calorie deficit: calories in versus calories out
    decides the result"; a claim states one thing."""
    for claim in kb.claims.values():
        assert not re.search(r"[;:]", claim.statement), (claim.id, claim.statement)
        assert not re.search(r"[.!?] +[A-Z]", claim.statement), (claim.id, claim.statement)


def test_source_metadata_is_what_the_text_says_of_itself(kb: KnowledgeBase) -> None:
    for source in kb.sources.values():
        text = kb.texts[source.id]
        if source.author:
            assert source.author.split(",")[0] in text, source.id
        if source.published:
            assert str(source.published.year) in text, source.id
        assert source.url is None, f"{source.id}: the saved text names no address"
    assert kb.sources[BLOG].author == "Josh Vales, CPT"
    assert all(kb.sources[s].author is None for s in (GUIDE, HIIT, RUNNER))


def test_source_texts_are_the_seed_documents_in_full(kb: KnowledgeBase) -> None:
    """The shipped texts are the four documents word for word (the seeds sit beside the repository)."""
    seeds = REPO.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"the seed documents are not at {seeds}")
    assert sorted(kb.sources[s].text for s in kb.sources) == sorted(p.name for p in seeds.glob("*.txt"))
    for source in kb.sources.values():
        seed = (seeds / source.text).read_text(encoding="utf-8")
        assert kb.texts[source.id] == seed.replace("\r\n", "\n"), source.id
