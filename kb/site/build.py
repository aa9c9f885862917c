"""``kb build``: the generated pages plus the hand-written ones, rendered by MkDocs, swapped into place.

1. The site configuration is ``<kb>/site/mkdocs.yml`` when the knowledge base has one, else the
   default shipped in this package; hand-written pages are the ``docs/`` folder beside it.
2. Hand-written and generated pages are written into a temporary docs folder.
3. MkDocs renders that folder into a temporary folder beside the output folder.
4. Under a lock, the old output folder is moved aside, the new one renamed into its place and the
   old one deleted: readers see the old site or the new one, a build that fails midway leaves the
   old site as it was, and two builds at once each produce a whole site (the later one wins).

Builds are reproducible: the same input gives the same bytes. MkDocs dates pages (sitemap) with
``SOURCE_DATE_EPOCH`` when set; otherwise kb sets it to the newest modification time of the
knowledge base's files, so the date means "last changed" and does not move between builds.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import logging
import os
import queue
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kb import forked
from kb import progress as progress_bars
from kb.errors import KbError, UsageError
from kb.files import FileProblem, inside, read_bounded, walk
from kb.load import MAX_TEXT_BYTES
from kb.model import KnowledgeBase
from kb.site import fastpath, incremental, keep, navmemo, pages, rendercache, searchpages, uptodate
from kb.site.text import attr
from kb.weigh import Weights, compute

DEFAULT_OUT = Path("build") / "site"
SITE_FOLDER = "site"
CONFIG_NAME = "mkdocs.yml"
HANDWRITTEN = "docs"
STYLESHEET = "assets/kb/kb.css"
# The search box: kb's own (the same analysis and ranking as `kb search`), replacing the theme's.
SEARCH_SCRIPT = "assets/kb/search.js"
SEARCH_INDEX = "search-index.js"
# Written into every built site: kb replaces an existing output folder only when it finds this.
MARKER = ".kb-site"


class SiteBuildError(KbError):
    """The site generator failed; the previous site is left as it was."""


@dataclass
class BuildResult:
    out: Path
    pages: int  # Markdown pages rendered (generated and hand-written)
    generated: int  # files kb generated (pages, pictures, data)
    warnings: list[str] = field(default_factory=list)
    seconds_generating: float = 0.0
    seconds_total: float = 0.0
    reused: int = 0  # pages whose rendered HTML was kept from the last build
    written: list[str] = field(default_factory=list)  # generated files whose text changed
    removed: list[str] = field(default_factory=list)  # generated files no longer in the site


def config_file(kb_root: Path) -> Path:
    """The knowledge base's own ``site/mkdocs.yml``, else the package default."""
    own = kb_root / SITE_FOLDER / CONFIG_NAME
    if own.is_file():
        return own
    return Path(str(resources.files("kb.site").joinpath(CONFIG_NAME)))


def default_out(kb_root: Path) -> Path:
    return kb_root / DEFAULT_OUT


def handwritten_pages(config: Path) -> dict[str, Path]:
    """Relative path -> file, for every file in the ``docs/`` folder beside the configuration.

    Like everything kb reads, these are regular files inside the folder holding the site's
    configuration folder (the knowledge base, for its own ``site/``): a link to a file elsewhere
    (that would publish it), a FIFO or a device is a ``SiteBuildError`` naming it.
    """
    folder = config.parent / HANDWRITTEN
    if not folder.is_dir():
        return {}
    found, refused = walk(folder, config.parent.parent)
    if refused:
        first = refused[0]
        raise SiteBuildError(f"{first.path}: {first.message}")
    pages = {}
    for path in found:
        if not inside(path, config.parent.parent):
            raise SiteBuildError(
                f"{path}: is a link to a file outside the knowledge-base folder; kb does not read it"
            )
        pages[path.relative_to(folder).as_posix()] = path
    return pages


def read_page(path: Path) -> bytes:
    """A hand-written page's bytes, read as a regular file of bounded size (handwritten_pages
    checked where it lies)."""
    try:
        return read_bounded(path, MAX_TEXT_BYTES)
    except FileProblem as exc:
        raise SiteBuildError(f"{path}: {exc.message}") from exc


