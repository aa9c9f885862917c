"""A rebuild keeps the previous site's unchanged files (kb.site.keep): it writes only what changed,
never through a file the previous site still holds, and gives the bytes and warnings of a cold build."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.site import build as site_build
from kb.site import keep, rendercache
from tests.site_helpers import PACKAGE_CONFIG, copy_fixture, digest_tree

# every build here makes its pass: these are tests of what it keeps (kb.site.uptodate would skip it)
pytestmark = pytest.mark.usefixtures("always_build")


def changed_files(before: dict[str, str], folder: Path) -> set[str]:
    return {rel for rel, digest in digest_tree(folder).items() if before.get(rel) != digest}


def _inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def _build(kb: Path, out: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    return result.exit_code, result.stdout, result.stderr


def _built(kb: Path, out: Path) -> tuple[str, str]:
    code, stdout, stderr = _build(kb, out)
    assert code == 0, stdout + stderr
    return stdout, stderr


@pytest.fixture
def kb(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    base = copy_fixture(tmp_path)
    site = base / "site"
    docs = site / "docs"
    docs.mkdir(parents=True)
    # a page whose navigation title comes from its own heading, and links whose checks involve
    # two pages: their warnings must come with every build, whichever of the pages is rendered
    text = PACKAGE_CONFIG.read_text().replace("  - Home: index.md\n", "  - Home: index.md\n  - notes.md\n")
    (site / "mkdocs.yml").write_text(text)
    (docs / "notes.md").write_text(
        "# Notes of the coach\n\nSee [the missing page](missing.md), [a section](more.md#section-two),"
        " [the claims](claims.md#no-such-anchor) and [a claim](claims/deficit-alone-decides.md).\n"
    )
    # links to its own anchors, one there and one not: the missing one is warned about in every build
    (docs / "more.md").write_text(
        "# More\n\n## Section two\n\nText, [back up](#more) and [down](#no-such-section).\n"
    )
    return base


def _claim(kb: Path, name: str) -> Path:
    return next((kb / "claims").rglob(f"{name}.yaml"))


def _edit_statement(kb: Path) -> None:
    claim = _claim(kb, "jogging-builds-thighs")
    claim.write_text(claim.read_text().replace("statement: ", "statement: Edited, ", 1))


def _edit_quote(kb: Path) -> None:
    claim = _claim(kb, "jogging-slims-thighs")
    text = claim.read_text()
    assert '"Easy jogging slims the thighs over months."' in text
    claim.write_text(text.replace('"Easy jogging slims the thighs over months."', '"Easy jogging slims"'))


def _add_claim(kb: Path) -> None:
    source = _claim(kb, "jogging-builds-thighs")
    added = source.parent / "jogging-and-knees.yaml"
    added.write_text(source.read_text().replace("Jogging builds bigger thighs.", "Jogging is kind to knees."))


def _remove_claim(kb: Path) -> None:
    # notes.md links to its page: the same Markdown, now with a link to nothing
    _claim(kb, "deficit-alone-decides").unlink()


def _edit_handwritten(kb: Path) -> None:
    # the section notes.md links to disappears: notes.md, kept, must still be warned about
    (kb / "site" / "docs" / "more.md").write_text("# More, edited\n\n## Section three\n\nText.\n")


def _edit_title(kb: Path) -> None:
    # the title of a page in the navigation: every page shows it
    (kb / "site" / "docs" / "notes.md").write_text("# Notes, retitled\n\nSee [the claims](claims.md).\n")


def _edit_config(kb: Path) -> None:
    config = kb / "site" / "mkdocs.yml"
    config.write_text(config.read_text().replace("primary: blue grey", "primary: teal"))


def _edit_kb_title(kb: Path) -> None:
    config = kb / "kb.yaml"
    config.write_text(config.read_text().replace("title: Site test base", "title: Site test base, renamed"))


CHANGES: dict[str, Callable[[Path], None]] = {
    "statement": _edit_statement,
    "quote": _edit_quote,
    "claim added": _add_claim,
    "claim removed": _remove_claim,
    "hand-written page": _edit_handwritten,
    "navigation title": _edit_title,
    "site configuration": _edit_config,
    "knowledge-base title": _edit_kb_title,
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_rebuild_after_a_change_is_the_cold_build(kb: Path, tmp_path: Path, change: str) -> None:
    out = tmp_path / "out"
    _, first_err = _built(kb, out)
    assert "missing.md" in first_err and "no-such-anchor" in first_err and "section-two" not in first_err
    assert "no-such-section" in first_err and "#more" not in first_err
    _built(kb, out)  # the first build that finds a previous site and its record
    before = digest_tree(out)
    inodes = _inodes(out)
    # another name for every file of the previous site: nothing may be written through it
    saved = tmp_path / "saved"
    for rel in before:
        (saved / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(out / rel, saved / rel)
    CHANGES[change](kb)
    again_out, again_err = _built(kb, out)
    cold = tmp_path / "cold"  # another output folder, with its own, empty cache
    cold_out, cold_err = _built(kb, cold)
    after = digest_tree(out)
    assert after == digest_tree(cold)
    assert again_err == cold_err
    if change == "claim removed":
        assert "claims/deficit-alone-decides.md" in cold_err and "notes.html" in changed_files(before, out)
    assert digest_tree(saved) == before  # the previous site's files are as they were
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert changed, "the change shows in the site"
    now = _inodes(out)
    # files with new bytes are new files; in a pass over the files that changed, the others are
    # the previous site's own files, kept
    assert all(now[rel] != inodes.get(rel) for rel in changed)
    kept = {rel for rel in after if now[rel] == inodes.get(rel)}
    if change in ("site configuration", "knowledge-base title", "navigation title"):
        assert not kept  # every page shows what changed
    else:
        assert kept == {rel for rel in after if rel not in changed} - {
            site_build.MARKER,
            "sitemap.xml",
            "sitemap.xml.gz",
            "404.html",
        }
        assert f"{len([r for r in kept if r.endswith('.html')])} kept" in again_out


def test_a_page_whose_navigation_title_is_its_heading_is_named_on_every_page(
    kb: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _built(kb, out)
    for page in ("index.html", "claims.html", "report.html", "notes.html"):
        html = (out / page).read_text()
        assert "Notes of the coach" in html, page
        assert not re.search(r'md-ellipsis">\s*None\s*<', html), page


def test_an_unchanged_rebuild_writes_no_page(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _built(kb, out)
    _built(kb, out)
    inodes = _inodes(out)
    stdout, _ = _built(kb, out)
    pages, reused = map(int, re.search(r"built (\d+) pages \((\d+) kept", stdout).groups())
    assert reused == pages
    now = _inodes(out)
    rewritten = {rel for rel in now if now[rel] != inodes.get(rel)}
    assert rewritten == {site_build.MARKER, "sitemap.xml", "sitemap.xml.gz", "404.html"}


def test_a_rebuild_that_fails_midway_leaves_the_site_and_its_record(
    kb: Path, tmp_path: Path, monkeypatch
) -> None:
    from mkdocs import utils

    out = tmp_path / "out"
    _built(kb, out)
    _built(kb, out)
    before = digest_tree(out)
    manifest = rendercache.cache_folder(out) / keep.MANIFEST
    record = manifest.read_bytes()
    _edit_statement(kb)
    write = utils.write_file
    calls = []

    def fail_on_the_third_page(content: bytes, path: str) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", path)
        write(content, path)

    monkeypatch.setattr(utils, "write_file", fail_on_the_third_page)
    code, stdout, stderr = _build(kb, out)
    assert code == 1 and "No space left on device" in stdout + stderr
    assert len(calls) == 3
    assert digest_tree(out) == before
    assert manifest.read_bytes() == record
    assert not list(tmp_path.glob(".out.new-*"))
    monkeypatch.setattr(utils, "write_file", write)
    _built(kb, out)
    _built(kb, tmp_path / "cold")
    assert digest_tree(out) == digest_tree(tmp_path / "cold")


def test_a_site_changed_by_hand_is_rebuilt_where_it_changed(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _built(kb, out)
    _built(kb, out)
    before = digest_tree(out)
    (out / "sources.html").write_text("edited by hand")
    (out / "claims.html").unlink()
    _built(kb, out)
    assert digest_tree(out) == before


def test_a_site_replaced_since_its_record_is_rebuilt_whole(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _built(kb, out)
    _built(kb, out)
    before = digest_tree(out)
    marker = out / site_build.MARKER
    text = marker.read_bytes()
    marker.unlink()
    marker.write_bytes(text)  # another file: not the site the record describes
    inodes = _inodes(out)
    stdout, _ = _built(kb, out)
    now = _inodes(out)
    assert not any(now[rel] == inodes.get(rel) for rel in now)
    assert digest_tree(out) == before
    assert re.search(r"\((\d+) kept", stdout)  # every page from the render cache


def test_a_page_with_front_matter_json_cannot_hold_is_rendered_again(kb: Path, tmp_path: Path) -> None:
    (kb / "site" / "docs" / "dated.md").write_text("---\ndate: 2024-01-02\n---\n# Dated\n")
    out = tmp_path / "out"
    _built(kb, out)
    _built(kb, out)
    inodes = _inodes(out)
    _built(kb, out)
    assert _inodes(out)["dated.html"] != inodes["dated.html"]
    assert _inodes(out)["more.html"] == inodes["more.html"]
