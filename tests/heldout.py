"""Scoring kb extract's suggestions on held-out documents against the relations a reader found.

``tests/fixtures/heldout/expected.yaml`` lists documents, the base each is added to, its central
assertion and the relations between its sentences and the base's claims. A suggestion is a
(sentence, claim, agrees|disagrees) triple the drafts offer: "same claim" and "supports" agree,
"opposes" and "contradicts" disagree; a claim only listed as related offers no relation.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb import authoring, extract
from kb.load import load_valid

HELDOUT = Path(__file__).resolve().parent / "fixtures" / "heldout"
AGREES = frozenset({"same", "supports"})
DISAGREES = frozenset({"opposes", "contradicts"})

Triple = tuple[str, str, str]


@dataclass
class Score:
    document: str
    offered: set[Triple] = field(default_factory=set)
    expected: set[Triple] = field(default_factory=set)
    central_kept: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def right(self) -> set[Triple]:
        return self.offered & self.expected

    def precision(self) -> float:
        return len(self.right) / len(self.offered) if self.offered else 0.0

    def recall(self) -> float:
        return len(self.right) / len(self.expected) if self.expected else 0.0


def documents() -> list[dict]:
    return yaml.safe_load((HELDOUT / "expected.yaml").read_text())["documents"]


def _key(sentence: str, keys: list[str]) -> str:
    return next((k for k in keys if sentence.startswith(k)), sentence)


def score_document(entry: dict, workdir: Path) -> Score:
    """Add the document to a copy of its base, run kb extract, and compare."""
    root = workdir / Path(entry["file"]).stem
    shutil.copytree(HELDOUT / entry["base"], root)
    document = authoring.read_document(HELDOUT / entry["file"])
    planned = authoring.plan_add_source(root, document, fallback_id=Path(entry["file"]).stem)
    authoring.write_new_files(root, planned)
    kb = load_valid(root)
    result = extract.extract(kb, planned.id, limit=1000)
    keys = sorted({r["sentence"] for r in entry["relations"]} | {entry["central"]}, key=len, reverse=True)
    score = Score(entry["file"])
    score.expected = {(r["sentence"], r["claim"], r["relation"]) for r in entry["relations"]}
    for candidate in result.candidates:
        key = _key(candidate.sentence.text, keys)
        if key == entry["central"]:
            score.central_kept = True
        for relation in candidate.relations:
            if relation.kind in AGREES:
                score.offered.add((key, relation.claim_id, "agrees"))
            elif relation.kind in DISAGREES:
                score.offered.add((key, relation.claim_id, "disagrees"))
    score.skipped = [(s.text, why) for s, why in result.skipped_sentences]
    return score


def score_all(workdir: Path) -> list[Score]:
    return [score_document(entry, workdir) for entry in documents()]


def totals(scores: list[Score]) -> tuple[int, int, int]:
    """(right, offered, expected) over all documents."""
    return (
        sum(len(s.right) for s in scores),
        sum(len(s.offered) for s in scores),
        sum(len(s.expected) for s in scores),
    )
