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
    return {
        (c.kind, c.claim_a, c.claim_b, tuple(x.source for x in c.sides_a), tuple(x.source for x in c.sides_b))
        for c in found
    }


def test_one_item_per_clash_with_every_source_on_each_side(weighed) -> None:
    kb, weights = weighed
    found = contradictions.find_contradictions(kb, weights)
    assert summary(found) == {
        # the backers of "shrinks" (alpha's study, gamma) against the backers of "builds" (delta, beta),
        # strongest first; beta's reader opposes "shrinks" but is not beta's author: beta is on one side
        ("contradicting-claims", SHRINKS, BUILDS, ("alpha", "gamma"), ("delta", "beta")),
        # delta's author supports and opposes "cycling builds" (a source at odds with itself), beta opposes it
        ("opposed", "cycling-builds-legs", "cycling-builds-legs", ("delta",), ("delta", "beta")),
    }
    # not disagreements: alpha opposing "cycling slims" while delta backs the claim it contradicts
    # (both say it is false), and "eating less" supporting "shrinks"
    assert not any("cycling-slims-legs" in (c.claim_a, c.claim_b) for c in found)
    assert not any("eating-less-shrinks-legs" in (c.claim_a, c.claim_b) for c in found)


def test_each_item_carries_its_dispute_strengths_and_better_side(weighed) -> None:
    kb, weights = weighed
    found = {c.claim_a: c for c in contradictions.find_contradictions(kb, weights)}
    running = found[SHRINKS]
    assert running.dispute == "running-builds-legs-vs-running-shrinks-legs"
    assert running.strength_a == weights.claims[SHRINKS].strength
    assert running.strength_b == weights.claims[BUILDS].strength
    assert running.better_supported == "a"
    cycling = found["cycling-builds-legs"]
    assert cycling.strength_a + cycling.strength_b == pytest.approx(1.0)
    assert cycling.better_supported == "b"  # "no" is ahead: 0.56 against 0.44


def test_sides_hold_the_authors_strongest_items(weighed) -> None:
    kb, weights = weighed
    for c in contradictions.find_contradictions(kb, weights):
        if c.kind == "opposed":
            assert c.claim_a == c.claim_b
            assert {x.stance for x in c.sides_a} == {"supports"} and {x.stance for x in c.sides_b} == {
                "opposes"
            }
        else:
            assert c.claim_a != c.claim_b
            assert {x.stance for x in (*c.sides_a, *c.sides_b)} == {"supports"}
        for sides in (c.sides_a, c.sides_b):
            assert [x.weight for x in sides] == sorted((x.weight for x in sides), reverse=True)
            for side in sides:
                ev = kb.claims[side.claim].evidence[side.index]
                assert (ev.source, ev.stance, ev.quote) == (side.source, side.stance, side.quote)
                assert weights.claims[side.claim].evidence[side.index].speaker_role == "author"
    # alpha has two items for "shrinks": an opinion first, then its study, which weighs more
    running = next(c for c in contradictions.find_contradictions(kb, weights) if c.claim_a == SHRINKS)
    assert running.a.source == "alpha" and running.a.kind == "study" and running.a.index == 1


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
    assert len(gamma) == 1
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
    # the diagonal: claims each source's author takes a stance on (beta's reader on "shrinks" is not beta)
    assert [matrix.agree.at[s, s] for s in ids] == [3, 2, 2, 2]
    assert [matrix.disagree.at[s, s] for s in ids] == [0, 0, 0, 0]
    # disagreements: one per item in which the two are on opposite sides
    found = contradictions.find_contradictions(kb, weights)
    for a in ids:
        for b in ids:
            if a != b:
                assert matrix.disagree.at[a, b] == sum(
                    1 for c in found if (min(a, b), max(a, b)) in c.pairs()
                )
    assert matrix.disagree.at["alpha", "beta"] == 1
    assert matrix.disagree.at["beta", "delta"] == 1
    pairs = matrix.pairs()
    assert list(pairs.columns) == ["source_a", "source_b", "agree", "disagree"]
    assert len(pairs) == 6


def test_cli_text_shows_both_quotes_side_by_side(runner) -> None:
    result = runner.invoke(cli, ["contradictions", "--kb", str(BASE)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("2 disputes between sources (2 clashes)")
    assert (
        "2. Which is right: that steady running builds the legs, or that steady running shrinks the legs?"
        in out
    )
    line = next(x for x in out.splitlines() if "A: running-shrinks-legs" in x)
    assert (
        "B: running-builds-legs (0.42, contested)" in line.split("|")[1]
    )  # the other side, on the same line
    assert "Alpha Trial (alpha): study" in out and "Gamma Forum (gamma)" in out
    assert "better supported: A (margin 0.49)" in out
    assert "Agreement between sources" in out


def test_cli_json_has_stable_keys(runner) -> None:
    result = runner.invoke(cli, ["contradictions", "--kb", str(BASE), "--json", "--source", "delta"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"source", "contradictions", "disputes", "agreement"}
    assert data["source"] == "delta"
    assert len(data["contradictions"]) == 2
    first = data["contradictions"][0]
    assert {
        "kind",
        "claim_a",
        "claim_b",
        "a",
        "b",
        "dispute",
        "strength_a",
        "strength_b",
        "better_supported",
    } <= set(first)
    assert first["dispute"] in {d["id"] for d in data["disputes"]}
    assert set(first["a"]) == {
        "source", "title", "claim", "statement", "stance", "kind", "quote", "speaker", "weight", "index"
    }  # fmt: skip
    assert data["agreement"]["sources"] == ["alpha", "beta", "delta", "gamma"]
    assert data["agreement"]["disagree"]["alpha"]["beta"] == 1
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
    text = contradictions.render_text(kb, found, contradictions.agreement_matrix(kb, weights, found), weights)
    assert "\x1b" not in text and "\x07" not in text
    assert "Beta\\x1b[2J\\x07 Blog" in text


def test_agreement_table_is_laid_out_as_pandas_laid_it_out() -> None:
    """kb contradictions prints the agreement pairs without pandas, in the layout it had with it."""
    import pandas as pd

    from kb.contradictions import pair_table

    rng = random.Random(7)
    for size in (1, 2, 5, 40):
        rows = []
        for _ in range(size):
            a = "s" + "x" * rng.randint(0, 14)
            b = "source-" + str(rng.randint(0, 10 ** rng.randint(0, 6)))
            rows.append((a, b, rng.choice([0, 1, 7, 12345, 10 ** rng.randint(0, 8)]), rng.randint(0, 999)))
        table = pd.DataFrame(rows, columns=["source_a", "source_b", "agree", "disagree"])
        table = table.rename(columns={"source_a": "source A", "source_b": "source B"})
        assert pair_table(rows) == table.to_string(index=False).splitlines()


def test_wrapping_is_textwraps() -> None:
    """Columns are wrapped as textwrap wraps them (kb takes a shorter way for plain sentences)."""
    import textwrap

    from kb.contradictions import _wrap, printable

    rng = random.Random(3)
    pieces = [
        "a",
        "word",
        "longer-word",
        "x" * 30,
        "\u00e9t\u00e9",
        " ",
        "  ",
        "\t",
        "\n",
        "\u2003",
        "-",
        ".",
    ]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", " "]) for _ in range(rng.randint(0, 25)))
        for width in (1, 5, 12, 47, 97):
            expected = textwrap.wrap(
                printable(text), width=width, break_long_words=True, break_on_hyphens=False
            )
            assert _wrap(text, width) == (expected or [""]), (text, width)
