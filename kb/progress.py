"""Progress bars for long operations: shown on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import click

Advance = Callable[[int], None]
# A progress factory: given a label and a total, a context manager yielding ``advance(n)``.
Progress = Callable[[str, int], AbstractContextManager[Advance]]

# Below this many steps an operation is quick enough that a bar would only flicker.
MIN_STEPS = 500


def ignore_progress(_: int) -> None:
    return None


@contextmanager
def quiet(label: str, total: int) -> Iterator[Advance]:
    yield ignore_progress


@contextmanager
def terminal(label: str, total: int) -> Iterator[Advance]:
    """A bar on standard error when it is a terminal; nothing when output is piped or logged."""
    if total < MIN_STEPS or not sys.stderr.isatty():
        yield ignore_progress
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update
