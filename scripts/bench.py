#!/usr/bin/env python3
"""Benchmark kb on synthetic knowledge bases; prints a table and writes the figures as JSON.

    .venv/bin/python scripts/bench.py                     # 1,000 and 10,000 claims
    .venv/bin/python scripts/bench.py --sizes 1000 --no-site
    .venv/bin/python scripts/bench.py --out bench-results/bench.json

Each size runs in its own process, so that its peak memory is its own. Where a
floor exists it is measured in the same run and each figure is given as a ratio
to it: load + validate against parsing the same YAML files with PyYAML's C loader
alone. Targets (from the performance issue) are printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

QUERIES = [
    "does running make thighs bigger", "how much protein", "cycling legs", "interval training fat",
    "walking calves", "strength squat heavy", "how fast does muscle shrink", "genetics leg size",
    "diet calorie deficit", "sprint muscle", "stretching tone", "long steady cardio", "sleep recovery",
    "hormone fat loss", "swimming shoulders", "lose weight legs", "build muscle thighs", "runing",
]  # fmt: skip


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def best_of(n: int, func, *args, **kwargs) -> float:
    return min(timed(func, *args, **kwargs)[0] for _ in range(n))


def floor_parse(root: Path) -> int:
    """Parse every YAML file of the base with PyYAML's C loader alone: the floor for loading."""
    import yaml

    count = 0
    for here, _dirs, files in os.walk(root):
        if "/." in here:
            continue
        for name in files:
            if name.endswith(".yaml"):
                with open(os.path.join(here, name), "rb") as handle:
                    yaml.load(handle.read(), Loader=yaml.CSafeLoader)
                count += 1
    return count


def run_one(claims: int, workdir: Path, site: bool) -> dict:
    """All measurements for one size, in this process."""
    import synth_kb

    from kb.graph import build_graph
    from kb.load import load
    from kb.weigh import compute

    root = workdir / f"synth-{claims}"
    synth_kb.write(root, claims, max(1, claims // 10), 2 * claims, seed=1)
    figures: dict = {"claims": claims, "sources": max(1, claims // 10), "relations": 2 * claims}

    # load + validate, cold (no cache) against the floor, each the best of 3 runs
    floor = best_of(3, floor_parse, root)
    cold = best_of(3, load, root, cache=False)
    load(root)  # fills the cache
    warm = best_of(3, load, root)
    figures["floor_parse_s"] = floor
    figures["load_validate_s"] = cold
    figures["load_validate_ratio"] = cold / floor
    figures["load_validate_cached_s"] = warm
    figures["load_validate_cached_ratio"] = warm / floor

    kb, problems = load(root)
    assert kb is not None, problems[:5]

    def graph_and_weights():
        build_graph(kb)
        return compute(kb)

    figures["graph_weights_s"] = best_of(3, graph_and_weights)
    weights = compute(kb)
    figures["weights_converged"] = weights.converged
    figures["weights_iterations"] = weights.iterations

    figures.update(measure_search(root, kb, weights))
    if site:
        figures.update(measure_site(root, workdir))

    # one claim changes: kb's own work again (load with its cache, weights)
    changed = sorted((root / "claims").rglob("*.yaml"))[claims // 2]
    changed.write_text(changed.read_text().replace("statement: ", "statement: Changed ", 1))
    t_load, kb2 = timed(load, root)
    t_weights, _ = timed(lambda: (build_graph(kb2[0]), compute(kb2[0])))
    figures["rebuild_one_change_kb_s"] = t_load + t_weights
    figures["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def measure_search(root: Path, kb, weights) -> dict:
    try:
        from kb import search
    except ImportError:
        return {"search": "not available"}
    build = getattr(search, "build_index", None)
    query = getattr(search, "query_index", None)
    if build is None or query is None:
        return {"search": "not available"}
    t_build, index = timed(build, kb, weights)
    rng = random.Random(7)
    latencies = []
    for _ in range(200):
        q = rng.choice(QUERIES)
        started = time.perf_counter()
        query(index, q, limit=10)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "search_index_build_s": t_build,
        "search_median_ms": statistics.median(latencies),
        "search_p99_ms": latencies[int(0.99 * len(latencies)) - 1],
    }


def measure_site(root: Path, workdir: Path) -> dict:
    try:
        from kb.site import build as site_build
    except ImportError:
        return {"site": "not available"}
    measure = getattr(site_build, "build_site_timed", None)
    if measure is None:
        return {"site": "not available"}
    return measure(root, workdir / f"site-{root.name}")


TARGETS = [
    ("load_validate_ratio", "load + validate / floor (cold)", "<= 1.5", lambda v: v <= 1.5),
    ("load_validate_cached_ratio", "load + validate / floor (cached)", "<= 1.5", lambda v: v <= 1.5),
    ("graph_weights_s", "graph + weights + consensus (s)", "< 1 s at 10k", None),
    ("search_median_ms", "search median (ms)", "< 5 ms at 10k", None),
    ("search_p99_ms", "search p99 (ms)", "", None),
    ("site_generation_share", "kb page writing / full build", "", None),
    ("site_full_build_s", "full site build (s)", "", None),
    ("site_pages_per_s", "pages per second", "", None),
    ("rebuild_one_change_kb_s", "kb work after one change (s)", "", None),
    ("peak_memory_mb", "peak memory (MB)", "", None),
]


def print_table(results: list[dict]) -> None:
    sizes = [r["claims"] for r in results]
    print(f"{'figure':<36}" + "".join(f"{n:>14,}" for n in sizes) + "   target")
    for key, label, target, _ in TARGETS:
        cells = []
        for r in results:
            value = r.get(key)
            cells.append(f"{value:>14.3f}" if isinstance(value, float) else f"{'-':>14}")
        print(f"{label:<36}" + "".join(cells) + f"   {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "bench.json")
    parser.add_argument("--no-site", action="store_true", help="skip the site build (slow at 10,000)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:  # child process: one size, figures as JSON on stdout
        print(json.dumps(run_one(args.one, args.workdir, not args.no_site)))
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        for size in args.sizes:
            command = [sys.executable, __file__, "--one", str(size), "--workdir", tmp]
            if args.no_site:
                command.append("--no-site")
            print(f"measuring {size:,} claims...", file=sys.stderr, flush=True)
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print_table(results)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    payload = {"machine": machine, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"figures written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
