"""kb's pages converted to HTML the way MkDocs converts them, without Python-Markdown, where that
gives the same result.

Converting Markdown is most of a cold build (at 1,000 dense claims about two thirds of its CPU
time): Python-Markdown parses every page's raw HTML with an HTML parser and runs some twenty inline
patterns over every paragraph, for pages whose Markdown kb itself wrote in a small, regular subset:
headings, paragraphs, blockquotes, one-line list items, pipe tables, raw HTML blocks, and inline
links, images, ``**strong**``, ``code``, escapes, entities and tags, with attribute lists. Text
from a knowledge base reaches that Markdown escaped (kb.site.text), so none of it adds syntax.

``convert`` reads that subset and gives what Python-Markdown, with the site's extensions (which
``Dialect.of`` checks are exactly those it knows), and MkDocs' own processors give: the HTML, the
table of contents, the title of a page that starts with one, the ids of its anchors; each link is
resolved by MkDocs' own code (``link``), which also records and reports the links to check. Any
line it is not sure about (an unescaped ``*`` or ``_``, a block that could be a code block, a list
item running on to a second line, ...) makes it return None, and the page is converted by
Python-Markdown as before. Tests convert every page of several knowledge bases both ways and compare
the results byte for byte.
"""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# the extensions (and their settings) the site's Markdown may have for this converter to be used
_EXTENSIONS = {"attr_list", "md_in_html", "tables", "toc", "fenced_code"}
_TOC_SETTINGS = {
    "marker": "[TOC]",
    "title": "",
    "baselevel": "1",
    "separator": "-",
    "anchorlink": False,
    "permalink": True,
    "permalink_class": "headerlink",
    "permalink_title": "Permanent link",
    "permalink_leading": False,
    "toc_depth": 6,
}
# the processors Python-Markdown has with those extensions: another one could change the result
_PROCESSORS = {
    "preprocessors": {"normalize_whitespace", "html_block", "fenced_code_block"},
    "blockprocessors": {
        "empty", "indent", "code", "hashheader", "setextheader", "hr", "olist", "ulist", "quote",
        "reference", "paragraph", "markdown_block", "table",
    },
    "inlinePatterns": {
        "backtick", "escape", "reference", "link", "image_link", "image_reference", "short_reference",
        "short_image_ref", "autolink", "automail", "linebreak", "html", "entity", "em_strong",
    },
    "treeprocessors": {"inline", "prettify", "unescape", "attr_list", "toc"},
    "postprocessors": {"amp_substitute", "raw_html"},
}  # fmt: skip

_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "source"})
# a start or end tag kb writes: lower-case names, double-quoted attribute values holding nothing
# the inline patterns that run before raw HTML is recognised could read (code, escapes, links)
_TAG = re.compile(
    r'<(?:([a-z][a-zA-Z0-9]*)((?: [a-zA-Z][a-zA-Z0-9:-]*="[^"<>`\\\[\]\n]*")*) ?/?|/([a-z][a-z0-9]*))>'
)
_UNTIL_STAR = re.compile(r"(?:\\.|[^\\*])*")
_TAG_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
_INDENTED_TAG = re.compile(r"[ ]{0,3}<([a-zA-Z][a-zA-Z0-9]*)")
_ESCAPE = re.compile(r"\\(.)")
_LINK_MARK = re.compile("\x00(\\d+)\x00")
_RAW_TEXT = re.compile(r"<(?:pre|script|style|textarea|math|canvas|option)[ />]")
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z0-9]+);")
_BARE_AMP = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);)")
_CODE = re.compile(r"`([^`\\\n]+)`(?!`)")
# link text (escapes, no brackets or backticks) and a target with nothing a link's parser reads
_LINK = re.compile(r"(!?)\[((?:\\.|[^\\\[\]`\n])*)\]\(([^\s()<>\"'\\`]+)\)")
# what in running text starts something other than plain text
_SPECIAL = re.compile(r"[\\`\[\]!<&*_{}|]")
_BLOCK_ATTRS = re.compile(r"\n[ ]*\{:[ ]*([^\}\n ][^\}\n]*?)[ ]*\}[ ]*$")
_HEADER_ATTRS = re.compile(r"[ ]+\{:[ ]*([^\}\n ][^\}\n]*?)[ ]*\}[ ]*$")
_INLINE_ATTRS = re.compile(r"\{:[ ]*([^\}\n ][^\}\n]*?)[ ]*\}")
_ATTR_PART = re.compile(r"([.#])([A-Za-z_][A-Za-z0-9_.:-]*)$")
_LIST_START = re.compile(r"^[ ]{0,3}(?:[*+-]|\d+\.)[ ]+")
_LIST_ITEM = re.compile(r"- (\S.*)$")
_QUOTE_LINE = re.compile(r"^[ ]{0,3}>", re.MULTILINE)
_TABLE_SEPARATOR = re.compile(r"\|(?: *:?-+:? *\|)+$")
_SETEXT = re.compile(r"^[ ]{0,3}(?:=+|-+)[ ]*$", re.MULTILINE)
_MARKDOWN_DIV = re.compile(r'<div((?: [a-z]+="[^"<>&`\\]*")*) markdown="1">$')
_ATTRIBUTE = re.compile(r' ([a-zA-Z][a-zA-Z0-9:-]*)="([^"]*)"')
_ANCHOR_ATTRIBUTE = re.compile(r'(?i) (?:id|name)="')
_HEADING_MARK = re.compile("\x01(\\d+)\x01")
_ORDERED_ITEM = re.compile(r"\d+\. (\S.*)$")
# Python-Markdown's pattern of a horizontal rule (blockprocessors.HRProcessor), at a line's start
_RULE = re.compile(
    r"\n[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))"
    r"(?P=atomicgroup)[ ]*(?=\n|\Z)"
)
_REFERENCE = re.compile(r"\[[^\[\]\n]*\]:")
_TRAILING_SPACES = re.compile(r" \n(?! *\n)")
# (each searched in the Markdown after a newline: a pattern that starts with a character is quick)
_FENCE = re.compile(r"\n[ ]{0,3}(?:```|~~~)")


