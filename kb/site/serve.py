"""``kb serve``: a live preview that follows the knowledge base as it is edited.

The site is built as ``kb build`` builds it, into a temporary folder, and served by MkDocs'
live-reload server. A thread polls the knowledge base's files (claims, sources, ``kb.yaml``,
hand-written pages); when one changes the site is built again through the same render cache
as ``kb build`` (only the pages whose Markdown changed are rendered) and the browsers reload.
While the base has errors the previous pages stay and the errors are printed, as
``kb validate`` prints them.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import KbError, Problem
from kb.load import load
from kb.model import KnowledgeBase
from kb.site import build as site_build

# How often kb looks at the knowledge base's files, and the server at kb's stamp of a change: an
# edit starts a rebuild within about 0.4 s.
POLL_SECONDS = 0.3
SERVER_POLL_SECONDS = 0.1


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


def rebuild(kb_root: Path, out: Path, *, parallel: bool = True) -> Refresh:
    """Load the knowledge base and build its site into ``out`` the way ``kb build`` does, keeping
    the pages whose rendering did not change (kb.site.rendercache); an invalid base, or a build
    that fails, leaves the site as it was. ``parallel=False`` once the server's threads run."""
    kb, problems = load(kb_root)
    if kb is None:
        return Refresh(problems=problems, valid=False)
    try:
        result = site_build.build_site(kb, out, parallel=parallel)
    except KbError as exc:
        return Refresh(
            problems=[*problems, Problem(".", 1, 1, f"could not build the site: {exc}")], valid=False
        )
    return Refresh(problems=problems, written=result.written, removed=result.removed, kb=kb)


def fingerprint(kb_root: Path, config: Path) -> tuple:
    """Name, size and modification time of every file a regeneration reads."""
    out = []
    for path in sorted(site_build.input_files(kb_root, config)):
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


class Watcher:
    """Calls ``on_change`` whenever the knowledge base's files change (polled: name, size, time)."""

    def __init__(
        self, kb_root: Path, config: Path, on_change: Callable[[], None], *, interval: float = POLL_SECONDS
    ) -> None:
        self.kb_root, self.config, self.on_change, self.interval = kb_root, config, on_change, interval
        self.seen = fingerprint(kb_root, config)
        self.stop = threading.Event()

    def check_once(self) -> bool:
        """Call ``on_change`` if anything changed since the last look; returns whether it did."""
        now = fingerprint(self.kb_root, self.config)
        if now == self.seen:
            return False
        self.seen = now
        self.on_change()
        return True

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.check_once()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="kb-watch", daemon=True)
        thread.start()
        return thread


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(
    kb_root: Path, dev_addr: str, report: Callable[[Refresh], None], *, open_browser: bool = False
) -> int:
    """Serve the live preview until interrupted; returns an exit code (1 if the base is invalid at start).

    The site is built into a temporary folder as ``kb build`` builds it, with its render cache
    beside it, and served from there by MkDocs' live-reload server. kb's watcher polls the
    knowledge base's files; on a change it touches a stamp in a folder the server watches, and
    the server rebuilds (only the pages whose Markdown changed are rendered again) and reloads
    the browsers showing the site.
    """
    import logging
    import tempfile

    from mkdocs.livereload import LiveReloadServer

    config = site_build.config_file(kb_root)
    site_build.remove_stale_temporary()
    work = Path(tempfile.mkdtemp(prefix="kb-serve-site-"))
    held = site_build.hold(work)  # a later kb build or serve leaves it alone while this one runs
    try:
        out = work / "site"
        first = rebuild(kb_root, out)
        report(first)
        if not first.valid:
            return 1
        changes = work / "changes"
        changes.mkdir()
        stamp = changes / "stamp"

        def rebuild_and_report() -> None:
            report(rebuild(kb_root, out, parallel=False))

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
        server.watch(str(changes))
        watcher = Watcher(kb_root, config, lambda: stamp.write_text(str(time.time_ns())))
        watcher.start()
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C, so temporary folders are removed
        try:
            server.serve(open_in_browser=open_browser)
        except KeyboardInterrupt:
            logging.getLogger("mkdocs").info("Shutting down...")
        finally:
            watcher.stop.set()
            server.shutdown()
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.close(held)
