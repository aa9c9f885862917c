"""The built site in a real browser: Debian's headless Chromium, driven by Playwright, with no network.

The site is served by http.server on a free localhost port. Every request to another host
is blocked and recorded, and the tests fail if any was attempted: the site must work offline.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kb import search
from kb.contradictions import OPPOSED, find_contradictions
from kb.disputes import anchor as dispute_anchor
from kb.load import load_valid
from kb.site.pages import contradiction_anchor
from kb.site.text import slug
from kb.weigh import compute, shown, strength_words
from tests.conftest import REPO
from tests.question_set import QUESTIONS, check_answers, cli_answers
from tests.site_helpers import SITE_FIXTURE, build_with_cli, html_pages

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

if not Path(CHROMIUM).is_file():
    pytest.skip(
        "Debian's chromium is not installed (scripts/bootstrap.sh test installs it)", allow_module_level=True
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def _served(kb: Path, site: Path) -> Iterator[str]:
    """Build the site of ``kb`` into ``site`` and serve it on a free localhost port."""
    from click.testing import CliRunner

    build_with_cli(CliRunner(), kb, site)
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    with _served(SITE_FIXTURE, tmp_path_factory.mktemp("browser-site") / "out") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A page whose requests to any host but localhost are blocked; fails the test if one was tried."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    elsewhere: list[str] = []
    dialogs: list[str] = []

    def only_local(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert dialogs == [], f"dialogs opened: {dialogs}"
    assert errors == [], f"script errors: {errors}"


# The addresses of the article's pictures that fail to load and decode.
SHOWN_IMAGES = """async () => {
  const images = [...document.querySelectorAll("article img")];
  const shown = await Promise.all(images.map(i => i.decode().then(() => i.naturalWidth > 0, () => false)));
  return images.filter((_, k) => !shown[k]).map(i => i.src);
}"""


def _pwned(page) -> object:
    return page.evaluate("() => window.__pwned")


def _image_loaded(page, selector: str) -> bool:
    return page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0")


@pytest.fixture(scope="module")
def fixture_kb():
    return load_valid(SITE_FIXTURE)


def test_every_kind_of_page_renders_with_its_pictures(page, base_url, fixture_kb) -> None:
    topic = slug(sorted(fixture_kb.topics())[0])
    for path, heading in [
        ("index.html", "Site test base"),
        ("claims.html", "Claims"),
        ("sources.html", "Sources"),
        ("topics.html", "Topics"),
        (f"topics/{topic}.html", "Topic:"),
        ("claims/jogging-slims-thighs.html", "Easy jogging slims the thighs."),
        ("sources/coach.html", "A coach's notes on running"),
        ("contradictions.html", "Where sources disagree"),
        ("agreement.html", "Source against source"),
        ("report.html", "consensus report"),
    ]:
        response = page.goto(base_url + path)
        assert response is not None and response.status == 200, path
        assert heading in page.inner_text("article h1"), path
    page.goto(base_url + "claims/jogging-slims-thighs.html")
    assert _image_loaded(page, "img.kb-graph")
    page.goto(base_url + "agreement.html")
    assert page.locator("div.kb-heatmap svg").is_visible()


def _ask(page, question: str) -> list[str]:
    """Type a question into kb's search box; the claim ids of the answers, best first."""
    box = page.locator("input.kb-search__input")
    box.fill(question)
    page.wait_for_function(
        "q => document.querySelector('.kb-search__results').getAttribute('data-query') === q",
        arg=question,
        timeout=15_000,
    )
    return page.eval_on_selector_all(".kb-search__hit", "items => items.map(i => i.dataset.claim)")


def test_search_finds_a_claim(page, base_url) -> None:
    page.goto(base_url + "index.html")
    assert page.locator("input.md-search__input").count() == 0  # the theme's search box is replaced
    assert _ask(page, "calorie deficit")[0] == "deficit-needed"
    hit = page.locator(".kb-search__hit").first
    assert "strength 0." in hit.inner_text()
    hit.locator("a.kb-search__link").click()
    page.wait_for_url("**/claims/deficit-needed.html*")
    assert "A calorie deficit is needed to slim the legs." in page.inner_text("article h1")


