r"""Text from a knowledge base is data, never markup: the escaping every page goes through.

Markdown passes raw HTML through and gives meaning to punctuation, so a statement such
as ``<img src=x onerror=...>`` or ``[click](javascript:...)`` must be neutralised twice:
the characters Python-Markdown reads as inline syntax anywhere (`` \ ` * _ { } [ ] # | ``)
are backslash-escaped, so are the markers that start a block at the start of a line
(``-``, ``+``, the dot of ``1.``), and ``&``, ``<``, ``>`` and ``=`` (which can underline a
heading but cannot be backslash-escaped) become entities, which Markdown leaves alone, as does
a colon after ``]`` (a line that starts with a link whose text holds ``]:`` would otherwise read as
the definition of a reference, and vanish).
Other punctuation needs nothing: with ``[`` escaped, ``(`` and ``!`` cannot start a link or
an image. Only characters Markdown can escape are escaped, so no
stray backslash is ever shown, and the site's Markdown extensions are chosen so that no
other punctuation has a meaning (no def lists, no ``==mark==``...). Escaping little keeps
Markdown quick on long source texts.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re

# Inline syntax of Python-Markdown and the site's extensions ('|' for tables, braces for attr_list).
_INLINE_SYNTAX = re.compile(r"([\\`*_{}\[\]#|])")
# What starts a list at the start of a line: '-', '+' (and '*', escaped anyway), or digits and a dot.
_LINE_START = re.compile(r"^([ \t]*)(?:([-+])|(\d+)\.)")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def one_line(text: str) -> str:
    """Runs of white space (newlines included) as one space: no text can start a Markdown block."""
    return " ".join(str(text).split())


def _escape(text: str) -> str:
    escaped = _INLINE_SYNTAX.sub(r"\\\1", text)
    escaped = _LINE_START.sub(
        lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\."), escaped
    )
    escaped = html.escape(escaped, quote=False).replace("=", "&#61;")
    # "]:" would let a line that starts with a link to the text read as a reference definition (the
    # line then vanishes): the colon as an entity ends that reading
    return escaped.replace("\\]:", "\\]&#58;") if "]:" in escaped else escaped


# A long page shows the same statements and titles many times: each is escaped once (typed: 1, True differ).
@functools.lru_cache(maxsize=1 << 16, typed=True)
def md(text: str) -> str:
    """Text for a Markdown page (inline: a paragraph, a list item, a table cell or a heading)."""
    return _escape(one_line(text))


def md_keep_spaces(text: str) -> str:
    """Like ``md`` for one line of a longer text, or a piece of one: spaces are kept."""
    return _escape(text)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def attr(text: str) -> str:
    """Text for an HTML attribute value written inside double quotes."""
    return html.escape(one_line(text), quote=True)


def html_text(text: str) -> str:
    """Text inside a raw HTML block, which Markdown does not process; newlines are kept."""
    return html.escape(str(text), quote=False)


def front_matter_title(text: str, *, searchable: bool = True, hide: tuple[str, ...] = ()) -> str:
    """The YAML front matter giving a page its title (and, if not ``searchable``, keeping it out of search;
    ``hide``: parts of the theme's layout the page does without, such as ``navigation`` and ``toc``).

    MkDocs themes put ``page.title`` into the HTML unescaped, so the title is given
    already HTML-escaped; JSON quoting makes it one valid YAML scalar whatever it holds.
    """
    search = "" if searchable else "search:\n  exclude: true\n"
    hidden = "".join(f"  - {json.dumps(part)}\n" for part in hide)
    hidden = f"hide:\n{hidden}" if hidden else ""
    return f"---\ntitle: {json.dumps(attr(text), ensure_ascii=False)}\n{search}{hidden}---\n\n"


def safe_id(value: str) -> str:
    """An identifier usable in a file name, a URL and an HTML id (ids are already like that)."""
    return _SAFE_ID.sub("-", value)


def slug(value: str) -> str:
    """A file-name slug for free text such as a topic; distinct texts get distinct slugs."""
    simple = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    if simple and simple == value:
        return simple
    digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:8]
    return f"{simple[:40].strip('-')}-{digest}" if simple else f"topic-{digest}"


def safe_url(url: str | None) -> str | None:
    """``url`` when it is a plain web address; anything else (``javascript:``...) is not linked."""
    if url and re.match(r"^https?://[^\s<>\"']+$", url.strip(), flags=re.IGNORECASE):
        return url.strip()
    return None
