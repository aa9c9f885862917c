"""Read a knowledge-base folder into validated records, collecting every problem.

``load`` never raises for bad input: each problem becomes a ``Problem`` with the
file, line and column it concerns, and all of them are returned together.
``load_valid`` is the same but raises ``InvalidKnowledgeBase`` when any problem is
an error, for the views that need a valid knowledge base.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from kb import files, quotes, yamlfile, yamlhints
from kb.cache import LoadCache, digest
from kb.errors import InvalidKnowledgeBase, Problem
from kb.files import FileProblem, excerpt
from kb.gcpause import paused_gc
from kb.model import (
    LIMITS,
    LOADER_FIELDS,
    Claim,
    Evidence,
    KbConfig,
    KnowledgeBase,
    Source,
    Span,
    construct,
    trusted_span,
)
from kb.progress import Advance, Progress, ignore_progress, quiet

MAX_TEXT_BYTES = 20_000_000
# Statements that are still what kb new claim wrote, or a note to come back.
PLACEHOLDERS = ("todo", "tbd", "fixme", "xxx")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_TYPE_NAMES = {
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping of fields",
    "bool_type": "yes or no (true/false)",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "date_type": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    return excerpt(str(value))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else ``''``."""
    if len(str(word)) > LIMITS["id"]:
        return ""  # nothing is close to it, and comparing costs time
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class _Collector:
    root: Path
    cache: LoadCache
    advance: Advance = ignore_progress
    problems: list[Problem] = field(default_factory=list)
    text_digests: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._prefix = str(self.root).rstrip(os.sep) + os.sep

    def rel(self, path: Path | str) -> str:
        # plain string work: this runs for every file of the knowledge base
        text = str(path)
        if text.startswith(self._prefix):
            text = text[len(self._prefix) :]
        return text.replace(os.sep, "/")

    def at(self, path: str, located: yamlfile.Located, loc: tuple[str | int, ...], message: str) -> None:
        """Add an error located at ``loc`` in the file's data (looked up only now, when needed)."""
        line, col = located.position(loc)
        self.add(path, line, col, message)

    def add(self, path: str, line: int, col: int, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(path, line, col, message, severity))  # type: ignore[arg-type]


