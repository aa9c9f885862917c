"""kb search: stemming, irregular forms, synonyms from kb.yaml, hostile queries, typos, the cache, the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from kb import search
from kb.cli import cli
from kb.errors import UsageError
from kb.load import load_valid
from kb.weigh import compute
from tests.conftest import FIXTURES, REPO, check_golden

SEARCH = FIXTURES / "search"
GOLDEN = SEARCH / "golden"


def build(root: Path) -> search.SearchIndex:
    kb = load_valid(root)
    return search.build_index(kb, compute(kb))


@pytest.fixture(scope="module")
def index():
    with build(SEARCH) as built:
        yield built


def ids(index: search.SearchIndex, query: str, **options) -> list[str]:
    return [hit.id for hit in search.query_index(index, query, **options).hits]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A writable copy of the search fixture."""
    root = tmp_path / "kb"
    shutil.copytree(SEARCH, root, ignore=shutil.ignore_patterns(".kb-cache", "golden"))
    return root


# --- matching ---


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("slimming", "jogging-slims-thighs"),
        ("toning", "walking-tones-legs"),
        ("building", "hiit-builds-leg-muscle"),
        ("breakfasts", "fasted-training-no-extra-fat-loss"),
    ],
)
def test_porter_stemming_joins_word_forms(index, query, expected) -> None:
    assert ids(index, query)[0] == expected


@pytest.mark.parametrize("query", ["run", "runs", "running", "ran"])
def test_runs_running_and_ran_meet(index, query) -> None:
    # the claim says "Marathon training" and its quote "I ran a marathon"
    assert "marathon-shrinks-calves" in ids(index, query)


@pytest.mark.parametrize(
    ("query", "expected"), [("shrank", "marathon-shrinks-calves"), ("ate", "protein-keeps-muscle")]
)
def test_irregular_forms_meet_their_base(index, query, expected) -> None:
    assert ids(index, query)[0] == expected


def test_synonyms_come_from_kb_yaml(base) -> None:
    with build(base) as with_synonyms:
        found = ids(with_synonyms, "thighs")
        assert "jogging-slims-thighs" in ids(with_synonyms, "running")
    # "legs", "quads" and "calves" are in the same group of the fixture's kb.yaml
    assert {"walking-tones-legs", "heavy-squats-grow-quads", "marathon-shrinks-calves"} <= set(found)
    (base / "kb.yaml").write_text("title: Search test base, no synonyms\n", encoding="utf-8")
    with build(base) as without:
        assert ids(without, "thighs") == ["jogging-slims-thighs"]
        assert ids(without, "running") == ["marathon-shrinks-calves"]


def test_synonym_of_several_words_is_a_phrase(index) -> None:
    # kb.yaml: [hiit, high intensity interval training]
    assert set(ids(index, "hiit")) == {"intervals-make-legs-leaner", "hiit-builds-leg-muscle"}
    result = search.query_index(index, "high intensity interval training")
    assert result.terms[0].words == "high intensity interval training"
    hiit = next(h for h in result.hits if h.id == "hiit-builds-leg-muscle")
    assert [hiit.statement[a:b] for a, b in hiit.statement_highlights] == ["HIIT"]


def test_a_synonym_group_counts_as_one_word(index) -> None:
    # Six of eight claims name the legs somehow; the one that also says "leaner" comes first,
    # not one that happens to use the rarest word of the group.
    assert ids(index, "lean legs")[0] == "intervals-make-legs-leaner"
    assert ids(index, "lean thighs")[0] == "intervals-make-legs-leaner"


def test_comparatives_meet_their_base(index) -> None:
    assert ids(index, "big quads")[0] == "heavy-squats-grow-quads"
    assert "lean" in search.query_index(index, "leaner").terms[0].words + " ".join(
        search.query_index(index, "leaner").terms[0].alternatives
    )


def test_questions_lose_their_stop_words(index) -> None:
    result = search.query_index(index, "How much protein should I eat?")
    assert [t.words for t in result.terms] == ["protein", "eat"]
    assert result.hits[0].id == "protein-keeps-muscle"
    assert ids(index, "does walking make my legs bulky?")[0] == "walking-tones-legs"
    assert ids(index, "should I train before breakfast?")[0] == "fasted-training-no-extra-fat-loss"


