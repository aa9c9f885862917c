#!/usr/bin/env python3
"""Benchmark kb on synthetic knowledge bases; prints a table and writes the figures as JSON.

    .venv/bin/python scripts/bench.py                                  # 1,000, 2,000 and 10,000 claims
    .venv/bin/python scripts/bench.py --sizes 1000 2000 10000 100000 --site-sizes 1000 2000 10000
    .venv/bin/python scripts/bench.py --sizes 1000 --no-site --repeat 3
    .venv/bin/python scripts/bench.py --repeat 3 --site-repeat 1         # medians of 3, one run of each build
    .venv/bin/python scripts/bench.py --library                        # also the in-process figures

The bases are dense-disagreement bases (scripts/synth_kb.py --dense: each claim quotes
one to four random sources, a third of the quotes oppose, two relations per claim).
Every command runs as its own child process, as a user runs it: the time is its wall
time and the memory its peak resident size (``os.wait4``'s rusage of that child), the
median of ``--repeat`` runs. Argdown, the peer (``../shared/bench/argdown/``, installed
with its ``setup.sh``), is timed in the same run on maps of the same sizes, and the
targets of the performance issue are printed with "met" or "not met": the machine is
shared, so only ratios within one run compare.

For each site size it also times, besides the cold build and the builds after one statement
change and after one stance flip (which moves many strengths): kb's search box in headless
Chromium on the built site (the size of the index the browser downloads, the median time of a
search over QUERIES; ``--no-browser`` skips it), and, for sizes up to 2,000 (``--serve-sizes``),
``kb serve`` running while a claim file is edited: the time until the served page shows the
edit. Sizes can be run in separate invocations (``--out`` one JSON file each) and merged into
the README's tables: ``--markdown a.json b.json``.

    .venv/bin/python scripts/bench.py --sizes 1000 2000 10000 --site-sizes 1000 2000 10000 --out a.json
    .venv/bin/python scripts/bench.py --sizes 100000 --no-site --no-argdown --out b.json
    .venv/bin/python scripts/bench.py --markdown a.json b.json

``--library`` adds the earlier in-process figures (load + validate against parsing the
YAML alone, weights, search latency), each size in its own process.
"""

from __future__ import annotations

import argparse
import filecmp
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import shutil
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