def _model_problems(
    exc: ValidationError, model: type[BaseModel], located: yamlfile.Located, path: str
) -> list[Problem]:
    """Turn pydantic's errors into located messages a person can act on."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        name = _dotted(loc)
        line, col = located.position(loc)
        if kind == "missing":
            line, col = located.position(loc[:-1])
            message = f"missing required field {name!r}"
        elif kind == "extra_forbidden":
            line, col = located.position(loc, key=True)
            parent = model
            for part in loc[:-1]:
                if isinstance(part, str):
                    annotation = parent.model_fields[part].annotation
                    inner = getattr(annotation, "__args__", (annotation,))
                    parent = next(
                        (a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), parent
                    )
            allowed = [f for f in parent.model_fields if f not in LOADER_FIELDS]
            message = f"unknown field {excerpt(name)}{did_you_mean(str(loc[-1]), allowed)}"
            message += f"; allowed fields: {', '.join(allowed)}"
        elif kind == "literal_error":
            allowed = re.findall(r"'([^']*)'", err["ctx"]["expected"])
            message = (
                f"{name}: {_describe(err['input'])} is not allowed{did_you_mean(str(err['input']), allowed)};"
                f" use one of: {', '.join(allowed)}"
            )
        elif kind in ("string_too_long", "too_long"):
            size = len(err["input"])
            unit = "characters" if kind == "string_too_long" else "items"
            limit = err["ctx"]["max_length"]
            message = f"{name}: {size:,} {unit}, more than the limit of {limit:,}"
            message += " (a statement is one sentence)" if name == "statement" else ""
        elif kind in _TYPE_NAMES:
            message = f"{name}: expected {_TYPE_NAMES[kind]}, got {_describe(err['input'])}"
        elif kind == "value_error":
            message = (f"{name}: " if name else "") + str(err["msg"]).removeprefix("Value error, ")
            if not loc:
                # a check across fields: point at the first field the message names
                named = [pos for k, pos in located.top_level_keys().items() if k in message]
                if named:
                    line, col = min(named)
        else:
            message = (f"{name}: " if name else "") + str(err["msg"])
        out.append(Problem(path, line, col, message))
    return out


class _File(NamedTuple):
    """A file of the knowledge base: its path, its path relative to the folder ("/"-separated, as
    problems name it), and its id (the file name without .yaml)."""

    path: str
    rel: str
    stem: str


def _read_raw(col: _Collector, file: _File) -> bytes | None:
    """The bytes of a file: a regular file inside the folder, no larger than a YAML file may be."""
    try:
        return files.read_bounded(file.path, yamlfile.MAX_YAML_BYTES, col.root)
    except FileProblem as exc:
        col.add(file.rel, 1, 1, exc.message)
        return None


def _read_yaml(col: _Collector, file: _File) -> yamlfile.Located | None:
    """Parse one file; report and return None if it is not a non-empty mapping."""
    raw = _read_raw(col, file)
    if raw is None:
        return None
    return _parse_yaml(col, file.rel, raw, digest(raw))


def _parse_yaml(col: _Collector, rel: str, raw: bytes, key: str) -> yamlfile.Located | None:
    """The data of a file's bytes (hashed to ``key``), from the cache or parsed; None if it is no
    YAML or not a non-empty mapping (reported)."""
    try:
        cached = col.cache.get_parsed(key)
        if cached is not None:
            located = yamlfile.Located(cached, raw=raw)  # decoded when a position is asked for
        else:
            located = yamlfile.parse(yamlfile.decode(raw))
            if isinstance(located.data, dict):
                col.cache.put_parsed(key, located.data)
    except UnicodeDecodeError as exc:
        col.add(rel, 1, 1, f"file is not UTF-8 text (bad byte at offset {exc.start})")
        return None
    except yamlfile.YamlError as exc:
        text = yamlfile.decode(raw) if exc.message.startswith("YAML syntax error") else ""
        col.add(rel, exc.line, exc.col, exc.message + yamlhints.hint(exc.message, text, exc.line))
        return None
    if located.data is None:
        col.add(rel, 1, 1, "file is empty; expected a mapping of fields")
        return None
    if not isinstance(located.data, dict):
        col.add(rel, 1, 1, f"expected a mapping of fields, got {_describe(located.data)}")
        return None
    for key in LOADER_FIELDS & located.data.keys():
        line, c = located.position((key,), key=True)
        col.add(rel, line, c, f"unknown field {key!r}: kb sets the {key} itself (the id is the file name)")
        return None
    return located


def _validate(col: _Collector, model: type[BaseModel], located: yamlfile.Located, rel: str, **extra: Any):
    try:
        return model.model_validate({**located.data, **extra})
    except ValidationError as exc:
        col.problems.extend(_model_problems(exc, model, located, rel))
        return None


def _yaml_files(col: _Collector, folder: Path) -> list[_File]:
    """The .yaml/.yml files under ``folder``, hidden folders and files skipped, in path order.

    Everything under it that kb cannot or may not read (a folder without permission, a FIFO,
    a device, a link to a folder) is an error: nothing is skipped silently.
    """
    if not folder.is_dir():
        return []
    found, unreadable = files.walk_names(str(folder), col.root)
    for entry in unreadable:
        col.add(col.rel(entry.path), 1, 1, entry.message)
    out = []
    rel_of = col.rel
    for path in found:
        if path.endswith(".yaml"):
            rel = rel_of(path)
            out.append(_File(path, rel, rel[rel.rfind("/") + 1 : -5]))
        elif path.endswith(".yml"):
            rel = rel_of(path)
            out.append(_File(path, rel, rel[rel.rfind("/") + 1 : -4]))
    return out


def _load_config(col: _Collector, root: Path) -> tuple[KbConfig, yamlfile.Located | None]:
    path = str(root / "kb.yaml")
    if not os.path.lexists(path):
        return KbConfig(), None
    located = _read_yaml(col, _File(path, col.rel(path), "kb"))
    if located is None:
        return KbConfig(), None
    config = _validate(col, KbConfig, located, "kb.yaml") or KbConfig()
    if config.weighting:
        # the weighting model owns the meaning of its settings; a bad one is an error here, not a
        # silent fallback to the default when strengths are computed
        from kb.weigh import settings_from_config

        def locate(path: tuple[str, ...]) -> tuple[int, int]:
            return located.position(("weighting", *path), key=True)

        col.problems.extend(settings_from_config(config.weighting, locate)[1])
    if config.synonyms:
        # bounded, so that no list of synonyms makes a search slow
        from kb.synonyms import synonym_problems

        col.problems.extend(
            synonym_problems(config.synonyms, lambda path: located.position(("synonyms", *path)))
        )
    return config, located


def _check_disputes(
    col: _Collector,
    config: KbConfig,
    located: yamlfile.Located | None,
    claims: dict[str, Claim],
    known_claims: set[str],
) -> None:
    """Disputes named in kb.yaml: known claims, joined by ``contradicts`` into one group, named once."""
    if located is None or not config.disputes:
        return
    from kb.disputes import group_roots

    roots = group_roots((claim.id, target) for claim in claims.values() for target in claim.contradicts)

    def find(claim_id: str) -> str:
        return roots.get(claim_id, claim_id)

    named_groups: dict[str, int] = {}
    ids: dict[str, int] = {}
    for i, spec in enumerate(config.disputes):
        unknown = False
        for j, cid in enumerate(spec.claims):
            if cid not in known_claims:
                unknown = True
                message = f"disputes[{i}].claims[{j}]: unknown claim {cid!r}{did_you_mean(cid, known_claims)}"
                col.at("kb.yaml", located, ("disputes", i, "claims", j), message)
        if unknown or any(c not in claims for c in spec.claims):
            continue  # that claim's own file has the error
        groups = {find(c) for c in spec.claims}
        if len(groups) > 1:
            message = (
                f"disputes[{i}].claims: {', '.join(spec.claims)} are not joined by 'contradicts' into one"
                " group; a dispute is one group of contradicting claims, or a single claim"
            )
            col.at("kb.yaml", located, ("disputes", i, "claims"), message)
            continue
        # a single claim of a group names the whole group
        group = groups.pop()
        if group in named_groups:
            message = (
                f"disputes[{i}]: names the same dispute as disputes[{named_groups[group]}]"
                " (its claims are joined by 'contradicts'); keep one"
            )
            col.at("kb.yaml", located, ("disputes", i), message)
        named_groups[group] = i
        if spec.id is not None:
            if spec.id in ids:
                col.at("kb.yaml", located, ("disputes", i, "id"), f"disputes[{i}].id: {spec.id!r} is taken")
            ids[spec.id] = i


def _check_id(col: _Collector, file: _File) -> bool:
    rel, stem = file.rel, file.stem
    if rel.endswith(".yml"):
        col.add(rel, 1, 1, "kb files end in .yaml; rename this file or it is ignored", "warning")
        return False
    if not ID_PATTERN.match(stem):
        col.add(rel, 1, 1, "the file name is the id: use letters, digits, '-', '_' and '.' only")
        return False
    if len(stem) > LIMITS["id"]:
        col.add(rel, 1, 1, f"the file name is the id: {len(stem)} characters, more than {LIMITS['id']}")
        return False
    return True


def _load_sources(
    col: _Collector, root: Path, source_files: list[_File]
) -> tuple[dict[str, Source], dict[str, str]]:
    """The valid sources and their texts, by id."""
    sources: dict[str, Source] = {}
    texts: dict[str, str] = {}
    folder = root / "sources"
    folder_name = str(folder)
    text_folder = _TextFolder(root, folder)
    first_path: dict[str, str] = {}
    for file in source_files:
        col.advance(1)
        if os.path.dirname(file.path) != folder_name:
            col.add(file.rel, 1, 1, "source files belong directly in sources/, not in a subfolder", "warning")
            continue
        if not _check_id(col, file) or not _unique_id(col, file, first_path, "source"):
            continue
        located = _read_yaml(col, file)
        if located is None:
            continue
        rel = file.rel
        source = _validate(col, Source, located, rel, id=file.stem, path=rel, line=1)
        if source is not None:
            sources[source.id] = source
            text_of: Source | _TextOnly = source
        elif isinstance(located.data.get("text"), str) and located.data["text"].strip():
            # another field is wrong: the text is still read, so that quotes from it are checked
            text_of = _TextOnly(file.stem, rel, located.data["text"].strip())
        else:
            continue
        text = _read_text(col, root, text_folder, text_of, located)
        if text is not None:
            texts[file.stem] = text
    return sources, texts


@dataclass(frozen=True)
class _TextOnly:
    """The fields of a source that failed validation which its text needs."""

    id: str
    path: str
    text: str


class _TextFolder:
    """Where the texts of sources are: ``sources/`` with links resolved, found once."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.folder = folder
        self.root = root.resolve()
        real = os.path.realpath(folder)
        self.real = real if Path(real).is_relative_to(self.root) else None

    def target(self, name: str) -> Path | str | None:
        """The file ``name`` in ``sources/`` with links resolved; None if there is none; a ``Path`` if
        it may lie outside the knowledge-base folder (checked then)."""
        if self.real is None or name in (".", "..") or os.sep in name or (os.altsep or os.sep) in name:
            return (self.folder / name).resolve()
        # a plain name in the folder: one system call tells whether it is a link
        target = os.path.join(self.real, name)
        try:
            mode = os.lstat(target).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:
            return (self.folder / name).resolve()
        return (self.folder / name).resolve() if stat.S_ISLNK(mode) else target


