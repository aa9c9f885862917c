"""The weighting model: properties that must hold for every knowledge base (hypothesis), and examples.

Knowledge bases are built in memory from the model's records, as the loader would build them
(relations obey the loader's rules: no self-relations, never supports and contradicts between
the same two claims), so that hypothesis can try many of them quickly.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kb import weigh
from kb.model import EVIDENCE_KINDS, SOURCE_KINDS, Claim, Evidence, KbConfig, KnowledgeBase, Source

TOLERANCE = 1e-6  # the fixed point is iterated to 1e-9 per step; compare with room to spare
SPEAKERS = (None, "author", "reader Sam", "a coach")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_source(sid: str, kind: str, author: bool, override: float | None) -> Source:
    return Source(
        id=sid,
        title=f"Source {sid}",
        kind=kind,
        text=f"{sid}.txt",
        author="Someone" if author else None,
        reliability=override,
        reliability_note="checked by hand" if override is not None else None,
    )


def make_kb(sources: list[Source], claims: list[Claim], weighting: dict | None = None) -> KnowledgeBase:
    return KnowledgeBase(
        root=Path("."),
        config=KbConfig(weighting=weighting or {}),
        sources={s.id: s for s in sources},
        claims={c.id: c for c in claims},
        texts={s.id: "" for s in sources},
    )


evidence_items = st.tuples(
    st.integers(min_value=0, max_value=3),  # source number (taken modulo the number of sources)
    st.sampled_from(["supports", "opposes"]),
    st.sampled_from(EVIDENCE_KINDS),
    st.sampled_from(SPEAKERS),
)


@st.composite
def knowledge_bases(draw, min_claims: int = 1, max_claims: int = 10, relations: bool = True) -> KnowledgeBase:
    n_sources = draw(st.integers(min_value=1, max_value=4))
    sources = [
        make_source(
            f"s{i}",
            draw(st.sampled_from(SOURCE_KINDS)),
            draw(st.booleans()),
            draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0))),
        )
        for i in range(n_sources)
    ]
    n_claims = draw(st.integers(min_value=min_claims, max_value=max_claims))
    ids = [f"c{i}" for i in range(n_claims)]
    kinds: dict[tuple[int, int], str] = {}
    if relations and n_claims > 1:
        pairs = [(i, j) for i in range(n_claims) for j in range(n_claims) if i != j]
        # every ordered pair may be related, so that dense graphs (hubs, cliques, mixed loops) come up
        choice = st.sampled_from([None, None, "supports", "contradicts"])
        kinds = {pair: kind for pair in pairs if (kind := draw(choice)) is not None}
        # the loader refuses supports and contradicts between the same two claims
        contradicting = {frozenset(p) for p, k in kinds.items() if k == "contradicts"}
        kinds = {p: k for p, k in kinds.items() if k == "contradicts" or frozenset(p) not in contradicting}
    claims = []
    for i, cid in enumerate(ids):
        items = draw(st.lists(evidence_items, max_size=4))
        claims.append(
            Claim(
                id=cid,
                statement=f"Claim {cid}.",
                topic=draw(st.sampled_from(["legs", "diet"])),
                evidence=[
                    Evidence(source=f"s{s % n_sources}", stance=stance, kind=kind, quote="q", speaker=speaker)
                    for s, stance, kind, speaker in items
                ],
                supports=[ids[j] for (a, j), k in sorted(kinds.items()) if a == i and k == "supports"],
                contradicts=[ids[j] for (a, j), k in sorted(kinds.items()) if a == i and k == "contradicts"],
            )
        )
    weighting = {"relation_weight": draw(st.sampled_from([0.0, 0.1, 0.25, 0.4, weigh.MAX_RELATION_WEIGHT]))}
    return make_kb(sources, claims, weighting)


def with_evidence(kb: KnowledgeBase, claim_id: str, item: Evidence) -> KnowledgeBase:
    claim = kb.claims[claim_id]
    changed = claim.model_copy(update={"evidence": [*claim.evidence, item]})
    return kb.model_copy(update={"claims": {**kb.claims, claim_id: changed}})


def strengths(kb: KnowledgeBase) -> dict[str, float]:
    return {cid: w.strength for cid, w in weigh.compute(kb).claims.items()}


def fixed_point_gap(kb: KnowledgeBase, weights: weigh.Weights) -> float:
    """How far the strengths are from satisfying the DF-QuAD equation of every claim, with each
    relation passing on what its claim's sources not shared with the target give it."""
    rw = weights.settings.relation_weight
    neighbours: dict[str, set[tuple[str, str]]] = {c: set() for c in kb.claims}
    for origin, target, kind in kb.relations():
        neighbours[target].add((origin, kind))
        if kind == "contradicts":
            neighbours[origin].add((target, "contradicts"))
    s = {c: w.strength for c, w in weights.claims.items()}
    reported = {(c, r.claim, r.type): r.passed for c, w in weights.claims.items() for r in w.relations}
    assert set(reported) == {(c, o, k) for c in kb.claims for o, k in neighbours[c]}
    sides = {}
    for cid in kb.claims:
        va = weigh.strongest([reported[(cid, o, k)] for o, k in neighbours[cid] if k == "contradicts"])
        vs = weigh.strongest([reported[(cid, o, k)] for o, k in neighbours[cid] if k == "supports"])
        sides[cid] = (va, vs)
    gap = 0.0
    for cid, w in weights.claims.items():
        gap = max(gap, abs(weigh.combine(w.base, *sides[cid]) - s[cid]))
        mine = {ev.source for ev in kb.claims[cid].evidence}
        for o, k in neighbours[cid]:
            shared = mine & {ev.source for ev in kb.claims[o].evidence}
            if shared:
                rest = [
                    (e.source, e.stance, e.weight)
                    for e in weights.claims[o].evidence
                    if e.source not in shared
                ]
                expected = weigh.passed_on(weigh.combine(weigh.base_score(rest), *sides[o]), rw)
            else:
                expected = weigh.passed_on(s[o], rw)
            gap = max(gap, abs(reported[(cid, o, k)] - expected))
    return gap


