"""Long generated pages cut into parts, so that no page of the site holds more than a limit.

A page over the limit becomes its first part (the page itself, whose links from elsewhere keep working)
and sibling files ``<stem>-<key>.md``: in the same folder, so every relative link in the text stays right
wherever it lands. A part's key is a digest of the line it starts with, and no part says where it stands
among the others ("part k of n"): a part that appears or goes earlier on the page changes no later part
nor any link into one. A part starts where the Markdown allows it: at a heading, a list
item, a table row or after a blank line, never inside an HTML block that is not Markdown. A part that
starts inside a section repeats the section's headings ("(continued)", without their ids), a table's
header and the ``<div markdown="1">`` boxes around it, and closes those boxes at its end. Every part
links to the previous and the next one and to the index of the parts at the end of the first.

Where a part ends is decided by the text around the cut, not by a count of bytes from the start of the
page (content-defined cutting, as rsync and backup tools cut files into blocks): a place a part may end
is taken when a hash of the lines before it falls under a threshold that grows with their size, so that
parts are about an eighth of the limit on average (``limit // TARGET_SHARE``), none shorter than a
thirty-second unless the page ends, and one that grows to the limit ends at the last place it may. A
statement made longer or shorter changes the part that holds it (and, rarely, the one after), not
every later part: a rebuild renders a few parts of a long list again, not all of them from the edit on.

Pure functions of text: the pages module decides what is split and keeps where each anchor went.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Ids a page defines: attribute lists (``{: #id }``) and raw HTML (``id="..."``).
_IDS = re.compile(r"\{:[^}\n]*?#([A-Za-z0-9_.:-]+)|\bid=\"([^\"]+)\"")
_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_HEADING_LINES = re.compile(r"^(#{1,6}) (.*)$", re.MULTILINE)
_ATTR_LIST = re.compile(r"\s*\{:[^}\n]*\}\s*$")
_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\([^)\s]*\)")
_LIST_ITEM = re.compile(r"^(?:[-+*]|\d+\.) ")
# Links to an anchor of the same page, as Markdown and as raw HTML: two expressions, each starting with
# text the regular expression engine searches for quickly (one with both took a third of a second to go
# through the disagreements page at 10,000 claims); no match of one can overlap a match of the other.
_SAME_PAGE = (
    re.compile(r"(\]\()#([A-Za-z0-9_.:-]+)(?=[)\"])"),
    re.compile(r"(href=\")#([A-Za-z0-9_.:-]+)(?=[)\"])"),
)
PARTS_ANCHOR = "kb-parts"
# Room kept on every part for its navigation lines, the boxes and headings it reopens and closes.
_RESERVE = 6_000
# ... and on the first part, per part, for its line in the index of parts.
_INDEX_LINE = 400
_LABEL = 120
# Parts are about ``limit // TARGET_SHARE`` bytes on average: a page of parts costs little more to build
# than the same page whole, and a change to it renders one of these parts again, not a whole page.
TARGET_SHARE = 8
# No part (but the last) is shorter than ``limit // MINIMUM_SHARE``.
MINIMUM_SHARE = 32
_HASH_RANGE = 1 << 64


def part_path(page: str, key: str) -> str:
    """The docs file of the part of ``page`` named ``key`` (the first part is the page itself)."""
    return f"{page[: -len('.md')]}-{key}.md"


def _part_paths(page: str, body: str, starts: list[_Start]) -> list[str]:
    """The docs files of the parts: the page itself, then each later part named after the line it starts
    with (its links and ids, or its text and first link or id) and what it repeats there (a digest), never
    after its place among the parts, so that a part that
    appears or goes before it does not rename it (nor every link into it); a name already taken (parts
    starting alike) gets ``-2``, ``-3``... in order."""
    paths = [page]
    taken: set[str] = {page}
    for k, start in enumerate(starts[1:], 1):
        end = body.find("\n", start.offset)
        line = body[start.offset : end if end >= 0 else len(body)]
        # by what the line links to and the ids it defines, where it has any (a statement edited in it does
        # not rename the part, nor the parts beside it that link to it), else by its text and the first
        # link or id of the part (a part often starts with a line such as '<div class="kb-versus">')
        marks = "\t".join(_marks(line))
        if not marks:
            first = _MARKS.search(body, start.offset, _part_end(starts, k, len(body)))
            marks = f"{line}\n{first.group(0) if first else ''}"
        key = hashlib.blake2b(f"{start.opening}\n{marks}".encode("utf-8", "surrogatepass"), digest_size=4)
        path = part_path(page, key.hexdigest())
        n = 1
        while path in taken:
            n += 1
            path = part_path(page, f"{key.hexdigest()}-{n}")
        taken.add(path)
        paths.append(path)
    return paths


@dataclass
class Split:
    parts: dict[str, str]  # part path -> text, the page itself first
    anchors: dict[str, str] = field(default_factory=dict)  # id -> part path, for ids off the first part
    # where the parts start and what a later split of the page's next text needs to cut only what changed
    memo: dict[str, Any] | None = None


@dataclass(slots=True)
class _Line:
    text: str
    size: int
    breakable: bool
    context: tuple[tuple[str, ...], ...] = ()  # open boxes and headings before this line
    table: str = ""  # the header of the table this line is a row of
    state: tuple | None = None  # where a part may start: the scan's state before this line


def _front_matter(text: str) -> tuple[str, str]:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            return text[: end + 5], text[end + 5 :]
    return "", text


def _retitle(front: str, suffix: str) -> str:
    """The front matter with ``suffix`` after the title (a JSON string, kept one)."""
    out = []
    for line in front.split("\n"):
        if line.startswith("title: "):
            try:
                title = json.loads(line[len("title: ") :])
            except ValueError:
                title = None
            if isinstance(title, str):
                line = "title: " + json.dumps(title + suffix, ensure_ascii=False)
        out.append(line)
    return "\n".join(out)


def _plain_heading(text: str) -> str:
    """A heading's text without its attribute list."""
    return _ATTR_LIST.sub("", text).rstrip()