def _read_text(
    col: _Collector, root: Path, folder: _TextFolder, source: Source | _TextOnly, located: yamlfile.Located
) -> str | None:
    target = folder.target(source.text)
    if isinstance(target, Path):
        if not target.is_relative_to(folder.root):
            message = f"text: {source.text!r} leaves the knowledge-base folder"
            col.at(source.path, located, ("text",), message)
            return None
        if not target.exists():
            target = None
    if target is None:
        col.at(source.path, located, ("text",), f"text: file {source.text!r} not found in sources/")
        return None
    try:
        raw = files.read_bounded(target, MAX_TEXT_BYTES, root)
        text = yamlfile.decode(raw)
        col.text_digests[source.id] = digest(raw)
        return text
    except FileProblem as exc:
        col.at(source.path, located, ("text",), f"text: {source.text!r}: {exc.message}")
        return None
    except UnicodeDecodeError as exc:
        message = f"text: {source.text!r} is not UTF-8 (bad byte at offset {exc.start})"
        col.at(source.path, located, ("text",), message)
        return None


def _unique_id(col: _Collector, file: _File, first_path: dict[str, str], what: str) -> bool:
    """Whether no earlier file has this id, also ignoring case (``Foo`` and ``foo`` pages collide
    on case-insensitive file systems, as on macOS and Windows)."""
    rel = file.rel
    key = file.stem.casefold()
    if key not in first_path:
        first_path[key] = rel
        return True
    other = first_path[key]
    same = Path(other).stem == file.stem
    but = "" if same else " but for case (their pages would collide on macOS and Windows)"
    col.add(rel, 1, 1, f"duplicate {what} id {file.stem!r}: {other} has the same file name{but}")
    return False


