"""Writing outputs: whole or not at all, and to what the user named (links, pipes, devices)."""

from __future__ import annotations

import errno
import os
import socket
import threading
from pathlib import Path

import pytest

from kb import output
from kb.errors import KbError


def test_write_all_writes_every_file_or_none(tmp_path: Path, monkeypatch) -> None:
    old = tmp_path / "a.csv"
    old.write_text("old a\n")
    real = output._temporary
    calls = []

    def full_disk(path: Path, payload: bytes) -> str:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, payload)

    monkeypatch.setattr(output, "_temporary", full_disk)
    with pytest.raises(OSError, match="No space left"):
        output.write_all({old: "new a\n", tmp_path / "b.csv": "b\n", tmp_path / "c.csv": "c\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # no temporary file, no b.csv
    assert old.read_text() == "old a\n"


def test_write_output_through_a_link_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    output.write_output(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "later.json")
    output.write_output(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "later.json").read_text() == "made"


def test_write_output_into_a_fifo_and_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    output.write_output(fifo, "through the pipe")
    reader.join(10)
    assert received == [b"through the pipe"]
    assert fifo.is_fifo()
    output.write_output(Path("/dev/null"), "discarded")
    assert Path("/dev/null").is_char_device()


def test_write_output_refuses_odd_files_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(KbError, match="is a folder; give a file name"):
        output.write_output(tmp_path, "x")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock"))
        with pytest.raises(KbError, match="is a socket"):
            output.write_output(tmp_path / "sock", "x")
    finally:
        server.close()


def test_write_output_failure_is_a_message(tmp_path: Path, monkeypatch) -> None:
    def read_only(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(output.tempfile, "mkstemp", read_only)
    with pytest.raises(KbError, match="cannot write .*out.json: Permission denied"):
        output.write_output(tmp_path / "out.json", "x")
    assert list(tmp_path.iterdir()) == []


def test_write_unsynced_replaces_whole_or_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "cache" / "weights.json"
    output.write_unsynced(target, b"first")
    output.write_unsynced(target, b"second")
    assert target.read_bytes() == b"second" and [p.name for p in target.parent.iterdir()] == ["weights.json"]

    def failing_replace(src, dst) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "replace", failing_replace)
    with pytest.raises(OSError):
        output.write_unsynced(target, b"third")
    assert target.read_bytes() == b"second" and [p.name for p in target.parent.iterdir()] == ["weights.json"]
