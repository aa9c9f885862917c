"""The whole knowledge base as data, computed fields included (the JSON export contract)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

from kb import __version__, forked
from kb.disputes import dispute_to_dict
from kb.errors import KbError
from kb.model import KnowledgeBase
from kb.output import Pieces
from kb.progress import pausable
from kb.weigh import Weights, _r


def _claim_dicts(kb: KnowledgeBase, weights: Weights, start: int, stop: int) -> list[dict[str, Any]]:
    """The export's entries of the claims ``start`` to ``stop`` (in the knowledge base's order)."""
    claims = []
    spans = kb.quote_spans
    no_spans: list = []
    # round(x, 4) written out: _r's call, 130,000 times at 10,000 claims, cost more than the rounding
    # kb serve holds its rebuild at the checkpoints while a preview runs (kb.progress)
    for c in pausable(itertools.islice(kb.claims.values(), start, stop), 512):
        cid = c.id
        w = weights.claims[cid]
        evidence = []
        for i, (ev, ew) in enumerate(zip(c.evidence, w.evidence, strict=True)):
            evidence.append(
                {
                    "source": ev.source,
                    "stance": ev.stance,
                    "kind": ev.kind,
                    "quote": ev.quote,
                    "speaker": ev.speaker,
                    "weight": round(ew.weight, 4),
                    "effect": round(ew.effect, 4),
                    "explanation": ew.explanation,
                    "spans": [[q.start, q.end] for q in spans.get((cid, i), no_spans)],
                }
            )
        claims.append(
            {
                "id": cid,
                "statement": c.statement,
                "topic": c.topic,
                "tags": list(c.tags),
                "strength": round(w.strength, 4),
                "base": round(w.base, 4),
                "consensus": w.consensus,
                "explanation": w.explanation,
                "sources_for": list(w.sources_for),
                "sources_against": list(w.sources_against),
                "evidence": evidence,
                "relations": [
                    {
                        "claim": r.claim,
                        "type": r.type,
                        "passed": round(r.passed, 4),
                        "effect": round(r.effect, 4),
                    }
                    for r in w.relations
                ],
                "supports": list(c.supports),
                "contradicts": list(c.contradicts),
                "path": c.path,
            }
        )
    return claims


def to_dict(kb: KnowledgeBase, weights: Weights) -> dict[str, Any]:
    return _to_dict(kb, weights, with_claims=True)


def _to_dict(kb: KnowledgeBase, weights: Weights, with_claims: bool) -> dict[str, Any]:
    """The export as data; without the claims' entries (``"claims": []``) when they are written apart."""
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
    claims = _claim_dicts(kb, weights, 0, len(kb.claims)) if with_claims else []
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
                "model": "evidence noisy-OR base score + DF-QuAD combination of the strongest supporting and"
                " contradicting claim, iterated to a fixed point",
                "documentation": "How strengths are computed (site/docs/weighting.md)",
                "iterations": weights.iterations,
                "converged": weights.converged,
                "settings": weights.settings.__dict__,
            },
        },
        "sources": sources,
        "claims": claims,
        "relations": relations,
        "topics": topics,
        "disputes": [dispute_to_dict(kb, d) for d in weights.disputes],
    }


def pretty_json(value: Any) -> str:
    """JSON indented by two spaces, keys in their order, non-ASCII text as it is.

    orjson writes it about ten times faster than the standard library, whose C encoder is not
    used with an indent; both give the same text for kb's values (numbers rounded to four
    decimals), and the standard library is used when orjson is missing or refuses a value.
    """
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency
        orjson = None
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
        except TypeError:  # e.g. an integer beyond 64 bits
            pass
    return json.dumps(value, ensure_ascii=False, indent=2)