def test_search_corrects_a_typo_and_says_so(page, base_url) -> None:
    page.goto(base_url + "claims.html")
    assert _ask(page, "calroie deficit")[0] == "deficit-needed"
    assert "searched for \u2018calorie\u2019 instead" in page.inner_text(".kb-search__results")
    assert _ask(page, "swimming") == []
    assert "no claim mentions \u2018swimming\u2019" in page.inner_text(".kb-search__results")


def test_a_disagreement_leads_to_both_sources(page, base_url, fixture_kb) -> None:
    found = find_contradictions(fixture_kb, compute(fixture_kb))
    clash = next(c for c in found if c.kind == OPPOSED)
    anchor = contradiction_anchor(clash)
    titles = {s: fixture_kb.sources[s].title for s in clash.sources}
    for side in (clash.a, clash.b):
        page.goto(f"{base_url}contradictions.html#{anchor}")
        table = page.locator(f"h3#{anchor} + div.kb-versus table")
        table.get_by_role("link", name=titles[side.source], exact=True).click()
        page.wait_for_url(f"**/sources/{side.source}.html")
        assert page.inner_text("article h1").startswith(titles[side.source])
        # and the quote of this side leads to its highlighted passage in the source's text
        page.goto(f"{base_url}contradictions.html#{anchor}")
        table.locator(f'a[href$="sources/{side.source}.html#q-{side.claim}-{side.index}"]').click()
        page.wait_for_url(f"**/sources/{side.source}.html#q-{side.claim}-{side.index}")
        # (the first highlighted passage after its anchor: a passage quoted twice has two anchors)
        marked = page.locator(f"#q-{side.claim}-{side.index} ~ mark").first
        assert side.quote.split()[0].lower() in marked.inner_text().lower()


def test_home_page_shows_the_disputes_with_their_verdicts(page, base_url, fixture_kb) -> None:
    disputes = compute(fixture_kb).disputes
    page.goto(base_url + "index.html")
    article = page.locator("article")
    headings = article.locator("h2").all_inner_texts()
    assert headings[0].startswith("Disputes and their verdicts")
    for d in disputes:
        heading = article.locator("h3", has_text=d.question)
        assert heading.count() == 1
        verdict = heading.locator("xpath=following-sibling::p[1]")
        assert f"kb-verdict-line--{d.verdict.label}" in (verdict.get_attribute("class") or "")
        assert verdict.is_visible() and d.summary() in verdict.inner_text()
        positions = heading.locator("xpath=following-sibling::div[1]").locator("li")
        assert positions.count() == len(d.positions)
        for p, item in zip(d.positions, positions.all(), strict=True):  # strongest first
            text = item.inner_text()
            assert p.statement in text and f"{shown(p.strength):.2f} {strength_words(p.strength)}" in text
    # the question leads to the dispute on the Disagreements page
    first = disputes_on_home(fixture_kb)[0]
    article.locator("h3", has_text=first.question).get_by_role("link", name=first.question).click()
    page.wait_for_url(f"**/contradictions.html#{dispute_anchor(first)}")
    assert page.locator(f"h2#{dispute_anchor(first)}").is_visible()


def disputes_on_home(kb):
    from kb.site import pages

    return pages.disputes_for_home(pages.site_data(kb, compute(kb)))


def test_a_dispute_shows_both_sides_with_strengths_and_the_better_one(page, base_url, fixture_kb) -> None:
    found = find_contradictions(fixture_kb, compute(fixture_kb))
    clash = next(c for c in found if c.kind != OPPOSED)
    anchor = contradiction_anchor(clash)
    page.goto(f"{base_url}contradictions.html#{anchor}")
    table = page.locator(f"h3#{anchor} + div.kb-versus table")
    assert table.is_visible()
    cells = {
        row.locator("td").first.inner_text(): row.locator("td") for row in table.locator("tbody tr").all()
    }
    for column, claim, strength in (
        (1, clash.claim_a, clash.strength_a),
        (2, clash.claim_b, clash.strength_b),
    ):
        assert fixture_kb.claims[claim].statement in cells["position"].nth(column).inner_text()
        assert (
            f"{shown(strength):.2f} {strength_words(strength)}" in cells["strength"].nth(column).inner_text()
        )
    # the two sides sit side by side, not one under the other
    a, b = cells["strength"].nth(1).bounding_box(), cells["strength"].nth(2).bounding_box()
    assert a and b and abs(a["y"] - b["y"]) < 2 and b["x"] > a["x"] + a["width"] - 2
    better = page.locator(f"h3#{anchor} ~ p", has_text="Better supported:").first
    expected = {"a": "side A", "b": "side B", None: "neither"}[clash.better_supported]
    assert expected in better.inner_text()


