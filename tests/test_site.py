"""The static site: pages, links into source texts, pictures, hostile text, reproducible and atomic builds."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.cli import cli
from kb.errors import UsageError
from kb.load import load_valid
from kb.site import build as site_build
from kb.site import pages, svg
from kb.site.text import md, one_line, slug
from kb.weigh import compute, shown, strength_words
from tests.conftest import FIXTURES, REPO, check_golden
from tests.site_helpers import (
    PWNED,
    SITE_FIXTURE,
    build_with_cli,
    copy_fixture,
    digest_tree,
    html_pages,
    is_external,
    read_page,
    resolve,
)

SITE_GOLDEN = FIXTURES / "site-golden"
SHIPPED_MISSING = not (REPO / "claims").is_dir()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The fixture base, built once through the command line."""
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("site") / "out"
    build_with_cli(CliRunner(), SITE_FIXTURE, out)
    return out


@pytest.fixture(scope="module")
def fixture_kb():
    return load_valid(SITE_FIXTURE)


# --- pages ---


def test_every_page_exists(site: Path, fixture_kb) -> None:
    for name in ("index", "claims", "sources", "topics", "contradictions", "agreement", "report"):
        assert (site / f"{name}.html").is_file(), name
    for claim in fixture_kb.claims:
        assert (site / "claims" / f"{claim}.html").is_file()
        assert (site / "assets/kb/graphs" / f"{claim}.svg").is_file()
    for source in fixture_kb.sources:
        assert (site / "sources" / f"{source}.html").is_file()
    for topic in fixture_kb.topics():
        assert (site / "topics" / f"{slug(topic)}.html").is_file()
    assert json.loads((site / "data/kb.json").read_text())["claims"]
    assert json.loads((site / "schema/claim.schema.json").read_text())["title"] == "kb claim"
    assert (site / "search-index.js").is_file() and (site / "assets/kb/search.js").is_file()
    assert not (site / "search").exists()  # the theme's own search is replaced by kb's


def test_claim_page_has_strength_badge_quotes_relations_and_picture(site: Path, fixture_kb) -> None:
    page = read_page(site, "claims/jogging-slims-thighs.html")
    weights = compute(fixture_kb).claims["jogging-slims-thighs"]
    assert page.title.startswith("Easy jogging slims the thighs.")
    assert f"strength {weights.strength:.2f}" in page.text
    assert (
        "contested" in page.text and "Evidence for (1)" in page.text and "Evidence against (1)" in page.text
    )
    quote_links = [href for href in page.links if "#q-" in href]
    assert sorted(quote_links) == [
        "../sources/coach.html#q-jogging-slims-thighs-0",
        "../sources/forum.html#q-jogging-slims-thighs-1",
    ]
    assert "../claims/jogging-builds-thighs.html" not in page.links  # same folder: relative
    assert "jogging-builds-thighs.html" in page.links and "deficit-needed.html" in page.links
    assert weights.explanation.split(";")[0] in page.text
    pictures = [img["src"] for img in page.images]
    assert pictures == ["../assets/kb/graphs/jogging-slims-thighs.svg"]


def test_every_link_resolves_to_a_file_and_anchor(site: Path) -> None:
    cache = {}
    checked = 0
    for rel in html_pages(site):
        if rel == "404.html":  # served for any missing path, so its links are absolute
            continue
        for href in read_page(site, rel).links:
            if is_external(href):
                continue
            target, fragment = resolve(rel, href)
            assert (site / target).exists(), f"{rel}: {href} is broken"
            if fragment and target.endswith(".html"):
                if target not in cache:
                    cache[target] = read_page(site, target).ids
                assert fragment in cache[target], f"{rel}: {href}: no such anchor"
                checked += 1
    assert checked > 20


