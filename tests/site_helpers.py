"""Reading a built site in tests: links, ids, scripts and text of its HTML pages."""

from __future__ import annotations

import hashlib
import posixpath
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kb.cli import cli
from kb.site import build as site_build
from tests.conftest import FIXTURES

SITE_FIXTURE = FIXTURES / "site"
# Code the hostile fixture tries to run; it must only ever appear as text.
PWNED = "window.__pwned"
# the site configuration kb ships in its package, which a knowledge base without its own uses
PACKAGE_CONFIG = Path(site_build.__file__).parent / site_build.CONFIG_NAME


@dataclass
class Page:
    path: str  # relative to the site root
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)  # <a href>
    resources: list[tuple[str, str]] = field(default_factory=list)  # (tag, url) the browser fetches
    scripts: list[str] = field(default_factory=list)  # inline script bodies
    handlers: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    text: str = ""
    title: str = ""
    marks: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack: list[str] = []
        self.text: list[str] = []
        self.script: list[str] | None = None
        self.title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.page.ids.add(values["id"])
        for name, value in values.items():
            if name.startswith("on"):
                self.page.handlers.append((tag, name, value))
        if tag == "a" and "href" in values:
            self.page.links.append(values["href"])
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and values.get("src"):
            self.page.resources.append((tag, values["src"]))
        if tag == "link" and values.get("href"):
            self.page.resources.append((tag, values["href"]))
        if tag == "object" and values.get("data"):
            self.page.resources.append((tag, values["data"]))
        if tag == "mark":
            self.page.marks.append(values)
        if tag == "img":
            self.page.images.append(values)
        if tag == "script" and "src" not in values:
            self.script = []
        if tag == "title":
            self.title = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script is not None:
            self.page.scripts.append("".join(self.script))
            self.script = None
        if tag == "title" and self.title is not None:
            self.page.title = "".join(self.title)
            self.title = None

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script.append(data)
        elif self.title is not None:
            self.title.append(data)
        else:
            self.text.append(data)


def read_page(site: Path, rel: str) -> Page:
    page = Page(rel)
    reader = _Reader(page)
    reader.feed((site / rel).read_text(encoding="utf-8"))
    reader.close()
    page.text = " ".join("".join(reader.text).split())
    return page


def html_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def resolve(page: str, href: str) -> tuple[str, str]:
    """(site-relative path, fragment) of a relative link on ``page``; the path is '' for the page itself."""
    parts = urlsplit(href)
    if not parts.path:
        return page, parts.fragment
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
    return target, parts.fragment


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc) and parts.scheme not in ("data",)


def digest_tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with the SHA-256 of its bytes: two sites compare equal
    when they are the same bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def copy_fixture(tmp: Path, name: str = "site") -> Path:
    target = tmp / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".kb-cache", "build"))
    return target


def build_with_cli(runner, kb: Path, out: Path) -> None:
    result = runner.invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    assert result.exit_code == 0, result.output
