"""Hostile input beyond the golden fixtures: cases built at test time, through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.cli import cli
from tests.conftest import FIXTURES, REPO


def _base(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "valid", root, ignore=shutil.ignore_patterns(".kb-cache"))
    return root


def _assert_clean_failure(result, path: str, started: float) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert any(line.startswith(f"{path}:") for line in result.stderr.splitlines()), result.stderr
    assert time.perf_counter() - started < 10


def test_very_large_claim_file(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    (root / "claims" / "huge.yaml").write_text("statement: " + "x" * 5_000_000 + "\n")
    started = time.perf_counter()
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "claims/huge.yaml", started)
    assert "larger than" in result.stderr


def test_text_symlink_leaving_the_folder(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text("Running long distances shrinks your legs.\n")
    (root / "sources" / "blog-a.txt").unlink()
    os.symlink(outside, root / "sources" / "blog-a.txt")
    started = time.perf_counter()
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "sources/blog-a.yaml", started)
    assert "leaves the knowledge-base folder" in result.stderr


def test_absolute_text_path(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    source = root / "sources" / "blog-a.yaml"
    source.write_text(source.read_text().replace("text: blog-a.txt", "text: /etc/hostname"))
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "sources/blog-a.yaml", time.perf_counter())


def test_binary_claim_file(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    (root / "claims" / "binary.yaml").write_bytes(bytes(range(256)))
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "claims/binary.yaml", time.perf_counter())


def test_claim_folder_named_like_a_file(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    (root / "claims" / "odd.yaml").mkdir()
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("seed", ["1", "2"])
def test_export_is_byte_identical_across_processes(seed: str, tmp_path: Path) -> None:
    """Set and dict ordering must not leak into output: compare runs under two hash seeds."""
    outputs = []
    for hash_seed in (seed, "99"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "kb", "export", "--kb", str(FIXTURES / "valid")],
            capture_output=True,
            env=env,
            cwd=REPO,
            check=True,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]


# --- files that are not files, links that leave the folder, folders that cannot be read ---


@pytest.fixture
def deadline():
    """Fail a test that blocks (on a FIFO, say) instead of hanging the suite."""

    def expired(*_: object) -> None:
        raise AssertionError("kb blocked for 30 s")  # not an OSError: nothing in kb may catch it

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fifo_under_claims_is_an_error_not_a_hang(tmp_path: Path, runner, deadline) -> None:
    root = _base(tmp_path)
    os.mkfifo(root / "claims" / "running" / "pipe.yaml")
    started = time.perf_counter()
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "claims/running/pipe.yaml", started)
    assert "named pipe (FIFO)" in result.stderr


@pytest.mark.parametrize("command", [["validate"], ["search", "running"], ["export"], ["report"]])
def test_fifo_under_sources_fails_every_command(tmp_path: Path, runner, deadline, command) -> None:
    root = _base(tmp_path)
    # a search index cached before the FIFO appeared must not be used either
    assert runner.invoke(cli, ["search", "running", "--kb", str(root)]).exit_code == 0
    os.mkfifo(root / "sources" / "notes.txt")
    started = time.perf_counter()
    result = runner.invoke(cli, [*command, "--kb", str(root)])
    _assert_clean_failure(result, "sources/notes.txt", started)


@pytest.mark.parametrize("where", ["claims/running/zero.yaml", "sources/blog-a.txt"])
def test_link_to_a_device_is_refused_unread(tmp_path: Path, runner, deadline, where: str) -> None:
    root = _base(tmp_path)
    (root / where).unlink(missing_ok=True)
    os.symlink("/dev/zero", root / where)
    started = time.perf_counter()
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{where}:1:1: is a device; a knowledge base holds regular files only" in result.stderr
    if where.startswith("sources/"):
        assert "sources/blog-a.yaml:4:7: text: 'blog-a.txt' leaves the knowledge-base folder" in result.stderr
    assert time.perf_counter() - started < 10


def test_device_inside_the_folder_is_refused(tmp_path: Path, runner, deadline, monkeypatch) -> None:
    """A device file kept in the folder itself: refused on the open descriptor, never read."""
    from kb import files

    root = _base(tmp_path)
    claim = root / "claims" / "running" / "running-shrinks-legs.yaml"
    real_fstat = os.fstat

    def as_device(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        if os.readlink(f"/proc/self/fd/{fd}") == str(claim.resolve()):
            values = list(info)
            values[0] = stat.S_IFCHR | 0o666
            return os.stat_result(values)
        return info

    monkeypatch.setattr(files.os, "fstat", as_device)
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "claims/running/running-shrinks-legs.yaml", time.perf_counter())
    assert "is a device, not a regular file" in result.stderr


SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "content",
    [f"{SECRET}\nAWS_REGION=eu-west-1\n", "root:x:0:0:root:/root:/bin/bash\n" * 40, None],
    ids=["dotfile", "passwd-like", "valid-claim"],
)
def test_claim_linked_from_outside_is_refused_unread(tmp_path: Path, runner, content: str | None) -> None:
    root = _base(tmp_path)
    outside = tmp_path / "elsewhere.yaml"
    if content is None:  # a valid claim kept outside: still not part of this knowledge base
        claim = root / "claims" / "running" / "running-shrinks-legs.yaml"
        content = claim.read_text().replace("Running", "Walking")
    outside.write_text(content)
    os.symlink(outside, root / "claims" / "linked.yaml")
    for command in (["validate"], ["export"]):
        result = runner.invoke(cli, [*command, "--kb", str(root)])
        _assert_clean_failure(result, "claims/linked.yaml", time.perf_counter())
        assert "outside the knowledge-base folder" in result.stderr
        assert "AWS" not in result.output and "root:x" not in result.output and "Walking" not in result.output


def test_errors_quote_at_most_a_short_excerpt(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    long_line = "secret-" * 500
    (root / "claims" / "scalar.yaml").write_text(long_line + "\n")
    (root / "claims" / "key.yaml").write_text(f"statement: x\ntopic: t\nevidence: []\n{long_line}: 1\n")
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    assert result.exit_code == 1
    for line in result.stderr.splitlines():
        assert line.count("secret-") <= 60 // len("secret-") + 1, line
    assert "(3,500 characters)" in result.stderr


def _fail_for(monkeypatch, target: Path, name: str) -> None:
    """Make os.<name> raise PermissionError for ``target`` (the tests run as root, where chmod 000
    does not stop reading)."""
    real = getattr(os, name)

    def refuse(path, *args, **kwargs):
        if Path(os.fsdecode(path)).resolve() == target.resolve():
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, name, refuse)


def test_unreadable_claim_folder_is_an_error(tmp_path: Path, runner, monkeypatch) -> None:
    root = _base(tmp_path)
    _fail_for(monkeypatch, root / "claims" / "running", "scandir")
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "claims/running", time.perf_counter())
    assert "cannot read folder: Permission denied" in result.stderr
    assert "ok:" not in result.output


def test_unreadable_source_text_is_an_error(tmp_path: Path, runner, monkeypatch) -> None:
    root = _base(tmp_path)
    _fail_for(monkeypatch, root / "sources" / "blog-a.txt", "open")
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "sources/blog-a.yaml", time.perf_counter())
    assert "text: 'blog-a.txt': cannot read file: Permission denied" in result.stderr


def test_link_to_a_folder_is_not_followed(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    os.symlink(tmp_path, root / "claims" / "outside")
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    _assert_clean_failure(result, "claims/outside", time.perf_counter())
    assert "link to a folder outside" in result.stderr


# --- caches are never believed over the files ---


def _edit_index(root: Path, edit: str) -> None:
    """Change the cached search index as someone editing the file would (its seal left as it was)."""
    from kb.search import cache_path

    data = json.loads(cache_path(root).read_text(encoding="utf-8"))
    text = json.dumps(data)
    if edit == "deeply-nested-metadata":
        text = text.replace('"extra_files": []', '"extra_files": ' + "[" * 100_000 + "]" * 100_000)
    else:
        for claim in data["claims"]:
            claim[1] = "Eating rocks builds legs."
        text = json.dumps(data)
    cache_path(root).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("edit", ["deeply-nested-metadata", "edited-statement"])
def test_a_damaged_search_index_is_rebuilt(tmp_path: Path, runner, edit: str) -> None:
    root = _base(tmp_path)
    first = runner.invoke(cli, ["search", "running", "--kb", str(root), "--json"])
    assert first.exit_code == 0, first.output
    _edit_index(root, edit)
    again = runner.invoke(cli, ["search", "running", "--kb", str(root), "--json"])
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout


# --- failures that are messages, not tracebacks ---


def _no_write(monkeypatch, errno_code: int = 13, message: str = "Permission denied") -> None:
    """Every new file fails as in a read-only folder (or on a full disk); the tests run as root,
    for whom chmod does not stop writing."""
    from kb import output

    def refuse(*_args, **_kwargs):
        raise OSError(errno_code, message)

    monkeypatch.setattr(output.tempfile, "mkstemp", refuse)


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--format", "csv", "-o", "{out}"],
        ["export", "-o", "{out}/kb.json"],
        ["report", "-o", "{out}/report.md"],
        ["schema", "--out", "{out}"],
    ],
)
def test_read_only_output_is_a_message(tmp_path: Path, runner, monkeypatch, command) -> None:
    root = _base(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    _no_write(monkeypatch)
    result = runner.invoke(cli, [c.format(out=out) for c in command] + ["--kb", str(root)])
    assert result.exit_code == 1, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert "Permission denied" in result.stderr
    assert list(out.iterdir()) == []


def test_full_disk_leaves_no_table_behind(tmp_path: Path, runner, monkeypatch) -> None:
    from kb import output

    root = _base(tmp_path)
    out = tmp_path / "tables"
    real = output._temporary

    def full_after_one(path: Path, payload: bytes) -> str:
        if path.name != "claims.csv":
            raise OSError(28, "No space left on device", str(path))
        return real(path, payload)

    monkeypatch.setattr(output, "_temporary", full_after_one)
    result = runner.invoke(cli, ["export", "--format", "csv", "-o", str(out), "--kb", str(root)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "No space left on device; nothing written" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_build_into_a_read_only_folder_is_a_message(tmp_path: Path, runner, monkeypatch) -> None:
    from kb.site import build as site_build

    root = _base(tmp_path)

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "site"))

    monkeypatch.setattr(site_build.tempfile, "mkdtemp", refuse)
    result = runner.invoke(cli, ["build", "--kb", str(root), "--out", str(tmp_path / "site")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "cannot build the site into" in result.stderr and "Permission denied" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["new", "claim", "x" * 300, "--topic", "running"],
        ["new", "claim", "ok", "--topic", "t" * 300],
        ["new", "source", "s" * 300, "--title", "T", "--kind", "blog"],
        ["add-source", "{doc}", "--id", "d" * 300],
    ],
)
def test_overlong_ids_are_refused_before_writing(tmp_path: Path, runner, command) -> None:
    root = _base(tmp_path)
    doc = tmp_path / "doc.txt"
    doc.write_text("A document.\n\nRunning shrinks legs.\n")
    before = sorted(p for p in root.rglob("*"))
    result = runner.invoke(cli, [c.format(doc=doc) for c in command] + ["--kb", str(root)])
    assert result.exit_code == 2, result.output
    assert "more than 100" in result.stderr and "Traceback" not in result.output
    assert sorted(p for p in root.rglob("*")) == before


def test_out_of_range_numbers_are_usage_errors(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    search = runner.invoke(cli, ["search", "running", "--limit", "9" * 23, "--kb", str(root)])
    assert search.exit_code == 2 and "--limit" in search.output and "OverflowError" not in search.output
    serve = runner.invoke(cli, ["serve", "--addr", "localhost:99999", "--kb", str(root)])
    assert serve.exit_code == 2 and "port from 1 to 65535" in serve.stderr
    assert runner.invoke(cli, ["serve", "--addr", "nonsense", "--kb", str(root)]).exit_code == 2


def test_add_source_writes_nothing_when_the_schema_folder_cannot_be_written(
    tmp_path: Path, runner, monkeypatch
) -> None:
    from kb import output

    root = _base(tmp_path)
    doc = tmp_path / "doc.txt"
    doc.write_text("A document\n\nRunning shrinks legs.\n")
    real = output._temporary

    def schema_read_only(path: Path, payload: bytes) -> str:
        if path.parent.name == "schema":
            raise PermissionError(13, "Permission denied", str(path.parent))
        return real(path, payload)

    monkeypatch.setattr(output, "_temporary", schema_read_only)
    before = sorted(p for p in root.rglob("*"))
    result = runner.invoke(cli, ["add-source", str(doc), "--kb", str(root)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Permission denied; nothing written" in result.stderr
    assert sorted(p for p in root.rglob("*")) == before


def test_add_source_refuses_a_title_that_is_not_utf8(tmp_path: Path) -> None:
    root = _base(tmp_path)
    doc = tmp_path / "doc.txt"
    doc.write_text("A document\n\nRunning shrinks legs.\n")
    before = sorted(p for p in root.rglob("*"))
    done = subprocess.run(
        [sys.executable, "-m", "kb", "add-source", str(doc), "--title", b"Bad \xff", "--kb", str(root)],
        capture_output=True,
        cwd=REPO,
    )
    assert done.returncode == 2, done.stderr
    assert b"is not valid text at character 5" in done.stderr and b"nothing written" in done.stderr
    assert b"Traceback" not in done.stderr
    assert sorted(p for p in root.rglob("*")) == before
    assert (
        subprocess.run([sys.executable, "-m", "kb", "validate", "--kb", str(root)], cwd=REPO).returncode == 0
    )


def test_add_source_refuses_a_document_that_is_a_device(tmp_path: Path, runner, deadline) -> None:
    root = _base(tmp_path)
    doc = tmp_path / "endless.txt"
    doc.symlink_to("/dev/zero")
    result = runner.invoke(cli, ["add-source", str(doc), "--kb", str(root)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "is a device, not a regular file" in result.stderr


def test_claim_linked_from_inside_the_folder_is_read(tmp_path: Path, runner) -> None:
    root = _base(tmp_path)
    claim = root / "claims" / "running" / "running-shrinks-legs.yaml"
    (root / "drafts").mkdir()
    claim.rename(root / "drafts" / "kept.yaml")
    claim.symlink_to(Path("..") / ".." / "drafts" / "kept.yaml")
    result = runner.invoke(cli, ["validate", "--kb", str(root)])
    assert result.exit_code == 0, result.output