class _Unsure(Exception):
    """The Markdown holds something this converter does not read exactly as Python-Markdown does."""


@dataclass
class Converted:
    """What MkDocs takes from converting a page."""

    html: str
    toc_tokens: list[dict[str, Any]]
    title: str | None  # the text of the first heading, if the page starts with a level-1 heading
    anchor_ids: set[str]  # the ids (and names of <a>) the page defines: MkDocs checks links to them


@dataclass
class Dialect:
    """What the converter needs of the site's Markdown: read from one Python-Markdown instance."""

    escaped: frozenset[str]
    block_level: frozenset[str]
    slugify: Callable[[str, str], str]
    unique: Callable[..., str]
    escape_text: Callable[[str], str]
    escape_attribute: Callable[[str], str]
    escape_code: Callable[[str], str]
    heading: re.Pattern[str]  # Python-Markdown's own pattern of a heading
    strip_tags: Callable[[str], str]
    nest_toc_tokens: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]

    @classmethod
    def of(cls, extensions: list[Any], configs: dict[str, Any]) -> Dialect | None:
        """The dialect of a site with these Markdown extensions, or None if the converter cannot
        stand in for Python-Markdown there (another extension, other settings, another version)."""
        try:
            import markdown
            from markdown import serializers, util
            from markdown.extensions import toc
        except ImportError:
            return None
        if not all(isinstance(e, str) for e in extensions) or not set(extensions) <= _EXTENSIONS:
            return None
        try:
            md = markdown.Markdown(extensions=extensions, extension_configs=configs or {})
        except Exception:  # noqa: BLE001 - a configuration this converter does not know
            return None
        for registry, names in _PROCESSORS.items():
            holder = md.parser if registry == "blockprocessors" else md
            present = {item.name for item in getattr(holder, registry)._priority}
            expected = (
                names
                if registry != "preprocessors" or "fenced_code" in extensions
                else names - {"fenced_code_block"}
            )
            if present != expected:
                return None
        if getattr(md.parser.blockprocessors["olist"], "LAZY_OL", None) is not True:
            return None
        toc_extension = next((e for e in md.registeredExtensions if isinstance(e, toc.TocExtension)), None)
        if toc_extension is None:
            return None
        settings = toc_extension.getConfigs()
        slugify = settings.pop("slugify", None)
        if any(settings.get(k) != v for k, v in _TOC_SETTINGS.items()) or not callable(slugify):
            return None
        needed = (
            getattr(serializers, "_escape_cdata", None),
            getattr(serializers, "_escape_attrib_html", None),
            getattr(toc, "unique", None),
            getattr(toc, "strip_tags", None),
            getattr(toc, "nest_toc_tokens", None),
        )
        if any(part is None for part in needed):
            return None
        escape_text, escape_attribute, unique, strip_tags, nest_toc_tokens = needed
        return cls(
            escaped=frozenset(md.ESCAPED_CHARS),
            block_level=frozenset(md.block_level_elements),
            slugify=slugify,
            unique=unique,
            escape_text=escape_text,
            escape_attribute=escape_attribute,
            escape_code=util.code_escape,
            heading=md.parser.blockprocessors["hashheader"].RE,
            strip_tags=strip_tags,
            nest_toc_tokens=nest_toc_tokens,
        )