def label(text: str) -> str:
    """A heading as a short line of Markdown for the index of parts: links reduced to their text, cut at a
    space (so that no escape or entity is cut in half)."""
    plain = _LINK.sub(lambda m: m.group(1), _plain_heading(text)).strip()
    if len(plain) > _LABEL:
        cut = plain.rfind(" ", 0, _LABEL)
        plain = (plain[:cut] if cut > 0 else plain[:_LABEL]).rstrip("\\") + " \u2026"
    return plain


# What the scan of a page knows before a line: the open boxes and headings, the head of a raw HTML
# table being read, the current Markdown table and its rows so far, whether the line before was blank.
_START: tuple = ((), None, "", 0, True)


def _scan_lines(lines: Iterable[str], link_room: int, state: tuple) -> Iterator[_Line]:
    """Each line with where a part may start and what it would repeat there; a line's size counts
    ``link_room`` more bytes for each link to an anchor of the page (which may come to name another part).
    ``state``: the scan's state before the first line (``_START`` at the top of a page); a line where a
    part may start carries the state before it, from which a later build may resume the scan.

    (A hot loop over every line of the longest pages: the regular expressions run only on lines whose
    first character allows a match.)"""
    saved_context, saved_head, table, table_rows, previous_blank = state
    # ("div", line), ("h", level, text) or ("table", its head)
    context: list[tuple[str, ...]] = list(saved_context)
    head: list[str] | None = None if saved_head is None else list(saved_head)  # a raw HTML table's head lines
    raw = 0  # depth of HTML blocks that are not Markdown: no cut inside them (none where a part starts)
    heading_match, list_match = _HEADING.match, _LIST_ITEM.match
    for text in lines:
        before = (table, table_rows, previous_blank)
        stripped = text.strip()
        first = text[:1]
        if stripped[:1] == "|":
            table_rows += 1
            if table_rows == 1:
                table = text
            elif table_rows == 2:
                table += "\n" + text
        elif table_rows:
            table, table_rows = "", 0
        heading = heading_match(text) if first == "#" and not raw else None
        popped_from = None  # the context before a heading closed sections
        if heading:  # a heading ends the sections of its level and below
            level = len(heading.group(1))
            if context and context[-1][0] == "h" and int(context[-1][1]) >= level:
                popped_from = tuple(context)
                while context and context[-1][0] == "h" and int(context[-1][1]) >= level:
                    context.pop()
        breakable = not raw and bool(
            heading
            or (table_rows > 2)
            or (head is None and stripped.startswith("<tr>") and context and context[-1][0] == "table")
            or (stripped and previous_blank)
            or (first and (first in "-+*" or first.isdigit()) and list_match(text) and not table_rows)
        )
        size = (len(text) if text.isascii() else len(text.encode("utf-8"))) + 1
        if "](#" in text:
            size += link_room * text.count("](#")
        if breakable:
            now = tuple(context)
            opened = now if popped_from is None else popped_from
            line = _Line(
                text, size, True, now, table if table_rows > 2 else "",
                (opened, None if head is None else tuple(head), *before),
            )  # fmt: skip
        else:
            line = _Line(text, size, False, (), table if table_rows > 2 else "")
        yield line
        if head is not None:  # the head of a raw HTML table, up to its body
            head.append(text)
            if stripped == "<tbody>":
                context.append(("table", "\n".join(head)))
                head = None
        elif stripped == "<table>":
            head = [text]
        elif stripped == "</table>" and context and context[-1][0] == "table":
            context.pop()
        elif raw:
            if stripped.startswith("<div") and "</div>" not in stripped:
                raw += 1
            elif stripped.startswith("</div>"):
                raw -= 1
        elif stripped.startswith("<div") and "</div>" not in stripped:
            if 'markdown="1"' in stripped:
                context.append(("div", text))
            else:
                raw = 1
        elif stripped.startswith("</div>"):
            while context:
                if context.pop()[0] == "div":
                    break
        elif heading:
            context.append(("h", str(level), heading.group(2)))
        previous_blank = not stripped


