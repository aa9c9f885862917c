"""Parse one YAML file into plain data plus the line and column of every value.

Only the safe subset of YAML is accepted: PyYAML's C parser produces events and
this module turns them into dicts, lists and scalars itself (no Python object is
ever constructed from a tag), recording where each value came from.
Anchors and aliases are refused: claim files have no use for them, and
refusing them is what makes an alias-expansion bomb fail at once instead of
exhausting memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # the C composer is much faster; fall back so kb still runs without libyaml
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# Largest YAML file kb reads; a claim or source file is a few hundred bytes.
MAX_YAML_BYTES = 1_000_000
# Deepest nesting accepted; kb's format needs four levels, and recursion must stay bounded.
MAX_DEPTH = 32

_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"


def _unsupported(tag: str, event: yaml.Event) -> YamlError:
    tag = tag.replace("tag:yaml.org,2002:", "!!")
    return YamlError(f"unsupported YAML tag {tag}; kb files hold plain data only", *_pos(event))


_SEQ_TAG = "tag:yaml.org,2002:seq"

Path = tuple[str | int, ...]


@dataclass
class Located:
    """Parsed YAML data with a (line, col) for every value, keyed by its path in the data.

    Lines and columns are 1-based. ``keys`` holds the position of each mapping key,
    so that a message about an unknown field can point at the key itself.
    """

    data: Any
    where: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """The position of ``path``, or of its nearest located ancestor."""
        table = self.keys if key else self.where
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if not key and p in self.keys:
                return self.keys[p]
            p = p[:-1]
        return self.where.get((), (1, 1))


class YamlError(Exception):
    """A file that is not acceptable YAML; carries a 1-based position."""

    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


def _pos(item: yaml.Node | yaml.Event) -> tuple[int, int]:
    return item.start_mark.line + 1, item.start_mark.column + 1


@dataclass
class _Frame:
    """A mapping or sequence being built, with the key waiting for its value."""

    data: dict[str, Any] | list[Any]
    path: Path
    key: str | None = None


class _Builder:
    """Builds plain data from the parser's events with an explicit stack.

    Working from events instead of the composer's node tree keeps nesting depth
    bounded without recursion (the C composer recurses and can overflow the C
    stack on pathological input) and sees every alias before it is expanded.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.constructor = yaml.constructor.SafeConstructor()
        self.located = Located(None)
        self.stack: list[_Frame] = []
        self.documents = 0

    def run(self) -> Located:
        while self.loader.check_event():
            self.handle(self.loader.get_event())
        return self.located

    def handle(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.AliasEvent):
            raise YamlError("YAML anchors and aliases are not allowed in kb files", *_pos(event))
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise YamlError("a kb file holds one YAML document; remove the extra '---'", *_pos(event))
        elif isinstance(event, yaml.ScalarEvent):
            self.scalar(event)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self.start(event)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            self.place(frame.data, frame.path)

    def value_path(self, event: yaml.Event) -> Path | None:
        """The path of the value that ``event`` starts; ``None`` when it is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.data, list):
            return top.path + (len(top.data),)
        if top.key is None:
            return None
        return top.path + (top.key,)

    def start(self, event: yaml.CollectionStartEvent) -> None:
        path = self.value_path(event)
        if path is None:
            raise YamlError("mapping keys must be plain names", *_pos(event))
        if len(path) >= MAX_DEPTH:
            raise YamlError(f"data nested more than {MAX_DEPTH} levels deep", *_pos(event))
        mapping = isinstance(event, yaml.MappingStartEvent)
        expected = _MAP_TAG if mapping else _SEQ_TAG
        if event.tag not in (None, "!", expected):
            raise _unsupported(event.tag, event)
        self.located.where[path] = _pos(event)
        self.stack.append(_Frame({} if mapping else [], path))

    def scalar(self, event: yaml.ScalarEvent) -> None:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == "tag:yaml.org,2002:merge":
            raise YamlError("YAML merge keys ('<<') are not allowed in kb files", *_pos(event))
        if tag not in _SAFE_SCALAR_TAGS:
            raise _unsupported(tag, event)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise YamlError(f"bad value {event.value!r}: {exc}", *_pos(event)) from None
        path = self.value_path(event)
        if path is None:  # a mapping key
            top = self.stack[-1]
            key = str(value)
            if key in top.data:
                raise YamlError(f"duplicate key {key!r}", *_pos(event))
            top.key = key
            self.located.keys[top.path + (key,)] = _pos(event)
            return
        self.located.where[path] = _pos(event)
        self.place(value, path)

    def place(self, value: Any, path: Path) -> None:
        if not self.stack:
            self.located.data = value
            return
        top = self.stack[-1]
        if isinstance(top.data, list):
            top.data.append(value)
        else:
            assert top.key is not None
            top.data[top.key] = value
            top.key = None


def decode(raw: bytes) -> str:
    """UTF-8 text with an optional byte-order mark; CRLF line ends become LF."""
    text = raw.decode("utf-8-sig")
    return text.replace("\r\n", "\n")


def parse(text: str) -> Located:
    """Parse YAML text; raise ``YamlError`` with a position for anything unacceptable."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise YamlError(f"file is larger than {MAX_YAML_BYTES // 1000} kB; kb files are small")
    loader = _Loader(text)
    try:
        return _Builder(loader).run()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlError(f"YAML syntax error: {exc.problem or exc.context}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {exc}") from None
    finally:
        loader.dispose()
