"""Rebuilds that keep what did not change: the rendered HTML of each page, keyed by content.

MkDocs renders every page on every build; at thousands of pages that is nearly all of a
build's time, although one edited claim changes only a few pages. This module is a thin
MkDocs plugin (events only, no MkDocs internals beyond the documented page attributes) that
stores each page's final HTML under a key made of everything the HTML depends on:

- the page itself: its path and its Markdown with its metadata;
- the site: the configuration (with kb's title and docs folder), the navigation (every
  section, link and page with its title), and the versions of MkDocs, the theme and kb (with
  a theme of the site's own, the list of files too: its templates could show it).

A page's links are resolved against the list of the site's files: every path a page looked up
while it was converted is kept in its entry with whether it was found, and the entry is used
only while each of them still is (or still is not): adding a claim does not render the pages
that do not link to it again.

On the next build a page whose key is in the cache is not converted and not put into the
theme: its Markdown is replaced by nothing, its template by an empty one, and its stored
HTML is written instead, together with what MkDocs learned while rendering it (its title,
its anchors, its links to anchors of other pages, its warnings), so that link checks and
warnings are those of a cold build. The result is the same bytes as a cold build.

The cache is used only when no other plugin takes part in the build (a plugin such as the
theme's search reads every rendered page, and would miss the pages that were not rendered).
It lives beside the output folder, not in the knowledge base: its HTML is written into the
site as it is, so it must be no easier to change than the site itself. Entries are JSON
files; the ones a build did not use are deleted after it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

from kb import __version__
from kb.cache import read_sealed_json, seal
from kb.site import fastpath, keep, navmemo

PLUGIN_NAME = "kb-render-cache"
# kb's own plugins (kb.site.build): none of them reads a rendered page, so the cache stays on
# kb serve's preview (kb.site.preview): it only keeps what the build made, for rendering a few pages later
PREVIEW_PLUGIN = "kb-preview"
# (kb.site.navmemo's gives each page what the theme would render into it, in less time)
KB_PLUGINS = (PLUGIN_NAME, "kb-progress", "kb-site-fixes", "kb-release", PREVIEW_PLUGIN, navmemo.PLUGIN_NAME)
CACHED_TEMPLATE = "kb-render-cache-empty.html"
FORMAT = 2


def cache_folder(out: Path) -> Path:
    """Where the cache of a site built into ``out`` lives: a hidden folder beside it."""
    return out.parent / f".{out.name}.kb-cache"


def write_unsynced(path: Path, data: bytes) -> None:
    """Write ``path`` whole (a temporary file renamed over it) without waiting for the disk.

    For the cache's own files (the docs folder, the rendered pages): a reader never sees half a
    file, and a file lost in a crash only costs its rendering again on the next build. Syncing
    each of a large site's thousands of files took a fifth of a cold build.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _plain(value: Any) -> Any:
    """A value JSON cannot hold, in a form that is the same in every process: a set sorted (its
    order follows the process's string hashing), the theme by what it is made of, anything else
    by its text."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if type(value).__name__ == "Theme":
        return {
            "name": value.name,
            "dirs": list(value.dirs),
            "static_templates": sorted(value.static_templates),
            "custom_dir": value.custom_dir,
            "locale": str(getattr(value, "locale", "")),
            "vars": dict(value.items()),
        }
    return str(value)


def _json(value: Any, *, sort_keys: bool = False, mark: bytes = b"") -> bytes:
    """``value`` as JSON by orjson: at 10,000 claims the pages' keys and entries are 360 MB of text,
    which the standard library took about 10 s of a cold build's time to write. What orjson refuses
    (a lone surrogate in a text) is written by the standard library, escaped, after ``mark``."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        return orjson.dumps(value, default=_plain, option=option)
    except TypeError:
        text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), default=_plain)
        return mark + text.encode("ascii")


