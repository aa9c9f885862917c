"""The command line through click's runner: exit codes and output streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kb.cli import cli
from tests.conftest import FIXTURES

VALID = str(FIXTURES / "valid")


def test_validate_ok(runner) -> None:
    result = runner.invoke(cli, ["validate", "--kb", VALID])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 2 sources, 3 claims, 5 quotes verified, 2 relations")


def test_unknown_command_is_usage_error(runner) -> None:
    result = runner.invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert "Usage:" in result.output


def test_bad_option_is_usage_error(runner) -> None:
    result = runner.invoke(cli, ["validate", "--no-such-option"])
    assert result.exit_code == 2
    result = runner.invoke(cli, ["export", "--kb", VALID, "--format", "yaml"])
    assert result.exit_code == 2


def test_export_on_invalid_base_exits_1_with_problems(runner) -> None:
    result = runner.invoke(cli, ["export", "--kb", str(FIXTURES / "invalid" / "bad-enum")])
    assert result.exit_code == 1
    assert "claims/a.yaml:5:13:" in result.stderr
    assert result.stdout == ""


def test_export_writes_file_atomically(runner, tmp_path) -> None:
    out = tmp_path / "sub" / "kb.json"
    result = runner.invoke(cli, ["export", "--kb", VALID, "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [c["id"] for c in data["claims"]] == [
        "less-protein",
        "running-shrinks-legs",
        "sprinting-builds-legs",
    ]
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_console_script_flushes_its_output_before_exiting_at_once(runner) -> None:
    """After a batch command kb.cli.main ends the process without tearing it down: what it printed,
    to a pipe, arrives whole, with the exit code the command gave."""
    import subprocess
    import sys

    for args, code in (
        (["export", "--kb", VALID], 0),
        (["contradictions", "--kb", VALID], 0),
        (["validate", "--kb", str(FIXTURES / "invalid" / "bad-enum")], 1),
    ):
        expected = runner.invoke(cli, args)
        done = subprocess.run([sys.executable, "-m", "kb", *args], capture_output=True, text=True)
        assert (done.returncode, done.stdout, done.stderr) == (code, expected.stdout, expected.stderr)


def test_the_command_gives_openblas_one_thread_before_numpy_loads() -> None:
    """numpy reads OPENBLAS_NUM_THREADS once, when it loads: kb.cli sets it first (kb._blas), and
    keeps a value the environment already has."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    code = "import kb.cli, kb.weigh, os; print(os.environ['OPENBLAS_NUM_THREADS'])"
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert run.stdout == "1\n"
    loaded = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "|" in line]
    assert "numpy" in loaded and loaded.index("kb._blas") < loaded.index("numpy")
    env["OPENBLAS_NUM_THREADS"] = "3"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout == "3\n"
    )
