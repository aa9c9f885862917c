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


@pytest.mark.parametrize("directory_urls", [False, True])
def test_links_resolved_once_per_folder_give_what_mkdocs_gives_every_time(
    tmp_path: Path, directory_urls: bool
) -> None:
    """Pages of one folder share the links they resolve (fastpath's memo): every page still gets the
    same URLs, the same links to anchors to check, and the same warnings, as many times as MkDocs gives
    them, for links to missing and to excluded pages too."""
    import logging

    from mkdocs.structure.files import InclusionLevel

    docs, site = tmp_path / "docs", tmp_path / "site"
    links = (
        "[s](../sources/s.md#q-1) [s again](../sources/s.md#q-2) [plain](../sources/s.md) "
        "[gone](../sources/gone.md#q) [draft](../drafts/d.md) [sibling](b.md#top) [home](../index.md) "
        "[web](https://example.org/x.md) [up](../../out.md) [odd](../sources/s.md?x=1)"
    )
    pages = {
        "index.md": "# Home\n\n[a](claims/a.md#top) [s](sources/s.md)\n",
        "claims/a.md": f"# A {{: #top }}\n\n{links}\n",
        "claims/b.md": f"# B {{: #top }}\n\n{links}\n",
        "sources/s.md": '# S\n\n<span id="q-1">one</span>\n\n[a](../claims/a.md#top)\n',
        "drafts/d.md": "# Draft\n\n[s](../sources/s.md#q-1)\n",
    }
    for name, text in pages.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    config = MkDocsConfig()
    config.load_dict({"site_name": "x", "docs_dir": str(docs), "site_dir": str(site)})
    config.load_dict({"use_directory_urls": directory_urls})
    extensions = [{"toc": {"permalink": True}}, "tables", "fenced_code", "attr_list", "md_in_html"]
    config.load_dict({"markdown_extensions": extensions})
    assert config.validate() == ([], [])
    assert fastpath._dialect(config) is not None

    def rendered(fast: bool) -> list[tuple]:
        def file(name: str) -> File:
            excluded = name.startswith("drafts/")
            level = InclusionLevel.EXCLUDED if excluded else InclusionLevel.UNDEFINED
            return File(name, str(docs), str(site), directory_urls, inclusion=level)

        files = Files([file(name) for name in pages])
        records: list[str] = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = lambda record: records.append(f"{record.levelname} {record.getMessage()}")  # type: ignore[method-assign]
        logger = logging.getLogger("mkdocs")
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)  # links to excluded pages are reported at INFO
        out = []
        try:
            for f in files.documentation_pages():
                page = Page(None, f, config)
                page.read_source(config)
                if fast:
                    assert fastpath.converted_by_kb(page, config, files), f.src_uri
                else:
                    page.render(config, files)
                out.append((f.src_uri, _fields(page), list(records)))
                records.clear()
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        return out

    slow, fast = rendered(False), rendered(True)
    assert fast == slow
    warned = [w for _, _, warnings in slow for w in warnings]
    assert sum("gone.md" in w for w in warned) == 2  # once for each page that has the link
    assert any("excluded" in w for w in warned)
    a_page = next(fields for name, fields, _ in fast if name == "claims/a.md")
    assert a_page[-1]["sources/s.md"] == {"q-1": "../sources/s.md#q-1", "q-2": "../sources/s.md#q-2"}


def test_builds_in_one_process_let_go_of_each_other(tmp_path: Path) -> None:
    """kb serve builds again and again in one process. The memo of resolved links is kept per build (its
    collection of files) in a weak dictionary, and a file it held strongly led back to its collection
    (a kept page's file holds the render cache's plugin, whose closure holds the collection): no
    build's files, pages or record of the site in place were ever let go (90 MB a build at 2,000
    claims). Of three builds, at most the last one's stays (something still holds it; kb serve's preview
    keeps it anyway)."""
    import gc

    from kb.load import load_valid
    from kb.site import build as site_build
    from kb.site import keep
    from tests.site_helpers import copy_fixture

    kb = copy_fixture(tmp_path)
    out = tmp_path / "out"
    claim = next((kb / "claims").rglob("deficit-needed.yaml"))
    original = claim.read_text(encoding="utf-8")
    for round_ in range(3):
        edited = original.replace("A calorie deficit", f"A calorie deficit ({round_})")
        claim.write_text(edited, encoding="utf-8")
        site_build.build_site(load_valid(kb), out, parallel=False)
    gc.collect()
    assert len([o for o in gc.get_objects() if isinstance(o, keep.Previous)]) <= 1
    assert len(fastpath._resolved) <= 1
