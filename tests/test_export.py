"""The JSON export: the keys of the design page's contract, with computed fields."""

from __future__ import annotations

import json

from kb.export import pretty_json, to_dict, to_json
from kb.load import load_valid
from kb.weigh import compute
from tests.conftest import FIXTURES, REPO


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


def test_export_text_is_the_standard_librarys_pretty_json() -> None:
    """The fast writer gives the bytes json.dumps(indent=2, ensure_ascii=False) gives, on the shipped base."""
    kb = load_valid(REPO)
    data = to_dict(kb, compute(kb))
    assert to_json(kb, compute(kb)) == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_pretty_json_matches_the_standard_library_on_awkward_values() -> None:
    values = [
        {"empty": [], "none": {}, "text": 'caf\u00e9 \u2028 "q" \\ \x1f', "n": -0.0, "big": 2**62},
        [0.1, 0.0001, 0.30000000000000004, 1e16, True, None],
    ]
    for value in values:
        assert pretty_json(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_pretty_json_falls_back_on_values_orjson_refuses() -> None:
    value = {"huge": 2**70}
    assert pretty_json(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_the_bytes_kb_export_writes_are_the_json_text() -> None:
    from kb.export import to_claimreview_bytes, to_claimreview_json, to_json_bytes

    kb = load_valid(FIXTURES / "valid")
    weights = compute(kb)
    assert to_json_bytes(kb, weights) == to_json(kb, weights).encode("utf-8")
    assert to_claimreview_bytes(kb, weights) == to_claimreview_json(kb, weights).encode("utf-8")
