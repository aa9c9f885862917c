"""Disagreements between sources and the agreement matrix, on a fixture built to hold every case."""

from __future__ import annotations

import json
import random

import pytest

from kb import contradictions
from kb.cli import cli
from kb.load import load_valid
from kb.weigh import compute
from tests.conftest import FIXTURES

BASE = FIXTURES / "contradictions"
SHRINKS, BUILDS = "running-shrinks-legs", "running-builds-legs"


@pytest.fixture(scope="module")
def weighed():
    kb = load_valid(BASE)
    return kb, compute(kb)


def summary(found: list[contradictions.Contradiction]) -> set[tuple]:
    return {(c.kind, c.a.source, c.b.source, frozenset((c.claim_a, c.claim_b))) for c in found}


def test_every_cross_source_disagreement_and_nothing_else(weighed) -> None:
    kb, weights = weighed
    found = contradictions.find_contradictions(kb, weights)
    pair = frozenset((SHRINKS, BUILDS))
    assert summary(found) == {
        # alpha and gamma back "shrinks", beta opposes it
        ("opposed", "alpha", "beta", frozenset({SHRINKS})),
        ("opposed", "beta", "gamma", frozenset({SHRINKS})),
        # beta opposes "cycling builds", delta supports it (delta also opposes it: not a clash with itself)
        ("opposed", "beta", "delta", frozenset({"cycling-builds-legs"})),
        # backers of "shrinks" (alpha, gamma) against backers of "builds" (beta, delta)
        ("contradicting-claims", "alpha", "beta", pair),
        ("contradicting-claims", "alpha", "delta", pair),
        ("contradicting-claims", "beta", "gamma", pair),
        ("contradicting-claims", "delta", "gamma", pair),
    }
    # not disagreements: alpha opposing "cycling slims" while delta backs the claim it contradicts
    # (both say it is false), beta and alpha opposing the two contradicting cycling claims, and
    # "eating less" supporting "shrinks"
    assert not any("cycling-slims-legs" in (c.claim_a, c.claim_b) for c in found)
    assert not any("eating-less-shrinks-legs" in (c.claim_a, c.claim_b) for c in found)


def test_sides_are_ordered_and_match_their_kind(weighed) -> None:
    kb, weights = weighed
    for c in contradictions.find_contradictions(kb, weights):
        assert c.a.source < c.b.source
        assert (c.claim_a, c.claim_b) == (c.a.claim, c.b.claim)
        if c.kind == "opposed":
            assert c.claim_a == c.claim_b
            assert {c.a.stance, c.b.stance} == {"supports", "opposes"}
        else:
            assert c.claim_a != c.claim_b
            assert c.a.stance == c.b.stance == "supports"
        for side in (c.a, c.b):
            ev = kb.claims[side.claim].evidence[side.index]
            assert (ev.source, ev.stance, ev.quote) == (side.source, side.stance, side.quote)
            assert side.weight == weights.claims[side.claim].evidence[side.index].weight


def test_a_side_is_the_sources_strongest_item(weighed) -> None:
    kb, weights = weighed
    found = contradictions.find_contradictions(kb, weights)
    alpha_side = next(c.a for c in found if c.kind == "opposed" and c.sources == ("alpha", "beta"))
    # alpha has two items for "shrinks": an opinion first, then its study; the study weighs more
    items = [ew for ew in weights.claims[SHRINKS].evidence if ew.source == "alpha"]
    assert [i.index for i in items] == [0, 1] and items[1].weight > items[0].weight
    assert alpha_side.index == 1
    assert alpha_side.kind == "study"


def test_the_list_is_sorted_and_one_per_source_pair_and_claim_pair(weighed) -> None:
    kb, weights = weighed
    found = contradictions.find_contradictions(kb, weights)
    keys = [(*sorted((c.claim_a, c.claim_b)), c.a.source, c.b.source) for c in found]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_result_does_not_depend_on_the_order_of_claims_or_sources(weighed) -> None:
    kb, weights = weighed
    expected = contradictions.find_contradictions(kb, weights)
    rng = random.Random(4)
    for _ in range(5):
        claims, sources = list(kb.claims.items()), list(kb.sources.items())
        rng.shuffle(claims)
        rng.shuffle(sources)
        shuffled = kb.model_copy(update={"claims": dict(claims), "sources": dict(sources)})
        assert contradictions.find_contradictions(shuffled, compute(shuffled)) == expected


