"""Per-page work of MkDocs that kb's builds skip where the result is provably the same.

- MkDocs converts every page with Python-Markdown. kb writes its pages in a small, regular subset of
  Markdown, which kb.site.fastmd converts itself, giving the same HTML, table of contents, title,
  anchors and links (with the same warnings: links are resolved by MkDocs' own code). At 1,000
  dense claims it converted all 1,231 pages in 4.4 s, where Python-Markdown took 38 s. A page it
  is not sure of is converted by Python-Markdown, as are all pages of a site whose Markdown has
  other extensions or settings.
- Before Python-Markdown converts a page, MkDocs runs an HTML parser over its whole Markdown, only
  to collect the ``id`` attributes (and ``name`` of ``<a>``) that raw HTML in it defines, for its
  check of links to anchors. A page where no start tag holds an attribute that could be named
  ``id`` or ``name`` gets the empty set the parser would give. Whether a start tag can is decided
  from the very patterns the parser finds tags with (``may_define_anchors``; a test checks it
  against the parser).
- It converts a page whose Markdown kb's render cache emptied (kb.site.rendercache: the page's
  HTML comes from the cache, or another process renders it) with a new Python-Markdown instance,
  only to get empty HTML. Such a page is given what that conversion gives: no HTML, no table of
  contents, no title, no anchors, no links.

``applied()`` installs all three for the duration of a build (the process's MkDocs is left as it
was afterwards); without the MkDocs internals they rely on (another version), it does nothing.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from kb.site import fastmd

# the attribute's name as the parser lowercases it, where the parser could start an attribute's
# name (after a quote, white space or "/") and end it (white space, "/", "=", ">" or the end)
_ANCHOR_ATTRIBUTE = re.compile(r"""(?i)(?<=['"\s/])(?:id|name)(?=[\s/=>]|\Z)""")
# how far past the end of a start tag's pattern the parser may still read an attribute's name
_SLACK = 6
# marks a page whose Markdown kb's render cache emptied (not converted in this process)
NOT_CONVERTED = "_kb_not_converted"


def _tag_patterns() -> tuple[Any, list[tuple[Any, int]]] | None:
    """The parser's pattern for where a start tag begins, and those for where it ends with the
    offset from the "<" each is matched at (Python's parser uses one or the other, by version)."""
    try:
        from markdown.htmlparser import htmlparser
    except ImportError:
        return None
    opening = getattr(htmlparser, "starttagopen", None)
    ends = [
        (getattr(htmlparser, name), offset)
        for name, offset in (("locatestarttagend_tolerant", 0), ("locatetagend", 1))
        if hasattr(htmlparser, name)
    ]
    if opening is None or not ends:
        return None
    return opening, ends


def may_define_anchors(text: str) -> bool:
    """False only if no start tag in ``text`` (as the HTML parser finds them) has an attribute that
    could be named ``id`` or ``name``; True when unsure."""
    patterns = _tag_patterns()
    if patterns is None:
        return True
    opening, ends = patterns
    search = _ANCHOR_ATTRIBUTE.search
    for start in opening.finditer(text):
        found = start.start()
        end = found + 1
        for pattern, offset in ends:
            match = pattern.match(text, found + offset)
            if match is not None and match.end() > end:
                end = match.end()
        if search(text, found, end + _SLACK):
            return True
    return False


_dialects: dict[str, fastmd.Dialect | None] = {}


def _dialect(config: Any) -> fastmd.Dialect | None:
    """The site's Markdown as kb's converter reads it (None: only Python-Markdown can convert it)."""
    extensions = config["markdown_extensions"]
    settings = config["mdx_configs"]
    key = repr((extensions, settings))
    if key not in _dialects:
        _dialects[key] = fastmd.Dialect.of(list(extensions), dict(settings or {}))
    return _dialects[key]


# A plain link to a page, maybe with an anchor: no scheme, query, escapes or leading "/".
_PLAIN_LINK = re.compile(r"([A-Za-z0-9_.-][A-Za-z0-9_./-]*\.md)(?:#([A-Za-z0-9_.:-]+))?")
# per build (its collection of files): (the linking page's folder, the folder its URL is relative to,
# the link's path) -> the path looked up, the page's file found there (weakly: a file may lead back to
# its collection, the key, which would then never be let go) and the link's relative URL
_resolved: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str], tuple[str, Any, str]]] = (
    weakref.WeakKeyDictionary()
)


def url_folder(url: str) -> str:
    """The folder ``mkdocs.utils.get_relative_url`` makes links relative to for a page at ``url``: the
    URL without its last part when that has a dot (a file), else the whole URL (a directory URL)."""
    folder, _, name = url.rpartition("/")
    return folder if "." in name else url


