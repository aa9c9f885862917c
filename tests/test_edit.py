"""Editing claim files in place: evidence, relations and drafts, with nothing else in the file changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kb import authoring, edit
from kb.cli import cli
from kb.errors import KbError, UsageError
from kb.load import load
from kb.model import Evidence
from tests.conftest import FIXTURES

EASY = "claims/running/easy-cycling-no-bulk.yaml"
HARD = "claims/running/hard-cycling-builds-quads.yaml"
GIVE_UP = "claims/running/give-up-the-bike.yaml"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "editing", root)
    return root


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def ev(quote: str, stance: str = "supports", kind: str = "expert-opinion", speaker: str | None = "author"):
    return Evidence(source="coach", stance=stance, kind=kind, quote=quote, speaker=speaker)  # type: ignore[arg-type]


def test_evidence_is_appended_after_the_last_item_and_nothing_else_changes(base: Path) -> None:
    before = (base / EASY).read_text()
    edit.add_evidence(base, "easy-cycling-no-bulk", [ev("My legs got smaller", speaker="reader Molly")])
    after = (base / EASY).read_text()
    added = (
        "  - source: coach\n"
        "    stance: supports\n"
        "    kind: expert-opinion\n"
        '    quote: "My legs got smaller"\n'
        "    speaker: reader Molly\n"
    )
    marker = "    speaker: author\n"
    assert after == before.replace(marker, marker + added, 1)
    kb, problems = load(base)
    assert kb is not None, problems
    assert kb.claims["easy-cycling-no-bulk"].evidence[-1].speaker == "reader Molly"


def test_evidence_into_an_empty_list_and_an_indentless_list(base: Path) -> None:
    edit.add_evidence(base, "hard-cycling-builds-quads", [ev("Hill repeats in a hard gear build muscle")])
    assert (base / HARD).read_text() == (
        'statement: "Hard cycling: it builds the quads."\n'
        "topic: running\n"
        "evidence:\n"
        "  - source: coach\n"
        "    stance: supports\n"
        "    kind: expert-opinion\n"
        '    quote: "Hill repeats in a hard gear build muscle"\n'
        "    speaker: author\n"
    )
    edit.add_evidence(base, "give-up-the-bike", [ev("give up the bike altogether", "opposes", speaker=None)])
    assert (
        (base / GIVE_UP)
        .read_text()
        .endswith(
            '  quote: "I disagree with the advice to give up the bike altogether"\n'
            "- source: coach\n"
            "  stance: opposes\n"
            "  kind: expert-opinion\n"
            '  quote: "give up the bike altogether"\n'
        )
    )
    kb, problems = load(base)
    assert kb is not None, problems


def test_a_missing_evidence_key_is_added(base: Path) -> None:
    (base / HARD).write_text(
        'statement: "Hard cycling: it builds the quads."\ntopic: running'
    )  # no final newline
    edit.add_evidence(base, "hard-cycling-builds-quads", [ev("build muscle in the quads")])
    data = yaml.safe_load((base / HARD).read_text())
    assert data["evidence"] == [
        {
            "source": "coach",
            "stance": "supports",
            "kind": "expert-opinion",
            "quote": "build muscle in the quads",
            "speaker": "author",
        }
    ]


def test_awkward_quotes_are_written_safely(base: Path) -> None:
    quote = 'A reader, Molly, wrote: "My legs got smaller'
    edit.add_evidence(base, "hard-cycling-builds-quads", [ev(quote, speaker="reader Molly: a #fan")])
    kb, problems = load(base)
    assert kb is not None, problems
    item = kb.claims["hard-cycling-builds-quads"].evidence[0]
    assert (item.quote, item.speaker) == (quote, "reader Molly: a #fan")


def test_a_quote_not_in_the_source_is_refused_with_the_closest_passage_and_the_words(base: Path) -> None:
    before = snapshot(base)
    with pytest.raises(KbError) as caught:
        edit.add_evidence(
            base, "hard-cycling-builds-quads", [ev("Hill repeats in a hard gear build big muscle")]
        )
    message = str(caught.value)
    assert "closest passage: 'Hill repeats in a hard gear build muscle in the quads: " in message
    assert "differs in: 'big' not in the source" in message
    assert snapshot(base) == before


def test_a_second_item_failing_leaves_the_first_unwritten(base: Path) -> None:
    before = snapshot(base)
    with pytest.raises(KbError):
        edit.add_evidence(
            base, "hard-cycling-builds-quads", [ev("build muscle in the quads"), ev("not there")]
        )
    assert snapshot(base) == before


def test_the_same_quote_twice_is_refused(base: Path) -> None:
    with pytest.raises(KbError, match="already has this quote from 'coach'"):
        edit.add_evidence(
            base,
            "easy-cycling-no-bulk",
            [ev("spinning an  easy gear at high cadence will not build big thighs.")],
        )


def test_unknown_claim_or_source_is_a_usage_error(base: Path) -> None:
    with pytest.raises(UsageError, match="no claim 'nope'"):
        edit.add_evidence(base, "nope", [ev("x")])
    bad = Evidence(source="coahc", stance="supports", kind="study", quote="x")
    with pytest.raises(UsageError, match="no source 'coahc' in sources/ \\(did you mean 'coach'\\?\\)"):
        edit.add_evidence(base, "hard-cycling-builds-quads", [bad])


def test_an_edit_that_would_break_the_file_is_refused(base: Path) -> None:
    # a flow list with items cannot take a block item: refused, not mangled
    (base / HARD).write_text(
        "statement: S.\ntopic: running\n"
        'evidence: [{source: coach, stance: supports, kind: study, quote: "Hill"}]\n'
    )
    before = snapshot(base)
    with pytest.raises(KbError, match="line 3: evidence is not a list kb can add to"):
        edit.add_evidence(base, "hard-cycling-builds-quads", [ev("build muscle in the quads")])
    assert snapshot(base) == before


def test_link_adds_to_flow_block_and_missing_lists(base: Path) -> None:
    authoring.write_new_files(base, authoring.plan_new_claim(base, "rides-shrink-legs", topic="cycling"))
    edit.link(base, "easy-cycling-no-bulk", "contradicts", "give-up-the-bike")
    edit.link(base, "easy-cycling-no-bulk", "supports", "rides-shrink-legs")
    text = (base / EASY).read_text()
    assert "contradicts: [give-up-the-bike]   # nothing yet\n" in text
    assert "  - hard-cycling-builds-quads    # odd, kept for the test\n  - rides-shrink-legs\n" in text
    edit.link(base, "rides-shrink-legs", "supports", "give-up-the-bike")
    edit.link(base, "rides-shrink-legs", "supports", "hard-cycling-builds-quads")
    scaffold = (base / "claims" / "cycling" / "rides-shrink-legs.yaml").read_text()
    assert (
        "supports: [give-up-the-bike, hard-cycling-builds-quads]                        # ids of" in scaffold
    )
    kb, problems = load(base)
    assert kb is not None, problems


def test_link_refusals(base: Path) -> None:
    edit.link(base, "hard-cycling-builds-quads", "contradicts", "give-up-the-bike")
    before = snapshot(base)
    # easy-cycling-no-bulk supports hard-cycling-builds-quads: no contradiction either way
    with pytest.raises(KbError, match="already linked by supports"):
        edit.link(base, "hard-cycling-builds-quads", "contradicts", "easy-cycling-no-bulk")
    with pytest.raises(KbError, match="already linked by contradicts"):
        edit.link(base, "give-up-the-bike", "supports", "hard-cycling-builds-quads")
    with pytest.raises(KbError, match="already contradicts"):
        edit.link(base, "hard-cycling-builds-quads", "contradicts", "give-up-the-bike")
    with pytest.raises(UsageError, match="cannot support itself"):
        edit.link(base, "give-up-the-bike", "supports", "give-up-the-bike")
    with pytest.raises(UsageError, match="no claim 'nope'"):
        edit.link(base, "give-up-the-bike", "supports", "nope")
    assert snapshot(base) == before
    edit.link(base, "give-up-the-bike", "supports", "easy-cycling-no-bulk")
    last_lines = (base / GIVE_UP).read_text().splitlines()[-2:]
    assert last_lines == [
        '  quote: "I disagree with the advice to give up the bike altogether"',
        "supports: [easy-cycling-no-bulk]",
    ]
    kb, problems = load(base)
    assert kb is not None, problems


def draft(base: Path, name: str = "hills-build-quads.yaml") -> Path:
    folder = base / "review" / "coach"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        "# yaml-language-server: $schema=../../schema/claim.schema.json\n"
        "# Draft 1 of 1 by kb extract, from source 'coach'.\n"
        "# Suggestion: new claim.\n"
        "statement: 'Hill repeats in a hard gear build muscle in the quads: that is resistance training.'\n"
        "topic: running\n"
        "evidence:\n"
        "  - source: coach\n"
        "    stance: supports\n"
        "    kind: expert-opinion\n"
        '    quote: "Hill repeats in a hard gear build muscle in the quads: that is resistance training."\n'
        "    speaker: author\n"
        "supports: [easy-cycling-no-bulk]\n"
    )
    return path


def test_accept_a_draft_into_a_claim(runner, base: Path) -> None:
    path = draft(base)
    args = [
        "accept",
        str(path),
        "--into",
        "hard-cycling-builds-quads",
        "--kind",
        "mechanism",
        "--kb",
        str(base),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert not path.exists()
    kb, problems = load(base)
    assert kb is not None, problems
    (item,) = kb.claims["hard-cycling-builds-quads"].evidence
    assert (item.source, item.kind, item.stance, item.speaker) == ("coach", "mechanism", "supports", "author")


def test_accept_a_draft_as_a_new_claim(runner, base: Path) -> None:
    path = draft(base)
    args = [
        "accept",
        str(path),
        "--kb",
        str(base),
        "--statement",
        "Hill repeats build the quads.",
        "--topic",
        "cycling",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    new = base / "claims" / "cycling" / "hills-build-quads.yaml"
    assert result.stdout == "new claim claims/cycling/hills-build-quads.yaml; deleted the draft\n"
    text = new.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schema/claim.schema.json\nstatement: ")
    assert "Draft 1" not in text and not path.exists()
    kb, problems = load(base)
    assert kb is not None, problems
    claim = kb.claims["hills-build-quads"]
    assert (claim.statement, claim.topic, claim.supports) == (
        "Hill repeats build the quads.",
        "cycling",
        ["easy-cycling-no-bulk"],
    )


def test_accept_refuses_a_bad_draft_and_keeps_it(runner, base: Path) -> None:
    path = draft(base)
    path.write_text(path.read_text().replace('quote: "Hill', 'quote: "Downhill'))
    before = snapshot(base)
    result = runner.invoke(cli, ["accept", str(path), "--kb", str(base)])
    assert result.exit_code == 1
    assert "the quote is not in the text of source 'coach'" in result.stderr
    assert snapshot(base) == before
    wrong = runner.invoke(cli, ["accept", str(path), "--kb", str(base), "--stance", "opposes"])
    assert wrong.exit_code == 2
    assert "go with --into" in wrong.stderr


def test_add_evidence_and_link_commands(runner, base: Path) -> None:
    args = ["add-evidence", "hard-cycling-builds-quads", "--kb", str(base), "--source", "coach"]
    result = runner.invoke(cli, [*args, "--quote", "build muscle in the quads", "--kind", "mechanism"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "added supports evidence from 'coach' to claims/running/hard-cycling-builds-quads.yaml\n"
    )
    missing = runner.invoke(cli, [*args, "--quote", "build big muscle in the quads", "--kind", "mechanism"])
    assert missing.exit_code == 1
    assert missing.stderr == (
        "kb: error: the quote is not in the text of source 'coach'; closest passage: 'Hill repeats in a hard "
        "gear build muscle in the quads: that is resistance training.'; differs in: 'big' not in the source; "
        "nothing written\n"
    )
    bad_kind = runner.invoke(cli, [*args, "--quote", "x", "--kind", "opinion"])
    assert bad_kind.exit_code == 2
    linked = runner.invoke(
        cli, ["link", "give-up-the-bike", "contradicts", "easy-cycling-no-bulk", "--kb", str(base)]
    )
    assert linked.exit_code == 0, linked.output
    kb, problems = load(base)
    assert kb is not None, problems
    assert ("give-up-the-bike", "easy-cycling-no-bulk", "contradicts") in kb.relations()


def test_accept_into_two_claims_with_keep_draft_and_a_new_id(runner, base: Path) -> None:
    path = draft(base)
    relative = path.relative_to(base).as_posix()  # as the drafts name themselves
    first = ["accept", relative, "--kb", str(base), "--into", "hard-cycling-builds-quads", "--keep-draft"]
    result = runner.invoke(cli, first)
    assert result.exit_code == 0, result.output
    assert "kept the draft" in result.stdout and path.exists()
    second = ["accept", relative, "--kb", str(base), "--into", "give-up-the-bike", "--stance", "opposes"]
    assert runner.invoke(cli, second).exit_code == 0
    assert not path.exists()
    kb, problems = load(base)
    assert kb is not None, problems
    assert kb.claims["give-up-the-bike"].evidence[-1].stance == "opposes"
    # a new claim under an id of its own
    path = draft(base)
    result = runner.invoke(cli, ["accept", str(path), "--kb", str(base), "--id", "hills-build-quads-2"])
    assert result.exit_code == 0, result.output
    assert (base / "claims" / "running" / "hills-build-quads-2.yaml").is_file()
    wrong = runner.invoke(cli, ["accept", str(draft(base)), "--kb", str(base), "--into", "x", "--id", "y"])
    assert wrong.exit_code == 2
