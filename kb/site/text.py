"""Text from a knowledge base is data, never markup: the escaping every page goes through.

Markdown passes raw HTML through and gives meaning to punctuation, so a statement such
as ``<img src=x onerror=...>`` or ``[click](javascript:...)`` must be neutralised twice:
every character Python-Markdown treats as syntax is backslash-escaped, then ``&``, ``<``
and ``>`` become entities (which Markdown leaves alone). Only characters Markdown can
escape are escaped, so no stray backslash is ever shown; the site's Markdown extensions
are chosen so that no other punctuation has a meaning (no def lists, no ``==mark==``...).
"""

from __future__ import annotations

import hashlib
import html
import json
import re

# Python-Markdown's escapable characters, with '|' added by the tables extension.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def one_line(text: str) -> str:
    """Runs of white space (newlines included) as one space: no text can start a Markdown block."""
    return " ".join(str(text).split())


def md(text: str) -> str:
    """Text for a Markdown page (inline: a paragraph, a list item, a table cell or a heading)."""
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", one_line(text)), quote=False)


def md_keep_spaces(text: str) -> str:
    """Like ``md`` for a piece of a longer text: spaces are kept, and ``=`` (which can underline
    a heading but cannot be backslash-escaped) becomes an entity. The caller handles newlines."""
    escaped = html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text), quote=False)
    return escaped.replace("=", "&#61;")


def attr(text: str) -> str:
    """Text for an HTML attribute value written inside double quotes."""
    return html.escape(one_line(text), quote=True)


def html_text(text: str) -> str:
    """Text inside a raw HTML block, which Markdown does not process; newlines are kept."""
    return html.escape(str(text), quote=False)


def front_matter_title(text: str) -> str:
    """The YAML front matter giving a page its title.

    MkDocs themes put ``page.title`` into the HTML unescaped, so the title is given
    already HTML-escaped; JSON quoting makes it one valid YAML scalar whatever it holds.
    """
    return f"---\ntitle: {json.dumps(attr(text), ensure_ascii=False)}\n---\n\n"


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