def pretty_json_bytes(value: Any) -> bytes:
    """:func:`pretty_json` with a final newline, as UTF-8: what kb writes, without a copy of a large
    output as text on the way (at 100,000 claims the export is hundreds of megabytes)."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency
        orjson = None
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            pass
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def to_json(kb: KnowledgeBase, weights: Weights) -> str:
    return pretty_json(to_dict(kb, weights)) + "\n"


# From this estimated cost of the claims (kb.forked.in_two) on, a forked child writes the last half of
# the export's claims while this process writes the first half and the rest: at 10,000 dense claims
# their entries are most of the work, and cost about 40,000.
PARALLEL_CLAIMS_COST = 6000


def json_pieces_in_two(
    data: dict[str, Any],
    key: str,
    items: Callable[[int, int], list[Any]],
    costs: list[float],
    minimum: float,
) -> Pieces | None:
    """:func:`pretty_json_bytes` of ``data`` with ``data[key]`` (an empty list in ``data``) being
    ``items(0, n)``, ``n = len(costs)``: the items written in two processes (:func:`kb.forked.in_two`),
    each share laid out as in the whole document and put in the place of the empty list. The same
    bytes, as pieces to write one after the other (kb.output): at 100,000 claims each share is hundreds
    of megabytes, and neither is copied into a whole. None where orjson is missing or refuses a value
    (then the caller writes it whole).

    The empty list is found as a line of JSON's own layout (a key at the top level, after a line
    break), which no text of the knowledge base can make: line breaks and quotes inside strings
    are escaped."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency
        return None
    empty = b'\n  "' + key.encode() + b'": [],\n'
    opening = b'{\n  "c": [\n'
    closing = b"\n  ]\n}"

    def laid_out(start: int, stop: int) -> list[bytes]:
        # the items as they lie in a list under a key of the top-level object (each indented by four
        # spaces, separated by ",\n"), inside the brackets that are cut off below, through a view
        return [orjson.dumps({"c": items(start, stop)}, option=orjson.OPT_INDENT_2)]

    if not costs:  # an empty list is written "[]", not as a list of items
        return None
    try:
        document = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        if data.get(key) != [] or document.count(empty) != 1:
            return None
        shares = forked.in_two(laid_out, costs, minimum)
    except TypeError:  # e.g. an integer beyond 64 bits
        return None
    if not all(share.startswith(opening) and share.endswith(closing) for share in shares):
        return None  # a share that is not the items' list as orjson lays it out (an empty one)
    head, _, tail = document.partition(empty)
    pieces: Pieces = [head, b'\n  "' + key.encode() + b'": [\n']
    for k, share in enumerate(shares):
        if k:
            pieces.append(b",\n")
        pieces.append(memoryview(share)[len(opening) : -len(closing)])
    pieces += [b"\n  ],\n", tail]
    return pieces


def to_json_pieces(kb: KnowledgeBase, weights: Weights) -> Pieces:
    """:func:`to_json` as UTF-8 pieces (kb.output), as kb export writes it; on a large base the claims'
    entries are written by two processes (:func:`json_pieces_in_two`)."""
    costs = [2.0 + len(c.evidence) for c in kb.claims.values()]
    if sum(costs) >= PARALLEL_CLAIMS_COST:
        document = json_pieces_in_two(
            _to_dict(kb, weights, with_claims=False),
            "claims",
            lambda start, stop: _claim_dicts(kb, weights, start, stop),
            costs,
            PARALLEL_CLAIMS_COST,
        )
        if document is not None:
            return document
    return [pretty_json_bytes(to_dict(kb, weights))]


def to_json_bytes(kb: KnowledgeBase, weights: Weights) -> bytes:
    """:func:`to_json` as UTF-8 bytes (:func:`to_json_pieces` joined)."""
    return b"".join(to_json_pieces(kb, weights))


# --- exports for other tools: GraphML (Gephi, Cytoscape), CSV tables, schema.org ClaimReview ---


_GRAPHML_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns'
    ' http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">'
)
_GRAPHML_TYPES = {str: "string", float: "double", int: "long"}
# the attributes of every claim node, of every evidence edge and of every relation edge, in order
_CLAIM_ATTRIBUTES = (
    ("kind", str), ("id", str), ("topic", str), ("label", str), ("statement", str), ("tags", str),
    ("strength", float), ("base", float), ("consensus", str),
)  # fmt: skip
_EVIDENCE_ATTRIBUTES = (
    ("type", str), ("index", int), ("stance", str), ("evidence_kind", str), ("weight", float), ("quote", str),
)  # fmt: skip
_RELATION_ATTRIBUTES = (("type", str),)
# Characters XML 1.0 cannot hold at all; the rest of what kb allows in a text (tabs, line breaks,
# any printable character) is written as it is, with &, < and > escaped.
_NOT_XML = re.compile("[\ufffe\uffff]")
_XML_SPECIAL = re.compile('[&<>"\n\r\t]')
_XML_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)


def _xml_text(value: str) -> str:
    if "&" in value or "<" in value or ">" in value:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def _xml_attribute(value: str) -> str:
    return value.translate(_XML_ATTRIBUTE) if _XML_SPECIAL.search(value) else value


def _source_attributes(source, reliability: float) -> list[tuple[str, Any]]:
    attrs: list[tuple[str, Any]] = [
        ("kind", "source"), ("id", source.id), ("title", source.title), ("label", source.title),
        ("source_kind", source.kind), ("reliability", float(_r(reliability))),
    ]  # fmt: skip
    # GraphML holds no nulls: a missing author or URL is left out
    return attrs + [(k, v) for k, v in (("author", source.author), ("url", source.url)) if v]


