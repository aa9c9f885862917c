"""The pages the site's search box offers after the claims: topic pages, source pages and every
other page of the site (generated or hand-written, the weighting and disagreements pages among
them), each as its title and a short summary only, so that the search index stays small however
large the knowledge base is (the claims carry the detail).

An entry is ``[title, url, summary, kind]`` (kind: "page", "topic" or "source");
``kb.search.page_data`` indexes them and ``kb.search.rank_pages`` ranks them.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping

from kb.model import KnowledgeBase
from kb.site import pages
from kb.weigh import Weights

MAX_SUMMARY = 160
MAX_TITLE = 120
# what a page's summary is read from: the start of the page only (a page may be megabytes)
MAX_READ = 20_000

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]*>")
_ATTRS = re.compile(r"\{[:#.][^}]*\}")
_MARKS = re.compile(r"[*_`]+")
_SPACE = re.compile(r"\s+")
# paragraphs that are not prose: headings, lists, tables, HTML, code, quotes, admonitions
_NOT_PROSE = ("#", "|", "<", "-", "*", "+", "!", "`", "{", ">", ":", "=")


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_KEPT = 0xE000  # escaped punctuation is kept aside in the private use area while marks are removed


def plain(markdown: str) -> str:
    """Markdown as the words a reader sees: links and images by their text, no tags or marks,
    backslash-escaped punctuation and entities as the characters they stand for (kb escapes every
    text it writes into a page: kb.site.text)."""
    text = _ESCAPED.sub(lambda m: chr(_KEPT + ord(m.group(1))), markdown)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = _ATTRS.sub(" ", text)
    text = _MARKS.sub("", text)
    text = "".join(chr(ord(ch) - _KEPT) if _KEPT < ord(ch) < _KEPT + 128 else ch for ch in text)
    return _SPACE.sub(" ", html.unescape(text)).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "\u2026"


def _front_matter(markdown: str) -> tuple[str, str]:
    """A page's front matter (without its fences) and the rest. It is read line by line for the
    two keys search needs, never loaded as YAML: a hand-written page is data, and a YAML document
    with nested aliases can take any amount of memory."""
    found = _FRONT.match(markdown)
    if not found:
        return "", markdown
    return found.group(1), markdown[found.end() :]


_TITLE = re.compile(r"^title:[ \t]*(.*?)[ \t]*$", re.M)
_EXCLUDE = re.compile(r"^search:[ \t]*\n[ \t]+exclude:[ \t]*true[ \t]*$", re.M)


def _front_title(front: str) -> str:
    found = _TITLE.search(front)
    if not found:
        return ""
    value = found.group(1)
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)  # kb writes its titles JSON-quoted (kb.site.text)
        except ValueError:
            decoded = value[1:-1]
        return decoded if isinstance(decoded, str) else ""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def excluded_from_search(markdown: str) -> bool:
    """Whether a page's front matter says ``search: exclude: true`` (as MkDocs' search reads it)."""
    front, _ = _front_matter(markdown[:MAX_READ])
    return bool(_EXCLUDE.search(front))


def title_and_summary(markdown: str, fallback: str) -> tuple[str, str]:
    """A page's title (its front matter's, else its first heading, else ``fallback``) and summary:
    its first heading when the title differs, then its first paragraph of prose."""
    front, body = _front_matter(markdown[:MAX_READ])
    heading = ""
    paragraph = ""
    for block in re.split(r"\n\s*\n", body):
        block = block.strip()
        if not block:
            continue
        if block.startswith("# ") and not heading:
            heading = plain(block[2:].splitlines()[0])
            continue
        if block.startswith("## "):
            break  # the summary comes from the page's opening only
        if not block.startswith(_NOT_PROSE):
            paragraph = plain(block)
            break
    # a front matter title is not Markdown (kb writes it HTML-escaped, as themes show it raw)
    title = _SPACE.sub(" ", html.unescape(_front_title(front))).strip() or heading or fallback
    lead = heading if heading and heading != title else ""
    summary = f"{lead}: {paragraph}" if lead and paragraph else lead or paragraph
    return shorten(title, MAX_TITLE), shorten(summary, MAX_SUMMARY)


class Entries:
    """The search entries of a site's pages, the generated ones taken as each is made (``add``), so that
    no page's text has to be kept for the index: the site's other pages first (generated ones in the
    order kb makes them, then hand-written ones by name), then topics and sources (made from the
    knowledge base, as claims are)."""

    def __init__(self, kb: KnowledgeBase, directory_urls: bool) -> None:
        self.kb = kb
        self.directory_urls = directory_urls
        self.topics = {pages.topic_page(t): t for t in kb.topics()}
        self.sources = {pages.source_page(s): s for s in kb.sources}
        self.claims = {pages.claim_page(c) for c in kb.claims}
        self.generated: list[list[str]] = []

    def _entry(self, name: str, text: str) -> list[str] | None:
        if not name.endswith(".md") or name in self.topics or name in self.sources or name in self.claims:
            return None
        if excluded_from_search(text):  # the consensus report and its parts, a private hand-written page
            return None
        fallback = name.rsplit("/", 1)[-1][: -len(".md")].replace("-", " ")
        title, summary = title_and_summary(text, fallback)
        return [title, pages.page_url(name, self.directory_urls), summary, "page"]

    def add(self, name: str, text: str | None) -> None:
        """A generated file (``name`` relative to the docs folder); only its title and summary are kept.
        ``None``: a file kept from the last build, which only a claim's, topic's or source's can be."""
        if text is None:
            if name.endswith(".md") and not (
                name in self.topics or name in self.sources or name in self.claims
            ):
                raise ValueError(f"{name}: the search index needs the text of this page")
            return
        entry = self._entry(name, text)
        if entry is not None:
            self.generated.append(entry)

    def all(self, weights: Weights, handwritten: Mapping[str, str]) -> list[list[str]]:
        """Every page but the claims' as ``[title, url, summary, kind]``; ``handwritten`` are the
        hand-written pages' text by path."""
        out = list(self.generated)
        for name in sorted(handwritten):
            entry = self._entry(name, handwritten[name])
            if entry is not None:
                out.append(entry)
        counts: dict[str, int] = {}
        for claim in self.kb.claims.values():
            counts[claim.topic] = counts.get(claim.topic, 0) + 1
        questions: dict[str, list[str]] = {}
        for dispute in weights.disputes:
            questions.setdefault(dispute.topic, []).append(dispute.question)
        for name, topic in self.topics.items():
            said = f"{counts.get(topic, 0)} claims" + (
                ". Disputes: " + " ".join(questions[topic]) if topic in questions else ""
            )
            out.append([shorten(f"Topic: {topic}", MAX_TITLE), pages.page_url(name, self.directory_urls),
                        shorten(said, MAX_SUMMARY), "topic"])  # fmt: skip
        for name, source_id in self.sources.items():
            source = self.kb.sources[source_id]
            said = source.kind + (f" by {source.author}" if source.author else "")
            out.append([shorten(source.title, MAX_TITLE), pages.page_url(name, self.directory_urls),
                        shorten(said, MAX_SUMMARY), "source"])  # fmt: skip
        return out


def page_entries(
    kb: KnowledgeBase,
    weights: Weights,
    files: Mapping[str, str],
    handwritten: Mapping[str, str],
    directory_urls: bool,
) -> list[list[str]]:
    """Every page but the claims' as ``[title, url, summary, kind]`` (``Entries``), from the generated
    files by path (``files``) and the hand-written pages' text."""
    entries = Entries(kb, directory_urls)
    for name, text in files.items():
        entries.add(name, text)
    return entries.all(weights, handwritten)