def test_report_page_is_wider_than_a_column_and_its_claim_ids_lead_to_claim_pages(page, base_url) -> None:
    page.goto(base_url + "report.html")
    article = page.locator("article").bounding_box()
    assert article and article["width"] > 720
    # no table spills out of the page: a wide one scrolls inside its own box
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 1280
    rights = page.evaluate(
        "() => [...document.querySelectorAll('article table')].map(t => t.getBoundingClientRect().right)"
    )
    assert rights and max(rights) <= article["x"] + article["width"] + 1
    links = page.locator('article a[href^="claims/"]')
    assert links.count() > 0
    claim_id = links.first.inner_text()
    links.first.click()
    page.wait_for_url(f"**/claims/{claim_id}.html")
    assert page.inner_text("article h1").strip()


# For every text of the heat map: its words, and the size it is drawn at on the screen, in pixels.
HEATMAP_TEXTS = """() => [...document.querySelectorAll('.kb-heatmap svg text')].map(t => {
  const spans = [...t.querySelectorAll('tspan')];
  const words = spans.length ? spans.map(s => s.textContent).join(' ') : t.textContent;
  const size = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
  return [words.split(/\\s+/).join(' ').trim(), size];
})"""


def test_heat_map_on_a_phone_has_whole_readable_labels_and_cells_that_lead_somewhere(
    browser, base_url
) -> None:
    fixture = load_valid(SITE_FIXTURE)
    context = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
    try:
        page = context.new_page()
        page.goto(base_url + "agreement.html")
        texts = page.evaluate(HEATMAP_TEXTS)
        assert texts and min(size for _, size in texts) >= 10
        words = [text for text, _ in texts]
        for number, source in enumerate(sorted(fixture.sources), 1):
            assert f"{number}. {' '.join(fixture.sources[source].title.split())}" in words
        # the page itself does not scroll sideways; the heat map's box does
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
        box = page.locator("div.kb-heatmap").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        hrefs = page.eval_on_selector_all(
            ".kb-heatmap svg a", "links => links.map(a => a.href.baseVal ?? a.getAttribute('href'))"
        )
        assert hrefs
        for href in sorted(set(hrefs)):
            target = base_url + href if not href.startswith("http") else href
            response = page.goto(target)
            assert response is not None and response.status == 200, href
            if "#" in href:
                assert page.locator(f"[id='{href.split('#', 1)[1]}']").count() == 1, href
            page.goto(base_url + "agreement.html")
        # a cell, tapped, leads to what the two sources say
        page.locator(".kb-heatmap svg a[href*='#p-']").first.click()
        page.wait_for_url("**/contradictions.html#p-*")
        fragment = page.url.split("#", 1)[1]
        assert page.locator(f"h3#{fragment}").is_visible()
    finally:
        context.close()


HOSTILE = [
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=1</script>",
    "[click](javascript:window.__pwned=1)",
]


