"""kb search: analysis (stems, irregular forms, synonyms, size and amount), ranking, typos, query syntax,
limits, the cache and the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from kb import search
from kb import stem as porter
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
        ("jogging", "jogging-slims-thighs"),
        ("toning", "walking-tones-legs"),
        ("building", "hiit-builds-leg-muscle"),
        ("breakfasts", "fasted-training-no-extra-fat-loss"),
    ],
)
def test_porter_stemming_joins_word_forms(index, query, expected) -> None:
    assert ids(index, query)[0] == expected


def test_stemmer_agrees_with_sqlites_porter_on_the_shipped_words() -> None:
    # kb.stem is Porter's reference algorithm, the one SQLite's FTS5 'porter' tokenizer uses
    words = sorted(
        {w for path in REPO.glob("claims/**/*.yaml") for w, _, _ in search.tokens(path.read_text())}
    )
    words += ["caresses", "ponies", "agreed", "hopping", "filing", "relational", "generalization", "happy"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter ascii')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(words, 1))
    theirs = dict(conn.execute("SELECT doc, term FROM v"))
    assert len(words) > 300
    assert [porter.stem(w) for w in words] == [theirs[i] for i in range(1, len(words) + 1)]


@pytest.mark.parametrize("query", ["run", "runs", "running", "ran"])
def test_runs_running_and_ran_meet(index, query) -> None:
    # the claim says "Marathon training" and its quote "I ran a marathon"
    assert "marathon-shrinks-calves" in ids(index, query)


@pytest.mark.parametrize(
    ("query", "expected"), [("shrank", "marathon-shrinks-calves"), ("ate", "protein-keeps-muscle")]
)
def test_irregular_forms_meet_their_base(index, query, expected) -> None:
    assert expected in ids(index, query)
    assert search.query_index(index, query).terms[0].found


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
    assert ids(index, "heavier squats")[0] == "heavy-squats-grow-quads"
    # the base says "leaner" only: "lean" finds it
    assert ids(index, "lean")[0] == "intervals-make-legs-leaner"


def test_size_in_either_direction_is_one_concept(index) -> None:
    # "bigger" finds the claims that say shrinks and slims as well as those that say grow and build
    found = ids(index, "bigger")
    assert {
        "marathon-shrinks-calves",
        "jogging-slims-thighs",
        "heavy-squats-grow-quads",
        "hiit-builds-leg-muscle",
    } <= set(found)
    # the subject decides: running claims in either direction first, then claims about size alone
    top = ids(index, "does running make legs bigger?")
    assert top[:2] == ["jogging-slims-thighs", "marathon-shrinks-calves"]


def tiny_base(root: Path, claims: dict[str, tuple[str, str]], kb_yaml: str = "") -> Path:
    """A base of claims without evidence: {id: (statement, topic)}, and filler claims so that the
    words of the test are rare enough to count."""
    (root / "sources").mkdir(parents=True)
    (root / "claims").mkdir()
    fillers = {f"filler-{i}": (f"Sleep and water help recovery {i}.", "other") for i in range(6)}
    for claim_id, (statement, topic) in {**claims, **fillers}.items():
        (root / "claims" / f"{claim_id}.yaml").write_text(
            f"statement: {json.dumps(statement)}\ntopic: {topic}\nevidence: []\n", encoding="utf-8"
        )
    if kb_yaml:
        (root / "kb.yaml").write_text(kb_yaml, encoding="utf-8")
    return root


def test_subject_and_quantity_both_outrank_either_alone(tmp_path) -> None:
    # a question's subject (cycling) and the quantity it asks about (calf size, read in either
    # direction): the claim that has both comes first, even where it is long and the others are short
    root = tiny_base(
        tmp_path / "kb",
        {
            "a-cycling-shrinks-calves": (
                (
                    "Over many years, steady and easy cycling at a low resistance on flat roads slowly "
                    "shrinks the calves of most older riders."
                ),
                "cycling",
            ),
            "b-big-calves": ("Big calves.", "legs"),
            "c-cycling-works-calves": ("Cycling works the calves.", "cycling"),
        },
    )
    with build(root) as index:
        found = ids(index, "does cycling make calves bigger?")
    assert found[0] == "a-cycling-shrinks-calves"
    assert set(found[1:3]) == {"b-big-calves", "c-cycling-works-calves"}


def test_a_claims_topic_adds_to_what_its_statement_says(tmp_path) -> None:
    # both statements say running, thighs and size; the claim whose topic is running is about it,
    # the other names running in passing (its topic is strength), so the first ranks above it
    root = tiny_base(
        tmp_path / "kb",
        {
            "a-long-runs-slim-thighs": ("Long, slow, steady runs slim the thighs down.", "running"),
            "b-squats-and-running": ("Squats with running slim thighs.", "strength"),
        },
    )
    with build(root) as index:
        assert ids(index, "does running make thighs smaller?")[:2] == [
            "a-long-runs-slim-thighs",
            "b-squats-and-running",
        ]
        # and the topic alone finds a claim as well
        assert "a-long-runs-slim-thighs" in ids(index, "running")


def test_questions_lose_their_stop_words(index) -> None:
    result = search.query_index(index, "How much protein should I eat?")
    assert [t.words for t in result.terms] == ["protein", "eat"]
    assert result.hits[0].id == "protein-keeps-muscle"
    assert ids(index, "does walking make my legs bulky?")[0] == "walking-tones-legs"
    assert ids(index, "should I train before breakfast?")[0] == "fasted-training-no-extra-fat-loss"


def test_a_query_of_stop_words_only_has_nothing_to_search_for(index, runner) -> None:
    result = search.query_index(index, "what is it")
    assert result.terms == () and result.hits == ()
    out = runner.invoke(cli, ["search", "--kb", str(SEARCH), "what is it"])
    assert out.exit_code == 1 and "the query has no words to search for" in out.stderr


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
        "{statement}: legs",
        "legs + - thighs",
        "\x00\x1b[31m",
        "🦵 légs",
        "",
        "   ",
        "x" * 500,
        '-"',
        "--legs",
        '"legs',
        "-",
    ],
)
def test_hostile_queries_are_plain_words(index, query) -> None:
    result = search.query_index(index, query)  # must not raise
    for term in result.terms:
        for concept in term.concepts:
            assert concept.isalnum() or concept.startswith(search.GROUP_PREFIX), concept
    if ("legs" in query.lower() or "légs" in query) and "-" not in query:
        assert result.hits


@pytest.mark.parametrize(
    ("query", "message"),
    [("x" * 501, "501 characters; at most 500"), (" ".join(["legs"] * 33), "33 words; at most 32")],
)
def test_query_length_is_bounded(index, runner, query, message) -> None:
    with pytest.raises(UsageError, match=message):
        search.query_index(index, query)
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), query])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_a_10000_word_query_is_refused_not_searched(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), " ".join(["legs"] * 10_000)])
    assert result.exit_code == 2 and "at most 500" in result.stderr


def test_quoted_phrase_keeps_claims_that_say_it(index) -> None:
    assert ids(index, '"leg muscle"') == ["hiit-builds-leg-muscle"]
    # synonyms and word forms still match inside a phrase; other words go on ranking
    assert ids(index, '"thighs larger"') == ["heavy-squats-grow-quads"]  # "the quads bigger"
    assert ids(index, '"muscle leg"') == []
    # a phrase is matched in what the claim says (statement, topic, tags), not only its quotes
    assert ids(index, '"marathon every month"') == []


def test_minus_leaves_claims_out(index) -> None:
    with_hiit = ids(index, "legs")
    assert "hiit-builds-leg-muscle" in with_hiit
    without = ids(index, "legs -hiit")
    assert "hiit-builds-leg-muscle" not in without and "intervals-make-legs-leaner" not in without
    assert set(without) == set(with_hiit) - {"hiit-builds-leg-muscle", "intervals-make-legs-leaner"}
    assert "heavy-squats-grow-quads" not in ids(index, 'legs -"heavy squats"')
    # AND, OR and NEAR are words; a stop word, "and" goes, and so does "or"
    assert ids(index, "legs AND -hiit") == without


def test_split_query() -> None:
    assert search.split_query('a "b c" -d -"e f" - g"h') == [
        ("word", "a"), ("phrase", "b c"), ("exclude", "d"), ("exclude", "e f"), ("word", "-"),
        ("word", 'g"h'),
    ]  # fmt: skip
    assert search.split_query('"unclosed phrase') == [("phrase", "unclosed phrase")]


def test_typo_is_corrected_and_said(index) -> None:
    result = search.query_index(index, "protien")
    assert [(c.word, c.replacement) for c in result.corrections] == [("protien", "protein")]
    assert result.hits[0].id == "protein-keeps-muscle"
    result = search.query_index(index, "joging thighs")
    assert [(c.word, c.replacement) for c in result.corrections] == [("joging", "jogging")]
    assert result.hits[0].id == "jogging-slims-thighs"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("protien", "protein", 1),  # two letters swapped
        ("joging", "jogging", 1),  # a letter dropped
        ("runnning", "running", 1),  # a letter doubled
        ("protwin", "protein", 1),  # w is next to e
        ("proteen", "protein", 1),  # a vowel for another
        ("swimming", "slimming", 2),  # w is far from l: not a slip of the finger
        ("safer", "after", 2),
        ("", "abc", 3),
    ],
)
def test_typo_distance(a, b, distance) -> None:
    assert search.typo_distance(a, b) == distance


def test_corrections_only_when_likely(index) -> None:
    for word in ("squids", "quantum", "xylophone", "fast", "walkin"):
        result = search.query_index(index, word)
        if word == "walkin":  # 6 letters, one dropped: corrected
            assert [c.replacement for c in result.corrections] == ["walking"]
            continue
        assert result.corrections == () and result.hits == (), word
        assert result.unknown_words == (word,)


def test_short_words_are_offered_close_words_not_replaced(index) -> None:
    # "fast" is one letter from "fat", but it is a word of its own
    result = search.query_index(index, "fast")
    assert result.corrections == () and result.hits == ()
    assert "fat" in result.suggestions
    result = search.query_index(index, "fast protein")
    assert result.corrections == () and result.hits[0].id == "protein-keeps-muscle"
    notes, _ = search.render_text(result)
    assert "no claim mentions 'fast'; results are for the other words" in notes


def test_a_question_mostly_about_other_things_is_not_answered(index) -> None:
    # one word of three is in the base: claims about that word alone would not answer it
    result = search.query_index(index, "zebra quantum protein")
    assert result.hits == () and result.unknown_words == ("zebra", "quantum")
    assert search.query_index(index, "zebra protein").hits  # half of it is: answered, and said so


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
    search.cache_path(base).write_bytes(b"not an index")
    with search.open_index(base) as index:
        assert index.rebuilt and ids(index, "protein")
    for other in ('{"format": 2}', "[1, 2]", '{"format": 2, "key": null, "extra_files": ["/etc/passwd"]}'):
        search.cache_path(base).write_text(other)  # JSON, but not an index of ours
        with search.open_index(base) as index:
            assert index.rebuilt and ids(index, "protein")


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
    assert list(data) == [
        "query", "filters", "terms", "corrections", "total", "hits", "suggestions",
        "unknown_words", "disputes",
    ]  # fmt: skip


def test_cli_typo_note(runner) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "protien"])
    assert result.exit_code == 0
    assert "no claim mentions 'protien': searched for 'protein' instead" in result.stderr
    assert "Protein keeps muscle" in result.stdout


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("zebra", "no claim mentions 'zebra'"),
        ("*", "no claim matches '*' (the query has no words to search for)"),
        ('"AND OR NEAR(', "no claim mentions 'near'"),
        ("swimming", "no claim mentions 'swimming'"),
        ("xylophone quantum", "no claim mentions 'xylophone', 'quantum'"),
        ("'; DROP TABLE claims; --", "no claim mentions 'drop', 'table', 'claims'"),
    ],
)
def test_cli_no_match_exits_1_without_traceback(runner, query, note) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), query])
    assert result.exit_code == 1
    assert note in result.stderr
    assert "searched for" not in result.stderr  # nothing was corrected
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


@pytest.mark.parametrize("limit", ["99999999999999999999999", "0", "-1", "1001", "ten"])
def test_cli_limit_out_of_range_is_a_usage_error(runner, limit) -> None:
    result = runner.invoke(cli, ["search", "--kb", str(SEARCH), "legs", "--limit", limit])
    assert result.exit_code == 2
    assert "--limit" in result.stderr and "Traceback" not in result.output


def test_cli_help_documents_the_query_syntax(runner) -> None:
    result = runner.invoke(cli, ["search", "--help"])
    assert result.exit_code == 0
    for syntax in ('"a phrase"', "-word", "AND, OR, * are words", "at most 500 characters"):
        assert syntax in result.output


def test_new_base_is_decaf_safer_is_not_after(runner, tmp_path) -> None:
    # a base that has "after" but neither "decaf" nor "safe": nothing to correct, nothing to answer
    root = tmp_path / "coffee"
    (root / "sources").mkdir(parents=True)
    (root / "claims").mkdir()
    (root / "sources" / "notes.txt").write_text("Coffee after dinner delays sleep.\n", encoding="utf-8")
    (root / "sources" / "notes.yaml").write_text(
        "title: Notes\nkind: blog\ntext: notes.txt\n", encoding="utf-8"
    )
    (root / "claims" / "coffee-after-dinner.yaml").write_text(
        "statement: Coffee after dinner delays sleep.\ntopic: sleep\nevidence:\n"
        "  - source: notes\n    stance: supports\n    kind: experience\n"
        '    quote: "Coffee after dinner delays sleep."\n',
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["search", "--kb", str(root), "is decaf safer"])
    assert result.exit_code == 1, result.output
    assert "no claim mentions 'decaf', 'safer'" in result.stderr
    assert "after" not in result.stderr and result.stdout == ""
    assert runner.invoke(cli, ["search", "--kb", str(root), "is coffee after dinner bad"]).exit_code == 0


# --- synonyms in kb.yaml are bounded ---


def _write_synonyms(root: Path, groups: list[list[str]]) -> None:
    lines = ["title: Search test base", "synonyms:"] + [f"  - [{', '.join(g)}]" for g in groups]
    (root / "kb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_too_many_synonym_groups_is_an_error_at_its_line(base, runner) -> None:
    _write_synonyms(base, [["legs", f"word{i}"] for i in range(search.MAX_SYNONYM_GROUPS + 1)])
    result = runner.invoke(cli, ["validate", "--kb", str(base)])
    assert result.exit_code == 1
    # the model's own bound on a list (kb.model.MAX_ITEMS) says it first, at the list's line
    assert "kb.yaml:3:3: synonyms: 501 items, more than the limit of 500" in result.stderr
    assert runner.invoke(cli, ["search", "--kb", str(base), "legs"]).exit_code == 1


def test_synonym_group_and_member_limits(base, runner) -> None:
    _write_synonyms(
        base,
        [
            ["legs", "thighs"],
            [f"w{i}" for i in range(search.MAX_GROUP_MEMBERS + 1)],
            ["lonely"],
            ["hiit", " ".join(["very"] * (search.MAX_MEMBER_WORDS + 1))],
            ["runs", "'?!'"],
        ],
    )
    result = runner.invoke(cli, ["validate", "--kb", str(base)])
    assert result.exit_code == 1
    assert "kb.yaml:4:5: synonyms[1]: 51 members; at most 50 are allowed" in result.stderr
    assert "kb.yaml:5:5: synonyms[2]: a group needs at least two members" in result.stderr
    assert "kb.yaml:6:12: synonyms[3][1]: too long; a member has at most 6 words" in result.stderr
    assert "kb.yaml:7:12: synonyms[4][1]: '?!' has no word to search for" in result.stderr
    assert "Traceback" not in result.output


def test_groups_sharing_a_word_are_one_group(base) -> None:
    # the most groups allowed, all sharing one word: one concept, so a search stays one lookup
    _write_synonyms(base, [["legs", f"limb{i}"] for i in range(search.MAX_SYNONYM_GROUPS)])
    with build(base) as index:
        concept = index.resolve("legs")
        assert index.resolve("limb499") == index.resolve("limb0") == concept
        assert len(index.data["groups"][concept]) == search.MAX_SYNONYM_GROUPS + 1
        assert {t.concepts for t in search.query_index(index, "limb7 legs limb300").terms} == {(concept,)}


def test_top_hits_in_a_dispute_show_its_positions_side_by_side(index) -> None:
    result = search.query_index(index, "hiit builds muscle")
    assert result.hits[0].id == "hiit-builds-leg-muscle"
    [dispute] = result.disputes
    assert {p.claim for p in dispute.positions} == {"hiit-builds-leg-muscle", "intervals-make-legs-leaner"}
    assert dispute.verdict in ("clear", "leaning", "open")
    strengths = {h.id: h.strength for h in search.query_index(index, "legs", limit=10).hits}
    for p in dispute.positions:
        assert p.strength == pytest.approx(strengths[p.claim], abs=1e-4)
    _, text = search.render_text(result)
    assert text.startswith("The sources disagree: ")
    data = search.result_to_dict(result)["disputes"][0]
    assert list(data) == ["question", "positions", "positions_in_all", "verdict"]
    assert data["verdict"]["leader"] in {p["claim"] for p in data["positions"]} | {None}


def test_a_contested_hit_never_reads_against_none(runner) -> None:
    # every contested claim of the shipped base, found by its own statement: its line names what is against it
    kb = load_valid(REPO)
    weights = compute(kb)
    with search.build_index(kb, weights) as shipped:
        contested = [c for c in kb.claims.values() if weights.claims[c.id].consensus == "contested"]
        assert contested
        for claim in contested:
            hit = next(
                h for h in search.query_index(shipped, claim.statement, limit=50).hits if h.id == claim.id
            )
            _, text = search.render_text(search.SearchResult(claim.statement, (), (), (hit,), 1))
            assert "against: none" not in text, claim.id
            assert hit.sources_against or hit.contradicted_by, claim.id


def test_the_headline_question_shows_the_running_dispute(runner) -> None:
    # the first example: the claim at the heart of it comes with the dispute it belongs to
    result = runner.invoke(cli, ["search", "--kb", str(REPO), "does running make legs bigger", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    top = [hit["id"] for hit in data["hits"][:3]]
    # the claims at the heart of it, in either direction (builds, shrinks), lead the answer ...
    assert {"running-builds-lean-muscle", "long-slow-running-shrinks-leg-muscle"} <= set(top)
    # ... and the dispute they are positions of comes first, before the strength-training one that
    # mentions running in passing
    first = {p["claim"] for p in data["disputes"][0]["positions"]}
    assert {"long-slow-running-shrinks-leg-muscle", "running-builds-lean-muscle"} <= first
    assert data["disputes"][0]["question"].startswith("Does long, steady running")
    for dispute in data["disputes"]:
        assert all(0 <= p["strength"] <= 1 and p["consensus"] for p in dispute["positions"])


def test_the_sites_index_leaves_out_only_what_the_command_line_shows() -> None:
    """The site's index is made without the claims' details (kb.search.site_index): the rest of the
    data is what the command line's index holds."""
    kb = load_valid(SEARCH)
    weights = compute(kb)
    full = search.build_data(kb, weights)
    slim = search.build_data(kb, weights, details=False)
    assert "details" in full and "details" not in slim
    assert len(full["details"]) == len(full["claims"]) == len(kb.claims) > 0
    assert {k: v for k, v in full.items() if k != "details"} == slim
