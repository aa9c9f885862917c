"""kb serve: the docs folder follows the knowledge base, and the preview server shows the change."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kb.site import build as site_build
from kb.site.serve import Watcher, regenerate, sync_folder
from tests.site_helpers import copy_fixture


def _statement(kb: Path, claim: str, old: str, new: str) -> None:
    path = next((kb / "claims").rglob(f"{claim}.yaml"))
    path.write_text(path.read_text().replace(old, new, 1))


def test_regenerate_writes_only_what_changed_and_keeps_pages_while_invalid(tmp_path: Path) -> None:
    kb = copy_fixture(tmp_path)
    docs = tmp_path / "docs"
    config = site_build.config_file(kb)

    first = regenerate(kb, docs, config)
    assert first.valid and "claims/deficit-needed.md" in first.written and "index.md" in first.written
    assert regenerate(kb, docs, config).written == []  # nothing changed, nothing written

    _statement(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    changed = regenerate(kb, docs, config)
    assert "claims/deficit-needed.md" in changed.written
    assert "An energy deficit" in (docs / "claims/deficit-needed.md").read_text()
    assert "claims/hostile-claim.md" not in changed.written  # not related to the change

    _statement(kb, "deficit-needed", "topic: diet", "topic: [diet")  # broken YAML
    before = {p: p.read_bytes() for p in docs.rglob("*") if p.is_file()}
    broken = regenerate(kb, docs, config)
    assert not broken.valid and broken.problems
    assert any(p.path.endswith("deficit-needed.yaml") for p in broken.problems)
    assert {p: p.read_bytes() for p in docs.rglob("*") if p.is_file()} == before

    _statement(kb, "deficit-needed", "topic: [diet", "topic: diet")
    next((kb / "claims").rglob("jogging-builds-thighs.yaml")).unlink()
    slims = next((kb / "claims").rglob("jogging-slims-thighs.yaml"))
    slims.write_text(slims.read_text().replace("contradicts: [jogging-builds-thighs]\n", ""))
    removed = regenerate(kb, docs, config)
    assert removed.valid, removed.problems
    assert "claims/jogging-builds-thighs.md" in removed.removed
    assert not (docs / "claims/jogging-builds-thighs.md").exists()


def test_watcher_regenerates_on_a_change_only(tmp_path: Path) -> None:
    kb = copy_fixture(tmp_path)
    docs = tmp_path / "docs"
    config = site_build.config_file(kb)
    regenerate(kb, docs, config)
    reports = []
    watcher = Watcher(kb, docs, config, reports.append, interval=0.05)
    assert watcher.check_once() is None
    source = kb / "sources/coach.yaml"
    source.write_text(source.read_text().replace("A coach's notes", "A trainer's notes"))
    os.utime(source, ns=(time.time_ns(), time.time_ns() + 10**9))  # a different mtime, even on coarse clocks
    result = watcher.check_once()
    assert result is not None and "sources/coach.md" in result.written
    assert reports == [result]
    assert "A trainer's notes" in (docs / "sources/coach.md").read_text()
    assert watcher.check_once() is None


def test_sync_folder_removes_stale_files_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "old/deep").mkdir(parents=True)
    (tmp_path / "old/deep/page.md").write_text("stale")
    written, removed = sync_folder(tmp_path, {"new.md": "fresh"})
    assert written == ["new.md"] and removed == ["old/deep/page.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.md"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def _wait_for(predicate, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return None


def test_serve_shows_an_edited_claim_without_a_restart(tmp_path: Path) -> None:
    kb = copy_fixture(tmp_path)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kb", "serve", "--kb", str(kb), "--addr", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/claims/deficit-needed.html"
    try:
        page = _wait_for(lambda: _fetch(url))
        if page is None:
            server.kill()
            pytest.fail("kb serve did not answer: " + server.communicate()[0].decode(errors="replace"))
        assert "A calorie deficit is needed" in page
        _statement(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
        assert _wait_for(lambda: "An energy deficit is needed" in (_fetch(url) or "")), "no rebuild"
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=15)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("kb serve did not stop on SIGTERM")
    watched = re.search(r"Watching paths for changes: '([^']+)'", output)
    assert watched, output
    assert not Path(watched.group(1)).exists(), "the generated docs folder was left behind"
