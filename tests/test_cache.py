"""The load cache: reused when nothing changed, never trusted over the files."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from kb.cache import CACHE_DIR, FORMAT, LoadCache, _secret, seal, unseal
from kb.cli import cli
from kb.load import load
from tests.conftest import FIXTURES


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "valid", root, ignore=shutil.ignore_patterns(CACHE_DIR))
    return root


def test_second_load_reuses_the_cache_and_gives_the_same_result(kb_copy: Path, monkeypatch) -> None:
    first, problems = load(kb_copy)
    assert first is not None, problems
    assert (kb_copy / CACHE_DIR / "parsed.json").is_file()
    parses = []
    import kb.yamlfile as yamlfile

    real_parse = yamlfile.parse
    monkeypatch.setattr(yamlfile, "parse", lambda text: parses.append(text) or real_parse(text))
    second, _ = load(kb_copy)
    assert parses == [], "nothing changed, so nothing is parsed again"
    assert second.model_dump() == first.model_dump()


def test_a_changed_file_is_parsed_again(kb_copy: Path) -> None:
    load(kb_copy)
    claim = kb_copy / "claims" / "diet" / "less-protein.yaml"
    claim.write_text(claim.read_text().replace("Eating less protein", "Eating much less protein"))
    kb, _ = load(kb_copy)
    assert kb.claims["less-protein"].statement.startswith("Eating much less protein")


def test_errors_keep_their_positions_when_the_file_came_from_the_cache(kb_copy: Path) -> None:
    load(kb_copy)
    # the file is valid YAML and cached; an unknown source is only found after parsing
    (kb_copy / "sources" / "guide-b.yaml").unlink()
    (kb_copy / "sources" / "guide-b.txt").unlink()
    kb, problems = load(kb_copy)
    assert kb is None
    assert [str(p) for p in problems if p.severity == "error"][0].startswith(
        "claims/diet/less-protein.yaml:9:13: evidence[1].source: unknown source 'guide-b'"
    )


def test_a_tampered_cache_cannot_make_a_missing_quote_pass(kb_copy: Path) -> None:
    load(kb_copy)
    claim = kb_copy / "claims" / "diet" / "less-protein.yaml"
    claim.write_text(claim.read_text().replace("Protein keeps muscle.", "Protein builds muscle."))
    store = LoadCache(kb_copy)
    text_digest = __import__("hashlib").sha256((kb_copy / "sources" / "guide-b.txt").read_bytes()).hexdigest()
    store.used_parsed = store.parsed
    store.used_quotes = {**store.quotes, store.quote_key("Protein builds muscle.", text_digest): [[0, 10]]}
    store.save()
    kb, problems = load(kb_copy)
    assert kb is None
    assert any("not found in the text of source 'guide-b'" in p.message for p in problems)


def test_a_corrupt_cache_is_ignored(kb_copy: Path) -> None:
    (kb_copy / CACHE_DIR).mkdir()
    (kb_copy / CACHE_DIR / "parsed.json").write_text("{not json")
    kb, problems = load(kb_copy)
    assert kb is not None, problems
    stored = unseal((kb_copy / CACHE_DIR / "parsed.json").read_bytes())
    assert stored is not None and json.loads(stored)["format"] == FORMAT


def _edit_cache(root: Path, change) -> None:
    """Rewrite the cache file as someone editing it would: valid JSON, its seal left as it was."""
    file = root / CACHE_DIR / "parsed.json"
    head, _, data = file.read_bytes().partition(b"\n")
    file.write_bytes(head + b"\n" + change(data))


def test_an_edited_cache_entry_is_not_believed(kb_copy: Path, runner) -> None:
    load(kb_copy)
    _edit_cache(kb_copy, lambda data: data.replace(b"Eating less protein", b"Eating rocks"))
    kb, problems = load(kb_copy)
    assert kb is not None, problems
    assert kb.claims["less-protein"].statement.startswith("Eating less protein")
    result = runner.invoke(cli, ["export", "--kb", str(kb_copy)])
    assert "Eating rocks" not in result.output and "Eating less protein" in result.output


def test_a_cache_that_came_with_the_folder_is_not_believed(kb_copy: Path, monkeypatch, tmp_path) -> None:
    """Sealed under another user's key (a knowledge base copied with its .kb-cache): ignored."""
    load(kb_copy)
    _edit_cache(kb_copy, lambda data: data.replace(b"Eating less protein", b"Eating rocks"))
    file = kb_copy / CACHE_DIR / "parsed.json"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-user"))
    _secret.cache_clear()
    try:
        file.write_bytes(seal(file.read_bytes().partition(b"\n")[2]))
    finally:
        monkeypatch.undo()
        _secret.cache_clear()
    kb, _ = load(kb_copy)
    assert kb is not None and kb.claims["less-protein"].statement.startswith("Eating less protein")