def test_a_query_of_stop_words_only_still_searches(index) -> None:
    assert [t.words for t in search.query_index(index, "what is it").terms] == ["what", "is", "it"]


@pytest.mark.parametrize(
    "query",
    [
        '"AND OR NEAR(',
        "*",
        "legs*",
        "NOT legs",
        "legs AND",
        "statement:legs",
        "^legs",
        "NEAR(legs thighs, 2)",
        "(((",
        '"',
        "''",
        "{statement quotes}: legs",
        "legs + - thighs",
        "\x00\x1b[31m",
        "🦵 légs",
        "",
        "   ",
        "x" * 10_000,
        " ".join(["legs"] * 2000),
    ],
)
def test_hostile_queries_never_reach_fts5_syntax(index, query) -> None:
    result = search.query_index(index, query)  # must not raise
    for term in result.terms:
        for alternative in term.alternatives:
            assert all(part.isalnum() for part in alternative.split(" "))
    if "legs" in query.lower() or "légs" in query:
        assert result.hits


def test_typo_is_corrected_and_said(index) -> None:
    result = search.query_index(index, "protien")
    assert [(c.word, c.replacement) for c in result.corrections] == [("protien", "protein")]
    assert result.hits[0].id == "protein-keeps-muscle"
    result = search.query_index(index, "joging thighs")
    assert [(c.word, c.replacement) for c in result.corrections] == [("joging", "jogging")]
    assert result.hits[0].id == "jogging-slims-thighs"


def test_short_words_are_offered_close_words_not_replaced(index) -> None:
    # "fast" is one letter from "fat", but it is a word of its own
    result = search.query_index(index, "fast")
    assert result.corrections == () and result.hits == ()
    assert "fat" in result.suggestions
    result = search.query_index(index, "fast protein")
    assert result.corrections == () and result.hits[0].id == "protein-keeps-muscle"
    notes, _ = search.render_text(result)
    assert any("no claim has 'fast' (close: fat" in note for note in notes)


def test_no_match_offers_close_words(index) -> None:
    result = search.query_index(index, "zebra")
    assert result.hits == () and result.total == 0
    assert result.unknown_words == ("zebra",)
    result = search.query_index(index, "squids")  # too far for a correction, close enough to offer
    assert result.hits == ()
    assert "squats" in result.suggestions


def test_ranked_best_first(index) -> None:
    scores = [hit.score for hit in search.query_index(index, "legs muscle").hits]
    assert len(scores) > 2 and scores == sorted(scores, reverse=True)


def test_strength_breaks_ties(tmp_path) -> None:
    # two claims that say the same thing, the same way; the one from the better source comes
    # first even though its id sorts last
    root = tmp_path / "kb"
    (root / "sources").mkdir(parents=True)
    (root / "claims").mkdir()
    for source, kind in (("coach", "guide"), ("forum", "forum")):
        (root / "sources" / f"{source}.txt").write_text("Cycling thickens calves.\n", encoding="utf-8")
        (root / "sources" / f"{source}.yaml").write_text(
            f"title: {source}\nkind: {kind}\ntext: {source}.txt\n", encoding="utf-8"
        )
    for claim, source in (("a-from-forum", "forum"), ("b-from-coach", "coach")):
        (root / "claims" / f"{claim}.yaml").write_text(
            "statement: Cycling thickens calves.\ntopic: cycling\nevidence:\n"
            f"  - source: {source}\n    stance: supports\n    kind: expert-opinion\n"
            '    quote: "Cycling thickens calves."\n',
            encoding="utf-8",
        )
    for filler in ("sleep-helps", "water-helps", "rest-helps"):  # so that the two are rare enough to score
        (root / "claims" / f"{filler}.yaml").write_text(
            f"statement: {filler.replace('-', ' ')}.\ntopic: other\nevidence: []\n", encoding="utf-8"
        )
    with build(root) as index:
        hits = search.query_index(index, "cycling calves").hits
    assert [h.id for h in hits] == ["b-from-coach", "a-from-forum"]
    assert hits[0].strength > hits[1].strength and hits[0].score > hits[1].score


