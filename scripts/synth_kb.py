#!/usr/bin/env python3
"""Write a synthetic knowledge base in the contract format, for benchmarks and scale tests.

    python scripts/synth_kb.py OUT --claims 10000 --sources 1000 [--relations 20000] [--seed 1] [--dense]

Every source gets a text of generated sentences; every claim quotes one to three
of those sentences verbatim (some joined with ``...``), so the base validates.
Relations are random ``supports``/``contradicts`` pairs with no self-relation and
no pair both supporting and contradicting.

``--dense`` writes a base where sources really disagree, the shape the performance
issue measured: each claim quotes one to four random sources, about a third of the
quotes oppose the claim, and nearly every quote is its source author's.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

WORDS = (
    "legs thighs calves quads hamstrings glutes muscle fat size running cycling walking swimming sprint "
    "interval protein calorie diet deficit surplus strength squat lunge stretch yoga volume intensity "
    "recovery sleep hormone genetics bulk tone slim shrink grow build lose gain week month year body "
    "training cardio endurance aerobic anaerobic fiber tissue mass weight loss metabolism energy carb "
    "meal timing rest load repetition set heavy light long short steady fast slow high low daily plan"
).split()
FILLER = "the a your most some many every often rarely can will may should does not more less than".split()
TOPICS = (
    "running cycling walking swimming hiit strength diet protein timing genetics "
    "fat-loss stretching sleep hormones recovery volume intensity cardio tone misc"
).split()
SOURCE_KINDS = ["study", "review", "guide", "article", "blog", "forum", "other"]
EVIDENCE_KINDS = ["study", "mechanism", "expert-opinion", "experience", "testimonial"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS if rng.random() < 0.6 else FILLER) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def write(out: Path, claims: int, sources: int, relations: int, seed: int = 1, dense: bool = False) -> None:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "sources").mkdir(parents=True)
    (out / "claims").mkdir()
    (out / "kb.yaml").write_text(
        "title: Synthetic knowledge base\n"
        "synonyms:\n  - [legs, thighs, quads, calves]\n  - [running, cardio]\n"
    )
    texts: list[list[str]] = []
    for s in range(sources):
        sentences = [sentence(rng) for _ in range(40)]
        texts.append(sentences)
        (out / "sources" / f"source-{s:05d}.txt").write_text(" ".join(sentences) + "\n")
        (out / "sources" / f"source-{s:05d}.yaml").write_text(
            f"title: Synthetic source {s}\nkind: {rng.choice(SOURCE_KINDS)}\n"
            f"author: Author {s % 97}\ntext: source-{s:05d}.txt\n"
        )
    ids = [f"claim-{c:06d}" for c in range(claims)]
    supports: dict[int, set[int]] = {c: set() for c in range(claims)}
    contradicts: dict[int, set[int]] = {c: set() for c in range(claims)}
    made = 0
    while made < relations and claims > 1:
        a, b = rng.randrange(claims), rng.randrange(claims)
        if a == b or b in supports[a] or b in contradicts[a] or a in contradicts[b]:
            continue
        if rng.random() < 0.6:
            if a in supports[b] and rng.random() < 0.5:
                continue
            supports[a].add(b)
        else:
            if b in supports[a] or a in supports[b]:
                continue
            contradicts[a].add(b)
        made += 1
    for c, cid in enumerate(ids):
        topic = TOPICS[c % len(TOPICS)]
        lines = [
            f"statement: {sentence(rng)}",
            f"topic: {topic}",
            f"tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]",
            "evidence:",
        ]
        most, opposing, by_author = (4, 1 / 3, 0.9) if dense else (3, 0.25, 0.8)
        for _ in range(rng.randint(1, most)):
            s = rng.randrange(sources)
            i = rng.randrange(len(texts[s]) - 1)
            quote = texts[s][i]
            if rng.random() < 0.2:  # a quote of two fragments joined by an ellipsis
                quote = " ".join(quote.split()[:4]) + " ... " + " ".join(texts[s][i + 1].split()[:4])
            lines += [
                f"  - source: source-{s:05d}",
                f"    stance: {'opposes' if rng.random() < opposing else 'supports'}",
                f"    kind: {rng.choice(EVIDENCE_KINDS)}",
                f'    quote: "{quote}"',
                f"    speaker: {'author' if rng.random() < by_author else 'reader Sam'}",
            ]
        if supports[c]:
            lines.append(f"supports: [{', '.join(ids[t] for t in sorted(supports[c]))}]")
        if contradicts[c]:
            lines.append(f"contradicts: [{', '.join(ids[t] for t in sorted(contradicts[c]))}]")
        folder = out / "claims" / topic
        folder.mkdir(exist_ok=True)
        (folder / f"{cid}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--sources", type=int, default=None, help="default: claims / 10")
    parser.add_argument("--relations", type=int, default=None, help="default: 2 x claims")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dense", action="store_true", help="sources disagree: 1-4 quotes, a third oppose")
    args = parser.parse_args()
    sources = args.sources or max(1, args.claims // 10)
    relations = args.relations if args.relations is not None else 2 * args.claims
    write(args.out, args.claims, sources, relations, args.seed, dense=args.dense)
    print(f"wrote {args.out}: {args.claims} claims, {sources} sources, {relations} relations")


if __name__ == "__main__":
    main()