def test_source_page_highlights_every_quote_and_links_it_to_its_claim(site: Path, fixture_kb) -> None:
    page = read_page(site, "sources/forum.html")
    quoted = [
        (claim.id, i)
        for claim in fixture_kb.claims.values()
        for i, ev in enumerate(claim.evidence)
        if ev.source == "forum"
    ]
    for claim_id, index in quoted:
        assert f"q-{claim_id}-{index}" in page.ids
        assert f"../claims/{claim_id}.html" in page.links
    classes = sorted(m["class"] for m in page.marks)
    assert classes == [
        "kb-quote kb-quote--opposes",
        "kb-quote kb-quote--supports",
        "kb-quote kb-quote--supports",
    ]
    assert "Reliability: 0.25: forum prior 0.25" in page.text
    # the sources it agrees and disagrees with, and its disagreements side by side
    assert "coach.html" in page.links
    from kb.contradictions import find_contradictions

    found = find_contradictions(fixture_kb, compute(fixture_kb))
    involved = [
        f"../contradictions.html#{pages.contradiction_anchor(c)}" for c in found if "forum" in c.sources
    ]
    assert involved and set(involved) <= set(page.links)


def test_contradictions_page_shows_both_sides_with_links_to_both_sources(site: Path, fixture_kb) -> None:
    from kb.contradictions import find_contradictions

    found = find_contradictions(fixture_kb, compute(fixture_kb))
    page = read_page(site, "contradictions.html")
    for c in found:
        assert pages.contradiction_anchor(c) in page.ids
        assert f"sources/{c.a.source}.html" in page.links and f"sources/{c.b.source}.html" in page.links
        assert f"sources/{c.a.source}.html#q-{c.a.claim}-{c.a.index}" in page.links
        assert f"sources/{c.b.source}.html#q-{c.b.claim}-{c.b.index}" in page.links
    assert len(found) >= 2


def test_topic_page_leads_with_its_disputes_then_agreement_then_one_source(site: Path, fixture_kb) -> None:
    from kb.disputes import anchor

    weights = compute(fixture_kb)
    for topic in ("running", "diet"):
        page = read_page(site, f"topics/{topic}.html")
        sections = ("Disputes", "What the sources agree on", "On one source's word", "Every claim")
        order = [page.text.index(h) for h in sections]
        assert order == sorted(order)
        disputes = [d for d in weights.disputes if d.id in weights.topics[topic].disputes]
        assert disputes
        for d in disputes:
            assert d.question in page.text and d.summary() in page.text
            assert f"../contradictions.html#{anchor(d)}" in page.links
            for p in d.positions:
                assert f"{shown(p.strength):.2f} {strength_words(p.strength)}" in page.text
    # a claim only one source speaks to, in no dispute, is listed as resting on that source's word
    diet = read_page(site, "topics/diet.html")
    one_source = diet.text.rsplit("On one source's word", 1)[1].rsplit("Every claim", 1)[0]
    assert "A calorie deficit is needed to slim the legs." in one_source
    assert "A calorie deficit alone decides" not in one_source  # in a dispute


def test_claim_page_shows_its_disputes_rivals_verdict_and_voices(site: Path, fixture_kb) -> None:
    from kb.disputes import anchor

    weights = compute(fixture_kb)
    (dispute,) = [d for d in weights.disputes if "jogging-builds-thighs" in d.claims]
    page = read_page(site, "claims/jogging-builds-thighs.html")
    assert page.text.index("In dispute") < page.text.index("Evidence for")
    assert dispute.question in page.text and dispute.summary() in page.text
    assert f"../contradictions.html#{anchor(dispute)}" in page.links
    for rival in dispute.positions:
        if rival.claim != "jogging-builds-thighs":
            assert f"{rival.claim}.html" in page.links
        assert f"{shown(rival.strength):.2f} {strength_words(rival.strength)}" in page.text
    # a reader's evidence is shown as the reader's, not as the source's own word
    reader = read_page(site, "claims/deficit-needed.html")
    assert "said by a reader of Runners' forum thread (reader Sam)" in reader.text
    assert "Other voices" in reader.text and "a reader of Runners' forum thread, for" in reader.text
    assert "In dispute" not in reader.text


SVG = "{http://www.w3.org/2000/svg}"


def _heatmap_labels(root: ET.Element) -> list[str]:
    """The texts of a heat map, each <text> with its lines joined by spaces."""
    texts = root.iter(f"{SVG}text")
    return [
        " ".join(" ".join(t.itertext() if len(t) == 0 else (s.text or "" for s in t)).split()) for t in texts
    ]


