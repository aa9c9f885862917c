"""Progress bars for long operations (shown on a terminal, silent otherwise), and the points between
their steps where a caller may hold them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import TypeVar

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
    import click

    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update


# What a long operation calls between its steps (``checkpoint``), where the caller asked for one
# (``checkpoints``): kb serve's rebuild waits there while a preview runs. A context variable, so that
# it holds in the thread that set it and no other (a preview, in its own thread, makes the same
# calls and must not wait for itself).
_checkpoint: ContextVar[Callable[[], None] | None] = ContextVar("kb_checkpoint", default=None)


def checkpoint() -> None:
    """A point between two steps of a long operation where the caller may hold it (``checkpoints``)."""
    hook = _checkpoint.get()
    if hook is not None:
        hook()


@contextmanager
def checkpoints(hook: Callable[[], None]) -> Iterator[None]:
    """Call ``hook`` at each ``checkpoint`` this thread passes meanwhile."""
    token = _checkpoint.set(hook)
    try:
        yield
    finally:
        _checkpoint.reset(token)


T = TypeVar("T")


def pausable(items: Iterable[T], every: int) -> Iterator[T]:
    """``items``, passing a ``checkpoint`` before the first and then before each ``every``-th."""
    for n, item in enumerate(items):
        if n % every == 0:
            checkpoint()
        yield item


def pausing(progress: Progress) -> Progress:
    """``progress`` whose every step is also a ``checkpoint``."""

    @contextmanager
    def steps(label: str, total: int) -> Iterator[Advance]:
        with progress(label, total) as advance:

            def step(n: int) -> None:
                advance(n)
                checkpoint()

            yield step

    return steps