@dataclass
class _Heading:
    level: int
    inner: str  # HTML, with the link targets as written (the table of contents shows them so)
    attrs: dict[str, str]
    permalink: int  # the index of its permalink's target among the page's link targets


@dataclass
class _Page:
    dialect: Dialect
    urls: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    headings: list[_Heading] = field(default_factory=list)
    # what MkDocs' HTML parser finds in the page's tags (all of them, written in Markdown or raw)
    tag_anchors: set[str] = field(default_factory=set)

    def anchors_in(self, tags: str) -> None:
        """The ids (and names of <a>) that tags define, as MkDocs' parser reads them."""
        if not _ANCHOR_ATTRIBUTE.search(tags):
            return
        for tag in _TAG.finditer(tags):
            name = tag.group(1)
            if name is None:
                continue
            for attribute, value in _ATTRIBUTE.findall(tag.group(2)):
                attribute = attribute.lower()
                if attribute == "id" or (attribute == "name" and name == "a"):
                    self.tag_anchors.add(html_module.unescape(value))

    # -- inline ---------------------------------------------------------------------------------

    def url(self, url: str) -> str:
        """A marker for a link target, resolved once the whole page is read."""
        self.urls.append(url)
        return f"\x00{len(self.urls) - 1}\x00"

    def unescape(self, text: str) -> str:
        """An image's text, for its alt attribute: escaped characters as themselves."""
        escaped = self.dialect.escaped

        def one(m: re.Match[str]) -> str:
            return m.group(1) if m.group(1) in escaped else m.group(0)

        if text.endswith("\\") or "\\\n" in text:
            raise _Unsure("a backslash at the end of a line")
        return _ESCAPE.sub(one, text)

    def inline(self, text: str) -> str:
        """The HTML of a paragraph's (a heading's, a cell's...) Markdown."""
        if "  \n" in text or "\x00" in text:
            raise _Unsure("a line break or a NUL")
        out: list[str] = []
        pos = 0
        length = len(text)
        search = _SPECIAL.search
        while pos < length:
            m = search(text, pos)
            if m is None:
                out.append(self.dialect.escape_text(text[pos:]))
                break
            at = m.start()
            char = text[at]
            if char == "\\":
                # an escaped character is text; a backslash before any other is itself
                escaped = at + 1 < length and text[at + 1] in self.dialect.escaped
                out.append(self.dialect.escape_text(text[pos:at] + (text[at + 1] if escaped else "\\")))
                pos = at + (2 if escaped else 1)
                continue
            if at > pos:
                out.append(self.dialect.escape_text(text[pos:at]))
            if char == "`":
                code = _CODE.match(text, at)
                # (MkDocs' parser would find a tag in code, and its anchor)
                if code is None or code.group(1).strip() != code.group(1) or "<" in code.group(1):
                    raise _Unsure("a code span kb does not write")
                out.append(f"<code>{self.dialect.escape_code(code.group(1))}</code>")
                pos = code.end()
            elif char in "[!":
                link = _LINK.match(text, at)
                if link is None:
                    if char == "!":
                        out.append("!")
                        pos = at + 1
                        continue
                    raise _Unsure("a bracket that starts no link")
                image, label, target = link.groups()
                pos = link.end()
                if image:
                    if "<" in label:
                        raise _Unsure("a tag in an image's text")
                    attrs = {"alt": self.unescape(label), "src": target}
                    extra = _INLINE_ATTRS.match(text, pos)
                    if extra is not None:
                        self.assign(attrs, extra.group(1))
                        pos = extra.end()
                    out.append(self.element("img", attrs, None))
                else:
                    if "{" in label or "}" in label:
                        raise _Unsure("braces in a link's text")
                    out.append(self.element("a", {"href": target}, self.inline(label)))
            elif char == "<":
                tag = _TAG.match(text, at)
                if tag is None:
                    raise _Unsure("a '<' that is no tag kb writes")
                if (tag.group(1) or tag.group(3)) in self.dialect.block_level:
                    raise _Unsure("a block-level tag inside a paragraph")
                out.append(tag.group(0))
                self.anchors_in(tag.group(0))
                pos = tag.end()
            elif char == "&":
                entity = _ENTITY.match(text, at)
                if entity is None:
                    out.append("&amp;")
                    pos = at + 1
                else:
                    out.append(entity.group(0))
                    pos = entity.end()
            elif char == "*":
                if not text.startswith("**", at):
                    raise _Unsure("a single '*'")
                # the next '*' that is not escaped must close it
                close = _UNTIL_STAR.match(text, at + 2).end()
                inner = text[at + 2 : close] if text.startswith("**", close) else ""
                if (
                    not inner
                    or inner[0].isspace()
                    or inner[-1].isspace()
                    or "*" in inner.replace("\\*", "")
                    or "\n" in inner
                    or "[" in inner.replace("\\[", "")
                    or "<" in inner
                ):
                    raise _Unsure("strong text kb does not write")
                if text.startswith("*", close + 2):
                    raise _Unsure("three '*'")
                out.append(f"<strong>{self.inline(inner)}</strong>")
                pos = close + 2
            else:  # ] _ { } |
                raise _Unsure(f"an unescaped {char!r}")
        return "".join(out)

    def attributes(self, attrs: dict[str, str]) -> str:
        """Attributes as Python-Markdown writes them: in sorted order, escaped."""
        escape = self.dialect.escape_attribute
        return "".join(f' {name}="{escape(attrs[name])}"' for name in sorted(attrs))

    def element(self, tag: str, attrs: dict[str, str], inner: str | None) -> str:
        """An inline element; its link target becomes a marker (which escaping leaves as it is)."""
        marked = {
            name: self.url(value) if name in ("href", "src") else value for name, value in attrs.items()
        }
        opening = f"<{tag}{self.attributes(marked)}"
        return f"{opening} />" if inner is None else f"{opening}>{inner}</{tag}>"

    def assign(self, attrs: dict[str, str], spec: str) -> None:
        """An attribute list's classes and id (only those: kb writes no other attributes so)."""
        for part in spec.split():
            m = _ATTR_PART.match(part)
            if m is None:
                raise _Unsure("an attribute list kb does not write")
            if m.group(1) == ".":
                attrs["class"] = f"{attrs['class']} {m.group(2)}" if "class" in attrs else m.group(2)
            else:
                attrs["id"] = m.group(2)
        if "id" in attrs:
            self.ids.add(attrs["id"])

    # -- blocks ---------------------------------------------------------------------------------

    def paragraph(self, block: str) -> str:
        attrs: dict[str, str] = {}
        found = _BLOCK_ATTRS.search(block)
        if found is not None:
            self.assign(attrs, found.group(1))
            block = block[: found.start()]
        text = block.lstrip()
        if _QUOTE_LINE.search(text) or _SETEXT.search(text):
            raise _Unsure("a line that starts a block inside a paragraph")
        return f"<p{self.attributes(attrs)}>{self.inline(text)}</p>"

    def heading(self, line: str) -> int:
        m = self.dialect.heading.match(line)
        if m is None or m.end() != len(line):
            raise _Unsure("a heading Python-Markdown reads otherwise")
        level = len(m.group("level"))
        text = m.group("header").strip()
        attrs: dict[str, str] = {}
        found = _HEADER_ATTRS.search(text)
        if found is not None:
            self.assign(attrs, found.group(1))
            # attr_list then drops closing '#'s
            text = text[: found.start()].rstrip("#").rstrip()
            if text.endswith("\\"):
                raise _Unsure("an escape before a heading's attributes")
        if "\\>" in text:
            # the table of contents shows an escaped '>' unescaped
            raise _Unsure("an escaped '>' in a heading")
        inner = self.inline(text)
        if "<img" in inner:
            raise _Unsure("an image in a heading (MkDocs' title takes its text)")
        # the permalink's target is known once every id is (MkDocs resolves it as any link)
        self.headings.append(_Heading(level, inner, attrs, len(self.urls)))
        self.urls.append("")
        return len(self.headings) - 1

    def items(self, block: str, ordered: bool) -> str:
        # an ordered list's first number is not kept (Python-Markdown's lazy_ol, which Dialect.of checks)
        items = []
        for line in block.split("\n"):
            m = (_ORDERED_ITEM if ordered else _LIST_ITEM).match(line)
            if m is None or line != line.rstrip():
                raise _Unsure("a list kb does not write")
            content = m.group(1)
            # an item's text is read as blocks: it must be a paragraph's
            if _block_start(content, self.dialect) or not content.strip("-*_ "):
                raise _Unsure("a list item holding more than text")
            items.append(f"<li>{self.inline(content)}</li>")
        tag = "ol" if ordered else "ul"
        return f"<{tag}>\n" + "\n".join(items) + f"\n</{tag}>"

    def quote(self, block: str) -> str:
        lines = []
        for line in block.split("\n"):
            if not line.startswith(">"):
                raise _Unsure("a quote kb does not write")
            lines.append(line[2:] if line.startswith("> ") else line[1:])
        text = "\n".join(lines)
        if not text.strip() or any(not line.strip() for line in lines) or _block_start(text, self.dialect):
            raise _Unsure("a quote holding more than a paragraph")
        _only_paragraph_lines(lines, self.dialect)
        return f"<blockquote>\n{self.paragraph(text)}\n</blockquote>"

    def table(self, block: str) -> str:
        rows = block.split("\n")
        if len(rows) < 3 or not _TABLE_SEPARATOR.match(rows[1]):
            raise _Unsure("a table kb does not write")
        aligns = []
        for spec in rows[1].strip("|").split("|"):
            spec = spec.strip()
            left, right = spec.startswith(":"), spec.endswith(":")
            aligns.append(
                ' style="text-align: center;"' if left and right
                else ' style="text-align: left;"' if left
                else ' style="text-align: right;"' if right
                else ""
            )  # fmt: skip
        out = ["<table>", "<thead>"]
        for index, row in enumerate([rows[0], *rows[2:]]):
            cells = _cells(row)
            if len(cells) != len(aligns):
                raise _Unsure("a table row with another number of cells")
            tag = "th" if index == 0 else "td"
            if index == 1:
                out.append("<tbody>")
            out.append("<tr>")
            for cell, align in zip(cells, aligns, strict=True):
                if "{" in cell:
                    raise _Unsure("braces in a table cell")
                out.append(f"<{tag}{align}>{self.inline(cell)}</{tag}>")
            out.append("</tr>")
            if index == 0:
                out.append("</thead>")
        out.append("</tbody>")
        out.append("</table>")
        return "\n".join(out)


