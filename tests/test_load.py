"""The loader and validator on small fixture folders, one per kind of problem."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kb import forked
from kb import load as loader
from kb.cli import cli
from kb.errors import InvalidKnowledgeBase
from kb.load import load, load_valid
from tests.conftest import FIXTURES, check_golden

INVALID = sorted(p for p in (FIXTURES / "invalid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", INVALID, ids=[p.name for p in INVALID])
def test_invalid_fixture_reports_golden_errors(case: Path, runner) -> None:
    started = time.perf_counter()
    result = runner.invoke(cli, ["validate", "--kb", str(case)])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    check_golden(case / "expected.txt", result.stderr)
    # every reported error names a file of the fixture and a line
    for line in result.stderr.splitlines()[:-1]:
        path, lineno, col, _ = line.split(":", 3)
        assert (case / path).exists(), line
        assert int(lineno) >= 1 and int(col) >= 1
    assert elapsed < 5, "a hostile file must be refused quickly"


def test_valid_fixture_loads() -> None:
    kb, problems = load(FIXTURES / "valid")
    assert kb is not None, problems
    assert problems == []
    assert list(kb.claims) == ["less-protein", "running-shrinks-legs", "sprinting-builds-legs"]
    assert kb.claims["running-shrinks-legs"].path == "claims/running/running-shrinks-legs.yaml"
    assert kb.config.title == "Small test base"


def test_quote_spans_point_into_source_text() -> None:
    kb = load_valid(FIXTURES / "valid")
    text = kb.texts["guide-b"]
    first, second = kb.quote_spans[("sprinting-builds-legs", 0)]
    assert text[first.start : first.end] == "Sprinting builds muscle"
    assert text[second.start : second.end] == "in the legs"


def test_byte_order_mark_and_crlf_are_accepted() -> None:
    kb, problems = load(FIXTURES / "bom-crlf")
    assert kb is not None, problems
    assert kb.sources["win"].title == "Windows Source"
    assert "\r" not in kb.texts["win"]


def test_unsafe_tag_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "sources").mkdir()
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "x.yaml").write_text(
        f"statement: !!python/object/apply:os.system ['touch {marker}']\ntopic: t\nevidence: []\n"
    )
    kb, problems = load(tmp_path)
    assert kb is None
    assert not marker.exists()
    assert "unsupported YAML tag" in problems[0].message


def test_load_valid_raises_with_every_problem() -> None:
    with pytest.raises(InvalidKnowledgeBase) as info:
        load_valid(FIXTURES / "invalid" / "wrong-types")
    assert len([p for p in info.value.problems if p.severity == "error"]) == 4


def test_missing_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    kb, problems = load(tmp_path / "nowhere")
    assert kb is None and "no such knowledge-base folder" in problems[0].message
    kb, problems = load(tmp_path)
    assert kb is None and "not a knowledge base" in problems[0].message


def test_progress_is_reported_per_file_and_silent_when_piped(runner) -> None:
    from contextlib import contextmanager

    calls: list[tuple[str, int]] = []
    steps: list[int] = []

    @contextmanager
    def record(label: str, total: int):
        calls.append((label, total))
        yield steps.append

    load(FIXTURES / "valid", progress=record)
    assert calls == [("validating", 5)]  # 2 sources + 3 claims
    assert sum(steps) == 5
    # through the CLI, output is not a terminal: no bar, just the result
    result = runner.invoke(cli, ["validate", "--kb", str(FIXTURES / "valid")])
    assert result.stderr == ""


def test_unfinished_claims_are_warnings_not_errors(runner) -> None:
    """A placeholder statement, a claim without evidence and a topic other than the folder's are
    reported, and kb validate still succeeds."""
    case = FIXTURES / "warnings"
    result = runner.invoke(cli, ["validate", "--kb", str(case)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 1 sources, 3 claims, 1 quotes verified, 1 relations, 4 warnings\n"
    check_golden(case / "expected.txt", result.stderr)


def test_one_run_reports_every_kind_of_problem() -> None:
    """Field errors do not hide the quote and reference checks of the same file (one-pass)."""
    kb, problems = load(FIXTURES / "invalid" / "one-pass")
    assert kb is None
    messages = [(p.path.rsplit("/", 1)[-1], p.message.split(":")[0]) for p in problems]
    assert ("slow-running-shrinks.yaml", "evidence[0].stance") in messages  # a field error...
    assert ("slow-running-shrinks.yaml", "evidence[0].quote") in messages  # ...and its quote checked
    assert ("slow-running-shrinks.yaml", "supports[0]") in messages  # ...and its relations
    assert ("running-builds-muscle.yaml", "evidence[0].quote") in messages  # a quote beside a type error
    assert ("one.yaml", "kind") in messages  # the source's text is still read for the quotes


_BASES = sorted(
    [FIXTURES / "valid", FIXTURES / "warnings", *(p for p in (FIXTURES / "invalid").iterdir() if p.is_dir())]
)


@pytest.mark.parametrize("root", _BASES, ids=lambda p: p.name)
def test_a_cold_load_that_parses_ahead_in_a_child_loads_the_same(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every base, valid or not: parsing the later claim files in a forked child gives the same
    knowledge base and the same problems at the same places."""
    expected = load(root, cache=False)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    monkeypatch.setattr(loader, "PARSE_AHEAD_FILES", 1)
    monkeypatch.setattr(forked, "can_fork", lambda: True)  # the test runner may run other threads
    assert load(root, cache=False) == expected
    assert len(forks) <= 1
    if root.name in ("valid", "warnings"):
        assert forks == [1]


