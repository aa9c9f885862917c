"""``kb serve``: a live preview that follows the knowledge base as it is edited.

The site is built as ``kb build`` builds it, into the knowledge base's serving folder
(:func:`workspace`), and served by MkDocs' live-reload server. A thread looks at the knowledge
base's files (claims, sources, ``kb.yaml``, hand-written pages) when the system tells of an event in
their folders, and every few seconds anyway (:class:`Watcher`); when one changes, the pages of the
edited claims (and of their related claims) are rendered into the served site at once and the
browsers reload (kb.site.preview); once no edit has been previewed for ``SETTLE_SECONDS``, the site is
built again through the same render cache as ``kb build`` (only the pages whose Markdown changed are
rendered), swapped into place, and the browsers reload again. A preview holds a running rebuild at
its next step or checkpoint (:class:`Hold`, kb.progress). While the base has errors the previous
pages stay and the errors are printed, as ``kb validate`` prints them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import KbError, Problem
from kb.gcpause import paused_gc
from kb.load import load
from kb.model import KnowledgeBase
from kb.progress import Progress, checkpoint, checkpoints, quiet
from kb.site import build as site_build
from kb.site.preview import Preview, weights_of
from kb.weigh import Weights, compute

log = logging.getLogger(__name__)

# How often kb looks at the knowledge base's files (an edit starts a rebuild within about that), and
# the server at kb's stamp of a change (only where kb cannot start the server's rebuild itself).
POLL_SECONDS = 0.2
# The watcher waits at least this many times as long as its last look took.
POLL_SHARE = 4.0
# Where the system tells of events in the watched folders, the watcher also looks this often (for any
# it does not tell of).
FALLBACK_SECONDS = 2.0
SERVER_POLL_SECONDS = 0.1
# After pages were rendered ahead, the rebuild starts once no edit has been previewed for this long.
SETTLE_SECONDS = 2.0


@dataclass
class Refresh:
    """What one regeneration did: the problems found, or the docs files written and removed."""

    problems: list[Problem] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    valid: bool = True
    kb: KnowledgeBase | None = None


def sync_folder(folder: Path, files: dict[str, str | bytes]) -> tuple[list[str], list[str]]:
    """Make ``folder`` hold exactly ``files``, writing only what differs; returns (written, removed)."""
    docs = site_build.DocsFolder(folder)
    for rel, content in sorted(files.items()):
        docs.put(rel, content)
    return docs.finish()


@dataclass
class Loaded:
    """A knowledge base loaded and weighed for a preview, which the rebuild that follows takes
    instead of reading the files again, if they are still as they were (``seen``)."""

    seen: tuple
    kb: KnowledgeBase
    weights: Weights
    problems: list[Problem]


def rebuild(
    kb_root: Path,
    out: Path,
    *,
    parallel: bool = True,
    preview: Preview | None = None,
    loaded: Loaded | None = None,
    progress: Progress = quiet,
) -> Refresh:
    """Load the knowledge base and build its site into ``out`` the way ``kb build`` does, keeping
    the pages whose rendering did not change (kb.site.rendercache); an invalid base, or a build
    that fails, leaves the site as it was. ``parallel=False`` once the server's threads run.

    ``loaded``: the base as a preview loaded it, taken if its files are still as they were then.
    ``preview`` (the same one for every rebuild of ``out``) keeps what the build makes, for the next
    previews; a build that fails takes back what a preview of the same base wrote."""
    # what the site is built from, looked at before it is read: the next start serves the site at once
    # while the files stay so (kb.site.uptodate). A preview read them before this look; they are taken
    # only if unchanged since, as seen after it.
    seen = site_build.look(kb_root, out)
    if loaded is not None and loaded.seen != fingerprint(kb_root, site_build.config_file(kb_root)):
        loaded = None  # edited again since: read again
    if loaded is not None:
        kb, problems, weights = loaded.kb, loaded.problems, loaded.weights
    else:
        kb, problems = load(kb_root)
        if kb is None:
            return Refresh(problems=problems, valid=False)
        checkpoint()
        weights = compute(kb)
        checkpoint()
    started = preview.build_started() if preview is not None else 0
    try:
        result = site_build.build_site(
            kb, out, weights=weights, parallel=parallel, preview=preview, progress=progress, seen=seen
        )
    except KbError as exc:
        if preview is not None:
            preview.discard(kb)
        return Refresh(
            problems=[*problems, Problem(".", 1, 1, f"could not build the site: {exc}")], valid=False
        )
    except BaseException:
        if preview is not None:
            preview.discard(kb)
        raise
    if preview is not None:
        preview.commit(kb, started, weights)
    return Refresh(problems=problems, written=result.written, removed=result.removed, kb=kb)


def preview_edit(
    kb_root: Path, config: Path, preview: Preview, shown: Callable[[], None] = lambda: None
) -> Loaded | None:
    """Load and weigh the knowledge base, and render the pages of the claims edited since the last
    build into the site (kb.site.preview), calling ``shown`` once the edited claims' pages are in
    place. Returns what was loaded, for the rebuild; None for an invalid base (the rebuild reports
    its problems). A preview that fails only leaves the pages to the rebuild.

    The cycle collector waits meanwhile (kb.gcpause): in kb serve the last build's pages and model
    are in memory, and each collection of the oldest objects went through all of them, a second at
    10,000 claims, one or two per preview (of 3.3-3.8 s). It runs again after the preview."""
    with paused_gc():
        seen = fingerprint(kb_root, config)
        kb, problems = load(kb_root)
        if kb is None:
            return None
        loaded = Loaded(seen, kb, weights_of(preview.site, kb), problems)
        try:
            preview.publish(kb, loaded.weights, shown)
        except Exception:  # noqa: BLE001 - the rebuild renders every page anyway
            log.debug("the pages could not be rendered ahead of the rebuild", exc_info=True)
        return loaded


class Hold:
    """Lets a preview hold a running rebuild at its next checkpoint (kb.progress: each page it generates
    or renders, and points in its longer steps), so that the two do not share the processor: the reader
    waits for the preview, not for the rebuild."""

    def __init__(self) -> None:
        self._free = threading.Event()
        self._free.set()

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        self._free.clear()
        try:
            yield
        finally:
            self._free.set()

    def wait(self) -> None:
        """Return once no preview runs (the rebuild calls it at its checkpoints, kb.progress)."""
        self._free.wait()


class Settle:
    """The rebuild waits until no edit has been previewed for ``seconds``: while the author keeps
    editing, each edit's pages are rendered ahead without a rebuild sharing the processor (on a
    busy two-core machine that doubled the time until a page showed), and the whole site follows
    once the edits pause."""

    def __init__(self, seconds: float = SETTLE_SECONDS) -> None:
        self.seconds = seconds
        self._until = 0.0
        self._lock = threading.Lock()

    def previewed(self) -> None:
        with self._lock:
            self._until = time.monotonic() + self.seconds

    def wait(self) -> float:
        """Return once no preview was made for ``seconds``; returns how long it waited."""
        started = time.monotonic()
        while True:
            with self._lock:
                left = self._until - time.monotonic()
            if left <= 0:
                return time.monotonic() - started
            time.sleep(min(left, 0.05))


def fingerprint(kb_root: Path, config: Path) -> tuple:
    """Name, size and modification time of every file a regeneration reads
    (kb.site.build.input_stats): it is taken several times a second."""
    found = site_build.input_stats(kb_root, config)
    return tuple(sorted((path, info.st_size, info.st_mtime_ns) for path, info in found))


class Watcher:
    """Calls ``on_change`` whenever the knowledge base's files change (name, size, time of each).

    The files are looked at when the system tells of an event in their folders (inotify and the
    like, through watchdog) and, in case it does not (a network drive, a full watch table), every
    ``FALLBACK_SECONDS``; where no events come at all, every ``interval``. Each wait is at least
    four times the processor time the last look took (a tenth of a second at 10,000 claims: an idle
    kb serve should cost little). ``pause``, if given, holds the rebuild while a look that an event
    asked for runs: beside a rebuild (one Python thread runs at a time) a look's ten thousand calls
    to the system each wait for their turn, and took seconds instead of a tenth of one."""

    def __init__(
        self,
        kb_root: Path,
        config: Path,
        on_change: Callable[[], None],
        *,
        interval: float = POLL_SECONDS,
        pause: Callable[[], contextlib.AbstractContextManager[None]] | None = None,
    ) -> None:
        self.kb_root, self.config, self.on_change, self.interval = kb_root, config, on_change, interval
        self.pause = pause
        self.seen = fingerprint(kb_root, config)
        self.looked = 0.0  # the processor time the last look took
        self.stop = threading.Event()
        self.nudged = threading.Event()  # an event in a watched folder, or the stop
        self.observer: Any = None  # watchdog's, while events come

    def check_once(self, *, asked: bool = False) -> bool:
        """Call ``on_change`` if anything changed since the last look; returns whether it did.
        ``asked``: an event asked for the look (the rebuild is held meanwhile)."""
        started = time.thread_time()
        with self.pause() if asked and self.pause is not None else contextlib.nullcontext():
            now = fingerprint(self.kb_root, self.config)
        self.looked = time.thread_time() - started
        if now == self.seen:
            return False
        self.seen = now
        self.on_change()
        return True

    def wait(self) -> float:
        """How long to wait for an event before looking anyway."""
        every = FALLBACK_SECONDS if self.observer is not None else self.interval
        return max(every, POLL_SHARE * self.looked)

    def run(self) -> None:
        while True:
            self.nudged.wait(self.wait())
            if self.stop.is_set():
                return
            asked = self.nudged.is_set()
            self.nudged.clear()
            # the time on_change takes (a preview) does not count: the next edit is looked for as soon
            self.check_once(asked=asked)

    def start(self) -> threading.Thread:
        self.observer = _observe(self.watched(), self.nudged.set)
        thread = threading.Thread(target=self.run, name="kb-watch", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.stop.set()
        self.nudged.set()
        if self.observer is not None:
            with contextlib.suppress(Exception):
                self.observer.stop()
                self.observer.join(timeout=2)

    def watched(self) -> list[tuple[str, bool]]:
        """The folders whose events ask for a look, each with whether its subfolders count: those
        :func:`kb.site.build.input_stats` walks, and those of kb.yaml and the site configuration
        (not the knowledge base's others: the rebuild writes into one)."""
        handwritten = self.config.parent / site_build.HANDWRITTEN
        trees = [self.kb_root / "claims", self.kb_root / "sources", handwritten]
        return [
            *((str(folder), True) for folder in trees),
            *((str(folder), False) for folder in dict.fromkeys((self.kb_root, self.config.parent))),
        ]


class _StoppedReader(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in str(record.msg)


def _observe(folders: list[tuple[str, bool]], nudge: Callable[[], None]) -> Any:
    """watchdog's observer of the system's events in ``folders`` (those that exist), calling ``nudge``
    on each; None where it cannot start (then the watcher looks every ``interval``)."""
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:  # pragma: no cover - MkDocs depends on watchdog
        return None
    # stopping the observer wakes its reader, which tells of it as an error: not one for kb's reader
    inotify_log = logging.getLogger("watchdog.observers.inotify")
    if not any(isinstance(f, _StoppedReader) for f in inotify_log.filters):
        inotify_log.addFilter(_StoppedReader())
    handler = FileSystemEventHandler()
    handler.on_any_event = lambda event: nudge()  # type: ignore[method-assign]
    observer = Observer()
    observer.daemon = True
    try:
        for folder, recursive in folders:
            if os.path.isdir(folder):
                observer.schedule(handler, folder, recursive=recursive)
        observer.start()
    except Exception:  # noqa: BLE001 - no events (too many watches, an odd file system): polling does it
        log.debug("no file system events; polling", exc_info=True)
        return None
    return observer


def _collect() -> None:
    """After a rebuild, made with the cycle collector waiting (as ``kb build``'s, and a quarter faster at
    10,000 claims than with it on): what the last build left in cycles is let go (about a second)."""
    import gc

    gc.collect()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# MkDocs' live-reload server (1.6) keeps its state in attributes of its own: where one is missing kb
# leaves the server to itself (it rebuilds on kb's stamp, serves nothing while it rebuilds, and
# reloads the browsers once the rebuild is done).
def _timestamp() -> int:
    """A version of the site as the server numbers them (milliseconds of the monotonic clock)."""
    return round(time.monotonic() * 1000)


def _start_rebuild(server: object) -> bool:
    """Have the server rebuild now, without waiting for its watcher; whether it could be asked."""
    cond = getattr(server, "_rebuild_cond", None)
    if cond is None or not hasattr(server, "_want_rebuild"):
        return False
    with cond:
        server._want_rebuild = True  # type: ignore[attr-defined]
        server.build_delay = 0.0  # type: ignore[attr-defined]  # kb saw the change settle: no wait for more
        cond.notify_all()
    return True


def _epochs(server: object) -> threading.Condition | None:
    cond = getattr(server, "_epoch_cond", None)
    if cond is None or not hasattr(server, "_wanted_epoch") or not hasattr(server, "_visible_epoch"):
        return None
    return cond


def _serve_meanwhile(server: object) -> None:
    """A rebuild starts: the server answers with the site in place while it runs (kb swaps the new
    site in whole), instead of holding every request until it is done."""
    cond = _epochs(server)
    if cond is not None:
        with cond:
            server._wanted_epoch = server._visible_epoch  # type: ignore[attr-defined]
            cond.notify_all()


def _show_now(server: object) -> None:
    """Pages were rendered ahead: the browsers reload."""
    cond = _epochs(server)
    if cond is not None:
        with cond:
            epoch = max(_timestamp(), server._visible_epoch + 1)  # type: ignore[attr-defined]
            server._visible_epoch = server._wanted_epoch = epoch  # type: ignore[attr-defined]
            cond.notify_all()


def _reload_after(server: object) -> None:
    """The rebuild is done: the browsers reload when the server publishes this new version of the
    site (as soon as the rebuild returns)."""
    cond = _epochs(server)
    if cond is not None:
        with cond:
            server._wanted_epoch = max(_timestamp(), server._visible_epoch + 1)  # type: ignore[attr-defined]


def serve(
    kb_root: Path, dev_addr: str, report: Callable[[Refresh], None], *, open_browser: bool = False
) -> int:
    """Serve the live preview until interrupted; returns an exit code (1 if the base is invalid at start).

    The site is built as ``kb build`` builds it, with its render cache beside it, into the
    knowledge base's serving folder (:func:`workspace`), and served from there by MkDocs'
    live-reload server. kb's watcher (:class:`Watcher`) follows the knowledge base's files; on a
    change it touches a stamp in a folder the server watches, and the server rebuilds (only the pages
    whose Markdown changed are rendered again) and reloads the browsers showing the site. When the
    site kept from the last kb serve is up to date (kb.site.uptodate), it is served at once and the
    first build runs behind it.
    """
    from mkdocs.livereload import LiveReloadServer

    config = site_build.config_file(kb_root)
    site_build.remove_stale_temporary()
    work, held, kept = workspace(kb_root)
    try:
        out = work / "site"
        preview = Preview(out)
        # the site kept from the last kb serve, when it is the one these files make, is served at once
        # and built again behind it (the previews need the build in memory); otherwise built first
        current = site_build.already_built(kb_root, out, site_build.look(kb_root, out))
        if current is None:
            with paused_gc():
                first = rebuild(kb_root, out, preview=preview)
            _collect()
            report(first)
            if not first.valid:
                return 1
        changes = work / "changes"
        changes.mkdir(exist_ok=True)
        stamp = changes / "stamp"
        hold = Hold()
        settle = Settle()
        latest: list[Loaded] = []  # what the last preview loaded, for the rebuild that follows it
        lock = threading.Lock()

        def rebuild_and_report() -> None:
            _serve_meanwhile(server)
            settle.wait()
            with lock:
                loaded = latest.pop() if latest else None
            # the rebuild waits at each of its steps and checkpoints while a preview runs: the two would
            # otherwise share one processor (Python runs one thread at a time)
            with checkpoints(hold.wait), paused_gc():
                built = rebuild(kb_root, out, parallel=False, preview=preview, loaded=loaded)
            _collect()
            report(built)
            _reload_after(server)

        def not_found(code: int) -> bytes | None:
            page = out / "404.html"
            return page.read_bytes() if code == 404 and page.is_file() else None

        logging.getLogger("mkdocs").setLevel(logging.INFO)
        if not logging.getLogger("mkdocs").handlers:
            logging.getLogger("mkdocs").addHandler(logging.StreamHandler())
        host, port = dev_addr.rsplit(":", 1)
        server = LiveReloadServer(
            builder=rebuild_and_report, host=host.strip("[]"), port=int(port), root=str(out),
            polling_interval=SERVER_POLL_SECONDS,
        )  # fmt: skip
        server.error_handler = not_found
        # the stamp's folder is watched even when kb starts the rebuilds itself: the server adds its
        # reloading script to pages only while it watches something
        server.watch(str(changes))

        def changed() -> None:
            # the edited claims' pages first (a running rebuild waits meanwhile), then the rebuild
            with hold.holding():
                loaded = preview_edit(kb_root, config, preview, lambda: _show_now(server))
            if preview.rendered:
                settle.previewed()
            with lock:
                latest[:] = [loaded] if loaded is not None else []
            if not _start_rebuild(server):
                stamp.write_text(str(time.time_ns()))

        watcher = Watcher(kb_root, config, changed, pause=hold.holding)
        watcher.start()
        if current is not None and not _start_rebuild(server):
            stamp.write_text(str(time.time_ns()))
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C, so temporary folders are removed
        try:
            server.serve(open_in_browser=open_browser)
        except KeyboardInterrupt:
            logging.getLogger("mkdocs").info("Shutting down...")
        finally:
            watcher.close()
            server.shutdown()
        return 0
    finally:
        if not kept:
            shutil.rmtree(work, ignore_errors=True)
        os.close(held)


WORKSPACE = Path("build") / ".serve"


def workspace(kb_root: Path) -> tuple[Path, int, bool]:
    """Where kb serve builds its site: ``build/.serve`` in the knowledge base, kept from one kb serve to
    the next (a start builds only what changed since the last one: at 10,000 claims a cold build
    takes minutes), locked while this one runs. Where it cannot be made or another kb serve holds it,
    a temporary folder, removed at the end. Returns the folder, the descriptor that holds its lock
    (to close at the end) and whether the folder is kept."""
    import tempfile

    folder = kb_root / WORKSPACE
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    fd = site_build.try_hold(folder)  # None: another kb serve of this knowledge base runs, or no folder
    if fd is not None:
        return folder, fd, True
    temporary = Path(tempfile.mkdtemp(prefix="kb-serve-site-"))
    return temporary, site_build.hold(temporary), False  # a later kb leaves it alone while this one runs
