"""The JSON export: the keys of the design page's contract, with computed fields."""

from __future__ import annotations

import json

from kb.export import to_dict, to_json
from kb.load import load_valid
from kb.weigh import compute
from tests.conftest import FIXTURES


def test_contract_keys_present() -> None:
    kb = load_valid(FIXTURES / "valid")
    data = to_dict(kb, compute(kb))
    for source in data["sources"]:
        assert {"id", "title", "kind", "reliability"} <= source.keys()
        assert 0 <= source["reliability"] <= 1
    for claim in data["claims"]:
        assert {"id", "statement", "topic", "strength", "consensus", "evidence"} <= claim.keys()
        assert 0 <= claim["strength"] <= 1
        for ev in claim["evidence"]:
            assert {"source", "stance", "kind", "quote", "weight"} <= ev.keys()
    assert {
        "source": "running-shrinks-legs",
        "target": "sprinting-builds-legs",
        "type": "contradicts",
    } in data["relations"]
    assert {"source": "less-protein", "target": "running-shrinks-legs", "type": "supports"} in data[
        "relations"
    ]


def test_export_is_deterministic() -> None:
    first = to_json(load_valid(FIXTURES / "valid"), compute(load_valid(FIXTURES / "valid")))
    second = to_json(load_valid(FIXTURES / "valid"), compute(load_valid(FIXTURES / "valid")))
    assert first == second
    json.loads(first)