def related_sources(kb: KnowledgeBase, cid: str) -> set[str]:
    """The sources behind the claims related to ``cid`` (either way, either relation)."""
    related = {t for o, t, _ in kb.relations() if o == cid} | {o for o, t, _ in kb.relations() if t == cid}
    return {ev.source for c in related for ev in kb.claims[c].evidence}


def draw_evidence(kb: KnowledgeBase, data, stance: str) -> tuple[str, Evidence]:
    """A claim of ``kb`` and a new evidence item with ``stance`` for it, drawn by hypothesis, from a
    source that does not already reach the claim through a related claim: evidence from such a
    source replaces that route (a source counts once per claim), which the independence tests cover."""
    cid = data.draw(st.sampled_from(sorted(kb.claims)))
    fresh = sorted(set(kb.sources) - related_sources(kb, cid))
    assume(fresh)
    item = Evidence(
        source=data.draw(st.sampled_from(fresh)),
        stance=stance,
        kind=data.draw(st.sampled_from(EVIDENCE_KINDS)),
        quote="q",
        speaker=data.draw(st.sampled_from(SPEAKERS)),
    )
    return cid, item


# --- properties ---


@PROPERTY
@given(knowledge_bases())
def test_every_number_stays_in_the_unit_interval(kb) -> None:
    weights = weigh.compute(kb)
    for r in weights.reliability.values():
        assert 0.0 <= r.value <= 1.0
    for w in weights.claims.values():
        assert 0.0 <= w.base <= 1.0
        assert 0.0 <= w.strength <= 1.0
        assert 0.0 <= w.support <= 1.0 and 0.0 <= w.opposition <= 1.0
        assert all(0.0 <= e.weight <= 1.0 for e in w.evidence)
        assert w.consensus in weigh.CONSENSUS_LABELS