def test_agreement_page_draws_the_heat_map_with_whole_labels_and_linked_cells(site: Path, fixture_kb) -> None:
    from kb.contradictions import agreement_matrix

    matrix = agreement_matrix(fixture_kb, compute(fixture_kb))
    html = (site / "agreement.html").read_text(encoding="utf-8")
    inline = html.split('<div class="kb-heatmap"', 1)[1].split(">", 1)[1].split("</div>", 1)[0]
    page = read_page(site, "agreement.html")
    assert "../assets/kb/agreement.svg" not in page.links and "assets/kb/agreement.svg" in page.links
    for root in (ET.fromstring(inline), ET.parse(site / "assets/kb/agreement.svg").getroot()):
        labels = _heatmap_labels(root)
        for number, source in enumerate(sorted(fixture_kb.sources), 1):
            # whole titles, however long (the hostile one is markup, shown as text)
            assert f"{number}. {' '.join(fixture_kb.sources[source].title.split())}" in labels
        assert not any("\u2026" in label for label in labels)
        pair = f"{matrix.agree.at['coach', 'forum']} / {matrix.disagree.at['coach', 'forum']}"
        assert pair in labels
        sizes = [float(t.get("font-size", "0")) for t in root.iter(f"{SVG}text")]
        assert min(sizes) >= svg.HEATMAP_MIN_FONT
    # every pair that shares a claim links to what the two say on the Disagreements page; the diagonal
    # to the source
    links = [a.get("href") for a in ET.fromstring(inline).iter(f"{SVG}a")]
    shared = [(x, y) for x, y in matrix.pairs()[["source_a", "source_b"]].itertuples(index=False)]
    shared = [(x, y) for x, y in shared if matrix.agree.at[x, y] or matrix.disagree.at[x, y]]
    assert shared
    for x, y in shared:
        assert links.count(f"contradictions.html#{pages.pair_anchor(x, y)}") == 2  # both cells of the pair
    for source in fixture_kb.sources:
        assert f"sources/{source}.html" in links
    disagreements = read_page(site, "contradictions.html")
    for x, y in shared:
        assert pages.pair_anchor(x, y) in disagreements.ids
    # the picture's own file links from where it is
    file_links = [a.get("href") for a in ET.parse(site / "assets/kb/agreement.svg").getroot().iter(f"{SVG}a")]
    for href in file_links:
        target, fragment = resolve("assets/kb/agreement.svg", href)
        assert (site / target).is_file(), href
        assert not fragment or fragment in read_page(site, target).ids, href


def test_disagreements_page_says_what_each_pair_of_sources_clash_and_agree_on(site: Path, fixture_kb) -> None:
    from kb.contradictions import find_contradictions

    found = find_contradictions(fixture_kb, compute(fixture_kb))
    html = (site / "contradictions.html").read_text(encoding="utf-8")
    section = html.split(f'id="{pages.pair_anchor("coach", "forum")}"', 1)[1].split("<h3", 1)[0]
    clashes = [c for c in found if ("coach", "forum") in c.pairs()]
    assert clashes and f"They clash {len(clashes)} times" in section
    for c in clashes:
        assert f'href="#{pages.contradiction_anchor(c)}"' in section


def test_report_page_is_full_width_and_links_every_claim_id(site: Path, fixture_kb) -> None:
    markdown = pages.report_page(pages.site_data(fixture_kb, compute(fixture_kb)))
    front = markdown.split("---\n", 2)[1]
    assert "hide:" in front and '- "navigation"' in front and '- "toc"' in front
    page = read_page(site, "report.html")
    for claim in fixture_kb.claims:
        assert f"claims/{claim}.html" in page.links, claim


def test_home_page_counts_and_guide(site: Path, fixture_kb) -> None:
    page = read_page(site, "index.html")
    assert f"{len(fixture_kb.sources)} sources, {len(fixture_kb.claims)} claims" in page.text
    assert "How to read a strength" in page.text