def _graphml_keys(
    kb: KnowledgeBase, weights: Weights, has_relations: bool
) -> dict[tuple[str, type, str], str]:
    """The data keys, ``d0``, ``d1``... in the order their attribute first appears: the nodes'
    (sources, then claims), then the edges' (evidence edges leave sources, so come before relations)."""
    keys: dict[tuple[str, type, str], str] = {}

    def add(names, scope: str) -> None:
        for name, kind in names:
            keys.setdefault((name, kind, scope), f"d{len(keys)}")

    for s in kb.sources.values():
        add(((n, type(v)) for n, v in _source_attributes(s, weights.reliability[s.id].value)), "node")
    if kb.claims:
        add(_CLAIM_ATTRIBUTES, "node")
    if any(c.evidence for c in kb.claims.values()):
        add(_EVIDENCE_ATTRIBUTES, "edge")
    if has_relations:
        add(_RELATION_ATTRIBUTES, "edge")
    return keys


def to_graphml(kb: KnowledgeBase, weights: Weights) -> str:
    """The claim graph of kb.graph as GraphML: claims carry strength and consensus, sources reliability.

    GraphML holds typed scalars only, so every attribute is text or a number and
    optional values that are missing are left out rather than written as null.

    Written directly, as the same bytes networkx's GraphML writer (with lxml) makes of the graph
    of :func:`kb.graph.build_graph` with these attributes, which took three times as long
    (tests/test_export_formats.py compares the two): the keys listed last first, then the nodes
    (sources, then claims), then the edges by the node they leave, then by the node they reach in
    the order it was first linked to, then in the order added, each element on its own lines.
    """
    relations = kb.relations()
    keys = _graphml_keys(kb, weights, bool(relations))

    def template(names, scope: str) -> str:
        return "".join(f'  <data key="{keys[(n, k, scope)]}">{{}}</data>\n' for n, k in names)

    parts = [_GRAPHML_HEAD]
    parts += [
        f'<key id="{key}" for="{scope}" attr.name="{_xml_attribute(name)}"'
        f' attr.type="{_GRAPHML_TYPES[kind]}"/>\n'
        for (name, kind, scope), key in reversed(keys.items())
    ]
    parts.append('<graph edgedefault="directed">')
    # evidence edges by source, then by claim in the order the claim was first linked to it
    evidence: dict[str, dict[str, list[str]]] = {s: {} for s in kb.sources}
    evidence_row = template(_EVIDENCE_ATTRIBUTES, "edge")
    for s in kb.sources.values():
        lines = [
            f'  <data key="{keys[(n, type(v), "node")]}">{_xml_text(str(v))}</data>\n'
            for n, v in _source_attributes(s, weights.reliability[s.id].value)
        ]
        parts.append(f'<node id="source:{_xml_attribute(s.id)}">\n{"".join(lines)}</node>\n')
    claim_row = template(_CLAIM_ATTRIBUTES, "node")
    for c in kb.claims.values():
        w = weights.claims[c.id]
        cid = _xml_attribute(c.id)
        statement = _xml_text(c.statement)
        row = claim_row.format(
            "claim", _xml_text(c.id), _xml_text(c.topic), statement, statement, _xml_text(", ".join(c.tags)),
            float(_r(w.strength)), float(_r(w.base)), w.consensus,
        )  # fmt: skip
        parts.append(f'<node id="claim:{cid}">\n{row}</node>\n')
        for index, (ev, ew) in enumerate(zip(c.evidence, w.evidence, strict=True)):
            data = evidence_row.format(
                "evidence", index, ev.stance, ev.kind, float(_r(ew.weight)), _xml_text(ev.quote)
            )
            edge = (
                f'<edge source="source:{_xml_attribute(ev.source)}" target="claim:{cid}"'
                f' id="evidence:{index}">\n{data}</edge>\n'
            )
            evidence[ev.source].setdefault(cid, []).append(edge)
    parts += [edge for targets in evidence.values() for edges in targets.values() for edge in edges]
    # relation edges by claim, in the order of kb.relations() (grouped by the claim they leave)
    related: dict[str, dict[str, dict[str, str]]] = {}
    for origin, target, relation in relations:
        keyed = related.setdefault(origin, {}).setdefault(target, {})
        keyed.setdefault(
            relation,
            f'<edge source="claim:{_xml_attribute(origin)}" target="claim:{_xml_attribute(target)}"'
            f' id="{relation}">\n{template(_RELATION_ATTRIBUTES, "edge").format(relation)}</edge>\n',
        )
    parts += [
        edge for c in kb.claims if c in related for keyed in related[c].values() for edge in keyed.values()
    ]
    parts.append("</graph></graphml>")
    document = "".join(parts)
    bad = _NOT_XML.search(document)
    if bad:
        line = document.count("\n", 0, bad.start()) + 1
        raise KbError(
            f"cannot write GraphML: line {line} would hold U+{ord(bad.group()):04X}, a character XML"
            " cannot carry; remove it from the knowledge base's text"
        )
    return document