def _cells(row: str) -> list[str]:
    """A table row's cells: split at each '|' that is not escaped (kb writes no code in tables)."""
    row = row.strip(" ")
    if not row.startswith("|") or not row.endswith("|") or row.endswith("\\|") or "`" in row:
        raise _Unsure("a table row kb does not write")
    if "\\" not in row:
        return [cell.strip(" ") for cell in row[1:-1].split("|")]
    cells: list[str] = []
    current: list[str] = []
    escaped = False
    for char in row[1:-1]:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == "|":
            cells.append("".join(current).strip(" "))
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip(" "))
    return cells


def _block_start(block: str, dialect: Dialect) -> bool:
    """Whether a block starts with what makes it other than a paragraph (or could)."""
    first = block.split("\n", 1)[0]
    if first.startswith(("#", "    ", "\t", "|", ">")) or _LIST_START.match(first):
        return True
    m = _INDENTED_TAG.match(first)
    return bool(m and m.group(1).lower() in dialect.block_level)


def _only_paragraph_lines(lines: list[str], dialect: Dialect) -> None:
    """Fails unless no line after the first starts a heading or raw HTML (which would cut the block)."""
    for later in lines[1:]:
        tag = _INDENTED_TAG.match(later)
        if later.startswith("#") or (tag and tag.group(1).lower() in dialect.block_level):
            raise _Unsure("a heading or raw HTML inside a block")