def test_deeply_nested_cache_is_ignored(kb_copy: Path, runner) -> None:
    (kb_copy / CACHE_DIR).mkdir()
    deep = b"[" * 200_000 + b"]" * 200_000
    (kb_copy / CACHE_DIR / "parsed.json").write_bytes(seal(deep))  # even one kb's own key vouches for
    for command in (["validate"], ["export"], ["report"]):
        result = runner.invoke(cli, [*command, "--kb", str(kb_copy)])
        assert result.exit_code == 0, result.output


def test_a_fifo_in_place_of_the_cache_is_ignored(kb_copy: Path) -> None:
    (kb_copy / CACHE_DIR).mkdir()
    os.mkfifo(kb_copy / CACHE_DIR / "parsed.json")
    kb, problems = load(kb_copy, cache=True)
    assert kb is not None, problems


def test_a_read_only_folder_still_loads(kb_copy: Path) -> None:
    kb, _ = load(kb_copy, cache=False)
    assert kb is not None
    assert not (kb_copy / CACHE_DIR).exists()


@pytest.mark.parametrize(
    "value", [".nan", ".inf", "-.inf", "123456789012345678901234567890", "2019-05-01", "2019-05-01 10:20:30"]
)
def test_values_plain_json_cannot_hold_come_back_from_the_cache_as_parsed(
    kb_copy: Path, runner, value: str
) -> None:
    """A number that is not finite, an integer beyond 64 bits and a date or time come back from the
    cache as they were parsed: the second run reports exactly what the first did."""
    source = kb_copy / "sources" / "blog-a.yaml"
    source.write_text(source.read_text() + f"reliability: {value}\nreliability_note: odd\n")
    first = runner.invoke(cli, ["validate", "--kb", str(kb_copy)])
    assert (kb_copy / CACHE_DIR / "parsed.json").is_file()
    second = runner.invoke(cli, ["validate", "--kb", str(kb_copy)])
    assert first.exit_code == second.exit_code == 1
    assert "sources/blog-a.yaml:5:" in first.stderr
    assert second.output == first.output


def _validations(monkeypatch) -> list[str]:
    """The claim files validated from here on (a claim rebuilt from the cache is not)."""
    import kb.load as loader

    validated: list[str] = []
    real = loader._validate

    def counting(col, model, located, rel, **extra):
        if model is loader.Claim:
            validated.append(rel)
        return real(col, model, located, rel, **extra)

    monkeypatch.setattr(loader, "_validate", counting)
    return validated


def _same_records(first, second) -> None:
    """The same claims, field for field, with the same fields set and the same repr."""
    assert list(first.claims) == list(second.claims)
    for claim_id, claim in first.claims.items():
        again = second.claims[claim_id]
        assert again == claim and repr(again) == repr(claim)
        assert again.__dict__ == claim.__dict__ and list(again.__dict__) == list(claim.__dict__)
        assert again.model_fields_set == claim.model_fields_set
        for ev, ev_again in zip(claim.evidence, again.evidence, strict=True):
            assert ev_again.model_fields_set == ev.model_fields_set and repr(ev_again) == repr(ev)
            assert list(ev_again.__dict__) == list(ev.__dict__)
    assert second.quote_spans == first.quote_spans and list(second.quote_spans) == list(first.quote_spans)
    assert second.model_dump() == first.model_dump()


def test_a_claim_validated_before_is_rebuilt_without_validating_it_again(kb_copy: Path, monkeypatch) -> None:
    first, problems = load(kb_copy)
    assert first is not None, problems
    validated = _validations(monkeypatch)
    second, again = load(kb_copy)
    assert validated == [], "every claim file has the bytes it had: none is validated again"
    assert again == problems
    _same_records(first, second)