@dataclass(frozen=True)
class _Refs:
    """What a claim file that failed validation refers to: its quotes' sources and its relations'
    targets, read from the file's data, so that one run reports every problem of every kind."""

    id: str
    path: str
    evidence: tuple[tuple[int, str, str], ...]  # (index, source id, quote)
    relations: tuple[tuple[str, int, str], ...]  # (supports|contradicts, index, target id)


def _well_formed(value: Any, field: str) -> bool:
    """A text the model would take (its own errors are reported by the model's check)."""
    return isinstance(value, str) and 0 < len(value.strip()) <= LIMITS[field]


def _refs_of_data(claim_id: str, path: str, data: dict[str, Any]) -> _Refs:
    """The well-formed references of a claim file that failed validation (the rest is reported)."""
    evidence = []
    items = data.get("evidence")
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            source, quote = item.get("source"), item.get("quote")
            if _well_formed(source, "id") and _well_formed(quote, "quote"):
                evidence.append((i, source.strip(), quote.strip()))
    relations = []
    for kind in ("supports", "contradicts"):
        targets = data.get(kind)
        for j, target in enumerate(targets if isinstance(targets, list) else []):
            if _well_formed(target, "id"):
                relations.append((kind, j, target.strip()))
    return _Refs(claim_id, path, tuple(evidence), tuple(relations))


# A load that has at least this many claim files to read (a cold one: not half of them in the
# cache) hands the last part of them to a forked child (kb.forked) while this process reads the
# first part: parsing and validating them is most of a cold load. The child's share is more than
# half, as this process also lists and reads the sources before and checks every reference after.
PARSE_AHEAD_FILES = 2_000
_PARSE_AHEAD_SHARE = 0.55