def _raw_block_end(lines: list[str], start: int, stop: int) -> int:
    """The index of the line after the raw HTML block starting at ``lines[start]``: where its
    tags close, at the end of a line followed by a blank one (or the end)."""
    end = start
    while end < stop and lines[end]:
        end += 1
    block = "\n".join(lines[start:end])
    outer = _TAG.match(block)
    name = outer.group(1) if outer is not None else None
    if (
        # the usual case, decided at once: the element that opens the block closes at its end
        # and nowhere before (Python-Markdown's parser ends raw HTML where that happens)
        name is not None
        and name not in _VOID
        and block.endswith(f"</{name}>")
        and block.count(f"</{name}>") == 1
        and len(re.findall(f"<{name}[ />]", block)) == 1
        and "<!" not in block
        and "<?" not in block
        and "markdown" not in block
        and "`" not in block
        and _RAW_TEXT.search(block) is None
        and _BARE_AMP.search(block) is None
        and block.count("<") == len(_TAG.findall(block))
    ):
        return end
    return _raw_block_end_by_tags(lines, start, stop)


def _raw_block_end_by_tags(lines: list[str], start: int, stop: int) -> int:
    """``_raw_block_end`` for any block: its tags followed one by one, as the parser does (an end
    tag closes every element opened since its own)."""
    open_elements: list[str] = []
    for index in range(start, stop):
        line = lines[index]
        if not line.strip():
            raise _Unsure("a blank line inside raw HTML")
        if "<!" in line or "<?" in line or "markdown" in line or "`" in line:
            raise _Unsure("raw HTML kb does not write")
        if _BARE_AMP.search(line):
            raise _Unsure("an '&' that is no entity in raw HTML")
        pos = 0
        while True:
            lt = line.find("<", pos)
            if lt == -1:
                break
            tag = _TAG.match(line, lt)
            if tag is None:
                raise _Unsure("a '<' that is no tag kb writes, in raw HTML")
            opened, closed = tag.group(1), tag.group(3)
            if opened and _RAW_TEXT.match(tag.group(0)):
                raise _Unsure("a raw-text element")
            if opened and opened not in _VOID and not tag.group(0).endswith("/>"):
                open_elements.append(opened)
            elif closed:
                if closed not in open_elements:
                    raise _Unsure("an end tag that closes nothing")
                del open_elements[len(open_elements) - 1 - open_elements[::-1].index(closed) :]
                if not open_elements and line[tag.end() :].strip():
                    raise _Unsure("text after the end of raw HTML")
            elif not open_elements:
                raise _Unsure("raw HTML that starts with an empty element")
            pos = tag.end()
        if not open_elements:
            if index + 1 < stop and lines[index + 1].strip():
                raise _Unsure("raw HTML followed by text on the next line")
            return index + 1
    raise _Unsure("raw HTML that does not end")