def test_an_edited_claim_is_validated_again_and_only_it(kb_copy: Path, monkeypatch) -> None:
    load(kb_copy)
    claim = kb_copy / "claims" / "diet" / "less-protein.yaml"
    claim.write_text(claim.read_text().replace("Eating less protein", "Eating much less protein"))
    validated = _validations(monkeypatch)
    kb, _ = load(kb_copy)
    assert validated == ["claims/diet/less-protein.yaml"]
    assert kb.claims["less-protein"].statement.startswith("Eating much less protein")
    validated.clear()
    kb_again, _ = load(kb_copy)
    assert validated == [] and kb_again == kb


def test_a_claim_moved_to_another_folder_is_validated_again(kb_copy: Path, monkeypatch) -> None:
    """Its id and path come from where it is, and its warnings may depend on its folder."""
    load(kb_copy)
    (kb_copy / "claims" / "running").mkdir(exist_ok=True)
    (kb_copy / "claims" / "diet" / "less-protein.yaml").rename(
        kb_copy / "claims" / "running" / "less-protein.yaml"
    )
    validated = _validations(monkeypatch)
    kb, problems = load(kb_copy)
    assert validated == ["claims/running/less-protein.yaml"]
    assert kb.claims["less-protein"].path == "claims/running/less-protein.yaml"
    assert any(
        p.path == "claims/running/less-protein.yaml" and "but the file is in claims/running/" in p.message
        for p in problems
    )


def test_warnings_are_reported_again_when_the_claims_come_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "warnings", root, ignore=shutil.ignore_patterns(CACHE_DIR))
    first, problems = load(root)
    assert first is not None and len([p for p in problems if p.severity == "warning"]) == 4
    validated = _validations(monkeypatch)
    second, again = load(root)
    assert validated == []
    assert again == problems
    _same_records(first, second)


def test_an_edited_claim_record_in_the_cache_is_not_believed(kb_copy: Path) -> None:
    load(kb_copy)
    _edit_cache(kb_copy, lambda data: data.replace(b"Protein keeps muscle", b"Protein keeps rocks"))
    kb, problems = load(kb_copy)
    assert kb is not None, problems
    assert "rocks" not in kb.claims["less-protein"].model_dump_json()


def test_claim_records_are_used_only_by_the_same_code(kb_copy: Path, monkeypatch) -> None:
    """A cache written by another kb (another hash of the code that validates) keeps its parsed
    files, but its claims are validated afresh."""
    import kb.load as loader

    first, _ = load(kb_copy)
    stored = json.loads(unseal((kb_copy / CACHE_DIR / "parsed.json").read_bytes()))
    assert stored["code"] == loader.code_version() and len(stored["claims"]) == 3
    monkeypatch.setattr(loader, "code_version", lambda: "another kb")
    validated = _validations(monkeypatch)
    second, _ = load(kb_copy)
    assert len(validated) == 3
    assert second == first
    stored = json.loads(unseal((kb_copy / CACHE_DIR / "parsed.json").read_bytes()))
    assert stored["code"] == "another kb"


def test_a_sealed_claim_record_of_another_shape_is_validated_instead(kb_copy: Path, monkeypatch) -> None:
    """Only kb writes the cache; still, a record it cannot rebuild a claim from is no traceback."""
    first, _ = load(kb_copy)
    file = kb_copy / CACHE_DIR / "parsed.json"
    stored = json.loads(unseal(file.read_bytes()))
    for entry in stored["claims"].values():
        entry[1] = ["not", "a", "record"]
    file.write_bytes(seal(json.dumps(stored).encode()))
    validated = _validations(monkeypatch)
    second, _ = load(kb_copy)
    assert len(validated) == 3 and second == first


@pytest.mark.parametrize(
    "root",
    sorted(
        [
            FIXTURES / "valid",
            FIXTURES / "warnings",
            *(p for p in (FIXTURES / "invalid").iterdir() if p.is_dir()),
        ]
    ),
    ids=lambda p: p.name,
)
def test_every_base_loads_the_same_from_the_cache(root: Path, tmp_path: Path) -> None:
    """Valid or not: a load from a filled cache gives what a load without one gives."""
    copy = tmp_path / "kb"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(CACHE_DIR), symlinks=True)
    expected = load(copy, cache=False)
    assert load(copy) == expected  # fills the cache
    again = load(copy)
    assert again == expected
    if expected[0] is not None:
        _same_records(expected[0], again[0])


def test_the_quote_cache_key_is_the_one_the_loader_uses(kb_copy: Path) -> None:
    load(kb_copy)
    store = LoadCache(kb_copy)
    text = (kb_copy / "sources" / "guide-b.txt").read_bytes()
    text_digest = __import__("hashlib").sha256(text).hexdigest()
    assert store.quote_key("Protein keeps muscle.", text_digest) in store.quotes


