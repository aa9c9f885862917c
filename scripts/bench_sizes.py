"""Figures for the size limits of issue 16: the steps that were superlinear on hostile input.

Run: .venv/bin/python scripts/bench_sizes.py  (prints seconds per case; nothing is asserted here)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb import extract, quotes  # noqa: E402
from kb.load import load_valid  # noqa: E402
from kb.site.build import build_site  # noqa: E402


def timed(label: str, action) -> None:
    started = time.perf_counter()
    action()
    print(f"{label}: {time.perf_counter() - started:.3f} s")


def main() -> None:
    unbroken = "word7 " * 20_000  # 120 kB without a sentence break
    timed("closest passage, 2,000-character wrong quote vs 120 kB unbroken text",
          lambda: quotes.closest_passage("zebra quagga " * 154, unbroken))  # fmt: skip
    timed("closest passage, 104 kB wrong quote vs 1.2 MB unbroken text",
          lambda: quotes.closest_passage("zebra quagga " * 8000, unbroken * 10))  # fmt: skip
    timed("kb extract sentence splitting, 30,000 dots", lambda: extract.sentences("." * 30_000))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        shutil.copytree(
            REPO / "tests" / "fixtures" / "valid", root, ignore=shutil.ignore_patterns(".kb-cache")
        )
        text = root / "sources" / "blog-a.txt"
        line = "Running and cycling and thighs and calves and protein and fat and muscle.\n"
        text.write_text(text.read_text().replace("\n\n", "\n") + line * 18_000)
        size = text.stat().st_size
        kb = load_valid(root)
        timed(f"kb build, a {size / 1e6:.1f} MB source text without blank lines",
              lambda: build_site(kb, Path(tmp) / "site"))  # fmt: skip


if __name__ == "__main__":
    main()
