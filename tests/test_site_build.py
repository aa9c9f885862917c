"""kb build's housekeeping and what it sets over the theme: stale folders, the site's address, the
name in the logo's tooltip, the 404 page."""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from pathlib import Path

import pytest

from kb.cli import cli
from kb.site import build as site_build
from tests.site_helpers import build_with_cli, copy_fixture

# An absolute path in an attribute or the theme's settings, as "/assets/..." (not "//host/...").
ROOT_PATH = re.compile(r'"/(?![/>])')


def _set_config(kb: Path, **settings: str) -> None:
    lines = [line for line in (kb / "kb.yaml").read_text().splitlines() if not line.startswith("title:")]
    extra = [f"{key}: {value}" for key, value in settings.items()]
    (kb / "kb.yaml").write_text("\n".join(extra + lines) + "\n")


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory) -> Path:
    """The fixture base titled 'Legs & Thighs', built without a site address."""
    from click.testing import CliRunner

    tmp = tmp_path_factory.mktemp("plain")
    kb = copy_fixture(tmp)
    _set_config(kb, title="'Legs & Thighs'")
    build_with_cli(CliRunner(), kb, tmp / "out")
    return tmp / "out"


def test_the_site_name_is_escaped_once_in_the_logo_tooltip(plain_site: Path) -> None:
    for page in ("index.html", "claims.html", "404.html"):
        html = (plain_site / page).read_text()
        assert 'title="Legs &amp; Thighs"' in html, page
        assert "&amp;amp;" not in html, page


def test_without_a_site_address_the_404_page_links_relatively(plain_site: Path) -> None:
    html = (plain_site / "404.html").read_text()
    assert not ROOT_PATH.search(html), ROOT_PATH.search(html)
    # every link and resource of the 404 page exists when it is opened from the site's folder
    targets = re.findall(r'(?:href|src)="([^"#:]+)"', html)
    assert "assets/kb/kb.css" in targets and "index.html" in targets
    for target in targets:
        assert (plain_site / target).exists(), target


