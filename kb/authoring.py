"""Adding to a knowledge base: new sources from documents, and scaffolds for new files.

The functions here work out what to write (pure, testable); ``write_new_files``
writes it, refusing to overwrite anything: nothing is written unless every
file is new. Every file written starts with the ``yaml-language-server`` line
that points editors at the JSON Schema in ``<kb>/schema/`` (see kb.schema).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from kb import schema, yamlfile
from kb.errors import KbError, UsageError
from kb.files import FileProblem, excerpt, read_bounded
from kb.load import ID_PATTERN
from kb.model import LIMITS, SOURCE_KINDS, Claim, KbConfig, Source, printable
from kb.output import write_all

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
MAX_ID_LENGTH = 40
MAX_DOCUMENT_BYTES = 20_000_000
DEFAULT_KIND = "other"
PLACEHOLDER_STATEMENT = "TODO: state the claim in one sentence."


# --- writing YAML by hand, values through PyYAML so that quoting is always right ---------------


def yaml_scalar(value: str, *, quoted: bool = False) -> str:
    """``value`` as one YAML scalar on one line (double-quoted when ``quoted``); a ``UsageError`` for
    text kb validate would refuse (bytes that were not UTF-8, control characters)."""
    try:
        printable(value)
    except ValueError as exc:
        raise UsageError(f"{excerpt(value)}: {exc}; nothing written") from None
    dumped = yaml.safe_dump(
        value, default_style='"' if quoted else None, width=1_000_000, allow_unicode=True
    ).rstrip("\n")
    return dumped.removesuffix("\n...").removesuffix("...").rstrip("\n")


def yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(yaml_scalar(v) for v in values) + "]"


def slugify(text: str, max_length: int = MAX_ID_LENGTH) -> str:
    """A file-name id from free text: lower-case ASCII words joined by '-', cut at a word."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    kept: list[str] = []
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            # cut short: a dangling "a", "the", "of"... at the end says nothing
            while len(kept) > 1 and kept[-1] in _DANGLING:
                kept.pop()
            slug = "-".join(kept)
            break
        slug = candidate
        kept.append(word)
    return slug or (words[0][:max_length] if words else "")


_DANGLING = frozenset("a an the of and or to for in on at by with from your my our their is are".split())


def check_id(value: str, what: str) -> str:
    if not ID_PATTERN.match(value):
        raise UsageError(
            f"{what} {excerpt(value)}: use letters, digits, '-', '_' and '.' only,"
            " starting with a letter or digit"
        )
    if len(value) > LIMITS["id"]:
        raise UsageError(f"{what} {excerpt(value)}: {len(value)} characters, more than {LIMITS['id']}")
    return value


# --- reading documents -------------------------------------------------------------------------


@dataclass
class Document:
    """A document's readable text and what it says about itself."""

    text: str
    title: str | None = None
    author: str | None = None
    url: str | None = None
    published: dt.date | None = None


_BLOCK_TAGS = frozenset(
    "address article aside blockquote body dd details div dl dt figcaption figure h1 h2 h3 h4 h5 h6 header "
    "hr li main ol p pre section summary table tbody td tfoot th thead tr ul caption".split()
)
# Never readable text: code, styling, navigation and page furniture.
_SKIP_TAGS = frozenset(
    "script style nav noscript template svg iframe form button select footer head aside".split()
)
# A page's <header> is its masthead; inside <article> or <main> it holds the article's title.
_CONTENT_TAGS = frozenset({"article", "main"})
_VOID_TAGS = frozenset("area base br col embed hr img input link meta source track wbr".split())


