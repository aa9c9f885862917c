"""kb serve's preview: the pages of the claims being edited, in the served site before the rebuild.

A rebuild of a large site takes seconds even when one claim changed: the lists that show every
claim are generated and rendered again, the search index is written again. A reader editing a
claim is looking at that claim's page, so ``kb serve`` publishes it first, as Hugo's "fast render
mode" does: once the edited base is loaded and weighed, the pages of the claims whose files
changed are generated and rendered on their own and written into the served site (then the
browsers reload), and the pages of their related claims after them; then the rebuild runs as
``kb build``'s does and swaps the whole site into place. The site ends the same bytes as a cold
build's; between the two, it is briefly a mix of both.

A page is rendered on its own with what the last completed build left in memory (kept by a
plugin that takes part in it and changes nothing): MkDocs' configuration, list of files,
navigation and template environment, and where that build put the anchors of the pages it cut
into parts. Only pages that build had, and that are not in the navigation (whose titles other
pages show), are rendered ahead; anything else waits for the rebuild. A page rendered ahead is
written as a new file (never through the links the rebuild keeps from the previous site), so the
rebuild sees it as changed and renders it again as a cold build does.

The same plugin gives every build's template environment a bytecode cache kept in memory, so
that the theme's templates are compiled once per ``kb serve`` instead of once per rebuild.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.model import KnowledgeBase
from kb.site import fastpath
from kb.site.rendercache import write_unsynced
from kb.weigh import Weights

# Pages rendered ahead of a rebuild: the edited claims' first, then their related claims'.
EDITED_LIMIT = 4
LIMIT = 12


@dataclass
class _Site:
    """What a completed build left for rendering a page on its own."""

    config: Any
    files: Any
    nav: Any
    env: Any
    moved: dict[tuple[str, str], str]
    clashes: Any  # the clashes (kb.contradictions) and the agreement matrix the build found
    graph: Any  # the build's graph of the base (kb.graph): it holds no statement
    directory_urls: bool
    handwritten: frozenset[str]
    kb: KnowledgeBase
    weights: Weights | None = None  # the build's, for a base whose statements alone change since
    compared: tuple[KnowledgeBase, bool] | None = None  # the last base previewed: statements alone changed?


def _bytecode_cache() -> Any:
    import jinja2

    class InMemory(jinja2.BytecodeCache):
        """Compiled templates by name; Jinja checks each against its template's source."""

        def __init__(self) -> None:
            self.code: dict[str, bytes] = {}

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            code = self.code.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            self.code[bucket.key] = bucket.bytecode_to_string()

    return InMemory()