def _opening(line: _Line) -> str:
    """What a part that starts at ``line`` repeats: the boxes and headings it is inside, a table's header."""
    out = []
    for entry in line.context:
        if entry[0] == "div":
            out.append(entry[1] + "\n\n")
        elif entry[0] == "table":
            out.append(entry[1] + "\n")
        elif entry[1] != "1":  # the page's title: each part has its own
            out.append(f"{'#' * int(entry[1])} {_plain_heading(entry[2])} (continued)\n\n")
    if line.table:
        out.append(line.table + "\n")
    return "".join(out)


def _closing(line: _Line) -> str:
    """What a part that ends before ``line`` closes: the boxes ``line`` is inside."""
    closing = {"div": "\n</div>\n", "table": "</tbody>\n</table>\n"}
    return "".join(closing[entry[0]] for entry in reversed(line.context) if entry[0] in closing)


def _ids(text: str) -> list[str]:
    """The ids ``text`` defines, as ``_IDS.findall`` finds them, but trying the expression only where a
    match can start (an attribute list's ``{:`` or an ``id="``): megabytes of a long page at once."""
    starts = _find_all(text, "{:")
    more = _find_all(text, 'id="')
    if more:
        starts = sorted(starts + more)
    out = []
    end = 0
    match = _IDS.match
    for position in starts:
        if position < end:
            continue
        found = match(text, position)
        if found:
            out.append(found.group(1) or found.group(2))
            end = found.end()
    return out


def _find_all(text: str, needle: str) -> list[int]:
    out = []
    find = text.find
    at = find(needle)
    while at >= 0:
        out.append(at)
        at = find(needle, at + 1)
    return out


# What a line links to and the ids it defines: a line with any is hashed by them alone.
_MARKS = re.compile(r"\]\(([^)\s]*)\)|href=\"([^\"]*)\"|\{:[^}\n]*?#([A-Za-z0-9_.:-]+)|\bid=\"([^\"]+)\"")


