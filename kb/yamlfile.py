"""Parse one YAML file into plain data plus the line and column of every value.

Only the safe subset of YAML is accepted: PyYAML's C composer builds the node
tree (no Python object is ever constructed from a tag) and this module turns
nodes into dicts, lists and scalars itself, recording where each came from.
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

_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"


def _unsupported(node: yaml.Node) -> YamlError:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    return YamlError(f"unsupported YAML tag {tag}; kb files hold plain data only", *_pos(node))


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


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self) -> None:
        self.constructor = yaml.constructor.SafeConstructor()
        self.seen: set[int] = set()
        self.located = Located(None)

    def build(self, node: yaml.Node, path: Path) -> Any:
        if id(node) in self.seen:
            # The composer shares the node of an anchor with every alias to it.
            line, col = _pos(node)
            raise YamlError("YAML anchors and aliases are not allowed in kb files", line, col)
        self.seen.add(id(node))
        self.located.where[path] = _pos(node)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                raise _unsupported(node)
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlError("mapping keys must be plain names", *_pos(key_node))
                key = str(self.scalar(key_node))
                if key in result:
                    raise YamlError(f"duplicate key {key!r}", *_pos(key_node))
                self.located.keys[path + (key,)] = _pos(key_node)
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise _unsupported(node)
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SAFE_SCALAR_TAGS:
            raise _unsupported(node)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise YamlError(f"bad value {node.value!r}: {exc}", *_pos(node)) from None


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
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlError(f"YAML syntax error: {exc.problem or exc.context}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        return Located(None)
    builder = _Builder()
    builder.located.data = builder.build(node, ())
    return builder.located