def test_hit_has_statement_strength_consensus_sources_and_quote(index) -> None:
    hit = search.query_index(index, "hiit builds muscle").hits[0]
    assert hit.id == "hiit-builds-leg-muscle"
    assert hit.consensus == "contested"
    assert hit.sources_for == ("coach",) and hit.sources_against == ("forum",)
    assert hit.quote is not None and hit.quote.matched
    assert hit.quote.source == "coach"  # the quote with most query words, not the opposing one
    assert [hit.quote.text[a:b] for a, b in hit.quote.highlights] == ["HIIT", "builds", "muscle"]


def test_limit_and_total(index) -> None:
    result = search.query_index(index, "legs", limit=2)
    assert len(result.hits) == 2
    assert result.total == 6


def test_topic_and_source_filters(index) -> None:
    assert set(ids(index, "legs", topic="hiit")) == {"intervals-make-legs-leaner", "hiit-builds-leg-muscle"}
    assert set(ids(index, "legs", source="coach")) == {
        "jogging-slims-thighs",
        "hiit-builds-leg-muscle",
        "heavy-squats-grow-quads",
    }
    with pytest.raises(UsageError, match=r"did you mean 'cardio'"):
        search.query_index(index, "legs", topic="cardo")
    with pytest.raises(UsageError, match=r"did you mean 'forum'"):
        search.query_index(index, "legs", source="forums")


# --- the cache ---


def test_cache_is_reused_until_a_file_changes(base) -> None:
    with search.open_index(base) as first:
        assert first.rebuilt and first.path == search.cache_path(base)
    with search.open_index(base) as again:
        assert not again.rebuilt
    edits = [
        (
            base / "claims" / "diet" / "protein-keeps-muscle.yaml",
            "statement: Protein",
            "statement: Dietary protein",
        ),
        (base / "sources" / "coach.txt", "Easy jogging", "Easy  jogging"),
        (base / "kb.yaml", "title: Search test base", "title: Renamed"),
    ]
    for file, old, new in edits:
        file.write_text(file.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        with search.open_index(base) as changed:
            assert changed.rebuilt, file
        with search.open_index(base) as unchanged:
            assert not unchanged.rebuilt, file
    assert not [p for p in search.cache_path(base).parent.iterdir() if p.name.endswith(".tmp")]


def test_new_claim_file_rebuilds_and_is_found(base) -> None:
    search.open_index(base).close()
    (base / "claims" / "diet" / "creatine.yaml").write_text(
        "statement: Creatine keeps muscle.\ntopic: diet\nevidence: []\n", encoding="utf-8"
    )
    with search.open_index(base) as index:
        assert index.rebuilt
        assert ids(index, "creatine") == ["creatine"]


def test_cached_and_fresh_index_answer_the_same(base) -> None:
    query = "does jogging make thighs bigger?"
    with search.open_index(base) as fresh:
        expected = search.result_to_dict(search.query_index(fresh, query))
    with search.open_index(base) as cached:
        assert not cached.rebuilt
        assert search.result_to_dict(search.query_index(cached, query)) == expected


def test_damaged_cache_is_rebuilt(base) -> None:
    search.open_index(base).close()
    search.cache_path(base).write_bytes(b"not a database")
    with search.open_index(base) as index:
        assert index.rebuilt and ids(index, "protein")
    other = sqlite3.connect(search.cache_path(base))  # a database, but not an index of ours
    other.execute("DROP TABLE meta")
    other.commit()
    other.close()
    with search.open_index(base) as index:
        assert index.rebuilt


def test_unwritable_folder_searches_from_memory(base, monkeypatch) -> None:
    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(search, "write_atomic", refuse)
    with search.open_index(base) as index:
        assert index.rebuilt and index.path is None
        assert ids(index, "protein")[0] == "protein-keeps-muscle"
    assert not search.cache_path(base).exists()


# --- the command line ---


def test_cli_text(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "hiit builds muscle", "--limit", "1"])
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / "hiit-builds-muscle.txt", result.stdout)
    assert "showing 1 of" in result.stderr