def _digest(*parts: Any) -> str:
    # marked: the standard library's writing is never the same bytes as orjson's
    return hashlib.sha256(_json(parts, sort_keys=True, mark=b"\0")).hexdigest()


def package_version(name: str) -> str:
    """The installed version of the distribution ``name``, or ``-``."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def _nav_fingerprint(items: list[Any]) -> list[Any]:
    """Every nav entry with what the theme shows of it: kind, title, address, children."""
    out: list[Any] = []
    for item in items:
        kind = type(item).__name__
        if kind == "Section":
            out.append(["section", item.title, _nav_fingerprint(item.children)])
        elif kind == "Link":
            out.append(["link", item.title, item.url])
        else:  # a page: its title comes from the configuration, else from its own Markdown
            explicit = item.__dict__.get("title")
            source = item.file.abs_src_path
            content = None
            if explicit is None and source and os.path.isfile(source):
                content = hashlib.sha256(Path(source).read_bytes()).hexdigest()
            out.append(["page", explicit, item.file.src_uri, content])
    return out


def own_theme_dirs(config: Any) -> list[Path]:
    """The theme's folders that are not installed packages (a custom_dir, say)."""
    return [
        Path(folder)
        for folder in config.theme.dirs
        if "site-packages" not in Path(folder).parts and "dist-packages" not in Path(folder).parts
    ]


def _theme_files(config: Any) -> list[Any]:
    """The theme's own folders (outside installed packages, e.g. a custom_dir): every file's digest."""
    found = []
    for folder in own_theme_dirs(config):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found.append([str(path), hashlib.sha256(path.read_bytes()).hexdigest()])
    return found