def test_filter_by_source(weighed) -> None:
    kb, weights = weighed
    every = contradictions.find_contradictions(kb, weights)
    gamma = contradictions.find_contradictions(kb, weights, source="gamma")
    assert gamma == [c for c in every if "gamma" in c.sources]
    assert len(gamma) == 3
    with pytest.raises(ValueError, match="known sources: alpha, beta, delta, gamma"):
        contradictions.find_contradictions(kb, weights, source="nope")


def test_agreement_matrix(weighed) -> None:
    kb, weights = weighed
    matrix = contradictions.agreement_matrix(kb, weights)
    ids = ["alpha", "beta", "delta", "gamma"]
    for frame in (matrix.agree, matrix.disagree):
        assert list(frame.index) == ids and list(frame.columns) == ids
        assert (frame.values == frame.values.T).all()
    # alpha and gamma both back "shrinks" and both oppose "eating less"; beta and delta both back
    # "builds" and both oppose "cycling builds"
    assert matrix.agree.at["alpha", "gamma"] == 2
    assert matrix.agree.at["beta", "delta"] == 2
    assert matrix.agree.at["alpha", "beta"] == 0
    # the diagonal: claims each source takes a stance on
    assert [matrix.agree.at[s, s] for s in ids] == [3, 3, 2, 2]
    assert [matrix.disagree.at[s, s] for s in ids] == [0, 0, 0, 0]
    # disagreements: one per contradiction between the two
    found = contradictions.find_contradictions(kb, weights)
    for a in ids:
        for b in ids:
            if a != b:
                assert matrix.disagree.at[a, b] == sum(1 for c in found if set(c.sources) == {a, b})
    assert matrix.disagree.at["alpha", "beta"] == 2
    pairs = matrix.pairs()
    assert list(pairs.columns) == ["source_a", "source_b", "agree", "disagree"]
    assert len(pairs) == 6


def test_cli_text_shows_both_quotes_side_by_side(runner) -> None:
    result = runner.invoke(cli, ["contradictions", "--kb", str(BASE)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("7 disagreements between sources: 3 on the same claim, 4 between contradicting")
    line = next(x for x in out.splitlines() if "Cycling will not build big legs." in x)
    assert "Cycling builds the legs." in line.split("|")[1]  # the other side's quote, on the same line
    assert "Alpha Trial (alpha)" in out and "speaker: reader" in out
    assert "Agreement between sources" in out


def test_cli_json_has_stable_keys(runner) -> None:
    result = runner.invoke(cli, ["contradictions", "--kb", str(BASE), "--json", "--source", "delta"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"source", "contradictions", "agreement"}
    assert data["source"] == "delta"
    assert len(data["contradictions"]) == 3
    first = data["contradictions"][0]
    assert set(first) == {"kind", "claim_a", "claim_b", "a", "b"}
    assert set(first["a"]) == {
        "source", "title", "claim", "statement", "stance", "kind", "quote", "speaker", "weight", "index"
    }  # fmt: skip
    assert data["agreement"]["sources"] == ["alpha", "beta", "delta", "gamma"]
    assert data["agreement"]["disagree"]["alpha"]["beta"] == 2
    # the same output twice
    again = runner.invoke(cli, ["contradictions", "--kb", str(BASE), "--json", "--source", "delta"])
    assert again.stdout == result.stdout


def test_cli_unknown_source_is_a_usage_error_naming_the_known_ones(runner) -> None:
    result = runner.invoke(cli, ["contradictions", "--kb", str(BASE), "--source", "omega"])
    assert result.exit_code == 2
    assert "'omega'" in result.stderr and "alpha, beta, delta, gamma" in result.stderr
    assert "Traceback" not in result.output


def test_terminal_text_shows_control_characters_instead_of_obeying_them(weighed) -> None:
    kb, weights = weighed
    hostile = kb.sources["beta"].model_copy(update={"title": "Beta\x1b[2J\x07 Blog"})
    kb = kb.model_copy(update={"sources": {**kb.sources, "beta": hostile}})
    found = contradictions.find_contradictions(kb, weights)
    text = contradictions.render_text(kb, found, contradictions.agreement_matrix(kb, weights, found))
    assert "\x1b" not in text and "\x07" not in text
    assert "Beta\\x1b[2J\\x07 Blog" in text
