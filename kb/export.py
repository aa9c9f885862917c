"""The whole knowledge base as data, computed fields included (the JSON export contract)."""

from __future__ import annotations

import json
from typing import Any

from kb import __version__
from kb.model import KnowledgeBase
from kb.weigh import Weights, _r


def to_dict(kb: KnowledgeBase, weights: Weights) -> dict[str, Any]:
    sources = [
        {
            "id": s.id,
            "title": s.title,
            "kind": s.kind,
            "reliability": _r(weights.reliability[s.id].value),
            "reliability_explanation": weights.reliability[s.id].explanation,
            "author": s.author,
            "url": s.url,
            "published": s.published.isoformat() if s.published else None,
            "text": s.text,
            "path": s.path,
        }
        for s in kb.sources.values()
    ]
    claims = []
    for c in kb.claims.values():
        w = weights.claims[c.id]
        claims.append(
            {
                "id": c.id,
                "statement": c.statement,
                "topic": c.topic,
                "tags": list(c.tags),
                "strength": _r(w.strength),
                "base": _r(w.base),
                "consensus": w.consensus,
                "explanation": w.explanation,
                "sources_for": list(w.sources_for),
                "sources_against": list(w.sources_against),
                "evidence": [
                    {
                        "source": ev.source,
                        "stance": ev.stance,
                        "kind": ev.kind,
                        "quote": ev.quote,
                        "speaker": ev.speaker,
                        "weight": _r(ew.weight),
                        "effect": _r(ew.effect),
                        "explanation": ew.explanation,
                        "spans": [[s.start, s.end] for s in kb.quote_spans.get((c.id, i), [])],
                    }
                    for i, (ev, ew) in enumerate(zip(c.evidence, w.evidence, strict=True))
                ],
                "relations": [
                    {"claim": r.claim, "type": r.type, "passed": _r(r.passed), "effect": _r(r.effect)}
                    for r in w.relations
                ],
                "supports": list(c.supports),
                "contradicts": list(c.contradicts),
                "path": c.path,
            }
        )
    relations = [{"source": a, "target": b, "type": t} for a, b, t in kb.relations()]
    topics = [
        {
            "topic": t.topic,
            "claims": list(t.claims),
            "consensus_counts": t.consensus_counts,
            "sources": list(t.sources),
            "verdict": t.verdict,
        }
        for t in weights.topics.values()
    ]
    return {
        "meta": {
            "generator": f"kb {__version__}",
            "title": kb.config.title,
            "description": kb.config.description,
            "weighting": {
                "model": "evidence noisy-OR base score + DF-QuAD propagation over supports/contradicts",
                "iterations": weights.iterations,
                "converged": weights.converged,
                "settings": weights.settings.__dict__,
            },
        },
        "sources": sources,
        "claims": claims,
        "relations": relations,
        "topics": topics,
    }


def to_json(kb: KnowledgeBase, weights: Weights) -> str:
    return json.dumps(to_dict(kb, weights), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
