"""JSON Schemas for source and claim files, generated from the models in kb.model.

Editors that speak the YAML language server check a file against its schema
while people type, when the file starts with a comment line such as::

    # yaml-language-server: $schema=../../schema/claim.schema.json

A relative path there is resolved from the YAML file itself, so every file kb
scaffolds points at ``<kb>/schema/`` with as many ``../`` as it is deep.

The schema says what the loader checks field by field (names, types, allowed
values, non-empty text, id characters); what needs the whole knowledge base
(that a quote is in its source, that an id exists) only ``kb validate`` can say.
Draft-07 is used because every editor integration understands it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kb.files import FileProblem, read_bounded
from kb.load import ID_PATTERN
from kb.model import LOADER_FIELDS, Claim, Source
from kb.output import write_all

SCHEMA_DIR = "schema"
DRAFT = "http://json-schema.org/draft-07/schema#"
# Text the loader strips and then refuses when empty: at least one non-space character.
NON_EMPTY = r"\S"

SCHEMA_FILES = {"source": "source.schema.json", "claim": "claim.schema.json"}

_TITLES = {
    "source": ("kb source", "One source of a kb knowledge base: sources/<id>.yaml; the id is the file name."),
    "claim": (
        "kb claim",
        "One claim of a kb knowledge base: claims/**/<id>.yaml; the id is the file name, unique across "
        "all subfolders.",
    ),
    "evidence": ("Evidence", "One quote from a source that backs or opposes the claim."),
}

_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "source": {
        "title": "The source's title.",
        "author": "Who wrote it; a named author raises the computed reliability a little.",
        "kind": "What sort of document it is; sets the prior of its reliability.",
        "url": "Where it was found.",
        "published": "When it was published (YYYY-MM-DD).",
        "text": "The file inside sources/ with the source's full text; quotes are checked against it.",
        "reliability": "Optional override of the computed reliability, from 0 to 1; needs reliability_note.",
        "reliability_note": "Why the reliability is overridden; required when reliability is given.",
    },
    "claim": {
        "statement": "The claim, as one sentence.",
        "topic": "The topic it belongs to; by convention also the folder under claims/.",
        "tags": "Optional keywords.",
        "evidence": "The quotes that back or oppose the claim; may be empty.",
        "supports": "Ids of claims this claim, if true, makes more likely.",
        "contradicts": "Ids of claims that cannot be true together with this one (symmetric).",
    },
    "evidence": {
        "source": "The id of a source (the name of its file in sources/, without .yaml).",
        "stance": "Whether the quote backs the claim (supports) or argues against it (opposes).",
        "kind": "What sort of evidence the quote is; weighs study > mechanism > expert-opinion > "
        "experience > testimonial.",
        "quote": "Verbatim words from the source text; typography, case and spacing are forgiven, and "
        "'...' joins fragments that appear in order.",
        "speaker": "Who says it inside the source: author (the default), reader <name>, ...",
    },
}

_NON_EMPTY_FIELDS = {
    "source": ("title", "text"),
    "claim": ("statement", "topic"),
    "evidence": ("source", "quote"),
}
_ID_LIST_FIELDS = ("supports", "contradicts")


def _object_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    """The schema of one model as a plain object, loader-filled fields removed."""
    generated = model.model_json_schema()
    generated.pop("$defs", None)
    properties = {k: v for k, v in generated["properties"].items() if k not in LOADER_FIELDS}
    for field, text in _DESCRIPTIONS[name].items():
        prop = properties[field]
        prop["description"] = text
        # pydantic writes a default of null for optional fields; editors would offer to insert it
        if prop.get("default") is None:
            prop.pop("default", None)
    for field in _NON_EMPTY_FIELDS[name]:
        properties[field]["pattern"] = NON_EMPTY
    title, description = _TITLES[name]
    return {
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": [f for f in generated.get("required", []) if f not in LOADER_FIELDS],
        "additionalProperties": False,
    }


def source_schema() -> dict[str, Any]:
    schema = _object_schema(Source, "source")
    # a number for reliability needs its reason (null is the same as leaving it out)
    schema["if"] = {"properties": {"reliability": {"type": "number"}}, "required": ["reliability"]}
    schema["then"] = {"required": ["reliability_note"]}
    return {"$schema": DRAFT, **schema}


def claim_schema() -> dict[str, Any]:
    schema = _object_schema(Claim, "claim")
    evidence = _object_schema(Claim.model_fields["evidence"].annotation.__args__[0], "evidence")  # type: ignore[union-attr]
    evidence["properties"]["source"]["pattern"] = ID_PATTERN.pattern
    schema["properties"]["evidence"]["items"] = evidence
    for field in _ID_LIST_FIELDS:
        schema["properties"][field]["items"] = {"type": "string", "pattern": ID_PATTERN.pattern}
    return {"$schema": DRAFT, **schema}


def schemas() -> dict[str, str]:
    """File name -> JSON text of every schema, deterministic."""
    built = {"source": source_schema(), "claim": claim_schema()}
    return {
        SCHEMA_FILES[name]: json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        for name, schema in built.items()
    }


def write_schemas(folder: Path, *, only_changed: bool = False) -> list[Path]:
    """Write the schema files into ``folder``; returns the files written.

    With ``only_changed`` a file that already holds the same text is left alone,
    so commands that keep ``<kb>/schema/`` current touch nothing when it is.
    """
    files = schema_files(folder, only_changed=only_changed)
    write_all(files)  # both or neither
    return list(files)


def schema_files(folder: Path, *, only_changed: bool = False) -> dict[Path, str]:
    """Path -> text of the schema files to write into ``folder`` (with ``only_changed``, those
    that do not already hold the same text)."""
    out = {}
    for name, text in schemas().items():
        path = folder / name
        if only_changed and path.is_file():
            try:
                if read_bounded(path, 1_000_000).decode("utf-8", "replace") == text:
                    continue
            except FileProblem:
                pass  # not a file kb can read: it is replaced
        out[path] = text
    return out


def modeline(file: Path, kb_root: Path, kind: str) -> str:
    """The ``yaml-language-server`` comment line for a kb file, pointing at ``<kb>/schema/`` relatively."""
    depth = len(file.relative_to(kb_root).parts) - 1
    return f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_DIR}/{SCHEMA_FILES[kind]}\n"
