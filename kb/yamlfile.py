"""Parse one YAML file into plain data plus the line and column of every value.

Only the safe subset of YAML is accepted: PyYAML's C parser and composer read
the text and this module turns the result into dicts, lists and scalars itself
(no Python object is ever constructed from a tag), recording where each value
came from.
Anchors and aliases are refused: claim files have no use for them, and
refusing them is what makes an alias-expansion bomb fail at once instead of
exhausting memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from kb.files import excerpt

try:  # the C composer is much faster; fall back so kb still runs without libyaml
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# Tags of plain scalars already resolved, by (text, implicit flags): a knowledge base repeats its
# keys and values (source, stance, supports, a source id...) thousands of times.
_RESOLVED: dict[tuple[str, Any], str] = {}
_RESOLVED_MAX = 100_000
_RESOLVED_TEXT = 100


class _KbLoader(_Loader):  # type: ignore[misc,valid-type]
    """The safe loader, resolving each scalar's tag as it does but remembering short plain ones.

    Resolution depends on the text and its implicit flags only (the safe loader has no path
    resolvers); a quoted scalar is text without looking at it."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and not self.yaml_path_resolvers:
            if not implicit[0]:
                return self.DEFAULT_SCALAR_TAG
            if len(value) <= _RESOLVED_TEXT:
                key = (value, implicit)
                tag = _RESOLVED.get(key)
                if tag is None:
                    tag = super().resolve(kind, value, implicit)
                    if len(_RESOLVED) < _RESOLVED_MAX:
                        _RESOLVED[key] = tag
                return tag
        return super().resolve(kind, value, implicit)


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
_STR_TAG = "tag:yaml.org,2002:str"


def _unsupported(tag: str, event: Any) -> YamlError:
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
    # From the composer's path: the node tree, searched only when a position is
    # asked for (rarely: only for errors), so valid files pay nothing for positions.
    root: yaml.Node | None = None
    # Data taken from the load cache keeps its text, parsed again only if a position is needed.
    text: str | None = None
    # Or the bytes of its file, decoded then (a file kb read and decoded before, with these bytes).
    raw: bytes | None = None
    # Or what reads those bytes again (None if it cannot), for a file kept unchanged by its stat.
    reread: Callable[[], bytes | None] | None = None

    def _parsed_again(self) -> None:
        if self.root is not None or self.where:
            return
        if self.text is None and self.raw is None and self.reread is not None:
            self.raw = self.reread()
        if self.text is None and self.raw is not None:
            self.text = decode(self.raw)
        if self.text is not None:
            again = parse(self.text)
            self.root, self.where, self.keys = again.root, again.where, again.keys

    def top_level_keys(self) -> dict[str, tuple[int, int]]:
        """The position of each key of the top-level mapping."""
        self._parsed_again()
        if self.root is None:
            return {p[0]: pos for p, pos in self.keys.items() if len(p) == 1 and isinstance(p[0], str)}
        if not isinstance(self.root, yaml.MappingNode):
            return {}
        return {k.value: _pos(k) for k, _ in self.root.value if isinstance(k, yaml.ScalarNode)}

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """The position of ``path``, or of its nearest located ancestor."""
        self._parsed_again()
        if self.root is not None:
            return self._node_position(path, key)
        table = self.keys if key else self.where
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if not key and p in self.keys:
                return self.keys[p]
            p = p[:-1]
        return self.where.get((), (1, 1))

    def _node_position(self, path: Path, key: bool) -> tuple[int, int]:
        node = self.root
        best = _pos(node)
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                pair = next((kv for kv in node.value if getattr(kv[0], "value", None) == str(part)), None)
                if pair is None:
                    return best
                if last and key:
                    return _pos(pair[0])
                node = pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                return best
            best = _pos(node)
        return best


class YamlError(Exception):
    """A file that is not acceptable YAML; carries a 1-based position."""

    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


def _pos(item: Any) -> tuple[int, int]:
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
        get_event, scalar, start, end = self.loader.get_event, self.scalar, self.start, self.end
        # dispatch on the exact event class: this loop runs once per YAML token
        handlers = {
            yaml.ScalarEvent: scalar,
            yaml.MappingStartEvent: start,
            yaml.SequenceStartEvent: start,
            yaml.MappingEndEvent: end,
            yaml.SequenceEndEvent: end,
            yaml.DocumentStartEvent: self.document,
            yaml.AliasEvent: self.alias,
        }
        while self.loader.check_event():
            event = get_event()
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
        return self.located

    def alias(self, event: yaml.AliasEvent) -> None:
        raise YamlError("YAML anchors and aliases are not allowed in kb files", *_pos(event))

    def document(self, event: yaml.DocumentStartEvent) -> None:
        self.documents += 1
        if self.documents > 1:
            raise YamlError("a kb file holds one YAML document; remove the extra '---'", *_pos(event))

    def end(self, event: yaml.CollectionEndEvent) -> None:
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
        if tag is None and event.style:
            tag = _STR_TAG  # quoted or block scalars without a tag are always text
        elif tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR_TAG:
            value: Any = event.value
        else:
            if tag == "tag:yaml.org,2002:merge":
                raise YamlError("YAML merge keys ('<<') are not allowed in kb files", *_pos(event))
            if tag not in _SAFE_SCALAR_TAGS:
                raise _unsupported(tag, event)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            try:
                value = self.constructor.construct_object(node)
            except (yaml.YAMLError, ValueError, OverflowError) as exc:
                raise YamlError(f"bad value {excerpt(event.value)}: {exc}", *_pos(event)) from None
        path = self.value_path(event)
        if path is None:  # a mapping key
            top = self.stack[-1]
            key = str(value)
            if key in top.data:
                raise YamlError(f"duplicate key {excerpt(key)}", *_pos(event))
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