def _marks(text: str) -> list[str]:
    return [a or b or c or d for a, b, c, d in _MARKS.findall(text)]


def _hash(marks: str, since: int) -> int:
    """A hash in [0, 2**64) of links and ids and a count, the same in every process (not ``hash``)."""
    data = f"{since}\t{marks}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _lines_from(body: str, offset: int) -> Iterator[str]:
    """The lines of ``body`` from ``offset`` (a line's start) on, one at a time."""
    find = body.find
    while True:
        end = find("\n", offset)
        if end < 0:
            yield body[offset:]
            return
        yield body[offset:end]
        offset = end + 1


@dataclass(slots=True)
class _Start:
    """Where a part starts: the offset of its first line in the page's body, what the part repeats there
    and what the part before it closes, the innermost heading the line is inside (the part's label if it
    has no heading of its own), the scan's and the cutting's state there (``None`` where a part was cut
    short by its budget: no later build resumes there) and a digest of the part's text (once known)."""

    offset: int
    opening: str
    closing: str
    heading: str | None
    state: tuple | None
    digest: str | None = None
    line: str | None = None  # a digest of the part's first line (once known)


def _inner_heading(line: _Line) -> str | None:
    return next((entry[2] for entry in reversed(line.context) if entry[0] == "h"), None)


def _start_at(line: _Line, offset: int, state: tuple | None) -> _Start:
    return _Start(offset, _opening(line), _closing(line), _inner_heading(line), state)


