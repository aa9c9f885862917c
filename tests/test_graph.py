from kb.graph import build_graph, claim_relations, neighbourhood
from kb.load import load_valid
from tests.conftest import FIXTURES


def test_graph_has_claims_sources_evidence_and_relations() -> None:
    kb = load_valid(FIXTURES / "valid")
    graph = build_graph(kb)
    kinds = dict(graph.nodes(data="kind"))
    assert sorted(n for n, k in kinds.items() if k == "source") == ["source:blog-a", "source:guide-b"]
    assert len([n for n, k in kinds.items() if k == "claim"]) == 3
    evidence = [(u, v, d["stance"]) for u, v, d in graph.edges(data=True) if d["type"] == "evidence"]
    assert ("source:guide-b", "claim:running-shrinks-legs", "opposes") in evidence
    assert len(evidence) == 5
    contradicts = claim_relations(graph, "contradicts")
    assert contradicts.has_edge("claim:sprinting-builds-legs", "claim:running-shrinks-legs")


def test_neighbourhood_includes_sources_and_related_claims() -> None:
    graph = build_graph(load_valid(FIXTURES / "valid"))
    near = neighbourhood(graph, "sprinting-builds-legs")
    assert set(near.nodes) == {"claim:sprinting-builds-legs", "claim:running-shrinks-legs", "source:guide-b"}