def _blocks(page: _Page, lines: list[str], index: int, stop: int) -> str:
    """The HTML of ``lines[index:stop]``: its blocks, each heading as a mark (its id comes last)."""
    dialect = page.dialect
    blocks: list[str] = []
    last_tag = ""
    while index < stop:
        if not lines[index]:
            index += 1
            continue
        first = lines[index]
        opening = _MARKDOWN_DIV.match(first)
        if opening is not None:
            close = index + 1
            while close < stop and lines[close] != "</div>":
                if lines[close].startswith("<div") or "markdown=" in lines[close]:
                    raise _Unsure("a div inside a div of Markdown")
                close += 1
            if close == stop or lines[close - 1] or lines[index + 1]:
                raise _Unsure("a div of Markdown kb does not write")
            div_attrs = dict(_ATTRIBUTE.findall(opening.group(1)))
            page.anchors_in(first)
            # the div is an element of the page, its id one the headings' ids must not take
            if "id" in div_attrs:
                page.ids.add(div_attrs["id"])
            inner = _blocks(page, lines, index + 1, close)
            if not inner:
                raise _Unsure("an empty div of Markdown")
            blocks.append(f"<div{page.attributes(div_attrs)}>\n{inner}\n</div>")
            last_tag = "div"
            index = close + 1
            continue
        tag = _TAG_START.match(first)
        if tag and tag.group(1).lower() in dialect.block_level:
            end = _raw_block_end(lines, index, stop)
            # Python-Markdown leaves a blank line after raw HTML
            raw = "\n".join(lines[index:end])
            page.anchors_in(raw)
            blocks.append(raw + "\n")
            last_tag = "p"
            index = end
            continue
        end = index
        while end < stop and lines[end]:
            end += 1
        chunk = lines[index:end]
        block = "\n".join(chunk)
        index = end
        _only_paragraph_lines(chunk, dialect)
        if first.startswith("#"):
            if len(chunk) != 1:
                raise _Unsure("a heading with more lines in its block")
            blocks.append(f"\x01{page.heading(first)}\x01")
            last_tag = "h"
        elif first.startswith("    "):
            raise _Unsure("an indented block")
        elif _LIST_START.match(first):
            if last_tag in ("ul", "ol"):
                raise _Unsure("a list right after a list")
            last_tag = "ol" if first[:1].isdigit() else "ul"
            blocks.append(page.items(block, ordered=last_tag == "ol"))
        elif _QUOTE_LINE.match(first):
            if last_tag == "blockquote":
                raise _Unsure("a quote right after a quote")
            blocks.append(page.quote(block))
            last_tag = "blockquote"
        elif first.lstrip(" ").startswith("|"):
            blocks.append(page.table(block))
            last_tag = "table"
        else:
            if len(chunk) > 1 and "|" in first.replace("\\|", "") and "|" in chunk[1]:
                raise _Unsure("what could be a table")
            blocks.append(page.paragraph(block))
            last_tag = "p"
    return "\n".join(blocks).strip()


