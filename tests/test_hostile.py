"""Hostile input beyond the golden fixtures: cases built at test time, through the CLI."""

from __future__ import annotations

import os
import shutil
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
