"""Rebuilds keep the rendered pages that did not change, and give the same bytes as a cold build."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.site import build as site_build
from kb.site import keep, rendercache, uptodate
from tests.site_helpers import PACKAGE_CONFIG, copy_fixture, digest_tree

# every build here makes its pass: these are tests of what it keeps (kb.site.uptodate would skip it)
pytestmark = pytest.mark.usefixtures("always_build")


def _config(kb: Path, *, plugin: str | None = None) -> None:
    """The package's site configuration, with no plugin or with one of the theme's plugins."""
    text = PACKAGE_CONFIG.read_text()
    text = re.sub(
        r"(?m)^plugins:.*\n(  - .*\n)*", f"plugins:\n  - {plugin}\n" if plugin else "plugins: []\n", text
    )
    (kb / "site").mkdir(exist_ok=True)
    (kb / "site" / "mkdocs.yml").write_text(text)
    docs = kb / "site" / "docs"
    docs.mkdir(exist_ok=True)
    # a hand-written page with a broken link: its warning must come with every build, cached or not
    (docs / "notes.md").write_text("# Notes\n\nSee [the missing page](missing.md).\n")


def _build(kb: Path, out: Path) -> tuple[str, str]:
    result = CliRunner().invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def _edit_one_claim(kb: Path) -> None:
    claim = sorted((kb / "claims").rglob("*.yaml"))[0]
    claim.write_text(claim.read_text().replace("statement: ", "statement: Edited, ", 1))


@pytest.fixture
def kb(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    base = copy_fixture(tmp_path)
    _config(base)
    return base


def test_rebuild_after_an_edit_is_the_cold_build(kb: Path, tmp_path: Path) -> None:
    warm = tmp_path / "warm"
    first_out, first_err = _build(kb, warm)
    assert "kept from the last build" not in first_out
    _edit_one_claim(kb)
    again_out, again_err = _build(kb, warm)
    kept = re.search(r"built (\d+) pages \((\d+) kept from the last build\)", again_out)
    assert kept, again_out
    pages, reused = int(kept[1]), int(kept[2])
    assert 0 < reused < pages  # the edited claim's pages were rendered again, the others kept
    cold = tmp_path / "cold"  # another output folder: another cache, so everything is rendered
    cold_out, cold_err = _build(kb, cold)
    assert "kept from the last build" not in cold_out
    assert digest_tree(warm) == digest_tree(cold)
    assert "missing.md" in first_err and again_err == cold_err == first_err


def test_unchanged_rebuild_renders_nothing_again(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    before = digest_tree(out)
    stdout, _ = _build(kb, out)
    pages, reused = map(int, re.search(r"built (\d+) pages \((\d+) kept", stdout).groups())
    assert reused == pages
    assert digest_tree(out) == before


def test_pages_are_kept_by_a_later_process(kb: Path, tmp_path: Path) -> None:
    """Each ``kb build`` is its own process, with its own string hashing (the order of a set):
    the keys must not depend on it."""
    out = tmp_path / "out"
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "kb", "build", "--kb", str(kb), "--out", str(out)],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
        # without the record of what the site is built from, the next build makes its pass
        (rendercache.cache_folder(out) / uptodate.RECORD).unlink()
    pages, reused = map(int, re.search(r"built (\d+) pages \((\d+) kept", outputs[1]).groups())
    assert reused == pages


def test_damaged_cache_entries_are_rendered_again(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    before = digest_tree(out)
    entries = sorted((rendercache.cache_folder(out) / "html").glob("*/*.json"))
    assert entries
    entries[0].write_text("not json")
    entries[1].write_text('{"html": 1}')
    # without the record of the site in place, every page goes through the render cache
    (rendercache.cache_folder(out) / keep.MANIFEST).unlink()
    stdout, _ = _build(kb, out)
    pages, reused = map(int, re.search(r"built (\d+) pages \((\d+) kept", stdout).groups())
    assert reused == pages - 2
    assert digest_tree(out) == before


def test_no_reuse_when_another_plugin_reads_the_pages(kb: Path, tmp_path: Path) -> None:
    _config(kb, plugin="tags")  # the theme's tags plugin reads every page
    out = tmp_path / "out"
    _build(kb, out)
    stdout, _ = _build(kb, out)
    assert "kept from the last build" not in stdout


def test_the_themes_search_is_replaced_and_pages_are_kept(kb: Path, tmp_path: Path) -> None:
    _config(kb, plugin="search")  # an older configuration naming the theme's search
    out = tmp_path / "out"
    _build(kb, out)
    stdout, _ = _build(kb, out)
    assert "kept from the last build" in stdout
    assert (out / "search-index.js").is_file() and not (out / "search").exists()


def test_the_cache_is_beside_the_site_and_keeps_only_what_the_last_build_used(
    kb: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    cache = rendercache.cache_folder(out)
    assert cache.parent == out.parent and cache.name.startswith(".")
    count = len(list((cache / "html").glob("*/*.json")))
    _edit_one_claim(kb)
    _build(kb, out)
    assert len(list((cache / "html").glob("*/*.json"))) == count
    assert (cache / "docs" / "index.md").is_file()


def test_pages_rendered_by_several_processes_are_the_single_process_build(
    kb: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(site_build, "render_workers", lambda config, changed, total: 1)
    single_out, single_err = _build(kb, tmp_path / "single")
    monkeypatch.setattr(site_build, "render_workers", lambda config, changed, total: 2)
    filled = []
    fill = site_build.fill_cache_in_parallel
    monkeypatch.setattr(
        site_build, "fill_cache_in_parallel", lambda *args: filled.append(fill(*args)) or filled[-1]
    )
    parallel_out, parallel_err = _build(kb, tmp_path / "parallel")
    pages = int(re.search(r"built (\d+) pages", parallel_out)[1])
    assert filled == [pages]  # the two workers rendered every page once between them
    assert "kept from the last build" not in parallel_out
    assert digest_tree(tmp_path / "parallel") == digest_tree(tmp_path / "single")
    assert parallel_err == single_err and "missing.md" in parallel_err


def test_a_claim_removed_renders_again_only_the_pages_that_looked_it_up(kb: Path, tmp_path: Path) -> None:
    """Entries do not depend on the whole list of files, only on the paths each page looked up."""
    links = kb / "site" / "docs" / "links.md"
    links.write_text("# Links\n\nSee [a claim](claims/deficit-alone-decides.md).\n")
    out = tmp_path / "out"
    _build(kb, out)
    next((kb / "claims").rglob("deficit-alone-decides.yaml")).unlink()
    (rendercache.cache_folder(out) / keep.MANIFEST).unlink()  # every page through the render cache
    stdout, stderr = _build(kb, out)
    pages, reused = map(int, re.search(r"built (\d+) pages \((\d+) kept", stdout).groups())
    assert 0 < reused < pages
    cold_out, cold_err = _build(kb, tmp_path / "cold")
    assert digest_tree(out) == digest_tree(tmp_path / "cold")
    assert stderr == cold_err and "claims/deficit-alone-decides.md" in stderr