def _parse_ahead(
    col: _Collector, claim_files: list[_File], texts: dict[str, str]
) -> tuple[int, Callable[[], None]] | None:
    """Start reading the last part of ``claim_files`` in a forked child; returns the index of the
    first file it reads, and what to call there to take its results into the load's cache (kb.cache),
    from which those files are then read as on a warm load: each valid claim as its validated
    record with its warnings and the spans of its quotes in ``texts``, each other file as its parsed
    data (this process validates it and reports what is wrong). A file the child cannot read or
    parse, or that is no mapping, it leaves out: this process reads it again and reports it.
    Without a child (it failed, or cannot start) the files are read here: the same result."""
    from kb import forked
    from kb.cache import entry_of

    count = len(claim_files)
    if count < PARSE_AHEAD_FILES or 2 * col.cache.known() >= count:
        return None
    if not forked.can_fork():
        return None
    first = count - int(count * _PARSE_AHEAD_SHARE)
    root = col.root
    text_digests = col.text_digests

    def work() -> tuple[dict[str, list[Any]], bool, dict[str, list[Any]], dict[str, list[list[int]]]]:
        parsed: dict[str, list[Any]] = {}
        special = False
        records: dict[str, list[Any]] = {}
        spans: dict[str, list[list[int]]] = {}
        for file in claim_files[first:]:
            try:
                raw = files.read_bounded(file.path, yamlfile.MAX_YAML_BYTES, root)
                located = yamlfile.parse(yamlfile.decode(raw))
            except Exception:  # this process reads the file again, and reports what is wrong
                continue
            data = located.data
            if not isinstance(data, dict):
                continue
            key = digest(raw)
            claim = None
            if not LOADER_FIELDS & data.keys():
                with contextlib.suppress(ValidationError):  # this process reports what is wrong
                    claim = Claim.model_validate({**data, "id": file.stem, "path": file.rel, "line": 1})
            if claim is None:
                parsed[key], unusual = entry_of(data)
                special = special or unusual
                continue
            records[file.rel] = [key, _record_of_claim(claim), _claim_warnings(claim, located)]
            for ev in claim.evidence:
                if ev.source in texts:
                    found = quotes.find(ev.quote, texts[ev.source])
                    if found is not None:
                        quote_key = LoadCache.quote_key(ev.quote, text_digests[ev.source])
                        spans[quote_key] = [[s.start, s.end] for s in found]
        return parsed, special, records, spans

    wait = forked.start(work)
    waited = []

    def take() -> None:
        if waited:
            return  # the child was waited for already
        waited.append(True)
        result = wait()
        if isinstance(result, tuple) and len(result) == 4:
            parsed, special, records, spans = result
            if isinstance(parsed, dict) and isinstance(records, dict) and isinstance(spans, dict):
                col.cache.absorb(parsed, bool(special), claims=records, quotes=spans)

    return first, take


def _load_claims(
    col: _Collector, claim_files: list[_File], texts: dict[str, str]
) -> tuple[dict[str, Claim], dict[str, yamlfile.Located], list[_Refs]]:
    """The valid claims by id, every claim file's data with positions by id, and the references of
    the claim files that failed validation."""
    claims: dict[str, Claim] = {}
    where: dict[str, yamlfile.Located] = {}
    invalid: list[_Refs] = []
    first_path: dict[str, str] = {}
    ahead = _parse_ahead(col, claim_files, texts)
    try:
        _read_claims(col, claim_files, ahead, claims, where, invalid, first_path)
    finally:
        if ahead is not None:
            ahead[1]()  # the child is waited for whatever happens here (a second call does nothing)
    return claims, where, invalid