def run_one(claims: int, workdir: Path) -> dict:
    """All measurements for one size, in this process."""
    import synth_kb

    from kb.graph import build_graph
    from kb.load import load
    from kb.weigh import compute

    root = workdir / f"library-{claims}"
    synth_kb.write(root, claims, max(1, claims // 10), 2 * claims, seed=1, dense=True)
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


# --- commands as a user runs them, each in its own child process ---

KB = [sys.executable, "-m", "kb"]
COMMANDS: list[tuple[str, list[str]]] = [
    ("validate", ["validate"]),
    ("export json", ["export", "--format", "json", "-o", "{out}/export.json"]),
    ("export graphml", ["export", "--format", "graphml", "-o", "{out}/export.graphml"]),
    ("export csv", ["export", "--format", "csv", "-o", "{out}/export-csv"]),
    ("export claimreview", ["export", "--format", "claimreview", "-o", "{out}/claimreview.json"]),
    ("contradictions --json", ["contradictions", "--json"]),
    ("report md", ["report", "--format", "md", "-o", "{out}/report.md"]),
    ("report csv", ["report", "--format", "csv", "-o", "{out}/report.csv"]),
    ("report json", ["report", "--format", "json", "-o", "{out}/report.json"]),
    ("report html", ["report", "--format", "html", "-o", "{out}/report.html"]),
]
MB = 1024 * 1024


def run_child(argv: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak resident MB and exit code of one child process (stdout discarded)."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(argv, cwd=cwd, stdout=sink, stderr=subprocess.PIPE)
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        tail = errors.decode(errors="replace").strip().splitlines()[-3:]
        print(f"  exit {child.returncode}: {' '.join(argv)}: {' / '.join(tail)}", file=sys.stderr)
    return seconds, usage.ru_maxrss / 1024, child.returncode


def median_run(argv: list[str], repeat: int, before=None) -> dict:
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        runs.append(run_child(argv))
    runs.sort()
    seconds, peak, code = runs[len(runs) // 2]
    return {"s": seconds, "mb": max(r[1] for r in runs), "rc": max(r[2] for r in runs)}


def drop_cache(root: Path) -> None:
    shutil.rmtree(root / ".kb-cache", ignore_errors=True)


def tree_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under a folder."""
    files = total = 0
    for here, _dirs, names in os.walk(folder):
        for name in names:
            files += 1
            total += os.path.getsize(os.path.join(here, name))
    return files, total


def same_tree(a: Path, b: Path) -> bool:
    """True when the two folders hold the same files with the same bytes."""

    def listing(root: Path) -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    names = listing(a)
    if names != listing(b):
        return False
    _match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return not mismatch and not errors


def render_cache(site: Path) -> Path:
    """Where kb build keeps the Markdown and rendered pages of a site (kb.site.rendercache)."""
    return site.parent / f".{site.name}.kb-cache"


def largest_markdown(site: Path) -> tuple[str, int] | None:
    """The biggest Markdown page of the last build, from the docs folder kb keeps beside the site."""
    folder = render_cache(site) / "docs"
    pages = [(p.stat().st_size, p.relative_to(folder).as_posix()) for p in folder.rglob("*.md")]
    if not pages:
        return None
    size, name = max(pages)
    return name, size


AFTER_EDIT = "after an edit"
STANCE_FLIP = "build after a stance flip"
UNCHANGED = "build again, nothing changed"
# the same, with the record of what the site was built from removed: the build makes its pass
UNCHANGED_PASS = "build again, a pass with nothing changed"
UPTODATE_RECORD = "built-from.json"  # kb.site.uptodate.RECORD


def claim_editor(root: Path):
    """A function that edits one claim of the base, each time into something it never was (the
    stance of its first quote flipped, a number in its statement counted up), and one that puts
    the file back as it was."""
    claim = min((root / "claims").rglob("*.yaml"))
    original = claim.read_bytes()
    count = [0]

    def edit() -> None:
        count[0] += 1
        lines = claim.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            if line.startswith("statement: "):
                statement = re.sub(r" \(edit \d+\)\.$", ".", line.removeprefix("statement: "))
                lines[i] = f"statement: {statement.removesuffix('.')} (edit {count[0]})."
            elif line.strip() in ("stance: supports", "stance: opposes"):
                flipped = "opposes" if line.strip() == "stance: supports" else "supports"
                lines[i] = line.split("stance:")[0] + f"stance: {flipped}"
                break
        claim.write_text("\n".join(lines), encoding="utf-8")

    return edit, lambda: claim.write_bytes(original)


def measure_commands(root: Path, out: Path, repeat: int) -> dict:
    """Each command as a user runs it: validate cold (no cache), the others warm (after it, with
    the caches of the files and of the weights, kb.resultcache); then each but validate again, the
    first run after one claim was edited (its file parsed again, every weight computed again)."""
    figures: dict = {}
    out.mkdir(parents=True, exist_ok=True)
    runs = [(name, [*KB, *(a.format(out=out) for a in args), "--kb", str(root)]) for name, args in COMMANDS]
    for name, argv in runs:
        before = (lambda: drop_cache(root)) if name == "validate" else None
        figures[name] = median_run(argv, repeat, before)
        print(f"  {name}: {figures[name]['s']:.2f} s, {figures[name]['mb']:.0f} MB", file=sys.stderr)
        if name == "validate":
            # validate keeps no weights: one run keeps them, so that every command after it runs warm
            # (else the first would weigh the base, and with --repeat 1 its one run would not be warm)
            run_child(dict(runs)["export json"])
    edit, restore = claim_editor(root)
    try:
        for name, argv in runs:
            if name != "validate":
                edited = f"{name} {AFTER_EDIT}"
                figures[edited] = median_run(argv, repeat, edit)
                print(
                    f"  {edited}: {figures[edited]['s']:.2f} s, {figures[edited]['mb']:.0f} MB",
                    file=sys.stderr,
                )
    finally:
        restore()
    return figures


def measure_build(root: Path, out: Path, repeat: int, identity: bool, browser: bool = True) -> dict:
    """kb build cold (no caches), then again after one claim changed, and the site's sizes."""
    site = out / "site"
    argv = [*KB, "build", "--kb", str(root), "--out", str(site)]

    def cold() -> None:
        drop_cache(root)
        shutil.rmtree(site, ignore_errors=True)
        shutil.rmtree(render_cache(site), ignore_errors=True)

    figures: dict = {"build cold": median_run(argv, repeat, cold)}
    print(f"  build cold: {figures['build cold']['s']:.1f} s", file=sys.stderr)
    if figures["build cold"]["rc"] != 0:  # no site to measure: the table marks the failed build
        return figures
    files, total = tree_size(site)
    figures["site files"] = files
    figures["site MB"] = total / MB
    index = site / "search-index.js"  # kb's search box's index (the theme's search is replaced)
    figures["search index MB"] = index.stat().st_size / MB if index.is_file() else None
    html = [p.stat().st_size for p in site.rglob("*.html")]
    figures["pages"] = len(html)
    figures["largest html KB"] = max(html) / 1024 if html else None
    biggest = largest_markdown(site)
    figures["largest markdown"] = biggest[0] if biggest else None
    figures["largest markdown KB"] = biggest[1] / 1024 if biggest else None
    if browser:
        figures.update(measure_browser_search(site))

    # nothing changed: kb finds the site up to date (kb.site.uptodate)
    figures[UNCHANGED] = median_run(argv, repeat)
    print(f"  {UNCHANGED}: {figures[UNCHANGED]['s']:.1f} s", file=sys.stderr)

    def forget_record() -> None:
        (render_cache(site) / UPTODATE_RECORD).unlink(missing_ok=True)

    # the floor of a rebuild: every pass over the whole site that a build makes whatever changed
    figures[UNCHANGED_PASS] = median_run(argv, repeat, forget_record)
    print(f"  {UNCHANGED_PASS}: {figures[UNCHANGED_PASS]['s']:.1f} s", file=sys.stderr)
    claims = sorted((root / "claims").rglob("*.yaml"))
    changed = claims[len(claims) // 2]
    original = changed.read_text()
    rounds = itertools.count()

    def change_statement() -> None:  # each round changes the statement again, so every build has work
        changed.write_text(original.replace("statement: ", f"statement: Changed {next(rounds)} ", 1))

    figures["build after one change"] = median_run(argv, repeat, change_statement)
    print(f"  build after one change: {figures['build after one change']['s']:.1f} s", file=sys.stderr)
    # a changed stance moves the strengths of many claims (most in their last bits, some as shown)
    edit, restore = claim_editor(root)
    try:
        figures[STANCE_FLIP] = median_run(argv, repeat, edit)
        print(f"  {STANCE_FLIP}: {figures[STANCE_FLIP]['s']:.1f} s", file=sys.stderr)
        if identity:  # the same input built cold must give the same bytes
            fresh = out / "site-cold"  # another output folder: its own, empty render cache
            drop_cache(root)
            run_child([*KB, "build", "--kb", str(root), "--out", str(fresh)])
            figures["rebuild same bytes as cold"] = same_tree(site, fresh)
            shutil.rmtree(fresh, ignore_errors=True)
    finally:
        restore()
    changed.write_text(original)
    return figures


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _served(url: str) -> str | None:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def _poll(predicate, seconds: float, step: float = 0.02):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


SERVE_START_LIMIT_S = 1800
SERVE_EDIT_LIMIT_S = 600


def measure_serve(root: Path, repeat: int) -> dict:
    """``kb serve`` running: a claim's statement is edited, and the time until its served page
    shows the edit is measured (the median of ``repeat`` edits), with the time the first page took
    on a first start (no site kept in build/.serve) and on the next start."""
    from kb.site import pages
    from kb.site.serve import WORKSPACE

    claims = sorted((root / "claims").rglob("*.yaml"))
    changed = claims[len(claims) // 3]
    original = changed.read_text()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/{pages.page_url(pages.claim_page(changed.stem), False)}"
    argv = [*KB, "serve", "--kb", str(root), "--addr", f"127.0.0.1:{port}"]
    shutil.rmtree(root / WORKSPACE, ignore_errors=True)
    figures: dict = {}

    def start(name: str) -> subprocess.Popen | None:
        started = time.perf_counter()
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _poll(lambda: _served(url), SERVE_START_LIMIT_S, step=0.5) is None:
            print("  kb serve did not answer", file=sys.stderr)
            stop(server)
            return None
        figures[name] = time.perf_counter() - started
        return server

    def stop(server: subprocess.Popen) -> None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    server = start("serve first page s")
    if server is None:
        return figures
    try:
        times = []
        for round_ in range(max(1, repeat)):
            marker = f"Edited{round_}x{random.randrange(10**6)}"
            time.sleep(1.5)  # the watcher compares modification times: keep edits apart
            changed.write_text(original.replace("statement: ", f"statement: {marker} ", 1))
            edited = time.perf_counter()
            shown = _poll(lambda m=marker: m in (_served(url) or ""), SERVE_EDIT_LIMIT_S)
            times.append(time.perf_counter() - edited if shown else math.inf)
        times.sort()
        figures["serve edit shown s"] = times[len(times) // 2]
        print(f"  serve: edit shown after {figures['serve edit shown s']:.2f} s", file=sys.stderr)
    finally:
        changed.write_text(original)
        stop(server)
    again = start("serve next start s")  # from the site the first kept, the edit undone
    if again is not None:
        stop(again)
        next_start = figures["serve next start s"]
        print(f"  serve: the next start's first page after {next_start:.1f} s", file=sys.stderr)
    return figures


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
# One question, typed into the search box and submitted, answered and drawn: from the submit
# event to the results in the page (the box's 120 ms typing delay is not part of it).
ASK_IN_PAGE = """q => {
  const input = document.querySelector('input.kb-search__input');
  const panel = document.querySelector('.kb-search__results');
  input.value = q;
  const started = performance.now();
  input.form.requestSubmit();
  const ms = performance.now() - started;
  return [ms, panel.getAttribute('data-query') === q, panel.querySelectorAll('.kb-search__hit').length];
}"""


def measure_browser_search(site: Path) -> dict:
    """kb's search box in headless Chromium on the built site, served over HTTP: the size of the
    index the browser downloads, the time to the first answer after the page opened (download
    and reading of the index included), and the median time of a search over QUERIES."""
    import functools
    import http.server
    import threading

    if not Path(CHROMIUM).is_file():
        print("  browser search: no chromium", file=sys.stderr)
        return {}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  browser search: playwright is not installed", file=sys.stderr)
        return {}

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    index = site / "search-index.js"
    figures: dict = {"search index download MB": index.stat().st_size / MB if index.is_file() else None}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                started = time.perf_counter()
                page.locator("input.kb-search__input").fill(QUERIES[0])
                page.locator("input.kb-search__input").press("Enter")
                page.wait_for_function(
                    "q => document.querySelector('.kb-search__results').getAttribute('data-query') === q",
                    arg=QUERIES[0],
                    timeout=120_000,
                )
                figures["search first answer ms"] = (time.perf_counter() - started) * 1000
                times, answered = [], 0
                for query in QUERIES:
                    ms, shown, hits = page.evaluate(ASK_IN_PAGE, query)
                    times.append(ms)
                    answered += bool(shown and hits)
                figures["search median ms"] = statistics.median(times)
                figures["search max ms"] = max(times)
                figures["search questions answered"] = f"{answered}/{len(QUERIES)}"
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    print(
        f"  browser search: median {figures['search median ms']:.1f} ms, "
        f"first answer {figures['search first answer ms']:.0f} ms",
        file=sys.stderr,
    )
    return figures


def measure_argdown(folder: Path, claims: int, exports: list[str], repeat: int, html_repeat: int) -> dict:
    """Argdown's exports of a map of ``claims`` statements: json ``repeat`` times, html (the peer of
    ``kb build``) ``html_repeat`` times; the median of each."""
    runner = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "argdown" / "run.sh"
    if not runner.is_file():
        runner = REPO.parent / "shared" / "bench" / "argdown" / "run.sh"
    figures = {}
    for export in exports:
        runs = []
        for _ in range(html_repeat if export == "html" else repeat):
            done = subprocess.run(
                ["bash", str(runner), str(folder), str(claims), export],
                capture_output=True,
                text=True,
                check=False,
            )
            _n, _e, seconds, peak_kb, code = done.stdout.split()
            runs.append((float(seconds), int(peak_kb) / 1024, int(code)))
        runs.sort()
        figures[f"argdown {export}"] = {
            "s": runs[len(runs) // 2][0],
            "mb": max(r[1] for r in runs),
            "rc": max(r[2] for r in runs),
        }
        print(f"  argdown {export}: {figures[f'argdown {export}']['s']:.1f} s", file=sys.stderr)
    return figures


# --- the verdicts: each target of the performance issue, with its figures ---

LIMIT_10K_MB = 1024
SEARCH_LIMIT_MS = 100
SERVE_LIMIT_S = 2
LIMIT_100K_MB = 4096


def _fig(results: dict, size: int, name: str) -> dict | None:
    value = results.get(size, {}).get(name)
    return value if isinstance(value, dict) else None


def verdicts(results: dict[int, dict]) -> list[tuple[str, str, str, bool | None]]:
    """(what, figures, target, met) for every target that this run has the figures for."""
    rows: list[tuple[str, str, str, bool | None]] = []
    argdown_json = _fig(results, 10000, "argdown json")
    names = [name for name, _ in COMMANDS]
    names += [f"{name} {AFTER_EDIT}" for name in names if name != "validate"]
    for name in names:
        at10 = _fig(results, 10000, name)
        if at10 is not None:
            if argdown_json is not None:
                ratio = at10["s"] / argdown_json["s"]
                rows.append(
                    (
                        f"{name} at 10k vs Argdown json",
                        f"{at10['s']:.1f} s vs {argdown_json['s']:.1f} s (x{ratio:.2f})",
                        "<= Argdown json",
                        ratio <= 1 and at10["rc"] == 0,
                    )
                )
            rows.append((f"{name} at 10k peak", f"{at10['mb']:.0f} MB", "< 1 GB", at10["mb"] < LIMIT_10K_MB))
        at100 = _fig(results, 100000, name)
        if at100 is not None:
            rows.append(
                (
                    f"{name} at 100k",
                    f"{at100['s']:.1f} s, {at100['mb']:.0f} MB, exit {at100['rc']}",
                    "finishes, < 4 GB",
                    at100["rc"] == 0 and at100["mb"] < LIMIT_100K_MB,
                )
            )
        sizes = sorted(s for s in results if _fig(results, s, name))
        if len(sizes) >= 2:
            low, high = _fig(results, sizes[0], name), _fig(results, sizes[-1], name)
            assert low is not None and high is not None
            exponent = math.log(high["s"] / low["s"]) / math.log(sizes[-1] / sizes[0])
            rows.append(
                (
                    f"{name} growth {sizes[0]:,} -> {sizes[-1]:,}",
                    f"time ~ n^{exponent:.2f}",
                    "near-linear (<= n^1.1)",
                    exponent <= 1.1,
                )
            )
    cold10, html10 = _fig(results, 10000, "build cold"), _fig(results, 10000, "argdown html")
    if cold10 is not None:
        if html10 is not None:
            ratio = cold10["s"] / html10["s"]
            rows.append(
                (
                    "kb build at 10k vs Argdown html",
                    f"{cold10['s']:.0f} s vs {html10['s']:.0f} s (x{ratio:.2f})",
                    "< Argdown html",
                    ratio < 1 and cold10["rc"] == 0,
                )
            )
        rows.append(
            (
                "kb build at 10k peak",
                f"{cold10['mb']:.0f} MB",
                "< 1 GB",
                cold10["mb"] < LIMIT_10K_MB and cold10["rc"] == 0,
            )
        )
    cold1 = _fig(results, 1000, "build cold")
    if cold1 is not None and cold10 is not None:
        growth = cold10["s"] / cold1["s"]
        rows.append(("kb build growth 1k -> 10k", f"x{growth:.1f} for x10 claims", "<= x10", growth <= 10))
    for size in sorted(results):
        cold = _fig(results, size, "build cold")
        for name, label in (("build after one change", "one change"), (STANCE_FLIP, "a stance flip")):
            again = _fig(results, size, name)
            if cold is None or again is None:
                continue
            share = again["s"] / cold["s"]
            built = cold["rc"] == 0 and again["rc"] == 0
            rows.append(
                (
                    f"kb build after {label} at {size:,}",
                    f"{again['s']:.1f} s = {share:.0%} of cold" + ("" if built else " (a build failed)"),
                    "<= 10 % of cold" if size in (2000, 10000) else "",
                    share <= 0.1 and built if size in (2000, 10000) else None,
                )
            )
        # no target; the pass is what a rebuild pays at least
        for name, label in ((UNCHANGED, "with nothing changed"), (UNCHANGED_PASS, "a pass, nothing changed")):
            unchanged = _fig(results, size, name)
            if cold is not None and unchanged is not None:
                rows.append(
                    (
                        f"kb build {label} at {size:,}",
                        f"{unchanged['s']:.1f} s = {unchanged['s'] / cold['s']:.0%} of cold",
                        "",
                        None,
                    )
                )
        same = results[size].get("rebuild same bytes as cold")
        if same is not None:
            rows.append(
                (f"rebuild = cold build, bytes, at {size:,}", "same" if same else "different", "same", same)
            )
        largest = results[size].get("largest markdown KB")
        if largest is not None:
            rows.append(
                (
                    f"largest Markdown page at {size:,}",
                    f"{largest:.0f} KB ({results[size].get('largest markdown')})",
                    "<= 500 KB",
                    largest <= 500,
                )
            )
        index = results[size].get("search index MB")
        if index is not None:
            rows.append(
                (
                    f"search index at {size:,}",
                    f"{index:.1f} MB (site {results[size]['site MB']:.0f} MB, "
                    f"{results[size]['pages']:,} pages)",
                    "measured",
                    None,
                )
            )
        search = results[size].get("search median ms")
        if search is not None:
            rows.append(
                (
                    f"browser search at {size:,}",
                    f"median {search:.1f} ms, max {results[size]['search max ms']:.1f} ms, "
                    f"first answer {results[size]['search first answer ms']:.0f} ms, "
                    f"index {results[size]['search index download MB']:.1f} MB",
                    "< 100 ms" if size == 10000 else "",
                    search < SEARCH_LIMIT_MS if size == 10000 else None,
                )
            )
        shown = results[size].get("serve edit shown s")
        if shown is not None:
            rows.append(
                (
                    f"kb serve: an edit shown at {size:,}",
                    f"{shown:.1f} s (first page after {results[size]['serve first page s']:.0f} s"
                    + (
                        f", {results[size]['serve next start s']:.0f} s on the next start)"
                        if "serve next start s" in results[size]
                        else ")"
                    ),
                    "<= 2 s" if size == 2000 else "",
                    shown <= SERVE_LIMIT_S if size == 2000 else None,
                )
            )
    return rows


def print_figures(results: dict[int, dict]) -> None:
    sizes = sorted(results)
    names = []
    for size in sizes:
        names += [n for n, v in results[size].items() if isinstance(v, dict) and n not in names]
    print(f"{'seconds / peak MB':<26}" + "".join(f"{n:>17,}" for n in sizes))
    for name in names:
        cells = []
        for size in sizes:
            v = results[size].get(name)
            cells.append(f"{v['s']:>9.2f} {v['mb']:>6.0f}" + ("!" if v["rc"] else " ") if v else f"{'-':>17}")
        print(f"{name:<26}" + "".join(cells))
    print("(! = exit code not 0)")
    print()
    for what, figures, target, met in verdicts(results):
        verdict = "" if met is None else ("met" if met else "NOT MET")
        print(f"{what:<42} {figures:<44} {target:<24} {verdict}")


LIBRARY_TARGETS = [
    ("load_validate_ratio", "load + validate / floor (cold)", "<= 1.5"),
    ("load_validate_cached_ratio", "load + validate / floor (cached)", "<= 1.5"),
    ("graph_weights_s", "graph + weights + consensus (s)", "< 1 s at 10k"),
    ("search_median_ms", "search median (ms)", "< 5 ms at 10k"),
    ("search_p99_ms", "search p99 (ms)", ""),
    ("rebuild_one_change_kb_s", "kb work after one change (s)", ""),
    ("peak_memory_mb", "peak memory (MB)", ""),
]


def print_library(results: list[dict]) -> None:
    print(f"{'in-process figure':<36}" + "".join(f"{r['claims']:>14,}" for r in results) + "   target")
    for key, label, target in LIBRARY_TARGETS:
        cells = [f"{r[key]:>14.3f}" if isinstance(r.get(key), float) else f"{'-':>14}" for r in results]
        print(f"{label:<36}" + "".join(cells) + f"   {target}")


def merge_runs(payloads: list[dict]) -> dict:
    """Several runs' JSON as one: each size's figures, a later run's replacing an earlier one's.
    Only figures from one run compare (Argdown's with kb's): run each size's commands, site and
    Argdown together."""
    merged: dict = {"results": {}, "machines": [p.get("machine") for p in payloads]}
    for payload in payloads:
        for size, figures in payload["results"].items():
            merged["results"].setdefault(size, {}).update(figures)
    return merged


def markdown_tables(payload: dict) -> str:
    """A run's figures (its JSON) as the README's Markdown tables: seconds / peak MB, then verdicts."""
    results = {int(k): v for k, v in payload["results"].items()}
    sizes = sorted(results)
    names: list[str] = []
    for size in sizes:
        names += [n for n, v in results[size].items() if isinstance(v, dict) and n not in names]
    lines = ["| seconds / peak MB | " + " | ".join(f"{n:,} claims" for n in sizes) + " |"]
    lines.append("| --- |" + " --- |" * len(sizes))
    for name in names:
        cells = []
        for size in sizes:
            v = results[size].get(name)
            cells.append(
                f"{v['s']:.1f} / {v['mb']:,.0f}" + ("" if v["rc"] == 0 else f" (exit {v['rc']})") if v else ""
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| target | figures | wanted | |", "| --- | --- | --- | --- |"]
    for what, figures, target, met in verdicts(results):
        verdict = "" if met is None else ("met" if met else "**not met**")
        lines.append(f"| {what} | {figures} | {target} | {verdict} |")
    return "\n".join(lines) + "\n"


def default_argdown() -> Path | None:
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / "argdown-peer"
    return folder if (folder / "node_modules").is_dir() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 2000, 10000],
        help="claims per base for the commands (default 1000 2000 10000)",
    )
    parser.add_argument(
        "--site-sizes",
        type=int,
        nargs="*",
        default=None,
        help="sizes that also build the site (default: every size up to 10,000)",
    )
    parser.add_argument("--no-site", action="store_true", help="skip kb build")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the median is kept")
    parser.add_argument(
        "--site-repeat",
        type=int,
        help="runs per site figure (kb build, kb serve, Argdown html), if fewer than --repeat: a 10,000-claim"
        " build takes minutes (default: --repeat)",
    )
    parser.add_argument(
        "--identity",
        action="store_true",
        help="also build cold after the change and compare the bytes with the rebuild",
    )
    parser.add_argument(
        "--argdown",
        type=Path,
        default=default_argdown(),
        help="Argdown installed by ../shared/bench/argdown/setup.sh (default $TMPDIR/argdown-peer)",
    )
    parser.add_argument("--no-argdown", action="store_true")
    parser.add_argument(
        "--argdown-sizes",
        type=int,
        nargs="*",
        default=None,
        help="sizes for Argdown (default: every size up to 10,000)",
    )
    parser.add_argument("--library", action="store_true", help="also the in-process figures (up to 10,000)")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "bench.json")
    parser.add_argument(
        "--workdir", type=Path, help="keep the bases and outputs here (default: a temporary folder)"
    )
    parser.add_argument(
        "--serve-sizes",
        type=int,
        nargs="*",
        default=None,
        help="sizes that also time kb serve showing an edit (default: site sizes up to 2,000)",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the search box in headless Chromium")
    parser.add_argument(
        "--markdown",
        type=Path,
        nargs="+",
        help="print the figures of runs' JSON files as Markdown tables (sizes run separately are merged)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.markdown:
        print(markdown_tables(merge_runs([json.loads(path.read_text()) for path in args.markdown])), end="")
        return

    if args.one:  # child process: the in-process figures for one size, as JSON on stdout
        print(json.dumps(run_one(args.one, args.workdir)))
        return

    import synth_kb

    site_sizes = (
        []
        if args.no_site
        else (args.site_sizes if args.site_sizes is not None else [s for s in args.sizes if s <= 10000])
    )
    site_repeat = args.site_repeat if args.site_repeat is not None else args.repeat
    serve_sizes = args.serve_sizes if args.serve_sizes is not None else [s for s in site_sizes if s <= 2000]
    argdown = None if args.no_argdown else args.argdown
    argdown_sizes = (
        args.argdown_sizes if args.argdown_sizes is not None else [s for s in args.sizes if s <= 10000]
    )
    results: dict[int, dict] = {}
    library = []
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        for size in sorted(set(args.sizes) | set(site_sizes)):
            print(f"{size:,} claims", file=sys.stderr, flush=True)
            root = workdir / f"dense-{size}"
            synth_kb.write(root, size, max(1, size // 10), 2 * size, seed=1, dense=True)
            out = workdir / f"out-{size}"
            figures: dict = {}
            if size in args.sizes:
                figures.update(measure_commands(root, out, args.repeat))
            if size in site_sizes:
                figures.update(measure_build(root, out, site_repeat, args.identity, not args.no_browser))
            if size in serve_sizes:
                figures.update(measure_serve(root, site_repeat))
            if argdown is not None and size in argdown_sizes:
                exports = ["json"] + (["html"] if size in site_sizes else [])
                figures.update(measure_argdown(argdown, size, exports, args.repeat, site_repeat))
            results[size] = figures
            shutil.rmtree(out, ignore_errors=True)
            if args.library and size <= 10000:
                command = [sys.executable, __file__, "--one", str(size), "--workdir", str(workdir)]
                done = subprocess.run(command, check=True, capture_output=True, text=True)
                library.append(json.loads(done.stdout.strip().splitlines()[-1]))
            if args.workdir is None:
                shutil.rmtree(root, ignore_errors=True)
    print(
        f"dense-disagreement bases; median of {args.repeat} run(s) per figure"
        + (f" ({site_repeat} for the site and Argdown html)" if site_repeat != args.repeat else "")
        + "; Argdown: "
        f"{'measured in this run' if argdown else 'not measured'}"
    )
    print_figures(results)
    if library:
        print()
        print_library(library)
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }
    payload = {
        "machine": machine,
        "repeat": args.repeat,
        "site_repeat": site_repeat,
        "results": {str(k): v for k, v in results.items()},
        "library": library,
        "verdicts": [list(v) for v in verdicts(results)],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"figures written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
