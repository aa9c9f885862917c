"""The knowledge base the project ships at its root."""

from __future__ import annotations

from kb.cli import cli
from kb.load import load
from tests.conftest import REPO


def test_shipped_base_validates(runner) -> None:
    result = runner.invoke(cli, ["validate", "--kb", str(REPO)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "", "the shipped base must have no warnings either"


def test_every_source_has_claims_and_every_claim_has_evidence() -> None:
    kb, problems = load(REPO)
    assert kb is not None, problems
    cited = {ev.source for claim in kb.claims.values() for ev in claim.evidence}
    assert set(kb.sources) == cited
    assert len(kb.sources) == 4
    for claim in kb.claims.values():
        assert claim.evidence, f"{claim.id} has no evidence"
        assert claim.path.startswith(f"claims/{claim.topic}/"), f"{claim.id} is not in its topic folder"