def _read_claims(
    col: _Collector,
    claim_files: list[_File],
    ahead: tuple[int, Callable[[], None]] | None,
    claims: dict[str, Claim],
    where: dict[str, yamlfile.Located],
    invalid: list[_Refs],
    first_path: dict[str, str],
) -> None:
    get_claim, get_claim_by_stat, add = col.cache.get_claim, col.cache.get_claim_by_stat, col.add
    vouched_stat, now_ns, root = files.vouched_stat, time.time_ns(), col.root
    for n, file in enumerate(claim_files):
        if ahead is not None and n == ahead[0]:
            ahead[1]()
        col.advance(1)
        if not _check_id(col, file) or not _unique_id(col, file, first_path, "claim"):
            continue
        rel, stem = file.rel, file.stem
        # the file's stat, before its bytes are read: if it is the one kept, the file is as it was and
        # is not read; its bytes are read again only for the position of an error about a reference
        stat_now = vouched_stat(file.path, now_ns)
        kept = get_claim_by_stat(rel, stat_now) if stat_now is not None else None
        claim = _claim_of_record(kept[0], stem, rel) if kept is not None else None
        if claim is not None:
            located = yamlfile.Located(None, reread=functools.partial(_reread, file.path, root))
        else:
            raw = _read_raw(col, file)
            if raw is None:
                continue
            key = digest(raw)
            kept = get_claim(rel, key, stat_now)
            claim = _claim_of_record(kept[0], stem, rel) if kept is not None else None
            # positions are needed only for an error about a reference: from the bytes, parsed then
            located = yamlfile.Located(None, raw=raw)
        if claim is not None:
            # validated before with these bytes at this path: the same claim and warnings again
            where[stem] = located
            claims[stem] = claim
            for line, c, message in kept[1]:
                add(rel, line, c, message, "warning")
            continue
        located = _parse_yaml(col, rel, raw, key)
        if located is None:
            continue
        claim = _validate(col, Claim, located, rel, id=stem, path=rel, line=1)
        where[stem] = located
        if claim is not None:
            claims[claim.id] = claim
            warnings = _claim_warnings(claim, located)
            for line, c, message in warnings:
                add(rel, line, c, message, "warning")
            col.cache.put_claim(rel, key, _record_of_claim(claim), warnings, stat_now)
        else:
            invalid.append(_refs_of_data(stem, rel, located.data))


def _reread(path: str, root: Path) -> bytes | None:
    """The bytes of a claim file kept unchanged by its stat, read when a position in it is asked for."""
    try:
        return files.read_bounded(path, yamlfile.MAX_YAML_BYTES, root)
    except FileProblem:
        return None


def _record_of_claim(claim: Claim) -> dict[str, Any]:
    """What validating a claim file gave: the fields the file set (its data's keys), validated;
    ``evidence`` as the same record of each of its items. JSON, for the load cache."""
    values = claim.__dict__
    record = {name: values[name] for name in claim.model_fields_set if name not in LOADER_FIELDS}
    record["evidence"] = [{name: ev.__dict__[name] for name in ev.model_fields_set} for ev in claim.evidence]
    return record


def _claim_of_record(record: Any, claim_id: str, path: str) -> Claim | None:
    """The claim :func:`_record_of_claim` kept, at ``path`` again: equal to validating its file
    (None for a record not of that shape: never from kb's own sealed cache, but not a traceback)."""
    try:
        values = {**record, "id": claim_id, "path": path, "line": 1}
        values["evidence"] = [construct(Evidence, item) for item in record["evidence"]]
        return construct(Claim, values)
    except (KeyError, TypeError, ValueError):
        return None


def _claim_warnings(claim: Claim, located: yamlfile.Located) -> list[list[Any]]:
    """Warnings for a valid claim that is not finished, as [line, column, message]: a placeholder
    statement, no evidence, a topic other than its folder's."""
    out: list[list[Any]] = []

    def warn(loc: tuple[str, ...], message: str) -> None:
        line, c = located.position(loc)
        out.append([line, c, message])

    if claim.statement.lower().startswith(PLACEHOLDERS):
        warn(
            ("statement",),
            f"statement: {claim.statement!r} is a placeholder; state the claim in one sentence",
        )
    if not claim.evidence:
        warn(("evidence",), "no evidence yet: add a quote with kb add-evidence " + claim.id)
    parts = claim.path.split("/")
    # only a topic that could be a folder name is expected to be one
    if len(parts) > 2 and parts[1] != claim.topic and ID_PATTERN.match(claim.topic):
        warn(
            ("topic",),
            f"topic: {claim.topic!r}, but the file is in claims/{parts[1]}/; "
            f"move it to claims/{claim.topic}/ or change the topic",
        )
    return out