def convert(markdown: str, dialect: Dialect, link: Callable[[str], str]) -> Converted | None:
    """The page's HTML as Python-Markdown with the site's extensions and MkDocs would give it, or
    None if the Markdown holds anything this converter is not sure to read the same way. ``link``
    gives the URL a link target becomes (called once per link, in the page's order, only when the
    whole page was read)."""
    try:
        return _convert(markdown, dialect, link)
    except _Unsure:
        return None


def _convert(markdown: str, dialect: Dialect, link: Callable[[str], str]) -> Converted:
    if any(char in markdown for char in "\r\t\x00\x01\x02\x03"):
        raise _Unsure("a character Python-Markdown normalises")
    after_newline = "\n" + markdown
    if _FENCE.search(after_newline):
        raise _Unsure("a fence")
    if _RULE.search(after_newline):
        raise _Unsure("a horizontal rule")
    if _REFERENCE.search(markdown):
        # where a block starts, Python-Markdown takes this for a link's definition and drops it
        raise _Unsure("what could define a link")
    if _TRAILING_SPACES.search(markdown):
        raise _Unsure("spaces at the end of a line (a line break, or not)")
    page = _Page(dialect)
    lines = [line if line.strip(" ") else "" for line in markdown.split("\n")]
    body = _blocks(page, lines, 0, len(lines))
    # the ids of headings: after every id an attribute list gives, as Python-Markdown's toc does
    used = set(page.ids)
    counters: dict[str, int] = {}
    tokens: list[dict[str, Any]] = []
    rendered: list[str] = []
    for heading in page.headings:
        shown = _with_targets(heading.inner, page.urls, dialect)
        name = dialect.strip_tags(shown)
        if "id" not in heading.attrs:
            heading.attrs["id"] = dialect.unique(
                dialect.slugify(html_module.unescape(name), "-"), used, counters
            )
        anchor = heading.attrs["id"]
        page.ids.add(anchor)
        tokens.append(
            {"level": heading.level, "id": anchor, "name": name, "html": shown, "data-toc-label": ""}
        )
        page.urls[heading.permalink] = "#" + anchor
        permalink = (
            f'<a class="headerlink" href="\x00{heading.permalink}\x00" title="Permanent link">&para;</a>'
        )
        attrs = page.attributes(heading.attrs)
        rendered.append(f"<h{heading.level}{attrs}>{heading.inner}{permalink}</h{heading.level}>")

    document = _HEADING_MARK.sub(lambda m: rendered[int(m.group(1))], body)
    if page.urls:
        targets = page.urls
        document = _LINK_MARK.sub(
            lambda m: dialect.escape_attribute(link(targets[int(m.group(1))])), document
        )
    # MkDocs' title: the text of the first heading, if the page starts with one of level 1
    title = tokens[0]["name"] if body.startswith("\x01") and page.headings[0].level == 1 else None
    return Converted(
        html=document,
        toc_tokens=dialect.nest_toc_tokens(tokens),
        title=title,
        anchor_ids=page.ids | page.tag_anchors,
    )


def _with_targets(inner: str, urls: list[str], dialect: Dialect) -> str:
    """A heading's HTML with its links' targets as written."""
    if "\x00" not in inner:
        return inner
    return _LINK_MARK.sub(lambda m: dialect.escape_attribute(urls[int(m.group(1))]), inner)
