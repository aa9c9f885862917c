"""Rebuilds that keep the previous site's unchanged files instead of writing them again.

The render cache (kb.site.rendercache) spares a rebuild the conversion of unchanged pages, but
MkDocs still goes through every page and file: reads each page's cached HTML, puts it into a
new folder, copies every picture and theme file. At thousands of pages that alone is seconds.
This module lets MkDocs touch only what changed:

- After a build has been swapped into place, a *manifest* is written beside the site (in its
  cache folder): the site-level key of the render cache (configuration, navigation,
  versions, theme), the identity of the site's marker file, and for each file MkDocs placed, the
  size, times and SHA-256 of its source and the size, time and inode of what it wrote; for
  each page what other pages and checks learn from it when it is rendered (its title, its
  metadata, its anchors, its links to anchors of other pages, its warnings).
- The next build (MkDocs' ``dirty`` mode) finds, before anything is written, which files are
  *unmodified*: the site key is the manifest's, the previous site is the one the manifest
  describes, the source has the same bytes (the same size and times, else the same SHA-256)
  and the file MkDocs wrote is still there as it was. Those are hard-linked from the previous
  site into the new folder and MkDocs skips them (``File.is_modified``, shadowed per file); the
  others are written as a cold build writes them, into paths that do not exist yet, so nothing
  is ever written through a link into the previous site. An unmodified page's title, metadata,
  anchors and links are restored and its warnings given again at the point a cold build would
  give them, so the navigation of the pages that are rendered, the anchor checks and the
  warnings are those of a cold build.

Anything else (no manifest, another site key, a site that is not the one described) makes every
file modified: a full pass through the render cache, as before. A build that fails leaves the
previous site and its manifest as they were; a crash between the swap and the new manifest
leaves a manifest whose marker no longer matches, so the next build is a full pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from kb.cache import read_sealed_json, seal
from kb.progress import pausable

FORMAT = 3  # 3: a page's links to its own anchors that it has are not recorded
MANIFEST = "site.json"
# MkDocs' own message for a dirty build, meant for `mkdocs build --dirty` users: kb decides what
# is modified itself, so the warning does not apply (kb.site.build filters it out).
DIRTY_WARNING = "A 'dirty' build is being performed"
# Theme templates MkDocs renders on every build; their output is never kept.
ALWAYS_WRITTEN = ("sitemap.xml.gz",)
# How many files the plan looks at between two checkpoints.
CHECKPOINT_EVERY = 256

Stat = list[int]


def _source_stat(info: os.stat_result) -> Stat:
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _output_stat(path: str) -> Stat | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _json_safe(value: Any) -> bool:
    """Whether ``value`` comes back from JSON as it is (front matter can hold dates, say)."""
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError, RecursionError):
        return False


def marker_identity(site: Path, marker: str) -> Stat | None:
    return _output_stat(str(site / marker))


class Previous:
    """What one build keeps of the previous site, and what it records for the next one."""

    def __init__(self, cache: Path, site: Path, marker: str) -> None:
        self.cache = cache
        self.site = site  # the site in place, which this build replaces
        self.marker = marker
        self.file = cache / MANIFEST
        self.old: dict[str, Any] | None = None
        self.site_key = ""
        self.sources: dict[str, dict[str, Any]] = {}  # src_uri -> {"src", "sha", "dest"}
        self.pages: dict[str, dict[str, Any]] = {}  # src_uri -> what the page tells others
        self.kept_pages = 0
        self.kept_files = 0
        self.full_pass = True
        self.on_kept: Callable[[], None] = lambda: None  # called for each kept page, in page order

    # --- the manifest ---

    def _load(self, site_key: str) -> dict[str, Any] | None:
        old = read_sealed_json(self.file, self.cache)
        if not isinstance(old, dict) or old.get("format") != FORMAT or old.get("site_key") != site_key:
            return None
        if not isinstance(old.get("files"), dict) or not isinstance(old.get("pages"), dict):
            return None
        if old.get("marker") is None or old.get("marker") != marker_identity(self.site, self.marker):
            return None  # not the site this manifest describes
        return old

    def save(self) -> None:
        """Record the site now in place (call after the swap; a failed build never gets here)."""
        files = {}
        for uri, record in self.sources.items():
            files[uri] = {**record, "out": _output_stat(os.path.join(self.site, record["dest"]))}
        manifest = {
            "format": FORMAT,
            "site_key": self.site_key,
            "marker": marker_identity(self.site, self.marker),
            "files": files,
            "pages": self.pages,
        }
        from kb.site.rendercache import write_unsynced

        try:
            data = orjson.dumps(manifest)
        except TypeError:  # an integer orjson cannot hold, in a page's metadata
            data = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with contextlib.suppress(OSError):  # without a manifest the next build is a full pass
            write_unsynced(self.file, seal(data))

    def forget(self) -> None:
        """No manifest: the next build is a full pass (a build the render cache cannot help)."""
        with contextlib.suppress(OSError):
            self.file.unlink()

    # --- deciding, before MkDocs writes anything ---

    def plan(
        self,
        files: Any,
        site_key: str,
        config: Any,
        restore: Callable[[Any, dict[str, Any]], None],
        still_found: Callable[[dict[str, bool]], bool],
    ) -> None:
        """Mark each of MkDocs' ``files`` modified or not, and hard-link the unmodified ones'
        output from the previous site into the new one (``config.site_dir``, still empty).

        ``restore(file, record)`` is called for an unmodified page when MkDocs would have read
        it, with what the manifest recorded of it; ``still_found(lookups)`` tells whether the
        paths a page looked up in the file list are found as they were (else it is rendered).
        """
        self.site_key = site_key
        old = self._load(site_key)
        self.full_pass = old is None
        old_files: dict[str, Any] = old["files"] if old else {}
        old_pages: dict[str, Any] = old["pages"] if old else {}
        never = {*config.theme.static_templates, *config.extra_templates, *ALWAYS_WRITTEN, self.marker}
        dests: dict[str, int] = {}
        for file in files:
            dests[file.dest_uri] = dests.get(file.dest_uri, 0) + 1
        new_site = config.site_dir
        made: set[str] = set()
        # kb serve holds its rebuild at the checkpoints while a preview runs (kb.progress)
        for file in pausable(files, CHECKPOINT_EVERY):
            kept = False
            source = file.abs_src_path
            if source is not None and getattr(file, "_content", None) is None:
                try:  # one stat tells a regular file and gives what is recorded of it
                    info = os.stat(source)
                except OSError:
                    info = None
                if info is not None and stat.S_ISREG(info.st_mode):
                    now = _source_stat(info)
                    kept = self._keep(file, source, now, old_files, old_pages, never, dests, still_found)
            if kept:
                folder = os.path.dirname(file.dest_uri)
                if folder not in made:
                    os.makedirs(os.path.join(new_site, folder), exist_ok=True)
                    made.add(folder)
                kept = _link(os.path.join(self.site, file.dest_uri), os.path.join(new_site, file.dest_uri))
            if kept:
                if file.is_documentation_page():
                    self.kept_pages += 1
                    self.pages[file.src_uri] = old_pages[file.src_uri]
                    file.is_modified = _Unmodified(file, old_pages[file.src_uri], restore)
                else:
                    self.kept_files += 1
                    file.is_modified = _never_modified
            else:
                file.is_modified = _always_modified

    def _keep(
        self,
        file: Any,
        source: str,
        now: Stat,
        old_files: dict[str, Any],
        old_pages: dict[str, Any],
        never: set[str],
        dests: dict[str, int],
        still_found: Callable[[dict[str, bool]], bool],
    ) -> bool:
        """Record the file's source (``now``: its _source_stat) for the next build; whether its
        previous output can be kept."""
        uri = file.src_uri
        before = old_files.get(uri)
        if isinstance(before, dict) and before.get("src") == now and before.get("dest") == file.dest_uri:
            sha = before.get("sha")
        else:
            sha = _sha256(source)
        self.sources[uri] = {"src": now, "sha": sha, "dest": file.dest_uri}
        if not isinstance(before, dict) or before.get("sha") != sha or before.get("dest") != file.dest_uri:
            return False
        if file.dest_uri in never or dests[file.dest_uri] > 1:
            return False
        if file.is_documentation_page():
            record = old_pages.get(uri)
            if not _page_record(record) or not still_found(record["lookups"]):
                return False
        out = before.get("out")
        return out is not None and _output_stat(os.path.join(self.site, file.dest_uri)) == out

    # --- while MkDocs renders ---

    def record_page(self, uri: str, record: dict[str, Any]) -> None:
        """What a page that was rendered (or taken from the render cache) tells the next build. Its
        links to anchors of its own that it has are left out: while the page is kept they are found
        (its anchors are kept with it), and MkDocs' check says nothing of a link it finds. At 10,000
        claims they were 12 of the manifest's 40 MB."""
        if _json_safe(record.get("meta")) and uri in self.sources:
            own = record["links"].get(uri)
            if own:
                anchors = set(record["anchors"])
                missing = {anchor: link for anchor, link in own.items() if anchor not in anchors}
                links = {target: found for target, found in record["links"].items() if target != uri}
                if missing:
                    links[uri] = missing
                record = {**record, "links": links}
            self.pages[uri] = record


