from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# KB_UPDATE_GOLDEN=1 rewrites golden files from the current output instead of comparing.
UPDATE_GOLDEN = os.environ.get("KB_UPDATE_GOLDEN") == "1"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def check_golden(path: Path, actual: str) -> None:
    if UPDATE_GOLDEN or not path.exists():
        if not UPDATE_GOLDEN:
            pytest.fail(f"golden file {path} is missing; run with KB_UPDATE_GOLDEN=1 to create it")
        path.write_text(actual, encoding="utf-8")
        return
    assert actual == path.read_text(encoding="utf-8"), f"output differs from {path}"


@pytest.fixture
def always_build(monkeypatch) -> None:
    """``kb build`` makes its pass even when nothing changed since the last build (kb.site.uptodate
    would leave the site as it is): for the tests of what that pass keeps and renders."""
    from kb.site import build as site_build

    monkeypatch.setattr(site_build, "already_built", lambda *args, **kwargs: None)
