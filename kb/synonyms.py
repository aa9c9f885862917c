"""The bounds of ``kb.yaml``'s search synonyms and their check, apart from the search itself.

Every load checks them (kb.load), and needs none of the search's machinery for it: kb.search
uses the same bounds when it indexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kb.errors import Problem

# synonyms in kb.yaml: bounded so that no list makes indexing or a search slow
MAX_SYNONYM_GROUPS = 500
MAX_GROUP_MEMBERS = 50
MAX_MEMBER_WORDS = 6
MAX_MEMBER_CHARS = 80

# a word, as the search cuts text into words
WORD = re.compile(r"[^\W_]+")


def synonym_problems(
    synonyms: Any, locate: Callable[[tuple[Any, ...]], tuple[int, int]] | None = None
) -> list[Problem]:
    """Problems with ``kb.yaml``'s ``synonyms``: too many groups, too big a group or member, an empty one."""
    problems: list[Problem] = []

    def problem(path: tuple[Any, ...], message: str) -> None:
        line, col = locate(path) if locate else (1, 1)
        problems.append(Problem("kb.yaml", line, col, message))

    if not isinstance(synonyms, list):
        return problems  # the model's own check reports the type
    if len(synonyms) > MAX_SYNONYM_GROUPS:
        problem(
            (MAX_SYNONYM_GROUPS,),
            f"synonyms: {len(synonyms)} groups; at most {MAX_SYNONYM_GROUPS} are allowed",
        )
    for g, group in enumerate(synonyms[:MAX_SYNONYM_GROUPS]):
        if not isinstance(group, list):
            continue
        if len(group) < 2:
            problem((g,), f"synonyms[{g}]: a group needs at least two members")
        if len(group) > MAX_GROUP_MEMBERS:
            problem((g,), f"synonyms[{g}]: {len(group)} members; at most {MAX_GROUP_MEMBERS} are allowed")
        for m, member in enumerate(group[:MAX_GROUP_MEMBERS]):
            if not isinstance(member, str):
                continue
            words = WORD.findall(member)
            if not words:
                problem((g, m), f"synonyms[{g}][{m}]: {member!r} has no word to search for")
            elif len(words) > MAX_MEMBER_WORDS or len(member) > MAX_MEMBER_CHARS:
                problem(
                    (g, m),
                    f"synonyms[{g}][{m}]: too long; a member has at most {MAX_MEMBER_WORDS} words "
                    f"and {MAX_MEMBER_CHARS} characters",
                )
    return problems