@PROPERTY
@given(knowledge_bases(), st.data())
def test_supporting_evidence_never_lowers_a_claims_strength(kb, data) -> None:
    cid, item = draw_evidence(kb, data, "supports")
    before, after = strengths(kb), strengths(with_evidence(kb, cid, item))
    assert after[cid] >= before[cid] - TOLERANCE


@PROPERTY
@given(knowledge_bases(), st.data())
def test_opposing_evidence_never_raises_a_claims_strength(kb, data) -> None:
    cid, item = draw_evidence(kb, data, "opposes")
    before, after = strengths(kb), strengths(with_evidence(kb, cid, item))
    assert after[cid] <= before[cid] + TOLERANCE


@PROPERTY
@given(knowledge_bases(relations=False), st.data())
def test_without_relations_strength_is_the_base_score(kb, data) -> None:
    for w in weigh.compute(kb).claims.values():
        assert w.strength == pytest.approx(w.base, abs=TOLERANCE)


@PROPERTY
@given(knowledge_bases(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_files_or_items(kb, rng) -> None:
    expected = weigh.compute(kb)
    claims = list(kb.claims.values())
    sources = list(kb.sources.values())
    rng.shuffle(claims)
    rng.shuffle(sources)
    # the order of claims and sources (the files), and of the ids inside each relation list
    claims = [
        c.model_copy(update={"supports": rng.sample(c.supports, len(c.supports)),
                             "contradicts": rng.sample(c.contradicts, len(c.contradicts))})
        for c in claims
    ]  # fmt: skip
    shuffled = weigh.compute(make_kb(sources, claims, dict(kb.config.weighting)))
    assert shuffled.claims == expected.claims
    assert shuffled.reliability == expected.reliability
    assert shuffled.topics == expected.topics
    assert list(shuffled.topics) == list(expected.topics)


@PROPERTY
@given(knowledge_bases(), st.randoms(use_true_random=False))
def test_the_order_of_evidence_inside_a_claim_does_not_change_its_strength(kb, rng) -> None:
    expected = weigh.compute(kb)
    claims = [
        c.model_copy(update={"evidence": rng.sample(c.evidence, len(c.evidence))}) for c in kb.claims.values()
    ]
    shuffled = weigh.compute(make_kb(list(kb.sources.values()), claims, dict(kb.config.weighting)))
    for cid, w in expected.claims.items():
        other = shuffled.claims[cid]
        assert (other.base, other.strength, other.consensus) == (w.base, w.strength, w.consensus)
        assert sorted(e.weight for e in other.evidence) == sorted(e.weight for e in w.evidence)


@PROPERTY
@given(knowledge_bases(min_claims=2))
def test_the_iteration_reaches_a_fixed_point(kb) -> None:
    weights = weigh.compute(kb)
    assert weights.converged
    assert fixed_point_gap(kb, weights) < TOLERANCE


@st.composite
def cycles(draw) -> KnowledgeBase:
    """A ring of claims, each related to the next (and the last to the first), with strong evidence."""
    n = draw(st.integers(min_value=2, max_value=6))
    kinds = draw(st.lists(st.sampled_from(["supports", "contradicts"]), min_size=n, max_size=n))
    if n == 2 and kinds[0] != kinds[1]:
        kinds[1] = kinds[0]  # a pair cannot both support and contradict
    sources = [make_source("s0", "study", True, None), make_source("s1", "review", False, None)]
    claims = []
    for i in range(n):
        target = f"c{(i + 1) % n}"
        stances = draw(st.lists(st.sampled_from(["supports", "opposes"]), min_size=1, max_size=2))
        claims.append(
            Claim(
                id=f"c{i}",
                statement=f"Claim {i}.",
                topic="ring",
                evidence=[
                    Evidence(source=f"s{k}", stance=stance, kind="study", quote="q")
                    for k, stance in enumerate(stances)
                ],
                supports=[target] if kinds[i] == "supports" else [],
                contradicts=[target] if kinds[i] == "contradicts" else [],
            )
        )
    rw = draw(st.sampled_from([0.25, weigh.MAX_RELATION_WEIGHT]))
    return make_kb(sources, claims, {"relation_weight": rw})


@PROPERTY
@given(cycles())
def test_cycles_of_supports_and_contradicts_converge(kb) -> None:
    weights = weigh.compute(kb)
    assert weights.converged
    assert weights.iterations < weigh.MAX_ITERATIONS
    assert fixed_point_gap(kb, weights) < TOLERANCE


# --- examples ---


def test_evidence_weight_is_reliability_times_kind_times_speaker() -> None:
    source = make_source("blog", "blog", True, None)
    claim = Claim(
        id="c",
        statement="C.",
        topic="t",
        evidence=[
            Evidence(source="blog", stance="supports", kind="study", quote="q"),
            Evidence(source="blog", stance="supports", kind="testimonial", quote="q", speaker="reader Jo"),
            Evidence(source="blog", stance="opposes", kind="mechanism", quote="q", speaker="a coach"),
        ],
    )
    weights = weigh.compute(make_kb([source], [claim]))
    reliability = weigh.DEFAULT_SOURCE_KIND["blog"] + weigh.AUTHOR_BONUS
    assert weights.reliability["blog"].value == pytest.approx(reliability)
    ws = [e.weight for e in weights.claims["c"].evidence]
    assert ws[0] == pytest.approx(reliability * 1.0 * 1.0)
    assert ws[1] == pytest.approx(reliability * weigh.DEFAULT_EVIDENCE_KIND["testimonial"] * 0.5)
    assert ws[2] == pytest.approx(reliability * weigh.DEFAULT_EVIDENCE_KIND["mechanism"] * 0.8)
    w = weights.claims["c"]
    # one source per side: its strongest item; base = 0.5 + 0.5 (S - O)
    assert w.support == pytest.approx(ws[0]) and w.opposition == pytest.approx(ws[2])
    assert w.base == pytest.approx(0.5 + 0.5 * (ws[0] - ws[2]))
    assert w.consensus == "single-source"


def test_override_replaces_the_prior_and_says_why() -> None:
    source = make_source("forum", "forum", False, 0.9)
    claim = Claim(id="c", statement="C.", topic="t", evidence=[])
    r = weigh.compute(make_kb([source], [claim])).reliability["forum"]
    assert r.value == 0.9 and r.overridden and r.prior == weigh.DEFAULT_SOURCE_KIND["forum"]
    assert "checked by hand" in r.explanation


def test_consensus_labels() -> None:
    sources = [make_source(s, "article", False, None) for s in ("a", "b")]

    def claim(cid: str, stances: list[tuple[str, str]], contradicts: list[str] | None = None) -> Claim:
        evidence = [Evidence(source=s, stance=st_, kind="study", quote="q") for s, st_ in stances]
        return Claim(id=cid, statement="C.", topic="t", evidence=evidence, contradicts=contradicts or [])

    kb = make_kb(
        sources,
        [
            claim("agreed", [("a", "supports"), ("b", "supports")]),
            claim("contested", [("a", "supports"), ("b", "opposes")]),
            claim("rejected", [("a", "opposes"), ("b", "opposes")]),
            claim("single", [("a", "supports"), ("a", "opposes")]),
            claim("empty", []),
            # contested through a contradicting claim that another source backs
            claim("x", [("a", "supports")], contradicts=["y"]),
            claim("y", [("b", "supports")]),
        ],
    )
    labels = {c: w.consensus for c, w in weigh.compute(kb).claims.items()}
    assert labels == {
        "agreed": "agreed",
        "contested": "contested",
        "rejected": "rejected",
        "single": "single-source",
        "empty": "no-evidence",
        "x": "contested",
        "y": "contested",
    }


def test_a_strong_contradicting_claim_lowers_strength_and_the_explanation_says_so() -> None:
    sources = [make_source("s", "study", True, None), make_source("t", "blog", False, None)]
    strong = Claim(
        id="strong", statement="S.", topic="t",
        evidence=[Evidence(source="s", stance="supports", kind="study", quote="q")],
    )  # fmt: skip
    weak = Claim(
        id="weak", statement="W.", topic="t", contradicts=["strong"],
        evidence=[Evidence(source="t", stance="supports", kind="experience", quote="q")],
    )  # fmt: skip
    weights = weigh.compute(make_kb(sources, [strong, weak]))
    w = weights.claims["weak"]
    assert w.strength < w.base
    effect = next(r for r in w.relations if r.claim == "strong")
    assert effect.type == "contradicts" and effect.effect < 0
    assert "strong (contradicts" in w.explanation
    # the weak claim passes on its confidence above 0.5 only, and is below it after the attack
    assert weights.claims["strong"].strength >= weights.claims["strong"].base - TOLERANCE


def test_topic_summary_orders_claims_by_strength() -> None:
    rng = random.Random(1)
    sources = [make_source(f"s{i}", kind, False, None) for i, kind in enumerate(SOURCE_KINDS)]
    claims = [
        Claim(
            id=f"c{i}", statement=f"C{i}.", topic="t",
            evidence=[Evidence(source=rng.choice(sources).id, stance=rng.choice(["supports", "opposes"]),
                               kind=rng.choice(EVIDENCE_KINDS), quote="q")],
        )
        for i in range(8)
    ]  # fmt: skip
    weights = weigh.compute(make_kb(sources, claims))
    summary = weights.topics["t"]
    ordered = [weights.claims[c].strength for c in summary.claims]
    assert ordered == sorted(ordered, reverse=True)
    assert sum(summary.consensus_counts.values()) == 8
    top, bottom = weights.claims[summary.claims[0]], weights.claims[summary.claims[-1]]
    if weigh.shown(top.strength) >= weigh.SUPPORTED:
        assert f"\u201cC{top.id[1:]}.\u201d ({top.strength:.2f}, {top.sources_for[0]})" in summary.verdict
    if weigh.shown(bottom.strength) <= weigh.DOUBTFUL:
        assert f"Least supported: \u201cC{bottom.id[1:]}.\u201d" in summary.verdict
    assert summary.verdict.endswith(f"8 claims: {summary.consensus_counts['single-source']} single-source.")


@pytest.mark.parametrize(
    ("stance", "kind", "opening"),
    [
        ("supports", "study", "Supported on one source's word: "),
        ("supports", "testimonial", "Nothing here is supported; the strongest claim is "),
        ("opposes", "study", "Nothing here is supported; the strongest claim is "),
    ],
)
def test_the_verdict_says_whether_anything_is_supported(stance: str, kind: str, opening: str) -> None:
    source = make_source("s", "study", False, None)
    evidence = [Evidence(source="s", stance=stance, kind=kind, quote="q")]
    claim = Claim(id="c", statement="C.", topic="t", evidence=evidence)
    verdict = weigh.compute(make_kb([source], [claim])).topics["t"].verdict
    assert verdict.startswith(opening + "\u201cC.\u201d")
    assert verdict.endswith(" 1 claim: 1 single-source.")


def clique_with_a_pusher(pusher_evidence: list[Evidence]) -> KnowledgeBase:
    """Four claims with no evidence that all support each other; one of them contradicts ``x``,
    and ``x`` supports another: the shape in which summed support lifts a group by itself."""
    members = [f"k{i}" for i in range(4)]
    claims = [
        Claim(
            id=m, statement="K.", topic="t", evidence=[], supports=[o for o in members if o != m],
            contradicts=["x"] if m == "k1" else [],
        )
        for m in members
    ]  # fmt: skip
    opinions = [
        Evidence(source="blog", stance="supports", kind="expert-opinion", quote="q"),
        Evidence(source="blog", stance="opposes", kind="expert-opinion", quote="q"),
    ]
    x = Claim(id="x", statement="X.", topic="t", evidence=opinions + pusher_evidence, supports=["k0"])
    claims.append(x)
    sources = [make_source("blog", "blog", False, None), make_source("trial", "study", False, None)]
    return make_kb(sources, claims)


def test_claims_that_support_each_other_do_not_lift_themselves() -> None:
    before = weigh.compute(clique_with_a_pusher([]))
    push = [Evidence(source="trial", stance="supports", kind="testimonial", quote="q")]
    after = weigh.compute(clique_with_a_pusher(push))
    assert after.claims["x"].base > before.claims["x"].base
    assert after.claims["x"].strength >= before.claims["x"].strength
    # the members have no evidence: they stay near neutral instead of lifting each other towards 1
    assert all(after.claims[m].strength < 0.6 for m in ("k0", "k1", "k2", "k3"))


def test_relation_weight_above_the_limit_is_refused() -> None:
    settings, problems = weigh.settings_from_config({"relation_weight": 0.75})
    assert settings.relation_weight == weigh.RELATION_WEIGHT
    assert [p.message for p in problems] == [
        "weighting.relation_weight: must be a number in [0, 0.5]"
        " (above 0.5 a loop of relations can lift itself)"
    ]
    _, problems = weigh.settings_from_config({"relation_weight": 0.5, "author_bonus": 0.2})
    assert problems == []


def test_kb_validate_reports_bad_weighting_settings_where_they_are(runner, tmp_path) -> None:
    import json
    import shutil

    from kb.cli import cli
    from tests.conftest import FIXTURES

    base = tmp_path / "kb"
    shutil.copytree(FIXTURES / "valid", base)
    with (base / "kb.yaml").open("a") as handle:
        handle.write("weighting:\n  speaker: {reader: 0.4, editor: 0.9}\n  relation_weight: 0.8\n")
    result = runner.invoke(cli, ["validate", "--kb", str(base)])
    assert result.exit_code == 1
    assert "kb.yaml:5:26: weighting.speaker: unknown name 'editor'" in result.stderr
    assert "kb.yaml:6:3: weighting.relation_weight: must be a number in [0, 0.5]" in result.stderr

    # valid settings are used: a reader's quote weighs what kb.yaml says
    (base / "kb.yaml").write_text("title: T\nweighting:\n  speaker: {author: 0.9}\n  author_bonus: 0\n")
    result = runner.invoke(cli, ["export", "--kb", str(base)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["meta"]["weighting"]["settings"]["speaker"]["author"] == 0.9
    blog = next(s for s in data["sources"] if s["id"] == "blog-a")
    quote = next(c for c in data["claims"] if c["id"] == "less-protein")["evidence"][0]
    assert blog["reliability"] == weigh.DEFAULT_SOURCE_KIND["blog"]  # no author bonus
    expected = blog["reliability"] * weigh.DEFAULT_EVIDENCE_KIND["expert-opinion"] * 0.9
    assert quote["weight"] == round(expected, 4)


# --- independence: a source counts once per claim ---


@PROPERTY
@given(knowledge_bases(), st.data())
def test_a_supporting_claim_on_a_source_already_counted_adds_nothing(kb, data) -> None:
    """B's strength is the same with and without A when A's only evidence is a source B already has."""
    backed = [c for c in kb.claims.values() if c.evidence]
    assume(backed)
    target = data.draw(st.sampled_from(sorted(c.id for c in backed)))
    source = data.draw(st.sampled_from(sorted({ev.source for ev in kb.claims[target].evidence})))
    a = Claim(
        id="zz-a", statement="A.", topic="legs", supports=[target],
        evidence=[Evidence(source=source, stance="supports", kind=data.draw(st.sampled_from(EVIDENCE_KINDS)),
                           quote="q", speaker=data.draw(st.sampled_from(SPEAKERS)))],
    )  # fmt: skip
    with_a = make_kb(list(kb.sources.values()), [*kb.claims.values(), a], kb.config.weighting)
    before, after = strengths(kb), strengths(with_a)
    assert after[target] == pytest.approx(before[target], abs=TOLERANCE)


def test_one_guide_sentence_behind_two_linked_claims_counts_once() -> None:
    guide = make_source("guide", "guide", False, None)
    same = Evidence(source="guide", stance="supports", kind="expert-opinion", quote="q")
    loss = Claim(id="loss", statement="L.", topic="t", evidence=[same], supports=["inactive"])
    inactive = Claim(id="inactive", statement="I.", topic="t", evidence=[same])
    weights = weigh.compute(make_kb([guide], [loss, inactive]))
    alone = weigh.compute(make_kb([guide], [inactive.model_copy(update={"supports": []})]))
    assert weights.claims["inactive"].strength == pytest.approx(alone.claims["inactive"].strength)
    assert weights.claims["inactive"].consensus == "single-source"
    relation = next(r for r in weights.claims["inactive"].relations if r.claim == "loss")
    assert relation.shared_sources == ("guide",) and relation.passed == 0.0
    assert "already counted here" in weights.claims["inactive"].explanation


# --- voices: a source's position is its author's ---


def test_a_reader_who_disagrees_with_the_author_does_not_put_the_source_on_both_sides() -> None:
    blog = make_source("blog", "blog", True, None)
    post = make_source("post", "blog", False, None)
    claim = Claim(
        id="runs", statement="R.", topic="t",
        evidence=[
            Evidence(source="blog", stance="opposes", kind="expert-opinion", quote="q", speaker="author"),
            Evidence(source="blog", stance="supports", kind="testimonial", quote="q", speaker="reader Molly"),
            Evidence(source="post", stance="opposes", kind="expert-opinion", quote="q"),
        ],
    )  # fmt: skip
    w = weigh.compute(make_kb([blog, post], [claim])).claims["runs"]
    assert w.sources_for == () and w.sources_against == ("blog", "post")
    assert w.consensus == "rejected"  # two authors against, the reader is nobody's side
    assert [(v.source, v.role) for v in w.voices_for] == [("blog", "reader")]
    assert w.voices_for[0].describe("The Blog") == "a reader of The Blog"
    # the reader still weighs, at the reader discount
    assert w.support > 0


def test_two_readers_of_two_sources_never_make_the_sources_agree() -> None:
    a, b = make_source("a", "blog", False, None), make_source("b", "blog", False, None)
    claim = Claim(
        id="c", statement="C.", topic="t",
        evidence=[
            Evidence(source="a", stance="supports", kind="testimonial", quote="q", speaker="reader Ann"),
            Evidence(source="b", stance="supports", kind="testimonial", quote="q", speaker="reader Bo"),
        ],
    )  # fmt: skip
    w = weigh.compute(make_kb([a, b], [claim])).claims["c"]
    assert w.consensus == "single-source" and w.sources_for == ()


@pytest.mark.parametrize(
    ("speaker", "role"),
    [
        (None, "author"),
        ("author (Josh Vales), replying to reader Valerie", "author"),
        ("reader Molly", "reader"),
        ("Rusty Moore, fitness coach, relayed by reader Sandra", "reader"),
        ("Rusty Moore, relayed by a reader", "reader"),
        ("a coach", "other"),
    ],
)
def test_speaker_roles(speaker: str | None, role: str) -> None:
    assert weigh.speaker_role(speaker) == role
    assert weigh.is_author(speaker) == (role == "author")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0.5998, "supported"),
        (0.6, "supported"),
        (0.5949, "undecided"),
        (0.4051, "undecided"),
        (0.4049, "doubtful"),
    ],
)
def test_words_are_read_off_the_strength_as_shown(value: float, words: str) -> None:
    assert weigh.strength_words(value) == words


def test_propagation_converges_on_a_loop_of_support_and_contradiction() -> None:
    def claim(cid: str, evidence: list[Evidence], supports=(), contradicts=()) -> Claim:
        return Claim(
            id=cid, statement=f"Claim {cid}.", topic="legs", evidence=evidence,
            supports=list(supports), contradicts=list(contradicts),
        )  # fmt: skip

    def item(source: str, stance: str, kind: str, speaker: str | None = None) -> Evidence:
        return Evidence(source=source, stance=stance, kind=kind, quote="q", speaker=speaker)

    sources = [make_source(f"s{i}", "study", False, None) for i in range(2)]
    claims = [
        claim("c0", [item("s0", "supports", "study")], supports=["c6"], contradicts=["c3"]),
        claim("c1", [item("s0", "supports", "study", "reader Sam")], supports=["c3"]),
        claim("c3", [item("s1", "supports", "study"), item("s1", "opposes", "experience")]),
        claim("c6", [], contradicts=["c1"]),
    ]
    weights = weigh.compute(make_kb(sources, claims, {"relation_weight": 0.5}))
    assert weights.converged


_ITEM = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["supports", "opposes"]),
    st.one_of(st.sampled_from([0.0, 1.0, 0.14]), st.floats(0.0, 1.0)),
)