_PAGE_FIELDS = {
    "key": str,
    "title": (str, type(None)),
    "meta": dict,
    "anchors": list,
    "links": dict,
    "warnings": list,
    "lookups": dict,
}


def _page_record(record: Any) -> bool:
    return isinstance(record, dict) and all(isinstance(record.get(k), t) for k, t in _PAGE_FIELDS.items())


def _link(old: str, new: str) -> bool:
    """A second name in the new site for a file of the previous one (never a copy: a file that
    cannot be linked, say across file systems, is written again)."""
    try:
        os.link(old, new, follow_symlinks=False)
    except OSError:
        return False
    return True


def _always_modified() -> bool:
    return True


def _never_modified() -> bool:
    return False


class _Unmodified:
    """``File.is_modified`` of a kept page: MkDocs asks when it would read the page (then the
    page's recorded state is restored and its warnings given again) and when it would write it."""

    def __init__(self, file: Any, record: dict[str, Any], restore: Callable[[Any, dict[str, Any]], None]):
        self.file, self.record, self.restore = file, record, restore
        self.asked = False

    def __call__(self) -> bool:
        if not self.asked:
            self.asked = True
            self.restore(self.file, self.record)
        return False


def restore_page(page: Any, record: dict[str, Any], files: Any) -> None:
    """Give a page MkDocs does not read what a cold build learns from it: its title and
    metadata (the navigation of other pages shows them), its anchors and links (checked at the
    end of the build), and its warnings, given again."""
    page.title = record["title"]  # pinned: its Markdown is never read
    page.meta = dict(record["meta"])
    page.present_anchor_ids = set(record["anchors"])
    links = {}
    by_path = files.src_uris
    for target, anchors in record["links"].items():
        found = by_path.get(target)
        if found is not None:
            links[found] = dict(anchors)
    page.links_to_anchors = links
    for name, level, message in record["warnings"]:
        logging.getLogger(name).log(level, message)


class DirtyWarningFilter(logging.Filter):
    """Drops MkDocs' warning about dirty builds (kb decides what is modified itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(DIRTY_WARNING)
