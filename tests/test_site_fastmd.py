"""kb.site.fastmd gives every page what Python-Markdown and MkDocs give it, or declines.

Every page of the shipped knowledge base and of a dense synthetic one is converted both ways and
compared field by field (HTML, table of contents, title, anchors, links to check, warnings);
random text escaped as kb escapes it, in the places kb puts text, is too.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, get_files
from mkdocs.structure.pages import Page

from kb.load import load_valid
from kb.site import build, fastmd, fastpath, text
from kb.weigh import compute

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import synth_kb  # noqa: E402

EXTENSIONS = ["toc", "tables", "fenced_code", "attr_list", "md_in_html"]
CONFIGS = {"toc": {"permalink": True}}


class _Log(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def _fields(page: Page) -> tuple:
    def entries(items) -> list:
        return [(i.title, i.id, i.level, entries(i.children)) for i in items]

    return (
        page.content,
        entries(page.toc.items),
        page._title_from_render,
        page.present_anchor_ids,
        {target.src_uri: anchors for target, anchors in (page.links_to_anchors or {}).items()},
    )


def _render(file: File, files: Files, config: MkDocsConfig, fast: bool) -> tuple[tuple, list[str], bool]:
    """The page's fields and warnings, converted by Python-Markdown or (if it takes it) by fastmd."""
    page = Page(None, file, config)
    page.read_source(config)
    log = _Log()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(log)
    try:
        if fast:
            taken = fastmd.convert(page.markdown, fastpath._dialect(config), lambda url: url) is not None
            with fastpath.applied():
                page.render(config, files)
        else:
            taken = False
            page.render(config, files)
    finally:
        logger.removeHandler(log)
    return _fields(page), log.records, taken


def _docs(root: Path, tmp: Path) -> tuple[MkDocsConfig, Files]:
    """The MkDocs configuration and files of the pages kb generates for the knowledge base at root."""
    kb = load_valid(root)
    docs = tmp / "docs"
    config_path = build.config_file(root)
    handwritten = build.handwritten_pages(config_path)

    def sink(path: str, content: str | None) -> None:
        target = docs / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content or "", encoding="utf-8")

    build.generated_files(kb, compute(kb), handwritten, False, sink)
    for name, path in handwritten.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, docs / name)
    config = build.load_mkdocs_config(config_path, kb, docs, tmp / "site")
    return config, get_files(config)


def _compare_every_page(config: MkDocsConfig, files: Files) -> tuple[int, list[str]]:
    """How many pages fastmd took, and those it declined; fails on any page it gets wrong."""
    taken, declined = 0, []
    for file in files.documentation_pages():
        slow = _render(file, files, config, fast=False)
        fast = _render(file, files, config, fast=True)
        assert fast[:2] == slow[:2], file.src_uri
        if fast[2]:
            taken += 1
        else:
            declined.append(file.src_uri)
    return taken, declined


def test_the_site_markdown_has_a_dialect() -> None:
    assert fastmd.Dialect.of(EXTENSIONS, CONFIGS) is not None


@pytest.mark.parametrize(
    ("extensions", "configs"),
    [
        ([*EXTENSIONS, "admonition"], CONFIGS),
        ([*EXTENSIONS, "smarty"], CONFIGS),
        (EXTENSIONS, {"toc": {"permalink": "#"}}),
        (EXTENSIONS, {"toc": {"permalink": True, "toc_depth": 3}}),
        (EXTENSIONS, {"toc": {}}),
    ],
)
def test_other_markdown_settings_are_left_to_python_markdown(extensions: list, configs: dict) -> None:
    assert fastmd.Dialect.of(extensions, configs) is None


def test_every_page_of_the_shipped_knowledge_base(tmp_path: Path) -> None:
    config, files = _docs(REPO, tmp_path)
    taken, declined = _compare_every_page(config, files)
    generated = [f for f in declined if not (REPO / "site" / "docs" / f).exists()]
    assert generated == []  # every page kb generates is kb's converter's
    assert taken >= 90  # the 66 claims, the 4 sources, the topics, the lists


def test_every_page_of_the_knowledge_base_of_hostile_text(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "site", root, ignore=shutil.ignore_patterns(".kb-cache"))
    config, files = _docs(root, tmp_path)
    taken, declined = _compare_every_page(config, files)
    assert taken + len(declined) == len(files.documentation_pages())
    assert taken > 0


def test_every_page_of_a_dense_synthetic_knowledge_base(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    synth_kb.write(root, 120, 12, 240, 7, dense=True)
    config, files = _docs(root, tmp_path)
    taken, declined = _compare_every_page(config, files)
    assert declined == []
    assert taken == len(files.documentation_pages())


def _page(tmp_path: Path, markdown: str) -> tuple[File, Files, MkDocsConfig]:
    docs, site = tmp_path / "docs", tmp_path / "site"
    docs.mkdir(exist_ok=True)
    config = MkDocsConfig()
    config.load_dict({"site_name": "x", "docs_dir": str(docs), "site_dir": str(site)})
    config.load_dict(
        {"markdown_extensions": ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}}]}
    )
    assert config.validate() == ([], [])
    (docs / "a.md").write_text(markdown, encoding="utf-8")
    (docs / "b.md").write_text("# B\n", encoding="utf-8")
    files = Files([File(name, str(docs), str(site), use_directory_urls=False) for name in ("a.md", "b.md")])
    return files.get_file_from_path("a.md"), files, config