def _resolver(relative: Any, file: Any, files: Any) -> Callable[[str], str]:
    """MkDocs' ``path_to_url`` for the page, remembering what a plain link to a page from the same
    folder resolved to when it gave no warning. The pages of one folder link to the same pages over
    and over (at 1,000 dense claims a cold build resolved 39,500 links, about 7 % of its time in one
    process). A link that names a missing or excluded page, or any other link, goes to MkDocs each
    time: its warning is logged for every page that has it."""
    from mkdocs.utils import get_relative_url

    resolve = relative.path_to_url
    try:
        memo = _resolved.setdefault(files, {})
    except TypeError:  # not weakly referenceable: nothing is remembered
        return resolve
    if file.inclusion.is_excluded():
        return resolve
    source_folder = posixpath.dirname(file.src_uri)
    relative_to = url_folder(file.url)
    links_to_anchors = relative.links_to_anchors

    def path_to_url(url: str) -> str:
        plain = _PLAIN_LINK.fullmatch(url)
        if plain is None:
            return resolve(url)
        path, anchor = plain.groups()
        key = (source_folder, relative_to, path)
        found = memo.get(key)
        if found is None:
            target_uri = posixpath.normpath(posixpath.join(source_folder, path).lstrip("/"))
            target = files.get_file_from_path(target_uri)
            if target is None or target.inclusion.is_excluded():
                return resolve(url)  # MkDocs warns
            found = memo[key] = (target_uri, weakref.ref(target), get_relative_url(target.url, file.url))
        else:
            # looked up as MkDocs would (kb's render cache keeps the paths each page looked up)
            target = files.get_file_from_path(found[0])
            if target is None or target is not found[1]():
                return resolve(url)
        href = found[2]
        if anchor:
            # as MkDocs records it, to check the anchor once the target page is rendered
            links_to_anchors.setdefault(target, {}).setdefault(anchor, url)
            return f"{href}#{anchor}"
        return href

    return path_to_url


def converted_by_kb(page: Any, config: Any, files: Any) -> bool:
    """Converts the page as ``Page.render`` would, with kb's own converter (kb.site.fastmd), if that
    can: returns whether it did (if not, the page is as it was)."""
    try:
        from mkdocs.structure import pages as mkdocs_pages
        from mkdocs.structure.toc import get_toc
    except ImportError:
        return False
    relative_paths = getattr(mkdocs_pages, "_RelativePathTreeprocessor", None)
    if (
        relative_paths is None
        or not hasattr(relative_paths, "path_to_url")
        or not hasattr(mkdocs_pages, "log")
    ):
        return False
    dialect = _dialect(config)
    if dialect is None or page.markdown is None:
        return False
    relative = relative_paths(page.file, files, config)
    converted = fastmd.convert(page.markdown, dialect, _resolver(relative, page.file, files))
    if converted is None:
        return False
    page.content = converted.html
    page.toc = get_toc(converted.toc_tokens)
    page._title_from_render = converted.title
    page.present_anchor_ids = converted.anchor_ids
    if mkdocs_pages.log.getEffectiveLevel() > logging.DEBUG:
        page.links_to_anchors = relative.links_to_anchors
    return True


@contextlib.contextmanager
def applied() -> Iterator[None]:
    """The three shortcuts installed in MkDocs for the duration of the block."""
    try:
        from mkdocs.structure import pages as mkdocs_pages
        from mkdocs.structure.toc import get_toc
    except ImportError:
        yield
        return
    preprocessor = getattr(mkdocs_pages, "_RawHTMLPreprocessor", None)
    page_class = getattr(mkdocs_pages, "Page", None)
    if (
        preprocessor is None
        or page_class is None
        or _tag_patterns() is None
        or not hasattr(mkdocs_pages, "log")
        or "run" not in vars(preprocessor)
        or "render" not in vars(page_class)
    ):
        yield
        return
    parse = preprocessor.run
    render = page_class.render

    def run(self: Any, lines: list[str]) -> list[str]:
        if may_define_anchors("\n".join(lines)):
            return parse(self, lines)
        self.present_anchor_ids = set()
        return lines

    def render_page(self: Any, config: Any, files: Any) -> None:
        if converted_by_kb(self, config, files):
            return
        if self.__dict__.get(NOT_CONVERTED) and self.markdown == "":
            # what converting empty Markdown gives (Python-Markdown returns "" for it at once)
            self.content = ""
            self.toc = get_toc([])
            self._title_from_render = None
            self.present_anchor_ids = set()
            if mkdocs_pages.log.getEffectiveLevel() > logging.DEBUG:
                self.links_to_anchors = {}
            return
        render(self, config, files)

    preprocessor.run = run
    page_class.render = render_page
    try:
        yield
    finally:
        preprocessor.run = parse
        page_class.render = render