def test_home_page_leads_with_the_disputes_and_their_verdicts(site: Path, fixture_kb) -> None:
    from kb.disputes import anchor

    disputes = compute(fixture_kb).disputes
    assert {d.kind for d in disputes} == {"contradicts", "yes-no"}
    page = read_page(site, "index.html")
    lead = page.text.index("Disputes and their verdicts")
    assert lead < page.text.index("What it covers") < page.text.index("How to read a strength")
    for d in disputes:
        assert d.question in page.text
        assert d.summary() in page.text
        assert f"contradictions.html#{anchor(d)}" in page.links
        for p in d.positions:
            assert f"claims/{p.claim}.html" in page.links
            assert f"{shown(p.strength):.2f} {strength_words(p.strength)}" in page.text
        for source in d.verdict.hinges_on:
            assert f"sources/{source}.html" in page.links
    assert "No: A calorie deficit alone decides" in page.text  # a yes-no dispute's positions


def test_disagreements_page_has_a_section_per_dispute_and_each_clash_once(site: Path, fixture_kb) -> None:
    from kb.contradictions import find_contradictions
    from kb.disputes import anchor

    weights = compute(fixture_kb)
    found = find_contradictions(fixture_kb, weights)
    page = read_page(site, "contradictions.html")
    for d in weights.disputes:
        assert anchor(d) in page.ids and f"#{anchor(d)}" in page.links
        assert d.summary() in page.text
    # one item per dispute and pair of positions, each with a better-supported line
    assert len({(c.dispute, c.claim_a, c.claim_b) for c in found}) == len(found)
    assert page.text.count("Better supported:") == len(found)
    html = (site / "contradictions.html").read_text(encoding="utf-8")
    for c in found:
        section = html.split(f'id="{pages.contradiction_anchor(c)}"', 1)[1].split("Better supported", 1)[0]
        for side, strength in ((c.sides_a, c.strength_a), (c.sides_b, c.strength_b)):
            assert f"<strong>{shown(strength):.2f}</strong> {strength_words(strength)}" in section
            for s in side:  # every source on the side, with its quote
                assert f"sources/{s.source}.html#q-{s.claim}-{s.index}" in section
    # strengths never show more than two decimals: a longer number is an evidence item's weight
    long_numbers = re.findall(r"(\w+) \d\.\d{3,}", page.text)
    assert long_numbers and set(long_numbers) == {"weight"}


def test_pictures_are_well_formed_svg_with_escaped_labels(site: Path) -> None:
    for picture in (site / "assets/kb/graphs").glob("*.svg"):
        root = ET.parse(picture).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert not [e for e in root.iter() if e.tag.endswith("script") or e.tag.endswith("foreignObject")]
        assert not [k for e in root.iter() for k in e.attrib if k.lower().startswith("on")]
    hostile = ET.parse(site / "assets/kb/graphs/hostile-claim.svg").getroot()
    assert "<img src=x" in "".join(hostile.itertext())


def test_nothing_is_fetched_from_another_host(site: Path) -> None:
    for rel in html_pages(site):
        page = read_page(site, rel)
        assert not [r for r in page.resources if is_external(r[1])], rel
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert "@import" not in text and "fonts.googleapis" not in text and "url(http" not in text, css


def test_generated_markdown_golden(fixture_kb) -> None:
    data = pages.site_data(fixture_kb, compute(fixture_kb), handwritten={"weighting.md"})
    files = pages.generate_all(data)
    check_golden(SITE_GOLDEN / "forum.md", files["sources/forum.md"])
    check_golden(SITE_GOLDEN / "index.md", files["index.md"])
    check_golden(SITE_GOLDEN / "contradictions.md", files["contradictions.md"])
    check_golden(SITE_GOLDEN / "topic-diet.md", files["topics/diet.md"])
    check_golden(SITE_GOLDEN / "claim-jogging-builds-thighs.md", files["claims/jogging-builds-thighs.md"])


# --- text is data ---

HOSTILE_PAGES = ["claims/hostile-claim.html", "sources/hostile.html", "contradictions.html", "index.html"]