def _join(values: list[str] | tuple[str, ...]) -> str:
    return ";".join(values)


CSV_COLUMNS = {
    "claims": (
        "id", "statement", "topic", "tags", "strength", "base", "consensus", "sources_for",
        "sources_against", "evidence_count", "supports", "contradicts", "path",
    ),
    "evidence": ("claim", "index", "source", "stance", "kind", "speaker", "quote", "weight", "effect"),
    "relations": ("source", "target", "type"),
}  # fmt: skip


def to_csv_tables(kb: KnowledgeBase, weights: Weights) -> dict[str, str]:
    """Three CSV tables by file name (claims.csv, evidence.csv, relations.csv); lists joined with ';'."""
    import csv
    import io

    rows: dict[str, list[tuple]] = {"claims": [], "evidence": [], "relations": []}
    for claim in kb.claims.values():
        w = weights.claims[claim.id]
        rows["claims"].append(
            (
                claim.id, claim.statement, claim.topic, _join(claim.tags), _r(w.strength), _r(w.base),
                w.consensus, _join(w.sources_for), _join(w.sources_against), len(claim.evidence),
                _join(claim.supports), _join(claim.contradicts), claim.path,
            )
        )  # fmt: skip
        for index, (ev, ew) in enumerate(zip(claim.evidence, w.evidence, strict=True)):
            rows["evidence"].append(
                (claim.id, index, ev.source, ev.stance, ev.kind, ev.speaker or "", ev.quote, _r(ew.weight),
                 _r(ew.effect))
            )  # fmt: skip
    rows["relations"] = list(kb.relations())
    tables = {}
    for name, columns in CSV_COLUMNS.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows[name])
        tables[f"{name}.csv"] = buffer.getvalue()
    return tables


CLAIMREVIEW_BEST = 5
CLAIMREVIEW_WORST = 1


def _creative_work(source) -> dict[str, Any]:
    work: dict[str, Any] = {"@type": "CreativeWork", "name": source.title, "identifier": source.id}
    if source.url:
        work["url"] = source.url
    if source.author:
        work["author"] = {"@type": "Person", "name": source.author}
    if source.published:
        work["datePublished"] = source.published.isoformat()
    return work


def to_claimreview(kb: KnowledgeBase, weights: Weights) -> dict[str, Any]:
    """One schema.org ClaimReview per claim, as JSON-LD.

    The rating is the claim's strength mapped from 0..1 onto 1..5 (the scale fact-check
    consumers expect), its ``alternateName`` the consensus label. The claim appears in the
    sources that support it; those sources' authors are its authors.
    """
    reviewer = {"@type": "Organization", "name": kb.config.title}
    reviews = []
    for claim in kb.claims.values():
        w = weights.claims[claim.id]
        backing = [kb.sources[s] for s in w.sources_for]
        item: dict[str, Any] = {"@type": "Claim", "identifier": claim.id, "text": claim.statement}
        if backing:
            item["appearance"] = [_creative_work(s) for s in backing]
            authors = sorted({s.author for s in backing if s.author})
            if authors:
                item["author"] = [{"@type": "Person", "name": a} for a in authors]
        reviews.append(
            {
                "@type": "ClaimReview",
                "identifier": claim.id,
                "claimReviewed": claim.statement,
                "about": claim.topic,
                "author": reviewer,
                "reviewRating": {
                    "@type": "Rating",
                    "ratingValue": _r(
                        CLAIMREVIEW_WORST + (CLAIMREVIEW_BEST - CLAIMREVIEW_WORST) * w.strength
                    ),
                    "bestRating": CLAIMREVIEW_BEST,
                    "worstRating": CLAIMREVIEW_WORST,
                    "alternateName": w.consensus,
                    "ratingExplanation": w.explanation,
                },
                "itemReviewed": item,
            }
        )
    return {"@context": "https://schema.org", "@graph": reviews}


def to_claimreview_json(kb: KnowledgeBase, weights: Weights) -> str:
    return pretty_json(to_claimreview(kb, weights)) + "\n"


def to_claimreview_bytes(kb: KnowledgeBase, weights: Weights) -> bytes:
    return pretty_json_bytes(to_claimreview(kb, weights))