def _budgets(total: int, limit: int, front: int) -> tuple[int, float, int, int]:
    """The minimum size of a part, the hash's scale, a part's budget and the first part's."""
    reserve = min(_RESERVE, limit // 8)
    target = max(1, limit // TARGET_SHARE)
    minimum = max(1, limit // MINIMUM_SHARE)
    scale = _HASH_RANGE / max(1, target - minimum)
    budget = max(1_000, limit - reserve - front)
    # the first part also holds the index of the parts: room for a line for each part it may have
    estimate = 2 * (total // target) + 2
    first_budget = max(minimum, min(budget, limit - reserve - _INDEX_LINE * estimate - front))
    return minimum, scale, budget, first_budget


def _cuts(
    lines: Iterable[_Line],
    starts: list[_Start],
    budgets: tuple[int, float, int, int],
    seen: str = "",
    since: int = 0,
    resync: Callable[[_Start], tuple[list[_Start], bool] | None] | None = None,
) -> tuple[list[_Start], bool]:
    """Where the parts start: ``starts`` (the first at the first of ``lines``), then the rest.

    A part ends before a line where it may end (``breakable``) when it holds at least the minimum and a
    hash of what comes before, ``h`` in [0, 1), is under ``gap / (target - minimum)`` (``gap``: the size
    of the text since the last place a part may end): the chance of a cut grows with the bytes passed,
    whatever the size of the lines. What is hashed is the links and ids of that text, or, when it has
    none, the last links and ids before it and how many places a part may end came since (``seen`` and
    ``since``, carried from part to part): never the words, so that a claim's statement, which the long
    lists repeat on many lines, does not decide whether they end a part (and so how many parts there
    are, which every part says, and which part each later anchor is on, which the pages linking to it say).
    A part that would grow over its budget ends at the last place it may, as a greedy cut would; the
    next natural cut puts the parts back in step with those of the same text cut before.

    ``resync``, given each part started by a natural cut, may return the starts that follow (those of the
    same text cut before, the parts from that place on being the same text) and whether they reach the end
    of the page: the cutting ends there, and the caller scans again from the last of them if they do not.
    Returns the starts and whether that is needed."""
    minimum, scale, budget, first_budget = budgets
    offset = starts[-1].offset
    size = len(starts[-1].opening.encode("utf-8")) if len(starts) > 1 else 0
    gap = 0  # bytes since the last place a part may end
    marks: list[str] = []  # the links and ids since that place
    last: tuple[_Line, int] | None = None  # the last place the part may end, and its offset
    run = 0  # the size of the lines from that place on
    for line in lines:
        if line.breakable and offset > starts[-1].offset:
            if marks:
                seen, since = "\t".join(marks), 0
            else:
                since += 1
            if size >= minimum and _hash(seen, since) < gap * scale:
                start = _start_at(line, offset, (line.state, seen, since))
                starts.append(start)
                skipped = resync(start) if resync is not None else None
                if skipped is not None:
                    rest, finished = skipped
                    starts.extend(rest)
                    return starts, not finished
                size = len(start.opening.encode("utf-8"))
                last = None
            else:
                last, run = (line, offset), 0
            gap = 0
            marks = []
        text = line.text
        if "](" in text or 'href="' in text or "{:" in text or 'id="' in text:
            marks.extend(_marks(text))
        size += line.size
        gap += line.size
        run += line.size
        if (
            size > (first_budget if len(starts) == 1 else budget)
            and last is not None
            and last[1] > starts[-1].offset
        ):
            start = _start_at(last[0], last[1], None)
            starts.append(start)
            size = len(start.opening.encode("utf-8")) + run
            last = None
            if offset > start.offset and line.breakable:
                last, run = (line, offset), line.size
        offset += len(text) + 1
    return starts, False


def _part_end(starts: list[_Start], k: int, length: int) -> int:
    """Where part ``k``'s text ends in the body, the newline before the next part included."""
    return starts[k + 1].offset if k + 1 < len(starts) else length


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _state_of(value: Any) -> tuple:
    """A resumable state as a memo gives it back (lists for tuples)."""
    (context, head, table, rows, blank), seen, since = value
    context = tuple(tuple(str(x) for x in entry) for entry in context)
    head = None if head is None else tuple(str(x) for x in head)
    return (context, head, str(table), int(rows), bool(blank)), str(seen), int(since)


def _memo_starts(memo: Any, settings: list[Any]) -> tuple[list[_Start], int] | None:
    """The starts and body length a memo of an earlier split holds, if it was made with these settings."""
    if not isinstance(memo, dict) or memo.get("settings") != settings:
        return None
    try:
        length = int(memo["length"])
        starts = []
        for offset, opening, closing, heading, state, digest, line in memo["starts"]:
            parsed = None if state is None else _state_of(state)
            starts.append(
                _Start(
                    int(offset),
                    str(opening),
                    str(closing),
                    None if heading is None else str(heading),
                    parsed,
                    str(digest),
                    str(line),
                )
            )
    except (KeyError, TypeError, ValueError):
        return None
    if (
        not starts
        or starts[0].offset != 0
        or any(a.offset >= b.offset for a, b in zip(starts, starts[1:], strict=False))
    ):
        return None
    if starts[-1].offset > length:
        return None
    return starts, length


def _first_line(body: str, offset: int) -> str:
    end = body.find("\n", offset)
    return _digest(body[offset : end if end >= 0 else len(body)])


def _plan(
    body: str, link_room: int, budgets: tuple[int, float, int, int], settings: list[Any], memo: Any
) -> list[_Start]:
    """The starts of the parts of ``body``: cut from the top, or, with the memo of an earlier split, from the
    last start before the first part that changed, skipping the stretches of parts that did not change.

    A part that starts where a part of the earlier text started, in the same state of the scan, with the
    same text and followed by the same line where the next part started by a natural cut, ends where it
    ended: the scan would make the same choices over the same text. So wherever the scan cuts a part
    that is one of the earlier parts, those parts are taken as they were, up to the next one whose text
    changed, and the scan goes on from there. An edit scattered over a long page (a claim whose verdicts
    show in disputes all over the disagreements page) is cut again only around its changes."""
    found = _memo_starts(memo, settings) if memo is not None else None
    if found is None:
        starts, _ = _cuts(
            _scan_lines(body.split("\n"), link_room, _START), [_Start(0, "", "", None, None)], budgets
        )
        return starts
    old, old_length = found
    # the first part whose text changed (the parts before it are the same text at the same place)
    changed = 0
    while changed < len(old):
        end = _part_end(old, changed, old_length)
        if end > len(body) or _digest(body[old[changed].offset : end]) != old[changed].digest:
            break
        changed += 1
    if changed == len(old) and len(body) == old_length:
        return old
    # the earlier parts by where the scan stood at their start: the first part and those cut short by
    # their budget (no state) are never taken as they were
    by_state: dict[tuple, list[int]] = {}
    for k in range(1, len(old)):
        if old[k].state is not None:
            by_state.setdefault(old[k].state, []).append(k)  # type: ignore[arg-type]

    def same_part(start: _Start) -> int | None:
        """The earlier part that the part starting at ``start`` is, if it is one."""
        for k in by_state.get(start.state, ()):  # type: ignore[arg-type]
            size = _part_end(old, k, old_length) - old[k].offset
            end = start.offset + size
            if k + 1 == len(old) and end != len(body):
                continue
            if end <= len(body) and _digest(body[start.offset : end]) == old[k].digest:
                return k
        return None

    def resync(start: _Start) -> tuple[list[_Start], bool] | None:
        k = same_part(start)
        if k is None:
            return None
        rest: list[_Start] = []
        here = start
        while True:
            # ``here`` is part k as it was; the next part starts where it did if it started by a natural
            # cut at the same line (else the scan goes on from ``here``)
            here.digest, here.line = old[k].digest, old[k].line
            if k + 1 == len(old):
                return rest, True
            after = here.offset + (old[k + 1].offset - old[k].offset)
            following = old[k + 1]
            if following.state is None or _first_line(body, after) != following.line:
                if here is start:
                    start.digest = start.line = None
                    return None
                here.digest = here.line = None
                return rest, False
            here = _Start(after, following.opening, following.closing, following.heading, following.state)
            rest.append(here)
            end = _part_end(old, k + 1, old_length) - old[k + 1].offset + after
            if (k + 2 == len(old) and end != len(body)) or _digest(body[after:end]) != following.digest:
                return rest, False  # this part changed: cut again from its start
            k += 1

    resume = max((k for k in range(1, changed) if old[k].state is not None), default=0)
    if resume == 0:
        lines = _scan_lines(body.split("\n"), link_room, _START)
        starts, again = _cuts(lines, [_Start(0, "", "", None, None)], budgets, resync=resync)
    else:
        at = old[resume]  # where its part ends may move (a cut forced further on): digested again
        starts = [*old[:resume], _Start(at.offset, at.opening, at.closing, at.heading, at.state)]
        again = True
    while again:
        last = starts[-1]
        scan_state, seen, since = last.state  # type: ignore[misc]
        lines = _scan_lines(_lines_from(body, last.offset), link_room, scan_state)
        starts, again = _cuts(lines, starts, budgets, seen, since, resync)
    return starts


def _html_href(here: str, there: str) -> str:
    """A raw HTML link from one part to another (siblings) as the generator without directory URLs has it."""
    return posixpath.basename(there)[: -len(".md")] + ".html"


def split(
    page: str,
    text: str,
    limit: int,
    memo: Any = None,
    html_href: Callable[[str, str], str] = _html_href,
) -> Split:
    """``text`` as one part if it fits in ``limit`` bytes, else as parts of at most about ``limit`` bytes
    (a stretch of Markdown that cannot be cut, such as one big picture, may make a part bigger).

    ``memo``: the ``memo`` of the split of an earlier text of the page: the parts of the text that did not
    change are not cut again (the same parts as without it). ``html_href(here, there)``: the href of a raw
    HTML link from part ``here`` to part ``there`` (the generator rewrites Markdown links to ``.md`` files,
    not raw HTML)."""
    if len(text.encode("utf-8")) <= limit:
        return Split({page: text})
    front, body = _front_matter(text)
    link_room = len(posixpath.basename(page)) + 6
    front_size = len(front.encode("utf-8"))
    total = len(body.encode("utf-8")) + 1 + link_room * body.count("](#")  # the lines' sizes, summed
    budgets = _budgets(total, limit, front_size)
    settings = [limit, link_room, budgets[2], budgets[3]]
    starts = _plan(body, link_room, budgets, settings, memo)
    for k, start in enumerate(starts):
        if start.digest is None:
            start.digest = _digest(body[start.offset : _part_end(starts, k, len(body))])
        if start.line is None:
            start.line = _first_line(body, start.offset)
    new_memo = {
        "settings": settings,
        "length": len(body),
        "starts": [[s.offset, s.opening, s.closing, s.heading, s.state, s.digest, s.line] for s in starts],
    }
    if len(starts) == 1:
        return Split({page: text}, memo=new_memo)

    n = len(starts)
    paths = _part_paths(page, body, starts)
    first_line = next((line for line in _lines_from(body, 0) if line.strip()), "")
    heading1 = first_line if first_line.startswith("# ") else ""
    bodies: list[str] = []
    labels: list[str] = []
    anchors: dict[str, str] = {}
    for k, start in enumerate(starts):
        end = starts[k + 1].offset - 1 if k + 1 < n else len(body)
        chunk = body[start.offset : end]
        first = next((m for m in _HEADING_LINES.finditer(chunk) if m.group(0) != heading1), None)
        if first is not None:
            labels.append(label(first.group(2)))
        elif start.heading is not None:
            labels.append(label(start.heading))
        else:
            labels.append(f"part {k + 1}")
        if k:
            chunk = start.opening + chunk
        if k + 1 < n:
            chunk += "\n" + starts[k + 1].closing
        bodies.append(chunk)
        if k:
            for anchor in _ids(chunk):
                anchors.setdefault(anchor, paths[k])
    del body

    def nav(k: int) -> str:
        # no "part k of n": a part that appears or goes before this one would change every later part
        items: list[str] = []
        if k:
            items.append(f"[\u2190 previous]({posixpath.basename(paths[k - 1])})")
        if k + 1 < n:
            items.append(f"[next \u2192]({posixpath.basename(paths[k + 1])})")
        items.append(f"[all parts]({posixpath.basename(paths[0])}#{PARTS_ANCHOR})")
        return " \u00b7 ".join(items) + "\n{: .kb-parts-nav }\n"

    parts: dict[str, str] = {}
    for k in range(n):
        chunk, bodies[k] = bodies[k], ""
        here = paths[k]

        def local(m: re.Match[str], here: str = here) -> str:
            target = anchors.get(m.group(2), paths[0])
            if target == here:
                return m.group(0)
            if m.group(1) == 'href="':
                return f"{m.group(1)}{html_href(here, target)}#{m.group(2)}"
            return f"{m.group(1)}{posixpath.basename(target)}#{m.group(2)}"

        for same_page in _SAME_PAGE:
            chunk = same_page.sub(local, chunk)
        if k == 0:
            rest = chunk.lstrip("\n")
            rest = rest[len(heading1) :] if heading1 and rest.startswith(heading1) else chunk
            index = "\n".join(
                f"{j + 1}. [{labels[j]}]({posixpath.basename(paths[j])})" + (" (this page)" if j == 0 else "")
                for j in range(n)
            )
            out = (
                front
                + (heading1 + "\n\n" if heading1 else "")
                + nav(0)
                + rest
                + f"\n\n## All parts {{: #{PARTS_ANCHOR} }}\n\n"
                + f"This page is long, so it is cut into {n} parts:\n\n"
                + index
                + "\n\n"
                + nav(0)
            )
        else:
            title = f"{heading1} (continued)\n\n" if heading1 else ""
            out = _retitle(front, " (continued)") + title + nav(k) + "\n" + chunk + "\n\n" + nav(k)
        parts[here] = out
    return Split(parts, anchors, new_memo)