def _check_references(
    col: _Collector,
    claims: dict[str, Claim],
    invalid: list[_Refs],
    where: dict[str, yamlfile.Located],
    sources: dict[str, Source],
    texts: dict[str, str],
    known_claims: set[str],
    known_sources: set[str],
) -> dict[tuple[str, int], list[Span]]:
    """Every claim's quotes and relations, the valid claims' (in file order) and what the invalid
    claim files refer to; returns the valid claims' quotes' spans."""
    spans: dict[tuple[str, int], list[Span]] = {}
    check = _ReferenceCheck(col, where, sources, texts, known_claims, known_sources)
    for claim in claims.values():
        claim_id, path = claim.id, claim.path
        for i, ev in enumerate(claim.evidence):
            found = check.quote(claim_id, path, i, ev.source, ev.quote)
            if found is not None:
                spans[(claim_id, i)] = found
        for j, target in enumerate(claim.supports):
            check.relation(claim_id, path, "supports", j, target)
        for j, target in enumerate(claim.contradicts):
            check.relation(claim_id, path, "contradicts", j, target)
    for ref in invalid:
        for i, source, quote in ref.evidence:
            check.quote(ref.id, ref.path, i, source, quote)
        for kind, j, target in ref.relations:
            check.relation(ref.id, ref.path, kind, j, target)
    return spans


class _ReferenceCheck:
    """Checks one claim's references at a time, reporting what is wrong at its place in the file."""

    def __init__(
        self,
        col: _Collector,
        where: dict[str, yamlfile.Located],
        sources: dict[str, Source],
        texts: dict[str, str],
        known_claims: set[str],
        known_sources: set[str],
    ) -> None:
        self.col, self.where, self.sources, self.texts = col, where, sources, texts
        self.known_claims, self.known_sources = known_claims, known_sources
        self.find = _QuoteFinder(col, texts)

    def quote(self, claim_id: str, path: str, i: int, source: str, quote: str) -> list[Span] | None:
        """The spans of a quote in its source's text; None if it is not there or cannot be looked for."""
        if source not in self.known_sources:
            hint = did_you_mean(source, self.sources)
            message = f"evidence[{i}].source: unknown source {source!r}{hint}"
            self.col.at(path, self.where[claim_id], ("evidence", i, "source"), message)
            return None
        if source not in self.texts:
            return None  # the source's text cannot be read; that error is reported there
        found = self.find(quote, source)
        if found is None:
            message = f"evidence[{i}].quote: not found in the text of source {source!r}"
            message += quotes.not_found_message(quote, self.texts[source])
            self.col.at(path, self.where[claim_id], ("evidence", i, "quote"), message)
        return found

    def relation(self, claim_id: str, path: str, kind: str, j: int, target: str) -> None:
        if target == claim_id:
            message = f"{kind}[{j}]: a claim cannot {kind[:-1]} itself"
            self.col.at(path, self.where[claim_id], (kind, j), message)
        elif target not in self.known_claims:
            message = f"{kind}[{j}]: unknown claim {target!r}{did_you_mean(target, self.known_claims)}"
            self.col.at(path, self.where[claim_id], (kind, j), message)


class _QuoteFinder:
    """``quotes.find`` through the cache; a cached position is checked against the text first."""

    def __init__(self, col: _Collector, texts: dict[str, str]) -> None:
        self.cache = col.cache
        self.texts = texts
        # the start of each quote's cache key (kb.cache.LoadCache.quote_key), by source
        self.key_head = {
            source_id: hashlib.sha256(f"{text_digest}\0".encode())
            for source_id, text_digest in col.text_digests.items()
        }

    def __call__(self, quote: str, source_id: str) -> list[Span] | None:
        text = self.texts[source_id]
        keyed = self.key_head[source_id].copy()
        keyed.update(quote.encode("utf-8", "surrogatepass"))
        key = keyed.hexdigest()
        cached = self.cache.get_quote(key)
        if cached is not None:
            if len(cached) == 1:
                start, end = cached[0]
                if quotes.exact_at(quote, text, start, end):
                    return [trusted_span(start, end)]
            found = [trusted_span(start, end) for start, end in cached]
            if quotes.spans_match(quote, text, found):
                return found
        found = quotes.find(quote, text)
        if found is not None:
            self.cache.put_quote(key, [[s.start, s.end] for s in found])
        return found


def _check_conflicting_relations(
    col: _Collector, claims: dict[str, Claim], where: dict[str, yamlfile.Located]
) -> None:
    # each contradiction both ways round: it is symmetric
    contradicting = set()
    for claim in claims.values():
        for target in claim.contradicts:
            contradicting.add((claim.id, target))
            contradicting.add((target, claim.id))
    for claim in claims.values():
        for j, target in enumerate(claim.supports):
            if (claim.id, target) in contradicting and target != claim.id:
                message = f"supports[{j}]: {claim.id!r} both supports and contradicts {target!r}; keep one"
                col.at(claim.path, where[claim.id], ("supports", j), message)