def test_cli_json_is_stable(runner) -> None:
    args = ["search", "--kb", str(SEARCH), "does running make thighs bigger?", "--json"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    check_golden(GOLDEN / "running-thighs-bigger.json", first.stdout)
    assert runner.invoke(cli, args).stdout == first.stdout
    data = json.loads(first.stdout)
    assert list(data) == ["query", "filters", "terms", "corrections", "total", "hits", "suggestions"]


def test_cli_typo_note(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "protien"])
    assert result.exit_code == 0
    assert "no claim has 'protien': searched for 'protein' instead" in result.stderr
    assert "Protein keeps muscle" in result.stdout


@pytest.mark.parametrize("query", ["zebra", "*", '"AND OR NEAR('])
def test_cli_no_match_exits_1_without_traceback(runner, query) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), query])
    assert result.exit_code == 1
    assert "no claim matches" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_cli_no_match_json_exits_1(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "zebra", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["hits"] == []


def test_cli_unknown_topic_or_source_is_usage_error(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "legs", "--topic", "cardo"])
    assert result.exit_code == 2
    assert "did you mean 'cardio'" in result.stderr
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "legs", "--source", "coach-notes"])
    assert result.exit_code == 2
    assert "unknown source" in result.stderr


def test_cli_filters(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "legs", "--topic", "hiit", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["filters"] == {"topic": "hiit", "source": None}
    assert {hit["topic"] for hit in data["hits"]} == {"hiit"}


def test_cli_invalid_base_exits_1_with_problems(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(FIXTURES / "invalid" / "bad-enum"), "legs"])
    assert result.exit_code == 1
    assert "claims/a.yaml:5:13:" in result.stderr
    assert "Traceback" not in result.output


def test_cli_missing_folder(runner, tmp_path) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(tmp_path / "nowhere"), "legs"])
    assert result.exit_code == 1
    assert "no such knowledge-base folder" in result.stderr


def test_cli_query_may_be_several_arguments(runner) -> None:
    quoted = runner.invoke(cli, ["search", "--kb", str(SEARCH), "heavy squats", "--json"])
    unquoted = runner.invoke(cli, ["search", "--kb", str(SEARCH), "heavy", "squats", "--json"])
    assert quoted.exit_code == unquoted.exit_code == 0
    assert quoted.stdout == unquoted.stdout
    assert runner.invoke(cli, ["search", "--kb", str(SEARCH)]).exit_code == 2


# --- the shipped knowledge base (repository root) ---

# Plain-language questions, and the word stems that make a claim relevant to each: its
# statement, topic or tags must contain one. Relevance is read from the claims themselves.
SHIPPED_QUESTIONS = [
    ("does running make thighs bigger?", ("run", "jog")),
    ("will cycling make my legs bulky?", ("cycl", "bik")),
    ("how much protein should I eat?", ("protein",)),
    ("is HIIT good for smaller legs?", ("hiit", "interval")),
    ("is walking enough to slim my legs?", ("walk",)),
    ("should I do cardio before or after breakfast?", ("timing", "breakfast", "fasted", "empty stomach")),
]


@pytest.fixture(scope="module")
def shipped():
    if not (REPO / "claims").is_dir():
        pytest.skip("the shipped knowledge base is not there yet")
    kb = load_valid(REPO)
    with search.build_index(kb, compute(kb)) as built:
        yield kb, built


@pytest.mark.parametrize(("question", "stems"), SHIPPED_QUESTIONS)
def test_shipped_questions_find_relevant_claims_in_top_three(shipped, question, stems) -> None:
    kb, index = shipped

    def relevant(claim_id: str) -> bool:
        claim = kb.claims[claim_id]
        text = " ".join([claim.statement, claim.topic, *claim.tags]).lower()
        return any(stem in text for stem in stems)

    assert any(relevant(c) for c in kb.claims), f"no claim of the shipped base is about {stems}"
    top = ids(index, question, limit=3)
    assert len(top) == 3 and relevant(top[0]), (question, top)
    assert sum(relevant(c) for c in top) >= 2, (question, top)