def input_stats(kb_root: Path, config: Path) -> list[tuple[str, os.stat_result]]:
    """Every file a build reads, with its status: kb.yaml, the site configuration, claims, sources,
    hand-written pages. Regular files only (a link to one counts, a linked folder is not entered, as
    with ``Path.rglob``), walked with ``os.scandir``: at 10,000 claims Path objects for every file took
    a second of a rebuild, and kb serve looks several times a second."""
    out: list[tuple[str, os.stat_result]] = []

    def add(path: str) -> None:
        try:
            info = os.stat(path)
        except OSError:
            return
        if stat.S_ISREG(info.st_mode):
            out.append((path, info))

    def walk(folder: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_folder:
                walk(entry.path)
            else:
                add(entry.path)

    add(str(kb_root / "kb.yaml"))
    add(str(config))
    for folder in (kb_root / "claims", kb_root / "sources", config.parent / HANDWRITTEN):
        walk(str(folder))
    return out


def input_files(kb_root: Path, config: Path) -> list[Path]:
    """Every file a build reads (:func:`input_stats`)."""
    return [Path(path) for path, _ in input_stats(kb_root, config)]


def source_date_epoch(kb_root: Path, config: Path) -> str:
    """``SOURCE_DATE_EPOCH`` if set, else the newest modification time among the inputs."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    return str(int(max((info.st_mtime for _, info in input_stats(kb_root, config)), default=0.0)))


def check_out(out: Path, kb_root: Path, config: Path) -> None:
    """Refuse an output folder whose replacement would delete something that is not a kb site."""
    resolved = out.resolve()
    for protected in (kb_root.resolve(), config.parent.resolve()):
        if protected == resolved or protected.is_relative_to(resolved):
            raise UsageError(f"--out {out}: would replace the folder holding the knowledge base or its site")
    for inputs in (kb_root / "claims", kb_root / "sources", config.parent / HANDWRITTEN):
        if resolved.is_relative_to(inputs.resolve()):
            raise UsageError(f"--out {out}: is inside {inputs}, which kb reads; build somewhere else")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"--out {out}: the folder exists and was not built by kb; give an empty or new folder"
        )


@contextlib.contextmanager
def _swap_lock(out: Path) -> Iterator[None]:
    """One swap at a time per output folder, across processes."""
    lock_path = out.parent / f".{out.name}.lock"
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


TEMP_PREFIXES = ("kb-docs-", "kb-serve-docs-", "kb-serve-site-")
# A temporary folder younger than this may belong to a process that has not locked it yet (or to
# a kb from before folders were locked).
STALE_SECONDS = 600


def remove_stale(out: Path) -> list[Path]:
    """Remove what killed builds left behind; returns what was removed.

    Beside ``out``: the ``.<out>.new-*`` and ``.<out>.old-*`` folders of builds into ``out``. The
    caller holds the lock every build into ``out`` takes, so none of them is in use. In the
    temporary folder: kb's ``kb-docs-*`` and ``kb-serve-*`` folders that no running kb holds
    locked (``hold``) and that are older than ten minutes.
    """
    removed = []
    for pattern in (f".{out.name}.new-*", f".{out.name}.old-*"):
        for folder in out.parent.glob(pattern):
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed + remove_stale_temporary()


def remove_stale_temporary() -> list[Path]:
    """Remove kb's temporary folders that no running kb holds (see remove_stale)."""
    removed = []
    now = time.time()
    temp = Path(tempfile.gettempdir())
    for prefix in TEMP_PREFIXES:
        for folder in temp.glob(f"{prefix}*"):
            try:
                info = folder.lstat()
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            if now - info.st_mtime < STALE_SECONDS or _locked(folder):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _locked(folder: Path) -> bool:
    fd = try_hold(folder)
    if fd is None:
        return True  # held by a running kb, or cannot tell: leave it
    os.close(fd)  # closing releases the lock this call took
    return False


def try_hold(folder: Path) -> int | None:
    """Lock a folder for as long as the returned descriptor is open, if no running kb holds it (see
    ``hold``); None where one does, or the folder cannot be opened (a link is not followed)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def hold(folder: Path) -> int:
    """Lock a temporary folder for as long as the returned descriptor is open (see remove_stale)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def swap_into_place(built: Path, out: Path) -> None:
    """Replace ``out`` by ``built``: two renames under a lock, then the old site is deleted."""
    trash = None
    with _swap_lock(out):
        if out.exists():
            trash = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
            os.replace(out, trash / "site")
        os.replace(built, out)
    if trash is not None:
        remove_in_background(trash)


def remove_in_background(folder: Path) -> None:
    """Delete a folder nobody reads any more (the old site, renamed aside) without waiting.

    Deleting a site's thousands of files can take longer than rendering the pages that changed
    (each unlink costs milliseconds on a disk mounted with ``discard``), so a separate ``rm``
    deletes it while kb returns; a build that finds one left over (``remove_stale``) deletes it.
    """
    try:
        subprocess.Popen(
            ["rm", "-rf", "--", str(folder)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)


class DocsFolder:
    """The docs folder MkDocs renders, brought to hold exactly the files given to it (``put``, once
    each, as they are made) and the hand-written pages, writing only the files whose bytes differ
    from what is there: nothing of a file is kept once it is written, but its path. ``finish``
    writes the hand-written pages, removes what is no longer wanted and says what changed.

    With ``background``, the files are compared and written by a thread while the caller goes on
    making the next ones (creating a file costs up to a millisecond of waiting on the disk, a
    fifth of making a site's pages; the thread waits while the caller computes). At most
    ``QUEUED`` files wait to be written; an error writing one is raised by the next ``put`` or by
    ``finish``. ``stop`` ends the thread (``finish`` does) without raising, for a build that fails.
    """

    QUEUED = 64

    def __init__(self, folder: Path, background: bool = False) -> None:
        self.folder = folder
        self.names: set[str] = set()
        self.written: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[str, bytes] | None] | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._queue = queue.Queue(maxsize=self.QUEUED)
            self._thread = threading.Thread(target=self._write_queued, name="kb-docs-writer", daemon=True)
            self._thread.start()

    def put(self, rel: str, content: str | bytes | None) -> None:
        """A file of the docs folder; ``None``: the file is there as the last build left it, and stays
        (kb.site.incremental checked it)."""
        if rel in self.names:
            raise ValueError(f"{rel}: given twice to the docs folder")
        self.names.add(rel)
        if content is None:
            return
        data = content.encode("utf-8") if isinstance(content, str) else content
        if self._queue is None:
            self._write(rel, data)
            return
        self._raise_error()
        self._queue.put((rel, data))

    def _write(self, rel: str, data: bytes) -> None:
        target = self.folder / rel
        if target.is_file() and target.read_bytes() == data:
            return
        rendercache.write_unsynced(target, data)
        self.written.append(rel)

    def _write_queued(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after an error the files are only taken off the queue
                try:
                    self._write(*item)
                except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                    self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def stop(self) -> None:
        """Wait for the files given so far to be written (or failed) and end the writing thread."""
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
        self._thread = self._queue = None

    def finish(self, handwritten: dict[str, Path] | None = None) -> tuple[list[str], list[str]]:
        """The hand-written pages written too, then every other file removed (and the folders left
        empty); returns the files written and those removed, each sorted."""
        self.stop()
        self._raise_error()
        for rel, path in sorted((handwritten or {}).items()):
            self.put(rel, read_page(path))
        # walked with os.walk (as Path.rglob: a linked folder is not entered), deepest paths first:
        # at 10,000 claims Path objects for the docs folder's files took 1.5 s of a rebuild
        root = str(self.folder)
        found: list[tuple[list[str], bool]] = []  # (the path's parts, whether a folder)
        for here, folders, files in os.walk(root):
            parts = os.path.relpath(here, root).split(os.sep) if here != root else []
            found.extend(([*parts, name], True) for name in folders)
            found.extend(([*parts, name], False) for name in files)
        found.sort(reverse=True)
        removed = []
        for parts, is_folder in found:
            rel = "/".join(parts)
            path = os.path.join(root, *parts)
            if not is_folder:
                if rel not in self.names and os.path.isfile(path):
                    os.unlink(path)
                    removed.append(rel)
            elif os.path.isdir(path) and not os.listdir(path):
                os.rmdir(path)
        return sorted(self.written), removed


@contextlib.contextmanager
def _cache_lock(cache: Path) -> Iterator[None]:
    """One build at a time uses a cache folder, across processes."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stylesheet() -> str:
    return resources.files("kb.site").joinpath("assets/kb.css").read_text(encoding="utf-8")


def search_files(
    kb: KnowledgeBase,
    weights: Weights,
    directory_urls: bool,
    entries: searchpages.Entries | None = None,
    handwritten: dict[str, Path] | None = None,
    built: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The search box's script and its index (plain data, loaded as a script so it works from disk too):
    the claims, then the site's other pages (``entries``, those of the generated ones; ``handwritten``)."""
    import json

    from kb import search

    def claim_url(claim_id: str) -> str:
        return pages.page_url(pages.claim_page(claim_id), directory_urls)

    texts = {
        name: read_page(path).decode("utf-8", "replace")
        for name, path in (handwritten or {}).items()
        if name.endswith(".md")
    }
    if entries is None:
        entries = searchpages.Entries(kb, directory_urls)
    data = search.site_index(kb, weights, claim_url, entries.all(weights, texts), built)
    script = resources.files("kb.site").joinpath("assets/search.js").read_text(encoding="utf-8")
    # ASCII, and no "<": nothing in the data can end a script, even if the file were inlined
    payload = json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")
    return {SEARCH_SCRIPT: script, SEARCH_INDEX: f"window.kbSearchIndex = {payload};\n"}


class Ahead:
    """Work of a build that needs only the weighed knowledge base, done by a forked child on the second
    processor while this process makes the pages: the consensus report's Markdown, the data files
    ``data/kb.json`` and ``data/contradictions.json`` and the search index's analysis of the claims
    (kb.search.build_data).
    Its results are the same as this process would make (the child is a copy of it); when the child
    cannot start or fails, this process makes them itself.
    ``also``: a last errand for the child that gives nothing back (keeping the weights for the next
    command); ``done_also`` says whether the child did it.
    ``close`` waits for the child (call it also when the build fails)."""

    DATA = "data/kb.json"
    ALSO = "also"

    def __init__(
        self,
        kb: KnowledgeBase,
        weights: Weights,
        handwritten: Iterable[str] = (),
        directory_urls: bool = False,
        report_memo: Any = None,
        also: Callable[[], None] | None = None,
    ) -> None:
        from kb import contradictions, search
        from kb.export import to_json

        def work() -> dict[str, Any]:
            found = contradictions.find_contradictions(kb, weights)
            matrix = contradictions.agreement_matrix(kb, weights, found)
            result = {
                pages.REPORT_SPLIT: pages.report_split(
                    kb, weights, found, matrix, handwritten, directory_urls, report_memo
                ),
                self.DATA: to_json(kb, weights),
                pages.CONTRADICTIONS_JSON: pages.contradictions_json(kb, weights, found, matrix),
                "search": search.build_data(kb, weights, details=False),
            }
            if also is not None:
                also()
                result[self.ALSO] = True
            return result

        self._wait: Callable[[], Any] | None = forked.start(work) if forked.can_fork() else None
        self._result: dict[str, Any] = {}

    def close(self) -> dict[str, Any]:
        if self._wait is not None:
            wait, self._wait = self._wait, None
            result = wait()
            self._result = result if isinstance(result, dict) else {}
        return self._result

    def file(self, path: str) -> Any:
        """What was made ahead under ``path`` (a data file's text, the report's parts), once (it is let
        go), or None."""
        return self.close().pop(path, None)

    def search_data(self) -> dict[str, Any] | None:
        found = self.close().pop("search", None)
        return found if isinstance(found, dict) else None

    def done_also(self) -> bool:
        return self.close().get(self.ALSO) is True


def generated_files(
    kb: KnowledgeBase,
    weights: Weights,
    handwritten: dict[str, Path],
    directory_urls: bool,
    sink: pages.Sink,
    progress: progress_bars.Progress = progress_bars.quiet,
    reuse: incremental.Reuse | None = None,
    seen: Callable[[pages.SiteData], None] | None = None,
    ahead: Ahead | None = None,
) -> int:
    """Every file kb writes into the docs folder, each given to ``sink(path, text)`` as it is made;
    returns how many. A hand-written page may not take a generated name (a ``UsageError`` naming
    each, once every page is made). With ``reuse``, a file whose inputs did not change since the last
    build is given as ``None``: the sink keeps it as it is (kb.site.incremental). ``seen``, if given,
    is called with the model of the pages once they are made (kb serve's preview keeps what it needs
    of it: where the anchors of the pages cut into parts went, the clashes). ``ahead``: what a forked
    child made meanwhile (``Ahead``)."""
    entries = searchpages.Entries(kb, directory_urls)
    clashes: list[str] = []
    count = 0

    def put(path: str, text: str | None) -> None:
        nonlocal count
        if path in handwritten:
            clashes.append(path)
            return
        entries.add(path, text)
        sink(path, text)
        count += 1

    with progress("generating pages", pages.generated_steps(kb)) as advance:
        data = pages.site_data(kb, weights, handwritten=handwritten, directory_urls=directory_urls)
        made = ahead.file if ahead is not None else None
        pages.generate(data, put, advance, reuse, made)
        if seen is not None:
            seen(data)
        del data  # the model of the pages is not needed for the search index
    put(STYLESHEET, stylesheet())
    progress_bars.checkpoint()
    built = ahead.search_data() if ahead is not None else None
    for path, text in search_files(kb, weights, directory_urls, entries, handwritten, built).items():
        put(path, text)
    if clashes:
        names = ", ".join(f"{SITE_FOLDER}/{HANDWRITTEN}/{c}" for c in sorted(clashes))
        raise UsageError(f"{names}: kb generates a page with this name; rename the hand-written file")
    return count


def prune_nav(nav: Any, present: set[str]) -> Any:
    """The nav without entries for pages this site does not have (a hand-written page that is missing)."""
    if isinstance(nav, list):
        kept = [prune_nav(item, present) for item in nav]
        return [item for item in kept if item not in (None, [], {})]
    if isinstance(nav, dict):
        kept = {key: prune_nav(value, present) for key, value in nav.items()}
        return {key: value for key, value in kept.items() if value not in (None, [], {})}
    if isinstance(nav, str) and nav.endswith(".md"):
        return nav if nav in present else None
    return nav


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _mkdocs_logging() -> Iterator[_Warnings]:
    """MkDocs' warnings collected (for kb to print its own way), its info messages silenced."""
    logger = logging.getLogger("mkdocs")
    handler = _Warnings()
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def config_overrides(kb: KnowledgeBase, docs: Path) -> dict[str, Any]:
    """What kb sets over the site configuration: the title and description, the docs folder, and
    the site's address when kb.yaml gives one (``site_url``: the sitemap lists pages only then)."""
    return {
        "site_name": attr(kb.config.title),  # themes insert it unescaped
        "site_description": attr(kb.config.description) or None,
        "docs_dir": str(docs),
        "site_url": kb.config.site_url,  # None leaves the configuration's own
    }


# Strings the theme writes with an absolute path on the 404 page when no site address is known
# ("/assets/...", "/claims.html", a base of "/").
_ROOT_PATH = re.compile(r'"/(?![/>])')


def _site_fixes_plugin(site_name: str):
    """Fixes to the theme's output: the site name escaped once in the logo's tooltip (the theme
    escapes the already escaped name again), and, without a site address, a 404 page whose links
    work from any folder the site is served from or opened in."""
    from markupsafe import escape
    from mkdocs.plugins import BasePlugin

    twice = f'title="{escape(site_name)}"'
    once = f'title="{site_name}"'

    class SiteFixes(BasePlugin):
        def on_post_page(self, output: str, **_: Any) -> str:
            return output.replace(twice, once)

        def on_post_template(self, output_content: str, template_name: str, config: Any) -> str:
            output_content = output_content.replace(twice, once)
            if template_name == "404.html" and not config.site_url:
                output_content = _ROOT_PATH.sub('"', output_content.replace('"base": "/"', '"base": "."'))
            return output_content

    return SiteFixes()


def load_mkdocs_config(config: Path, kb: KnowledgeBase, docs: Path, site: Path):
    """MkDocs' configuration for one build: the file, with kb's title, docs folder and output folder."""
    from mkdocs.config import load_config

    loaded = load_config(config_file=str(config), site_dir=str(site), **config_overrides(kb, docs))
    # kb's search box replaces the theme's, whose index knows no synonyms, typos or strengths
    for name in ("search", "material/search"):
        plugin = loaded.plugins.get(name)
        if plugin is not None:
            del loaded.plugins[name]
            # MkDocs registered the plugin's event handlers when it was added: drop those too
            for handlers in loaded.plugins.events.values():
                handlers[:] = [h for h in handlers if getattr(h, "__self__", None) is not plugin]
    if SEARCH_SCRIPT not in [str(script) for script in loaded.extra_javascript]:
        loaded.extra_javascript.append(SEARCH_SCRIPT)
    return loaded


def _release_plugin(spill_dir: Path | None = None):
    """Keeps the pages' Markdown and HTML out of memory. MkDocs converts every page first, then
    puts every page into the theme, and keeps every page's Markdown and HTML until the end of the
    build (its last step, the anchor check, needs only the anchors): at 10,000 claims that was most
    of a build's memory. Here a page's Markdown is let go once it is converted (nothing later reads
    its text), its HTML is set aside in one temporary file (in ``spill_dir``) until the theme needs it,
    and both are let go once the page is written."""
    from mkdocs.plugins import BasePlugin, event_priority

    class Release(BasePlugin):
        def __init__(self) -> None:
            super().__init__()
            self.spill: Any = None  # the temporary file, opened at the first page with HTML
            self.size = 0
            self.aside: dict[str, tuple[int, int]] = {}  # page path -> (offset, length) in the file

        @event_priority(-100)  # after every other plugin has seen the page's HTML
        def on_page_content(self, html: str, page: Any, **_: Any) -> str:
            # emptied, not None: MkDocs takes a page whose Markdown is None for one not read, without a title
            page.markdown = ""
            if not html:
                return html
            if self.spill is None:
                # closed at the end of the build (or with the process); it has no name to remove
                self.spill = tempfile.TemporaryFile(dir=spill_dir, buffering=0)  # noqa: SIM115
            data = html.encode("utf-8", "surrogatepass")
            view = memoryview(data)
            while view:
                view = view[os.pwrite(self.spill.fileno(), view, self.size + len(data) - len(view)) :]
            self.aside[page.file.src_uri] = (self.size, len(data))
            self.size += len(data)
            return ""

        @event_priority(100)  # before any other plugin looks at the page in the theme
        def on_page_context(self, context: Any, page: Any, **_: Any) -> Any:
            found = self.aside.pop(page.file.src_uri, None)
            if found is not None:
                offset, length = found
                data = os.pread(self.spill.fileno(), length, offset)  # whole, from a regular file
                while len(data) < length:
                    more = os.pread(self.spill.fileno(), length - len(data), offset + len(data))
                    if not more:
                        raise OSError(f"the HTML of {page.file.src_uri} set aside during the build is gone")
                    data += more
                page.content = data.decode("utf-8", "surrogatepass")
            return context

        @event_priority(-100)  # after every other plugin has seen the page
        def on_post_page(self, output: str, page: Any, **_: Any) -> str:
            # the title is worked out from the Markdown: pin it, for the navigation of later pages
            page.title = page.title
            page.markdown = None
            page.content = None
            return output

        def on_post_build(self, **_: Any) -> None:
            if self.spill is not None:
                self.spill.close()
                self.spill = None

        def on_shutdown(self) -> None:
            self.on_post_build()

    return Release()


def _progress_plugin(advance):
    from mkdocs.plugins import BasePlugin

    class Progress(BasePlugin):
        # MkDocs converts every page, then renders every page into the theme: a step for each
        def on_page_content(self, html: str, **_: Any) -> str:
            advance(1)
            return html

        def on_post_page(self, output: str, **_: Any) -> str:
            advance(1)
            return output

    return Progress()


# Pages whose Markdown changed, from which a build renders them with several processes.
PARALLEL_MIN_PAGES = 200
# ... and the share of all pages they must be: each worker goes through every page of the site
# (about half a millisecond a page) to render its share of the changed ones (about ten
# milliseconds a page), so with two workers a rebuild gains only when more than about a ninth of
# the pages changed. At 10,000 claims a stance flip changes 218 of 12,290 pages: with workers that
# rebuild took 25-27 s, in one process 18-19 s.
PARALLEL_MIN_SHARE = 1 / 8


def render_workers(mkdocs_config, changed_pages: int, total_pages: int) -> int:
    """How many processes render the pages: one per processor (at most four) when many pages
    changed, and a good share of all, and only kb's own plugins take part (kb.site.rendercache),
    else one."""
    if changed_pages < PARALLEL_MIN_PAGES or changed_pages < total_pages * PARALLEL_MIN_SHARE:
        return 1
    if not hasattr(os, "fork"):
        return 1
    if any(name not in rendercache.KB_PLUGINS for name in mkdocs_config.plugins):
        return 1
    return max(1, min(4, forked.processors()))


def fill_cache_in_parallel(
    mkdocs_config, cache: Path, workers: int, known: dict[str, dict[str, Any]] | None = None
) -> int:
    """Render the pages the cache lacks with ``workers`` forked processes, each building the
    site into a scratch folder but rendering only its share of the pages (kb.site.rendercache).

    What a worker renders is what a single build renders (the same configuration, navigation
    and files); the build that follows reuses every page, as a rebuild does, so the site is the
    same bytes. A worker that fails only leaves its pages to that build. Returns how many
    pages the workers rendered; ``known`` (a dict) is given what they learned of each page stored,
    by render cache key (the build that follows then reads each page's entry once, not twice).
    """
    from mkdocs.commands.build import build

    scratch = Path(tempfile.mkdtemp(dir=cache, prefix="workers-"))
    children = []
    for number in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 1
            # kb build pauses the cycle collector (kb.cli.batch); a worker renders thousands of pages
            # with MkDocs, whose objects may form cycles: it collects them, as a build always has
            gc.enable()
            try:
                mkdocs_config.site_dir = str(scratch / str(number))
                plugin = rendercache.make_plugin(cache / "html", share=(number, workers))
                mkdocs_config.plugins[rendercache.PLUGIN_NAME] = plugin
                mkdocs_config.plugins["kb-site-fixes"] = _site_fixes_plugin(mkdocs_config.site_name)
                mkdocs_config.plugins["kb-release"] = _release_plugin(scratch)
                mkdocs_config.plugins[navmemo.PLUGIN_NAME] = navmemo.make_plugin()
                mkdocs_config.plugins.on_startup(command="build", dirty=False)
                with fastpath.applied():
                    build(mkdocs_config)
                made = json.dumps(plugin.made, ensure_ascii=False, separators=(",", ":"))
                rendercache.write_unsynced(scratch / f"{number}.made.json", made.encode("utf-8"))
                (scratch / f"{number}.rendered").write_text(str(plugin.rendered))
                code = 0
            except BaseException:  # noqa: BLE001 - the build that follows renders what is missing
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    rendered = 0
    for number in range(workers):
        with contextlib.suppress(OSError, ValueError):
            rendered += int((scratch / f"{number}.rendered").read_text())
            if known is not None:
                made = json.loads((scratch / f"{number}.made.json").read_bytes())
                if isinstance(made, dict):
                    known.update(made)
    remove_in_background(scratch)
    return rendered


def render(
    mkdocs_config,
    total_pages: int,
    progress: progress_bars.Progress,
    cache: Path | None = None,
    previous: keep.Previous | None = None,
    known: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """Run MkDocs on a loaded configuration; returns its warnings, raises SiteBuildError on failure.

    With ``cache`` (a folder), pages whose rendered HTML is there from an earlier build are not
    rendered again (kb.site.rendercache). With ``previous`` too, the files the previous site holds
    as this build would write them are kept from it (kb.site.keep): the configuration's
    ``site_dir`` must be a new, empty folder. ``known``: what fill_cache_in_parallel's workers
    learned of the pages they stored.
    """
    from mkdocs.commands.build import build
    from mkdocs.exceptions import MkDocsException

    dirty = cache is not None and previous is not None
    quiet = keep.DirtyWarningFilter()
    build_log = logging.getLogger("mkdocs.commands.build")
    with _mkdocs_logging() as warnings, progress("rendering pages", 2 * total_pages) as advance:
        mkdocs_config.plugins["kb-progress"] = _progress_plugin(advance)
        if cache is not None:
            if previous is not None:
                previous.on_kept = lambda: advance(2)
            mkdocs_config.plugins[rendercache.PLUGIN_NAME] = rendercache.make_plugin(
                cache / "html", previous=previous, known=known
            )
        mkdocs_config.plugins["kb-site-fixes"] = _site_fixes_plugin(mkdocs_config.site_name)
        mkdocs_config.plugins["kb-release"] = _release_plugin(cache)
        mkdocs_config.plugins[navmemo.PLUGIN_NAME] = navmemo.make_plugin()
        mkdocs_config.plugins.on_startup(command="build", dirty=dirty)
        build_log.addFilter(quiet)
        try:
            # dirty: MkDocs asks each file whether it is modified (kb.site.keep answers) and
            # does not empty the output folder, which is new
            with fastpath.applied():
                build(mkdocs_config, dirty=dirty)
        except MkDocsException as exc:
            raise SiteBuildError(f"the site generator failed: {exc}") from exc
        finally:
            build_log.removeFilter(quiet)
            mkdocs_config.plugins.on_shutdown()
    return warnings.messages


def _out_folder(kb_root: Path, out: Path | None) -> Path:
    """``out`` as :func:`build_site` builds into it (absolute; the default when None)."""
    return (Path(out) if out is not None else default_out(kb_root)).absolute()


def look(kb_root: Path, out: Path | None = None) -> uptodate.Look | None:
    """What a build into ``out`` would be built from, as it is now (kb.site.uptodate): taken before
    the knowledge base is read, for :func:`already_built` and :func:`build_site`'s ``seen``."""
    out = _out_folder(kb_root, out)
    return uptodate.look(kb_root, config_file(kb_root).absolute(), out, incremental.code_fingerprint())


def already_built(kb_root: Path, out: Path | None, seen: uptodate.Look | None) -> uptodate.Current | None:
    """The site in ``out`` when the last build made it from the inputs ``seen`` and it is still as it
    was made: nothing to build. None otherwise."""
    if seen is None:
        return None
    out = _out_folder(kb_root, out)
    cache = rendercache.cache_folder(out)
    if not (cache / uptodate.RECORD).is_file():
        return None
    with _cache_lock(cache):  # not while another build swaps its site in
        return uptodate.current(cache, out, seen)


def _reads_elsewhere(mkdocs_config: Any, config: Path) -> bool:
    """Whether rendering may read files of the user's outside the site folder, which the record of
    what the site is built from does not look at (kb.site.uptodate): a theme folder there (a
    custom_dir), or a Markdown extension other than those that read nothing (one may include files)."""
    if any(
        not folder.absolute().is_relative_to(config.parent)
        for folder in rendercache.own_theme_dirs(mkdocs_config)
    ):
        return True
    names = {str(name).removeprefix("markdown.extensions.") for name in mkdocs_config.markdown_extensions}
    return not names <= uptodate.READ_NOTHING


def build_site(
    kb: KnowledgeBase,
    out: Path | None = None,
    *,
    weights: Weights | None = None,
    progress: progress_bars.Progress = progress_bars.quiet,
    parallel: bool = True,
    preview: Any = None,
    keep_weights: Callable[[], None] | None = None,
    seen: uptodate.Look | None = None,
) -> BuildResult:
    """Build the site of a loaded, valid knowledge base into ``out`` (default ``<kb>/build/site``).

    ``keep_weights``, if given, keeps the weights for the next command (kb.resultcache): called by the
    forked child that makes the data files, while this process makes the pages; else once the site is
    built.
    ``parallel=False`` renders in this process only (kb serve, whose threads must not be forked).
    ``preview`` (kb serve's kb.site.preview.Preview) takes part in the rendering as an MkDocs plugin
    that reads nothing and changes nothing: it keeps the site's configuration, files, navigation and
    templates for rendering a few pages ahead of the next build.
    ``seen``: the inputs as :func:`look` found them before the knowledge base was read; the site built
    is recorded as made from them, so that the next build finds nothing to do while they stay so.
    """
    started = time.perf_counter()
    root = kb.root
    # absolute: MkDocs resolves relative folders against the configuration file's folder
    shown = Path(out) if out is not None else default_out(root)
    out = shown.absolute()
    config = config_file(root).absolute()
    check_out(out, root, config)
    weights = weights if weights is not None else compute(kb)
    handwritten = handwritten_pages(config)
    # each page made or rendered is a checkpoint too (kb serve holds its rebuild there for a preview)
    progress = progress_bars.pausing(progress)
    try:
        return _build(
            kb, root, out, shown, config, weights, handwritten, progress, started, parallel, preview,
            keep_weights, seen,
        )  # fmt: skip
    except OSError as exc:  # a read-only or full output folder, a missing permission...
        where = f" ({exc.filename})" if exc.filename else ""
        raise SiteBuildError(f"cannot build the site into {shown}: {exc.strerror or exc}{where}") from exc


def _build(
    kb: KnowledgeBase,
    root: Path,
    out: Path,
    shown: Path,
    config: Path,
    weights: Weights,
    handwritten: dict[str, Path],
    progress: progress_bars.Progress,
    started: float,
    parallel: bool = True,
    preview: Any = None,
    keep_weights: Callable[[], None] | None = None,
    seen: uptodate.Look | None = None,
) -> BuildResult:
    out.parent.mkdir(parents=True, exist_ok=True)
    # The generated Markdown and the rendered pages of the last build are kept beside the site, so
    # that the next build writes and renders only what changed (kb.site.rendercache).
    cache = rendercache.cache_folder(out)
    with _cache_lock(cache):
        remove_stale(out)
        docs = cache / "docs"
        docs.mkdir(exist_ok=True)
        built = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
        try:
            os.chmod(built, 0o755)  # mkdtemp makes it private; a site is for reading
            mkdocs_config = load_mkdocs_config(config, kb, docs, built)
            generating = time.perf_counter()
            directory_urls = bool(mkdocs_config.use_directory_urls)
            # each generated file is written as it is made: no page's text stays in memory, neither
            # while the others are made nor while MkDocs renders them (the rendering processes are
            # forked from this one, each with a copy of what it holds)
            # the pages the last build made from the same inputs are kept (kb.site.incremental)
            reuse = incremental.Reuse.open(cache)
            # started before the docs folder's writing thread: a process with threads is not forked
            ahead = None
            if parallel:
                site = incremental.site_fingerprint(
                    kb, weights, directory_urls, handwritten, pages.PAGE_LIMIT
                )
                memo = reuse.split_memo(pages.REPORT, site)
                ahead = Ahead(kb, weights, handwritten, directory_urls, memo, keep_weights)
            docs_folder = DocsFolder(docs, background=True)
            try:
                generated = generated_files(
                    kb, weights, handwritten, directory_urls, docs_folder.put, progress, reuse,
                    seen=preview.start(directory_urls, handwritten) if preview is not None else None,
                    ahead=ahead,
                )  # fmt: skip
                progress_bars.checkpoint()
                written, removed = docs_folder.finish(handwritten)
            finally:
                docs_folder.stop()  # no thread is left running, nor forked with the render workers
                if ahead is not None:
                    ahead.close()  # the child is waited for, also when the build fails
            progress_bars.checkpoint()
            reuse.save(cache)
            progress_bars.checkpoint()
            seconds_generating = time.perf_counter() - generating
            present = docs_folder.names
            mkdocs_config.nav = prune_nav(mkdocs_config.nav, present)
            page_count = sum(1 for name in present if name.endswith(".md"))
            with _environment("SOURCE_DATE_EPOCH", source_date_epoch(root, config)):
                changed = sum(1 for name in written if name.endswith(".md"))
                workers = render_workers(mkdocs_config, changed, page_count) if parallel else 1
                filled = 0
                known: dict[str, dict[str, Any]] = {}
                if workers > 1:
                    with _mkdocs_logging():  # the build that follows gives every warning
                        filled = fill_cache_in_parallel(mkdocs_config, cache, workers, known)
                previous = keep.Previous(cache, out, MARKER)
                progress_bars.checkpoint()
                if preview is not None:
                    mkdocs_config.plugins[rendercache.PREVIEW_PLUGIN] = preview.plugin()
                warnings = render(
                    mkdocs_config, page_count, progress, cache=cache, previous=previous, known=known
                )
                del known
            # pages kept from an earlier build (not those the workers rendered just now)
            reused = getattr(mkdocs_config.plugins.get(rendercache.PLUGIN_NAME), "reused", 0) - filled
            (built / MARKER).write_text("built by kb build; kb replaces this folder on the next build\n")
            swap_into_place(built, out)
        except BaseException:
            shutil.rmtree(built, ignore_errors=True)  # only unlinks what was kept of the old site
            raise
        if previous.site_key:  # what the site in place holds, for the next build to keep
            previous.save()
        else:  # the render cache was off (another plugin takes part): nothing is kept next time
            previous.forget()
        if seen is not None and previous.site_key and not _reads_elsewhere(mkdocs_config, config):
            uptodate.save(cache, out, seen, page_count, warnings)
        else:
            uptodate.forget(cache)
    if keep_weights is not None and not (ahead is not None and ahead.done_also()):
        keep_weights()
    return BuildResult(
        out=shown,
        pages=page_count,
        generated=generated,
        warnings=warnings,
        seconds_generating=seconds_generating,
        seconds_total=time.perf_counter() - started,
        reused=reused,
        written=written,
        removed=removed,
    )
