"""The knowledge base as one networkx graph, shared by every view.

Nodes are ``claim:<id>`` and ``source:<id>``, with a ``kind`` attribute. Edges:

- ``evidence``: source -> claim, one per evidence item (``index``, ``stance``, ``evidence_kind``);
- ``supports``: claim -> claim;
- ``contradicts``: claim -> claim, stored once in the direction it was written, symmetric in meaning.
"""

from __future__ import annotations

import networkx as nx

from kb.gcpause import paused_gc
from kb.model import KnowledgeBase


def claim_node(claim_id: str) -> str:
    return f"claim:{claim_id}"


def source_node(source_id: str) -> str:
    return f"source:{source_id}"


def build_graph(kb: KnowledgeBase) -> nx.MultiDiGraph:
    with paused_gc():
        return _build_graph(kb)


def _build_graph(kb: KnowledgeBase) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(
        (source_node(s.id), {"kind": "source", "id": s.id, "title": s.title}) for s in kb.sources.values()
    )
    graph.add_nodes_from(
        (claim_node(c.id), {"kind": "claim", "id": c.id, "topic": c.topic}) for c in kb.claims.values()
    )
    graph.add_edges_from(
        (
            source_node(ev.source),
            claim_node(claim.id),
            f"evidence:{index}",
            {"type": "evidence", "index": index, "stance": ev.stance, "evidence_kind": ev.kind},
        )
        for claim in kb.claims.values()
        for index, ev in enumerate(claim.evidence)
    )
    graph.add_edges_from(
        (claim_node(origin), claim_node(target), relation, {"type": relation})
        for origin, target, relation in kb.relations()
    )
    return graph


def claim_relations(graph: nx.MultiDiGraph, relation: str) -> nx.Graph:
    """The claims and the relations of one type; ``contradicts`` as an undirected graph."""
    edges = [(u, v) for u, v, t in graph.edges(data="type") if t == relation]
    sub = nx.Graph() if relation == "contradicts" else nx.DiGraph()
    sub.add_nodes_from(n for n, k in graph.nodes(data="kind") if k == "claim")
    sub.add_edges_from(edges)
    return sub


def neighbourhood(graph: nx.MultiDiGraph, claim_id: str, radius: int = 1) -> nx.MultiDiGraph:
    """The claim with the claims and sources within ``radius`` steps, directions ignored."""
    centre = claim_node(claim_id)
    nodes = nx.ego_graph(graph.to_undirected(as_view=True), centre, radius=radius).nodes
    return graph.subgraph(nodes).copy()