@pytest.fixture
def settled(monkeypatch) -> None:
    """Files count as changed long enough ago for their stat to vouch for them (the racy rule's
    window is moved into the past: a fixture's files were all written just now)."""
    import kb.files

    monkeypatch.setattr(kb.files, "RACY_NS", -10_000_000_000)


def _claim_reads(monkeypatch) -> list[str]:
    import kb.load

    reads: list[str] = []
    real = kb.load._read_raw
    monkeypatch.setattr(kb.load, "_read_raw", lambda col, file: reads.append(file.rel) or real(col, file))
    return reads


def test_an_unchanged_claim_file_is_known_by_its_stat_without_reading_it(
    kb_copy: Path, monkeypatch, settled
) -> None:
    first, problems = load(kb_copy)
    assert first is not None, problems
    reads = _claim_reads(monkeypatch)
    second, again = load(kb_copy)
    assert [r for r in reads if r.startswith("claims/")] == []
    assert second.model_dump() == first.model_dump()
    assert again == problems


def test_a_claim_file_changed_within_the_racy_window_is_read(kb_copy: Path, monkeypatch) -> None:
    # files written just now: their stat cannot vouch for them (they may change again within the
    # same timestamp), so they are read and hashed every time
    from kb.files import vouched_stat

    claim = kb_copy / "claims" / "diet" / "less-protein.yaml"
    assert vouched_stat(str(claim), time.time_ns()) is None
    load(kb_copy)
    entries = json.loads(unseal((kb_copy / CACHE_DIR / "parsed.json").read_bytes()))["claims"]
    assert entries and all(len(entry) == 3 for entry in entries.values()), "kept without a stat"
    reads = _claim_reads(monkeypatch)
    load(kb_copy)
    assert "claims/diet/less-protein.yaml" in reads


def test_an_edited_claim_file_with_the_same_size_and_mtime_is_still_seen(
    kb_copy: Path, monkeypatch, settled
) -> None:
    claim = kb_copy / "claims" / "diet" / "less-protein.yaml"
    before = os.stat(claim)
    first, _ = load(kb_copy)
    assert first.claims["less-protein"].statement.startswith("Eating less protein")
    time.sleep(0.01)  # a later ctime on file systems whose clock ticks coarsely
    text = claim.read_text()
    claim.write_text(text.replace("Eating less protein", "Eating LESS protein"))  # the same size
    os.utime(claim, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    after = os.stat(claim)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    reads = _claim_reads(monkeypatch)
    second, _ = load(kb_copy)
    assert "claims/diet/less-protein.yaml" in reads, "its ctime moved: read again"
    assert second.claims["less-protein"].statement.startswith("Eating LESS protein")


def test_a_claim_file_replaced_by_a_link_is_read_as_a_link(kb_copy: Path, monkeypatch, settled) -> None:
    load(kb_copy)
    claim = kb_copy / "claims" / "diet" / "less-protein.yaml"
    moved = kb_copy.parent / "elsewhere.yaml"
    claim.rename(moved)
    claim.symlink_to(moved)
    kb, problems = load(kb_copy)
    assert kb is None
    assert any("outside the knowledge-base folder" in str(p) for p in problems)


def test_errors_in_a_claim_known_by_its_stat_keep_their_positions(kb_copy: Path, settled) -> None:
    load(kb_copy)
    target = kb_copy / "claims" / "running" / "running-shrinks-legs.yaml"
    target.unlink()
    _, fresh = load(kb_copy, cache=False)
    _, kept = load(kb_copy)  # less-protein.yaml, which supports the removed claim, by its stat
    assert [str(p) for p in kept] == [str(p) for p in fresh]
    assert any(str(p).startswith("claims/diet/less-protein.yaml:13:") for p in kept)


def test_a_cache_cut_short_is_ignored_and_made_again(kb_copy: Path) -> None:
    # the load cache is written without waiting for the disk: a crash may leave it cut short
    first, _ = load(kb_copy)
    file = kb_copy / CACHE_DIR / "parsed.json"
    whole = file.read_bytes()
    file.write_bytes(whole[: len(whole) // 2])
    second, _ = load(kb_copy)
    assert second.model_dump() == first.model_dump()
    assert unseal(file.read_bytes()) is not None, "written whole again"