def test_a_cold_load_whose_child_fails_parses_here(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    root = FIXTURES / "valid"
    expected = load(root, cache=False)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("the child cannot send")

    monkeypatch.setattr(pickle, "dumps", broken)  # only the child calls it
    monkeypatch.setattr(loader, "PARSE_AHEAD_FILES", 1)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    assert load(root, cache=False) == expected


def test_a_warm_load_parses_nothing_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "valid", root)
    load(root)  # fills the cache
    monkeypatch.setattr(loader, "PARSE_AHEAD_FILES", 1)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked on a warm load"))
    kb, problems = load(root)
    assert kb is not None


def test_the_command_line_offers_the_words_the_models_allow() -> None:
    """kb.vocabulary (for the command line, without pydantic) and kb.model say the same."""
    from kb import model, vocabulary

    assert vocabulary.SOURCE_KINDS == model.SOURCE_KINDS
    assert vocabulary.EVIDENCE_KINDS == model.EVIDENCE_KINDS
    assert vocabulary.STANCES == model.STANCES


def test_kb_help_loads_neither_the_models_nor_the_libraries_of_a_load() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kb.cli; "
        "print(sorted(m for m in ('pydantic', 'yaml', 'numpy', 'kb.model', 'kb.load') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_cold_load_takes_the_childs_claims_as_validated_and_its_quotes_as_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The child validates its share of the claim files and finds their quotes: this process
    validates only its own share, and finds no quote of the child's claims again."""
    from kb import quotes

    root = FIXTURES / "valid"
    expected = load(root, cache=False)
    here = os.getpid()
    validated: list[str] = []
    searched: list[str] = []
    real_validate, real_find = loader._validate, quotes.find

    def validate(col, model, located, rel, **extra):
        if model is loader.Claim and os.getpid() == here:
            validated.append(rel)
        return real_validate(col, model, located, rel, **extra)

    def find(quote: str, text: str):
        if os.getpid() == here:
            searched.append(quote)
        return real_find(quote, text)

    monkeypatch.setattr(loader, "_validate", validate)
    monkeypatch.setattr(quotes, "find", find)
    monkeypatch.setattr(loader, "PARSE_AHEAD_FILES", 1)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    assert load(root, cache=False) == expected
    # three claim files: the child takes the last (55 % of three, rounded down)
    assert validated == ["claims/diet/less-protein.yaml", "claims/running/running-shrinks-legs.yaml"]
    assert sorted(searched) == [  # the quotes of those two
        "Eat less protein if you want smaller legs.",
        "I'm sure of it - trust me",
        "Long runs do not shrink legs",
        "Protein keeps muscle.",
    ]
