"""Precision and recall of kb extract's suggestions on the held-out documents.

    .venv/bin/python scripts/eval_extract.py [-v]

Each document of tests/fixtures/heldout/expected.yaml is added to a copy of its base and run
through kb extract; a suggestion is a (sentence, claim, agrees|disagrees) triple offered by the
drafts ("same claim" and "supports" agree, "opposes" and "contradicts" disagree). With -v the
wrong and the missed suggestions are listed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.heldout import score_all, totals  # noqa: E402


def main() -> None:
    verbose = "-v" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as workdir:
        scores = score_all(Path(workdir))
    print(f"{'document':48} {'right':>5} {'offered':>7} {'expected':>8}  central kept")
    for score in scores:
        kept = "yes" if score.central_kept else "NO"
        print(
            f"{score.document:48} {len(score.right):5} {len(score.offered):7} {len(score.expected):8}  {kept}"
        )
        if verbose:
            for triple in sorted(score.offered - score.expected):
                print("    wrong:  ", triple)
            for triple in sorted(score.expected - score.offered):
                print("    missed: ", triple)
    right, offered, expected = totals(scores)
    precision = right / offered if offered else 0.0
    print(
        f"precision {right}/{offered} = {precision:.2f}, recall {right}/{expected} = {right / expected:.2f}"
    )


if __name__ == "__main__":
    main()
