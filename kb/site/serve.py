"""``kb serve``: a live preview that follows the knowledge base as it is edited.

MkDocs' development server renders a docs folder and reloads the browser when that folder
changes. kb keeps the folder current: a thread polls the knowledge base's files (claims,
sources, ``kb.yaml``, hand-written pages) and, when one changes, loads the base again and
rewrites only the generated files whose text changed. While the base has errors the
previous pages stay and the errors are printed, as ``kb validate`` prints them.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import Problem
from kb.load import load
from kb.model import KnowledgeBase
from kb.site import build as site_build
from kb.site import rendercache
from kb.weigh import compute

POLL_SECONDS = 0.7


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
    written, removed = [], []
    for rel, content in sorted(files.items()):
        target = folder / rel
        data = content.encode("utf-8") if isinstance(content, str) else content
        if target.is_file() and target.read_bytes() == data:
            continue
        rendercache.write_unsynced(target, data)
        written.append(rel)
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in files:
            path.unlink()
            removed.append(rel)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written, removed


def regenerate(kb_root: Path, docs: Path, config: Path, *, directory_urls: bool = False) -> Refresh:
    """Load the knowledge base and bring the docs folder up to date; an invalid base changes nothing."""
    kb, problems = load(kb_root)
    if kb is None:
        return Refresh(problems=problems, valid=False)
    handwritten = site_build.handwritten_pages(config)
    files: dict[str, str | bytes] = dict(
        site_build.generated_files(kb, compute(kb), handwritten, directory_urls)
    )
    files.update({rel: site_build.read_page(path) for rel, path in handwritten.items()})
    written, removed = sync_folder(docs, files)
    return Refresh(problems=problems, written=written, removed=removed, kb=kb)


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
    """Regenerates the docs folder whenever the knowledge base's files change."""

    def __init__(
        self,
        kb_root: Path,
        docs: Path,
        config: Path,
        report: Callable[[Refresh], None],
        *,
        directory_urls: bool = False,
        interval: float = POLL_SECONDS,
    ) -> None:
        self.kb_root, self.docs, self.config = kb_root, docs, config
        self.report, self.directory_urls, self.interval = report, directory_urls, interval
        self.seen = fingerprint(kb_root, config)
        self.stop = threading.Event()

    def check_once(self) -> Refresh | None:
        """Regenerate if anything changed since the last look; returns what was done, or None."""
        now = fingerprint(self.kb_root, self.config)
        if now == self.seen:
            return None
        self.seen = now
        result = regenerate(self.kb_root, self.docs, self.config, directory_urls=self.directory_urls)
        self.report(result)
        return result

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.check_once()
            except Exception as exc:  # keep previewing: the next change may fix it
                self.report(Refresh(problems=[Problem(".", 1, 1, f"could not regenerate the site: {exc}")]))

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="kb-watch", daemon=True)
        thread.start()
        return thread


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(
    kb_root: Path, dev_addr: str, report: Callable[[Refresh], None], *, open_browser: bool = False
) -> int:
    """Serve the live preview until interrupted; returns an exit code (1 if the base is invalid at start)."""
    import logging
    import tempfile

    from mkdocs.commands.serve import serve as mkdocs_serve

    config = site_build.config_file(kb_root)
    site_build.remove_stale_temporary()
    docs = Path(tempfile.mkdtemp(prefix="kb-serve-docs-"))
    held = site_build.hold(docs)  # a later kb build or serve leaves it alone while this one runs
    try:
        first = regenerate(kb_root, docs, config)
        report(first)
        if not first.valid:
            return 1
        kb = first.kb
        assert kb is not None
        overrides = site_build.config_overrides(kb, docs)
        scratch = tempfile.mkdtemp(prefix="kb-serve-site-")
        loaded = site_build.load_mkdocs_config(config, kb, docs, Path(scratch))
        present = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
        nav = site_build.prune_nav(loaded.nav, present)
        shutil.rmtree(scratch, ignore_errors=True)
        directory_urls = bool(loaded.use_directory_urls)
        if directory_urls:  # the first pass assumed .html links
            report(regenerate(kb_root, docs, config, directory_urls=True))
        logging.getLogger("mkdocs").setLevel(logging.INFO)
        if not logging.getLogger("mkdocs").handlers:
            logging.getLogger("mkdocs").addHandler(logging.StreamHandler())
        watcher = Watcher(kb_root, docs, config, report, directory_urls=directory_urls)
        watcher.start()
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C, so temporary folders are removed
        try:
            mkdocs_serve(
                config_file=str(config), livereload=True, open_in_browser=open_browser, dev_addr=dev_addr,
                nav=nav, **overrides,
            )  # fmt: skip
        finally:
            watcher.stop.set()
        return 0
    finally:
        shutil.rmtree(docs, ignore_errors=True)
        os.close(held)