class _ReadableText(HTMLParser):
    """Collects paragraphs of visible text, plus title, author, url and date from the head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._in_li = False  # whether the paragraph being collected is a list item
        self._last_was_li = False
        self._skip: list[str] = []  # open elements whose content is skipped
        self._pre = 0
        self._content_depth = 0
        self._in_title = False
        self._in_h1 = False
        self.title_tag = ""
        self.h1 = ""
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None

    def _flush(self) -> None:
        raw = "".join(self._current)
        if raw.strip() == "-":
            return  # a list bullet waiting for the item's first block, e.g. <li><p>...
        self._current = []
        if self._pre:
            lines = [line.rstrip() for line in raw.strip("\n").split("\n")]
            text = "\n".join(lines)
        else:
            text = " ".join(raw.split())
        if text.strip():
            # list items stay on consecutive lines; other blocks are paragraphs apart
            separator = "\n" if self._in_li and self._last_was_li else "\n\n"
            self.paragraphs.append((separator if self.paragraphs else "") + text)
            self._last_was_li = self._in_li

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            name = (values.get("name") or values.get("property") or "").lower()
            if name and "content" in values:
                self.meta.setdefault(name, values["content"].strip())
            return
        if tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = values.get("href") or None
            return
        if tag == "title":
            self._in_title = True
            return
        if tag in _VOID_TAGS:
            if tag == "br":
                self._current.append("\n" if self._pre else " ")
            elif tag == "hr":
                self._flush()
            return
        if self._skip or tag in _SKIP_TAGS or (tag == "header" and not self._content_depth):
            self._skip.append(tag)
            return
        if tag in _CONTENT_TAGS:
            self._content_depth += 1
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "pre":
            self._pre += 1
        if tag == "h1" and not self.h1:
            self._in_h1 = True
        if tag == "li":
            self._in_li = True
            self._current.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if self._skip:
            # close the innermost matching skipped element; stray end tags inside are ignored
            if tag in self._skip:
                while self._skip and self._skip.pop() != tag:
                    pass
            return
        if tag == "h1":
            self._in_h1 = False
        if tag in _CONTENT_TAGS and self._content_depth:
            self._content_depth -= 1
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "li":
            self._in_li = False
        if tag == "pre" and self._pre:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_tag += data
            return
        if self._skip:
            return
        if self._in_h1:
            self.h1 += data
        self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _http_url(value: str | None) -> str | None:
    return value if value and re.match(r"https?://", value) else None


def html_to_document(html: str) -> Document:
    """The readable text of an HTML page, one paragraph per block, and its metadata."""
    parser = _ReadableText()
    parser.feed(html)
    parser.close()
    meta = parser.meta
    author = meta.get("author") or meta.get("article:author") or None
    if author and re.match(r"https?://", author):
        author = None  # article:author is often a profile URL, not a name
    title = " ".join(parser.h1.split()) or " ".join(parser.title_tag.split()) or meta.get("og:title") or None
    text = "".join(parser.paragraphs) + "\n"
    return Document(
        text=text,
        title=title,
        author=author or byline_author(text),
        url=_http_url(parser.canonical) or _http_url(meta.get("og:url")),
        published=_date(meta.get("article:published_time") or meta.get("date") or meta.get("dc.date")),
    )


# "By Sam Keller", "**By** Maya Lindqvist, June 2023", "_by Dr. Ana de Souza | 3 min read_"
_BYLINE = re.compile(r"^[\s*_>#-]*by[*_:\s]+(?P<name>[^\n]+)$", re.IGNORECASE)
_NAME_END = re.compile(r"\s*(?:,|\||\u00b7|\u2022|\s[-\u2013\u2014]\s|\son\s|\(|\d).*$")
_NAME_WORD = re.compile(r"^(?:[A-Z][\w.'\u2019-]*|de|da|van|von|der|den|del|la|le|di|du|bin|al)$")
BYLINE_LINES = 12


def byline_author(text: str) -> str | None:
    """The name in a "By ..." line near the top of a text, or None.

    Only a line that is a byline counts: "By Sam Keller" or "By Maya Lindqvist, June 2023"
    (the name ends at a comma, a bar, a dash, a bracket or a date), each word of the name
    capitalised; "By the end of the week..." is a sentence, not a byline.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()][:BYLINE_LINES]
    for line in lines:
        match = _BYLINE.match(line)
        if not match:
            continue
        name = _NAME_END.sub("", match.group("name")).strip(" *_.:")
        tokens = name.split()
        if 1 <= len(tokens) <= 5 and tokens[0][:1].isupper() and all(_NAME_WORD.match(t) for t in tokens):
            return name
    return None


def text_to_document(text: str, markdown: bool) -> Document:
    """A text or Markdown document as it is; its title is the first heading or the first line,
    its author the name of a "By ..." byline near the top."""
    title = None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if markdown:
        heading = next((line for line in lines if re.match(r"#{1,6}\s", line)), None)
        if heading:
            title = heading.lstrip("#").strip()
    if title is None and lines:
        title = lines[0].lstrip("#").strip()
        if len(title) > 120:
            title = title[:120].rsplit(" ", 1)[0]
    return Document(
        text=text if text.endswith("\n") else text + "\n", title=title or None, author=byline_author(text)
    )


