"""The question set (tests/search_questions.yaml) through `kb search`, and the site's search engine
(kb/site/assets/search.js, run by Node) against the Python reference on the same questions.

The site's search box in a real browser is tested in test_site_browser.py, on the same questions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kb import search
from kb.load import load_valid
from kb.site import build, pages, searchpages
from kb.weigh import compute
from kb.weigh import shown as shown_strength
from tests.conftest import FIXTURES, REPO
from tests.question_set import QUESTIONS, check_answers, cli_answers

RUNNER = Path(__file__).parent / "js" / "run_search.js"
NODE = shutil.which("node") or shutil.which("nodejs")


def test_the_question_set_is_what_the_issue_asks_for() -> None:
    assert len(QUESTIONS) >= 20
    assert sum(1 for q in QUESTIONS if q.get("answer") == "none") >= 2
    kb = load_valid(REPO)
    for q in QUESTIONS:
        for claim in [*q.get("must", []), *q.get("must_any", []), *q.get("relevant", [])]:
            assert claim in kb.claims, (q["question"], claim)


def test_question_set_through_the_cli() -> None:
    check_answers(cli_answers(), "kb search")


# --- the site's engine, run by Node, against the reference ---


def run_js(
    data: dict[str, Any], questions: list[str], *, words=(), pairs=(), strengths=(), tmp_path: Path
) -> dict[str, Any]:
    index_file, input_file = tmp_path / "index.json", tmp_path / "input.json"
    index_file.write_text(json.dumps(data), encoding="utf-8")
    input_file.write_text(
        json.dumps(
            {
                "questions": questions,
                "words": list(words),
                "pairs": [list(p) for p in pairs],
                "strengths": list(strengths),
            }
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [NODE, str(RUNNER), str(index_file), str(input_file)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


needs_node = pytest.mark.skipif(NODE is None, reason="Node is not installed (apt-get install nodejs)")

HOSTILE = [
    '"AND OR NEAR(', "*", "legs*", "NOT legs", "statement:legs", "(((", '"', "''", "legs + - thighs",
    "\x00\x1b[31m", "🦵 légs", "", "   ", "-", '-"', "--legs", '"legs', "running AND -cycling",
    "'; DROP TABLE claims; --", "is decaf safer", "x" * 501, " ".join(["legs"] * 33), "ÉPAULES Thighs",
    '"long steady"', '-"heavy squats" legs', "İstanbul ǅ ﬁt",
]  # fmt: skip


@needs_node
@pytest.mark.parametrize(
    "root", [REPO, FIXTURES / "search", FIXTURES / "site"], ids=["shipped", "search", "site"]
)
def test_site_engine_ranks_exactly_like_the_reference(root, tmp_path) -> None:
    kb = load_valid(root)
    weights = compute(kb)
    config = root / "site" / "mkdocs.yml"
    handwritten = build.handwritten_pages(config) if config.is_file() else {}
    files = pages.generate_all(pages.site_data(kb, weights, handwritten=handwritten))
    texts = {name: build.read_page(path).decode() for name, path in handwritten.items()}
    entries = searchpages.page_entries(kb, weights, files, texts, False)
    data = search.site_index(kb, weights, lambda claim_id: f"claims/{claim_id}.html", entries)
    index = search.build_index(kb, weights)
    questions = [q["question"] for q in QUESTIONS] + HOSTILE
    questions += [c.statement for c in list(kb.claims.values())[:20]]  # long, real sentences
    vocabulary = sorted(
        {w for c in kb.claims.values() for w, _, _ in search.tokens(c.statement + " " + c.topic)}
    )
    pairs = [(a, b) for a in vocabulary[:40] for b in vocabulary[:40]]
    strengths = [claim[4] for claim in data["claims"]] + [0.005, 0.015, 0.125, 0.675, 0.995, 0.0, 1.0]
    got = run_js(data, questions, words=vocabulary, pairs=pairs, strengths=strengths, tmp_path=tmp_path)
    assert got["shown"] == [
        f"{shown_strength(s):.2f}" for s in strengths
    ]  # strengths as every view shows them
    assert got["stems"] == [search._stem(w) for w in vocabulary]
    assert got["distances"] == [search.typo_distance(a, b) for a, b in pairs]
    compared = pages_compared = 0
    for question, answer in zip(questions, got["answers"], strict=True):
        try:
            parsed = search.parse_query(index, question)
        except search.UsageError as exc:
            assert answer == {"error": str(exc)}, question
            continue
        expected = [[index.claims[row][0], score] for score, row in search.rank(index, parsed)[0]]
        assert answer["ranked"] == expected, question  # same claims, same order, same scores to the bit
        assert answer["corrections"] == [[c.word, c.replacement] for c in parsed.corrections], question
        assert answer["unknown"] == list(parsed.unknown), question
        rows = [row for _, row in search.rank(index, parsed, limit=search.DISPUTE_HITS)[0]]
        shown = search.disputes_of(index, rows, parsed.scored)
        assert answer["disputes"] == [d[0] for d in shown], question
        # the site's other pages after the claims: the same pages, order and scores
        assert answer["pages"] == [
            [data["pages"][row][1], score] for score, row in search.rank_pages(data, parsed)
        ], question
        compared += bool(expected)
        pages_compared += bool(answer["pages"])
    assert compared >= 20
    assert pages_compared >= 10