def _check_unused_sources(col: _Collector, sources: dict[str, Source], claims: dict[str, Claim]) -> None:
    cited = {ev.source for claim in claims.values() for ev in claim.evidence}
    for source in sources.values():
        if source.id not in cited:
            col.add(source.path, 1, 1, f"source {source.id!r} is not cited by any claim", "warning")


# The modules whose code decides what a load makes of a file's bytes: a validated claim kept in the
# load cache is used only by the same code (kb.cache).
_CODE = ("kb.cache", "kb.files", "kb.load", "kb.model", "kb.yamlfile")


@functools.cache
def code_version() -> str | None:
    """A hash of the code that validates a knowledge base's files (and of the versions of the
    libraries it uses), or None if it cannot be read: then no validated claim is kept."""
    import importlib.util
    import sys

    import pydantic
    import pydantic_core
    import yaml

    code = hashlib.sha256(f"{pydantic.VERSION} {pydantic_core.__version__} {yaml.__version__}".encode())
    for name in _CODE:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) or getattr(importlib.util.find_spec(name), "origin", None)
        try:
            with open(origin, "rb") as source:  # type: ignore[arg-type]
                code.update(source.read())
        except (OSError, TypeError):
            return None
    return code.hexdigest()


def load(
    root: Path | str, *, cache: bool = True, progress: Progress = quiet
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Load and check the knowledge base at ``root``.

    Returns the knowledge base (``None`` if there are errors) and every problem found,
    errors and warnings, sorted by file and position. With ``cache``, parsed files, valid
    claims and found quotes are kept in ``<root>/.kb-cache/`` by content hash, so a second
    load only parses and validates what changed. ``progress`` reports the files read (kb.progress).
    """
    root = Path(root)
    with paused_gc():
        store = LoadCache(root, enabled=cache and root.is_dir(), code=code_version())
        result = _load(root, store, progress)
        store.save()
        return result


def _load(
    root: Path, cache: LoadCache, show_progress: Progress
) -> tuple[KnowledgeBase | None, list[Problem]]:
    col = _Collector(root, cache)
    if not root.is_dir():
        col.add(str(root), 1, 1, "no such knowledge-base folder")
        return None, col.problems
    if not (root / "sources").is_dir() and not (root / "claims").is_dir():
        col.add(".", 1, 1, "not a knowledge base: expected folders sources/ and claims/")
        return None, col.problems
    config, config_located = _load_config(col, root)
    source_files = _yaml_files(col, root / "sources")
    claim_files = _yaml_files(col, root / "claims")
    with show_progress("validating", len(source_files) + len(claim_files)) as col.advance:
        sources, texts = _load_sources(col, root, source_files)
        claims, where, invalid = _load_claims(col, claim_files, texts)
    # Claims whose file failed to validate still exist: relations to them are not "unknown".
    known_claims = set(claims) | {file.stem for file in claim_files}
    known_sources = {file.stem for file in source_files}
    # every claim's quotes and relations are checked, valid or not: all problems in one run
    spans = _check_references(col, claims, invalid, where, sources, texts, known_claims, known_sources)
    _check_conflicting_relations(col, claims, where)
    _check_disputes(col, config, config_located, claims, known_claims)
    if not any(p.severity == "error" for p in col.problems):
        # only meaningful when every claim file could be read
        _check_unused_sources(col, sources, claims)
    problems = sorted(set(col.problems))
    if any(p.severity == "error" for p in problems):
        return None, problems
    # every part is validated already (KnowledgeBase(...) would copy every dict, item by item)
    kb = KnowledgeBase.model_construct(
        root=root,
        config=config,
        sources=dict(sorted(sources.items())),
        claims=dict(sorted(claims.items())),
        texts=texts,
        quote_spans=spans,
    )
    return kb, problems


def load_valid(root: Path | str, *, progress: Progress = quiet) -> KnowledgeBase:
    """Load the knowledge base or raise ``InvalidKnowledgeBase`` with every problem."""
    kb, problems = load(root, progress=progress)
    if kb is None:
        raise InvalidKnowledgeBase(problems)
    return kb
