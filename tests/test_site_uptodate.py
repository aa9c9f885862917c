"""kb build with nothing changed since the last build leaves the site as it is (kb.site.uptodate);
any change to what the site is built from, or to the site itself, makes it build."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from kb import files
from kb.cli import cli
from kb.site import build as site_build
from kb.site import incremental, uptodate
from tests.site_helpers import digest_tree
from tests.test_site_keep import CHANGES
from tests.test_site_keep import kb as kb  # noqa: F401 - the fixture: a base with hand-written pages

UP_TO_DATE = "is up to date: nothing it is built from changed"


def _build(kb: Path, out: Path) -> tuple[str, str]:
    result = CliRunner().invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def _built_again(kb: Path, out: Path) -> bool:
    """Build; whether it built (False: it found the site up to date)."""
    stdout, _ = _build(kb, out)
    assert (UP_TO_DATE in stdout) != stdout.startswith("built "), stdout
    return stdout.startswith("built ")


def _no_build(monkeypatch) -> None:
    def refused(*args, **kwargs):
        raise AssertionError("built, though nothing changed")

    monkeypatch.setattr(site_build, "build_site", refused)


def test_nothing_changed_leaves_the_site_and_gives_its_warnings_again(kb: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    _, warned = _build(kb, out)
    assert "missing.md" in warned  # notes.md links to a page that is not there
    site = uptodate.site_files(out)
    before = digest_tree(out)
    _no_build(monkeypatch)
    stdout, stderr = _build(kb, out)
    pages = sum(1 for p in out.rglob("*.html") if p.name != "404.html")
    assert stdout == f"{out} {UP_TO_DATE} ({pages} pages)\n"
    assert stderr == warned
    assert uptodate.site_files(out) == site and digest_tree(out) == before


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_builds_and_then_nothing_is_left_to_do(kb: Path, tmp_path: Path, change: str) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    CHANGES[change](kb)
    assert _built_again(kb, out)
    assert not _built_again(kb, out)


def test_a_file_just_written_is_known_by_its_bytes(kb: Path, tmp_path: Path) -> None:
    # written moments ago, a file's status cannot vouch for it (it could change again within the
    # same time stamp): the record keeps its digest, so touching it changes nothing...
    out = tmp_path / "out"
    _build(kb, out)
    claim = next((kb / "claims").rglob("*.yaml"))
    os.utime(claim)
    assert not _built_again(kb, out)
    # ...and rewriting it with other bytes of the same size does
    text = claim.read_text()
    claim.write_text(text.replace("statement: ", "statement: X", 1)[: len(text)])
    assert _built_again(kb, out)


def test_files_kept_by_their_bytes_are_kept_by_their_status_once_it_vouches(
    kb: Path, tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "out"
    _build(kb, out)  # every file was just written: each is kept by its digest
    record = site_build.rendercache.cache_folder(out) / uptodate.RECORD
    kept = orjson.loads(record.read_bytes().partition(b"\n")[2])["files"]
    assert kept and all(isinstance(entry, str) and entry.startswith("sha256:") for entry in kept.values())
    monkeypatch.setattr(files, "RACY_NS", 0)  # as if they had been written long ago
    assert not _built_again(kb, out)
    kept = orjson.loads(record.read_bytes().partition(b"\n")[2])["files"]
    assert all(isinstance(entry, list) for entry in kept.values())
    assert not _built_again(kb, out)


def test_an_older_file_is_known_by_its_status(kb: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(files, "RACY_NS", 0)  # every file counts as changed long ago
    out = tmp_path / "out"
    _build(kb, out)
    claim = next((kb / "claims").rglob("*.yaml"))
    recorded = uptodate.look(kb, site_build.config_file(kb).absolute(), out, "code")
    assert recorded is not None and isinstance(recorded.files[str(claim)], list)
    assert not _built_again(kb, out)
    os.utime(claim, ns=(claim.stat().st_atime_ns, claim.stat().st_mtime_ns + 1_000_000_000))
    assert _built_again(kb, out)  # same bytes, another status: looked at again


@pytest.mark.parametrize("where", ["claims", "sources", "site/docs", "site/overrides"])
def test_a_file_added_anywhere_the_build_reads_builds(kb: Path, tmp_path: Path, where: str) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    folder = kb / where
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("a note\n")
    assert _built_again(kb, out)
    (folder / "notes.txt").unlink()
    assert _built_again(kb, out)


def test_a_hidden_file_changes_nothing(kb: Path, tmp_path: Path) -> None:
    # an editor's swap file: neither kb nor MkDocs reads hidden files
    out = tmp_path / "out"
    _build(kb, out)
    (kb / "claims" / ".statement.yaml.swp").write_text("swap")
    assert not _built_again(kb, out)


def test_a_site_changed_by_hand_is_built_again(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    before = digest_tree(out)
    page = out / "index.html"
    page.write_text(page.read_text() + "<!-- edited -->")
    assert _built_again(kb, out)
    assert digest_tree(out) == before
    (out / "stray.html").write_text("stray")
    assert _built_again(kb, out)
    assert digest_tree(out) == before
    (out / "index.html").unlink()
    assert _built_again(kb, out)
    assert digest_tree(out) == before


def test_another_date_output_folder_or_kb_version_builds(kb: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # the sitemap's dates
    assert _built_again(kb, out)
    assert not _built_again(kb, out)
    assert _built_again(kb, tmp_path / "elsewhere")
    monkeypatch.setattr(incremental, "code_fingerprint", lambda: "another kb")
    assert _built_again(kb, out)


@pytest.mark.parametrize(
    "setting",
    [
        ("primary: blue grey", "primary: !ENV [KB_COLOUR, teal]"),  # the environment
        ("  - tables\n", "  - tables\n  - pymdownx.snippets\n"),  # may include any file
    ],
)
def test_a_configuration_that_reads_more_always_builds(kb: Path, tmp_path: Path, setting) -> None:
    config = kb / "site" / "mkdocs.yml"
    assert setting[0] in config.read_text()
    config.write_text(config.read_text().replace(*setting))
    out = tmp_path / "out"
    _build(kb, out)
    assert _built_again(kb, out)
    assert not (site_build.rendercache.cache_folder(out) / uptodate.RECORD).exists()


def test_errors_are_reported_though_the_site_was_built_from_the_same_files(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    claim = next((kb / "claims").rglob("jogging-builds-thighs.yaml"))
    good = claim.read_text()
    assert "stance: supports" in good
    claim.write_text(good.replace("stance: supports", "stance: suports", 1))
    result = CliRunner().invoke(cli, ["build", "--kb", str(kb), "--out", str(out)])
    assert result.exit_code == 1 and "suports" in result.stderr
    claim.write_text(good)  # back to the bytes the site was built from
    assert not _built_again(kb, out)


def test_a_damaged_record_builds(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _build(kb, out)
    record = site_build.rendercache.cache_folder(out) / uptodate.RECORD
    record.write_bytes(record.read_bytes().replace(b'"pages":', b'"pages":1', 1))
    assert _built_again(kb, out)
    assert not _built_again(kb, out)