def test_hostile_text_is_shown_as_text_and_runs_nothing(site: Path) -> None:
    for rel in html_pages(site):
        page = read_page(site, rel)
        assert not page.handlers, f"{rel}: event handler attributes {page.handlers}"
        assert not [s for s in page.scripts if PWNED in s], f"{rel}: KB text inside a script"
        assert not [h for h in page.links if h.strip().lower().startswith("javascript:")], rel
        assert not [r for r in page.resources if PWNED in r[1]], rel
    claim = read_page(site, "claims/hostile-claim.html")
    for text in (
        "<img src=x onerror=window.__pwned=1>",
        "<script>window.__pwned=1</script>",
        "[click](javascript:window.__pwned=1)",
        "</title><script>window.__pwned=1</script> *not emphasis*",
        "<b onmouseover=window.__pwned=1>bold</b>",  # a tag
    ):
        assert text in claim.text, text
    assert claim.title.startswith("Hostile <img src=x onerror=window.__pwned=1> <script>")
    source = read_page(site, "sources/hostile.html")
    assert "</title><svg onload=window.__pwned=1> Hostile page" in source.title
    assert "Author: <a href=javascript:window.__pwned=1>me</a>" in source.text
    assert "Address: javascript:window.__pwned=1" in source.text  # shown, not linked
    for line in ("# not a heading", "1. not a list", "=====", '<div onclick="window.__pwned=1">'):
        assert line in source.text, line
    topic = next(p for p in html_pages(site) if p.startswith("topics/i-onmouseover"))
    assert "Topic: <i onmouseover=window.__pwned=1>hostile</i> topic" in read_page(site, topic).text
    home = read_page(site, "index.html")
    assert "<script>window.__pwned=1</script> [click](javascript:window.__pwned=1)" in home.text
    report = read_page(site, "report.html")
    assert report.title.startswith("Consensus report - ")
    assert "Topic: <i onmouseover=window.__pwned=1>hostile</i> topic" in report.text


def test_hostile_title_of_the_base_is_inert(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    title = '</title><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
    (kb / "kb.yaml").write_text(f"title: {json.dumps(title)}\ndescription: {json.dumps(title)}\n")
    out = tmp_path / "out"
    build_with_cli(runner, kb, out)
    for rel in html_pages(out):
        page = read_page(out, rel)
        assert not page.handlers and not [s for s in page.scripts if PWNED in s], rel
        assert not [r for r in page.resources if PWNED in r[1]], rel
    home = read_page(out, "index.html")
    assert home.title.endswith(title) and title in home.text


def _search_index(site: Path) -> dict:
    text = (site / "search-index.js").read_text(encoding="utf-8")
    prefix = "window.kbSearchIndex = "
    assert text.startswith(prefix) and text.endswith(";\n")
    return json.loads(text[len(prefix) : -2])


def test_search_index_is_data_and_the_script_writes_text_only(site: Path) -> None:
    index = _search_index(site)
    hostile = next(c for c in index["claims"] if c[0] == "hostile-claim")
    assert "<script>window.__pwned=1</script>" in hostile[1]  # the statement as written: data, not HTML
    raw = (site / "search-index.js").read_text(encoding="utf-8")
    assert "<" not in raw and "\u2028" not in raw  # ASCII-escaped: nothing in it can end a script
    script = (site / "assets/kb/search.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script


def test_search_finds_every_claim_page_but_not_the_report(site: Path, fixture_kb) -> None:
    index = _search_index(site)
    urls = {c[8] for c in index["claims"]}
    assert urls == {f"claims/{c}.html" for c in fixture_kb.claims}
    assert all((site / url).is_file() for url in urls)
    assert (site / "report.html").is_file()


MARKDOWN_EXTENSIONS = ["attr_list", "md_in_html", "tables", "toc"]


def _rendered_text(markdown_text: str) -> tuple[str, list[str]]:
    """(text content, tags) of Markdown rendered with the site's extensions."""
    from html.parser import HTMLParser

    rendered = markdown.markdown(markdown_text, extensions=MARKDOWN_EXTENSIONS)
    tags: list[str] = []
    text: list[str] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

        def handle_data(self, data):
            text.append(data)

    reader = Reader(convert_charrefs=True)
    reader.feed(rendered)
    reader.close()
    return "".join(text), tags


TABLE_TAGS = ["table", "thead", "tr", "th", "tbody", "tr", "td"]
PUNCTUATION_HEAVY = st.text(alphabet="-+.#*_`\\[](){}<>!|=:&;~^ 1aA\"'/", max_size=40)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)


@settings(max_examples=400, deadline=None)
@given(st.one_of(PUNCTUATION_HEAVY, ANY_TEXT))
def test_escaped_text_renders_as_exactly_itself(text: str) -> None:
    if not one_line(text):
        return
    for wrap, expected_tags, shown_as in (
        ("{}", ["p"], "{}"),
        ("# {}", ["h1"], "{}"),
        ("- {}", ["ul", "li"], "{}"),
        ("1. {}", ["ol", "li"], "{}"),
        ("| a |\n| --- |\n| {} |", TABLE_TAGS, "a{}"),
        ("x\n{}", ["p"], "x{}"),
    ):
        source = wrap.format(md(text))
        shown, tags = _rendered_text(source)
        assert shown.replace("\n", "") == shown_as.format(one_line(text)), (text, source)
        assert tags == expected_tags, (text, source, tags)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PUNCTUATION_HEAVY, ANY_TEXT), min_size=1, max_size=4))
