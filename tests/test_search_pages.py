"""The site's other pages in its search box: topic, source and other pages as titles and short
summaries (kb/site/searchpages.py), ranked after the claims (kb.search.rank_pages)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from kb import search
from kb.load import load_valid
from kb.site import build, pages, searchpages
from kb.weigh import compute
from tests.conftest import REPO


@functools.cache
def shipped() -> tuple[list[list[str]], dict[str, Any]]:
    """The shipped site's page entries and its search index."""
    kb = load_valid(REPO)
    weights = compute(kb)
    handwritten = build.handwritten_pages(REPO / "site" / "mkdocs.yml")
    files = pages.generate_all(pages.site_data(kb, weights, handwritten=handwritten))
    texts = {name: build.read_page(path).decode() for name, path in handwritten.items()}
    entries = searchpages.page_entries(kb, weights, files, texts, False)
    return entries, search.site_index(kb, weights, lambda c: f"claims/{c}.html", entries)


def page_titles(query: str) -> list[str]:
    _, data = shipped()
    parsed = search.parse_query(search.SearchIndex(data), query)
    return [data["pages"][row][0] for _, row in search.rank_pages(data, parsed)]


def test_title_and_summary_come_from_the_pages_opening() -> None:
    text = (
        '---\ntitle: "Home"\n---\n\n# How to make legs smaller\n\n<div class="x">skip</div>\n\n'
        "What [four articles](sources.md) **claim** about `legs`.\n\n## Later\n\nNot this.\n"
    )
    assert searchpages.title_and_summary(text, "index") == (
        "Home",
        "How to make legs smaller: What four articles claim about legs.",
    )
    # no front matter: the first heading is the title; a page of tables only has no summary
    assert searchpages.title_and_summary("# Topics\n\n| a | b |\n| - | - |\n", "x") == ("Topics", "")
    assert searchpages.title_and_summary("no heading here", "fallback name") == (
        "fallback name",
        "no heading here",
    )


def test_a_long_summary_is_cut_at_a_word() -> None:
    summary = searchpages.title_and_summary("# T\n\n" + "word " * 100, "t")[1]
    assert len(summary) <= searchpages.MAX_SUMMARY and summary.endswith("word\u2026")


def test_every_topic_source_and_other_page_has_an_entry_but_no_claim_page() -> None:
    entries, _ = shipped()
    kb = load_valid(REPO)
    urls = {url: (title, kind) for title, url, _, kind in entries}
    assert {f"topics/{t}.html" for t in kb.topics()} <= set(urls)
    assert {f"sources/{s}.html" for s in kb.sources} <= set(urls)
    assert not any(url.startswith("claims/") for url in urls)
    assert urls["weighting.html"] == ("How strengths are computed", "page")  # hand-written
    assert urls["contradictions.html"][1] == "page"
    # the report says it is not for search (its front matter), and it is not: it repeats every claim
    assert not any(url.startswith("report") for url in urls)
    assert all(len(summary) <= searchpages.MAX_SUMMARY for _, _, summary, _ in entries)
    # pages come first, then topics, then sources
    kinds = [kind for *_, kind in entries]
    assert kinds == sorted(kinds, key=["page", "topic", "source"].index)


def test_a_hand_written_page_excluded_from_search_is_left_out(tmp_path: Path) -> None:
    kb = load_valid(REPO)
    weights = compute(kb)
    texts = {
        "private.md": "---\nsearch:\n  exclude: true\n---\n# Private notes\n",
        "guide.md": "# A guide\n\nHow to read this site.\n",
    }
    titles = [e[0] for e in searchpages.page_entries(kb, weights, {}, texts, False) if e[3] == "page"]
    assert titles == ["A guide"]


def test_pages_are_found_by_their_titles_and_summaries() -> None:
    assert page_titles("how are strengths computed")[0] == "How strengths are computed"
    assert page_titles("where do sources disagree")[0] == "Where sources disagree"
    assert page_titles("running")[0] == "Topic: running"
    assert page_titles("does running make legs bigger")[:2] == [
        "Will Running Slim Down My Thighs",
        "Topic: running",
    ]
    # a word no claim has can still find a page (the source's author)
    assert page_titles("josh vales") == ["How To Get Smaller Legs"]
    assert len(page_titles("legs")) <= search.MAX_PAGES
    assert page_titles("xylophone") == []


def test_excluded_words_leave_pages_out_too() -> None:
    assert "Topic: hiit" in page_titles("hiit")
    assert "Topic: hiit" not in page_titles("hiit -intervals")
    assert "Topic: running" not in page_titles("running -running")


def test_the_site_index_stays_small_per_page() -> None:
    # titles and short summaries only: the page part of the index is a small share of it
    import json

    _, data = shipped()
    pages_part = len(json.dumps([data["pages"], data["page_postings"]]))
    assert pages_part < 0.15 * len(json.dumps(data))


def test_text_kb_escaped_into_a_page_reads_back_as_itself() -> None:
    # what a page shows is what the search box shows (as text): no entity, backslash or tag lost
    from kb.site.text import front_matter_title, md

    hostile = 'A <script>alert(1)</script> & [link](javascript:x) *star* 1. under_score = "q"'
    page = front_matter_title(hostile) + "# " + md(hostile) + "\n\n" + md(hostile) + "\n"
    assert searchpages.title_and_summary(page, "f") == (hostile, hostile)
    assert searchpages.plain(md(hostile)) == hostile


def test_front_matter_is_read_line_by_line_not_loaded_as_yaml() -> None:
    # nested aliases would take any amount of memory if loaded; only title and search are read
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20)
    )
    page = f"---\n{bomb}title: 'It''s a page'\nsearch:\n  exclude: true\n---\n\nSome words.\n"
    assert searchpages.title_and_summary(page, "f") == ("It's a page", "Some words.")
    assert searchpages.excluded_from_search(page)


def test_a_generated_page_cut_into_parts_and_excluded_from_search_is_left_out_whole() -> None:
    kb = load_valid(REPO)
    weights = compute(kb)
    data = pages.site_data(kb, weights, page_limit=6_000)
    files = pages.generate_all(data)
    parts = [name for name in files if name.startswith("report")]
    assert len(parts) > 2  # the report is cut into parts, each with the front matter
    assert all(searchpages.excluded_from_search(files[name]) for name in parts)
    urls = [url for _, url, _, _ in searchpages.page_entries(kb, weights, files, {}, False)]
    assert not any(url.startswith("report") for url in urls)
    assert any(url.startswith("contradictions-") for url in urls)  # other pages' parts are listed