def _same(tmp_path: Path, markdown: str) -> bool:
    """Asserts both conversions agree; returns whether fastmd took the page."""
    file, files, config = _page(tmp_path, markdown)
    try:
        slow = _render(file, files, config, fast=False)
    except Exception:  # noqa: BLE001 - Python-Markdown's own failures (its HTML parser's)
        # then MkDocs fails on the page as it did: kb's converter does not take it
        assert fastmd.convert(markdown, fastpath._dialect(config), lambda url: url) is None
        return False
    fast = _render(file, files, config, fast=True)
    assert fast[:2] == slow[:2], markdown
    return fast[2]


@pytest.mark.parametrize(
    "markdown",
    [
        "# Title\n\nSome *emphasis*.\n",
        "# Title\n\n    an indented code block\n",
        "Heading\n=======\n",
        "- one\n  carried on\n- two\n",
        "- one\n\n- two\n",
        "- one\n    - nested\n",
        "> one\n\n> two\n",
        "<!-- a comment -->\n",
        "a line  \nbroken\n",
        "```\nfenced\n```\n",
        "[a reference][x]\n",
        "<div>\n\nblank line inside\n</div>\n",
        "text with _underscores_\n",
        "<http://example.org>\n",
        "a | b\n--- | ---\n1 | 2\n",
        "* a star list\n",
        "***\n",
    ],
)
def test_what_kb_does_not_write_is_left_to_python_markdown(tmp_path: Path, markdown: str) -> None:
    assert not _same(tmp_path, markdown)


@pytest.mark.parametrize(
    "markdown",
    [
        "# Title\n\nText & more &amp; &#61; &lt; > \\* \\_ \\[x\\] \\a \\\\ “quotes”.\n"
        "{: .kb-summary #here }\n",
        "## Same\n\n## Same\n\n### Same {: .x }\n\n## same-1\n\n## Same\n",
        "## [A link](b.md#b) in a heading {: .kb-question }\n\n[self](#a-link-in-a-heading) [top](a.md)\n",
        '- **0.9** <span class="kb-badge" title="a b">x</span> [b](b.md)<br><span>c</span>\n- `id-1` two\n',
        "3. three\n4. four\n\npara\n\n1. one\n",
        "| a | b \\| c |\n|:---|---:|\n| [x](b.md) | 2 |\n| | y |\n",
        '> [“Quote”](b.md#nowhere)\n\n<small class="k">small &#61; 0.5</small>\n',
        '<div class="kb-positions">\n<ul>\n<li id="p1"><a href="b.html">x</a></li>\n</ul>\n</div>\n\ntext\n',
        '<div class="r" markdown="1">\n\n## Inside\n\n| a |\n| --- |\n| 1 |\n\n</div>\n\n\nafter\n',
        "![The picture](b.md){: .kb-graph }\n\n![alt](missing.svg)\n",
        "Text [missing](nowhere.md) and [outside](https://example.org/a_b?c=1&d=2).\n",
    ],
)
def test_what_kb_writes_is_converted_the_same(tmp_path: Path, markdown: str) -> None:
    assert _same(tmp_path, markdown)


_ANY_TEXT = st.lists(
    st.sampled_from(list("ab \\`*_{}[]()#+-.!|<>&=;:\"'é“\n") + ["&amp;", "&#61;", "1. ", "- ", "    "]),
    max_size=30,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statement=_ANY_TEXT, title=_ANY_TEXT, raw=_ANY_TEXT)
@example(statement="*x*", title="# y", raw="_a_ [b]")
def test_any_text_escaped_as_kb_escapes_it(tmp_path: Path, statement: str, title: str, raw: str) -> None:
    escaped = text.md(statement)
    markdown = (
        f"# {text.md(title)}\n\n"
        f"{escaped} **{text.md('strength 0.5')}**\n{{: .kb-summary }}\n\n"
        f"## [{escaped}](b.md#x) {{: .kb-question }}\n\n"
        f"- {escaped}\n- [{text.md(title)}](b.md)\n\n"
        f"| a | b |\n| --- | --- |\n| {escaped} | {text.md(title)} |\n\n"
        f"> [“{escaped}”](b.md)\n\n"
        f'<div class="x" markdown="1">\n\n{text.md_keep_spaces(statement)}\n\n</div>\n\n'
        f"{raw}\n"
    )
    _same(tmp_path, markdown)


_PIECES = st.sampled_from(
    [
        "\n", "\n\n", "# ", "## ", "### ", "- ", "1. ", "> ", "    ", "|", "| a | b |\n| --- | --- |\n",
        "| --- |", "\n{: .x }", " {: #y }", "{: .z }", '<div class="x" markdown="1">\n\n', "\n\n</div>\n",
        '<div class="y">', "</div>", "<ul>\n<li>", "</li>\n</ul>", "<span>", "</span>", "<br>", "**", "*",
        "_", "`", "[x](b.md)", "[y](b.md#b)", "![z](b.md)", "[", "]", "(", ")", "\\", "&", "&amp;", "&#61;",
        "<", ">", "=", "---", "***", "a", "b c", "é", "“", "  ", "```", "<!--", "-->", "{", "}",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_PIECES, max_size=40))
@example(pieces=["- ", "1. ", "a"])
@example(pieces=["> ", "a", "\n", "## ", "b"])
def test_any_arrangement_of_markdown_pieces(tmp_path: Path, pieces: list[str]) -> None:
    _same(tmp_path, "".join(pieces))
