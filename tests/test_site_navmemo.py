"""Material's navigation rendered once per folder gives every page what the theme renders into it
(kb.site.navmemo)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.site import build as site_build
from kb.site import navmemo
from tests.site_helpers import PACKAGE_CONFIG, copy_fixture, digest_tree


def _build(kb: Path, out: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("directory_urls", [False, True])
def test_pages_get_the_navigation_the_theme_gives(tmp_path: Path, monkeypatch, directory_urls: bool) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(site_build, "render_workers", lambda *_: 1)  # one process: counted
    kb = copy_fixture(tmp_path)
    config = re.sub(r"(?m)^use_directory_urls: .*$", f"use_directory_urls: {str(directory_urls).lower()}",
                    PACKAGE_CONFIG.read_text())  # fmt: skip
    (kb / "site").mkdir(exist_ok=True)
    (kb / "site" / "mkdocs.yml").write_text(config)
    # pages in no nav entry at three depths, each folder's first page rendering what the others get
    for name in ("notes.md", "more.md", "deep/er/one.md", "deep/er/two.md"):
        page = kb / "site" / "docs" / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# {name}\n\nSee [the claims](/claims.md).\n")
    made: list = []
    make = navmemo.make_plugin
    monkeypatch.setattr(navmemo, "make_plugin", lambda: made.append(make()) or made[-1])
    _build(kb, tmp_path / "kept")
    served = sum(plugin.served for plugin in made)
    if directory_urls:
        assert served == 0  # each page is a folder of its own
    else:
        assert served >= 5  # the claim, source and topic pages after the first of each folder
    monkeypatch.setattr(navmemo, "applies", lambda config: False)
    _build(kb, tmp_path / "each")
    kept, each = digest_tree(tmp_path / "kept"), digest_tree(tmp_path / "each")
    assert kept == each
    assert sum(name.endswith(".html") for name in kept) >= 15


def _page(url: str) -> SimpleNamespace:
    return SimpleNamespace(url=url, active=True)


def test_only_pages_outside_the_navigation_share_it() -> None:
    home, index = _page("index.html"), _page("claims.html")
    nav = SimpleNamespace(pages=[home, index], items=[home, index])
    home.active = index.active = False
    assert navmemo.folder_key(_page("claims/a.html"), nav) == "claims"
    assert navmemo.folder_key(_page("claims/a/"), nav) == "claims/a/"  # directory URLs
    assert navmemo.folder_key(_page("a.html"), nav) == ""
    assert navmemo.folder_key(index, nav) is None
    section = SimpleNamespace(active=False, children=[SimpleNamespace(active=True, children=None)])
    assert navmemo.folder_key(_page("claims/a.html"), SimpleNamespace(pages=[], items=[section])) is None


@pytest.mark.parametrize(
    ("name", "custom_dir", "applies"),
    [("material", None, True), ("material", "overrides", False), ("mkdocs", None, False)],
)
def test_only_for_the_themes_own_templates(name: str, custom_dir: str | None, applies: bool) -> None:
    config = SimpleNamespace(theme=SimpleNamespace(name=name, custom_dir=custom_dir))
    assert navmemo.applies(config) is applies