def _decode_html(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        declared = re.search(rb"""charset=["']?([A-Za-z0-9_-]+)""", raw[:4096])
        encoding = declared.group(1).decode("ascii") if declared else "cp1252"
        try:
            return raw.decode(encoding, errors="replace")
        except LookupError:
            return raw.decode("cp1252", errors="replace")


def read_document(path: Path) -> Document:
    """Read a .txt, .md or .html file into a Document; a KbError for anything else."""
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES + HTML_SUFFIXES:
        kinds = ", ".join(TEXT_SUFFIXES + HTML_SUFFIXES)
        raise UsageError(f"{path}: cannot read {suffix or 'files without a suffix'}; kb reads {kinds}")
    try:
        # a regular file, read no further than the limit (a link to /dev/zero must not fill memory)
        raw = read_bounded(path, MAX_DOCUMENT_BYTES)
    except FileProblem as exc:
        raise KbError(f"{path}: cannot read it: {exc.message}") from exc
    if suffix in HTML_SUFFIXES:
        return html_to_document(_decode_html(raw).replace("\r\n", "\n"))
    try:
        text = yamlfile.decode(raw)
    except UnicodeDecodeError as exc:
        raise KbError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    return text_to_document(text, markdown=suffix != ".txt")


# --- what is there already --------------------------------------------------------------------


def _same_text_key(text: str) -> str:
    return " ".join(text.split())


def source_text_files(kb_root: Path) -> dict[str, Path]:
    """Each source id with the file its ``text`` field names (only the readable, safe ones)."""
    folder = kb_root / "sources"
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for file in sorted(folder.glob("*.yaml")):
        try:
            data = yamlfile.parse(yamlfile.decode(file.read_bytes())).data
        except (OSError, UnicodeDecodeError, yamlfile.YamlError):
            continue  # kb validate reports it; it cannot be compared
        name = data.get("text") if isinstance(data, dict) else None
        if not isinstance(name, str):
            continue
        target = (folder / name).resolve()
        if target.is_relative_to(folder.resolve()) and target.is_file():
            found[file.stem] = target
    return found


def duplicate_source(kb_root: Path, text: str) -> str | None:
    """The id of a source whose text is ``text`` up to white space, or None."""
    key = _same_text_key(text)
    for source_id, path in source_text_files(kb_root).items():
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                continue
            if _same_text_key(yamlfile.decode(path.read_bytes())) == key:
                return source_id
        except (OSError, UnicodeDecodeError):
            continue
    return None


# --- what to write -----------------------------------------------------------------------------


@dataclass
class NewFiles:
    """Files to create, by path, in the order to write them (texts before the YAML naming them)."""

    files: dict[Path, str] = field(default_factory=dict)
    id: str = ""


def source_yaml(
    kb_root: Path,
    source_id: str,
    *,
    title: str,
    kind: str,
    text_file: str,
    author: str | None = None,
    url: str | None = None,
    published: dt.date | None = None,
    note: str | None = None,
) -> str:
    path = kb_root / "sources" / f"{source_id}.yaml"
    lines = [schema.modeline(path, kb_root, "source")]
    if note:
        lines.append(f"# {note}\n")
    lines.append(f"title: {yaml_scalar(title)}\n")
    if author:
        lines.append(f"author: {yaml_scalar(author)}\n")
    lines.append(f"kind: {kind}                     # {' | '.join(SOURCE_KINDS)}\n")
    if url:
        lines.append(f"url: {yaml_scalar(url)}\n")
    if published:
        lines.append(f"published: {published.isoformat()}\n")
    lines.append(f"text: {yaml_scalar(text_file)}\n")
    return "".join(lines)


def _check_kind(kind: str) -> str:
    if kind not in SOURCE_KINDS:
        raise UsageError(f"kind {kind!r} is not allowed; use one of: {', '.join(SOURCE_KINDS)}")
    return kind


def plan_add_source(
    kb_root: Path,
    document: Document,
    *,
    fallback_id: str,
    title: str | None = None,
    author: str | None = None,
    kind: str | None = None,
    url: str | None = None,
    source_id: str | None = None,
) -> NewFiles:
    """The text and YAML files for a new source made from ``document``; refused when the base
    already holds the same text (after normalising white space) under another source."""
    if not document.text.strip():
        raise KbError("the document has no readable text")
    duplicate = duplicate_source(kb_root, document.text)
    if duplicate is not None:
        raise KbError(
            f"the document is already in the knowledge base as source {duplicate!r} "
            f"(sources/{duplicate}.yaml, same text); nothing written"
        )
    title = title or document.title or fallback_id
    source_id = check_id(source_id or slugify(title) or slugify(fallback_id), "source id")
    text_file = f"{source_id}.txt"
    yaml_text = source_yaml(
        kb_root,
        source_id,
        title=title,
        kind=_check_kind(kind or DEFAULT_KIND),
        text_file=text_file,
        author=author or document.author,
        url=url or document.url,
        published=document.published,
    )
    folder = kb_root / "sources"
    return NewFiles({folder / text_file: document.text, folder / f"{source_id}.yaml": yaml_text}, source_id)


def plan_new_source(
    kb_root: Path, source_id: str, *, title: str, kind: str, author: str | None = None, url: str | None = None
) -> NewFiles:
    """A source scaffold: an empty text file and the YAML that names it."""
    check_id(source_id, "source id")
    text_file = f"{source_id}.txt"
    yaml_text = source_yaml(
        kb_root,
        source_id,
        title=title,
        kind=_check_kind(kind),
        text_file=text_file,
        author=author,
        url=url,
        note=f"paste the full text of the source into {text_file}; quotes are checked against it",
    )
    folder = kb_root / "sources"
    return NewFiles({folder / text_file: "", folder / f"{source_id}.yaml": yaml_text}, source_id)


EVIDENCE_TEMPLATE = """\
# evidence:
#   - source: SOURCE-ID               # a file name in sources/, without .yaml
#     stance: supports                # supports | opposes
#     kind: expert-opinion            # study | mechanism | expert-opinion | experience | testimonial
#     quote: "exact words from the source text"
#     speaker: author
"""


def plan_new_claim(kb_root: Path, claim_id: str, *, topic: str, statement: str | None = None) -> NewFiles:
    """A claim scaffold in ``claims/<topic>/``: valid as it is, with an empty evidence list."""
    check_id(claim_id, "claim id")
    check_id(topic, "topic")
    taken = existing_claim_file(kb_root, claim_id)
    if taken is not None:
        raise KbError(
            f"{taken.relative_to(kb_root).as_posix()} already has the id {claim_id!r}; claim ids are unique"
        )
    path = kb_root / "claims" / topic / f"{claim_id}.yaml"
    text = (
        schema.modeline(path, kb_root, "claim")
        + f"statement: {yaml_scalar(statement or PLACEHOLDER_STATEMENT)}\n"
        + f"topic: {yaml_scalar(topic)}\n"
        + "tags: []\n"
        + "evidence: []\n"
        + EVIDENCE_TEMPLATE
        + "supports: []                        # ids of claims this one makes more likely\n"
        + "contradicts: []                     # ids of claims that cannot be true with this one\n"
    )
    return NewFiles({path: text}, claim_id)


def existing_claim_file(kb_root: Path, claim_id: str) -> Path | None:
    folder = kb_root / "claims"
    if not folder.is_dir():
        return None
    for suffix in (".yaml", ".yml"):
        found = sorted(folder.rglob(f"{claim_id}{suffix}"))
        if found:
            return found[0]
    return None


def check_planned(kb_root: Path, planned: NewFiles) -> None:
    """Refuse, before anything is written, a planned source or claim file that kb validate would
    refuse (a title with bytes that are not UTF-8, a control character, a value over its limit)."""
    from kb.load import _model_problems

    for path, text in planned.files.items():
        if path.suffix != ".yaml":
            continue
        rel = path.relative_to(kb_root).as_posix()
        model: type[BaseModel]
        if rel == "kb.yaml":
            model, extra = KbConfig, {}
        else:
            model = Source if rel.startswith("sources/") else Claim
            extra = {"id": path.stem, "path": rel}
        try:
            located = yamlfile.parse(text)
            model.model_validate({**(located.data or {}), **extra})
        except yamlfile.YamlError as exc:
            raise KbError(f"{rel}: {exc.message}; nothing written") from exc
        except ValidationError as exc:
            problems = "; ".join(p.message for p in _model_problems(exc, model, located, rel))
            raise KbError(f"{rel} would not be valid: {problems}; nothing written") from exc


def write_new_files(kb_root: Path, planned: NewFiles) -> list[Path]:
    """Write every planned file and the editor schemas they point at, or nothing at all: not if
    any of them exists already, would be invalid, or cannot be written."""
    existing = [p for p in planned.files if p.exists()]
    if existing:
        names = " and ".join(p.relative_to(kb_root).as_posix() for p in existing)
        verb = "exists" if len(existing) == 1 else "exist"
        raise KbError(f"{names} already {verb}; nothing written (choose another id)")
    check_planned(kb_root, planned)
    files = {**planned.files, **schema.schema_files(kb_root / schema.SCHEMA_DIR, only_changed=True)}
    try:
        write_all(files)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise KbError(f"cannot write{where}: {exc.strerror or exc}; nothing written") from exc
    return list(files)


def ensure_schemas(kb_root: Path) -> list[Path]:
    """Keep ``<kb>/schema/`` current, so the comment lines in kb's files point at a real schema."""
    return schema.write_schemas(kb_root / schema.SCHEMA_DIR, only_changed=True)


# --- a new knowledge base ----------------------------------------------------------------------


def config_yaml(title: str) -> str:
    """A commented ``kb.yaml`` for a new knowledge base: every setting it may hold, explained."""
    from kb.weigh import (
        AUTHOR_BONUS,
        DEFAULT_EVIDENCE_KIND,
        DEFAULT_SOURCE_KIND,
        DEFAULT_SPEAKER,
        RELATION_WEIGHT,
    )

    def table(values: dict[str, float]) -> str:
        return "".join(f"#     {name}: {value:.2f}\n" for name, value in values.items())

    return (
        "# The settings of this knowledge base. Every one is optional; the commented lines show\n"
        "# the defaults and the form, remove the '# ' to use one.\n"
        "\n"
        "# The site's and the report's title, and a paragraph on what the base is about.\n"
        f"title: {yaml_scalar(title)}\n"
        "description: >-\n"
        "  What the sources collected here say, and how well each claim is backed.\n"
        "\n"
        "# Words that mean the same thing in this field, for `kb search`: each list is one group,\n"
        "# and a search for any member finds the others.\n"
        "# synonyms:\n"
        "#   - [coffee, espresso, caffeinated drinks]\n"
        "#   - [blood pressure, hypertension]\n"
        "\n"
        "# How much each piece of evidence weighs (numbers from 0 to 1); see the site's weighting page.\n"
        "# weighting:\n"
        "#   source_kind:          # the prior reliability of a source, by its kind\n"
        + table(DEFAULT_SOURCE_KIND)
        + "#   evidence_kind:        # how much an evidence item counts, by its kind\n"
        + table(DEFAULT_EVIDENCE_KIND)
        + "#   speaker:              # who says it inside the source: its author, a reader, another voice\n"
        + table(DEFAULT_SPEAKER)
        + f"#   author_bonus: {AUTHOR_BONUS:.2f}    # added to a reliability when the author is named\n"
        + f"#   relation_weight: {RELATION_WEIGHT:.2f} # how much a related claim passes on (at most 0.5)\n"
        "\n"
        "# Questions the sources answer differently, each with the claims that are its answers\n"
        "# (claims joined by `contradicts` are found without this; naming them gives the question).\n"
        "# disputes:\n"
        "#   - question: Does coffee raise blood pressure for good?\n"
        "#     claims: [coffee-raises-blood-pressure, coffee-is-harmless]\n"
    )


def plan_init(root: Path, title: str | None = None) -> NewFiles:
    """The files of a new, empty knowledge base at ``root``; refused where one exists already."""
    taken = [name for name in ("kb.yaml", "sources", "claims") if (root / name).exists()]
    if taken:
        raise KbError(
            f"{root} already holds a knowledge base ({', '.join(taken)}); nothing written. "
            "Choose an empty or new folder"
        )
    title = title or root.resolve().name.replace("-", " ").replace("_", " ").strip().capitalize()
    return NewFiles({root / "kb.yaml": config_yaml(title or "Knowledge base")}, root.name)


def init(root: Path, title: str | None = None) -> list[Path]:
    """Create a new knowledge base: kb.yaml, sources/, claims/ and the editor schemas."""
    planned = plan_init(root, title)
    written = write_new_files(root, planned)
    for folder in ("sources", "claims"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        written.append(root / folder)
    return written + ensure_schemas(root)
