"""Editing existing claim files in place: adding evidence, accepting drafts, linking claims.

People write comments and lay out their claim files as they like, so an edit here is
textual: the new evidence item or relation is inserted into the file's text where it
belongs (after the last item of the list, or in place of an empty ``[]``), with every
value quoted by PyYAML, and nothing else in the file changes. Before a file is replaced
(atomically), the edited text is parsed and validated again and must hold exactly the old
data plus the addition; a quote must be in its source's text before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kb import quotes, yamlfile, yamlhints
from kb.authoring import existing_claim_file, yaml_scalar
from kb.errors import KbError, UsageError
from kb.model import EVIDENCE_KINDS, STANCES, Claim, Evidence
from kb.output import write_atomic

RELATIONS = ("supports", "contradicts")
DEFAULT_DASH_INDENT = 2


@dataclass(frozen=True)
class ClaimFile:
    """A claim file's text and data, as read from disk."""

    path: Path
    text: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.path.stem


def _rel(kb_root: Path, path: Path) -> str:
    try:
        return path.relative_to(kb_root).as_posix()
    except ValueError:
        return str(path)


def _parse(path: Path, text: str, shown: str) -> dict[str, Any]:
    try:
        located = yamlfile.parse(text)
    except yamlfile.YamlError as exc:
        message = exc.message + yamlhints.hint(exc.message, text, exc.line)
        raise KbError(f"{shown}:{exc.line}:{exc.col}: {message}; fix it first") from None
    if not isinstance(located.data, dict):
        raise KbError(f"{shown}:1:1: not a mapping of fields; fix it first (kb validate)")
    return located.data


def read_claim(kb_root: Path, claim_id: str) -> ClaimFile:
    """The file of ``claim_id``; a KbError naming the claim when there is none or it is unreadable."""
    path = existing_claim_file(kb_root, claim_id)
    if path is None or path.suffix != ".yaml":
        raise UsageError(f"no claim {claim_id!r} in {_rel(kb_root, kb_root / 'claims')}/")
    return read_claim_path(kb_root, path)


