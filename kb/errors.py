"""The small error hierarchy of kb.

User mistakes are never exceptions that escape: the loader collects them as
``Problem`` records with their file, line and column, and the command line
prints them together, the way a compiler does. ``KbError`` and its subclasses
are for failures that stop a command (an invalid knowledge base, a bad
argument); the command line turns them into a message and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One located finding about a knowledge base; ``path`` is relative to the kb folder."""

    path: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}:{self.col}: {prefix}{self.message}"


class KbError(Exception):
    """A failure that ends a command with a message, not a traceback."""

    exit_code = 1


class InvalidKnowledgeBase(KbError):
    """The knowledge base has errors; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = sum(1 for p in problems if p.severity == "error")
        super().__init__(f"the knowledge base has {errors} error{'s' if errors != 1 else ''}")


class UsageError(KbError):
    """The command was called wrongly (an unknown source id, a bad format...)."""

    exit_code = 2
