"""The safe, located YAML reader: positions, refusals, and fuzzing for crashes."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import yamlfile
from kb.errors import Problem
from kb.load import load


@pytest.fixture(params=["composer", "events"])
def reader(request, monkeypatch) -> str:
    """Run a test on both reading paths: the C composer and the bounded event reader."""
    if request.param == "events":
        monkeypatch.setattr(yamlfile, "FAST_PATH_MAX_INDICATORS", -1)
    return request.param


def test_positions_of_values_and_keys(reader) -> None:
    located = yamlfile.parse("title: A\nevidence:\n  - source: x\n    quote: 'q'\n")
    assert located.data == {"title": "A", "evidence": [{"source": "x", "quote": "q"}]}
    assert located.position(("title",)) == (1, 8)
    assert located.position(("evidence", 0, "quote")) == (4, 12)
    assert located.position(("evidence",), key=True) == (2, 1)
    assert located.position(("evidence", 0, "missing")) == (3, 5)
    assert located.position(("evidence", 5)) == (3, 3)
    assert located.top_level_keys() == {"title": (1, 1), "evidence": (2, 1)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x 1\nb: *x\n", "anchors and aliases are not allowed"),
        ("a: !!python/object:os.system x\n", "unsupported YAML tag !!python/object:os.system"),
        ("a: !!binary aGVsbG8=\n", "unsupported YAML tag !!binary"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: 1\n---\nb: 2\n", "one YAML document"),
        ("? [x]\n: 1\n", "mapping keys must be plain names"),
        ("a: [1, 2\n", "YAML syntax error"),
        ("a: 2019-02-30\n", "bad value '2019-02-30'"),
        ("<<: {a: 1}\n", "merge keys"),
    ],
)
def test_refusals_have_positions(reader, text: str, message: str) -> None:
    with pytest.raises(yamlfile.YamlError) as info:
        yamlfile.parse(text)
    assert message in info.value.message
    assert info.value.line >= 1 and info.value.col >= 1


def test_deep_nesting_is_refused_without_recursion() -> None:
    # 400,000 levels once crashed the C composer; the event reader refuses it at level 32.
    text = "a: " + "[" * 400_000 + "]" * 400_000 + "\n"
    with pytest.raises(yamlfile.YamlError, match="nested more than"):
        yamlfile.parse(text)


def test_alias_bomb_is_refused_quickly_and_small(reader) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 20)]
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(yamlfile.YamlError, match="aliases"):
        yamlfile.parse("\n".join(lines) + "\n")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 10_000_000


def test_very_large_file_is_refused_with_bounded_memory(tmp_path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "claims").mkdir()
    big = tmp_path / "claims" / "big.yaml"
    big.write_text("statement: " + "x" * 50_000_000 + "\n")
    tracemalloc.start()
    kb, problems = load(tmp_path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert kb is None
    assert problems[0].path == "claims/big.yaml" and "larger than" in problems[0].message
    # the file is never read: refused by its size on disk
    assert peak < 5_000_000


YAML_PIECES = st.sampled_from(
    [
        "statement: ", "topic: ", "evidence:", "\n", "  - ", "    ", "source: one", "stance: ", "supports",
        "kind: ", "quote: ", "'", '"', "[", "]", "{", "}", ",", ": ", "- ", "&a ", "*a", "!!python/name:os ",
        "!!str ", "#", "|", ">", "---", "...", "%YAML 1.1\n", "\t", "\u2019", "\ufeff", "\x00", "null", "~",
        "2019-05-01", "1e999", "0x1F", "? ", "<<: ", "tags: [a, b]", "supports: [x]", "contradicts: [x]",
    ]
)  # fmt: skip


def _kb_with_claim(tmp_path_factory, raw: bytes):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "sources").mkdir()
    (root / "claims").mkdir()
    (root / "sources" / "one.yaml").write_text("title: One\nkind: blog\ntext: one.txt\n")
    (root / "sources" / "one.txt").write_text("Running shrinks legs.\n")
    (root / "claims" / "x.yaml").write_bytes(raw)
    return root


def _assert_clean_outcome(root) -> None:
    kb, problems = load(root)
    assert all(isinstance(p, Problem) for p in problems)
    if kb is None:
        errors = [p for p in problems if p.severity == "error"]
        assert errors, "an invalid load must say why"
        for p in errors:
            assert p.path in ("claims/x.yaml", "sources/one.yaml") and p.line >= 1 and p.col >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_fuzz_assembled_yaml_never_crashes(tmp_path_factory, reader, text: str) -> None:
    _assert_clean_outcome(_kb_with_claim(tmp_path_factory, text.encode("utf-8", "surrogatepass")))


VALID_CLAIM = (
    b"statement: Running shrinks legs.\ntopic: running\ntags: [cardio]\nevidence:\n"
    b"  - source: one\n    stance: supports\n    kind: expert-opinion\n    quote: 'Running shrinks legs.'\n"
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(VALID_CLAIM)), st.binary(max_size=3)), max_size=6))
def test_fuzz_mutated_claim_never_crashes(tmp_path_factory, reader, mutations) -> None:
    raw = bytearray(VALID_CLAIM)
    for at, patch in mutations:
        raw[at : at + len(patch)] = patch
    _assert_clean_outcome(_kb_with_claim(tmp_path_factory, bytes(raw)))