class Preview:
    """Renders the pages of edited claims into the site at ``out`` ahead of its rebuild."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.site: _Site | None = None  # from the last build that completed
        self._pending: dict[str, Any] = {}
        self._bytecode: Any = None
        self.rendered: list[str] = []  # the last preview's files, for messages and tests
        # Previews run beside a rebuild (kb serve's watcher thread): one at a time touches the site.
        self._lock = threading.RLock()
        self._events = 0  # builds started and previews published, in order
        self._ahead: dict[str, bytes] = {}  # what the last preview wrote...
        self._ahead_at = 0  # ...when...
        self._ahead_kb: KnowledgeBase | None = None  # ...from which base
        self._replaced: dict[Path, bytes | None] = {}  # what it wrote over, to take it back

    # --- taking part in a build (kb.site.build) ---

    def start(self, directory_urls: bool, handwritten: Any) -> Callable[[Any], None]:
        """A build starts generating its pages: returns what it calls with the model of its pages."""
        self._pending = {"directory_urls": directory_urls, "handwritten": frozenset(handwritten)}

        def seen(data: Any) -> None:
            self._pending.update(
                moved=dict(data.moved), clashes=(data.contradictions, data.matrix), graph=data.graph
            )

        return seen

    def plugin(self) -> Any:
        """The MkDocs plugin that keeps what the build makes (and compiles templates once)."""
        from mkdocs.plugins import BasePlugin, event_priority

        preview = self
        if self._bytecode is None:
            self._bytecode = _bytecode_cache()

        class Keep(BasePlugin):
            def on_nav(self, nav: Any, config: Any, files: Any) -> Any:
                preview._pending.update(config=config, files=files, nav=nav)
                return nav

            @event_priority(100)  # before anything renders a template
            def on_env(self, env: Any, config: Any, files: Any) -> Any:
                env.bytecode_cache = preview._bytecode
                preview._pending["env"] = env
                return env

        return Keep()

    def build_started(self) -> int:
        """A build of ``out`` starts; returns its place among builds and previews (for ``commit``)."""
        with self._lock:
            self._events += 1
            return self._events

    def commit(self, kb: KnowledgeBase, started: int = 0, weights: Weights | None = None) -> None:
        """The build of ``kb`` (weighed as ``weights``) that started at ``started`` swapped its site into
        place: its pages are what later previews start from. Pages a preview of a later base rendered
        while the build ran are written again into the new site (the build did not have them)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            needed = (
                "config", "files", "nav", "env", "moved", "clashes", "graph", "directory_urls", "handwritten"
            )  # fmt: skip
            if all(name in pending for name in needed):
                self.site = _Site(**{name: pending[name] for name in needed}, kb=kb, weights=weights)
                _quiet_links(self.site.config)
            if self._ahead and self._ahead_at > started and self._ahead_kb is not kb:
                with contextlib.suppress(OSError):
                    for rel, data in self._ahead.items():
                        write_unsynced(self.out / rel, data)
            else:
                self._ahead, self._ahead_kb, self._replaced = {}, None, {}

    def discard(self, kb: KnowledgeBase | None = None) -> None:
        """The build of ``kb`` failed: what a preview of that base wrote gets its bytes back (the site
        in place is again the one the last commit describes)."""
        with self._lock:
            self._pending = {}
            if kb is None or self._ahead_kb is not kb:
                return
            replaced, self._replaced = self._replaced, {}
            self._ahead, self._ahead_kb = {}, None
            for path, data in replaced.items():
                with contextlib.suppress(OSError):
                    if data is None:
                        path.unlink(missing_ok=True)
                    else:
                        write_unsynced(path, data)

    # --- rendering ahead of a build ---

    def edited(self, kb: KnowledgeBase) -> list[str]:
        """The claims whose files say something else than at the last completed build (new ones too)."""
        if self.site is None:
            return []
        before = self.site.kb.claims
        return [cid for cid, claim in kb.claims.items() if before.get(cid) != claim]

    def plan(self, kb: KnowledgeBase, weights: Weights) -> tuple[list[str], list[str]]:
        """(edited claims, their related claims) whose pages are rendered ahead, at most ``LIMIT``."""
        edited = self.edited(kb)[:EDITED_LIMIT]
        related: dict[str, None] = {}
        for cid in edited:
            claim = kb.claims[cid]
            for other in [
                *claim.supports,
                *claim.contradicts,
                *(e.claim for e in weights.claims[cid].relations),
            ]:
                if other in kb.claims and other not in edited:
                    related[other] = None
        return edited, list(related)[: max(0, LIMIT - len(edited))]

    def publish(
        self, kb: KnowledgeBase, weights: Weights, shown: Callable[[], None] = lambda: None
    ) -> list[str]:
        """Render the edited claims' pages (and pictures) into the site and call ``shown``, then their
        related claims' pages; returns the site's files written. Nothing is written without a
        completed build to start from; a page that cannot be rendered on its own is left to the
        rebuild."""
        with self._lock:
            self.rendered = []
            site = self.site
            if site is None or not self.out.is_dir():
                return []
            edited, related = self.plan(kb, weights)
            if not edited:
                return []
            from kb.site import pages

            self._events += 1
            self._ahead, self._ahead_at, self._ahead_kb, self._replaced = {}, self._events, kb, {}
            data = _site_data(site, kb, weights)
            for group in (edited, related):
                for cid in group:
                    self._claim(site, data, kb.claims[cid], pages)
                if group is edited and self.rendered:
                    shown()
            return self.rendered

    def _claim(self, site: _Site, data: Any, claim: Any, pages: Any) -> None:
        from kb.site import paging, svg

        page = pages.claim_page(claim.id)
        text = pages.claim_markdown(data, claim)
        if len(paging.split(page, text, data.page_limit).parts) > 1:
            return  # cut into parts: the rebuild makes them
        html = _render(site, page, text)
        if html is None:
            return
        picture = pages.graph_picture(claim.id)
        if site.files.get_file_from_path(picture) is not None:
            made = svg.neighbourhood_svg(data.kb, data.weights, data.graph, claim.id)
            self._put(picture, made.encode("utf-8"))
        self._put(*html)

    def _put(self, rel: str, data: bytes) -> None:
        path = self.out / rel
        if path not in self._replaced:
            try:
                self._replaced[path] = path.read_bytes()
            except FileNotFoundError:
                self._replaced[path] = None
        write_unsynced(path, data)
        self._ahead[rel] = data
        self.rendered.append(rel)