class _Capture(logging.Handler):
    """MkDocs' messages while one page is rendered, to be given again when the page is reused."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def make_plugin(
    folder: Path,
    share: tuple[int, int] | None = None,
    previous: keep.Previous | None = None,
    known: dict[str, dict[str, Any]] | None = None,
) -> Any:
    """A fresh plugin instance keeping its entries in ``folder`` (one per build).

    With ``previous`` (kb.site.keep), the files whose output the previous site already holds
    as this build would write it are kept from it, and MkDocs does not go through them (the
    build must be a ``dirty`` one into an empty folder); what the rendered pages tell the next
    build is recorded there.

    With ``share`` (``(k, n)``), the build only fills the cache: of the pages it has no entry
    for, it renders the k-th of every n (and every page in the navigation whose title comes
    from its own Markdown, since other pages show that title); the others are left empty and
    their output is not stored. n builds with k = 0 .. n-1, one per processor, render every
    page once between them; the build that follows finds every page in the cache. Entries are
    not deleted by such a build; what it learned of each page it stored (the entry but its HTML)
    is in ``made``, by key.

    With ``known`` (key -> such an entry, from the builds of a share just before), a page whose
    entry is there is not read twice (once when MkDocs reads the page, once when it writes it) but
    only when it is written.
    """
    from mkdocs.plugins import BasePlugin

    class RenderCache(BasePlugin):
        def __init__(self) -> None:
            super().__init__()
            self.folder = folder
            self.share = share
            self.skipped: set[str] = set()  # pages another build of the share renders
            self.needed: set[str] = set()  # nav pages whose title comes from their Markdown
            self.enabled = True
            self.site_key = ""
            self.keys: dict[str, str] = {}  # page path -> its key this build
            self.hits: dict[str, dict[str, Any]] = {}  # page path -> stored entry
            self.fresh: dict[str, dict[str, Any]] = {}  # page path -> entry being made
            self.capture: _Capture | None = None
            self.previous = previous
            self.meta: dict[str, Any] = {}  # page path -> its metadata as read
            self.find: Any = None  # the file list's own lookup
            self.looked: dict[str, bool] | None = None  # paths the page being converted looked up
            self.found: dict[str, bool] = {}  # path -> whether the file list has it
            self.reused = 0
            self.known = known or {}
            self.made: dict[str, dict[str, Any]] = {}  # key -> entry stored this build, but its HTML
            self.rendered = 0

        # --- before the pages ---

        def on_config(self, config: Any) -> Any:
            others = [name for name in config.plugins if name not in KB_PLUGINS]
            self.enabled = not others
            return config

        def on_files(self, files: Any, config: Any) -> Any:
            if self.enabled:
                # links are resolved by looking paths up in the file list: note which a page looks up
                self.find = find = files.get_file_from_path

                def looked_up(path: str) -> Any:
                    found = find(path)
                    if self.looked is not None:
                        self.looked[str(path)] = found is not None
                    return found

                files.get_file_from_path = looked_up
                if self.share is not None:
                    # a build of a share only fills the cache and its site folder is thrown away: it
                    # copies none of the static files (at 10,000 claims, 10,000 pictures each)
                    files.copy_static_files = lambda *args, **kwargs: None
            return files

        def still_found(self, looked: dict[str, bool]) -> bool:
            """Whether every path a page looked up is still found, or still not found."""
            known = self.found  # pages look up the same paths: each is looked up once per build
            for path, found in looked.items():
                now = known.get(path)
                if now is None:
                    now = known[path] = self.find(path) is not None
                if now != found:
                    return False
            return True

        def on_nav(self, nav: Any, config: Any, files: Any) -> Any:
            if self.enabled:
                theme_files = _theme_files(config)
                self.site_key = _digest(
                    FORMAT,
                    __version__,
                    package_version("mkdocs"),
                    package_version("mkdocs-material"),
                    package_version("markdown"),
                    package_version("pymdown-extensions"),
                    {k: v for k, v in config.items() if k not in ("plugins", "site_dir", "nav")},
                    _nav_fingerprint(nav.items),
                    sorted(f.src_uri for f in files) if theme_files else None,
                    theme_files,
                )
                if self.share is not None:
                    self.needed = {
                        page.file.src_uri for page in nav.pages if page.__dict__.get("title") is None
                    }
                if self.previous is not None and self.share is None:
                    self.previous.plan(
                        files, self.site_key, config, lambda f, r: self._kept(f, r, files), self.still_found
                    )
            return nav

        def _kept(self, file: Any, record: dict[str, Any], files: Any) -> None:
            """A page kept from the previous site, at the point MkDocs would have read it."""
            keep.restore_page(file.page, record, files)
            self.keys[file.src_uri] = record["key"]  # its render cache entry stays
            self.reused += 1
            if self.previous is not None:
                self.previous.on_kept()

        def on_env(self, env: Any, config: Any, files: Any) -> Any:
            import jinja2

            if self.enabled:
                env.loader = jinja2.ChoiceLoader([jinja2.DictLoader({CACHED_TEMPLATE: ""}), env.loader])
            return env

        # --- each page: converted, then put into the theme ---

        def on_page_markdown(self, markdown: str, page: Any, config: Any, files: Any) -> str:
            if not self.enabled:
                return markdown
            uri = page.file.src_uri
            key = _digest(self.site_key, uri, page.meta, markdown)
            self.keys[uri] = key
            self.meta[uri] = dict(page.meta)
            if self.share is not None and uri not in self.needed:
                number, count = self.share
                if len(self.keys) % count != number:
                    self.skipped.add(uri)
                    setattr(page, fastpath.NOT_CONVERTED, True)
                    return ""  # another build of the share renders it
            entry = self.known.pop(key, None)
            if entry is None:
                entry = self._read(key)
            if entry is not None and self.still_found(entry["lookups"]):
                # MkDocs reads every page before it writes any: keep what it learns now, and read
                # the HTML again when the page is written, rather than every page's HTML at once
                entry["html"] = None
                self.hits[uri] = entry
                setattr(page, fastpath.NOT_CONVERTED, True)
                return ""  # nothing to convert
            self.capture = _Capture()
            logging.getLogger("mkdocs").addHandler(self.capture)
            self.looked = {}
            return markdown

        def on_page_content(self, html: str, page: Any, config: Any, files: Any) -> str:
            if not self.enabled:
                return html
            uri = page.file.src_uri
            if uri in self.skipped:
                page.meta = {**page.meta, "template": CACHED_TEMPLATE}
                return html
            entry = self.hits.get(uri)
            if entry is not None:
                page._title_from_render = entry["title"]
                page.present_anchor_ids = set(entry["anchors"])
                links = {}
                for target, anchors in entry["links"].items():
                    found = files.get_file_from_path(target)
                    if found is not None:
                        links[found] = dict(anchors)
                page.links_to_anchors = links
                page.meta = {**page.meta, "template": CACHED_TEMPLATE}
                for name, level, message in entry["warnings"]:
                    logging.getLogger(name).log(level, message)
                return html
            if self.capture is not None:
                logging.getLogger("mkdocs").removeHandler(self.capture)
            self.fresh[uri] = {
                "title": page._title_from_render,
                "anchors": sorted(page.present_anchor_ids or ()),
                "links": {
                    target.src_uri: dict(anchors)
                    for target, anchors in (getattr(page, "links_to_anchors", None) or {}).items()
                },
                "warnings": self.capture.records if self.capture is not None else [],
                "lookups": self.looked or {},
            }
            self.capture = None
            self.looked = None
            return html

        def on_post_page(self, output: str, page: Any, config: Any) -> str:
            if not self.enabled:
                return output
            uri = page.file.src_uri
            entry = self.hits.pop(uri, None)
            if entry is not None:
                stored = self._read(self.keys[uri])
                if stored is None:  # removed or spoiled since the page was read: a build must not guess
                    from mkdocs.exceptions import PluginError

                    raise PluginError(f"the render cache of {uri} changed during the build; build again")
                self.reused += 1
                self._record(page, entry)
                return stored["html"]
            fresh = self.fresh.pop(uri, None)
            if fresh is not None:
                self.rendered += 1
                if self._write(self.keys[uri], {**fresh, "html": output}) and self.share is not None:
                    self.made[self.keys[uri]] = fresh
                self._record(page, fresh)
            return output

        def _record(self, page: Any, entry: dict[str, Any]) -> None:
            """What the page tells other pages and checks, for the next build to restore."""
            uri = page.file.src_uri
            if self.previous is not None and self.share is None and uri in self.meta:
                self.previous.record_page(
                    uri,
                    {
                        "key": self.keys[uri],
                        "title": page.title,
                        "meta": self.meta[uri],
                        "anchors": entry["anchors"],
                        "links": entry["links"],
                        "warnings": [list(w) for w in entry["warnings"]],
                        "lookups": entry["lookups"],
                    },
                )

        def on_post_build(self, config: Any) -> None:
            if self.enabled and self.share is None:
                self._prune(set(self.keys.values()))

        # --- the entries: one JSON file each ---

        def _path(self, key: str) -> Path:
            return self.folder / key[:2] / f"{key}.json"

        def _read(self, key: str) -> dict[str, Any] | None:
            # only an entry this user's kb wrote and sealed (kb.cache), read as a regular file
            entry = read_sealed_json(self._path(key), self.folder)
            fields = {
                "html": str,
                "title": (str, type(None)),
                "anchors": list,
                "links": dict,
                "warnings": list,
                "lookups": dict,
            }
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), t) for k, t in fields.items()):
                return None
            return entry

        def _write(self, key: str, entry: dict[str, Any]) -> bool:
            """Whether the entry was stored (a cache that cannot be written only costs time)."""
            try:
                write_unsynced(self._path(key), seal(_json(entry)))
            except OSError:
                return False
            return True

        def _prune(self, used: set[str]) -> None:
            if not self.folder.is_dir():
                return
            for path in self.folder.glob("*/*.json"):
                if path.stem not in used:
                    with contextlib.suppress(OSError):
                        path.unlink()

    return RenderCache()
