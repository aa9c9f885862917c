"""kb serve: the site follows the knowledge base through kb build's cached rebuild, and the preview
server shows the change."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from kb.site import build as site_build
from kb.site import serve as site_serve
from kb.site.serve import Watcher, fingerprint, rebuild, sync_folder
from tests.site_helpers import copy_fixture


def _statement(kb: Path, claim: str, old: str, new: str) -> None:
    path = next((kb / "claims").rglob(f"{claim}.yaml"))
    path.write_text(path.read_text().replace(old, new, 1))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_rebuild_renders_only_what_changed_and_keeps_the_site_while_invalid(tmp_path: Path) -> None:
    kb = copy_fixture(tmp_path)
    out = tmp_path / "out"

    first = rebuild(kb, out)
    assert first.valid and "claims/deficit-needed.md" in first.written and "index.md" in first.written
    assert "An energy deficit" not in (out / "claims/deficit-needed.html").read_text()
    assert rebuild(kb, out).written == []  # nothing changed, nothing written

    _statement(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    changed = rebuild(kb, out)
    assert "claims/deficit-needed.md" in changed.written
    assert "claims/hostile-claim.md" not in changed.written  # not related to the change
    assert "An energy deficit" in (out / "claims/deficit-needed.html").read_text()

    _statement(kb, "deficit-needed", "topic: diet", "topic: [diet")  # broken YAML
    before = _tree(out)
    broken = rebuild(kb, out)
    assert not broken.valid and broken.problems
    assert any(p.path.endswith("deficit-needed.yaml") for p in broken.problems)
    assert _tree(out) == before

    _statement(kb, "deficit-needed", "topic: [diet", "topic: diet")
    next((kb / "claims").rglob("jogging-builds-thighs.yaml")).unlink()
    slims = next((kb / "claims").rglob("jogging-slims-thighs.yaml"))
    slims.write_text(slims.read_text().replace("contradicts: [jogging-builds-thighs]\n", ""))
    removed = rebuild(kb, out)
    assert removed.valid, removed.problems
    assert "claims/jogging-builds-thighs.md" in removed.removed
    assert not (out / "claims/jogging-builds-thighs.html").exists()


def test_watcher_calls_back_on_a_change_only(tmp_path: Path) -> None:
    kb = copy_fixture(tmp_path)
    config = site_build.config_file(kb)
    calls = []
    watcher = Watcher(kb, config, lambda: calls.append(1), interval=0.05)
    assert watcher.check_once() is False
    source = kb / "sources/coach.yaml"
    source.write_text(source.read_text().replace("A coach's notes", "A trainer's notes"))
    os.utime(source, ns=(time.time_ns(), time.time_ns() + 10**9))  # a different mtime, even on coarse clocks
    assert watcher.check_once() is True
    assert calls == [1]
    assert watcher.check_once() is False
    assert calls == [1]


def _busy(seconds: float) -> None:
    """Take ``seconds`` of this thread's processor time, as a look at many files does."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_the_watcher_spends_at_most_a_fifth_of_its_time_looking(tmp_path: Path, monkeypatch) -> None:
    """A look at every file takes a tenth of a second at 10,000 claims: the watcher waits four times as
    long as its last look took (and at least its interval) before the next. What it calls on a change
    (a preview, seconds on a large base) does not count: the next edit is looked for as soon."""
    kb = copy_fixture(tmp_path)
    config = site_build.config_file(kb)
    looks: list[float] = []
    slow = [True]

    def watched(*args):
        looks.append(time.monotonic())
        if slow[0]:
            _busy(0.05)
        if len(looks) == 5:
            watcher.stop.set()
        return (str(len(looks)),)  # every look finds a change

    monkeypatch.setattr(site_serve, "fingerprint", watched)
    watcher = Watcher(kb, config, lambda: None, interval=0.01)
    looks.clear()
    watcher.run()
    gaps = [b - a for a, b in zip(looks, looks[1:], strict=False)]
    assert len(gaps) == 4 and min(gaps) >= 0.05 + 4 * 0.05 * 0.9, gaps

    slow[0] = False
    watcher = Watcher(kb, config, lambda: time.sleep(0.3), interval=0.01)
    looks.clear()
    watcher.stop.clear()
    watcher.run()
    gaps = [b - a for a, b in zip(looks, looks[1:], strict=False)]
    assert len(gaps) == 4 and max(gaps) < 1.0, gaps  # counting the 0.3 s would wait 1.2 s more


def test_a_look_counts_its_processor_time_not_its_wait(tmp_path: Path, monkeypatch) -> None:
    """Beside a rebuild a look waits for its turn at each of its calls to the system (one Python thread
    runs at a time): seconds where it takes a tenth of one alone. The next look waits four times the
    processor time the last took, not four times those seconds."""
    kb = copy_fixture(tmp_path)
    config = site_build.config_file(kb)
    watcher = Watcher(kb, config, lambda: None, interval=0.01)
    monkeypatch.setattr(site_serve, "fingerprint", lambda *args: time.sleep(0.3) or watcher.seen)
    watcher.check_once()
    assert watcher.wait() < 0.1, watcher.looked
    monkeypatch.setattr(site_serve, "fingerprint", lambda *args: _busy(0.1) or watcher.seen)
    watcher.check_once()
    assert watcher.wait() >= 4 * 0.1 * 0.9


