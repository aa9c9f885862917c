"""Weights kept between batch commands (kb.resultcache): the same outputs; a change computes them anew."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kb import resultcache
from kb.cli import cli
from kb.export import to_json
from kb.load import load_valid
from kb.weigh import compute
from tests.conftest import REPO


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge base (its disputes are many)."""
    root = tmp_path / "kb"
    root.mkdir()
    for name in ("claims", "sources"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "kb.yaml", root / "kb.yaml")
    return root


@pytest.fixture
def computed(monkeypatch) -> list[bool]:
    """Records each time the weights are computed rather than taken from the cache."""
    calls: list[bool] = []
    real = resultcache.compute_weights

    def counting(kb, **kwargs):
        calls.append(kwargs.get("disputes", True))
        return real(kb, **kwargs)

    monkeypatch.setattr(resultcache, "compute_weights", counting)
    return calls


def run(runner, base: Path, *args: str) -> str:
    result = runner.invoke(cli, [*args, "--kb", str(base)])
    assert result.exit_code == 0, result.output
    return result.stdout


def fresh_json(base: Path) -> str:
    kb = load_valid(base)
    return to_json(kb, compute(kb))


def test_kept_weights_decode_to_the_same_weights(base: Path) -> None:
    kb = load_valid(base)
    weights = compute(kb)
    assert weights.disputes
    assert resultcache.decode(resultcache.encode(weights)) == weights


@pytest.mark.parametrize(
    "command",
    [
        ("export", "--format", "json"),
        ("export", "--format", "graphml"),
        ("report", "--format", "md"),
        ("report", "--format", "json"),
        ("contradictions",),
        ("contradictions", "--json"),
    ],
)
def test_a_second_run_takes_the_kept_weights_and_prints_the_same(
    runner, base: Path, computed, command
) -> None:
    first = run(runner, base, "export", "--format", "json")
    assert computed == [True] and (base / ".kb-cache" / "weights.json").is_file()
    before = run(runner, base, *command) if command[:3] != ("export", "--format", "json") else first
    assert computed == [True]  # taken from the cache
    (base / ".kb-cache" / "weights.json").unlink()
    assert run(runner, base, *command) == before  # computed again: the same bytes
    assert len(computed) == 2


def test_an_edited_claim_misses(runner, base: Path, computed) -> None:
    run(runner, base, "export", "--format", "json")
    claim = next((base / "claims").rglob("*.yaml"))
    text = claim.read_text(encoding="utf-8")
    assert "stance: supports" in text
    claim.write_text(text.replace("stance: supports", "stance: opposes", 1), encoding="utf-8")
    assert run(runner, base, "export", "--format", "json") == fresh_json(base)
    assert computed == [True, True]
    run(runner, base, "export", "--format", "json")  # kept again for the edited files
    assert computed == [True, True]


def disputed_claim(base: Path) -> Path:
    """The file of a claim a dispute's positions quote."""
    kb = load_valid(base)
    return base / kb.claims[compute(kb).disputes[0].positions[0].claim].path


def edit_statement(base: Path, words: str = "Edited,") -> None:
    claim = disputed_claim(base)
    text = claim.read_text(encoding="utf-8")
    assert "\nstatement: " in text
    claim.write_text(text.replace("\nstatement: ", f"\nstatement: {words} ", 1), encoding="utf-8")


@pytest.mark.parametrize(
    "command", [("export", "--format", "json"), ("report", "--format", "md"), ("contradictions", "--json")]
)
def test_after_a_statement_edit_the_kept_weights_are_restated_not_computed(
    runner, base: Path, computed, command
) -> None:
    """No number depends on a statement's words: the weights kept for the base before the edit are
    taken with their words written again, and print what weights computed afresh print."""
    run(runner, base, "export", "--format", "json")
    edit_statement(base)
    after = run(runner, base, *command)
    assert computed == [True]  # not weighed again
    kept = resultcache.cached(load_valid(base))  # and kept for the edited files
    assert kept == compute(load_valid(base))
    (base / ".kb-cache" / "weights.json").unlink()
    assert run(runner, base, *command) == after
    assert computed == [True, True]


def test_a_statement_edit_with_another_change_is_weighed_again(runner, base: Path, computed) -> None:
    run(runner, base, "export", "--format", "json")
    claim = disputed_claim(base)
    edit_statement(base)
    text = claim.read_text(encoding="utf-8")
    flipped = "opposes" if "stance: supports" in text else "supports"
    claim.write_text(re.sub(r"stance: (supports|opposes)", f"stance: {flipped}", text, count=1), "utf-8")
    assert run(runner, base, "export", "--format", "json") == fresh_json(base)
    assert computed == [True, True]


def test_a_changed_setting_misses(runner, base: Path, computed) -> None:
    run(runner, base, "export", "--format", "json")
    config = base / "kb.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + "\nweighting:\n  author_bonus: 0.2\n", encoding="utf-8"
    )
    assert run(runner, base, "export", "--format", "json") == fresh_json(base)
    assert len(computed) == 2


def test_a_tampered_cache_is_ignored(runner, base: Path, computed) -> None:
    expected = run(runner, base, "export", "--format", "json")
    kept = base / ".kb-cache" / "weights.json"
    seal, _, data = kept.read_bytes().partition(b"\n")
    kb = load_valid(base)
    some = next(w for w in compute(kb).claims.values() if w.relations)
    number = repr(some.strength).encode()
    assert number in data
    kept.write_bytes(seal + b"\n" + data.replace(number, b"0.999", 1))  # a stronger claim, same seal
    assert run(runner, base, "export", "--format", "json") == expected
    assert len(computed) == 2
    kept.write_bytes(b"not a cache")
    assert run(runner, base, "export", "--format", "json") == expected
    assert len(computed) == 3


def test_weights_kept_for_other_files_are_passed_over_before_their_seal_is_checked(
    base: Path, monkeypatch
) -> None:
    """After an edit the kept weights miss on the key at their head: the file (megabytes at 10,000 claims)
    is neither sealed-checked nor parsed."""
    from kb import cache

    kb = load_valid(base)
    weights = compute(kb)
    resultcache.keep(kb, weights)
    unsealed: list[bytes] = []
    real = cache.unseal
    monkeypatch.setattr(cache, "unseal", lambda blob: unsealed.append(blob) or real(blob))
    assert resultcache.cached(kb, resultcache.Keys("0" * 64, "0" * 64)) is None
    assert unsealed == []
    assert resultcache.cached(kb) == weights
    assert len(unsealed) == 1


def test_kb_build_keeps_the_weights_for_the_commands_after_it(runner, base: Path, computed, tmp_path) -> None:
    """kb build computes the weights once and keeps them (from its forked child, while it makes the
    pages): the commands after it, and a build with nothing changed, take them."""
    out = tmp_path / "site"
    built = runner.invoke(cli, ["build", "--kb", str(base), "--out", str(out)])
    assert built.exit_code == 0, built.output
    assert computed == [True]
    assert (base / ".kb-cache" / "weights.json").is_file()
    assert run(runner, base, "export", "--format", "json") == fresh_json(base)
    again = runner.invoke(cli, ["build", "--kb", str(base), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert computed == [True]