@given(st.lists(_ITEM, max_size=6))
def test_side_scores_is_noisy_or_of_each_sources_strongest_item(items: list[tuple[str, str, float]]) -> None:
    """The hand-written side scores are the model's definition, bit for bit."""
    best: dict[tuple[str, str], float] = {}
    for source, stance, weight in items:
        best[(source, stance)] = max(best.get((source, stance), 0.0), weight)
    expected = tuple(
        weigh.noisy_or([w for (_, s), w in best.items() if s == side]) for side in ("supports", "opposes")
    )
    assert weigh.side_scores(items) == expected
    assert weigh.side_scores(tuple(items)) == expected


def test_relation_effects_are_the_strength_without_each_relation_to_the_bit() -> None:
    # a claim's effect of each relation: its strength minus its strength without that one relation
    # (the others held), worked out here one relation at a time; values drawn from a few so that
    # ties between relations are common
    rng = random.Random(7)
    for _ in range(400):
        cid = "c"
        sup_ids = sorted(rng.sample([f"s{i}" for i in range(6)], rng.randint(0, 4)))
        att_ids = sorted(rng.sample([f"a{i}" for i in range(6)], rng.randint(0, 4)))
        pool = [0.0, 0.1, 0.25, 0.25, 0.4, rng.random() * 0.5]
        passed = {(cid, b, "supports"): rng.choice(pool) for b in sup_ids}
        passed |= {(cid, b, "contradicts"): rng.choice(pool) for b in att_ids}
        shared = {(b, cid): ("src",) for b in sup_ids + att_ids if rng.random() < 0.3}
        base = rng.choice([0.0, 0.5, 1.0, rng.random()])
        effects = weigh._relation_effects(cid, base, passed, {cid: sup_ids}, {cid: att_ids}, shared)

        def strength(sup: list[str], att: list[str], base=base, passed=passed) -> float:
            return weigh.combine(
                base,
                max((passed[("c", b, "contradicts")] for b in att), default=0.0),
                max((passed[("c", b, "supports")] for b in sup), default=0.0),
            )

        full = strength(sup_ids, att_ids)
        expected = [
            weigh.RelationEffect(
                b, "supports", passed[(cid, b, "supports")],
                full - strength([x for x in sup_ids if x != b], att_ids), shared.get((b, cid), ()),
            )
            for b in sup_ids
        ] + [
            weigh.RelationEffect(
                b, "contradicts", passed[(cid, b, "contradicts")],
                full - strength(sup_ids, [x for x in att_ids if x != b]), shared.get((b, cid), ()),
            )
            for b in att_ids
        ]  # fmt: skip
        assert list(effects) == expected
        assert [e.effect.hex() for e in effects] == [e.effect.hex() for e in expected]