def test_a_look_an_event_asked_for_holds_the_rebuild(tmp_path: Path, monkeypatch) -> None:
    kb = copy_fixture(tmp_path)
    config = site_build.config_file(kb)
    hold = site_serve.Hold()
    held: list[bool] = []
    watcher = Watcher(kb, config, lambda: None, pause=hold.holding)
    monkeypatch.setattr(site_serve, "fingerprint", lambda *args: held.append(not hold._free.is_set()) or ())
    watcher.check_once(asked=True)
    watcher.check_once()
    assert held == [True, False]
    assert hold._free.is_set()


def test_an_edit_is_looked_for_when_the_system_tells_of_it(tmp_path: Path) -> None:
    """Where the system tells of events in the knowledge base's folders, an edit is seen at once, not
    after the slow look that catches what it does not tell of; the rebuild's writing tells nothing."""
    kb = copy_fixture(tmp_path)
    config = site_build.config_file(kb)
    (kb / "build" / ".serve" / "site").mkdir(parents=True)
    (kb / ".kb-cache").mkdir(exist_ok=True)
    changes: list[float] = []
    watcher = Watcher(kb, config, lambda: changes.append(time.monotonic()), interval=30.0)
    nudges: list[float] = []
    watcher.nudged.set = lambda: nudges.append(time.monotonic()) or threading.Event.set(watcher.nudged)
    watcher.start()
    try:
        if watcher.observer is None and sys.platform != "linux":  # Linux has inotify
            pytest.skip("this system tells of no file events (kb serve polls)")
        assert watcher.wait() >= site_serve.FALLBACK_SECONDS
        for name in ("build/.serve/site/page.html", "build/.serve/docs.json", ".kb-cache/weights.json"):
            (kb / name).write_text("the rebuild writes")
        time.sleep(0.5)
        assert nudges == [] and changes == []
        edited = time.monotonic()
        _statement(kb, "deficit-needed", "statement: ", "statement: Edited, ")
        deadline = edited + site_serve.FALLBACK_SECONDS - 0.5
        while not changes and time.monotonic() < deadline:
            time.sleep(0.02)
        assert changes and changes[0] - edited < site_serve.FALLBACK_SECONDS - 0.5
    finally:
        watcher.close()


def test_every_long_step_of_a_rebuild_has_a_checkpoint(tmp_path: Path) -> None:
    """kb serve holds its rebuild at a checkpoint while a preview runs (the two would share one processor):
    each page made or rendered, and the model of the pages, the Disagreements page, the report, the data
    files, the search index and the plan of the kept pages each pass one, in the rebuild's thread only."""
    import inspect

    from kb import progress

    kb = copy_fixture(tmp_path)
    out = tmp_path / "out"
    assert rebuild(kb, out).valid
    _statement(kb, "deficit-needed", "statement: ", "statement: Edited, ")
    callers: set[str] = set()
    elsewhere: list[str] = []
    rebuilding = threading.get_ident()

    def hook() -> None:
        # the function passing the checkpoint, through kb.progress's helpers (a loop's ``pausable``)
        caller = next(f.function for f in inspect.stack()[1:] if Path(f.filename).name != "progress.py")
        (callers.add if threading.get_ident() == rebuilding else elsewhere.append)(caller)

    with progress.checkpoints(hook):
        assert rebuild(kb, out, parallel=False).valid
    expected = {
        "site_data",
        "contradictions_page",
        "generate",
        "_md_topic",
        "_claim_dicts",
        "build_data",
        "site_index",
        "generated_files",
        "plan",
        "_build",
        "rebuild",
        "on_page_content",
    }  # fmt: skip  (and each page rendered)
    assert expected <= callers, expected - callers
    assert elsewhere == []  # the writing thread of the docs folder makes no call
    progress.checkpoint()  # outside: nothing to call
    assert elsewhere == []


def test_the_watcher_looks_at_every_file_a_build_reads(tmp_path: Path) -> None:
    kb = copy_fixture(tmp_path)
    config = site_build.config_file(kb)
    (kb / "claims/diet/notes").mkdir()
    (kb / "claims/diet/notes/draft.txt").write_text("a file in a deeper folder")
    folders = (kb / "claims", kb / "sources", config.parent / site_build.HANDWRITTEN)
    every = [kb / "kb.yaml", config, *(p for folder in folders for p in folder.rglob("*"))]
    expected = sorted(str(p) for p in every if p.is_file())
    seen = fingerprint(kb, config)
    assert [name for name, _, _ in seen] == expected
    assert sorted(map(str, site_build.input_files(kb, config))) == expected
    path = kb / "claims/diet/notes/draft.txt"
    assert (str(path), path.stat().st_size, path.stat().st_mtime_ns) in seen