def test_hostile_text_shows_as_text_and_runs_nothing(page, base_url, fixture_kb) -> None:
    hostile_topic = next(t for t in fixture_kb.topics() if "<i" in t)
    for path in (
        "claims/hostile-claim.html",
        "sources/hostile.html",
        "contradictions.html",
        "index.html",
        "claims.html",
        "report.html",
        f"topics/{slug(hostile_topic)}.html",
    ):
        page.goto(base_url + path)
        page.wait_for_load_state("load")
        page.mouse.move(300, 300)
        for anchor in page.locator("article a").all()[:15]:
            anchor.hover()
        assert _pwned(page) is None, path
        assert page.locator('a[href^="javascript:" i]').count() == 0, path
    page.goto(base_url + "claims/hostile-claim.html")
    heading = page.inner_text("article h1")
    for text in HOSTILE:
        assert text in heading
    assert "</title><script>window.__pwned=1</script>" in page.title()
    # search results are drawn from the index: the hostile claim must stay text there too
    assert "hostile-claim" in _ask(page, "hostile")
    result = page.locator(".kb-search__hit", has_text="<script>window.__pwned=1</script>")
    assert result.count() == 1
    page.locator(".kb-search__results").hover()
    assert _pwned(page) is None


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory) -> Iterator[tuple[Path, str]]:
    site = tmp_path_factory.mktemp("shipped-site") / "out"
    with _served(REPO, site) as url:
        yield site, url


def test_every_page_of_the_shipped_site_renders_offline(page, shipped_site) -> None:
    site, url = shipped_site
    paths = [p for p in html_pages(site) if p != "404.html"]
    claims = [p for p in paths if p.startswith("claims/")]
    # every page but the claims, whose pages are all alike (test_site checks each one's HTML): a sample
    visited = [p for p in paths if not p.startswith("claims/")] + claims[::4]
    for path in visited:
        response = page.goto(url + path, wait_until="domcontentloaded")
        assert response is not None and response.status == 200, path
        assert page.inner_text("article h1").strip(), path
        broken = page.evaluate(SHOWN_IMAGES)
        assert broken == [], f"{path}: pictures that do not show: {broken}"
    assert any(p.startswith("claims/") for p in paths) and "agreement.html" in paths


def test_search_works_from_disk(browser, shipped_site) -> None:
    """Opened straight from disk (file://), the search box still loads its index and answers."""
    site, _ = shipped_site
    context = browser.new_context()
    elsewhere: list[str] = []

    def only_files(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    try:
        page = context.new_page()
        page.goto((site / "claims.html").as_uri())
        # the typo corrected, the same first answer as `kb search`
        assert _ask(page, "protien")[:3] == [h.id for h in search.search(REPO, "protien", limit=3).hits]
    finally:
        context.close()
    assert elsewhere == []


def test_question_set_through_the_site_search_box(page, shipped_site) -> None:
    """The site answers every question of the set as `kb search` does: the same first three claims."""
    _, url = shipped_site
    page.goto(url + "sources.html")
    answers = {q["question"]: _ask(page, q["question"])[:3] for q in QUESTIONS}
    assert answers == cli_answers()
    check_answers(answers, "site search box")
    # a contested answer names the claim that contradicts it, with its strength
    _ask(page, "does running make legs bigger")
    against = page.locator('.kb-search__hit[data-claim="running-builds-lean-muscle"] .kb-search__against')
    assert "shrinks leg muscle" in against.inner_text() and "(0." in against.inner_text()


def test_search_offers_the_sites_other_pages_after_the_claims(page, shipped_site) -> None:
    """Topic, source and hand-written pages are found by their titles and summaries, after the claims."""
    _, url = shipped_site
    page.goto(url + "topics.html")
    assert _ask(page, "does running make legs bigger")
    order = page.eval_on_selector_all(
        ".kb-search__hit, .kb-search__page", "items => items.map(i => i.className)"
    )
    first_page = order.index("kb-search__page")
    assert all(name == "kb-search__hit" for name in order[:first_page])
    assert all(name == "kb-search__page" for name in order[first_page:])
    offered = page.eval_on_selector_all(".kb-search__page", "items => items.map(i => i.dataset.page)")
    assert "topics/running.html" in offered and len(offered) <= 5
    # a page no claim speaks of: the weighting page, by its title; its link leads there
    _ask(page, "how are strengths computed")
    link = page.locator('.kb-search__page[data-page="weighting.html"] a')
    assert link.inner_text() == "How strengths are computed"
    link.click()
    page.wait_for_url("**/weighting.html*")
    assert "How strengths are computed" in page.inner_text("article h1")
