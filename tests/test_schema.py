"""The JSON Schemas: valid draft-07, in step with the models, catching what an editor should catch."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from kb import schema
from kb.cli import cli
from kb.model import LOADER_FIELDS, Claim, Source
from tests.conftest import FIXTURES, REPO

CLAIM = {
    "statement": "Running shrinks legs.",
    "topic": "running",
    "evidence": [{"source": "blog-a", "stance": "supports", "kind": "expert-opinion", "quote": "x"}],
}
SOURCE = {"title": "Blog A", "kind": "blog", "text": "blog-a.txt"}


def as_json_data(text: str):
    """YAML as an editor's language server sees it: dates are plain strings."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def errors(kind: str, data) -> list[str]:
    validator = jsonschema.Draft7Validator(getattr(schema, f"{kind}_schema")())
    return [e.message for e in validator.iter_errors(data)]


def yaml_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.yaml")) if folder.is_dir() else []


def test_schemas_are_valid_draft_07() -> None:
    jsonschema.Draft7Validator.check_schema(schema.claim_schema())
    jsonschema.Draft7Validator.check_schema(schema.source_schema())


def test_fields_follow_the_models_without_loader_fields() -> None:
    claim = schema.claim_schema()
    source = schema.source_schema()
    assert set(claim["properties"]) == set(Claim.model_fields) - LOADER_FIELDS
    assert set(source["properties"]) == set(Source.model_fields) - LOADER_FIELDS
    for props in (
        claim["properties"],
        source["properties"],
        claim["properties"]["evidence"]["items"]["properties"],
    ):
        for name, prop in props.items():
            assert prop.get("description"), f"{name} has no description"


def test_misspelled_field_is_rejected() -> None:
    assert errors("claim", CLAIM) == []
    misspelled = {**CLAIM, "suports": ["other"]}
    assert any("'suports' was unexpected" in m for m in errors("claim", misspelled))
    bad_stance = {**CLAIM, "evidence": [{**CLAIM["evidence"][0], "stance": "suports"}]}
    assert any("'suports' is not one of" in m for m in errors("claim", bad_stance))
    assert any("'titel' was unexpected" in m for m in errors("source", {**SOURCE, "titel": "x"}))


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        ("claim", {k: v for k, v in CLAIM.items() if k != "evidence"}, "'evidence' is a required property"),
        ("claim", {**CLAIM, "statement": "  "}, "does not match"),
        ("claim", {**CLAIM, "contradicts": ["../x"]}, "does not match"),
        ("claim", {**CLAIM, "id": "x"}, "'id' was unexpected"),
        ("source", {**SOURCE, "kind": "paper"}, "'paper' is not one of"),
        ("source", {**SOURCE, "reliability": 1.5, "reliability_note": "why"}, "is not valid under any"),
        ("source", {**SOURCE, "reliability": 0.4}, "'reliability_note' is a required property"),
    ],
)
def test_schema_catches(kind: str, data: dict, expected: str) -> None:
    assert any(expected in m for m in errors(kind, data)), errors(kind, data)


def test_reliability_null_needs_no_note() -> None:
    assert errors("source", {**SOURCE, "reliability": None}) == []


SHIPPED_AND_FIXTURE_CLAIMS = yaml_files(REPO / "claims") + yaml_files(FIXTURES / "valid" / "claims")
SHIPPED_AND_FIXTURE_SOURCES = yaml_files(REPO / "sources") + yaml_files(FIXTURES / "valid" / "sources")


@pytest.mark.parametrize("file", SHIPPED_AND_FIXTURE_CLAIMS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_shipped_claim_file_is_accepted(file: Path) -> None:
    assert errors("claim", as_json_data(file.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("file", SHIPPED_AND_FIXTURE_SOURCES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_shipped_source_file_is_accepted(file: Path) -> None:
    assert errors("source", as_json_data(file.read_text(encoding="utf-8"))) == []


def test_schema_command_writes_both_files(runner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["schema", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["claim.schema.json", "source.schema.json"]
    on_disk = json.loads((tmp_path / "out" / "claim.schema.json").read_text())
    assert on_disk == schema.claim_schema()
    result = runner.invoke(cli, ["schema", "--kb", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "schema" / "source.schema.json").is_file()


def test_schema_output_is_deterministic() -> None:
    assert schema.schemas() == schema.schemas()


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("sources/a.yaml", "../schema/source.schema.json"),
        ("claims/running/a.yaml", "../../schema/claim.schema.json"),
        ("review/src/a.yaml", "../../schema/claim.schema.json"),
    ],
)
def test_modeline_points_at_the_kb_schema_folder(tmp_path: Path, relative: str, expected: str) -> None:
    kind = "source" if relative.startswith("sources") else "claim"
    line = schema.modeline(tmp_path / relative, tmp_path, kind)
    assert line == f"# yaml-language-server: $schema={expected}\n"
    # and the path resolves to the written schema, relative to the file as editors resolve it
    schema.write_schemas(tmp_path / "schema")
    assert ((tmp_path / relative).parent / expected).resolve().is_file()


def test_committed_schemas_at_the_repository_root_are_current() -> None:
    """The shipped base's editors read schema/ at the root; run `kb schema` after changing kb.model."""
    for name, text in schema.schemas().items():
        committed = REPO / "schema" / name
        assert committed.read_text(encoding="utf-8") == text, f"{committed} is stale: run `kb schema`"