def weights_of(site: _Site | None, kb: KnowledgeBase) -> Weights:
    """The weights of ``kb``: those of the last build with their words written again when only claims'
    statements changed since (kb.disputes.restated: the same weights, without weighing), else computed."""
    from kb.disputes import restated
    from kb.weigh import compute

    if site is not None and site.weights is not None and _statements_alone(site, kb):
        return restated(kb, site.weights)
    return compute(kb)


def _statements_alone(site: _Site, kb: KnowledgeBase) -> bool:
    """:func:`only_statements_differ` of the last build's base and ``kb``, compared once per preview (the
    weights and the model of the pages both ask)."""
    if site.compared is not None and site.compared[0] is kb:
        return site.compared[1]
    answer = only_statements_differ(site.kb, kb)
    site.compared = (kb, answer)
    return answer


def only_statements_differ(before: KnowledgeBase, after: KnowledgeBase) -> bool:
    """Whether the two bases differ in claims' statements only: then the weights' numbers, and the
    clashes and the agreement found from them, are the same (no weight depends on a statement's words)."""
    if before.config != after.config or before.sources != after.sources or before.texts != after.texts:
        return False
    if before.claims.keys() != after.claims.keys():
        return False
    for cid, claim in after.claims.items():
        old = before.claims[cid]
        if old != claim and old.model_copy(update={"statement": claim.statement}) != claim:
            return False
    return True


def _site_data(site: _Site, kb: KnowledgeBase, weights: Weights) -> Any:
    """What claim pages are made from, as kb.site.pages.site_data makes it but for the report (claim
    pages do not show it), with the anchors of cut pages where the last build put them; the clashes
    of the last build when only statements changed since (they are the same), else found again."""
    from kb import contradictions as disagreement
    from kb.graph import build_graph
    from kb.site import pages

    if _statements_alone(site, kb):
        (found, matrix), graph = site.clashes, site.graph
    else:
        found = disagreement.find_contradictions(kb, weights)
        matrix = disagreement.agreement_matrix(kb, weights, found)
        graph = build_graph(kb)
    data = pages.SiteData(
        kb=kb,
        weights=weights,
        graph=graph,
        contradictions=found,
        matrix=matrix,
        report_md="",
        handwritten=site.handwritten,
        directory_urls=site.directory_urls,
    )
    data.moved.update(site.moved)
    return data


def _render(site: _Site, page_path: str, markdown: str) -> tuple[str, bytes] | None:
    """A page's HTML as the last build would render it from ``markdown``: (its path in the site, bytes),
    or None for a page that build did not have or that is in the navigation."""
    from mkdocs.commands.build import get_context
    from mkdocs.utils import meta

    file = site.files.get_file_from_path(page_path)
    if file is None or file.page is None or any(p is file.page for p in site.nav.pages):
        return None
    page, config = file.page, site.config
    page.__dict__.pop("title", None)  # pinned by the last build: this page's title comes from its Markdown
    page.markdown, page.meta = meta.get_data(markdown)
    config._current_page = page
    try:
        if not fastpath.converted_by_kb(page, config, site.files):
            page.render(config, site.files)
        page.active = True
        context = get_context(site.nav, site.files, config, page)
        template = site.env.get_template(page.meta.get("template", "main.html"))
        output = template.render(context)
        fixes = config.plugins.get("kb-site-fixes")
        if fixes is not None:
            output = fixes.on_post_page(output, page=page, config=config)
    finally:
        page.active = False
        page.markdown = page.content = None
        config._current_page = None
    return file.dest_uri, output.encode("utf-8", errors="xmlcharrefreplace")


def _quiet_links(config: Any) -> None:
    """The link checks of pages rendered ahead give nothing above debug: the rebuild gives the
    warnings (the configuration is the preview's own; the rebuild loads its own)."""
    links = getattr(getattr(config, "validation", None), "links", None)
    for name in ("not_found", "anchors", "absolute_links", "unrecognized_links"):
        if links is not None and hasattr(links, name):
            setattr(links, name, logging.DEBUG)