def _scalar_value(constructor: Any, node: yaml.ScalarNode) -> Any:
    """The value of a composed scalar node whose tag is already resolved."""
    tag = node.tag
    if tag == _STR_TAG:
        return node.value
    if tag == "tag:yaml.org,2002:merge":
        raise YamlError("YAML merge keys ('<<') are not allowed in kb files", *_pos(node))
    if tag not in _SAFE_SCALAR_TAGS:
        raise _unsupported(tag, node)
    try:
        return constructor.construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise YamlError(f"bad value {excerpt(node.value)}: {exc}", *_pos(node)) from None


def _from_nodes(root: yaml.Node) -> Located:
    """Plain data from the C composer's node tree, walked with an explicit stack.

    The composer shares one node between an anchor and its aliases, so a node met
    twice is an alias: refused before anything is expanded.
    """
    constructor = yaml.constructor.SafeConstructor()
    seen: set[int] = set()
    holder: list[Any] = [None]
    # (node, depth, container to put the value in, key or index there)
    todo: list[tuple[yaml.Node, int, Any, Any]] = [(root, 0, holder, 0)]
    while todo:
        node, depth, parent, slot = todo.pop()
        if id(node) in seen:
            raise YamlError("YAML anchors and aliases are not allowed in kb files", *_pos(node))
        seen.add(id(node))
        kind = type(node)
        if kind is yaml.ScalarNode:
            parent[slot] = node.value if node.tag == _STR_TAG else _scalar_value(constructor, node)
            continue
        if depth >= MAX_DEPTH:
            raise YamlError(f"data nested more than {MAX_DEPTH} levels deep", *_pos(node))
        if kind is yaml.MappingNode:
            if node.tag != _MAP_TAG:
                raise _unsupported(node.tag, node)
            mapping: dict[str, Any] = {}
            parent[slot] = mapping
            for key_node, value_node in node.value:
                if type(key_node) is not yaml.ScalarNode:
                    raise YamlError("mapping keys must be plain names", *_pos(key_node))
                key = str(_scalar_value(constructor, key_node))
                if key in mapping:
                    raise YamlError(f"duplicate key {excerpt(key)}", *_pos(key_node))
                mapping[key] = None  # keeps the file's key order
                todo.append((value_node, depth + 1, mapping, key))
        else:
            if node.tag != _SEQ_TAG:
                raise _unsupported(node.tag, node)
            items: list[Any] = [None] * len(node.value)
            parent[slot] = items
            todo.extend((item, depth + 1, items, i) for i, item in enumerate(node.value))
    return Located(holder[0], root=root)


# Every level of nesting needs one of these characters, so their count bounds the depth.
_NESTING_INDICATORS = "[{-:?"
# Below this bound the C composer's recursion is safe; above it, the event reader is used.
FAST_PATH_MAX_INDICATORS = 2_000


def decode(raw: bytes) -> str:
    """UTF-8 text with an optional byte-order mark; CRLF line ends become LF."""
    text = raw.decode("utf-8-sig")
    return text.replace("\r\n", "\n")


def parse(text: str) -> Located:
    """Parse YAML text; raise ``YamlError`` with a position for anything unacceptable."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise YamlError(f"file is larger than {MAX_YAML_BYTES // 1000} kB; kb files are small")
    fast = sum(text.count(ch) for ch in _NESTING_INDICATORS) <= FAST_PATH_MAX_INDICATORS
    loader = _KbLoader(text)
    try:
        if fast:
            node = loader.get_single_node()
            return Located(None) if node is None else _from_nodes(node)
        return _Builder(loader).run()
    except yaml.MarkedYAMLError as exc:
        if exc.context == "expected a single document in the stream" and exc.problem_mark:
            mark = exc.problem_mark
            message = "a kb file holds one YAML document; remove the extra '---'"
            raise YamlError(message, mark.line + 1, mark.column + 1) from None
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if "maximum nesting depth" in str(exc.problem):
            # newer libyaml scans ahead and stops deep nesting before the event reader sees it;
            # say it the way the event reader does, so the message does not depend on the version
            raise YamlError(f"data nested more than {MAX_DEPTH} levels deep", line, col) from None
        raise YamlError(f"YAML syntax error: {exc.problem or exc.context}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {exc}") from None
    finally:
        loader.dispose()