def read_claim_path(kb_root: Path, path: Path) -> ClaimFile:
    shown = _rel(kb_root, path)
    try:
        text = yamlfile.decode(path.read_bytes())
    except OSError as exc:
        raise KbError(f"{shown}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise KbError(f"{shown}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    return ClaimFile(path, text, _parse(path, text, shown))


def source_text(kb_root: Path, source_id: str) -> str:
    """The text of source ``source_id``, read the way kb validate reads it."""
    from kb.authoring import source_text_files

    yaml_file = kb_root / "sources" / f"{source_id}.yaml"
    if not yaml_file.is_file():
        known = sorted(p.stem for p in (kb_root / "sources").glob("*.yaml"))
        from kb.load import did_you_mean

        raise UsageError(f"no source {source_id!r} in sources/{did_you_mean(source_id, known)}")
    path = source_text_files(kb_root).get(source_id)
    if path is None:
        raise KbError(f"sources/{source_id}.yaml: its text file cannot be read; run kb validate")
    try:
        return yamlfile.decode(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise KbError(f"sources/{source_id}.yaml: its text file cannot be read ({exc})") from exc


# --- where things go in the text ---------------------------------------------------------------


def _compose(text: str) -> yaml.MappingNode:
    # the text has passed yamlfile.parse (safe subset, no aliases); composing builds nodes only
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    assert isinstance(node, yaml.MappingNode)
    return node


def _value_node(root: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _last_node(node: yaml.Node) -> yaml.Node:
    """The innermost last node of ``node`` (where its text really ends)."""
    while isinstance(node, yaml.SequenceNode | yaml.MappingNode) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node


def _line_end(text: str, index: int) -> int:
    """The offset just after the line holding ``index`` (its newline included)."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _with_final_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _append_block_item(text: str, key: str, item_lines: list[str], new_key_lines: list[str]) -> str:
    """``text`` with a block-list item added to the list under ``key`` (made if missing or empty).

    ``item_lines`` are the item's lines without indentation, the first starting with ``- ``.
    """
    root = _compose(text)
    found = _value_node(root, key)
    if found is None:
        return _with_final_newline(text) + "".join(new_key_lines)
    key_node, node = found
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        dash = node.value[0].start_mark.column
        # the dash may sit one step left of the item's first character ("- source: ...")
        dash = min(dash, node.start_mark.column)
        first = node.value[0]
        inner = first.value[0][0].start_mark.column if isinstance(first, yaml.MappingNode) else dash + 2
        end = _last_node(node).end_mark.index
        at = end if end > 0 and text[end - 1] == "\n" else _line_end(text, max(end - 1, 0))
        lines = [" " * dash + item_lines[0]] + [" " * inner + line for line in item_lines[1:]]
        block = "".join(lines)
        if at == len(text) and not text.endswith("\n"):
            block = "\n" + block
        return text[:at] + block + text[at:]
    empty = (isinstance(node, yaml.SequenceNode) and not node.value) or (
        isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and not node.value
    )
    if not empty:
        line = key_node.start_mark.line + 1
        raise KbError(
            f"line {line}: {key} is not a list kb can add to (write it as a block list, one '- ' per item)"
        )
    indent = " " * (key_node.start_mark.column + DEFAULT_DASH_INDENT)
    lines = [indent + item_lines[0]] + [indent + "  " + line for line in item_lines[1:]]
    # drop the empty value ('[]' or nothing), keep any comment after it, items on the next lines
    before, after = text[: node.start_mark.index], text[node.end_mark.index :]
    at = _line_end(after, 0) if "\n" in after else len(after)
    rest = after[:at]
    if not rest.endswith("\n"):
        rest += "\n"
    return (
        before.rstrip(" ") + (" " + rest.lstrip(" ") if rest.strip() else "\n") + "".join(lines) + after[at:]
    )


def _append_flow_item(text: str, key: str, value: str) -> str:
    """``text`` with ``value`` added to the list under ``key`` ([a, b] or a block list)."""
    root = _compose(text)
    found = _value_node(root, key)
    scalar = yaml_scalar(value)
    if found is None:
        return _with_final_newline(text) + f"{key}: [{scalar}]\n"
    key_node, node = found
    if isinstance(node, yaml.SequenceNode) and node.flow_style:
        close = node.end_mark.index - 1
        assert text[close] == "]"
        inside = text[node.start_mark.index + 1 : close]
        addition = f", {scalar}" if inside.strip() else scalar
        stripped = len(inside) - len(inside.rstrip())
        at = close - stripped
        return text[:at] + addition + text[at:]
    return _append_block_item(text, key, [f"- {scalar}\n"], [f"{key}: [{scalar}]\n"])


# --- checking before writing -------------------------------------------------------------------


def _check_result(claim: ClaimFile, new_text: str, expected: dict[str, Any], shown: str) -> None:
    """The edited text must parse to ``expected`` and be a valid claim; else nothing is written."""
    data = _parse(claim.path, new_text, shown)
    if data != expected:
        raise KbError(f"{shown}: the edit would change more than intended; nothing written (edit by hand)")
    try:
        Claim.model_validate({**data, "id": claim.id, "path": shown})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise KbError(f"{shown}: {where}: {first['msg']}; nothing written (run kb validate)") from None


def _write(kb_root: Path, claim: ClaimFile, new_text: str, expected: dict[str, Any]) -> None:
    shown = _rel(kb_root, claim.path)
    _check_result(claim, new_text, expected, shown)
    try:
        write_atomic(claim.path, new_text)
    except OSError as exc:
        raise KbError(f"cannot write {shown}: {exc.strerror or exc}") from exc


# --- the edits ---------------------------------------------------------------------------------


def check_evidence(kb_root: Path, evidence: Evidence) -> None:
    """The quote must be in its source's text; stance and kind must be allowed values."""
    if evidence.stance not in STANCES:
        raise UsageError(f"stance {evidence.stance!r}: use one of {', '.join(STANCES)}")
    if evidence.kind not in EVIDENCE_KINDS:
        raise UsageError(f"kind {evidence.kind!r}: use one of {', '.join(EVIDENCE_KINDS)}")
    text = source_text(kb_root, evidence.source)
    if quotes.find(evidence.quote, text) is None:
        raise KbError(
            f"the quote is not in the text of source {evidence.source!r}"
            + quotes.not_found_message(evidence.quote, text)
            + "; nothing written"
        )


def _evidence_item(evidence: Evidence) -> list[str]:
    lines = [
        f"- source: {yaml_scalar(evidence.source)}\n",
        f"stance: {evidence.stance}\n",
        f"kind: {evidence.kind}\n",
        f"quote: {yaml_scalar(evidence.quote, quoted=True)}\n",
    ]
    if evidence.speaker:
        lines.append(f"speaker: {yaml_scalar(evidence.speaker)}\n")
    return lines


def _as_data(evidence: Evidence) -> dict[str, Any]:
    return evidence.model_dump(exclude_none=True)


def add_evidence(kb_root: Path, claim_id: str, items: list[Evidence]) -> Path:
    """Add evidence items to claim ``claim_id``'s file, each quote checked first; the file's path."""
    claim = read_claim(kb_root, claim_id)
    present = claim.data.get("evidence") or []
    if not isinstance(present, list):
        raise KbError(f"{_rel(kb_root, claim.path)}: evidence is not a list; fix it first (kb validate)")
    seen = {
        (e.get("source"), " ".join(quotes.fragments(str(e.get("quote", "")))))
        for e in present
        if isinstance(e, dict)
    }
    text = claim.text
    added: list[dict[str, Any]] = []
    for evidence in items:
        check_evidence(kb_root, evidence)
        key = (evidence.source, " ".join(quotes.fragments(evidence.quote)))
        if key in seen:
            shown = _rel(kb_root, claim.path)
            raise KbError(f"{shown} already has this quote from {evidence.source!r}; nothing written")
        seen.add(key)
        lines = _evidence_item(evidence)
        as_new_key = ["evidence:\n"] + ["  " + lines[0]] + ["    " + line for line in lines[1:]]
        text = _append_block_item(text, "evidence", lines, as_new_key)
        added.append(_as_data(evidence))
    expected = {**claim.data, "evidence": [*present, *added]}
    _write(kb_root, claim, text, expected)
    return claim.path


def link(kb_root: Path, claim_id: str, relation: str, target_id: str) -> Path:
    """Add ``target_id`` to claim ``claim_id``'s ``supports`` or ``contradicts`` list."""
    if relation not in RELATIONS:
        raise UsageError(f"relation {relation!r}: use one of {', '.join(RELATIONS)}")
    if claim_id == target_id:
        raise UsageError(f"a claim cannot {relation[:-1]} itself")
    claim = read_claim(kb_root, claim_id)
    if existing_claim_file(kb_root, target_id) is None:
        raise UsageError(f"no claim {target_id!r} in claims/")
    present = claim.data.get(relation) or []
    if not isinstance(present, list):
        raise KbError(f"{_rel(kb_root, claim.path)}: {relation} is not a list; fix it first (kb validate)")
    if target_id in present:
        raise KbError(f"{claim_id!r} already {relation} {target_id!r}; nothing written")
    other = "contradicts" if relation == "supports" else "supports"
    target = read_claim(kb_root, target_id)
    # the loader refuses a pair that both supports (either way) and contradicts
    if target_id in (claim.data.get(other) or []) or claim_id in (target.data.get(other) or []):
        raise KbError(
            f"{claim_id!r} and {target_id!r} are already linked by {other}; a pair takes one relation"
        )
    text = _append_flow_item(claim.text, relation, target_id)
    _write(kb_root, claim, text, {**claim.data, relation: [*present, target_id]})
    return claim.path


# --- drafts from kb extract --------------------------------------------------------------------


def _without_draft_notes(text: str) -> str:
    """A draft's text without the comments kb extract put above the claim (the schema line stays)."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines[:1] if line.startswith("# yaml-language-server:")]
    body = lines[len(kept) :]
    while body and body[0].startswith("#"):
        body.pop(0)
    return "".join(kept + body)


def read_draft(kb_root: Path, draft: Path) -> ClaimFile:
    if not draft.is_file():
        raise UsageError(f"{draft}: no such draft")
    return read_claim_path(kb_root, draft)


def _draft_evidence(draft: ClaimFile, overrides: dict[str, str | None]) -> list[Evidence]:
    raw = draft.data.get("evidence") or []
    if not isinstance(raw, list) or not raw:
        raise KbError(f"{draft.path}: the draft has no evidence to accept")
    items = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise KbError(f"{draft.path}: an evidence item is not a mapping; fix it first")
        values = {**entry, **{k: v for k, v in overrides.items() if v is not None}}
        try:
            items.append(Evidence.model_validate(values))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise KbError(f"{draft.path}: evidence {where}: {first['msg']}") from None
    return items


def accept_into(
    kb_root: Path,
    draft_path: Path,
    claim_id: str,
    *,
    stance: str | None = None,
    kind: str | None = None,
    speaker: str | None = None,
    keep: bool = False,
) -> Path:
    """Add a draft's evidence to an existing claim, then delete the draft (unless ``keep``);
    the claim's path."""
    draft = read_draft(kb_root, draft_path)
    items = _draft_evidence(draft, {"stance": stance, "kind": kind, "speaker": speaker})
    path = add_evidence(kb_root, claim_id, items)
    if not keep:
        draft_path.unlink()
    return path


def accept_as_new(
    kb_root: Path,
    draft_path: Path,
    *,
    statement: str | None = None,
    topic: str | None = None,
    claim_id: str | None = None,
) -> Path:
    """Move a draft into ``claims/<topic>/`` as a new claim (its statement and topic replaced
    when given); its quotes and relations are checked first. The new file's path."""
    from kb.authoring import check_id

    draft = read_draft(kb_root, draft_path)
    claim_id = check_id(claim_id or draft.path.stem, "claim id")
    taken = existing_claim_file(kb_root, claim_id)
    if taken is not None:
        raise KbError(f"{_rel(kb_root, taken)} already has the id {claim_id!r}; rename the draft first")
    for evidence in _draft_evidence(draft, {}):
        check_evidence(kb_root, evidence)
    for relation in RELATIONS:
        for target in draft.data.get(relation) or []:
            if existing_claim_file(kb_root, str(target)) is None:
                raise KbError(f"{draft.path}: {relation} names no claim {target!r}")
    text, data = _without_draft_notes(draft.text), dict(draft.data)
    for key, value in (("statement", statement), ("topic", topic)):
        if value is None:
            continue
        root = _compose(text)
        found = _value_node(root, key)
        if found is None or not isinstance(found[1], yaml.ScalarNode):
            raise KbError(f"{draft.path}: no {key} line to replace")
        node = found[1]
        text = text[: node.start_mark.index] + yaml_scalar(value) + text[node.end_mark.index :]
        data[key] = value
    topic_name = check_id(str(data.get("topic", "")), "topic")
    target = kb_root / "claims" / topic_name / f"{claim_id}.yaml"
    new = ClaimFile(target, text, data)
    _check_result(new, text, data, _rel(kb_root, target))
    write_atomic(target, text)
    draft_path.unlink()
    return target