def test_escaped_lines_of_a_source_text_render_as_themselves(lines: list[str]) -> None:
    from kb.site.pages import _render_run

    text = "\n".join(" ".join(line.split()) for line in lines)
    if not text.strip() or "\n\n" in text or text != text.strip():
        return
    shown, tags = _rendered_text(_render_run(text))
    assert set(tags) <= {"p", "br"}, (text, tags)
    assert shown.replace("\n", "") == text.replace("\n", ""), text


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "![x](http://example.org/x.png)",
        "<http://example.org>",
        "&lt;b&gt; and &amp;",
        "1. a\n2. b",
        "    code?",
        "*a* _b_ **c** `d`",
        "text {: #id .cls onclick=alert(1) }",
        "| a | b |\n|---|---|",
        "a\n===",
        "> quote",
        "\\[escaped\\]",
        "!!! note",
    ],
)
def test_markup_in_text_stays_text(text: str) -> None:
    shown, tags = _rendered_text(md(text))
    assert tags == ["p"]
    assert shown == one_line(text)


# --- builds ---


def test_two_builds_are_byte_identical(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    first, second = tmp_path / "one", tmp_path / "two"
    build_with_cli(runner, kb, first)
    build_with_cli(runner, kb, second)
    assert digest_tree(first) == digest_tree(second)
    # the parts that usually carry a date or a path: sitemap (also gzipped) and the search index
    for name in ("sitemap.xml.gz", "sitemap.xml", "search-index.js"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert gzip.decompress((first / "sitemap.xml.gz").read_bytes()) == (first / "sitemap.xml").read_bytes()


def test_build_date_comes_from_source_date_epoch(tmp_path: Path, runner, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13 UTC
    build_with_cli(runner, SITE_FIXTURE, tmp_path / "out")
    header = (tmp_path / "out/sitemap.xml.gz").read_bytes()[:10]
    assert int.from_bytes(header[4:8], "little") == 1699920000  # that day: MkDocs dates by the day


@pytest.mark.usefixtures("always_build")
def test_failed_build_leaves_previous_site_intact(tmp_path: Path, runner, monkeypatch) -> None:
    out = tmp_path / "out"
    build_with_cli(runner, SITE_FIXTURE, out)
    before = digest_tree(out)

    def half_written(mkdocs_config, total_pages, progress, **_):
        Path(mkdocs_config.site_dir, "index.html").write_text("half a page")
        raise site_build.SiteBuildError("the site generator failed: simulated")

    monkeypatch.setattr(site_build, "render", half_written)
    result = runner.invoke(cli, ["build", "--kb", str(SITE_FIXTURE), "--out", str(out)])
    assert result.exit_code == 1
    assert "simulated" in result.stderr and "Traceback" not in result.output
    assert digest_tree(out) == before
    # beside the site only its lock and its render cache (kb.site.rendercache), no half-built folder
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.kb-cache", ".out.lock", "out"]


def test_invalid_base_prints_problems_and_keeps_the_site(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    out = tmp_path / "out"
    build_with_cli(runner, kb, out)
    before = digest_tree(out)
    claim = kb / "claims/diet/deficit-needed.yaml"
    claim.write_text(claim.read_text().replace("stance: supports", "stance: suports", 1))
    result = runner.invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    assert result.exit_code == 1
    assert "claims/diet/deficit-needed.yaml:6:13:" in result.stderr and "suports" in result.stderr
    assert digest_tree(out) == before


def test_refuses_to_replace_a_folder_kb_did_not_build(tmp_path: Path, runner) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = runner.invoke(cli, ["build", "--kb", str(SITE_FIXTURE), "--out", str(out)])
    assert result.exit_code == 2
    assert "was not built by kb" in result.stderr
    assert (out / "notes.txt").read_text() == "keep me"
    result = runner.invoke(cli, ["build", "--kb", str(SITE_FIXTURE), "--out", str(SITE_FIXTURE.parent)])
    assert result.exit_code == 2 and "knowledge base" in result.stderr
    inside = SITE_FIXTURE / "claims" / "site"
    result = runner.invoke(cli, ["build", "--kb", str(SITE_FIXTURE), "--out", str(inside)])
    assert result.exit_code == 2 and "which kb reads" in result.stderr and not inside.exists()


def test_default_output_folder_and_summary(tmp_path: Path, runner, fixture_kb) -> None:
    kb = copy_fixture(tmp_path)
    result = runner.invoke(cli, ["build", "--kb", str(kb)])
    assert result.exit_code == 0, result.output
    assert (kb / "build/site/index.html").is_file()
    # a page per claim, source and topic; home, claims, sources, topics, disagreements, agreement, report
    count = len(fixture_kb.claims) + len(fixture_kb.sources) + len(fixture_kb.topics()) + 7
    assert result.stdout.startswith(f"built {count} pages into ")
    assert result.stderr == ""  # quiet when not on a terminal


def test_two_builds_at_once_each_leave_a_whole_site(tmp_path: Path) -> None:
    kb = copy_fixture(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kb", "build", "--kb", str(kb), "--out", str(out)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()
    alone = tmp_path / "alone"
    subprocess.run([*command[:-1], str(alone)], env=env, check=True, capture_output=True)
    assert digest_tree(out) == digest_tree(alone)
    expected = [".alone.kb-cache", ".alone.lock", ".out.kb-cache", ".out.lock", "alone", "out", "site"]
    # the sites that were replaced are deleted in the background (kb.site.build.remove_in_background)
    deadline = time.monotonic() + 60
    while sorted(p.name for p in tmp_path.iterdir()) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(p.name for p in tmp_path.iterdir()) == expected


def test_handwritten_page_may_not_take_a_generated_name(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    (kb / "site/docs").mkdir(parents=True)
    (kb / "site/docs/claims.md").write_text("# mine\n")
    (kb / "site/mkdocs.yml").write_text((REPO / "kb/site/mkdocs.yml").read_text())
    result = runner.invoke(cli, ["build", "--kb", str(kb)])
    assert result.exit_code == 2
    assert "site/docs/claims.md: kb generates a page with this name" in result.stderr


def test_site_folder_of_the_base_is_used_with_its_pages(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    (kb / "site/docs").mkdir(parents=True)
    (kb / "site/docs/about.md").write_text("# About this base\n\nWritten by hand.\n")
    config = (
        (REPO / "kb/site/mkdocs.yml")
        .read_text()
        .replace("  - Home: index.md", "  - Home: index.md\n  - About: about.md")
    )
    (kb / "site/mkdocs.yml").write_text(config)
    build_with_cli(runner, kb, tmp_path / "out")
    about = read_page(tmp_path / "out", "about.html")
    assert "Written by hand." in about.text
    assert "about.html" in read_page(tmp_path / "out", "index.html").links


def test_usage_errors_are_not_tracebacks(runner, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = runner.invoke(cli, ["build", "--kb", str(SITE_FIXTURE), "--out", str(tmp_path / "file")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    with pytest.raises(UsageError):
        site_build.check_out(SITE_FIXTURE, SITE_FIXTURE, site_build.config_file(SITE_FIXTURE))


# --- the shipped knowledge base ---


@pytest.mark.skipif(
    SHIPPED_MISSING, reason="the shipped knowledge base (claims/ at the repository root) is not there yet"
)
def test_shipped_site_builds_with_every_page(tmp_path: Path, runner) -> None:
    out = tmp_path / "out"
    result = runner.invoke(cli, ["build", "--kb", str(REPO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr, result.stderr
    kb = load_valid(REPO)
    for claim in kb.claims:
        page = read_page(out, f"claims/{claim}.html")
        assert "strength" in page.text and page.images
        for href in page.links:
            if "#q-" in href:
                target, fragment = resolve(f"claims/{claim}.html", href)
                assert fragment in read_page(out, target).ids, href
    for source in kb.sources:
        page = read_page(out, f"sources/{source}.html")
        quoted = sum(1 for c in kb.claims.values() for ev in c.evidence if ev.source == source)
        assert len([i for i in page.ids if i.startswith("q-")]) == quoted
    for topic in kb.topics():
        assert (out / "topics" / f"{slug(topic)}.html").is_file()
    for name in ("index", "contradictions", "agreement", "claims", "sources", "topics", "report"):
        assert (out / f"{name}.html").is_file()
    if (REPO / "site/docs/weighting.md").is_file():
        assert (out / "weighting.html").is_file()


@pytest.mark.skipif(
    SHIPPED_MISSING, reason="the shipped knowledge base (claims/ at the repository root) is not there yet"
)
def test_a_source_page_lists_each_claim_once_with_all_its_quotes() -> None:
    kb = load_valid(REPO)
    data = pages.site_data(kb, compute(kb), handwritten={"weighting.md"})
    guide = "how-to-lose-muscle-in-your-legs"
    page = pages.source_markdown(data, kb.sources[guide])
    table = page.split("## Its claims\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("<tr><td><a ")]
    cited = {c.id: [i for i, ev in enumerate(c.evidence) if ev.source == guide] for c in kb.claims.values()}
    cited = {claim_id: indexes for claim_id, indexes in cited.items() if indexes}
    assert len(rows) == len(cited)
    assert any(len(indexes) > 1 for indexes in cited.values())
    for claim_id, indexes in cited.items():
        (row,) = [r for r in rows if f'href="../claims/{claim_id}.html"' in r]
        for index in indexes:
            assert f'href="#q-{claim_id}-{index}"' in row
        strongest = max(data.weights.claims[claim_id].evidence[i].weight for i in indexes)
        assert f"<td>{strongest:.3f}</td>" in row


def test_a_long_text_without_blank_lines_becomes_bounded_paragraphs() -> None:
    """A 1.3 MB source text with no blank line was one paragraph, which took a build over 400 s."""
    from kb.site.pages import MAX_PARAGRAPH, _paragraphs

    line = "Running shrinks legs over months and cycling builds them up again\n"
    text = line * 20_000 + "x" * 5000 + " tail"
    pieces = _paragraphs(text)
    assert len(pieces) > 1 and all(end - start <= MAX_PARAGRAPH for start, end in pieces)
    assert all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    # nothing is lost: the pieces hold every non-space character, in order
    assert "".join("".join(text[s:e].split()) for s, e in pieces) == "".join(text.split())


def test_a_dispute_in_short_lists_the_strongest_positions_and_this_claims_rivals() -> None:
    from kb.disputes import Dispute, Position, Verdict

    positions = tuple(
        Position(f"c{i}", f"Claim {i}.", None, 0.9 - i * 0.05, "contested", (f"s{i}",), (), (), ())
        for i in range(10)
    )
    rivals = tuple((9,) if i == 0 else (8,) if i == 9 else (0,) for i in range(10))
    d = Dispute(
        "big",
        "Which?",
        False,
        "t",
        "contradicts",
        positions,
        rivals,
        Verdict("leaning", 0, 0.4, 9, False, ()),
        True,
    )
    assert pages.shown_positions(d, limit=None) == list(range(10))
    assert pages.shown_positions(d, limit=3) == [0, 1, 2, 9]  # the strongest three and the leader's rival
    assert pages.shown_positions(d, "c9", limit=3) == [0, 1, 2, 8, 9]  # and this claim's rival