def test_the_live_reload_server_is_driven_through_its_own_state() -> None:
    """kb asks MkDocs' server to rebuild at once, to answer while it rebuilds and to reload the browsers
    after a preview and after the rebuild: through attributes of the server that this MkDocs has."""
    from mkdocs.livereload import LiveReloadServer

    server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=".")
    try:
        assert site_serve._start_rebuild(server) is True
        assert server._want_rebuild is True and server.build_delay == 0.0
        server._wanted_epoch = server._visible_epoch + 5  # the server's loop, as a rebuild starts
        site_serve._serve_meanwhile(server)
        assert server._wanted_epoch == server._visible_epoch  # requests are answered meanwhile
        before = server._visible_epoch
        site_serve._show_now(server)
        assert server._visible_epoch > before and server._wanted_epoch == server._visible_epoch
        shown = server._visible_epoch
        site_serve._reload_after(server)
        assert server._wanted_epoch > shown == server._visible_epoch  # published when the loop goes on
    finally:
        server.server_close()


def test_the_rebuild_waits_until_no_edit_was_previewed_for_a_while() -> None:
    settle = site_serve.Settle(0.3)
    assert settle.wait() < 0.3  # nothing previewed: no wait
    settle.previewed()
    assert settle.wait() >= 0.29
    assert settle.wait() < 0.3  # quiet since


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


def _serve_session(kb: Path, edit: tuple[str, str] | None) -> str:
    """kb serve of ``kb`` until its claim page shows ``edit`` (old, new: made to its statement) or, with
    no edit, until it answers; then stopped as by Ctrl-C. Returns what it printed."""
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
        if edit is not None:
            assert f"{edit[0]} is needed" in page
            _statement(kb, "deficit-needed", *edit)
            assert _wait_for(lambda: f"{edit[1]} is needed" in (_fetch(url) or "")), "no rebuild"
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=15)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("kb serve did not stop on SIGTERM")
    return output


def test_serve_shows_an_edited_claim_without_a_restart_and_starts_next_time_from_its_site(
    tmp_path: Path,
) -> None:
    """kb serve builds into build/.serve in the knowledge base and keeps it: the next kb serve renders only
    what changed since (nothing here), and shows edits as the first did."""
    kb = copy_fixture(tmp_path)
    output = _serve_session(kb, ("A calorie deficit", "An energy deficit"))
    watched = re.search(r"Watching paths for changes: '([^']+)'", output)
    assert watched, output
    site = kb / "build" / ".serve" / "site"
    assert Path(watched.group(1)).is_relative_to((kb / "build" / ".serve").resolve())
    assert "An energy deficit is needed" in (site / "claims" / "deficit-needed.html").read_text()
    assert "kb: regenerated" in output
    _serve_session(kb, None)  # builds what the edit changed if the first was stopped before its rebuild
    again = _serve_session(kb, None)
    assert "kb: regenerated" not in again, again
    _serve_session(kb, ("An energy deficit", "A calorie deficit"))


def test_a_second_kb_serve_of_a_knowledge_base_builds_in_a_temporary_folder(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    first, held, kept = site_serve.workspace(kb)
    try:
        assert kept and first == kb / "build" / ".serve"
        second, other, kept_too = site_serve.workspace(kb)
        try:
            assert not kept_too and second != first and second.is_dir()
        finally:
            os.close(other)
            shutil.rmtree(second)
    finally:
        os.close(held)
    again, held, kept = site_serve.workspace(kb)  # free again once the first let go
    os.close(held)
    assert kept and again == first


def test_a_rebuild_records_what_its_site_is_built_from(tmp_path: Path) -> None:
    kb, out = copy_fixture(tmp_path), tmp_path / "out"
    assert rebuild(kb, out).valid
    assert site_build.already_built(kb, out, site_build.look(kb, out)) is not None
    _statement(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    assert site_build.already_built(kb, out, site_build.look(kb, out)) is None


def test_a_next_start_serves_the_site_kept_at_once_only_while_it_is_up_to_date(tmp_path: Path) -> None:
    """With nothing changed since the last kb serve, the kept site is served before the first build,
    which runs behind it (the server's log tells of it as of a change); after an edit made meanwhile,
    the first page already shows the edit."""
    kb = copy_fixture(tmp_path)
    _serve_session(kb, None)  # builds build/.serve/site
    port = _free_port()
    url = f"http://127.0.0.1:{port}/claims/deficit-needed.html"
    argv = [sys.executable, "-m", "kb", "serve", "--kb", str(kb), "--addr", f"127.0.0.1:{port}"]
    for edited in (False, True):
        if edited:
            _statement(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
        log = tmp_path / f"serve-{edited}.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
            try:
                page = _wait_for(lambda: _fetch(url))
                assert page is not None, log.read_text()
                assert ("An energy deficit is needed" in page) == edited
                if not edited:  # the first build behind the site served, then the browsers reloaded
                    reloaded = _wait_for(lambda log=log: "Reloading browsers" in log.read_text())
                    assert reloaded, log.read_text()
            finally:
                server.terminate()
                server.wait(timeout=15)
        text = log.read_text()
        assert ("Detected file changes" in text) != edited, text
