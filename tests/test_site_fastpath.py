"""The MkDocs work kb's builds skip gives what MkDocs itself gives (kb.site.fastpath)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page, _RawHTMLPreprocessor

from kb.site import fastpath


def _parsed_anchors(text: str) -> set[str]:
    """The ids MkDocs' own parse finds in a page's raw HTML."""
    parser = _RawHTMLPreprocessor()
    parser.run(text.split("\n"))
    return parser.present_anchor_ids


# the characters that decide where the parser sees tags, attributes and their values
NASTY = st.text(alphabet=list("<>/!-?=\"'` \t\nabidnmeIDNAMEx&;"), max_size=60)


@settings(max_examples=3000, deadline=None)
@given(NASTY)
@example('<a title="<b>" id=x>')
@example("<a title='x>y' name='n'>")
@example("<span x=y<z id=w>")
@example("<p\nID\n=q>")
@example("<a/id/>")
@example("<div id")
def test_a_page_said_to_define_no_anchor_defines_none(text: str) -> None:
    if not fastpath.may_define_anchors(text):
        assert _parsed_anchors(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        '<a id="x">',
        '<span class="a" id="b">',
        "<A NAME=top>",
        '<a title="<b>" id="x">',
        "<div\nid='q'>",
    ],
)
def test_raw_html_with_an_anchor_is_parsed(text: str) -> None:
    assert _parsed_anchors(text)
    assert fastpath.may_define_anchors(text)


def test_a_claim_page_needs_no_parse() -> None:
    # raw HTML as kb writes it on a claim page, with "id" in its text and in words of attribute values
    text = (
        '<span class="kb-badge" title="sources take both sides">contested</span> '
        '<span class="kb-strength__bar" style="width: 27%"></span> · id `claim-1`\n\n'
        '<div class="kb-positions">\n<ul>\n<li><a href="claim-1.html" title="identity and names">x</a></li>\n'
        "</ul>\n</div>\n"
    )
    assert not fastpath.may_define_anchors(text)
    assert _parsed_anchors(text) == set()


def _page(tmp_path: Path, markdown: str) -> tuple[Page, MkDocsConfig, Files]:
    docs, site = tmp_path / "docs", tmp_path / "site"
    docs.mkdir(exist_ok=True)
    config = MkDocsConfig()
    config.load_dict({"site_name": "x", "docs_dir": str(docs), "site_dir": str(site)})
    config.load_dict({"markdown_extensions": ["attr_list", "md_in_html", "tables", "toc"]})
    assert config.validate() == ([], [])
    (docs / "a.md").write_text(markdown)
    file = File("a.md", str(docs), str(site), use_directory_urls=False)
    files = Files([file])
    page = Page(None, file, config)
    page.read_source(config)
    return page, config, files


def _fields(page: Page) -> tuple:
    return (
        page.content,
        [(item.title, item.url) for item in page.toc],
        page._title_from_render,
        page.present_anchor_ids,
        page.links_to_anchors is None,
        {target.src_uri: anchors for target, anchors in (page.links_to_anchors or {}).items()},
    )


def test_a_page_the_cache_emptied_gets_what_converting_it_gives(tmp_path: Path) -> None:
    page, config, files = _page(tmp_path, "")
    page.render(config, files)
    converted = _fields(page)
    page, config, files = _page(tmp_path, "")
    setattr(page, fastpath.NOT_CONVERTED, True)
    with fastpath.applied():
        page.render(config, files)
    assert _fields(page) == converted


def test_other_pages_are_converted_as_before(tmp_path: Path) -> None:
    text = '# Title\n\n<span id="here">x</span> [a](a.md#here)\n\n## Part\n'
    page, config, files = _page(tmp_path, text)
    page.render(config, files)
    before = _fields(page)
    assert before[3] == {"here", "title", "part"}
    page, config, files = _page(tmp_path, text)
    with fastpath.applied():
        page.render(config, files)
    assert _fields(page) == before


def test_mkdocs_is_left_as_it_was() -> None:
    run, render = _RawHTMLPreprocessor.run, Page.render
    with fastpath.applied():
        assert _RawHTMLPreprocessor.run is not run
        assert Page.render is not render
    assert _RawHTMLPreprocessor.run is run
    assert Page.render is render