def test_a_site_address_fills_the_sitemap_and_roots_the_404_page(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    _set_config(kb, site_url="https://example.org/legs/")
    build_with_cli(runner, kb, tmp_path / "out")
    sitemap = (tmp_path / "out" / "sitemap.xml").read_text()
    assert "<loc>https://example.org/legs/claims.html</loc>" in sitemap
    html = (tmp_path / "out" / "404.html").read_text()
    assert 'href="/legs/assets/kb/kb.css"' in html
    assert not re.search(r'"/(?![/>]|legs/)', html)


def test_a_bad_site_address_is_refused_at_its_line(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    _set_config(kb, site_url="'javascript:alert(1)'")
    result = runner.invoke(cli, ["validate", "--kb", str(kb)])
    assert result.exit_code == 1
    assert "kb.yaml:1:11: site_url: 'javascript:alert(1)' is not a site address" in result.stderr


def _old(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "page.md").write_text("left behind")
    past = time.time() - 2 * site_build.STALE_SECONDS
    os.utime(folder, (past, past))
    return folder


def test_a_build_removes_what_killed_builds_left(tmp_path: Path, runner, monkeypatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    out = tmp_path / "out"
    left = [_old(tmp_path / ".out.new-abc123"), _old(tmp_path / ".out.old-def456"), _old(temp / "kb-docs-x1")]
    killed_serve = _old(temp / "kb-serve-docs-x2")
    running_serve = _old(temp / "kb-serve-docs-x3")
    young = temp / "kb-docs-x4"
    young.mkdir()  # may belong to a kb that has not locked it yet
    other = _old(tmp_path / ".elsewhere.new-x5")  # another site's
    held = site_build.hold(running_serve)
    try:
        build_with_cli(runner, copy_fixture(tmp_path, "site"), out)
    finally:
        os.close(held)
    assert not any(p.exists() for p in [*left, killed_serve])
    assert running_serve.exists() and young.exists() and other.exists()
    assert (out / "index.html").is_file()


def test_an_edited_render_cache_is_not_served(tmp_path: Path, runner) -> None:
    from kb.site import rendercache

    kb = copy_fixture(tmp_path)
    # the render cache works when kb's plugins are the only ones (not with MkDocs' search plugin)
    default = (Path(site_build.__file__).parent / "mkdocs.yml").read_text()
    (kb / "site").mkdir()
    (kb / "site" / "mkdocs.yml").write_text(default.replace("plugins:\n  - search\n", "plugins: []\n"))
    out = tmp_path / "out"
    build_with_cli(runner, kb, out)
    entries = list((rendercache.cache_folder(out) / "html").glob("*/*.json"))
    assert entries
    for entry in entries:  # edited as a person or a program would: the seal line left as it was
        head, _, data = entry.read_bytes().partition(b"\n")
        entry.write_bytes(head + b"\n" + data.replace(b"</body>", b"<p>EDITED</p></body>"))
    build_with_cli(runner, kb, out)
    assert not [p for p in out.rglob("*.html") if "EDITED" in p.read_text()]


def test_a_handwritten_page_linked_from_outside_is_refused_unread(tmp_path: Path, runner) -> None:
    kb = copy_fixture(tmp_path)
    secret = tmp_path / "secret.md"
    secret.write_text("AWS_SECRET_ACCESS_KEY=do-not-publish\n")
    (kb / "site" / "docs").mkdir(parents=True)
    (kb / "site" / "mkdocs.yml").write_text((Path(site_build.__file__).parent / "mkdocs.yml").read_text())
    (kb / "site" / "docs" / "notes.md").symlink_to(secret)
    out = tmp_path / "out"
    result = runner.invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "notes.md: is a link to a file outside the knowledge-base folder" in result.stderr
    assert "do-not-publish" not in result.output
    assert not out.exists()


def test_a_replaced_site_is_deleted_in_the_background(tmp_path: Path) -> None:
    old = tmp_path / ".out.old-x" / "site"
    (old / "claims").mkdir(parents=True)
    for n in range(50):
        (old / "claims" / f"c{n}.html").write_text("old page")
    site_build.remove_in_background(tmp_path / ".out.old-x")
    deadline = time.monotonic() + 30
    while (tmp_path / ".out.old-x").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (tmp_path / ".out.old-x").exists()


@pytest.mark.parametrize("background", [False, True])
def test_the_docs_folder_holds_exactly_what_it_was_given(tmp_path: Path, background: bool) -> None:
    docs = tmp_path / "docs"
    (docs / "old").mkdir(parents=True)
    (docs / "old" / "gone.md").write_text("stale")
    (docs / "same.md").write_text("kept")
    folder = site_build.DocsFolder(docs, background=background)
    for number in range(3 * site_build.DocsFolder.QUEUED):  # more than wait in the queue at once
        folder.put(f"pages/p{number}.md", f"page {number}")
    folder.put("same.md", "kept")
    written, removed = folder.finish()
    assert written == sorted(f"pages/p{number}.md" for number in range(3 * site_build.DocsFolder.QUEUED))
    assert removed == ["old/gone.md"]
    assert not (docs / "old").exists()
    assert (docs / "pages" / "p7.md").read_text() == "page 7"
    assert [t.name for t in threading.enumerate() if t.name == "kb-docs-writer"] == []


def test_a_file_the_writing_thread_cannot_write_fails_the_build(tmp_path: Path) -> None:
    folder = site_build.DocsFolder(tmp_path / "docs", background=True)
    folder.put("a.md", "a file")
    folder.put("a.md/b.md", "inside a file")  # the folder cannot be made
    with pytest.raises(OSError):
        folder.finish()
    assert [t.name for t in threading.enumerate() if t.name == "kb-docs-writer"] == []


@pytest.mark.parametrize("limit", [None, 6_000])
def test_the_report_data_files_and_search_analysis_made_ahead_by_a_child_are_those_made_here(
    tmp_path, monkeypatch, limit
) -> None:
    """A build hands the report page (cut into parts), data/kb.json and the search index's analysis of
    the claims to a forked child (site_build.Ahead) while it makes the pages: the site is the same bytes
    as when no child can start (it makes them itself), and the child's results are what is used."""
    from kb import forked
    from kb.load import load_valid
    from kb.site import pages

    if limit is not None:  # the report (and other long pages) cut into parts
        monkeypatch.setattr(pages, "PAGE_LIMIT", limit)
    from tests.site_helpers import digest_tree

    kb = load_valid(copy_fixture(tmp_path))
    used: list[str] = []
    file, search_data = site_build.Ahead.file, site_build.Ahead.search_data

    def file_used(self, path):
        found = file(self, path)
        used.append(f"{path}: {found is not None}")
        return found

    def search_used(self):
        found = search_data(self)
        used.append(f"search: {found is not None}")
        return found

    monkeypatch.setattr(site_build.Ahead, "file", file_used)
    monkeypatch.setattr(site_build.Ahead, "search_data", search_used)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    site_build.build_site(kb, tmp_path / "ahead")
    made = ["report-split: True", "data/kb.json: True", "data/contradictions.json: True", "search: True"]
    assert used == made
    used.clear()
    monkeypatch.setattr(forked, "start", lambda work: lambda: None)  # the child fails
    site_build.build_site(kb, tmp_path / "here")
    assert used == [entry.replace("True", "False") for entry in made]
    assert digest_tree(tmp_path / "ahead") == digest_tree(tmp_path / "here")
    parts = list((tmp_path / "ahead").glob("report-*.html"))
    assert len(parts) > 2 if limit else not parts


def test_render_workers_are_used_only_when_many_pages_and_a_good_share_changed(monkeypatch) -> None:
    monkeypatch.setattr(site_build.forked, "processors", lambda: 2)
    config = type("Config", (), {"plugins": {site_build.rendercache.PLUGIN_NAME: None}})()
    workers = site_build.render_workers
    assert workers(config, 12_290, 12_290) == 2  # a cold build
    assert workers(config, 2_000, 12_290) == 2  # a ninth of the site and more
    assert workers(config, 218, 12_290) == 1  # a stance flip at 10,000 claims: each worker's pass costs more
    assert workers(config, 199, 300) == 1  # too few pages to fork for
    config.plugins["search"] = None  # a plugin that reads every page: the render cache is off
    assert workers(config, 12_290, 12_290) == 1
