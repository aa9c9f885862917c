"""The question set of tests/search_questions.yaml: loading it, scoring answers, the CLI's answers."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml

from kb.cli import cli
from tests.conftest import REPO

QUESTIONS_FILE = Path(__file__).parent / "search_questions.yaml"
QUESTIONS: list[dict[str, Any]] = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))


def precision_at_3(answers: dict[str, list[str]]) -> tuple[float, int]:
    """Mean share of the first three answers a reader would accept, over the answerable questions."""
    shares = []
    for q in QUESTIONS:
        if q.get("answer") == "none":
            continue
        accepted = set(q.get("must", [])) | set(q.get("must_any", [])) | set(q.get("relevant", []))
        top = answers[q["question"]][:3]
        shares.append(sum(1 for c in top if c in accepted) / 3)
    return sum(shares) / len(shares), len(shares)


def check_answers(answers: dict[str, list[str]], where: str) -> None:
    """Every question's must-claims in its first three answers; no answer where the base has none."""
    wrong = []
    for q in QUESTIONS:
        top = answers[q["question"]][:3]
        if q.get("answer") == "none":
            if top:
                wrong.append((q["question"], "expected no answer", top))
        elif not set(q.get("must", [])) <= set(top):
            wrong.append((q["question"], q["must"], top))
        elif q.get("must_any") and not set(q["must_any"]) & set(top):
            wrong.append((q["question"], "one of", q["must_any"], top))
    assert wrong == [], f"{where}: {wrong}"
    score, count = precision_at_3(answers)
    print(f"\n{where}: precision at 3 = {score:.3f} over {count} answerable questions")
    assert score >= 0.6


@functools.cache
def cli_answers() -> dict[str, list[str]]:
    """The first three claims `kb search` gives for each question (once per test run)."""
    from click.testing import CliRunner

    runner = CliRunner()
    out = {}
    for q in QUESTIONS:
        result = runner.invoke(cli, ["search", "--kb", str(REPO), q["question"], "--json", "--limit", "3"])
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output
        hits = [hit["id"] for hit in json.loads(result.stdout)["hits"]]
        assert (result.exit_code == 1) == (not hits), q["question"]
        out[q["question"]] = hits
    return out
