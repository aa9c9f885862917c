"""Work handed to a forked copy of this process, on the machine's second processor.

kb's batch commands run on one knowledge base, once: where a share of the work is independent of
the rest (the disputes' verdicts; parsing the files a cold load has to parse) a forked child can
do it while this process does the rest, and hand back its result pickled over a pipe (its own
data, from a copy of this process: nothing from outside is unpickled). Whoever uses this must
give the same result when the child fails or cannot start: :func:`start`'s waiter then returns
None and the caller does that share itself.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Any


def processors() -> int:
    """How many processors this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a child can take a share: fork exists, the process may run on two processors or
    more, and it runs no other thread (a forked copy of a threaded process, as kb serve's, may find
    a lock held by a thread it does not have)."""
    import threading

    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    return processors() >= 2


def start(work: Callable[[], Any]) -> Callable[[], Any | None]:
    """Start ``work`` in a forked child; returns a function that waits for the child and gives its
    result, or None if it could not start or failed. Call the waiter exactly once, also when the
    caller's own share fails (the child is always waited for)."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return lambda: None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return lambda: None
    if pid == 0:  # the child: compute, send, and end without running anything of the parent's
        code = 1
        try:
            os.close(read_end)
            result = work()
            # written to the pipe as it is pickled: a result of hundreds of megabytes (kb report's
            # JSON at 100,000 claims) is not copied whole into a pickle first
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)

    def wait() -> Any | None:
        result = None
        try:
            with os.fdopen(read_end, "rb") as pipe:
                # unpickled as it is read: no copy of the whole answer beside the result
                try:
                    result = pickle.load(pipe)
                except Exception:  # anything wrong with the child's answer: the caller does its share
                    result = None
                while pipe.read(1 << 20):  # what is left (a child cut short): read, so it can end
                    result = None
        finally:
            _, status = os.waitpid(pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        return result

    return wait


def in_two(
    work: Callable[[int, int], list[Any]],
    costs: list[float],
    minimum: float,
) -> list[Any]:
    """``work(0, n)`` for ``n = len(costs)`` items, where ``work(start, stop)`` handles the items
    ``start`` to ``stop`` and gives a list: with a forked child doing the last items, about half
    of the cost (``costs``: one estimate per item), and this process the first ones, the two lists
    concatenated. The caller's ``work`` must be such that ``work(0, k) + work(k, n) == work(0, n)``
    (a view made item by item: the same bytes however the items are shared). Below a total cost
    of ``minimum``, or where no child can be forked (:func:`can_fork`), all is done here; if the
    child fails, its share is done here too."""
    n = len(costs)
    total = sum(costs)
    if n < 2 or total < minimum or not can_fork():
        return work(0, n)
    # the child takes the last items, a little under half: this process also forks and stitches;
    # an item goes to this process's share if most of it lies before the cut
    cut, done = n, 0.0
    for i, cost in enumerate(costs):
        if done + cost / 2 > total * 0.48:
            cut = i
            break
        done += cost
    if not 0 < cut < n:  # one item holds most of the cost: no share is worth a child
        return work(0, n)
    theirs = start(lambda: work(cut, n))
    try:
        mine = work(0, cut)
    finally:
        received = theirs()  # the child is always waited for
    if not isinstance(received, list):
        received = work(cut, n)
    return mine + received
