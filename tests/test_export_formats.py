"""Exports for other tools: GraphML in networkx, CSV in pandas, ClaimReview through a JSON-LD processor."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from pyld import jsonld

import kb.cli as kb_cli
from kb.cli import cli
from kb.export import CSV_COLUMNS, to_json
from kb.graph import build_graph
from kb.load import load_valid
from kb.weigh import compute
from tests.conftest import FIXTURES, REPO

VALID = FIXTURES / "valid"
SCHEMA_ORG = "https://schema.org/"


@pytest.fixture(scope="module")
def base():
    kb = load_valid(VALID)
    return kb, compute(kb)


def export(runner, *args: str):
    result = runner.invoke(cli, ["export", "--kb", str(VALID), *args])
    assert result.exit_code == 0, result.output
    return result


def test_json_stays_the_default_and_unchanged(runner, base) -> None:
    kb, weights = base
    expected = to_json(kb, weights)
    assert export(runner).stdout == expected
    assert export(runner, "--format", "json").stdout == expected


def test_graphml_loads_in_networkx_with_the_same_graph(runner, base) -> None:
    kb, weights = base
    text = export(runner, "--format", "graphml").stdout
    loaded = nx.read_graphml(io.BytesIO(text.encode("utf-8")), force_multigraph=True)
    original = build_graph(kb)
    assert loaded.is_directed() and loaded.is_multigraph()
    assert loaded.number_of_nodes() == original.number_of_nodes()
    assert loaded.number_of_edges() == original.number_of_edges()
    assert set(loaded.nodes) == set(original.nodes)
    for claim in kb.claims.values():
        node = loaded.nodes[f"claim:{claim.id}"]
        assert node["strength"] == pytest.approx(weights.claims[claim.id].strength, abs=1e-4)
        assert isinstance(node["strength"], float)
        assert node["consensus"] == weights.claims[claim.id].consensus
        assert node["statement"] == claim.statement
    for source in kb.sources.values():
        node = loaded.nodes[f"source:{source.id}"]
        assert node["reliability"] == pytest.approx(weights.reliability[source.id].value, abs=1e-4)
    types = sorted(t for _, _, t in loaded.edges(data="type"))
    assert types == sorted(t for _, _, t in original.edges(data="type"))
    weights_on_edges = [w for _, _, w in loaded.edges(data="weight") if w is not None]
    assert len(weights_on_edges) == sum(len(c.evidence) for c in kb.claims.values())


def _graphml_by_networkx(kb, weights) -> str:
    """What kb.export.to_graphml wrote before it wrote GraphML directly: networkx's writer (lxml)
    over kb.graph's graph with the export's attributes. The direct writer must give these bytes."""
    from kb.graph import claim_node, source_node
    from kb.weigh import _r

    graph = build_graph(kb)
    for source in kb.sources.values():
        attrs = graph.nodes[source_node(source.id)]
        attrs.update(
            label=source.title,
            source_kind=source.kind,
            reliability=float(_r(weights.reliability[source.id].value)),
        )
        attrs.update({k: v for k, v in (("author", source.author), ("url", source.url)) if v})
    for claim in kb.claims.values():
        w = weights.claims[claim.id]
        graph.nodes[claim_node(claim.id)].update(
            label=claim.statement,
            statement=claim.statement,
            tags=", ".join(claim.tags),
            strength=float(_r(w.strength)),
            base=float(_r(w.base)),
            consensus=w.consensus,
        )
        for index, ew in enumerate(w.evidence):
            ev = claim.evidence[index]
            edge = graph.edges[source_node(ev.source), claim_node(claim.id), f"evidence:{index}"]
            edge.update(weight=float(_r(ew.weight)), quote=ev.quote)
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue().decode("utf-8")


def _hostile_base(root: Path) -> Path:
    """Text that XML must escape, non-ASCII, a quote over two lines, a source quoted twice by one
    claim, a source without author, relations both ways and a claim without evidence."""
    (root / "sources").mkdir(parents=True)
    (root / "claims" / "a & b").mkdir(parents=True)
    text = (
        'Tom & Jerry say <b>"run"</b> > walk.\nCaf\u00e9 \u2014 l\u2019\u00e9t\u00e9 \U0001f3c3 runs\nfar.\n'
    )
    (root / "sources" / "s-1.txt").write_text(text, encoding="utf-8")
    (root / "sources" / "s-1.yaml").write_text(
        'title: \'Tom & Jerry <live> "quoted"\'\nkind: blog\nauthor: "O\'Brien & Co"\n'
        "url: https://example.org/?a=1&b=<2>\ntext: s-1.txt\n",
        encoding="utf-8",
    )
    (root / "sources" / "s2.txt").write_text("Plain words here.\n", encoding="utf-8")
    (root / "sources" / "s2.yaml").write_text("title: Plain\nkind: study\ntext: s2.txt\n", encoding="utf-8")
    (root / "claims" / "a & b" / "c.one.yaml").write_text(
        "statement: 'Running & walking <differ> \"a lot\"'\ntopic: a & b\ntags: [x<y, \u00e9t\u00e9]\n"
        "evidence:\n"
        "  - {source: s-1, stance: supports, kind: study, quote: 'Tom & Jerry say <b>\"run\"</b> > walk.'}\n"
        "  - {source: s-1, stance: opposes, kind: experience,\n"
        '     quote: "Caf\u00e9 \u2014 l\u2019\u00e9t\u00e9 \U0001f3c3 runs far.",\n'
        "     speaker: reader Zo\u00eb}\n"
        "  - {source: s2, stance: opposes, kind: mechanism, quote: Plain words here.}\n"
        "contradicts: [c_two]\nsupports: [c3]\n",
        encoding="utf-8",
    )
    (root / "claims" / "c_two.yaml").write_text(
        "statement: Walking wins.\ntopic: walking\nevidence:\n"
        "  - {source: s2, stance: supports, kind: study, quote: plain words}\n"
        "contradicts: [c.one]\nsupports: [c3]\n",
        encoding="utf-8",
    )
    (root / "claims" / "c3.yaml").write_text(
        "statement: Nothing yet.\ntopic: walking\nevidence: []\nsupports: [c_two]\n", encoding="utf-8"
    )
    return root


def test_graphml_is_the_bytes_networkx_writes(tmp_path: Path) -> None:
    from kb.export import to_graphml

    hostile = _hostile_base(tmp_path / "hostile")
    bases = [VALID, FIXTURES / "contradictions", FIXTURES / "warnings", FIXTURES / "bom-crlf", hostile]
    for root in bases:
        kb = load_valid(root)
        weights = compute(kb)
        assert to_graphml(kb, weights) == _graphml_by_networkx(kb, weights), root
    text = to_graphml(load_valid(hostile), compute(load_valid(hostile)))
    assert 'Tom &amp; Jerry say &lt;b&gt;"run"&lt;/b&gt; &gt; walk.' in text
    assert "\U0001f3c3" in text


def test_graphml_refuses_a_character_xml_cannot_hold(tmp_path: Path, runner) -> None:
    root = _hostile_base(tmp_path / "kb")
    claim = root / "claims" / "c3.yaml"
    claim.write_text(
        claim.read_text(encoding="utf-8").replace("Nothing yet.", '"Nothing\\uFFFF yet."'), encoding="utf-8"
    )
    result = runner.invoke(
        cli, ["export", "--kb", str(root), "--format", "graphml", "-o", str(tmp_path / "g.xml")]
    )
    assert result.exit_code == 1
    assert "U+FFFF" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "g.xml").exists()


def test_graphml_is_deterministic(runner) -> None:
    assert export(runner, "--format", "graphml").stdout == export(runner, "--format", "graphml").stdout


def test_csv_tables_load_in_pandas(runner, base, tmp_path: Path) -> None:
    kb, _ = base
    out = tmp_path / "tables"
    result = export(runner, "--format", "csv", "-o", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["claims.csv", "evidence.csv", "relations.csv"]
    assert "wrote" in result.stderr
    claims = pd.read_csv(out / "claims.csv", keep_default_na=False)
    evidence = pd.read_csv(out / "evidence.csv", keep_default_na=False)
    relations = pd.read_csv(out / "relations.csv", keep_default_na=False)
    assert tuple(claims.columns) == CSV_COLUMNS["claims"]
    assert tuple(evidence.columns) == CSV_COLUMNS["evidence"]
    assert tuple(relations.columns) == CSV_COLUMNS["relations"]
    assert len(claims) == len(kb.claims)
    assert len(evidence) == sum(len(c.evidence) for c in kb.claims.values())
    assert len(relations) == len(kb.relations())
    assert claims["strength"].between(0, 1).all()
    assert set(evidence["claim"]) <= set(claims["id"])
    # quotes with punctuation and typography survive the round trip
    assert set(evidence["quote"]) == {ev.quote for c in kb.claims.values() for ev in c.evidence}
    row = claims.set_index("id").loc["less-protein"]
    assert (row["sources_for"], row["sources_against"], row["supports"]) == (
        "blog-a",
        "guide-b",
        "running-shrinks-legs",
    )


def test_csv_needs_a_folder(runner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["export", "--kb", str(VALID), "--format", "csv"])
    assert result.exit_code == 2
    assert "-o DIR" in result.stderr
    file = tmp_path / "a-file"
    file.write_text("x")
    result = runner.invoke(cli, ["export", "--kb", str(VALID), "--format", "csv", "-o", str(file)])
    assert result.exit_code == 2
    assert file.read_text() == "x"
    result = runner.invoke(cli, ["export", "--kb", str(VALID), "--format", "graphml", "-o", str(tmp_path)])
    assert result.exit_code == 2


def _local_schema_org_loader(url: str, options=None) -> dict:
    """Serve a minimal schema.org context offline; any other document is an error (no network)."""
    if url.rstrip("/") in ("https://schema.org", "http://schema.org"):
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": {"@context": {"@vocab": SCHEMA_ORG}},
        }
    raise AssertionError(f"the test must not fetch {url}")


def test_claimreview_expands_as_json_ld(runner, base) -> None:
    kb, weights = base
    data = json.loads(export(runner, "--format", "claimreview").stdout)
    assert data["@context"] == "https://schema.org"
    expanded = jsonld.expand(data, {"documentLoader": _local_schema_org_loader})
    reviews = [n for n in expanded if f"{SCHEMA_ORG}ClaimReview" in n.get("@type", [])]
    assert len(reviews) == len(kb.claims)

    def value(node: dict, prop: str):
        return node[SCHEMA_ORG + prop][0]

    by_id = {value(r, "identifier")["@value"]: r for r in reviews}
    assert set(by_id) == set(kb.claims)
    for claim_id, review in by_id.items():
        claim, weight = kb.claims[claim_id], weights.claims[claim_id]
        assert value(review, "claimReviewed")["@value"] == claim.statement
        rating = value(review, "reviewRating")
        assert rating["@type"] == [f"{SCHEMA_ORG}Rating"]
        assert value(rating, "alternateName")["@value"] == weight.consensus
        best, worst = value(rating, "bestRating")["@value"], value(rating, "worstRating")["@value"]
        rating_value = value(rating, "ratingValue")["@value"]
        assert worst <= rating_value <= best
        assert (rating_value - worst) / (best - worst) == pytest.approx(weight.strength, abs=1e-3)
        item = value(review, "itemReviewed")
        assert item["@type"] == [f"{SCHEMA_ORG}Claim"]
        appearances = item.get(SCHEMA_ORG + "appearance", [])
        assert sorted(value(a, "name")["@value"] for a in appearances) == sorted(
            kb.sources[s].title for s in weight.sources_for
        )


def test_csv_files_are_written_atomically(monkeypatch, runner, tmp_path: Path) -> None:
    from kb import output

    written: list[Path] = []
    real = output.write_all

    def recording(files):
        written.extend(Path(path) for path in files)
        real(files)

    monkeypatch.setattr(output, "write_all", recording)  # what write_atomic and write_output use
    monkeypatch.setattr(kb_cli, "write_all", recording)
    out = tmp_path / "tables"
    export(runner, "--format", "csv", "-o", str(out))
    export(runner, "--format", "graphml", "-o", str(tmp_path / "kb.graphml"))
    export(runner, "--format", "claimreview", "-o", str(tmp_path / "claims.jsonld"))
    assert sorted(written) == sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("fmt", ["graphml", "csv", "claimreview"])
def test_claim_formats_are_the_same_without_the_disputes(runner, fmt: str, tmp_path: Path) -> None:
    """kb export weighs only the claims for GraphML, CSV and ClaimReview (no verdicts): the same
    output as from the full weights, on the shipped base, whose disputes are many."""
    from kb import export as exports

    kb = load_valid(REPO)
    full, claims_only = compute(kb), compute(kb, disputes=False)
    assert full.disputes and full.topics
    assert claims_only.disputes == () and claims_only.topics == {}
    assert claims_only.claims == full.claims and claims_only.reliability == full.reliability
    if fmt == "csv":
        out = tmp_path / "tables"
        result = runner.invoke(cli, ["export", "--kb", str(REPO), "--format", "csv", "-o", str(out)])
        assert result.exit_code == 0, result.output
        written = {p.name: p.read_bytes().decode("utf-8") for p in out.iterdir()}
        assert written == exports.to_csv_tables(kb, full)
        return
    render = {"graphml": exports.to_graphml, "claimreview": exports.to_claimreview_json}[fmt]
    result = runner.invoke(cli, ["export", "--kb", str(REPO), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout == render(kb, full)
