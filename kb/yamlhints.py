"""Hints for the YAML mistakes people make in kb files, added to the parser's message.

The parser says where it stopped and what it expected; these say what was probably meant:
an unquoted colon inside a value, a tab, a list item without its dash, a quote or bracket
left open.
"""

from __future__ import annotations

import re

import yaml

_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w-]*):\s+(.*\S)\s*$")


def _quoted(value: str) -> str:
    dumped = yaml.safe_dump(value, default_style='"', width=1_000_000, allow_unicode=True)
    return dumped.rstrip("\n").removesuffix("...").rstrip("\n")


def hint(message: str, text: str, line: int) -> str:
    """``; hint`` for a YAML syntax error at 1-based ``line`` of ``text``, or ``''``."""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "mapping values are not allowed" in message:
        match = _KEY_VALUE.match(here)
        if match and ": " in match.group(3):
            fixed = f"{match.group(2)}: {_quoted(match.group(3))}"
            return f"; a value with ': ' in it must be quoted, e.g. {fixed}"
        return "; a value with ': ' in it must be quoted"
    if "tab" in message or ("\t" in here and here.lstrip(" ").startswith("\t")):
        return "; indent with spaces: YAML does not allow tabs for indentation"
    if "expected '-' indicator" in message or "could not find expected ':'" in message:
        return (
            "; is the dash of a list item missing? Every item of a list starts with '- ' at the "
            "indentation of the items above it"
        )
    if "end of stream" in message or "while scanning a quoted scalar" in message:
        return "; a quotation mark is opened and not closed"
    if "expected ',' or ']'" in message:
        return "; a [list] must close with ']' on the same line (or write one '- ' item per line)"
    if "expected ',' or '}'" in message:
        return "; a {mapping} must close with '}' on the same line"
    return ""
