"""Work shared with a forked child (kb.forked.in_two) gives what one process gives, byte for byte."""

from __future__ import annotations

import os

import pytest

from kb import contradictions, export, forked, report
from kb.load import load_valid
from kb.weigh import compute
from tests.conftest import REPO

needs_fork = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and two processors")


@pytest.fixture(scope="module")
def shipped():
    kb = load_valid(REPO)
    return kb, compute(kb)


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """Counts the children started, to show the shared path was taken."""
    started: list[int] = []
    real = forked.start

    def counting(work):
        started.append(1)
        return real(work)

    monkeypatch.setattr(forked, "start", counting)
    return started


@needs_fork
def test_in_two_concatenates_both_shares_in_order(forks) -> None:
    costs = [1.0] * 10 + [30.0] + [1.0] * 5  # 45 in all: this process takes the first 10 of it
    pid = os.getpid()
    shares: list[tuple[int, int]] = []

    def work(start: int, stop: int) -> list:
        if os.getpid() == pid:
            shares.append((start, stop))
        return [(i, os.getpid() == pid) for i in range(start, stop)]

    done = forked.in_two(work, costs, minimum=10)
    assert [i for i, _ in done] == list(range(16)) and forks == [1]
    assert shares == [(0, 10)]  # the child took the rest, which holds about half of the cost
    assert [here for _, here in done] == [True] * 10 + [False] * 6


@needs_fork
def test_a_large_answer_comes_back_whole_and_one_cut_short_as_none() -> None:
    big = bytes(range(256)) * 40_000  # 10 MB: many times what a pipe holds
    assert forked.start(lambda: [big, "after"])() == [big, "after"]
    # the child pickles straight into the pipe: here it has sent the large part when it fails (a
    # lambda does not pickle); the parent reads what came, and gives None, without hanging
    assert forked.start(lambda: [big, lambda: None])() is None


@needs_fork
def test_in_two_does_the_childs_share_itself_when_the_child_fails(forks) -> None:
    pid = os.getpid()

    def work(start: int, stop: int) -> list:
        if os.getpid() != pid:
            raise RuntimeError("the child fails")
        return list(range(start, stop))

    assert forked.in_two(work, [1.0] * 8, minimum=1) == list(range(8)) and forks == [1]


def test_in_two_does_all_here_below_its_minimum_or_without_fork(forks, monkeypatch) -> None:
    assert forked.in_two(lambda a, b: list(range(a, b)), [1.0] * 8, minimum=100) == list(range(8))
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    assert forked.in_two(lambda a, b: list(range(a, b)), [1.0] * 8, minimum=1) == list(range(8))
    assert forks == []


@needs_fork
def test_json_export_in_two_is_the_same_bytes(shipped, forks, monkeypatch) -> None:
    kb, weights = shipped
    whole = export.pretty_json_bytes(export.to_dict(kb, weights))
    monkeypatch.setattr(export, "PARALLEL_CLAIMS_COST", 0)
    assert export.to_json_bytes(kb, weights) == whole and forks == [1]


@needs_fork
@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_report_in_two_is_the_same_bytes(shipped, forks, monkeypatch, fmt: str) -> None:
    kb, weights = shipped
    if fmt == "json":
        whole = export.pretty_json_bytes(report.to_dict(kb, weights, report.build(kb, weights)))
    else:
        whole = report.render(kb, weights, fmt).encode("utf-8")
    assert len(weights.topics) >= 2
    monkeypatch.setattr(report, "PARALLEL_TOPICS_COST", 0)
    assert report.render_bytes(kb, weights, fmt) == whole and forks == [1]


@needs_fork
@pytest.mark.parametrize("source", [None, "how-to-get-smaller-legs"])
def test_contradictions_in_two_are_the_same_bytes(shipped, forks, monkeypatch, source) -> None:
    kb, weights = shipped
    found = contradictions.find_contradictions(kb, weights)
    matrix = contradictions.agreement_matrix(kb, weights, found)
    if source is not None:
        found = [c for c in found if source in c.sources]
    assert len(found) >= 2
    text = contradictions.render_text(kb, found, matrix, weights, width=100, source=source)
    data = export.pretty_json_bytes(
        {"source": source, **contradictions.to_dict(kb, found, matrix, weights.disputes)}
    )
    monkeypatch.setattr(contradictions, "PARALLEL_CLASHES_COST", 0)
    shared_text = contradictions.render_text(
        kb, found, matrix, weights, width=100, source=source, parallel=True
    )
    assert shared_text == text
    assert contradictions.to_json_bytes(kb, found, matrix, weights.disputes, source) == data
    assert len(forks) == 2


@needs_fork
@pytest.mark.parametrize(
    "command",
    [["export", "--format", "json"], ["report", "--format", "json"], ["contradictions", "--json"]],
)
def test_the_cli_writes_the_pieces_of_a_shared_json_as_one_document(
    shipped, forks, monkeypatch, tmp_path, command: list[str]
) -> None:
    """The commands write JSON laid out in two processes piece by piece (kb.output), to a file and to
    standard output: the same bytes as written whole."""
    from click.testing import CliRunner

    from kb.cli import cli

    runner = CliRunner()
    whole = runner.invoke(cli, [*command, "--kb", str(REPO)])
    assert whole.exit_code == 0, whole.output
    for module, name in ((export, "PARALLEL_CLAIMS_COST"), (report, "PARALLEL_TOPICS_COST"),
                         (contradictions, "PARALLEL_CLASHES_COST")):  # fmt: skip
        monkeypatch.setattr(module, name, 0)
    before = len(forks)
    shared = runner.invoke(cli, [*command, "--kb", str(REPO)])
    assert shared.exit_code == 0 and shared.stdout_bytes == whole.stdout_bytes
    assert len(forks) > before  # the shared run forked
    if command[0] != "contradictions":  # the one without -o
        out = tmp_path / "out.json"
        written = runner.invoke(cli, [*command, "--kb", str(REPO), "-o", str(out)])
        assert written.exit_code == 0 and out.read_bytes() == whole.stdout_bytes
